"""The OpenAPI document stays true: routes, validity, and real responses."""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import falcon.inspect
import falcon.testing
import orjson
import pytest
from openapi_spec_validator import validate

from sikker.builder.alert_matcher import AlertMatcher
from sikker.builder.evidence import Evidence
from sikker.builder.publish import Publisher
from sikker.builder.state import Changes
from sikker.builder.writer import Intel
from sikker.core import ipcore
from sikker.core.config import load_config
from sikker.core.sensors import SensorRegistry
from sikker.server.app import SikkerApp, create_app
from sikker.server.openapi import build
from sikker.server.taxii import ROOTS
from tests.contract import Contract
from tests.factories import PASSWORD, api_key, basic, bearer, table
from tests.replica_scenario import replica_scenario
from tests.web_scenario import web_scenario

#: A webhook URL alerts may name (nothing delivers in these tests).
WEBHOOK = "https://hooks.example.org/sikker"
TAXII = "application/taxii+json;version=2.1"


def app_for(data: Path, **settings: Any) -> SikkerApp:
    overrides = {"data_dir": str(data), "snapshot_check_interval": 0, **settings}
    return create_app(load_config(overrides=overrides, environ={}))


def routes(app: falcon.App) -> set[tuple[str, str]]:
    """Return every (METHOD, template) the app answers with its own responder."""
    return {
        (method.method, route.path)
        for route in falcon.inspect.inspect_routes(app)
        for method in route.methods
        if not method.internal
    }


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    data = tmp_path_factory.mktemp("data")
    intel = Intel(
        usernames={
            "root": {"total": 12, "protocols": {"ssh": 12}, "first": 1, "last": 2}
        },
        emails={
            "a@example.com": {
                "total": 3,
                "protocols": {"smtp": 3},
                "first": 1,
                "last": 2,
            }
        },
    )
    with Publisher(data) as publisher:
        publisher.publish(table(), intel=intel)
    _, token = SensorRegistry(data).add("web1")
    key = api_key(data)
    spare = api_key(data)
    app = app_for(data, accept_private_sources=True, admin_emails="tester@example.com")
    client = falcon.testing.TestClient(app, headers=bearer(key))
    spare_alerts = {  # one per kind, for the scenario to read, then delete
        kind: client.simulate_post(f"/v1/key/{kind}-alerts", json=body).json["id"]
        for kind, body in SPARE_ALERTS.items()
    }
    _match_spare_alerts(data, app)
    yield {
        "app": app,
        "client": client,
        "contract": Contract(app),
        "sensor_token": token,
        "spare_key_id": spare.split("_")[2],
        "spare_alerts": spare_alerts,
    }


def _match_spare_alerts(data: Path, app: SikkerApp) -> None:
    """Let the builder's matcher find evidence for every spare alert."""
    seen = {
        "total": 3,
        "protocols": {"ssh": 3},
        "first": 1795000000,
        "last": 1795000060,
    }
    changes = Changes(
        cursor=0,
        evidence={
            ipcore.to_ip16(ip): Evidence() for ip in ("45.155.205.8", "45.155.204.9")
        },
        usernames={"admin": seen},
        emails={"billing@example.org": seen},
    )
    assert AlertMatcher(data, app.store.current, repeat=3600)(changes) == 4


#: A new alert of each kind, and one the fixture makes for reading and deleting.
ALERTS = {
    "ip": {"ip": "45.155.205.7", "label": "jump host", "webhookUrl": WEBHOOK},
    "range": {"cidr": "45.155.205.0/24"},
    "username": {"username": "deploy"},
    "email": {"email": "ops@example.org"},
}
SPARE_ALERTS = {
    "ip": {"ip": "45.155.205.8"},
    "range": {"cidr": "45.155.204.0/24"},
    "username": {"username": "admin"},
    "email": {"email": "billing@example.org"},
}


def test_every_route_is_described_and_every_description_is_a_route(
    tmp_path: Path,
) -> None:
    app = app_for(tmp_path)
    described = Contract(app).operations()
    served = routes(app)
    assert served - described == set(), (
        "routes missing from the OpenAPI document (server/openapi/): "
        f"{sorted(served - described)}"
    )
    assert described - served == set(), (
        f"the OpenAPI document describes routes the app lacks: "
        f"{sorted(described - served)}"
    )


def test_the_document_is_valid_openapi_3_1(tmp_path: Path) -> None:
    spec = build(load_config(environ={}))
    assert spec["openapi"].startswith("3.1.")
    validate(spec)


