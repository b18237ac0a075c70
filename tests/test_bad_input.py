"""Hostile input on every route: never a 500, always the one error shape.

Every route the app serves (found with ``falcon.inspect``, so new routes are
walked without editing this file) gets huge, deeply nested, invalid UTF-8 and
wrongly typed input, wrong methods and wrong content types, and unknown or
repeated parameters. Each answer must be below 500, in the error shape when
it is an error, and a status the OpenAPI document lists for the operation.
"""

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import falcon
import falcon.inspect
import falcon.testing
import pytest

from sikker.core.config import load_config
from sikker.core.sensors import SensorRegistry
from sikker.server.app import SikkerApp, create_app
from tests.contract import Contract
from tests.factories import PASSWORD, api_key, basic, bearer, build

pytestmark = pytest.mark.filterwarnings("ignore::wsgiref.validate.WSGIWarning")

CAP = 64 * 1024
#: A valid value for each path parameter, so that only one thing is wrong.
PATH_VALUES = {
    "ip": "203.0.113.10",
    "username": "root",
    "email": "a@example.com",
    "collection_id": "sikker-threat-intel",
}
HOSTILE_SEGMENTS = [
    "%ff%fe",
    "%00",
    "%c0%af",
    "a" * 3000,
    "..%2f..%2fetc%2fpasswd",
    "%e2%80%ae",
    "%3Cscript%3E",
    "'%20OR%201=1%20--",
    "1.2.3.4%0d%0aX-Injected:%20y",
    "%25%25",
    "1.2.3.4%2f24",
    "::ffff:999.1.1.1",
]
HOSTILE_QUERIES = [
    "%ff=%fe",
    "a=%00",
    "x=" + "a" * 100_000,
    "=",
    "&&&;;;",
    "key",
    "%zz=%zz",
    "limit=1&limit=2",
    "a[b]=c&a[]=d",
]
HOSTILE_VALUES = [
    "%ff",
    "%00",
    "-1",
    "1e309",
    "NaN",
    "9" * 400,
    "true,false",
    "a" * 5000,
]
WRONG_TYPES = [
    "application/xml",
    "text/plain",
    "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=x",
    "application/json-patch+json",
    "image/png",
]
DEEP = b"[" * 100_000
BAD_UTF8 = b'{"ip": "\xff\xfe\xc0\xaf"}'
JUNK_JSON = [
    b"null",
    b"1",
    b'"x"',
    b"[]",
    b"{}",
    b"[null, 1, {}]",
    b'{"a": ' * 900 + b"1" + b"}" * 900,
]


class Walk:
    """One app, its contract, the credentials each route needs."""

    def __init__(self, data: Path) -> None:
        overrides = {
            "data_dir": str(data),
            "snapshot_check_interval": 0,
            "max_body_bytes": CAP,
            "sensor_max_body_bytes": CAP,
        }
        key = api_key(data)
        self.app: SikkerApp = create_app(load_config(overrides=overrides, environ={}))
        self.client = falcon.testing.TestClient(self.app, headers=bearer(key))
        self.contract = Contract(self.app)
        _, self.sensor_token = SensorRegistry(data).add("hostile")
        self.failures: list[str] = []

    def headers(self, template: str) -> dict[str, str]:
        """Return valid credentials for a route, so the input is what is wrong."""
        if template.startswith("/v1/sensor/"):
            return {"Authorization": f"Bearer {self.sensor_token}"}
        if template.startswith("/v1/account"):
            return basic("tester@example.com", PASSWORD)
        return {}  # the client sends an API key

    def cap(self, path: str) -> int:
        """Return the body cap of the resource serving ``path``."""
        resource = self.app._router.find(path)[0]
        return int(getattr(resource, "max_body_bytes", None) or CAP)

    def request(
        self, method: str, path: str, expect: set[int] | None = None, **kwargs: Any
    ) -> falcon.testing.Result:
        """Send one request; record (not raise) what is wrong with the answer."""
        query = kwargs.pop("query_string", None)
        result = self.client.simulate_request(
            method, path, query_string=query, **kwargs
        )
        label = f"{method} {path[:80]}{'?' + query[:60] if query else ''}"
        try:
            self.contract.check(method, path, result)
            if expect is not None:
                assert result.status_code in expect, (
                    f"{result.status_code} not in {sorted(expect)}: {result.text[:200]}"
                )
        except AssertionError as ex:
            self.failures.append(f"{label}: {ex}")
        return result


