"""The web site's handlers: sessions, CSRF, rate limits, keys, reports, export."""

import copy
import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode

import falcon.testing
import pytest

from sikker.builder.importer import table_from_records
from sikker.builder.publish import Publisher
from sikker.builder.writer import Intel
from sikker.core.eventlog import EventLog
from sikker.core.handles import shared
from sikker.core.layout import EVENTS_DIR
from sikker.core.present import score_breakdown
from sikker.core.removals import RemovalStore
from sikker.server.app import SikkerApp
from tests.factories import BENIGN, CATALOG, PASSWORD, RECORDS, api_key, bearer, build
from tests.web_client import Browser, token, web_app

pytestmark = pytest.mark.filterwarnings("ignore::wsgiref.validate.WSGIWarning")

ADMIN = "admin@example.com"
PAGES = [
    "/",
    "/lookup",
    "/lookup?ip=203.0.113.10",
    "/lookup?ip=8.8.4.4",
    "/catalog",
    "/catalog?severity=critical&protocol=ssh",
    "/catalog/ssh-authorized-keys-persistence",
    "/landscape",
    "/export",
    "/export?onlyCountries=CN&protocols=ssh&protocols=telnet",
    "/signin",
    "/signup",
    "/removal",
]
SIGNED_IN_PAGES = ["/account", "/report", "/bulk-report"]


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("web")
    build(path)
    return path


@pytest.fixture(scope="module")
def app(data: Path) -> SikkerApp:
    return web_app(
        data,
        admin_emails=ADMIN,
        login_max_failures=1000,
        web_lookups_per_minute=1000,
    )


@pytest.fixture
def browser(app: SikkerApp) -> Browser:
    return Browser(app)


_counter = iter(range(10**6))


@pytest.fixture
def user(app: SikkerApp) -> Iterator[Browser]:
    """A browser signed in to a fresh account."""
    me = Browser(app)
    result = me.sign_up(f"user{next(_counter)}@example.com", PASSWORD)
    assert result.status_code == 303, result.text[:300]
    yield me


def test_every_page_renders_for_a_browser_with_the_security_headers(
    browser: Browser, user: Browser
) -> None:
    for who, pages in ((browser, PAGES), (user, PAGES + SIGNED_IN_PAGES)):
        for path in pages:
            result = who.get(path)
            assert result.status_code == 200, (path, result.text[:300])
            assert result.headers["Content-Type"] == "text/html; charset=utf-8"
            policy = result.headers["Content-Security-Policy"]
            assert "default-src 'none'" in policy and "script-src 'self'" in policy
            assert "frame-ancestors 'none'" in policy
            assert '<main id="main"' in result.text and 'lang="en"' in result.text


def test_a_lookup_shows_the_api_answer_and_why(
    app: SikkerApp, browser: Browser, data: Path
) -> None:
    page = browser.get("/lookup?ip=203.0.113.10").text
    key = api_key(data, store=app.keyed.service.store())
    api = falcon.testing.TestClient(app).simulate_get(
        "/v1/key/check/203.0.113.10", params={"explain": "true"}, headers=bearer(key)
    )
    answer = api.json
    assert f'<span class="big">{answer["confidenceLevel"]}</span>' in page
    for part in answer["scoreBreakdown"]:
        if part["name"] != "score":
            assert f"{part['points']:.2f}" in page, part
    snapshot = app.store.current()
    record = snapshot.lookup("203.0.113.10")
    assert record is not None
    assert answer["scoreBreakdown"] == score_breakdown(snapshot, record)
    for behavior in answer["behaviors"]:
        assert behavior["name"] in page
        for technique in behavior["mitre"]:
            path = technique.replace(".", "/")
            assert f"https://attack.mitre.org/techniques/{path}/" in page
    assert "CHINANET" in page and "brute_force" in page


def test_a_discounted_address_shows_its_raw_score_and_source(browser: Browser) -> None:
    page = browser.get("/lookup?ip=192.0.2.45").text
    assert "Googlebot" in page and '<span class="big">9</span>' in page
    assert "<dd>88</dd>" in page


