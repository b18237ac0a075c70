"""Hostile HTTP against the real server on 127.0.0.1: gunicorn, and nginx in front.

Raw sockets send what no HTTP client would: bodies above the cap (declared
and chunked), 100,000 nested arrays, invalid UTF-8 in bodies, query strings
and paths, CSV files with huge fields, and slow clients that trickle their
request head or body. Each gets the right 4xx in the one JSON error shape.
Slow clients go through the shipped nginx site
(``integrations/nginx/sikker-proxy.conf``), gunicorn's documented defence
for its sync workers: while they trickle, other clients are answered. The
last test checks that the server is still healthy and that no worker died
or logged a traceback. ``tests/test_bad_input.py`` walks the same kinds of
input through every route in process.
"""

import re
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import pytest

from sikker.core.config import load_config
from sikker.core.sensors import SensorRegistry
from sikker.server.openapi import build as build_document
from tests.factories import PASSWORD, api_key, basic, bearer, build
from tests.stack import answer, gunicorn, nginx, raw
from tests.test_gunicorn import get
from tests.tools import need_root

pytestmark = pytest.mark.slow

#: The body caps of the server under test (100,000 nested arrays fit).
CAP = 128 * 1024
CSV_CAP = 300_000
DEEP = b"[" * 100_000
#: A valid value for each path parameter, so that only the body is wrong.
PATH_VALUES = {"ip": "203.0.113.10", "collection_id": "sikker-threat-intel"}
#: Lines of the server log that mean a worker died or a request crashed.
BAD_LOG = re.compile(
    r"Traceback|WORKER TIMEOUT|SIGKILL|RecursionError|unhandled error|Worker exiting"
)


@dataclass
class Stack:
    """The server under test, its nginx, its log and its credentials."""

    app: int  # gunicorn's port
    proxy: int  # nginx's port
    log: Path
    key: str
    sensor: str

    def auth(self, path: str) -> dict[str, str]:
        """Return working credentials for ``path``, so the input is what is wrong."""
        if path.startswith("/v1/sensor/"):
            return bearer(self.sensor)
        if path.startswith("/v1/account"):
            return basic("tester@example.com", PASSWORD)
        return bearer(self.key)

    def request(
        self,
        method: str,
        path: str,
        body: bytes = b"",
        headers: dict[str, str] | None = None,
        port: int | None = None,
    ) -> tuple[int, dict[str, str], bytes]:
        """Send one request (Content-Length unless chunked); return the answer."""
        fields = {"Host": "sikker.test", "Connection": "close", **self.auth(path)}
        fields.update(headers or {})
        if "Transfer-Encoding" not in fields and "Content-Length" not in fields:
            fields["Content-Length"] = str(len(body))
        head = f"{method} {path} HTTP/1.1\r\n" + "".join(
            f"{name}: {value}\r\n" for name, value in fields.items()
        )
        return answer(raw(port or self.app, head.encode("latin-1") + b"\r\n" + body))


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    need_root()  # nginx runs as root in its test configuration
    tmp = tmp_path_factory.mktemp("hostile")
    data = tmp / "data"
    build(data)
    key = api_key(data)
    _, sensor = SensorRegistry(data).add("hostile")
    caps = {
        "max_body_bytes": str(CAP),
        "bulk_max_body_bytes": str(CAP),
        "sensor_max_body_bytes": str(CAP),
        "report_csv_max_bytes": str(CSV_CAP),
    }
    caps["bulk_max_body_bytes"] = str(2 * CSV_CAP)  # room for a CSV above its cap
    log = tmp / "server.log"
    with gunicorn(data, log, **caps) as app, nginx(tmp / "nginx", app) as proxy:
        yield Stack(app, proxy, log, key, sensor)


def assert_error(
    status: int, headers: dict[str, str], body: bytes, expected: set[int]
) -> dict[str, Any]:
    """Assert a 4xx in the one JSON error shape (TAXII's under /taxii2/)."""
    assert status in expected, (status, body[:300])
    assert b"Traceback" not in body
    error = orjson.loads(body)
    if headers.get("content-type", "").startswith("application/taxii+json"):
        assert error["http_status"] == str(status), error
    else:
        assert headers.get("content-type", "").startswith("application/json")
        assert (error["status"], type(error["error"])) == (status, str), error
    return dict(error)


def _fill(template: str) -> str:
    return re.sub(r"{(\w+)}", lambda m: PATH_VALUES.get(m[1], "x"), template)


def _json_operations() -> list[tuple[str, str, str, set[int]]]:
    """Return (method, path, media type, refusal) of every JSON-body operation."""
    document = build_document(load_config(environ={}))
    found = []
    for template, item in sorted(document["paths"].items()):
        for method, operation in sorted(item.items()):
            content = operation.get("requestBody", {}).get("content", {})
            media = next((m for m in content if "json" in m), None)
            if media is None:
                continue
            refused = operation.get("x-refused")
            refusal = {int(refused)} if refused else set()
            found.append((method.upper(), _fill(template), media, refusal))
    return found