def _routes(app: falcon.App) -> list[tuple[str, set[str]]]:
    out: dict[str, set[str]] = {}
    for route in falcon.inspect.inspect_routes(app):
        out[route.path] = {m.method for m in route.methods if not m.internal}
    return sorted(out.items())


def _fill(template: str, **values: str) -> str:
    return re.sub(
        r"{(\w+)}", lambda m: values.get(m[1], PATH_VALUES.get(m[1], "x")), template
    )


@pytest.fixture(scope="module")
def shared_walk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Walk]:
    data = tmp_path_factory.mktemp("data")
    build(data)
    yield Walk(data)


@pytest.fixture
def walk(shared_walk: Walk) -> Walk:
    """The module's app, with no failures left over from another test."""
    shared_walk.failures = []
    return shared_walk


ROUTES = _routes(create_app(load_config(environ={})))


@pytest.mark.parametrize(("template", "methods"), ROUTES, ids=[r[0] for r in ROUTES])
def test_hostile_paths_and_queries_never_fail_the_server(
    walk: Walk, template: str, methods: set[str]
) -> None:
    headers = walk.headers(template)
    for method in sorted(methods & {"GET", "DELETE"}):
        names = re.findall(r"{(\w+)}", template)
        for name in names:
            for segment in HOSTILE_SEGMENTS:
                walk.request(
                    method, _fill(template, **{name: segment}), headers=headers
                )
        for query in HOSTILE_QUERIES:
            walk.request(method, _fill(template), query_string=query, headers=headers)
        operation = walk.contract.operation(method, template)
        for param in operation.get("parameters", []):
            if param["in"] != "query":
                continue
            for value in HOSTILE_VALUES:
                walk.request(
                    method,
                    _fill(template),
                    query_string=f"{param['name']}={value}",
                    headers=headers,
                )
    assert not walk.failures, "\n".join(walk.failures[:20])


@pytest.mark.parametrize(("template", "methods"), ROUTES, ids=[r[0] for r in ROUTES])
def test_wrong_methods_are_405_with_allow(
    walk: Walk, template: str, methods: set[str]
) -> None:
    path = _fill(template)
    for method in sorted(set(falcon.HTTP_METHODS) - methods - {"OPTIONS"}):
        result = walk.request(method, path, expect={405})
        allowed = {m.strip() for m in result.headers.get("Allow", "").split(",")}
        if not methods <= allowed:
            walk.failures.append(f"{method} {path}: Allow {allowed} lacks {methods}")
    assert not walk.failures, "\n".join(walk.failures[:20])


def _body_operations() -> list[tuple[str, str]]:
    """Return the operations that read a body (a DELETE only if it has one)."""
    described = Contract(create_app(load_config(environ={})))
    return [
        (method, template)
        for template, methods in ROUTES
        for method in sorted(methods & {"POST", "PUT", "PATCH", "DELETE"})
        if method != "DELETE"
        or described.operation(method, template).get("requestBody")
    ]


def _media(walk: Walk, method: str, template: str) -> str:
    """Return the body type to send: the operation's JSON type if it has one."""
    operation = walk.contract.operation(method, template)
    media = list(operation.get("requestBody", {}).get("content", {}))
    return next((m for m in media if "json" in m), media[0] if media else "")