def test_a_bad_address_is_a_400_page_for_browsers_and_json_for_programs(
    app: SikkerApp, browser: Browser
) -> None:
    page = browser.get("/lookup?ip=300.1.2.3")
    assert page.status_code == 400 and 'aria-invalid="true"' in page.text
    program = falcon.testing.TestClient(app).simulate_get(
        "/lookup", params={"ip": "300.1.2.3"}
    )
    assert program.status_code == 400
    assert program.json["code"] == "invalid_address"


def test_web_lookups_are_rate_limited_per_client_address(data: Path) -> None:
    app = web_app(data, web_lookups_per_minute=3, trusted_proxies="127.0.0.1")
    first, second = Browser(app, "198.51.100.1"), Browser(app, "198.51.100.2")
    for _ in range(3):
        assert first.get("/lookup?ip=203.0.113.10").status_code == 200
    refused = first.get("/lookup?ip=203.0.113.10")
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) >= 1
    assert "Slow down" in refused.text
    assert second.get("/lookup?ip=203.0.113.10").status_code == 200
    # Behind a trusted proxy the forwarded address is the client...
    proxy = Browser(app, "127.0.0.1")
    for client in ("203.0.113.50", "203.0.113.51"):
        forwarded = {"X-Forwarded-For": client}
        assert proxy.get("/lookup?ip=8.8.8.8", headers=forwarded).status_code == 200
    # ...but an untrusted peer cannot pick another budget by writing the header.
    spoofed = {"X-Forwarded-For": "203.0.113.99"}
    assert first.get("/lookup?ip=8.8.8.8", headers=spoofed).status_code == 429
    # The empty form costs nothing.
    assert first.get("/lookup").status_code == 200


def test_web_lookups_charge_no_quota(app: SikkerApp, user: Browser) -> None:
    for _ in range(3):
        assert user.get("/lookup?ip=203.0.113.10").status_code == 200
    usage = re.search(
        r"<th scope=\"row\">lookups</th><td>[^<]*</td>\s*<td class=\"num\">(\d+)",
        user.get("/account").text,
    )
    assert usage and usage.group(1) == "0"


def test_forms_without_this_browsers_csrf_token_are_refused(
    app: SikkerApp, browser: Browser
) -> None:
    fields = {"email": "x@example.com", "password": PASSWORD}
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    missing = browser.request("POST", "/signin", body=urlencode(fields), headers=form)
    assert missing.status_code == 400 and "csrf" in missing.text
    browser.get("/signin")  # gets its own anonymous cookie
    wrong = browser.request(
        "POST", "/signin", body=urlencode({**fields, "csrf": "0" * 40}), headers=form
    )
    assert wrong.status_code == 403
    other = Browser(app)
    stolen = token(other.get("/signin").text)  # another browser's token
    replayed = browser.request(
        "POST", "/signin", body=urlencode({**fields, "csrf": stolen}), headers=form
    )
    assert replayed.status_code == 403
    program = falcon.testing.TestClient(app).simulate_post(
        "/signout", body="csrf=" + "0" * 40, headers=form
    )
    assert program.status_code == 403 and program.json["code"] == "csrf_failed"


def test_sign_up_starts_a_session_with_a_safe_cookie(app: SikkerApp) -> None:
    me = Browser(app)
    result = me.sign_up("cookie@example.com", PASSWORD)
    assert result.status_code == 303 and result.headers["Location"] == "/account"
    cookie = result.cookies["sikker_session"]
    assert cookie.http_only and cookie.same_site == "Lax" and cookie.path == "/"
    assert not cookie.secure  # plain http on loopback
    assert cookie.max_age == 336 * 3600
    page = me.get("/account")
    assert page.status_code == 200 and "cookie@example.com" in page.text
    raw = result.headers.get("Set-Cookie", "")
    assert "HttpOnly" in raw and "SameSite=Lax" in raw