def test_every_operation_has_an_id_a_summary_and_documented_errors() -> None:
    spec = build(load_config(environ={}))
    ids = []
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            ids.append(operation["operationId"])
            assert operation.get("summary"), (method, path)
            statuses = set(operation["responses"])
            refused = operation.get("x-refused")
            succeeds = any(s[0] in "23" for s in statuses)  # 303: a form post
            assert succeeds != bool(refused), (
                method,
                path,
            )
            assert refused is None or refused in statuses, (method, path)
            for status, described in operation["responses"].items():
                if status[0] in "45":
                    content = described["content"]
                    assert content, (path, status)
                    for media in content.values():
                        schema = orjson.dumps(media["schema"]).decode()
                        assert "Error" in schema, (path, status)
    assert len(ids) == len(set(ids))


def test_the_served_document_is_the_one_built_for_its_settings(
    tmp_path: Path,
) -> None:
    app = app_for(tmp_path, blacklist_max_limit=500, blacklist_default_limit=100)
    resp = falcon.testing.TestClient(app).simulate_get("/openapi.json")
    assert resp.status_code == 200
    assert resp.json == orjson.loads(orjson.dumps(build(app.config)))
    limit = next(
        p
        for p in resp.json["paths"]["/v1/key/blacklist"]["get"]["parameters"]
        if p["name"] == "limit"
    )
    assert limit["schema"]["maximum"] == 500 and limit["schema"]["default"] == 100


def _scenario(world: dict[str, Any]) -> list[tuple[str, str, dict[str, Any], int]]:
    """Requests that exercise every operation: (method, path, kwargs, status)."""
    sensor = {"Authorization": f"Bearer {world['sensor_token']}"}
    login = {"headers": basic("tester@example.com", PASSWORD)}
    wrong = {"headers": basic("tester@example.com", "not the password")}
    new = {"email": "new@example.com", "password": "a long password"}
    spare = world["spare_key_id"]
    event = {
        "ts": 1795351569,
        "src_ip": "45.155.205.7",
        "protocol": "ssh",
        "event": "login_failed",
        "username": "root",
    }
    return [
        ("GET", "/v1/key/check/203.0.113.10", {}, 200),
        ("GET", "/v1/key/check/203.0.113.10", {"params": {"explain": "true"}}, 200),
        ("GET", "/v1/key/check/192.0.2.45", {"params": {"ignoreWhitelist": "1"}}, 200),
        ("GET", "/v1/key/check/2001:db8::7", {}, 200),
        ("GET", "/v1/key/check/8.8.4.4", {}, 200),
        ("GET", "/v1/key/check/10.1.2.3", {}, 200),
        ("GET", "/v1/key/check/not-an-ip", {}, 400),
        ("GET", "/v1/key/check/8.8.4.4", {"params": {"explain": "maybe"}}, 400),
        ("GET", "/v1/key/blacklist", {}, 200),
        (
            "GET",
            "/v1/key/blacklist",
            {"params": {"onlyCountries": "CN,RU", "minSeverity": "high"}},
            200,
        ),
        ("GET", "/v1/key/blacklist", {"params": {"plaintext": "true"}}, 200),
        ("GET", "/v1/key/blacklist", {"params": {"scoreMinimum": "101"}}, 400),
        ("GET", "/v1/key/blacklist", {"params": {"bogus": "1"}}, 400),
        ("GET", "/v1/key/sync/snapshot", {"params": {"scoreMinimum": "0"}}, 200),
        ("GET", "/v1/key/sync/delta", {"params": {"from": "1"}}, 200),
        ("GET", "/v1/key/sync/delta", {"params": {"from": "99"}}, 410),
        ("GET", "/v1/key/sync/delta", {}, 400),
        ("GET", "/v1/key/username/ROOT", {}, 200),
        ("GET", "/v1/key/username/nobody", {}, 404),
        ("GET", "/v1/key/email/a@example.com", {}, 200),
        ("GET", "/v1/key/email/nobody@example.com", {}, 404),
        ("POST", "/v1/sensor/events", {"headers": sensor, "json": event}, 200),
        ("POST", "/v1/sensor/events", {"headers": sensor, "json": [event]}, 200),
        ("POST", "/v1/sensor/events", {"headers": sensor, "json": {"x": 1}}, 400),
        ("POST", "/v1/sensor/events", {"json": event}, 401),
        (
            "POST",
            "/v1/sensor/events",
            {"headers": {**sensor, "Content-Type": "text/csv"}, "body": "a,b"},
            415,
        ),
        ("GET", "/v1/key/check/8.8.4.4", {"headers": bearer("sk_live_x")}, 401),
        ("GET", "/v1/key/status", {}, 200),
        ("POST", "/v1/account", {"json": new}, 201),
        ("POST", "/v1/account", {"json": new}, 409),
        ("POST", "/v1/account", {"json": {"email": "x"}}, 400),
        ("GET", "/v1/account", login, 200),
        ("GET", "/v1/account", wrong, 401),
        ("GET", "/v1/account/keys", login, 200),
        ("POST", "/v1/account/keys", {**login, "json": {"name": "ci"}}, 201),
        ("DELETE", f"/v1/account/keys/{spare}", login, 200),
        ("DELETE", "/v1/account/keys/aaaaaaaaaaaa", login, 404),
        ("GET", "/healthz", {}, 200),
        ("GET", "/openapi.json", {}, 200),
        ("GET", "/integrations", {"headers": {"Authorization": ""}}, 200),
        ("GET", "/integrations/report/sikker-report", {}, 200),
        ("GET", "/integrations/report/sikker.conf", {}, 404),
        ("GET", "/metrics", {}, 200),
        ("GET", "/metrics", {"remote_addr": "192.0.2.1"}, 403),
        ("GET", "/no/such/path", {}, 404),
        ("DELETE", "/healthz", {}, 405),
        *_bulk_scenario(),
        *_report_scenario(),
        *_alert_scenario(world["spare_alerts"]),
        *_taxii_scenario(),
        *web_scenario(world["app"]),
        *replica_scenario(world["app"]),
    ]


