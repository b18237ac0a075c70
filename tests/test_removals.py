"""Removal requests: the public endpoint, the admin CLI, delisting and relisting."""

import time
from pathlib import Path
from typing import Any

import falcon.testing
import pytest

from sikker.builder.incremental import IncrementalBuilder
from sikker.builder.publish import Publisher
from sikker.core.eventlog import EventLog
from sikker.core.handles import shared
from sikker.core.layout import EVENTS_DIR
from tests.community import Env
from tests.factories import RECORDS, build, run_cli

LISTED = "45.155.205.7"  # a public address the snapshot lists (score 97)
PATH = "/v1/removal-requests"


def records() -> list[dict[str, Any]]:
    """The factory records with a public address in place of the first one."""
    return [{**RECORDS[0], "ip": LISTED}, *RECORDS[1:]]


@pytest.fixture
def env(tmp_path: Path) -> Env:
    build(tmp_path, records())
    return Env(tmp_path, snapshot=False, removal_requests_per_hour=3)


def ask(env: Env, ip: str = LISTED, **headers: str) -> falcon.testing.Result:
    anonymous = falcon.testing.TestClient(env.app)
    body = {"ip": ip, "email": "noc@example.net", "reason": "our new mail server"}
    return anonymous.simulate_post(PATH, json=body, headers=headers)


# -- the public endpoint --------------------------------------------------------------


def test_anyone_may_ask_without_a_key(env: Env) -> None:
    resp = ask(env)
    assert resp.status_code == 201, resp.text
    assert resp.json["id"].startswith("rr_") and resp.json["status"] == "pending"
    assert resp.json["ip"] == LISTED


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"email": "a@example.net", "reason": "x"}, "ip"),
        ({"ip": "nope", "email": "a@example.net", "reason": "x"}, "ip"),
        ({"ip": "10.0.0.1", "email": "a@example.net", "reason": "x"}, "ip"),
        ({"ip": LISTED, "reason": "x"}, "email"),
        ({"ip": LISTED, "email": "not an address", "reason": "x"}, "email"),
        ({"ip": LISTED, "email": "a@example.net"}, "reason"),
        ({"ip": LISTED, "email": "a@example.net", "reason": " \x00 "}, "reason"),
        ({"ip": LISTED, "email": "a@example.net", "reason": "x" * 2001}, "reason"),
        ([1, 2], "request"),
    ],
)
def test_a_bad_request_is_a_400_naming_the_field(
    env: Env, body: Any, field: str
) -> None:
    resp = falcon.testing.TestClient(env.app).simulate_post(PATH, json=body)
    assert resp.status_code == 400, resp.text
    assert resp.json["code"] == "invalid_removal_request"
    assert resp.json["field"] == field


def test_requests_are_rate_limited_per_client_address(env: Env) -> None:
    for _ in range(3):
        assert ask(env).status_code == 201
    limited = ask(env)
    assert limited.status_code == 429 and limited.json["code"] == "rate_limited"
    assert 0 < int(limited.headers["Retry-After"]) <= 3600
    # Behind a trusted proxy (127.0.0.1), each forwarded client has its own budget.
    assert ask(env, **{"X-Forwarded-For": "45.1.2.3"}).status_code == 201


def test_forwarded_addresses_from_untrusted_peers_are_ignored(tmp_path: Path) -> None:
    env = Env(tmp_path, removal_requests_per_hour=1, trusted_proxies="")
    assert ask(env, **{"X-Forwarded-For": "45.1.2.3"}).status_code == 201
    assert ask(env, **{"X-Forwarded-For": "45.9.9.9"}).status_code == 429


# -- the admin CLI --------------------------------------------------------------------