def test_the_session_cookie_is_secure_behind_an_https_proxy(tmp_path: Path) -> None:
    build(tmp_path)
    app = web_app(tmp_path, trusted_proxies="127.0.0.1")
    behind = Browser(app, "127.0.0.1")
    https = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.60"}
    page = behind.get("/signup", headers=https)
    body = urlencode(
        {"csrf": token(page.text), "email": "tls@example.com", "password": PASSWORD}
    )
    result = behind.request(
        "POST",
        "/signup",
        body=body,
        headers={**https, "Content-Type": "application/x-www-form-urlencoded"},
    )
    assert result.status_code == 303 and result.cookies["sikker_session"].secure
    direct = Browser(app, "198.51.100.9")  # not a proxy: the header is anyone's
    assert not direct.get("/signup", headers=https).cookies["sikker_csrf"].secure


def test_sign_in_and_sign_out(app: SikkerApp, data: Path) -> None:
    api_key(data, "signin@example.com", store=app.keyed.service.store())
    me = Browser(app)
    wrong = me.post("/signin", {"email": "signin@example.com", "password": "nope"})
    assert wrong.status_code == 400 and "wrong email or password" in wrong.text
    back = me.post(
        "/signin",
        {"email": "signin@example.com", "password": PASSWORD, "next": "/report"},
        form_page="/signin?next=/report",
    )
    assert back.status_code == 303 and back.headers["Location"] == "/report"
    session = me.cookies["sikker_session"]
    assert me.get("/account").status_code == 200
    out = me.post("/signout", {}, form_page="/account")
    assert out.status_code == 303 and "sikker_session" not in me.cookies
    again = Browser(app)
    again.cookies["sikker_session"] = session  # the old cookie is dead server-side
    assert again.get("/account").status_code == 303


def test_sign_in_only_returns_to_pages_of_this_site(app: SikkerApp, data: Path) -> None:
    api_key(data, "next@example.com", store=app.keyed.service.store())
    me = Browser(app)
    fields = {"email": "next@example.com", "password": PASSWORD}
    for target in ("https://evil.example/", "//evil.example/x", "/\\evil.example"):
        result = me.post("/signin", {**fields, "next": target})
        assert result.headers["Location"] == "/account", target


def test_signed_in_pages_send_browsers_to_sign_in_and_programs_a_401(
    app: SikkerApp, browser: Browser
) -> None:
    result = browser.get("/report?ip=203.0.113.10")
    assert result.status_code == 303
    assert result.headers["Location"] == "/signin?next=/report%3Fip%3D203.0.113.10"
    program = falcon.testing.TestClient(app).simulate_get("/account")
    assert program.status_code == 401 and program.json["code"] == "sign_in_required"
    assert "WWW-Authenticate" in program.headers


def test_a_new_api_key_is_shown_once_and_works(app: SikkerApp, user: Browser) -> None:
    created = user.post("/account/keys", {"name": "laptop"}, form_page="/account")
    assert created.status_code == 200
    assert created.headers["Cache-Control"] == "no-store"
    key = re.search(r'value="(sk_live_[^"]+)"', created.text)
    assert key
    plaintext = key.group(1)
    api = falcon.testing.TestClient(app)
    status = api.simulate_get("/v1/key/status", headers=bearer(plaintext))
    assert status.status_code == 200
    account = user.get("/account").text
    assert plaintext not in account and "laptop" in account
    key_id = plaintext.split("_")[2]
    assert key_id in account
    revoked = user.post(f"/account/keys/{key_id}/revoke", {}, form_page="/account")
    assert revoked.status_code == 303
    refused = api.simulate_get("/v1/key/status", headers=bearer(plaintext))
    assert refused.status_code == 401


def test_nobody_revokes_another_accounts_key(
    app: SikkerApp, user: Browser, data: Path
) -> None:
    other = api_key(data, "victim@example.com", store=app.keyed.service.store())
    key_id = other.split("_")[2]
    result = user.post(f"/account/keys/{key_id}/revoke", {}, form_page="/account")
    assert result.status_code == 404
    api = falcon.testing.TestClient(app)
    assert api.simulate_get("/v1/key/status", headers=bearer(other)).status_code == 200


