"""The HTTP API: check and blacklist, and the JSON errors of bad input."""

from pathlib import Path

import falcon.testing
import orjson
import pytest

from sikker.core.config import load_config
from sikker.server.app import create_app
from tests.factories import api_key, bearer, build


def client_for(data_dir: Path) -> falcon.testing.TestClient:
    """Return a client of data_dir's app that sends an API key."""
    config = load_config(
        overrides={"data_dir": str(data_dir), "snapshot_check_interval": 0}, environ={}
    )
    headers = bearer(api_key(data_dir))
    return falcon.testing.TestClient(create_app(config), headers=headers)


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> falcon.testing.TestClient:
    data = tmp_path_factory.mktemp("data")
    build(data)
    return client_for(data)


def test_check_returns_the_full_record(client: falcon.testing.TestClient) -> None:
    resp = client.simulate_get("/v1/key/check/203.0.113.10")
    assert resp.status_code == 200
    body = resp.json
    assert body["found"] is True
    assert body["confidenceLevel"] == 97
    assert body["geolocation"] == {
        "countryCode": "CN",
        "countryName": "China",
        "asn": "4134",
        "asnOrg": "CHINANET",
    }
    assert body["firstSeen"] == "2026-10-01T00:00:00Z"
    assert body["totalSessions"] == 120
    assert {p["protocol"] for p in body["protocols"]} == {"ssh", "telnet"}
    persistence = next(
        b for b in body["behaviors"] if b["id"] == "ssh-authorized-keys-persistence"
    )
    assert persistence["severity"] == "critical"
    assert persistence["mitre"] == ["T1098.004"]
    assert body["reports"]["categories"] == {"brute_force": 3, "malware": 1}
    assert resp.headers["X-Snapshot-Sequence"] == "1"


def test_check_of_an_unknown_ip_is_found_false(
    client: falcon.testing.TestClient,
) -> None:
    body = client.simulate_get("/v1/key/check/8.8.4.4").json
    assert body["found"] is False and body["confidenceLevel"] == 0
    assert body["isPublic"] is True


def test_check_flags_a_private_address_instead_of_failing(
    client: falcon.testing.TestClient,
) -> None:
    resp = client.simulate_get("/v1/key/check/10.1.2.3")
    assert resp.status_code == 200
    assert resp.json["nonPublicReason"] == "private"


def test_check_of_a_benign_source_shows_raw_score_on_request(
    client: falcon.testing.TestClient,
) -> None:
    body = client.simulate_get("/v1/key/check/192.0.2.45").json
    assert (body["confidenceLevel"], body["rawConfidenceLevel"]) == (9, 88)
    assert body["whitelist"] == {"source": "Googlebot", "discount": 0.1}
    raw = client.simulate_get(
        "/v1/key/check/192.0.2.45", params={"ignoreWhitelist": "true"}
    )
    assert raw.json["confidenceLevel"] == 88


def test_check_accepts_ipv6_in_the_path(client: falcon.testing.TestClient) -> None:
    assert client.simulate_get("/v1/key/check/2001:db8::7").json["found"] is True
    assert client.simulate_get("/v1/key/check/2001%3Adb8%3A%3A7").json["found"] is True


@pytest.mark.parametrize("bad", ["1.2.3", "256.1.1.1", "01.2.3.4", "abc", "1.2.3.4%20"])
def test_check_of_a_bad_ip_is_a_400_json_error(
    client: falcon.testing.TestClient, bad: str
) -> None:
    resp = client.simulate_get(f"/v1/key/check/{bad}")
    assert resp.status_code == 400
    assert resp.json["code"] == "invalid_address"
    assert resp.json["status"] == 400


def test_blacklist_json_has_meta_and_rows(client: falcon.testing.TestClient) -> None:
    resp = client.simulate_get("/v1/key/blacklist", params={"scoreMinimum": "90"})
    assert resp.status_code == 200
    body = resp.json
    assert body["meta"]["count"] == 3 and body["meta"]["scoreMinimum"] == 90
    first = body["data"][0]
    assert first["ip"] == "203.0.113.10"
    assert first["protocols"] == ["ssh", "telnet"]
    assert first["lastSeen"] == 1795168800000  # epoch milliseconds
    assert resp.headers["X-Result-Count"] == "3"


