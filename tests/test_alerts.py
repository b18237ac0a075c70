"""Watch alerts: CRUD, plan limits, ownership, matching, webhook delivery."""

import hashlib
import hmac
import http.server
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from sikker.builder.alert_delivery import Deliverer
from sikker.core.alerts import AlertStore, validate_webhook_url
from sikker.core.eventlog import EventLog
from sikker.core.handles import shared
from sikker.core.layout import EVENTS_DIR
from sikker.errors import InvalidAlertError
from tests.community import Env

T0 = 1_795_000_000_000


@pytest.fixture
def env(tmp_path: Path) -> Env:
    return Env(tmp_path, webhook_allow_private=True)


def login_events(ip: str, username: str = "root", sid: str = "s1") -> list[dict]:
    base = {"sensor": "hp-1", "session": sid, "src_ip": ip, "protocol": "ssh"}
    return [
        {**base, "ts": T0, "event": "connect", "dst_port": 22},
        {**base, "ts": T0 + 1, "event": "login_failed", "username": username},
    ]


def append(env: Env, events: list[dict]) -> None:
    shared(EventLog, env.data / EVENTS_DIR).append(events)


# -- CRUD -----------------------------------------------------------------------------


def test_an_ip_alert_is_created_listed_and_deleted(env: Env) -> None:
    resp = env.client.simulate_post(
        "/v1/key/ip-alerts", json={"ip": "45.155.205.7", "label": "web1"}
    )
    assert resp.status_code == 201, resp.text
    alert = resp.json
    assert alert["ip"] == "45.155.205.7" and alert["label"] == "web1"
    assert alert["enabled"] is True and alert["matchCount"] == 0
    assert alert["lastAlertedAt"] is None and alert["createdAt"].endswith("Z")
    assert resp.headers["Location"] == f"/v1/key/ip-alerts/{alert['id']}"
    listed = env.client.simulate_get("/v1/key/ip-alerts").json
    assert listed == {"alerts": [alert]}
    one = env.client.simulate_get(f"/v1/key/ip-alerts/{alert['id']}")
    assert one.json == alert
    gone = env.client.simulate_delete(f"/v1/key/ip-alerts/{alert['id']}")
    assert gone.status_code == 200 and gone.json["deleted"] is True
    assert env.client.simulate_get("/v1/key/ip-alerts").json == {"alerts": []}
    again = env.client.simulate_delete(f"/v1/key/ip-alerts/{alert['id']}")
    assert again.status_code == 404


def test_range_alerts_have_sikkerapis_fields(env: Env) -> None:
    resp = env.client.simulate_post(
        "/v1/key/range-alerts", json={"cidr": "45.155.205.9/24", "label": "office"}
    )
    assert resp.status_code == 201, resp.text
    alert = resp.json
    assert alert["cidr"] == "45.155.205.0/24"
    assert (alert["networkAddress"], alert["prefixLength"]) == ("45.155.205.0", 24)
    assert alert["uniqueMatches"] == 0 and alert["totalAlerts"] == 0
    assert alert["emailNotifications"] is False


def test_username_alerts_are_case_insensitive(env: Env) -> None:
    resp = env.client.simulate_post(
        "/v1/key/username-alerts", json={"username": "Admin"}
    )
    assert resp.status_code == 201 and resp.json["username"] == "admin"


def test_others_alerts_are_not_found(env: Env) -> None:
    created = env.client.simulate_post("/v1/key/ip-alerts", json={"ip": "45.155.205.7"})
    alert_id = created.json["id"]
    other = env.as_(env.new_key("other@example.com"))
    assert other.simulate_get("/v1/key/ip-alerts").json == {"alerts": []}
    assert other.simulate_get(f"/v1/key/ip-alerts/{alert_id}").status_code == 404
    assert other.simulate_delete(f"/v1/key/ip-alerts/{alert_id}").status_code == 404
    wrong_kind = env.client.simulate_delete(f"/v1/key/range-alerts/{alert_id}")
    assert wrong_kind.status_code == 404
    assert len(env.client.simulate_get("/v1/key/ip-alerts").json["alerts"]) == 1