def test_a_report_is_committed_and_charged(
    app: SikkerApp, user: Browser, data: Path
) -> None:
    before = shared(EventLog, data / EVENTS_DIR).last_sequence() or 0
    result = user.post(
        "/report",
        {
            "ip": "45.33.99.8",
            "category": "brute_force",
            "protocol": "ssh",
            "comment": "400 passwords from a@b.example",
        },
    )
    assert result.status_code == 200, result.text[:300]
    assert "reported as <strong>brute_force</strong>" in result.text
    log = shared(EventLog, data / EVENTS_DIR)
    assert (log.last_sequence() or 0) == before + 1
    usage = user.get("/account").text
    assert re.search(r"reports</th><td>reports</td>\s*<td class=\"num\">1<", usage)
    bad = user.post("/report", {"ip": "10.0.0.1", "category": "brute_force"})
    assert bad.status_code == 400 and "not a public address" in bad.text


def test_a_bulk_report_lists_each_rows_outcome(user: Browser) -> None:
    csv = "ip,category,protocol,comment\n45.33.99.9,brute_force,ssh,x\n10.0.0.2,spam\n"
    csv += "45.33.99.10,nonsense\n45.33.99.11;port_scan\n"
    page = user.get("/bulk-report")
    body = (
        '--b\r\nContent-Disposition: form-data; name="csrf"\r\n\r\n'
        f"{token(page.text)}\r\n"
        '--b\r\nContent-Disposition: form-data; name="csv"\r\n\r\n\r\n'
        '--b\r\nContent-Disposition: form-data; name="file"; filename="r.csv"\r\n'
        f"Content-Type: text/csv\r\n\r\n{csv}\r\n--b--\r\n"
    )
    result = user.request(
        "POST",
        "/bulk-report",
        body=body,
        headers={"Content-Type": "multipart/form-data; boundary=b"},
    )
    assert result.status_code == 200, result.text[:500]
    assert "1 accepted, 3 rejected of 4 rows" in result.text
    assert "not a public address" in result.text and "nonsense" in result.text
    pasted = user.post("/bulk-report", {"csv": "45.33.99.12,malware\n"})
    assert (
        pasted.status_code == 200 and "1 accepted, 0 rejected of 1 rows" in pasted.text
    )
    empty = user.post("/bulk-report", {"csv": "  "})
    assert empty.status_code == 400 and "paste CSV rows" in empty.text


def test_the_export_preview_counts_what_the_blacklist_returns(
    app: SikkerApp, data: Path
) -> None:
    client = falcon.testing.TestClient(app)
    key = api_key(data, store=app.keyed.service.store())
    for params in (
        {},
        {"scoreMinimum": "90"},
        {"onlyCountries": "CN,RU", "protocols": "ssh,redis", "scoreMinimum": "0"},
        {"ipVersion": "6", "scoreMinimum": "10"},
        {"minSeverity": "high", "limit": "1"},
    ):
        preview = client.simulate_get("/export/preview", params=params)
        assert preview.status_code == 200
        listed = client.simulate_get(
            "/v1/key/blacklist",
            params={**params, "format": "plaintext"},
            headers=bearer(key),
        )
        assert preview.json["count"] == len(listed.text.splitlines()), params
        assert sum(b["count"] for b in preview.json["buckets"]) >= preview.json["count"]
        path = preview.json["apiPath"]
        again = client.simulate_get(
            path.split("?")[0], query_string=path.split("?")[1], headers=bearer(key)
        )
        assert again.text == listed.text, params
    bad = client.simulate_get("/export/preview", params={"scoreMinimum": "101"})
    assert bad.status_code == 400 and bad.json["parameter"] == "scoreMinimum"