def test_blacklist_plaintext_is_one_ip_per_line(
    client: falcon.testing.TestClient,
) -> None:
    resp = client.simulate_get(
        "/v1/key/blacklist", params={"plaintext": "true", "onlyCountries": "cn"}
    )
    assert resp.status_code == 200
    assert resp.headers["content-type"].startswith("text/plain")
    assert resp.text == "203.0.113.10\n"


@pytest.mark.parametrize(
    ("params", "parameter"),
    [
        ({"scoreMinimum": "101"}, "scoreMinimum"),
        ({"scoreMinimum": "high"}, "scoreMinimum"),
        ({"onlyCountries": "XX"}, "onlyCountries"),
        ({"onlyAsn": "ASN12"}, "onlyAsn"),
        ({"ipVersion": "5"}, "ipVersion"),
        ({"protocols": "gopher"}, "protocols"),
        ({"minSeverity": "extreme"}, "minSeverity"),
        ({"limit": "0"}, "limit"),
        ({"limit": "99999999999"}, "limit"),
        ({"plaintext": "maybe"}, "plaintext"),
        ({"onlyCountry": "CN"}, "onlyCountry"),
    ],
)
def test_bad_blacklist_filters_are_400s_naming_the_parameter(
    client: falcon.testing.TestClient, params: dict, parameter: str
) -> None:
    resp = client.simulate_get("/v1/key/blacklist", params=params)
    assert resp.status_code == 400, resp.text
    assert resp.json["parameter"] == parameter


def test_repeated_parameters_are_rejected(client: falcon.testing.TestClient) -> None:
    resp = client.simulate_get("/v1/key/blacklist", query_string="limit=1&limit=2")
    assert resp.status_code == 400 and resp.json["parameter"] == "limit"


def test_unknown_paths_are_json_404s(client: falcon.testing.TestClient) -> None:
    resp = client.simulate_get("/v1/key/nothing")
    assert resp.status_code == 404
    assert orjson.loads(resp.content)["status"] == 404


def test_without_a_snapshot_the_api_answers_503(tmp_path: Path) -> None:
    resp = client_for(tmp_path).simulate_get("/v1/key/check/1.2.3.4")
    assert resp.status_code == 503
    assert resp.json["code"] == "no_snapshot"
    assert "sikker build" in resp.json["error"]


def test_healthz_reports_the_snapshot(client: falcon.testing.TestClient) -> None:
    body = client.simulate_get("/healthz").json
    assert body["status"] == "ok" and body["snapshot"]["ips"] == 6


@pytest.fixture(scope="module")
def intel_client(tmp_path_factory: pytest.TempPathFactory) -> falcon.testing.TestClient:
    from sikker.builder.publish import Publisher
    from sikker.builder.writer import Intel
    from tests.factories import table

    data = tmp_path_factory.mktemp("intel")
    intel = Intel(
        usernames={
            "root": {
                "total": 12,
                "protocols": {"ssh": 10, "telnet": 2},
                "first": 1795000000,
                "last": 1795100000,
            }
        },
        emails={
            "victim@example.com": {
                "total": 3,
                "protocols": {"smtp": 3},
                "first": 1795000000,
                "last": 1795000500,
            }
        },
    )
    with Publisher(data) as publisher:
        publisher.publish(table(), intel=intel)
    return client_for(data)


def test_username_intel_counts_attempts_per_protocol(
    intel_client: falcon.testing.TestClient,
) -> None:
    body = intel_client.simulate_get("/v1/key/username/ROOT").json
    assert body["username"] == "root" and body["totalSessions"] == 12
    assert body["protocols"] == {"ssh": 10, "telnet": 2}
    assert orjson.loads(body["protocolCounts"]) == {"ssh": 10, "telnet": 2}
    assert body["firstSeenAt"] == 1795000000000


def test_unknown_username_and_email_are_404(
    intel_client: falcon.testing.TestClient,
) -> None:
    assert intel_client.simulate_get("/v1/key/username/nobody").status_code == 404
    resp = intel_client.simulate_get("/v1/key/email/none@example.org")
    assert resp.status_code == 404 and resp.json["code"] == "not_found"


def test_email_intel(intel_client: falcon.testing.TestClient) -> None:
    body = intel_client.simulate_get("/v1/key/email/Victim@Example.com").json
    assert body["totalMessages"] == 3 and body["email"] == "victim@example.com"
