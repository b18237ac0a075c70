"""A ``sikker serve`` the fault runs can kill, restart and reload.

The server runs in its own process group on a fixed loopback port, so one
``SIGKILL`` to the group kills the gunicorn master and every worker at once
(as a crash or the OOM killer would), and a restart listens where the
clients already connect.
"""

import http.client
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from benchmarks.keys import bench_keys
from benchmarks.servers import ROOT, _wait_healthy, free_port

Answer = tuple[int, bytes]


class Server:
    """``sikker serve`` of ``data`` with ``workers`` x ``threads``."""

    def __init__(
        self,
        data: Path,
        log: Path,
        workers: int = 2,
        threads: int = 2,
        env: dict[str, str] | None = None,
    ) -> None:
        self.data = data
        self.log = log
        self.port = free_port()
        self.argv = [
            sys.executable, "-m", "sikker.cli", "--data-dir", str(data), "serve",
            "--bind", f"127.0.0.1:{self.port}",
            "--workers", str(workers), "--threads", str(threads),
        ]  # fmt: skip
        self.env = dict(
            os.environ, SIKKER_ACCESS_LOG="", SIKKER_LOG_LEVEL="info", **(env or {})
        )
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def base(self) -> str:
        """Return the server's base URL."""
        return f"http://127.0.0.1:{self.port}"

    def start(self, seconds: float = 60) -> None:
        """Start the server and wait until it answers ``/healthz``."""
        with self.log.open("a") as err:
            self.proc = subprocess.Popen(
                self.argv,
                env=self.env,
                stdout=err,
                stderr=err,
                cwd=ROOT,
                start_new_session=True,
            )
        _wait_healthy(self.base, self.proc, self.log, seconds)

    def kill(self) -> None:
        """SIGKILL the master and every worker at once; reap them."""
        assert self.proc is not None
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait()
        _wait_group_gone(self.proc.pid)

    def stop(self) -> None:
        """Stop gracefully (SIGTERM), as an operator does."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()
            _wait_group_gone(self.proc.pid)

    def signal(self, signum: int) -> None:
        """Send ``signum`` to the gunicorn master."""
        assert self.proc is not None
        self.proc.send_signal(signum)

    def workers(self) -> list[int]:
        """Return the pids of the master's worker processes."""
        assert self.proc is not None
        children = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children")
        try:
            return [int(pid) for pid in children.read_text().split()]
        except FileNotFoundError:
            return []

    def __enter__(self) -> "Server":
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _alive_in_group(pgid: int) -> list[int]:
    """Return the live (not zombie) processes of group ``pgid``."""
    alive = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue  # gone meanwhile
        if fields[0] != "Z" and int(fields[2]) == pgid:
            alive.append(int(stat.parent.name))
    return alive


def _wait_group_gone(pgid: int, seconds: float = 30) -> None:
    """Wait until no live process of group ``pgid`` is left (the workers)."""
    deadline = time.monotonic() + seconds
    while _alive_in_group(pgid):
        if time.monotonic() > deadline:
            raise TimeoutError(f"process group {pgid} is still alive")
        time.sleep(0.02)


def keys(data: Path, count: int) -> tuple[list[str], Path]:
    """Return ``count`` API keys (one account each) and the plans file.

    Start the server with ``SIKKER_PLANS_PATH`` set to the plans file.
    """
    plans = data.parent / f"{data.name}-plans.toml"
    return bench_keys(data, plans, accounts=count), plans


def request(
    port: int,
    method: str,
    path: str,
    key: str | None = None,
    body: bytes | None = None,
    content_type: str = "application/json",
    timeout: float = 30,
) -> Answer:
    """Send one request on a fresh connection; return (status, body).

    Raises OSError or ``http.client.HTTPException`` when the connection is
    refused, reset or closed before a whole answer.
    """
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    if body is not None:
        headers["Content-Type"] = content_type
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=headers)
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()