def test_export_previews_are_rate_limited_per_client(data: Path) -> None:
    app = web_app(data, web_previews_per_minute=2)
    client = falcon.testing.TestClient(app)
    answers = [
        client.simulate_get("/export/preview", remote_addr="198.51.100.7").status_code
        for _ in range(3)
    ]
    assert answers == [200, 200, 429]


def test_a_download_is_the_api_answer_charged_to_the_account(
    app: SikkerApp, user: Browser, data: Path
) -> None:
    query = "onlyCountries=CN,US&scoreMinimum=20&format=plaintext"
    result = user.get(f"/export/download?{query}")
    assert result.status_code == 200
    assert "attachment" in result.headers["Content-Disposition"]
    key = api_key(data, store=app.keyed.service.store())
    api = falcon.testing.TestClient(app).simulate_get(
        "/v1/key/blacklist", query_string=query, headers=bearer(key)
    )
    assert result.text == api.text and result.text.count("\n") == 3
    usage = user.get("/account").text
    assert re.search(r"blacklist</th><td>[^<]*</td>\s*<td class=\"num\">3<", usage)
    anonymous = Browser(app).get(f"/export/download?{query}")
    assert anonymous.status_code == 303


def test_alerts_are_created_and_deleted(user: Browser) -> None:
    created = user.post(
        "/account/alerts",
        {"kind": "range", "value": "45.33.99.0/28"},
        form_page="/account",
    )
    assert created.status_code == 303
    page = user.get("/account").text
    assert "45.33.99.0/28" in page
    alert_id = re.search(r'action="/account/alerts/([0-9a-f]+)/delete"', page)
    assert alert_id
    too_wide = user.post(
        "/account/alerts",
        {"kind": "range", "value": "45.33.0.0/16"},
        form_page="/account",
    )
    assert too_wide.status_code == 400
    hooked = user.post(
        "/account/alerts",
        {
            "kind": "ip",
            "value": "45.33.99.7",
            "webhookUrl": "https://hooks.example/x",
        },
        form_page="/account",
    )
    assert hooked.status_code == 200
    assert "shown only once" in hooked.text
    deleted = user.post(
        f"/account/alerts/{alert_id.group(1)}/delete", {}, form_page="/account"
    )
    assert deleted.status_code == 303
    assert "45.33.99.0/28" not in user.get("/account").text


def test_removal_requests_reach_the_admin_who_decides(
    app: SikkerApp, data: Path
) -> None:
    visitor = Browser(app, "198.51.100.30")
    sent = visitor.post(
        "/removal",
        {"ip": "45.33.99.20", "email": "owner@example.net", "reason": "reassigned"},
    )
    assert sent.status_code == 200 and "Received: request" in sent.text
    request_id = re.search(r"<code>(rr_[0-9a-f]+)</code>", sent.text)
    assert request_id
    stranger = Browser(app)
    stranger.sign_up(f"stranger{next(_counter)}@example.com", PASSWORD)
    assert stranger.get("/admin/removals").status_code == 403
    admin = Browser(app)
    assert admin.sign_up(ADMIN, PASSWORD).status_code == 303
    listing = admin.get("/admin/removals")
    assert listing.status_code == 200 and request_id.group(1) in listing.text
    decided = admin.post(
        f"/admin/removals/{request_id.group(1)}",
        {"decision": "approve", "days": "7", "note": "ok"},
        form_page="/admin/removals",
    )
    assert decided.status_code == 303
    stored = shared(RemovalStore, data).get(request_id.group(1))
    assert stored["status"] == "approved" and stored["note"] == "ok"
    assert stored["until"] - stored["decidedAt"] == 7 * 86_400
    unknown = admin.post(
        "/admin/removals/rr_nope", {"decision": "reject"}, form_page="/admin/removals"
    )
    assert unknown.status_code == 404