def test_plans_limit_the_number_and_width_of_range_alerts(env: Env) -> None:
    free = env.as_(env.new_key("free@example.com", plan="free"))
    wide = free.simulate_post("/v1/key/range-alerts", json={"cidr": "45.155.205.0/27"})
    assert wide.status_code == 400 and "at most /28" in wide.json["error"]
    wide6 = free.simulate_post("/v1/key/range-alerts", json={"cidr": "2a02:c7f::/63"})
    assert wide6.status_code == 400 and "at most /64" in wide6.json["error"]
    ok = free.simulate_post("/v1/key/range-alerts", json={"cidr": "45.155.205.0/28"})
    assert ok.status_code == 201
    more = free.simulate_post("/v1/key/range-alerts", json={"cidr": "45.155.206.0/28"})
    assert more.status_code == 403 and more.json["code"] == "alert_limit_reached"
    for i in range(5):
        made = free.simulate_post("/v1/key/ip-alerts", json={"ip": f"45.1.1.{i + 1}"})
        assert made.status_code == 201
    sixth = free.simulate_post("/v1/key/ip-alerts", json={"ip": "45.1.1.9"})
    assert sixth.status_code == 403
    status = free.simulate_get("/v1/key/status").json["alerts"]
    assert status["ipAlerts"] == {"current": 5, "limit": 5}
    assert status["rangeAlerts"]["current"] == 1


def test_a_duplicate_alert_is_a_409(env: Env) -> None:
    env.client.simulate_post("/v1/key/ip-alerts", json={"ip": "45.155.205.7"})
    again = env.client.simulate_post(
        "/v1/key/ip-alerts", json={"ip": "::ffff:45.155.205.7"}
    )
    assert again.status_code == 409 and again.json["code"] == "alert_exists"


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/v1/key/ip-alerts", {"ip": "10.0.0.1"}, "ip"),
        ("/v1/key/ip-alerts", {"ip": "nope"}, "ip"),
        ("/v1/key/ip-alerts", {}, "ip"),
        ("/v1/key/range-alerts", {"cidr": "192.168.0.0/24"}, "cidr"),
        ("/v1/key/username-alerts", {"username": ""}, "username"),
        ("/v1/key/email-alerts", {"email": "no-at-sign"}, "email"),
        ("/v1/key/ip-alerts", {"ip": "45.1.1.1", "label": "x" * 101}, "label"),
        (
            "/v1/key/ip-alerts",
            {"ip": "45.1.1.1", "webhookUrl": "ftp://h/x"},
            "webhookUrl",
        ),
        (
            "/v1/key/ip-alerts",
            {"ip": "45.1.1.1", "webhookUrl": "http://"},
            "webhookUrl",
        ),
    ],
)
def test_bad_alert_definitions_are_400s_naming_the_field(
    env: Env, path: str, body: dict, field: str
) -> None:
    resp = env.client.simulate_post(path, json=body)
    assert resp.status_code == 400, resp.text
    assert resp.json["code"] == "invalid_alert" and resp.json["field"] == field


@pytest.mark.parametrize(
    ("url", "ok"),
    [
        ("https://hooks.example.com/sikker?token=1", True),
        ("http://45.155.205.50:8080/hook", True),
        ("http://127.0.0.1:9000/hook", False),
        ("http://[::1]/hook", False),
        ("http://10.1.2.3/hook", False),
        ("http://169.254.169.254/latest/meta-data", False),
        ("http://localhost/hook", False),
        ("http://metadata.internal/hook", False),
        ("javascript:alert(1)", False),
        ("https://exa mple.com/", False),
    ],
)
def test_webhook_urls_must_be_public_http(url: str, ok: bool) -> None:
    if ok:
        assert validate_webhook_url(url) == url
    else:
        with pytest.raises(InvalidAlertError):
            validate_webhook_url(url)
    if url.startswith("http://127."):
        assert validate_webhook_url(url, allow_private=True) == url


