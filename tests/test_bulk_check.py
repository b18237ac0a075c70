"""POST /v1/key/bulk-check-inline and GET /v1/key/check-block."""

import random
import time
from typing import Any

import falcon.testing
import pytest

from sikker.builder import demo
from sikker.builder.publish import publish
from sikker.core import ipcore
from sikker.core.filters import BlacklistQuery
from sikker.core.present import check_payload
from sikker.core.snapshot import Snapshot
from tests.community import Env


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A 30,000-IP demo snapshot and 10,000 lines to check against it."""
    data = tmp_path_factory.mktemp("bulk")
    publish(demo.generate(30_000, seed=7), data)
    env = Env(data, snapshot=False)
    snapshot = env.app.store.current()
    listed = snapshot.ip_texts(snapshot.everything())
    rng = random.Random(3)
    unlisted = [
        f"45.{rng.randrange(256)}.{rng.randrange(256)}.{i % 250 + 1}"
        for i in range(3_000)
    ]
    lines = rng.sample(listed, 7_000) + unlisted
    rng.shuffle(lines)
    return {"env": env, "snapshot": snapshot, "lines": lines}


def expected(snapshot: Snapshot, ip: str) -> dict[str, Any]:
    """Return the compact result a single check implies for ``ip``."""
    full = check_payload(snapshot, ip, snapshot.lookup(ip))
    geo = full.get("geolocation") or {}
    return {
        "ip": ip,
        "found": full["found"],
        "confidenceLevel": full["confidenceLevel"],
        "countryCode": geo.get("countryCode"),
        "asn": geo.get("asn"),
        "lastSeen": full["totalSessions"] and _ms(full["lastSeen"])
        if full["found"]
        else None,
        "totalSessions": full.get("totalSessions", 0),
        "maxSeverity": full.get("maxSeverity"),
        "reports": full["reports"]["total"] if full["found"] else 0,
    }


def _ms(iso: str | None) -> int | None:
    if iso is None:
        return None
    return (
        int(time.mktime(time.strptime(iso, "%Y-%m-%dT%H:%M:%SZ")) - time.timezone)
        * 1000
    )


def test_a_bulk_check_of_10000_ips_agrees_with_single_checks(world: dict) -> None:
    env, snapshot, lines = world["env"], world["snapshot"], world["lines"]
    body = "\n".join(lines) + "\n"
    resp = env.client.simulate_post(
        "/v1/key/bulk-check-inline", body=body, headers={"Content-Type": "text/plain"}
    )
    assert resp.status_code == 200, resp.text[:300]
    doc = resp.json
    assert doc["queried"] == len(set(lines)) and doc["invalid"] == []
    assert doc["found"] == sum(1 for r in doc["results"] if r["found"]) >= 7_000
    for result in doc["results"]:
        want = expected(snapshot, result["ip"])
        assert result == {
            **want,
            "lastSeen": result["lastSeen"] if want["found"] else None,
        }
        if want["found"]:
            assert result["lastSeen"] == snapshot.lookup(result["ip"]).last_seen * 1000
    assert resp.headers["X-RateLimit-Remaining"] == str(100_000 - doc["queried"])


def test_bad_lines_are_listed_and_blank_lines_skipped(world: dict) -> None:
    env = world["env"]
    body = (
        "203.0.113.7\n\n  \nnot-an-ip\n010.1.1.1\r\n::ffff:203.0.113.7\n2001:db8::1\n"
    )
    resp = env.client.simulate_post("/v1/key/bulk-check-inline", body=body)
    assert resp.status_code == 200, resp.text
    assert [r["ip"] for r in resp.json["results"]] == ["203.0.113.7", "2001:db8::1"]
    assert [(e["line"], e["value"]) for e in resp.json["invalid"]] == [
        (4, "not-an-ip"),
        (5, "010.1.1.1"),
    ]
    assert "leading zero" in resp.json["invalid"][1]["error"]


def test_more_than_10000_addresses_are_refused(world: dict) -> None:
    env = world["env"]
    body = "\n".join(f"45.1.{i // 256}.{i % 256}" for i in range(10_001))
    resp = env.client.simulate_post("/v1/key/bulk-check-inline", body=body)
    assert resp.status_code == 400 and "more than 10,000" in resp.json["error"]


def test_a_free_plan_checks_at_most_1000_addresses_at_once(world: dict) -> None:
    env = world["env"]
    client = env.as_(env.new_key("free@example.com", plan="free"))
    body = "\n".join(f"45.1.{i // 256}.{i % 256}" for i in range(1_001))
    resp = client.simulate_post("/v1/key/bulk-check-inline", body=body)
    assert resp.status_code == 400 and "more than 1,000" in resp.json["error"]


def test_a_body_of_only_bad_lines_is_a_400(world: dict) -> None:
    resp = world["env"].client.simulate_post("/v1/key/bulk-check-inline", body="x\ny\n")
    assert resp.status_code == 400 and resp.json["code"] == "no_valid_addresses"
    assert len(resp.json["invalid"]) == 2
    empty = world["env"].client.simulate_post("/v1/key/bulk-check-inline", body="\n")
    assert empty.status_code == 400 and empty.json["code"] == "empty_body"


def test_a_json_list_is_accepted_too(world: dict) -> None:
    resp = world["env"].client.simulate_post(
        "/v1/key/bulk-check-inline", json={"ips": ["203.0.113.7", "bad"]}
    )
    assert resp.status_code == 200 and resp.json["queried"] == 1


def test_a_bulk_check_needs_an_api_key(world: dict) -> None:
    anonymous = falcon.testing.TestClient(world["env"].app)
    resp = anonymous.simulate_post("/v1/key/bulk-check-inline", body="203.0.113.7")
    assert resp.status_code == 401


# -- check-block ----------------------------------------------------------------------


def test_check_block_lists_every_listed_ip_inside_the_network(world: dict) -> None:
    env, snapshot = world["env"], world["snapshot"]
    everything = snapshot.ip_texts(
        snapshot.blacklist(BlacklistQuery(score_minimum=0, limit=30_000))
    )
    v4 = sorted(
        (ip for ip in everything if ":" not in ip),
        key=lambda ip: ipcore.parse_ip(ip)[1],
    )
    first = v4[len(v4) // 2]
    prefix = first.rsplit(".", 1)[0] + "."
    network = prefix + "0/24"
    inside = [ip for ip in v4 if ip.startswith(prefix)]
    resp = env.client.simulate_get("/v1/key/check-block", params={"network": network})
    assert resp.status_code == 200, resp.text
    doc = resp.json
    assert [r["ip"] for r in doc["results"]] == inside
    assert doc["listed"] == len(inside)
    assert doc["numPossibleHosts"] == 256 and doc["prefixLength"] == 24
    assert doc["maxAddress"] == prefix + "255"
    for result in doc["results"]:
        assert result["confidenceLevel"] == snapshot.lookup(result["ip"]).score


def test_check_block_masks_host_bits_and_refuses_wide_networks(world: dict) -> None:
    client = world["env"].client
    resp = client.simulate_get("/v1/key/check-block", params={"network": "45.1.2.3/24"})
    assert resp.status_code == 200 and resp.json["network"] == "45.1.2.0/24"
    wide = client.simulate_get("/v1/key/check-block", params={"network": "45.0.0.0/15"})
    assert wide.status_code == 400 and "wider than /16" in wide.json["error"]
    wide6 = client.simulate_get(
        "/v1/key/check-block", params={"network": "2001:db8::/47"}
    )
    assert wide6.status_code == 400
    assert client.simulate_get("/v1/key/check-block").status_code == 400
    bogus = client.simulate_get("/v1/key/check-block", params={"network": "x"})
    assert bogus.status_code == 400


def test_check_block_charges_one_lookup(world: dict) -> None:
    env = world["env"]
    client = env.as_(env.new_key("block@example.com"))
    resp = client.simulate_get("/v1/key/check-block", params={"network": "45.1.2.0/24"})
    assert resp.headers["X-RateLimit-Remaining"] == str(100_000 - 1)
