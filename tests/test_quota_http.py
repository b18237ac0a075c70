"""Daily quotas over HTTP: plans from the config file, headers, 429s, status."""

import math
from collections.abc import Iterator
from pathlib import Path

import falcon.testing
import pytest

from sikker.core.plans import load_plans
from sikker.server.app import SikkerApp
from tests.factories import bearer, build
from tests.keyed import Clock, client, close, keyed_app, new_key, write_plans

#: 2026-11-23 13:00:00.25 UTC: 39,599.75 s before the day ends.
NOON = 1_795_438_800.25
MIDNIGHT = 1_795_478_400
CHECK = "/v1/key/check/203.0.113.10"
EMAIL = "alice@example.com"


@pytest.fixture
def data(tmp_path: Path) -> Path:
    build(tmp_path / "data")
    return tmp_path / "data"


@pytest.fixture
def app(data: Path) -> Iterator[SikkerApp]:
    app = keyed_app(data, plans_path=str(write_plans(data)), auth_cache_seconds=3600)
    app.keyed.service.clock = Clock(NOON)
    yield app
    close(app)


def keyed(app: SikkerApp, email: str = EMAIL) -> falcon.testing.TestClient:
    return client(app, **bearer(new_key(app, email)))


def rate_headers(resp: falcon.testing.Result) -> tuple[int, int, int]:
    h = resp.headers
    return (
        int(h["X-RateLimit-Limit"]),
        int(h["X-RateLimit-Remaining"]),
        int(h["X-RateLimit-Reset"]),
    )


def test_every_check_counts_and_carries_the_rate_limit_headers(
    app: SikkerApp,
) -> None:
    api = keyed(app)
    seen = [rate_headers(api.simulate_get(CHECK)) for _ in range(3)]
    assert seen == [(3, 2, MIDNIGHT), (3, 1, MIDNIGHT), (3, 0, MIDNIGHT)]


def test_over_quota_is_a_429_with_retry_after_until_midnight_utc(
    app: SikkerApp,
) -> None:
    api = keyed(app)
    for _ in range(3):
        assert api.simulate_get(CHECK).status_code == 200
    resp = api.simulate_get(CHECK)
    assert resp.status_code == 429
    assert resp.headers["Retry-After"] == str(math.ceil(MIDNIGHT - NOON)) == "39600"
    assert rate_headers(resp) == (3, 0, MIDNIGHT)
    assert resp.headers["Content-Type"].startswith("application/json")
    assert resp.json == {
        "error": "Daily lookup quota exceeded",
        "code": "quota_exceeded",
        "status": 429,
        "family": "lookups",
        "limit": 3,
        "used": 3,
        "resetAt": MIDNIGHT,
    }


def test_the_quota_comes_back_at_midnight_utc(app: SikkerApp) -> None:
    api = keyed(app)
    for _ in range(4):
        api.simulate_get(CHECK)
    app.keyed.service.clock.now = MIDNIGHT + 1  # type: ignore[attr-defined]
    resp = api.simulate_get(CHECK)
    assert resp.status_code == 200
    assert rate_headers(resp) == (3, 2, MIDNIGHT + 86_400)


def test_refused_and_bad_requests_are_not_counted(app: SikkerApp) -> None:
    api = keyed(app)
    bad = api.simulate_get("/v1/key/check/999.1.1.1")
    assert bad.status_code == 400 and rate_headers(bad)[:2] == (3, 3)
    for _ in range(5):
        api.simulate_get(CHECK)
    status = api.simulate_get("/v1/key/status").json
    assert status["quotas"]["lookups"] == {"used": 3, "limit": 3, "remaining": 0}


def test_all_keys_of_an_account_share_its_quota(app: SikkerApp) -> None:
    first, second = keyed(app), keyed(app)
    other = keyed(app, "bob@example.com")
    for _ in range(2):
        first.simulate_get(CHECK)
    assert second.simulate_get(CHECK).status_code == 200
    assert second.simulate_get(CHECK).status_code == 429
    assert other.simulate_get(CHECK).status_code == 200  # other accounts count apart


def test_blacklists_count_returned_ips_and_are_cut_to_what_is_left(
    app: SikkerApp,
) -> None:
    api = keyed(app)
    first = api.simulate_get("/v1/key/blacklist", params={"plaintext": "true"})
    assert first.status_code == 200 and len(first.text.split()) == 4  # quota 4
    assert rate_headers(first)[:2] == (4, 0)
    refused = api.simulate_get("/v1/key/blacklist")
    assert refused.status_code == 429 and refused.json["family"] == "blacklist"
    assert api.simulate_get(CHECK).status_code == 200  # lookups are apart


