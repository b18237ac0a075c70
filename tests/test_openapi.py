"""The OpenAPI document stays true: routes, validity, and real responses."""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import falcon.inspect
import falcon.testing
import orjson
import pytest
from openapi_spec_validator import validate

from sikker.builder.publish import Publisher
from sikker.builder.writer import Intel
from sikker.core.config import load_config
from sikker.core.sensors import SensorRegistry
from sikker.server.app import SikkerApp, create_app
from sikker.server.openapi import build
from tests.contract import Contract
from tests.factories import table


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
    app = app_for(data, accept_private_sources=True)
    yield {
        "app": app,
        "client": falcon.testing.TestClient(app),
        "contract": Contract(app),
        "sensor_token": token,
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
            assert any(s.startswith("2") for s in statuses), (method, path)
            for status, described in operation["responses"].items():
                if status[0] in "45":
                    schema = described["content"]["application/json"]["schema"]
                    assert "Error" in orjson.dumps(schema).decode(), (path, status)
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


def _scenario(token: str) -> list[tuple[str, str, dict[str, Any], int]]:
    """Requests that exercise every operation: (method, path, kwargs, status)."""
    sensor = {"Authorization": f"Bearer {token}"}
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
        ("GET", "/healthz", {}, 200),
        ("GET", "/openapi.json", {}, 200),
        ("GET", "/no/such/path", {}, 404),
        ("DELETE", "/healthz", {}, 405),
    ]


def test_real_answers_of_every_operation_match_the_document(
    world: dict[str, Any],
) -> None:
    client, contract = world["client"], world["contract"]
    for method, path, kwargs, status in _scenario(world["sensor_token"]):
        result = client.simulate_request(method, path, **kwargs)
        assert result.status_code == status, (method, path, result.text[:300])
        contract.check(method, path, result)
    missing = contract.operations() - contract.succeeded
    assert not missing, (
        f"operations without a successful answer in this scenario: {sorted(missing)}"
    )


def test_an_empty_data_dir_answers_503_as_described(tmp_path: Path) -> None:
    app = app_for(tmp_path)
    client, contract = falcon.testing.TestClient(app), Contract(app)
    for path in ("/healthz", "/v1/key/check/8.8.8.8", "/v1/key/blacklist"):
        result = client.simulate_get(path)
        assert result.status_code == 503
        assert result.headers["Retry-After"] == "10"
        contract.check("GET", path, result)
