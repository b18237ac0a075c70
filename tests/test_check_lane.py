"""The check lane answers exactly what the full Falcon app answers.

Two apps serve copies of one data directory (same snapshot, secret, keys
and plans): one with the lane, one without. Every request goes to both;
status, headers (in order), body, quota counts and request counters must
match, whether or not the lane took the request.
"""

import base64
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import falcon.testing
import pytest

from sikker.core.apikeys import key_id_of
from sikker.server.app import SikkerApp
from sikker.server.auth import KeyAuth
from sikker.server.body_limit import BodyLimit
from sikker.server.metrics_middleware import RequestMetrics
from sikker.server.path_encoding import Utf8Paths
from sikker.server.taxii.media import TaxiiMedia
from sikker.server.web.html_errors import HtmlErrors
from tests.factories import build
from tests.keyed import Clock, close, keyed_app, new_key, write_plans

NOON = 1_795_438_800.25
CHECK = "/v1/key/check/"
Answer = tuple[str, list[tuple[str, str]], bytes]


class Counted:
    """A lane that counts the requests it answered itself."""

    def __init__(self, lane: Callable[..., Any]) -> None:
        self.lane = lane
        self.answered = 0

    def __call__(self, env: dict[str, Any], start_response: Any) -> Any:
        answer = self.lane(env, start_response)
        self.answered += answer is not None
        return answer


class Pair:
    """An app with the lane and one without, over copies of one data directory."""

    def __init__(self, root: Path) -> None:
        first, second = root / "with-lane", root / "without-lane"
        build(first)
        plans = str(write_plans(first))
        setup = keyed_app(first, plans_path=plans)
        self.tiny = new_key(setup, "alice@example.com")  # 3 lookups a day
        self.big = new_key(setup, "bob@example.com", "big")  # 30
        close(setup)
        shutil.copytree(first, second)
        self.apps = [
            keyed_app(data, plans_path=plans, auth_cache_seconds=3600)
            for data in (first, second)
        ]
        for app in self.apps:
            app.keyed.service.clock = Clock(NOON)
        self.lane = Counted(self.apps[0].check_lane)  # type: ignore[arg-type]
        self.apps[0].check_lane = self.lane  # type: ignore[assignment]
        self.apps[1].check_lane = None

    def send(self, path: str, method: str = "GET", **headers: str) -> Answer:
        """Send one request to both apps; they must answer alike."""
        ours, reference = (answer(app, method, path, headers) for app in self.apps)
        assert ours == reference, (method, path, headers)
        return ours

    def check(self, ip: str, key: str) -> Answer:
        """Send a plain keyed check to both apps."""
        return self.send(CHECK + ip, Authorization=f"Bearer {key}")

    def close(self) -> None:
        for app in self.apps:
            close(app)


@pytest.fixture
def pair(tmp_path: Path) -> Iterator[Pair]:
    pair = Pair(tmp_path)
    yield pair
    pair.close()


def answer(app: SikkerApp, method: str, path: str, headers: dict[str, str]) -> Answer:
    """Call the WSGI app as gunicorn would; return status, headers and body."""
    path, _, query = path.partition("?")
    env = falcon.testing.create_environ(
        path="/", query_string=query, method=method, headers=headers
    )
    env["PATH_INFO"] = path  # decoded, non-ASCII bytes as latin-1, like gunicorn
    started: list[Any] = []

    def start_response(status: str, header_list: list[Any], exc: Any = None) -> None:
        started[:] = [status, list(header_list)]

    body = b"".join(app(env, start_response))
    return started[0], started[1], body


def counters(app: SikkerApp) -> Any:
    """Return an app's request counters per route and status class, and its 429s."""
    counts = app.metrics.table.read()
    routes = {route: (c.by_class, c.count) for route, c in counts.routes.items()}
    return routes, counts.rejections


def test_plain_checks_are_answered_by_the_lane_byte_for_byte(pair: Pair) -> None:
    for ip in ("203.0.113.10", "2001:db8::7", "198.51.100.20", "192.0.2.1", "::1"):
        status, headers, body = pair.check(ip, pair.big)
        assert status == "200 OK" and body.startswith(b'{"ip":')
        assert ("content-length", str(len(body))) in headers
    assert pair.lane.answered == 4  # the first check looked the key up