# -- matching -------------------------------------------------------------------------


def test_new_evidence_matches_ip_range_and_username_alerts_after_a_build(
    env: Env,
) -> None:
    client = env.client
    ip_alert = client.simulate_post(
        "/v1/key/ip-alerts", json={"ip": "45.155.205.7"}
    ).json
    net = client.simulate_post(
        "/v1/key/range-alerts", json={"cidr": "45.155.205.0/24"}
    ).json
    name = client.simulate_post(
        "/v1/key/username-alerts", json={"username": "oracle"}
    ).json
    client.simulate_post("/v1/key/ip-alerts", json={"ip": "45.155.1.1"})  # no evidence
    append(
        env,
        login_events("45.155.205.7", "Oracle") + login_events("45.155.205.8", sid="s2"),
    )
    builder = env.builder()
    try:
        env.step(builder)
        matches = client.simulate_get("/v1/key/alerts/matches").json
        kinds = sorted(
            (m["type"], m.get("ip") or m.get("username")) for m in matches["matches"]
        )
        assert kinds == [
            ("ip", "45.155.205.7"),
            ("range", "45.155.205.7"),
            ("range", "45.155.205.8"),
            ("username", "oracle"),
        ]
        first = next(m for m in matches["matches"] if m["type"] == "ip")
        assert first["alertId"] == ip_alert["id"] and first["found"] is True
        assert first["confidenceLevel"] >= 0 and first["totalSessions"] == 1
        by_name = next(m for m in matches["matches"] if m["type"] == "username")
        assert by_name["alertId"] == name["id"] and by_name["totalSessions"] == 1
        assert matches["next"] == max(m["id"] for m in matches["matches"])
        # More evidence within alert_repeat_seconds: no new match.
        append(env, login_events("45.155.205.7", sid="s3"))
        env.step(builder)
        later = client.simulate_get(
            "/v1/key/alerts/matches", params={"since": str(matches["next"])}
        ).json
        assert later == {"matches": [], "next": matches["next"]}
    finally:
        builder.close()
    listed = {
        a["id"]: a for a in client.simulate_get("/v1/key/range-alerts").json["alerts"]
    }
    assert listed[net["id"]]["uniqueMatches"] == 2
    assert listed[net["id"]]["totalAlerts"] == 2
    assert listed[net["id"]]["lastAlertedAt"] is not None
    other = env.as_(env.new_key("other@example.com"))
    assert other.simulate_get("/v1/key/alerts/matches").json["matches"] == []


def test_matches_repeat_once_the_window_has_passed(env: Env) -> None:
    env.client.simulate_post("/v1/key/ip-alerts", json={"ip": "45.155.205.7"})
    builder = env.builder()
    matcher: Any = builder.after_publish[0]
    now = [1_800_000_000.0]
    matcher.clock = lambda: now[0]
    try:
        append(env, login_events("45.155.205.7"))
        env.step(builder)
        append(env, login_events("45.155.205.7", sid="s2"))
        now[0] += 3601
        env.step(builder)
    finally:
        builder.close()
    assert len(env.client.simulate_get("/v1/key/alerts/matches").json["matches"]) == 2


# -- webhook delivery -----------------------------------------------------------------


class Receiver:
    """An HTTP server on 127.0.0.1 that answers with the given statuses."""

    def __init__(self, statuses: list[int]) -> None:
        self.statuses = statuses
        self.requests: list[tuple[str, dict[str, str], bytes]] = []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                outer.requests.append((self.path, dict(self.headers), body))
                status = outer.statuses.pop(0) if outer.statuses else 200
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook?x=1"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver([500])
    yield server
    server.close()


