"""Quotas under the real server: many workers and threads share one exact count."""

import http.client
import os
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import orjson
import pytest

from sikker.core.accounts import AccountStore
from sikker.core.admin import credentials_path
from sikker.core.plans import load_plans
from tests.factories import FAST_KDF, PASSWORD, build
from tests.keyed import write_plans
from tests.test_gunicorn import free_port, wait_healthy

pytestmark = pytest.mark.slow

QUOTA = 150
PLANS = f"""
default = "hammer"
[plans.hammer]
quotas = {{ lookups = {QUOTA}, reports = 5, blacklist = 5, taxii = 5 }}
alerts = {{ ip = 1, range = 1, username = 1, email = 1, range_prefix_v4 = 24, range_prefix_v6 = 48 }}
caps = {{ bulk_check_ips = 10, bulk_report_rows = 10, blacklist_limit = 10 }}
"""  # noqa: E501
CLIENTS = 32
REQUESTS = 3 * QUOTA


@contextmanager
def server(
    data: Path, log: Path, plans: Path, **settings: str
) -> Iterator[tuple[int, Path]]:
    """Run `sikker serve` with 3 workers x 4 threads; yield (port, log).

    ``settings`` are more sikker settings (``redis_url="..."``).
    """
    port = free_port()
    env = dict(
        os.environ,
        SIKKER_SNAPSHOT_CHECK_INTERVAL="0",
        SIKKER_ACCESS_LOG="",
        SIKKER_LOG_LEVEL="debug",
        SIKKER_PLANS_PATH=str(plans),
        SIKKER_QUOTA_PERSIST_INTERVAL="0.5",
        **{f"SIKKER_{name.upper()}": value for name, value in settings.items()},
    )
    with log.open("a") as err:
        proc = subprocess.Popen(
            [sys.executable, "-m", "sikker.cli", "--data-dir", str(data), "serve",
             "--bind", f"127.0.0.1:{port}", "--workers", "3", "--threads", "4"],
            env=env, stderr=err, stdout=err,
        )  # fmt: skip
        try:
            wait_healthy(f"http://127.0.0.1:{port}", proc)
            yield port, log
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=30)


def get(port: int, path: str, key: str) -> tuple[int, dict[str, str], bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("GET", path, headers={"Authorization": f"Bearer {key}"})
        resp = conn.getresponse()
        headers = {name.lower(): value for name, value in resp.getheaders()}
        return resp.status, headers, resp.read()
    finally:
        conn.close()


@pytest.fixture
def setup(tmp_path: Path) -> tuple[Path, Path, str]:
    data = tmp_path / "data"
    build(data)
    plans = write_plans(data, PLANS)
    with AccountStore(data, load_plans(plans), kdf=FAST_KDF) as store:
        account = store.add_user("hammer@example.com", PASSWORD)
        key = store.create_key(account.id, "hammer")[1]
    return data, plans, key


def test_many_workers_and_threads_never_admit_beyond_the_quota(
    setup: tuple[Path, Path, str], tmp_path: Path
) -> None:
    data, plans, key = setup
    with server(data, tmp_path / "server.log", plans) as (port, _):
        paths = [f"/v1/key/check/203.0.113.{n % 250 + 1}" for n in range(REQUESTS)]
        with ThreadPoolExecutor(CLIENTS) as pool:
            answers = list(pool.map(lambda p: get(port, p, key), paths))
        statuses = Counter(status for status, _, _ in answers)
        assert statuses == {200: QUOTA, 429: REQUESTS - QUOTA}
        # every admission saw its own count: remaining QUOTA-1 .. 0, once each
        remaining = sorted(
            int(h["x-ratelimit-remaining"]) for s, h, _ in answers if s == 200
        )
        assert remaining == list(range(QUOTA))
        for status, headers, body in answers:
            assert {"x-ratelimit-limit", "x-ratelimit-reset"} <= set(headers)
            if status == 429:
                assert int(headers["retry-after"]) >= 1
                assert orjson.loads(body)["code"] == "quota_exceeded"
        status = orjson.loads(get(port, "/v1/key/status", key)[2])
        assert status["quotas"]["lookups"] == {
            "used": QUOTA,
            "limit": QUOTA,
            "remaining": 0,
        }
    # a restart keeps the count: still nothing left today
    with server(data, tmp_path / "server.log", plans) as (port, _):
        assert get(port, "/v1/key/check/203.0.113.1", key)[0] == 429
        status = orjson.loads(get(port, "/v1/key/status", key)[2])
        assert status["quotas"]["lookups"]["used"] == QUOTA


def test_the_first_start_writes_private_credentials_and_never_logs_secrets(
    setup: tuple[Path, Path, str], tmp_path: Path
) -> None:
    data, plans, _ = setup
    log = tmp_path / "server.log"
    with server(data, log, plans) as (port, _):
        creds = orjson.loads(credentials_path(data).read_bytes())
        status, _, body = get(port, "/v1/key/status", creds["key"])
        assert status == 200 and orjson.loads(body)["tier"]["id"] == "hammer"
    assert credentials_path(data).stat().st_mode & 0o777 == 0o600
    assert (data / "secret").stat().st_mode & 0o777 == 0o600
    text = log.read_text()
    assert str(credentials_path(data)) in text  # where they are: yes
    for secret in (
        creds["key"],
        creds["password"],
        (data / "secret").read_text().strip(),
    ):
        assert secret not in text  # what they are: never
