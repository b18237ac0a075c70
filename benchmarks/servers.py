"""Start HTTP servers for benchmarks as child processes on loopback."""

import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sikker.core.layout import CURRENT, SNAPSHOTS

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    """Return a loopback port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def serving_dir(snapshot: Path, root: Path) -> Path:
    """Return a fresh data dir under ``root`` serving a cached snapshot.

    The snapshots are linked, not copied; whatever the server writes (event
    log, accounts, counters) goes to the fresh directory.
    """
    data = root / "data"
    data.mkdir()
    cached = snapshot.parent.parent
    (data / SNAPSHOTS).symlink_to(cached / SNAPSHOTS, target_is_directory=True)
    (data / CURRENT).write_text((cached / CURRENT).read_text())
    return data


@contextmanager
def running(
    argv: list[str],
    log: Path,
    seconds: float = 60,
    env: dict[str, str] | None = None,
) -> Iterator[str]:
    """Run ``argv`` (given ``--bind`` by us); yield its base URL once healthy.

    ``env`` adds environment variables (``SIKKER_*`` settings) to ours.
    """
    with started(argv, log, seconds, env) as (base, _):
        yield base


@contextmanager
def started(
    argv: list[str],
    log: Path,
    seconds: float = 60,
    env: dict[str, str] | None = None,
) -> Iterator[tuple[str, int]]:
    """Like :func:`running`, yielding the base URL and the server's pid."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = dict(
        os.environ, SIKKER_ACCESS_LOG="", SIKKER_LOG_LEVEL="warning", **(env or {})
    )
    with log.open("w") as err:
        proc = subprocess.Popen(
            [*argv, "--bind", f"127.0.0.1:{port}"], env=env, stderr=err, cwd=ROOT
        )
        try:
            _wait_healthy(base, proc, log, seconds)
            yield base, proc.pid
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def _wait_healthy(
    base: str, proc: subprocess.Popen[bytes], log: Path, seconds: float
) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited: {log.read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(f"{base}/healthz", timeout=2) as resp:
                if resp.status == 200:
                    return
        except (OSError, urllib.error.HTTPError):
            pass
        time.sleep(0.1)
    raise TimeoutError(f"{base} did not become healthy: {log.read_text()[-2000:]}")