def _bulk_scenario() -> list[tuple[str, str, dict[str, Any], int]]:
    text = {"Content-Type": "text/plain"}
    lines = "203.0.113.10\n8.8.8.8\n203.0.113.10\nnot-an-ip\n"
    return [
        ("POST", "/v1/key/bulk-check-inline", {"headers": text, "body": lines}, 200),
        (
            "POST",
            "/v1/key/bulk-check-inline",
            {"json": {"ips": ["2001:db8::7"]}, "params": {"ignoreWhitelist": "1"}},
            200,
        ),
        ("POST", "/v1/key/bulk-check-inline", {"headers": text, "body": "x\n"}, 400),
        ("POST", "/v1/key/bulk-check-inline", {"headers": text, "body": ""}, 400),
        (
            "POST",
            "/v1/key/bulk-check-inline",
            {"headers": {"Content-Type": "application/xml"}, "body": "<a/>"},
            415,
        ),
        ("GET", "/v1/key/check-block", {"params": {"network": "203.0.113.0/24"}}, 200),
        ("GET", "/v1/key/check-block", {"params": {"network": "10.0.0.0/8"}}, 400),
        ("GET", "/v1/key/check-block", {}, 400),
    ]


def _multipart(data: bytes) -> dict[str, Any]:
    boundary = "sikker-contract"
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
            f'filename="r.csv"\r\nContent-Type: text/csv\r\n\r\n'
        ).encode()
        + data
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return {
        "headers": {"Content-Type": f"multipart/form-data; boundary={boundary}"},
        "body": body,
    }


def _report_scenario() -> list[tuple[str, str, dict[str, Any], int]]:
    report = {
        "ip": "45.155.205.7",
        "category": "brute_force",
        "protocol": "ssh",
        "comment": "tried root from 45.155.205.7",
    }
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    csv = {"Content-Type": "text/csv"}
    bad = {"ip": "10.0.0.1", "category": 1}
    return [
        ("POST", "/v1/key/report", {"json": report}, 200),
        (
            "POST",
            "/v1/key/report",
            {"headers": form, "body": "ip=45.155.205.9&category=2"},
            200,
        ),
        ("POST", "/v1/key/report", {"json": bad}, 400),
        ("POST", "/v1/key/report", {"headers": csv, "body": "a,b"}, 415),
        ("POST", "/v1/key/bulk-report", {"json": {"reports": [report, bad]}}, 200),
        ("POST", "/v1/key/bulk-report", {"json": [report]}, 200),
        (
            "POST",
            "/v1/key/bulk-report",
            {"headers": csv, "body": "IP,Category\n45.155.205.10,port_scan\n"},
            200,
        ),
        ("POST", "/v1/key/bulk-report", _multipart(b"45.155.205.11;ddos\n"), 200),
        ("POST", "/v1/key/bulk-report", {"json": {"reports": [bad]}}, 400),
        (
            "POST",
            "/v1/key/bulk-report",
            {
                "headers": {"Content-Type": "multipart/form-data; boundary=x"},
                "body": "not a form",
            },
            400,
        ),
        ("POST", "/v1/key/bulk-report", {"headers": form, "body": "ip=1"}, 415),
        ("GET", "/v1/key/reports", {}, 200),
        (
            "GET",
            "/v1/key/reports",
            {"params": {"ip": "45.155.205.7", "limit": "5"}},
            200,
        ),
        ("GET", "/v1/key/reports", {"params": {"limit": "0"}}, 400),
        ("GET", "/v1/key/reports/45.155.205.7", {}, 200),
        ("GET", "/v1/key/reports/not-an-ip", {}, 400),
        (
            "POST",
            "/v1/removal-requests",
            {
                "json": {
                    "ip": "45.155.205.7",
                    "email": "noc@example.org",
                    "reason": "a shared NAT of our office",
                }
            },
            201,
        ),
        ("POST", "/v1/removal-requests", {"json": {"ip": "45.155.205.7"}}, 400),
        ("POST", "/v1/removal-requests", {"headers": csv, "body": "a"}, 415),
    ]


