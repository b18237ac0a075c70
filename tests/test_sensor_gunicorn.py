"""Sensors posting to the real server: gunicorn workers appending at once."""

import urllib.error
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from itertools import pairwise
from pathlib import Path
from typing import Any

import orjson
import pytest

from sikker.core.eventlog import EventLog
from sikker.core.layout import EVENTS_DIR
from sikker.core.sensors import SensorRegistry
from tests.factories import build
from tests.test_gunicorn import serving

CAP = 64 * 1024


@pytest.fixture
def sensor_server(tmp_path: Path) -> Iterator[tuple[str, Path, str]]:
    build(tmp_path)
    _, token = SensorRegistry(tmp_path).add("web1")
    with serving(
        tmp_path, workers=3, sensor_max_body_bytes=str(CAP), accept_private_sources="0"
    ) as base:
        yield base, tmp_path, token


def post(base: str, token: str, body: Any) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(
        f"{base}/v1/sensor/events",
        data=body,
        method="POST",
        headers={
            "Authorization": f"Bearer {token}",
            "Content-Type": "application/x-ndjson",
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as resp:
            return resp.status, orjson.loads(resp.read())
    except urllib.error.HTTPError as ex:
        return ex.code, orjson.loads(ex.read())


def batch(client: int, n: int) -> bytes:
    return b"\n".join(
        orjson.dumps(
            {
                "ts": 1795351569 + i,
                "sensor": "web1",
                "session": f"c{client}",
                "src_ip": f"45.155.{client}.{i % 250 + 1}",
                "protocol": "ssh",
                "event": "login_failed",
                "username": "root",
                "password": f"{client}-{n}-{i}",
            }
        )
        for i in range(20)
    )


@pytest.mark.slow
def test_concurrent_posts_to_several_workers_are_all_durable(
    sensor_server: tuple[str, Path, str],
) -> None:
    base, data, token = sensor_server
    jobs = [(c, n) for c in range(6) for n in range(10)]
    with ThreadPoolExecutor(6) as pool:
        results = list(pool.map(lambda job: post(base, token, batch(*job)), jobs))
    assert {status for status, _ in results} == {200}
    spans = sorted((b["firstSequence"], b["lastSequence"]) for _, b in results)
    assert spans[0][0] == 1 and spans[-1][1] == 60 * 20
    assert all(a[1] + 1 == b[0] for a, b in pairwise(spans))
    with EventLog(data / EVENTS_DIR) as log:
        stored = [event for _, event in log.read()]
    assert len({e["password"] for e in stored}) == 60 * 20
    assert {e["sensor"] for e in stored} == {"web1"}


@pytest.mark.slow
def test_chunked_bodies_are_read_and_capped_under_gunicorn(
    sensor_server: tuple[str, Path, str],
) -> None:
    base, _, token = sensor_server
    status, body = post(base, token, iter([batch(1, 1), b"\n", batch(1, 2)]))
    assert status == 200 and body["accepted"] == 40
    line = batch(2, 1) + b"\n"
    endless = iter([line] * (CAP // len(line) + 50))
    status, body = post(base, token, endless)
    assert status == 413 and body["code"] == "payload_too_large"
    status, body = post(base, "sks_nope", batch(3, 1))
    assert status == 401