def test_a_match_is_posted_to_the_webhook_and_retried_after_a_failure(
    env: Env, receiver: Receiver
) -> None:
    created = env.client.simulate_post(
        "/v1/key/ip-alerts", json={"ip": "45.155.205.7", "webhookUrl": receiver.url}
    ).json
    secret = created["webhookSecret"]
    assert (
        "webhookSecret"
        not in env.client.simulate_get("/v1/key/ip-alerts").json["alerts"][0]
    )
    append(env, login_events("45.155.205.7"))
    env.step()
    now = [1_800_000_000.0]
    deliverer = Deliverer(
        shared(AlertStore, env.data),
        retry_seconds=30,
        allow_private=True,
        clock=lambda: now[0],
    )
    assert deliverer.run_once() == 1  # the receiver answers 500
    assert deliverer.run_once() == 0  # not due yet
    (match,) = env.client.simulate_get("/v1/key/alerts/matches").json["matches"]
    assert "delivery" not in match
    now[0] += 31
    assert deliverer.run_once() == 1  # delivered
    assert deliverer.run_once() == 0
    assert len(receiver.requests) == 2
    (path, first, body), (_, second, body2) = receiver.requests
    assert path == "/hook?x=1" and body == body2
    assert (first["X-Sikker-Attempt"], second["X-Sikker-Attempt"]) == ("1", "2")
    signature = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    assert second["X-Sikker-Signature"] == f"sha256={signature}"
    payload = orjson.loads(body)
    assert payload["alertId"] == created["id"] and payload["ip"] == "45.155.205.7"
    (match,) = env.client.simulate_get("/v1/key/alerts/matches").json["matches"]
    assert match["delivery"] == {"status": "delivered", "attempts": 2, "error": None}


def test_a_delivery_gives_up_after_the_last_attempt(env: Env) -> None:
    server = Receiver([500, 502, 503])
    try:
        env.client.simulate_post(
            "/v1/key/ip-alerts", json={"ip": "45.155.205.7", "webhookUrl": server.url}
        )
        append(env, login_events("45.155.205.7"))
        env.step()
        now = [1_800_000_000.0]
        store = shared(AlertStore, env.data)
        deliverer = Deliverer(
            store,
            max_attempts=3,
            retry_seconds=1,
            allow_private=True,
            clock=lambda: now[0],
        )
        for _ in range(3):
            assert deliverer.run_once() == 1
            now[0] += 10
        assert store.pending_deliveries() == 0
    finally:
        server.close()
    (match,) = env.client.simulate_get("/v1/key/alerts/matches").json["matches"]
    assert match["delivery"]["status"] == "failed"
    assert match["delivery"]["error"] == "HTTP 503 Service Unavailable"


def test_deliveries_to_private_addresses_are_refused_unless_allowed(
    env: Env, receiver: Receiver
) -> None:
    env.client.simulate_post(
        "/v1/key/ip-alerts", json={"ip": "45.155.205.7", "webhookUrl": receiver.url}
    )
    append(env, login_events("45.155.205.7"))
    env.step()
    deliverer = Deliverer(shared(AlertStore, env.data), max_attempts=1)
    assert deliverer.run_once() == 1
    assert receiver.requests == []
    (match,) = env.client.simulate_get("/v1/key/alerts/matches").json["matches"]
    assert "loopback" in match["delivery"]["error"]


def test_a_deleted_alerts_pending_deliveries_are_dropped(
    env: Env, receiver: Receiver
) -> None:
    alert = env.client.simulate_post(
        "/v1/key/ip-alerts", json={"ip": "45.155.205.7", "webhookUrl": receiver.url}
    ).json
    append(env, login_events("45.155.205.7"))
    env.step()
    env.client.simulate_delete(f"/v1/key/ip-alerts/{alert['id']}")
    deliverer = Deliverer(shared(AlertStore, env.data), allow_private=True)
    assert deliverer.run_once() == 0 and receiver.requests == []
