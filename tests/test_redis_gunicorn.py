"""Two real servers on one Redis: exact quotas between them, outages survived."""

import shutil
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import orjson
import pytest

from benchmarks.redis_server import RedisServer
from sikker.core.accounts import AccountStore
from sikker.core.plans import load_plans
from sikker.core.quota import DAY
from tests.factories import FAST_KDF, PASSWORD, build
from tests.keyed import write_plans
from tests.redis_support import TIMEOUT, own_redis
from tests.test_quota_gunicorn import PLANS, QUOTA, get, server

__all__ = ["own_redis"]  # fixture

pytestmark = pytest.mark.slow

CLIENTS = 24


@pytest.fixture
def hosts(tmp_path: Path) -> tuple[list[Path], Path, str, str]:
    """Two hosts' data directories (same snapshot, account and key)."""
    first = tmp_path / "a" / "data"
    build(first)
    plans = write_plans(first, PLANS)
    with AccountStore(first, load_plans(plans), kdf=FAST_KDF) as store:
        account = store.add_user("hammer@example.com", PASSWORD)
        key = store.create_key(account.id, "hammer")[1]
    second = tmp_path / "b" / "data"
    shutil.copytree(first, second, symlinks=True)
    return [first, second], plans, key, account.id


def test_two_servers_on_one_redis_admit_exactly_the_quota_between_them(
    hosts: tuple[list[Path], Path, str, str], own_redis: RedisServer, tmp_path: Path
) -> None:
    (first, second), plans, key, account = hosts
    requests = 3 * QUOTA
    log = tmp_path / "servers.log"
    settings = {"redis_url": own_redis.url, "redis_timeout": str(TIMEOUT)}
    with (
        server(first, log, plans, **settings) as (a, _),
        server(second, log, plans, **settings) as (b, _),
    ):
        jobs = [
            ((a, b)[n % 2], f"/v1/key/check/203.0.113.{n % 250 + 1}")
            for n in range(requests)
        ]
        with ThreadPoolExecutor(CLIENTS) as pool:
            answers = list(pool.map(lambda job: get(job[0], job[1], key), jobs))
        statuses = Counter(status for status, _, _ in answers)
        assert statuses == {200: QUOTA, 429: requests - QUOTA}
        # every admission saw its own count, whichever server answered it
        remaining = sorted(
            int(h["x-ratelimit-remaining"]) for s, h, _ in answers if s == 200
        )
        assert remaining == list(range(QUOTA))
        for port in (a, b):
            status = orjson.loads(get(port, "/v1/key/status", key)[2])
            assert status["quotas"]["lookups"]["used"] == QUOTA
    with own_redis.client() as conn:
        day = int(time.time() // DAY)
        assert int(conn.get(f"sikker:quota:{day}:{account}:lookups")) == QUOTA
        assert (
            conn.execute_command("EXPIRETIME", f"sikker:quota:{day}:{account}:lookups")
            == (day + 1) * DAY
        )


def test_killing_redis_mid_run_answers_from_the_host_and_recovers(
    hosts: tuple[list[Path], Path, str, str], own_redis: RedisServer, tmp_path: Path
) -> None:
    (first, _), plans, key, account = hosts
    log = tmp_path / "server.log"
    key_name = f"sikker:quota:{int(time.time() // DAY)}:{account}:lookups"
    statuses: Counter[int] = Counter()
    stop = threading.Event()

    def hammer(port: int) -> None:
        while not stop.is_set():
            statuses[get(port, "/v1/key/status", key)[0]] += 1

    settings = {
        "redis_url": own_redis.url,
        "redis_retry_seconds": "0.3",
        "redis_timeout": str(TIMEOUT),
    }
    with server(first, log, plans, **settings) as (port, _):
        workers = [threading.Thread(target=hammer, args=(port,)) for _ in range(4)]
        for worker in workers:
            worker.start()
        try:
            assert get(port, "/v1/key/check/203.0.113.1", key)[0] == 200
            own_redis.stop()
            # Redis is gone: checks still answer, counted by the host itself
            down = [get(port, "/v1/key/check/203.0.113.1", key) for _ in range(5)]
            assert [status for status, _, _ in down] == [200] * 5
            own_redis.start()
            with own_redis.client() as conn:
                assert conn.get(key_name) is None  # a fresh (empty) Redis
                deadline = time.monotonic() + 30
                while conn.get(key_name) is None and time.monotonic() < deadline:
                    get(port, "/v1/key/check/203.0.113.1", key)
                    time.sleep(0.05)
                assert conn.get(key_name) is not None  # counting on Redis again
        finally:
            stop.set()
            for worker in workers:
                worker.join()
    assert set(statuses) == {200}  # nothing failed while Redis came and went
    text = log.read_text()
    lost = text.count("is unreachable")
    assert 1 <= lost <= 3, text[-3000:]  # once per worker that noticed, at most
    assert "answers again" in text
    assert "Traceback" not in text