def _alert_scenario(
    spare: dict[str, str],
) -> list[tuple[str, str, dict[str, Any], int]]:
    out: list[tuple[str, str, dict[str, Any], int]] = []
    for kind, body in ALERTS.items():
        base = f"/v1/key/{kind}-alerts"
        out += [
            ("POST", base, {"json": body}, 201),
            ("POST", base, {"json": body}, 409),
            ("POST", base, {"json": {"label": "nothing watched"}}, 400),
            ("GET", base, {}, 200),
            ("GET", f"{base}/{spare[kind]}", {}, 200),
            ("DELETE", f"{base}/{spare[kind]}", {}, 200),
            ("GET", f"{base}/{spare[kind]}", {}, 404),
            ("DELETE", f"{base}/{spare[kind]}", {}, 404),
        ]
    return [
        *out,
        ("GET", "/v1/key/alerts/matches", {"params": {"since": "0"}}, 200),
        ("GET", "/v1/key/alerts/matches", {"params": {"limit": "0"}}, 400),
    ]


def _taxii_scenario() -> list[tuple[str, str, dict[str, Any], int]]:
    taxii = {"Accept": TAXII}
    out: list[tuple[str, str, dict[str, Any], int]] = [
        ("GET", "/taxii2", {"headers": taxii}, 200),
        ("GET", "/taxii2/api/", {}, 200),
        ("GET", "/taxii2", {"headers": {"Accept": "text/html"}}, 406),
    ]
    for root in ROOTS:
        collection = f"{root}/collections/sikker-threat-intel"
        objects = f"{collection}/objects"
        out += [
            ("GET", f"{root}/collections", {"headers": taxii}, 200),
            ("GET", collection, {}, 200),
            ("GET", f"{root}/collections/nope", {}, 404),
            ("GET", objects, {"params": {"limit": "3"}}, 200),
            ("GET", objects, {"params": {"match[type]": "indicator"}}, 200),
            ("GET", objects, {"params": {"limit": "0"}}, 400),
            ("GET", objects, {"headers": {"Authorization": ""}}, 401),
            ("GET", f"{objects}/203.0.113.10", {}, 200),
            ("GET", f"{objects}/198.18.0.1", {}, 404),
            ("GET", f"{objects}/203.0.113.10/versions", {}, 200),
            ("GET", f"{collection}/manifest", {"params": {"limit": "2"}}, 200),
            ("POST", objects, {"headers": {"Content-Type": TAXII}, "body": "{}"}, 403),
            ("POST", objects, {"json": {"objects": []}}, 415),
            ("DELETE", f"{objects}/203.0.113.10", {}, 403),
        ]
    return out


def test_real_answers_of_every_operation_match_the_document(
    world: dict[str, Any],
) -> None:
    client, contract = world["client"], world["contract"]
    for method, path, kwargs, status in _scenario(world):
        result = client.simulate_request(method, path, **kwargs)
        assert result.status_code == status, (method, path, result.text[:300])
        contract.check(method, path, result)
    missing = contract.operations() - contract.succeeded
    assert not missing, (
        f"operations without a successful answer in this scenario: {sorted(missing)}"
    )


def test_an_empty_data_dir_answers_503_as_described(tmp_path: Path) -> None:
    key = api_key(tmp_path)
    app = app_for(tmp_path)
    client = falcon.testing.TestClient(app, headers=bearer(key))
    contract = Contract(app)
    for path in ("/healthz", "/v1/key/check/8.8.8.8", "/v1/key/blacklist"):
        result = client.simulate_get(path)
        assert result.status_code == 503
        assert result.headers["Retry-After"] == "10"
        contract.check("GET", path, result)
