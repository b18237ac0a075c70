"""Apps with ``redis_url``: one count for every node, the same answers as one host."""

import shutil
import time
from pathlib import Path

import falcon.testing
import pytest

from benchmarks.redis_server import RedisServer
from sikker.core.accounts import AccountStore
from sikker.core.plans import load_plans
from sikker.server.app import SikkerApp
from tests.factories import FAST_KDF, PASSWORD, bearer, build
from tests.keyed import Clock, client, close, keyed_app, new_key, write_plans
from tests.redis_support import (
    TIMEOUT,
    noon_tomorrow,
    own_redis,
    redis_srv,
    shared_redis,
)
from tests.test_admin_cli import admin_json
from tests.web_client import Browser, web_app

__all__ = ["own_redis", "redis_srv", "shared_redis"]  # fixtures

CHECK = "/v1/key/check/203.0.113.10"
EMAIL = "a@example.com"
HEADERS = ("x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset")
REPORT_HEADERS = ("x-report-limit", "x-report-remaining", "retry-after")


@pytest.fixture
def nodes(tmp_path: Path) -> list[Path]:
    """Two hosts' data directories: the same snapshot, account and key (KEY)."""
    first, second = tmp_path / "a" / "data", tmp_path / "b" / "data"
    build(first)
    with AccountStore(first, load_plans(write_plans(first)), kdf=FAST_KDF) as store:
        account = store.add_user(EMAIL, PASSWORD)
        (tmp_path / "key").write_text(store.create_key(account.id)[1])
    shutil.copytree(first, second, symlinks=True)
    write_plans(second)
    return [first, second]


def key_of(nodes: list[Path]) -> str:
    """Return the API key both hosts of ``nodes`` know."""
    return (nodes[0].parent.parent / "key").read_text()


def node(data: Path, now: float, **settings: object) -> SikkerApp:
    app = keyed_app(
        data,
        plans_path=str(write_plans(data)),
        auth_cache_seconds=3600,
        redis_timeout=TIMEOUT,
        **settings,
    )
    app.keyed.service.clock = Clock(now)
    return app


def answers(api: falcon.testing.TestClient, paths: list[str]) -> list[tuple]:
    """Return status, rate-limit headers and error code of each GET."""
    out = []
    for path in paths:
        resp = api.simulate_get(path)
        headers = {k.lower(): v for k, v in resp.headers.items()}
        out.append(
            (
                resp.status_code,
                tuple(headers.get(h) for h in HEADERS + REPORT_HEADERS),
                resp.json.get("code") if resp.status_code >= 400 else None,
            )
        )
    return out


def test_redis_mode_answers_with_the_same_statuses_and_headers_as_one_host(
    nodes: list[Path], redis_srv: RedisServer
) -> None:
    now = noon_tomorrow()
    embedded = node(nodes[0], now)
    shared = node(nodes[1], now, redis_url=redis_srv.url)
    paths = [CHECK] * 5 + ["/v1/key/status", "/v1/key/blacklist?limit=2"] * 3
    try:
        seen = [
            answers(client(app, **bearer(new_key(app, EMAIL))), paths)
            for app in (embedded, shared)
        ]
    finally:
        close(embedded)
        close(shared)
    assert seen[0] == seen[1]
    assert [status for status, *_ in seen[0]][:5] == [200, 200, 200, 429, 429]
    with redis_srv.client() as conn:
        assert {k.decode().split(":")[1] for k in conn.keys("*")} == {"quota"}


def test_two_nodes_on_one_redis_share_each_accounts_quota(
    nodes: list[Path], redis_srv: RedisServer
) -> None:
    now = noon_tomorrow()
    apps = [node(data, now, redis_url=redis_srv.url) for data in nodes]
    try:
        apis = [client(app, **bearer(key_of(nodes))) for app in apps]
        account = apps[0].keyed.service.store().user(EMAIL).id
        assert apis[0].simulate_get(CHECK).status_code == 200
        # the other host sees the count the first one made, and adds to it
        quota = apps[1].keyed.service.quota()
        assert quota.used(account, "lookups", now) == 1
        assert quota.count(account, "lookups", 5, 3, True, now)[:2] == (2, 3)
        for api in apis:
            assert api.simulate_get(CHECK).status_code == 429
        status = apis[0].simulate_get("/v1/key/status").json
        assert status["quotas"]["lookups"] == {"used": 3, "limit": 3, "remaining": 0}
    finally:
        for app in apps:
            close(app)


