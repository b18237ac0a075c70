"""The real server: ``sikker serve`` under gunicorn on loopback."""

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import orjson
import pytest

from tests.factories import RECORDS, api_key, bearer, build


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def get(url: str, key: str | None = None) -> tuple[int, bytes]:
    """GET ``url`` (with ``key`` as a Bearer API key); return (status, body)."""
    request = urllib.request.Request(url, headers=bearer(key) if key else {})
    try:
        with urllib.request.urlopen(request, timeout=5) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as ex:
        return ex.code, ex.read()


def wait_healthy(base: str, proc: subprocess.Popen, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert proc.poll() is None, (
            proc.stderr.read() if proc.stderr else "server exited"
        )
        try:
            if get(f"{base}/healthz")[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise TimeoutError("server did not become healthy")


@contextmanager
def serving(data: Path, workers: int = 2, **settings: str) -> Iterator[str]:
    """Run `sikker serve` on a free loopback port; yield its base URL."""
    port = free_port()
    env = dict(
        os.environ,
        SIKKER_SNAPSHOT_CHECK_INTERVAL="0",
        SIKKER_ACCESS_LOG="",
        **{f"SIKKER_{name.upper()}": value for name, value in settings.items()},
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "sikker.cli", "--data-dir", str(data), "serve",
         "--bind", f"127.0.0.1:{port}", "--workers", str(workers)],
        env=env, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(base, proc)
        yield base
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, Path, str]]:
    build(tmp_path)
    key = api_key(tmp_path)
    with serving(tmp_path) as base:
        yield base, tmp_path, key


@pytest.mark.slow
def test_gunicorn_serves_checks_and_blacklists(server) -> None:  # type: ignore[no-untyped-def]
    base, _, key = server
    status, body = get(f"{base}/v1/key/check/203.0.113.10", key)
    assert status == 200 and orjson.loads(body)["confidenceLevel"] == 97
    status, body = get(f"{base}/v1/key/blacklist?plaintext=true&scoreMinimum=90", key)
    assert status == 200 and body == b"203.0.113.10\n2001:db8::7\n198.51.100.20\n"
    status, body = get(f"{base}/v1/key/check/not-an-ip", key)
    assert status == 400 and orjson.loads(body)["code"] == "invalid_address"
    status, body = get(f"{base}/v1/key/check/203.0.113.10?key={key}")
    assert status == 200
    assert get(f"{base}/v1/key/check/203.0.113.10")[0] == 401


@pytest.mark.slow
def test_workers_pick_up_a_new_snapshot_without_restart(server) -> None:  # type: ignore[no-untyped-def]
    base, data, key = server
    build(data, [dict(r, score=12) for r in RECORDS])
    for _ in range(8):  # both workers, whichever answers
        body = orjson.loads(get(f"{base}/v1/key/check/203.0.113.10", key)[1])
        assert body["confidenceLevel"] == 12 and body["snapshot"] == 2