def test_hostile_forms_are_refused_before_anything_happens(browser: Browser) -> None:
    csrf = token(browser.get("/signin").text)
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    cases: list[tuple[bytes, dict[str, str], int]] = [
        (f"csrf={csrf}&email=a&email=b".encode(), form, 400),  # repeated
        (f"csrf={csrf}&admin=1".encode(), form, 400),  # unknown field
        (b"email=%ff", form, 400),  # not UTF-8
        (b"[[[[", form, 400),  # not a form
        (b"{}", {"Content-Type": "application/json"}, 415),
        (f"csrf={csrf}&email={'a' * 300}".encode(), form, 400),  # too long
    ]
    for body, headers, status in cases:
        result = browser.request("POST", "/signin", body=body, headers=headers)
        assert result.status_code == status, (body[:40], result.text[:200])


def test_unknown_paths_are_pages_for_browsers_and_json_for_programs(
    app: SikkerApp, browser: Browser
) -> None:
    page = browser.get("/no/such/page")
    assert page.status_code == 404 and "<h1>Not found</h1>" in page.text
    program = falcon.testing.TestClient(app).simulate_get("/no/such/page")
    assert program.status_code == 404 and program.json["code"] == "not_found"
    api = browser.get("/v1/key/nothing-here")
    assert api.status_code == 404 and api.headers["Content-Type"].startswith(
        "application/json"
    )
    assert browser.get("/catalog/no-such-behavior").status_code == 404


def test_static_files_are_served_cacheable_with_their_digest(browser: Browser) -> None:
    page = browser.get("/").text
    css = re.search(r'href="(/static/site\.css\?v=([0-9a-f]+))"', page)
    assert css
    result = browser.get(css.group(1))
    assert result.status_code == 200 and result.headers["Content-Type"].startswith(
        "text/css"
    )
    assert "immutable" in result.headers["Cache-Control"]
    etag = result.headers["ETag"]
    again = browser.get(css.group(1), headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert browser.get("/static/../secret").status_code == 404
    assert browser.get("/static/nope.js").status_code == 404


def test_the_catalog_counts_listed_ips_per_behavior(browser: Browser) -> None:
    page = browser.get("/catalog").text
    row = re.search(
        r'href="/catalog/host-fingerprinting">.*?<td class="num">(\d+)</td>', page, re.S
    )
    assert row and row.group(1) == "2"  # 203.0.113.10 and 2001:db8::7
    behavior = browser.get("/catalog/host-fingerprinting").text
    assert "203.0.113.10" in behavior and "2001:db8::7" in behavior
    assert behavior.index("203.0.113.10") < behavior.index("2001:db8::7")


def test_the_landscape_charts_top_groups(browser: Browser) -> None:
    page = browser.get("/landscape").text
    assert "China (CN)" in page and "AS4134 CHINANET" in page
    assert page.count('<li class="in">') == 10  # every histogram bucket


def test_recorded_activity_is_charted_and_examples_are_shown(tmp_path: Path) -> None:
    stats = {
        "days": {"2026-11-20": {"ssh": 10, "redis": 2}, "2026-11-21": {"ssh": 4}},
        "usernames": {"root": 40, "admin": 12},
        "examples": {"authorized-keys-write": ["echo ssh-rsa AAAA >> [redacted]"]},
    }
    catalog = copy.deepcopy(CATALOG)
    catalog["behaviors"][0]["all"] = ["authorized-keys-write"]  # the composition
    with Publisher(tmp_path) as publisher:
        records = table_from_records(RECORDS, catalog, BENIGN)
        publisher.publish(records, intel=Intel(stats=stats))
    me = Browser(web_app(tmp_path))
    page = me.get("/landscape").text
    assert page.count('<polyline class="series') == 2  # ssh and redis
    assert "ssh: 14 sessions" in page and "redis: 2 sessions" in page
    assert "2026-11-20" in page and "2026-11-21" in page
    assert re.search(r">root</span>.*?>40<", page, re.S)
    behavior = me.get("/catalog/ssh-authorized-keys-persistence").text
    assert "Seen (sanitised):" in behavior
    assert "<code>echo ssh-rsa AAAA &gt;&gt; [redacted]</code>" in behavior
    assert "203.0.113.10" in behavior  # the one IP that shows it
