"""Quota counters on a real Redis: the same answers as the host's table."""

import logging
import tempfile
from pathlib import Path
from typing import Any

import pytest
import redis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from benchmarks.redis_server import RedisServer
from sikker.core.config import load_config
from sikker.core.quota import DAY, QuotaTable
from sikker.core.quota_redis import RedisQuota
from sikker.core.quota_shared import SharedQuota
from sikker.core.redis_client import RedisSettings, connect
from sikker.errors import ConfigError, SharedStateUnavailableError
from tests.keyed import Clock
from tests.redis_support import (
    noon_tomorrow,
    own_redis,
    redis_srv,
    settings_of,
    shared_redis,
)

__all__ = ["own_redis", "redis_srv", "shared_redis"]  # fixtures


def remote(server: RedisServer, namespace: str = "quota", **kw: Any) -> RedisQuota:
    return RedisQuota(connect(settings_of(server)), namespace, **kw)


#: One charge: (owner, family, amount, limit, partial, seconds later).
steps = st.lists(
    st.tuples(
        st.sampled_from(["acc_a", "acc_b"]),
        st.sampled_from(["lookups", "reports"]),
        st.integers(0, 6),
        st.integers(0, 12),
        st.booleans(),
        st.sampled_from([0, 0, 0, 7, 3600, DAY // 2, DAY]),
    ),
    max_size=40,
)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(steps=steps)
def test_redis_grants_and_counts_exactly_as_the_quota_table(
    redis_srv: RedisServer, steps: list[tuple[str, str, int, int, bool, int]]
) -> None:
    with redis_srv.client() as conn:
        conn.flushall()
    ours = remote(redis_srv)
    now = noon_tomorrow()
    with tempfile.TemporaryDirectory() as tmp:
        table = QuotaTable(Path(tmp) / "quota.bin", slots=64)
        try:
            for owner, family, amount, limit, partial, later in steps:
                now += later
                expected = table.count(owner, family, amount, limit, partial, now)
                assert (
                    ours.count(owner, family, amount, limit, partial, now) == expected
                )
                assert ours.used(owner, family, now) == table.used(owner, family, now)
        finally:
            table.close()


def test_the_first_charge_of_a_day_expires_at_the_next_utc_midnight(
    redis_srv: RedisServer,
) -> None:
    now = noon_tomorrow()
    midnight = (int(now) // DAY + 1) * DAY
    ours = remote(redis_srv, clock=Clock(now))
    assert ours.count("acc_a", "lookups", 2, 10) == (2, 2, midnight // DAY - 1)
    key = ours.key("acc_a", "lookups", ours.current_period())
    assert key == f"sikker:quota:{midnight // DAY - 1}:acc_a:lookups"
    with redis_srv.client() as conn:
        assert conn.execute_command("EXPIRETIME", key) == midnight
        ours.clock = Clock(midnight - 0.001)  # the last moment of the day
        assert ours.count("acc_a", "lookups", 3, 10)[:2] == (3, 5)
        assert conn.execute_command("EXPIRETIME", key) == midnight
        ours.clock = Clock(midnight)  # a new day: a new key, from zero
        assert ours.count("acc_a", "lookups", 1, 10) == (1, 1, midnight // DAY)
        after = ours.key("acc_a", "lookups", midnight // DAY)
        assert conn.execute_command("EXPIRETIME", after) == midnight + DAY
    assert ours.reset_epoch(midnight - 1) == midnight


def test_a_charge_is_one_round_trip_even_after_the_script_cache_is_flushed(
    redis_srv: RedisServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    ours = remote(redis_srv)
    sent: list[str] = []
    execute = ours.client.execute_command

    def counting(*args: object, **kwargs: object) -> object:
        sent.append(str(args[0]))
        return execute(*args, **kwargs)

    monkeypatch.setattr(ours.client, "execute_command", counting)
    now = noon_tomorrow()
    for _ in range(5):
        ours.count("acc_a", "lookups", 1, 3, False, now)
    assert sent == ["EVALSHA"] * 5  # one command each, nothing else
    with redis_srv.client() as conn:
        conn.script_flush()
    sent.clear()
    assert ours.count("acc_a", "lookups", 1, 9, False, now) == (1, 4, int(now // DAY))
    assert sent == ["EVALSHA", "SCRIPT LOAD", "EVALSHA"]  # NOSCRIPT, loaded again


def test_keys_carry_the_configured_prefix_and_namespace(redis_srv: RedisServer) -> None:
    now = noon_tomorrow()
    web = remote(redis_srv, "web", period=60, prefix="tenant1:")
    web.count("ab12", "lookups", 1, 5, False, now)
    with redis_srv.client() as conn:
        keys = [k.decode() for k in conn.keys("*")]
    assert keys == [f"tenant1:web:{int(now // 60)}:ab12:lookups"]


def _shared(
    server: RedisServer, tmp: Path, fail_open: bool, steady: Clock
) -> SharedQuota:
    local = QuotaTable(tmp / "quota.bin", slots=64)
    return SharedQuota(remote(server), local, fail_open, 5.0, steady)


def test_fail_open_counts_on_this_host_while_redis_is_down_and_logs_once(
    own_redis: RedisServer, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    steady, now = Clock(100.0), noon_tomorrow()
    quota = _shared(own_redis, tmp_path, True, steady)
    assert quota.count("acc_a", "lookups", 2, 10, False, now)[:2] == (2, 2)
    own_redis.stop()
    with caplog.at_level(logging.WARNING, "sikker.quota"):
        # the host's table starts from its own count (nothing counted here yet)
        seen = [quota.count("acc_a", "lookups", 1, 10, False, now) for _ in range(4)]
        assert [used for _, used, _ in seen] == [1, 2, 3, 4]
        assert quota.local.used("acc_a", "lookups", now) == 4
        assert quota.used("acc_a", "lookups", now) == 4
        steady.now += 6  # past the back-off: Redis is tried (and fails) again
        assert quota.count("acc_a", "lookups", 1, 10, False, now)[1] == 5
    warnings = [r.getMessage() for r in caplog.records]
    assert len(warnings) == 1 and "counting on this host" in warnings[0]
    own_redis.start()
    caplog.clear()
    with caplog.at_level(logging.WARNING, "sikker.quota"):
        assert quota.count("acc_a", "lookups", 1, 10, False, now)[1] == 6  # backing off
        steady.now += 6
        assert quota.count("acc_a", "lookups", 1, 10, False, now)[:2] == (1, 1)
        assert quota.count("acc_a", "lookups", 1, 10, False, now)[:2] == (1, 2)
    assert ["answers again" in r.getMessage() for r in caplog.records] == [True]
    quota.close()


def test_fail_closed_refuses_with_the_seconds_until_the_next_try(
    own_redis: RedisServer, tmp_path: Path
) -> None:
    steady, now = Clock(100.0), noon_tomorrow()
    quota = _shared(own_redis, tmp_path, False, steady)
    own_redis.stop()
    with pytest.raises(SharedStateUnavailableError) as first:
        quota.count("acc_a", "lookups", 1, 10, False, now)
    assert first.value.retry_after == 5
    steady.now += 3.5
    with pytest.raises(SharedStateUnavailableError) as later:
        quota.used("acc_a", "lookups", now)
    assert later.value.retry_after == 2
    assert quota.local.used("acc_a", "lookups", now) == 0  # nothing counted anywhere
    own_redis.start()
    steady.now += 2
    assert quota.count("acc_a", "lookups", 1, 10, False, now)[:2] == (1, 1)
    quota.close()


def test_a_timeout_is_a_failure_and_is_never_retried(
    own_redis: RedisServer, tmp_path: Path
) -> None:
    local = QuotaTable(tmp_path / "quota.bin", slots=64)
    short = connect(RedisSettings(own_redis.url, timeout=0.1))  # the default
    quota = SharedQuota(RedisQuota(short, "quota"), local, True, 5.0, Clock(0.0))
    now = noon_tomorrow()
    with own_redis.client() as conn:
        conn.execute_command("CLIENT", "PAUSE", "1000", "ALL")  # Redis hangs
        assert quota.count("acc_a", "lookups", 1, 10, False, now)[:2] == (1, 1)
        assert quota.down_until > 0  # it timed out (100 ms) and went local
        conn.execute_command("CLIENT", "UNPAUSE")
        key = quota.remote.key("acc_a", "lookups", int(now // DAY))
        assert conn.get(key) in (None, b"1")  # counted at most once
    quota.close()


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("redis_failure", "sometimes", "redis_failure"),
        ("redis_timeout", "0", "redis_timeout"),
        ("redis_url", "http://127.0.0.1:1/", "redis_url"),
        ("redis_retry_seconds", "-1", "redis_retry_seconds"),
    ],
)
def test_invalid_redis_settings_are_refused_before_anything_connects(
    name: str, value: str, message: str
) -> None:
    environ = {
        "SIKKER_REDIS_URL": "redis://127.0.0.1:1/0",
        f"SIKKER_{name.upper()}": value,
    }
    with pytest.raises(ConfigError, match=message):
        RedisSettings.from_config(load_config(environ=environ))


def test_no_redis_url_means_the_embedded_mode() -> None:
    assert RedisSettings.from_config(load_config(environ={})) is None


def test_redis_errors_other_than_connection_failures_also_fall_back(
    redis_srv: RedisServer, tmp_path: Path
) -> None:
    quota = _shared(redis_srv, tmp_path, True, Clock(0.0))
    now = noon_tomorrow()
    key = quota.remote.key("acc_a", "lookups", int(now // DAY))
    with redis_srv.client() as conn:
        conn.set(key, "not a number")  # the script fails on Redis
        assert quota.count("acc_a", "lookups", 1, 10, False, now)[:2] == (1, 1)
    assert isinstance(redis.ResponseError(), redis.RedisError)
    quota.close()