def test_admins_list_approve_and_reject_requests(
    env: Env, capsys: pytest.CaptureFixture[str]
) -> None:
    first = ask(env).json["id"]
    second = ask(env, "45.155.205.8").json["id"]
    code, out, _ = run_cli(capsys, env.data, "admin", "removal", "list")
    assert code == 0 and first in out and second in out and "noc@example.net" in out
    code, out, _ = run_cli(
        capsys, env.data, "admin", "removal", "approve", first, "--days", "7"
    )
    assert code == 0 and f"{LISTED} is delisted for 7 day(s)" in out
    code, out, _ = run_cli(capsys, env.data, "admin", "removal", "reject", second)
    assert code == 0 and "stays listed" in out
    code, out, _ = run_cli(capsys, env.data, "admin", "removal", "list", "--json")
    assert code == 0 and '"requests": []' in out
    import orjson

    code, out, _ = run_cli(
        capsys, env.data, "admin", "removal", "list", "--status", "all", "--json"
    )
    statuses = {r["id"]: r["status"] for r in orjson.loads(out)["requests"]}
    assert statuses == {first: "approved", second: "rejected"}
    code, _, err = run_cli(capsys, env.data, "admin", "removal", "reject", first)
    assert code == 2 and "was approved" in err
    code, _, err = run_cli(capsys, env.data, "admin", "removal", "approve", "rr_nope")
    assert code == 2 and "no removal request" in err


# -- delisting ------------------------------------------------------------------------


class Clocked:
    """A builder of ``env`` whose delisting clock the test moves."""

    def __init__(self, env: Env) -> None:
        self.env = env
        self.now = time.time()
        self.builder: IncrementalBuilder = env.builder()
        self.builder.delisting.clock = lambda: self.now

    def step(self) -> None:
        with Publisher(self.env.data) as publisher:
            self.builder.step(publisher)

    def full(self) -> None:
        with Publisher(self.env.data) as publisher:
            self.builder.publish(publisher, [], full=True)


def found(env: Env, ip: str = LISTED) -> bool:
    return bool(env.client.simulate_get(f"/v1/key/check/{ip}").json["found"])


def blacklisted(env: Env) -> list[str]:
    resp = env.client.simulate_get(
        "/v1/key/blacklist", params={"scoreMinimum": "0", "plaintext": "true"}
    )
    return resp.text.split()


def test_an_approved_address_is_delisted_then_relisted_when_the_period_ends(
    env: Env, capsys: pytest.CaptureFixture[str]
) -> None:
    before = env.client.simulate_get(f"/v1/key/check/{LISTED}").json
    request = ask(env).json["id"]
    clocked = Clocked(env)
    try:
        run_cli(capsys, env.data, "admin", "removal", "approve", request, "--days", "2")
        clocked.step()
        assert not found(env)
        assert LISTED not in blacklisted(env) and "198.51.100.20" in blacklisted(env)
        clocked.full()  # a full base leaves it out too
        assert not found(env) and LISTED not in blacklisted(env)
        clocked.now += 1 * 86_400
        clocked.step()
        assert not found(env)
        clocked.now += 1 * 86_400 + 1
        clocked.step()
        assert found(env) and LISTED in blacklisted(env)
    finally:
        clocked.builder.close()
    after = env.client.simulate_get(f"/v1/key/check/{LISTED}").json
    for field in ("totalSessions", "totalEvents", "reports", "firstSeen", "lastSeen"):
        assert after[field] == before[field], field  # its evidence was kept
    assert after["confidenceLevel"] > 50  # rescored by the builder's own model


def test_evidence_arriving_while_delisted_is_kept_and_shown_afterwards(
    env: Env, capsys: pytest.CaptureFixture[str]
) -> None:
    request = ask(env).json["id"]
    clocked = Clocked(env)
    try:
        run_cli(capsys, env.data, "admin", "removal", "approve", request, "--days", "1")
        clocked.step()
        login = {
            "ts": 1_795_000_000_000,
            "sensor": "hp-1",
            "session": "late",
            "src_ip": LISTED,
            "protocol": "ssh",
            "event": "connect",
        }
        shared(EventLog, env.data / EVENTS_DIR).append([login])
        clocked.step()
        assert not found(env)
        clocked.now += 86_401
        clocked.step()
    finally:
        clocked.builder.close()
    assert found(env)
    assert (
        env.client.simulate_get(f"/v1/key/check/{LISTED}").json["totalSessions"] == 121
    )