BODY_ROUTES = ["/v1/key/report", "/v1/key/bulk-check-inline", "/v1/sensor/events"]


@pytest.mark.parametrize("path", BODY_ROUTES)
def test_a_declared_body_above_the_cap_is_413_before_it_is_sent(
    stack: Stack, path: str
) -> None:
    cap = 2 * CSV_CAP if "bulk" in path else CAP
    status, headers, body = stack.request(
        "POST",
        path,
        headers={"Content-Type": "application/json", "Content-Length": str(cap + 1)},
    )
    error = assert_error(status, headers, body, {413})
    assert error["code"] == "payload_too_large"


@pytest.mark.parametrize("path", BODY_ROUTES)
def test_a_chunked_body_above_the_cap_is_413(stack: Stack, path: str) -> None:
    cap = 2 * CSV_CAP if "bulk" in path else CAP
    chunk = b" " * 16384
    chunks = b"".join(
        b"%x\r\n%s\r\n" % (len(chunk), chunk) for _ in range(cap // len(chunk) + 1)
    )
    status, headers, body = stack.request(
        "POST",
        path,
        chunks + b"0\r\n\r\n",
        {"Content-Type": "application/json", "Transfer-Encoding": "chunked"},
    )
    assert_error(status, headers, body, {413})


def test_a_body_above_the_proxy_limit_is_413_in_the_error_shape(stack: Stack) -> None:
    status, headers, body = stack.request(
        "POST",
        "/v1/key/report",
        headers={"Content-Type": "application/json", "Content-Length": "17000000"},
        port=stack.proxy,
    )
    error = assert_error(status, headers, body, {413})
    assert error["code"] == "payload_too_large"


@pytest.mark.parametrize(
    ("method", "path", "media", "refusal"),
    _json_operations(),
    ids=[f"{m} {p}" for m, p, _, _ in _json_operations()],
)
def test_deeply_nested_json_is_a_400_not_a_recursion_error(
    stack: Stack, method: str, path: str, media: str, refusal: set[int]
) -> None:
    # 16,000 levels fit every route's cap (alerts and removal requests take
    # 16 KiB); 100,000 levels are a 400 too where the cap lets them in.
    status, headers, body = stack.request(
        method, path, DEEP[:16_000], {"Content-Type": media}
    )
    assert_error(status, headers, body, {400} | refusal)
    status, headers, body = stack.request(method, path, DEEP, {"Content-Type": media})
    assert_error(status, headers, body, {400, 413} | refusal)


def test_invalid_utf8_in_a_json_body_is_a_400(stack: Stack) -> None:
    status, headers, body = stack.request(
        "POST",
        "/v1/key/report",
        b'{"ip": "45.155.205.7", "category": "spam", "comment": "\xff\xfe\xc0\xaf"}',
        {"Content-Type": "application/json"},
    )
    assert_error(status, headers, body, {400})


@pytest.mark.parametrize(
    "target",
    [
        "/v1/key/check/%ff%fe",
        "/v1/key/check/203.0.113.10%c0%af",
        "/v1/key/blacklist?onlyCountries=%ff%fe",
        "/v1/key/blacklist?scoreMinimum=%c0%af",
        "/v1/key/check-block?network=%ff.0.0.0/24",
        "/v1/key/reports/%ff%fe?limit=%ff",
        "/v1/key/username/%ff%fe",
        "/v1/key/email/a%c0%af@example.com",
        "/v1/key/ip-alerts/%ff",
    ],
)
def test_invalid_utf8_in_paths_and_queries_is_a_400(stack: Stack, target: str) -> None:
    status, headers, body = stack.request("GET", target)
    assert_error(status, headers, body, {400})


def test_raw_invalid_utf8_bytes_in_a_path_are_refused_without_a_5xx(
    stack: Stack,
) -> None:
    request = (
        b"GET /v1/key/check/\xff\xfe HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
        + f"Authorization: Bearer {stack.key}\r\n\r\n".encode()
    )
    # gunicorn itself refuses a request line that is not ASCII (its own page)
    status, _, body = answer(raw(stack.app, request))
    assert status == 400 and b"Traceback" not in body


def test_a_name_that_is_not_utf8_is_a_400_not_a_lookup(stack: Stack) -> None:
    # Falcon would read %ff as U+FFFD and look up that name (a 404).
    status, headers, body = stack.request("GET", "/v1/key/username/root%ff")
    error = assert_error(status, headers, body, {400})
    assert error["code"] == "invalid_encoding"


def test_a_csv_field_larger_than_the_csv_module_allows_is_an_error_of_its_row(
    stack: Stack,
) -> None:
    csv = (
        b"IP,Category,Protocol,Comment\n"
        b'45.155.205.7,spam,ssh,"' + b"x" * 140_000 + b'"\n'
        b"45.155.205.8,brute_force,ssh,short\n"
    )
    status, _, body = stack.request(
        "POST", "/v1/key/bulk-report", csv, {"Content-Type": "text/csv"}
    )
    result = orjson.loads(body)
    assert status == 200, body[:300]
    assert (result["accepted"], result["rejected"]) == (1, 1)
    assert result["errors"][0]["row"] == 2
    assert "field larger than field limit" in result["errors"][0]["error"]


def test_a_csv_of_huge_fields_only_is_a_400_listing_each_row(stack: Stack) -> None:
    field = b'"' + b"y" * 135_000 + b'"'
    csv = b"45.155.205.7,spam,ssh," + field + b"\n45.155.205.8,spam,ssh," + field
    status, headers, body = stack.request(
        "POST", "/v1/key/bulk-report", csv, {"Content-Type": "text/csv"}
    )
    error = assert_error(status, headers, body, {400})
    assert error["code"] == "no_valid_reports"
    assert [e["row"] for e in error["errors"]] == [1, 2]


def test_a_csv_above_its_own_cap_is_413(stack: Stack) -> None:
    csv = b"45.155.205.7,spam,ssh," + b"z" * CSV_CAP + b"\n"
    status, headers, body = stack.request(
        "POST", "/v1/key/bulk-report", csv, {"Content-Type": "text/csv"}
    )
    assert_error(status, headers, body, {413})


class SlowClients:
    """Connections to ``port`` that trickle a request a byte at a time until stopped."""

    def __init__(self, port: int, count: int, request: bytes) -> None:
        self.stop = threading.Event()
        self.sent = threading.Semaphore(0)
        self.threads = [
            threading.Thread(target=self._trickle, args=(port, request), daemon=True)
            for _ in range(count)
        ]
        self.closed_early = 0

    def _trickle(self, port: int, request: bytes) -> None:
        with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
            first = True
            for byte in request:
                try:
                    sock.sendall(bytes([byte]))
                except OSError:  # the server gave up on this client
                    self.closed_early += 1
                    break
                if first:
                    self.sent.release()
                    first = False
                if self.stop.wait(0.5):
                    break

    def __enter__(self) -> "SlowClients":
        for thread in self.threads:
            thread.start()
        for _ in self.threads:  # every one has started its request
            self.sent.acquire(timeout=30)
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=30)


