"""A real ``redis-server`` for tests (see benchmarks/redis_server.py).

Tests skip when redis-server is missing (they fail in CI, where
``scripts/setup --test`` installs it). Clocks in these tests follow the
real time: Redis expires a key whose EXPIREAT lies in the past at once.
Clients get a timeout (:data:`TIMEOUT`) that a busy test machine never
reaches, unless a test is about timeouts.
"""

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from benchmarks.redis_server import RedisServer, redis_server
from sikker.core.quota import DAY
from sikker.core.redis_client import RedisSettings
from tests.tools import need_tool

#: Seconds a test's Redis command may take (the 0.1 s default is for production).
TIMEOUT = 5.0


def settings_of(server: RedisServer, prefix: str = "sikker:") -> RedisSettings:
    """Return settings reaching ``server`` with the tests' :data:`TIMEOUT`."""
    return RedisSettings(server.url, prefix=prefix, timeout=TIMEOUT)


@pytest.fixture(scope="module")
def shared_redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """One server for a module's tests (each test starts from an empty one)."""
    need_tool("redis-server")
    with redis_server(tmp_path_factory.mktemp("redis")) as server:
        yield server


@pytest.fixture
def redis_srv(shared_redis: RedisServer) -> RedisServer:
    """The module's server, running and emptied."""
    if shared_redis.proc is None:  # a test stopped it
        shared_redis.start()
    with shared_redis.client() as conn:
        conn.flushall()
    return shared_redis


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[RedisServer]:
    """A server of the test's own, which it may stop and start."""
    need_tool("redis-server")
    with redis_server(tmp_path / "redis") as server:
        yield server


def noon_tomorrow() -> float:
    """Return 12:00:00.25 UTC of tomorrow (its day ends in the future)."""
    return (int(time.time()) // DAY + 1) * DAY + DAY / 2 + 0.25
