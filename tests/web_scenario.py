"""Requests that exercise every web operation, for tests/test_openapi.py.

Forms need a session or an anonymous CSRF cookie and the matching token;
they are made here directly (the server secret, the session store), so the
scenario stays a plain list of requests. The app must list
``tester@example.com`` in ``admin_emails``.
"""

from typing import Any
from urllib.parse import urlencode

from sikker.core import apikeys
from sikker.core.alerts import AlertStore
from sikker.core.handles import shared
from sikker.core.removals import RemovalStore
from sikker.server.web import csrf
from sikker.server.web.sessions import SessionStore

FORM = "application/x-www-form-urlencoded"
TESTER = "tester@example.com"

Step = tuple[str, str, dict[str, Any], int]


def _form(cookie: str, value: str, fields: dict[str, str], token: str) -> dict:
    return {
        "cookies": {cookie: value},
        "headers": {"Content-Type": FORM},
        "body": urlencode({"csrf": token, **fields}),
    }


def web_scenario(app: Any) -> list[Step]:
    """Return (method, path, kwargs, status) steps covering every web route."""
    data = app.config.data_path
    secret = apikeys.load_secret(data)
    accounts = app.keyed.service.store()
    me = accounts.user(TESTER)
    session = shared(SessionStore, data).create(me.id, 3600)
    ending = shared(SessionStore, data).create(me.id, 3600)
    anon = "anonymous-browser-seed"

    def mine(fields: dict[str, str], token_of: str = session) -> dict:
        return _form(
            csrf.SESSION_COOKIE, token_of, fields, csrf.token_for(secret, token_of)
        )

    def anonymous(fields: dict[str, str]) -> dict:
        return _form(csrf.ANON_COOKIE, anon, fields, csrf.token_for(secret, anon))

    signed_in = {"cookies": {csrf.SESSION_COOKIE: session}}
    spare_key = accounts.create_key(me.id, "spare for the web")[0].id
    alert = shared(AlertStore, data).create(me.id, "ip", "45.33.99.3", None, None, None)
    request = shared(RemovalStore, data).create(
        {"ip": "45.33.99.4", "email": "o@example.net", "reason": "mine"}, "", 100
    )
    csv = (
        f'--b\r\nContent-Disposition: form-data; name="csrf"\r\n\r\n'
        f"{csrf.token_for(secret, session)}\r\n"
        '--b\r\nContent-Disposition: form-data; name="file"; filename="r.csv"\r\n'
        "Content-Type: text/csv\r\n\r\n45.33.99.5,brute_force\r\n--b--\r\n"
    )
    return [
        ("GET", "/", {}, 200),
        ("GET", "/lookup", {"params": {"ip": "203.0.113.10"}}, 200),
        ("GET", "/lookup", {"params": {"ip": "not-an-ip"}}, 400),
        ("GET", "/catalog", {"params": {"severity": "critical"}}, 200),
        ("GET", "/catalog/host-fingerprinting", {}, 200),
        ("GET", "/catalog/nothing-like-it", {}, 404),
        ("GET", "/landscape", {}, 200),
        ("GET", "/export", {"params": {"onlyCountries": "CN"}}, 200),
        ("GET", "/export/preview", {"params": {"protocols": "ssh"}}, 200),
        ("GET", "/export/preview", {"params": {"scoreMinimum": "101"}}, 400),
        ("GET", "/export/download", {**signed_in, "params": {"limit": "2"}}, 200),
        ("GET", "/export/download", {}, 401),
        ("GET", "/signup", {}, 200),
        (
            "POST",
            "/signup",
            anonymous({"email": "web@example.com", "password": "a long password"}),
            303,
        ),
        ("POST", "/signup", anonymous({"email": "x"}), 400),
        ("GET", "/signin", {"params": {"next": "/report"}}, 200),
        (
            "POST",
            "/signin",
            anonymous({"email": TESTER, "password": "correct horse battery staple"}),
            303,
        ),
        (
            "POST",
            "/signin",
            {"headers": {"Content-Type": FORM}, "body": "email=a&password=b"},
            400,
        ),
        ("POST", "/signin", anonymous({"email": TESTER, "password": "wrong"}), 400),
        ("POST", "/signout", mine({}, ending), 303),
        ("POST", "/signout", {**mine({}), "body": "csrf=" + "0" * 40}, 403),
        ("GET", "/account", signed_in, 200),
        ("GET", "/account", {}, 401),
        ("POST", "/account/keys", mine({"name": "web"}), 200),
        ("POST", f"/account/keys/{spare_key}/revoke", mine({}), 303),
        ("POST", "/account/keys/aaaaaaaaaaaa/revoke", mine({}), 404),
        ("POST", "/account/alerts", mine({"kind": "ip", "value": "45.33.99.6"}), 303),
        ("POST", "/account/alerts", mine({"kind": "ip", "value": "10.0.0.1"}), 400),
        ("POST", f"/account/alerts/{alert.id}/delete", mine({}), 303),
        ("GET", "/report", signed_in, 200),
        (
            "POST",
            "/report",
            mine({"ip": "45.33.99.8", "category": "brute_force"}),
            200,
        ),
        ("GET", "/bulk-report", signed_in, 200),
        (
            "POST",
            "/bulk-report",
            {
                **signed_in,
                "headers": {"Content-Type": "multipart/form-data; boundary=b"},
                "body": csv,
            },
            200,
        ),
        ("GET", "/removal", {}, 200),
        (
            "POST",
            "/removal",
            anonymous({"ip": "45.33.99.9", "email": "me@example.net", "reason": "x"}),
            200,
        ),
        ("GET", "/admin/removals", signed_in, 200),
        (
            "POST",
            f"/admin/removals/{request['id']}",
            mine({"decision": "reject", "note": "still attacking"}),
            303,
        ),
        ("GET", "/static/site.css", {}, 200),
        ("GET", "/static/nope.css", {}, 404),
    ]