def _others_are_answered(stack: Stack, port: int) -> None:
    """Fast clients get their answers while the slow ones are still sending."""
    base = f"http://127.0.0.1:{port}"
    for _ in range(10):
        assert get(f"{base}/healthz")[0] == 200
        status, body = get(f"{base}/v1/key/check/203.0.113.10", stack.key)
        assert status == 200 and orjson.loads(body)["confidenceLevel"] == 97


def test_slowloris_clients_do_not_starve_others_behind_nginx(stack: Stack) -> None:
    head = b"GET /healthz HTTP/1.1\r\nHost: x\r\n" + b"X-Slow: " + b"a" * 400
    # 32 slow heads: 16 times gunicorn's two sync workers
    with SlowClients(stack.proxy, 32, head):
        _others_are_answered(stack, stack.proxy)


def test_a_slow_body_does_not_starve_others_behind_nginx(stack: Stack) -> None:
    body = b'{"ip": "45.155.205.7", "category": "spam"}'
    head = (
        b"POST /v1/key/report HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        + f"Authorization: Bearer {stack.key}\r\n".encode()
        + b"Content-Length: %d\r\n\r\n" % (len(body) + 400)
    )
    with SlowClients(stack.proxy, 8, head + body + b" " * 400):
        _others_are_answered(stack, stack.proxy)


def test_nginx_hangs_up_on_a_head_that_never_ends(stack: Stack, tmp_path: Path) -> None:
    head = b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 4000
    with nginx(tmp_path, stack.app, client_header_timeout="2s") as proxy:
        slow = SlowClients(proxy, 2, head)
        with slow:
            for thread in slow.threads:
                thread.join(timeout=30)  # they end when nginx closes them
        assert slow.closed_early == 2


def test_after_all_of_it_the_server_is_healthy_and_logged_no_crash(
    stack: Stack,
) -> None:
    assert get(f"http://127.0.0.1:{stack.app}/healthz")[0] == 200
    assert get(f"http://127.0.0.1:{stack.proxy}/healthz")[0] == 200
    log = stack.log.read_text()
    assert "Booting worker" in log  # the log is the server's
    assert not BAD_LOG.findall(log), log[-3000:]
