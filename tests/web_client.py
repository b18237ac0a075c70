"""A browser for falcon.testing: keeps cookies, prefers HTML, fills forms."""

import re
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import falcon
import falcon.testing

from sikker.core.config import load_config
from sikker.server.app import SikkerApp, create_app

_CSRF = re.compile(r'name="csrf" value="([0-9a-f]+)"')
HTML = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


#: The web site's clock in tests: the middle of a minute, so per-minute
#: budgets never roll over during a test.
NOW = 1_800_000_030.0


def web_app(data: Path, **settings: Any) -> SikkerApp:
    """Return the app of ``data`` with the web site, its clock fixed at NOW."""
    overrides = {"data_dir": str(data), "snapshot_check_interval": 0, **settings}
    app = create_app(load_config(overrides=overrides, environ={}))
    app.web.clock = lambda: NOW
    return app


def token(html: str) -> str:
    """Return the CSRF token of the first form of a page."""
    found = _CSRF.search(html)
    assert found, "the page has no form with a CSRF token"
    return found.group(1)


class Browser:
    """One browser: its own cookies and client address."""

    def __init__(self, app: falcon.App, address: str = "192.0.2.200") -> None:
        self.client = falcon.testing.TestClient(app)
        self.address = address
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, **kwargs: Any) -> falcon.testing.Result:
        """Send a request as this browser; remember the cookies it sets."""
        headers = {"Accept": HTML, **kwargs.pop("headers", {})}
        result = self.client.simulate_request(
            method,
            path,
            headers=headers,
            cookies=dict(self.cookies),
            remote_addr=kwargs.pop("remote_addr", self.address),
            **kwargs,
        )
        for cookie in result.cookies.values():
            if cookie.max_age == 0 or cookie.value == "":
                self.cookies.pop(cookie.name, None)
            else:
                self.cookies[cookie.name] = cookie.value
        return result

    def get(self, path: str, **kwargs: Any) -> falcon.testing.Result:
        """GET a page."""
        return self.request("GET", path, **kwargs)

    def post(
        self, path: str, fields: dict[str, str], form_page: str | None = None
    ) -> falcon.testing.Result:
        """Post a form as a browser does, with the token of ``form_page``."""
        page = self.get(form_page or path)
        body = urlencode({"csrf": token(page.text), **fields})
        return self.request(
            "POST",
            path,
            body=body,
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )

    def sign_up(self, email: str, password: str) -> falcon.testing.Result:
        """Create an account (and stay signed in)."""
        return self.post("/signup", {"email": email, "password": password})