@pytest.mark.parametrize(("method", "template"), _body_operations())
def test_hostile_bodies_are_4xx_in_the_error_shape(
    walk: Walk, method: str, template: str
) -> None:
    path = _fill(template)
    auth = walk.headers(template)
    media = _media(walk, method, template) or "application/json"
    headers = {**auth, "Content-Type": media}
    cap = walk.cap(path)
    walk.request(method, path, {413}, headers=headers, body=b"[" + b" " * cap)
    chunked = {"wsgi.input_terminated": True, "CONTENT_LENGTH": ""}
    walk.request(
        method, path, {413}, headers=headers, body=b" " * (cap + 1), extras=chunked
    )
    # An operation the document marks x-refused (TAXII's read-only
    # collections) answers that refusal to any body it would accept.
    refused = walk.contract.operation(method, template).get("x-refused")
    refusal = {int(refused)} if refused else set()
    bad = ({400} if "json" in media else {400, 415, 422}) | refusal
    walk.request(method, path, bad, headers=headers, body=DEEP[: min(cap, 10_000)])
    walk.request(method, path, bad, headers=headers, body=BAD_UTF8)
    walk.request(method, path, bad, headers=headers, body=b'{"a": tru')
    walk.request(method, path, {400, 422} | refusal, headers=headers, body=b"")
    for junk in JUNK_JSON:
        walk.request(
            method, path, {200, 201, 400, 422} | refusal, headers=headers, body=junk
        )
    accepted = set(
        walk.contract.operation(method, template)
        .get("requestBody", {})
        .get("content", {})
    )
    for wrong in WRONG_TYPES:
        if accepted and wrong.split(";")[0] not in accepted:
            walk.request(
                method, path, {415}, headers={**auth, "Content-Type": wrong}, body=b"x"
            )
    assert not walk.failures, "\n".join(walk.failures[:20])


HUGE_FIELD = b'"' + b"x" * 140_000 + b'"'
HOSTILE_CSV = [
    b"45.155.205.7,spam,ssh," + HUGE_FIELD + b"\n45.155.205.8,spam\n",
    b"45.155.205.7,spam,ssh," + HUGE_FIELD,
    b'45.155.205.7,"unterminated\n45.155.205.8,spam\n',
    b"45.155.205.7,spam,ssh,a\x00b\n\x00\n",
    b"45.155.205.7,spam,ssh,\xff\xfe\xc0\xaf\n",
    b"\xef\xbb\xbfIP,Category,Protocol,Comment\r\n",
    b",,,,,,,,\n;;;;\n\r\r\n",
    b"45.155.205.7" + b",x" * 20_000 + b"\n",
    b"45.155.205.7,spam\r" * 2000,
    b"45.155.205.7\n" * 10_001,
]


def _text_operations() -> list[tuple[str, str, str]]:
    """Return (method, template, media) of every operation taking CSV or text."""
    described = Contract(create_app(load_config(environ={})))
    return [
        (method, template, media)
        for method, template in _body_operations()
        for media in described.operation(method, template)
        .get("requestBody", {})
        .get("content", {})
        if media in {"text/csv", "text/plain"}
    ]


@pytest.mark.parametrize(("method", "template", "media"), _text_operations())
def test_hostile_csv_and_text_bodies_are_row_errors_or_4xx(
    walk: Walk, method: str, template: str, media: str
) -> None:
    headers = {**walk.headers(template), "Content-Type": media}
    for body in HOSTILE_CSV:
        walk.request(
            method, _fill(template), {200, 400, 413}, headers=headers, body=body
        )
    assert not walk.failures, "\n".join(walk.failures[:20])


def test_an_unexpected_error_is_a_500_without_a_traceback(
    walk: Walk, monkeypatch: pytest.MonkeyPatch
) -> None:
    def explode(*args: Any) -> None:
        raise RuntimeError("secret internals /etc/sikker")

    monkeypatch.setattr(walk.app.store, "current", explode)
    result = walk.client.simulate_get("/v1/key/check/203.0.113.10")
    assert result.status_code == 500
    assert result.json["code"] == "internal_error"
    assert "secret" not in result.text and "Traceback" not in result.text