def test_fail_closed_answers_503_json_with_retry_after(
    nodes: list[Path], own_redis: RedisServer
) -> None:
    app = node(
        nodes[0],
        noon_tomorrow(),
        redis_url=own_redis.url,
        redis_failure="closed",
        redis_retry_seconds=30,
    )
    try:
        api = client(app, **bearer(new_key(app, EMAIL)))
        assert api.simulate_get(CHECK).status_code == 200
        own_redis.stop()
        for path in (CHECK, "/v1/key/status"):
            resp = api.simulate_get(path)
            assert resp.status_code == 503, path
            assert resp.json["code"] == "quota_unavailable"
            assert resp.json["status"] == 503
            assert 1 <= int(resp.headers["Retry-After"]) <= 30
            assert resp.json["retryAfter"] == int(resp.headers["Retry-After"])
    finally:
        close(app)


def test_fail_open_keeps_answering_with_the_hosts_own_count(
    nodes: list[Path], own_redis: RedisServer
) -> None:
    now = noon_tomorrow()
    app = node(nodes[0], now, redis_url=own_redis.url, redis_retry_seconds=30)
    try:
        api = client(app, **bearer(new_key(app, EMAIL)))
        assert answers(api, [CHECK])[0][1][:2] == ("3", "2")  # on Redis
        own_redis.stop()
        # the host has counted nothing itself: 3 more fit before the 429
        statuses = [status for status, *_ in answers(api, [CHECK] * 4)]
        assert statuses == [200, 200, 200, 429]
    finally:
        close(app)


def test_web_lookup_limits_count_once_across_nodes(
    nodes: list[Path], redis_srv: RedisServer
) -> None:
    now = noon_tomorrow()
    apps = [
        web_app(
            data,
            web_lookups_per_minute=3,
            redis_url=redis_srv.url,
            redis_timeout=TIMEOUT,
        )
        for data in nodes
    ]
    for app in apps:
        app.web.clock = lambda: now
    first, second = (Browser(app, "198.51.100.7") for app in apps)
    try:
        assert first.get("/lookup?ip=203.0.113.10").status_code == 200
        assert second.get("/lookup?ip=203.0.113.10").status_code == 200
        assert first.get("/lookup?ip=203.0.113.10").status_code == 200
        refused = second.get("/lookup?ip=203.0.113.10")
        assert refused.status_code == 429 and int(refused.headers["Retry-After"]) >= 1
        # another address has its own budget on both nodes
        assert (
            Browser(apps[1], "198.51.100.8").get("/lookup?ip=8.8.8.8").status_code
            == 200
        )
        with redis_srv.client() as conn:
            keys = sorted(k.decode() for k in conn.keys("sikker:web:*"))
        assert len(keys) == 2 and all(k.endswith(":lookups") for k in keys)
        assert {k.split(":")[2] for k in keys} == {str(int(now // 60))}
    finally:
        for app in apps:
            app.keyed.service.close()


def test_failed_logins_count_on_redis_too(
    nodes: list[Path], redis_srv: RedisServer
) -> None:
    now = noon_tomorrow()
    app = node(nodes[0], now, redis_url=redis_srv.url, login_max_failures=2)
    try:
        api = client(app)
        wrong = {"Authorization": "Basic " + "bm9ib2R5QGV4YW1wbGUuY29tOndyb25n"}
        statuses = [
            api.simulate_get("/v1/account", headers=wrong).status_code for _ in range(3)
        ]
        assert statuses == [401, 401, 429]
        with redis_srv.client() as conn:
            assert [k.decode().split(":")[1] for k in conn.keys("*")] == ["login"]
    finally:
        close(app)


def test_the_operator_sees_the_count_of_every_node(
    nodes: list[Path],
    redis_srv: RedisServer,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    now = time.time()
    app = node(nodes[1], now, redis_url=redis_srv.url)
    try:
        api = client(app, **bearer(key_of(nodes)))
        assert [api.simulate_get(CHECK).status_code for _ in range(2)] == [200, 200]
    finally:
        close(app)
    monkeypatch.setenv("SIKKER_REDIS_URL", redis_srv.url)
    monkeypatch.setenv("SIKKER_REDIS_TIMEOUT", str(TIMEOUT))
    monkeypatch.setenv("SIKKER_PLANS_PATH", str(write_plans(nodes[0])))
    shown = admin_json(capsys, nodes[0], "user", "show", EMAIL)  # the other host
    assert shown["usage"]["lookups"] == {"used": 2, "limit": 3, "remaining": 1}