def test_families_take_their_limits_from_the_plans_file(
    app: SikkerApp, data: Path
) -> None:
    plans = load_plans(write_plans(data))
    status = keyed(app).simulate_get("/v1/key/status")
    assert status.status_code == 200
    quotas = status.json["quotas"]
    assert {f: q["limit"] for f, q in quotas.items()} == dict(plans.get("tiny").quotas)
    assert status.json["tier"] == {"id": "tiny", "name": "Tiny"}


def test_the_shipped_plans_have_the_four_tiers_and_families() -> None:
    plans = load_plans()
    assert list(plans.plans) == ["free", "contributor", "researcher", "business"]
    assert plans.default == "free"
    free = plans.get("free").quotas
    assert dict(free) == {
        "lookups": 1000,
        "reports": 1000,
        "blacklist": 5000,
        "taxii": 1000,
    }
    lookups = [p.quotas["lookups"] for p in plans.plans.values()]
    assert lookups == sorted(lookups)


def test_an_upgrade_and_a_downgrade_apply_at_the_next_request(
    app: SikkerApp,
) -> None:
    api = keyed(app)
    for _ in range(3):
        api.simulate_get(CHECK)
    assert api.simulate_get(CHECK).status_code == 429
    store = app.keyed.service.store()
    store.set_plan(EMAIL, "big")
    upgraded = api.simulate_get(CHECK)
    assert upgraded.status_code == 200 and rate_headers(upgraded)[:2] == (30, 26)
    store.set_plan(EMAIL, "tiny")
    downgraded = api.simulate_get(CHECK)
    assert downgraded.status_code == 429 and downgraded.json["limit"] == 3
    assert api.simulate_get("/v1/key/status").json["tier"]["id"] == "tiny"


def test_status_shows_plan_usage_and_alerts_without_counting(
    app: SikkerApp,
) -> None:
    api = keyed(app)
    api.simulate_get(CHECK)
    created = api.simulate_post("/v1/key/ip-alerts", json={"ip": "8.8.8.8"})
    assert created.status_code == 201, created.text
    first = api.simulate_get("/v1/key/status")
    second = api.simulate_get("/v1/key/status")
    assert first.json["quotas"] == second.json["quotas"]
    body = second.json
    assert body["quotas"]["lookups"] == {"used": 1, "limit": 3, "remaining": 2}
    assert body["quotas"]["taxii"] == {"used": 0, "limit": 5, "remaining": 5}
    assert body["alerts"]["ipAlerts"] == {"current": 1, "limit": 2}
    assert body["alerts"]["rangeAlerts"] == {
        "current": 0,
        "limit": 1,
        "maxPrefixV4": 28,
        "maxPrefixV6": 64,
    }
    assert body["resetAt"] == MIDNIGHT and body["account"]["email"] == EMAIL
    assert rate_headers(second) == (3, 2, MIDNIGHT)


@pytest.mark.parametrize(
    "path",
    [
        "/v1/key/status",
        "/v1/key/check/999.1.1.1",
        "/v1/key/username/nobody-at-all",
        "/v1/key/blacklist?bogus=1",
        "/v1/key/ip-alerts",
    ],
)
def test_every_keyed_answer_carries_the_rate_limit_headers(
    app: SikkerApp, path: str
) -> None:
    resp = keyed(app).simulate_get(path)
    assert resp.status_code < 500
    limit, remaining, reset = rate_headers(resp)
    assert limit >= remaining >= 0 and reset == MIDNIGHT


def test_usage_survives_a_restart(data: Path) -> None:
    plans = str(write_plans(data))
    app = keyed_app(data, plans_path=plans)
    key = new_key(app, EMAIL)
    for _ in range(2):
        client(app, **bearer(key)).simulate_get(CHECK)
    close(app)
    (data / "quota.bin").unlink()  # even the shared table: LMDB has the counts
    again = keyed_app(data, plans_path=plans)
    resp = client(again, **bearer(key)).simulate_get(CHECK)
    assert resp.status_code == 200 and rate_headers(resp)[:2] == (3, 0)
    assert client(again, **bearer(key)).simulate_get(CHECK).status_code == 429
    close(again)
