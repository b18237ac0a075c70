"""Schemathesis against the app's own ``/openapi.json``: every operation.

Requests go to the app in process (schemathesis' WSGI transport), with a
demo snapshot, a valid API key, a
sensor token, an account login and a web session, so generated requests
reach the code behind authentication. Each operation gets positive and
negative cases, and every answer is checked for server errors and for
conformance of its status code, content type and body schema.

The example count is small and the run derandomized, so CI replays the
same cases; ``SIKKER_SCHEMATHESIS_EXAMPLES`` raises it for a longer run.
"""

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import falcon.testing
import orjson
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from sikker.builder import demo
from sikker.builder.publish import publish
from sikker.core.config import load_config
from sikker.core.sensors import SensorRegistry
from sikker.server.app import SikkerApp
from sikker.server.openapi import build
from tests.factories import PASSWORD, api_key, basic, bearer
from tests.keyed import keyed_app
from tests.web_client import Browser

pytestmark = pytest.mark.filterwarnings("ignore::wsgiref.validate.WSGIWarning")

EXAMPLES = int(os.environ.get("SIKKER_SCHEMATHESIS_EXAMPLES", "12"))
NOW = 1_800_000_000
EMAIL = "tester@example.com"
CHECKS: list[Callable[..., Any]] = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@schemathesis.serializer("application/x-ndjson")
def _ndjson(ctx: schemathesis.SerializationContext, value: Any) -> bytes:
    """Send a generated NDJSON body: text as it is, anything else one per line.

    ``json`` (not orjson) so that what negative cases hold (lone surrogates,
    integers beyond 64 bits) still goes on the wire.
    """
    if isinstance(value, str):
        return value.encode("utf-8", "surrogatepass")
    items = value if isinstance(value, list) else [value]
    return "".join(json.dumps(item) + "\n" for item in items).encode()


#: What ``GET /openapi.json`` serves with the default settings, built as the
#: app builds it (serving it here would write metrics under ./data); the
#: target serves the same, which a test below checks.
SCHEMA = schemathesis.openapi.from_dict(
    orjson.loads(orjson.dumps(build(load_config(environ={}))))
)


class Target:
    """The app under test and the credentials each kind of route needs."""

    def __init__(self, data: Path) -> None:
        publish(demo.generate(300, seed=11, now=NOW), data)
        self.app: SikkerApp = keyed_app(data)
        self.key = api_key(data, EMAIL, store=self.app.keyed.service.store())
        _, self.sensor_token = SensorRegistry(data).add("schemathesis")
        self.session = self._sign_in()

    def _sign_in(self) -> dict[str, str]:
        """Return the cookies of a web session of the test account."""
        browser = Browser(self.app)
        result = browser.post("/signin", {"email": EMAIL, "password": PASSWORD})
        assert result.status_code < 400, result.text[:300]
        return browser.cookies

    def headers(self, path: str) -> dict[str, str]:
        """Return valid credentials for ``path``, so the input is what varies."""
        if path.startswith("/v1/sensor/"):
            return bearer(self.sensor_token)
        if path.startswith("/v1/account"):
            return basic(EMAIL, PASSWORD)
        return bearer(self.key)


@pytest.fixture(scope="module")
def target(tmp_path_factory: pytest.TempPathFactory) -> Target:
    return Target(tmp_path_factory.mktemp("data"))


@SCHEMA.parametrize()
@settings(
    max_examples=EXAMPLES,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
@pytest.mark.slow
def test_every_operation_answers_what_its_document_promises(
    case: schemathesis.Case, target: Target
) -> None:
    case.call_and_validate(
        app=target.app,
        headers=target.headers(case.path),
        cookies=target.session,
        checks=CHECKS,
    )


def test_the_document_tested_is_the_one_the_target_serves(target: Target) -> None:
    served = falcon.testing.TestClient(target.app).simulate_get("/openapi.json")
    assert served.json == SCHEMA.raw_schema


def test_the_checks_fail_on_a_server_error(
    target: Target, monkeypatch: pytest.MonkeyPatch
) -> None:
    def explode(*args: Any) -> None:
        raise RuntimeError("broken snapshot store")

    monkeypatch.setattr(target.app.store, "current", explode)
    case = SCHEMA["/v1/key/check/{ip}"]["GET"].Case(
        path_parameters={"ip": "203.0.113.10"}
    )
    with pytest.raises(FailureGroup, match="Server error"):
        case.call_and_validate(
            app=target.app, headers=target.headers(case.path), checks=CHECKS
        )
