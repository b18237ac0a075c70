"""End to end: a sensor posts a session; the check changes within 5 seconds."""

import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import orjson
import pytest

from tests.factories import api_key
from tests.test_gunicorn import get, serving
from tests.test_incremental import PERSISTENCE, session

CLI = [sys.executable, "-m", "sikker.cli"]


def post(url: str, token: str, body: bytes) -> dict:
    request = urllib.request.Request(
        url,
        data=body,
        method="POST",
        headers={
            "Authorization": f"Bearer {token}",
            "Content-Type": "application/x-ndjson",
        },
    )
    with urllib.request.urlopen(request, timeout=5) as resp:
        return orjson.loads(resp.read())


@contextmanager
def live_server(data: Path, **settings: str) -> Iterator[tuple[str, str, str]]:
    """Serve a demo snapshot with `sikker build --follow` beside it, as
    `sikker demo` does; yield (base URL, sensor token, API key)."""
    env = dict(os.environ, SIKKER_FOLLOW_INTERVAL="0.2")
    where = ["--data-dir", str(data)]

    def sikker(*args: str) -> str:
        done = subprocess.run(
            [*CLI, *where, *args], check=True, env=env, capture_output=True, text=True
        )
        return done.stdout.strip()

    sikker("build", "--demo", "--ips", "2000", "--quiet")
    token = sikker("sensor", "add", "hp-live")
    key = api_key(data)
    follower = subprocess.Popen([*CLI, *where, "build", "--follow", "--quiet"], env=env)
    try:
        with serving(data, **settings) as base:
            yield base, token, key
    finally:
        follower.send_signal(signal.SIGTERM)
        follower.wait(timeout=30)


@pytest.fixture
def live(tmp_path: Path):  # type: ignore[no-untyped-def]
    """A demo snapshot served by gunicorn, with `sikker build --follow` beside it."""
    with live_server(tmp_path) as running:
        yield running


@pytest.mark.slow
def test_a_posted_session_changes_the_check_within_5_seconds(live) -> None:  # type: ignore[no-untyped-def]
    base, token, key = live
    ip = "45.33.99.7"
    before = orjson.loads(get(f"{base}/v1/key/check/{ip}", key)[1])
    assert before["found"] is False
    body = b"\n".join(orjson.dumps(e) for e in session(ip, "live-1", PERSISTENCE))
    started = time.monotonic()
    answer = post(f"{base}/v1/sensor/events", token, body)
    assert answer["accepted"] == 7 and answer["rejected"] == 0
    while True:
        after = orjson.loads(get(f"{base}/v1/key/check/{ip}", key)[1])
        if after["found"]:
            break
        assert time.monotonic() - started < 5, "not visible within 5 s"
        time.sleep(0.1)
    elapsed = time.monotonic() - started
    assert after["confidenceLevel"] >= 80  # critical behavior floor
    assert "ssh-key-persistence-chattr" in {b["id"] for b in after["behaviors"]}
    assert after["snapshot"] > before["snapshot"]
    print(f"visible after {elapsed:.2f} s")