@pytest.mark.parametrize(
    ("path", "method", "headers"),
    [
        (CHECK + "999.1.1.1", "GET", {}),
        (CHECK + "not-an-ip", "GET", {}),
        (CHECK + "203.0.113.10/", "GET", {}),  # Falcon strips the slash
        (CHECK + "203.0.113.10/x", "GET", {}),
        (CHECK, "GET", {}),
        (CHECK + "1.2.3.\xc3\xa9", "GET", {}),  # UTF-8 bytes, as gunicorn decodes
        (CHECK + "1.2.3.\xff", "GET", {}),  # not UTF-8: 400
        (CHECK + "fe80::1%25eth0", "GET", {}),
        (CHECK + "203.0.113.10?explain=true", "GET", {}),
        (CHECK + "203.0.113.10?ignoreWhitelist=true", "GET", {}),
        (CHECK + "203.0.113.10?verbose", "GET", {}),
        (CHECK + "203.0.113.10", "HEAD", {}),
        (CHECK + "203.0.113.10", "POST", {}),
        (CHECK + "203.0.113.10", "OPTIONS", {}),
        (CHECK + "203.0.113.10", "GET", {"Accept": "text/html"}),
        (CHECK + "203.0.113.10", "GET", {"Content-Length": "5"}),
    ],
)
def test_unusual_checks_get_the_full_apps_answer(
    pair: Pair, path: str, method: str, headers: dict[str, str]
) -> None:
    pair.check("203.0.113.10", pair.big)  # the key is cached
    pair.check("203.0.113.10", pair.big)
    pair.send(path, method, Authorization=f"Bearer {pair.big}", **headers)
    assert counters(pair.apps[0]) == counters(pair.apps[1])


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "",
        "Bearer ",
        "Bearer sk_free_not-a-real-key",
        "bearer {key}",
        "Bearer   {key}  ",
        "Basic {basic}",
        "Token {key}",
    ],
)
def test_every_way_of_sending_a_key_gets_the_full_apps_answer(
    pair: Pair, authorization: str | None
) -> None:
    pair.check("203.0.113.10", pair.big)
    headers = {}
    if authorization is not None:
        basic = base64.b64encode(f"me:{pair.big}".encode()).decode()
        headers["Authorization"] = authorization.format(key=pair.big, basic=basic)
    for _ in range(2):  # the second one may be served from the key cache
        pair.send(CHECK + "198.51.100.20", **headers)
    pair.send(f"{CHECK}198.51.100.20?key={pair.big}")
    assert counters(pair.apps[0]) == counters(pair.apps[1])


def test_a_used_up_quota_is_the_full_apps_429_and_counts_nothing_more(
    pair: Pair,
) -> None:
    answers = [pair.check("203.0.113.10", pair.tiny)[0] for _ in range(5)]
    assert answers == ["200 OK"] * 3 + ["429 Too Many Requests"] * 2
    assert pair.lane.answered == 2
    status = pair.send("/v1/key/status", Authorization=f"Bearer {pair.tiny}")
    assert b'"lookups":{"used":3,"limit":3,"remaining":0}' in status[2]
    assert counters(pair.apps[0]) == counters(pair.apps[1])


def test_a_revoked_key_is_refused_by_the_lane_at_once(pair: Pair) -> None:
    for _ in range(3):
        pair.check("203.0.113.10", pair.big)
    key_id = key_id_of(pair.big)
    assert key_id is not None
    for app in pair.apps:
        app.keyed.service.store().revoke_key(key_id)
    status, _, body = pair.check("203.0.113.10", pair.big)
    assert status == "401 Unauthorized" and b"key_revoked" in body
    assert pair.lane.answered == 2


def test_no_snapshot_is_the_full_apps_503(tmp_path: Path) -> None:
    app = keyed_app(tmp_path / "empty")
    key = new_key(app, "carol@example.com")
    for _ in range(2):
        status, _, body = answer(
            app, "GET", CHECK + "203.0.113.10", {"Authorization": f"Bearer {key}"}
        )
        assert status == "503 Service Unavailable" and b"no_snapshot" in body
    close(app)


def test_the_app_has_only_the_middleware_the_lane_stands_in_for(tmp_path: Path) -> None:
    """A new middleware must do nothing to a plain check, or the lane must do it too
    (or leave such checks to the full app): then add it here."""
    app = keyed_app(tmp_path)
    found = {type(m) for m in app._unprepared_middleware}
    lane_knows = {Utf8Paths, BodyLimit, RequestMetrics, KeyAuth, TaxiiMedia, HtmlErrors}
    assert found == lane_knows
    close(app)
