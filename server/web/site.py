"""What every page shares: templates, the signed-in user, CSRF, answers.

:class:`Site` is made once by :func:`sikker.server.web.install`. Pages ask
it who is signed in (a server-side session, :mod:`.sessions`), for the CSRF
token of their forms (:mod:`.csrf`), to count a free request against the
client's budget (:mod:`.limits`) and to render a template.

Answers are HTML for browsers. A client that does not prefer HTML (no
``Accept: text/html``: scripts, tests, ``curl``) gets every error in the
API's one JSON error shape instead, so the whole server speaks one error
language to programs.
"""

import html
import secrets
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import falcon

from sikker.core import apikeys
from sikker.core.accounts import Account
from sikker.core.config import Config
from sikker.core.handles import shared
from sikker.core.store import SnapshotStore
from sikker.errors import (
    AdminOnlyError,
    CsrfError,
    SignInRequiredError,
    UnknownAccountError,
)
from sikker.server.accounts import AccountService
from sikker.server.auth import Meter, Principal, attach
from sikker.server.client import client_address, parse_proxies
from sikker.server.errors import respond
from sikker.server.login import LoginGuard
from sikker.server.web import csrf
from sikker.server.web.assets import Assets
from sikker.server.web.forms import Form
from sikker.server.web.limits import ClientLimiter
from sikker.server.web.render import environment
from sikker.server.web.sessions import SessionStore

HTML = "text/html; charset=utf-8"
#: The key id quotas are charged under for what a signed-in browser does.
WEB_KEY_ID = "web"
#: Sent with every page: no third-party content, no framing, no inline code.
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; script-src 'self'; "
    "style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}


def wants_html(req: falcon.Request) -> bool:
    """Return whether the client prefers an HTML page to JSON (a browser)."""
    return req.client_prefers(("application/json", "text/html")) == "text/html"


def local_path(target: str, default: str = "/account") -> str:
    """Return ``target`` if it is a path on this site, else ``default``."""
    ok = target.startswith("/") and not target.startswith(("//", "/\\"))
    return target if ok and "\n" not in target and "\r" not in target else default


class Site:
    """The shared parts of the web pages (see the module docstring)."""

    def __init__(self, app: falcon.App, config: Config, store: SnapshotStore) -> None:
        keyed: Any = getattr(app, "keyed", None)
        if keyed is None:
            raise RuntimeError("install the accounts (server/keyed.py) before the web")
        self.config = config
        self.store = store
        self.service: AccountService = keyed.service
        self.guard = LoginGuard(self.service, config)
        self.trusted = parse_proxies(str(config.trusted_proxies))
        self.assets = Assets()
        self.env = environment(self.assets)
        self.limiter = ClientLimiter(config.data_path, self.service.counters)
        self.lifetime = max(float(config.web_session_hours), 0.1) * 3600
        self.admins = frozenset(
            e.strip().lower() for e in str(config.admin_emails).split(",") if e.strip()
        )
        self._secret: bytes | None = None
        #: Epoch seconds of the per-minute budgets (tests fix it).
        self.clock: Callable[[], float] = time.time

    # -- plumbing ----------------------------------------------------------------

    def secret(self) -> bytes:
        """Return the server secret (``<data_dir>/secret``) the tokens use."""
        if self._secret is None:
            self._secret = apikeys.load_secret(self.config.data_path)
        return self._secret

    def sessions(self) -> SessionStore:
        """Return this process's session store."""
        return shared(SessionStore, self.config.data_path)

    def client(self, req: falcon.Request) -> str:
        """Return the client's address, seen through the trusted proxies."""
        return client_address(req, self.trusted)

    def https(self, req: falcon.Request) -> bool:
        """Return whether the browser talks https (directly or to our proxy)."""
        if req.scheme == "https":
            return True
        peer = client_address(req, frozenset())
        forwarded = (req.get_header("X-Forwarded-Proto") or "").strip().lower()
        return peer in self.trusted and forwarded == "https"

    def limit(self, req: falcon.Request, family: str, per_minute: int) -> None:
        """Count one free request of the client; raise a 429 past its budget."""
        self.limiter.hit(self.client(req), family, per_minute, self.clock())

    # -- who is signed in ----------------------------------------------------------

    def user(self, req: falcon.Request) -> Account | None:
        """Return the signed-in account, None for anonymous visitors."""
        if "web_user" in req.context:
            return req.context.web_user
        account = None
        token = req.cookies.get(csrf.SESSION_COOKIE, "")
        account_id = self.sessions().account_of(token) if token else None
        if account_id is not None:
            try:
                account = self.service.store().account(account_id)
            except UnknownAccountError:
                account = None
            if account is not None and account.disabled:
                account = None
        req.context.web_user = account
        return account

    def require_user(self, req: falcon.Request) -> Account:
        """Return the signed-in account, or raise SignInRequiredError."""
        account = self.user(req)
        if account is None:
            raise SignInRequiredError("sign in first: this page is for signed-in users")
        return account

    def require_admin(self, req: falcon.Request) -> Account:
        """Return the signed-in administrator, or raise (401 or 403)."""
        account = self.require_user(req)
        if not self.is_admin(account):
            raise AdminOnlyError(
                "this page is for the server's administrators (setting admin_emails)"
            )
        return account

    def is_admin(self, account: Account | None) -> bool:
        """Return whether ``account`` may review removal requests."""
        return account is not None and account.email.lower() in self.admins

    def start_session(
        self, req: falcon.Request, resp: falcon.Response, account: Account
    ) -> None:
        """Sign ``account`` in: a new session and its cookie."""
        old = req.cookies.get(csrf.SESSION_COOKIE)
        if old:
            self.sessions().delete(old)
        token = self.sessions().create(account.id, self.lifetime)
        resp.set_cookie(
            csrf.SESSION_COOKIE,
            token,
            max_age=int(self.lifetime),
            path="/",
            secure=self.https(req),
            http_only=True,
            same_site="Lax",
        )
        req.context.web_user = account

    def end_session(self, req: falcon.Request, resp: falcon.Response) -> None:
        """Sign out: delete the session and the cookie."""
        token = req.cookies.get(csrf.SESSION_COOKIE)
        if token:
            self.sessions().delete(token)
        resp.unset_cookie(csrf.SESSION_COOKIE, path="/")
        req.context.web_user = None

    def meter(
        self, req: falcon.Request, resp: falcon.Response, account: Account
    ) -> Meter:
        """Charge what the browser does to the account's quotas, as a key would."""
        plan = self.service.plans.resolve(account.plan)
        principal = Principal(account.id, WEB_KEY_ID, plan, account.email)
        meter = Meter(principal, resp, self.service.quota(), self.service.clock())
        attach(req, meter)
        return meter

    # -- CSRF ------------------------------------------------------------------------

    def _seed(self, req: falcon.Request) -> str:
        if "web_csrf_seed" in req.context:  # set by csrf_token in this request
            return str(req.context.web_csrf_seed)
        if self.user(req) is not None:
            return req.cookies.get(csrf.SESSION_COOKIE, "")
        return req.cookies.get(csrf.ANON_COOKIE, "")

    def csrf_token(self, req: falcon.Request, resp: falcon.Response) -> str:
        """Return the token this browser's forms carry (setting its cookie)."""
        seed = self._seed(req)
        if not seed or len(seed) > 128:
            seed = secrets.token_urlsafe(24)
            resp.set_cookie(
                csrf.ANON_COOKIE,
                seed,
                path="/",
                secure=self.https(req),
                http_only=True,
                same_site="Lax",
            )
            req.context.web_csrf_seed = seed
        return csrf.token_for(self.secret(), seed)

    def check_csrf(self, req: falcon.Request, form: Form) -> None:
        """Refuse a form without this browser's token.

        Raises:
            InvalidFormError: the form has no token (400).
            CsrfError: the token is not this browser's (403).
        """
        token = form.require(csrf.FIELD, "is missing: reload the page and retry")
        if not csrf.valid(self.secret(), self._seed(req), token):
            raise CsrfError(
                "this form is not from this browser's session (a stale page or "
                "another site): reload the page and submit it again"
            )

    # -- answers ---------------------------------------------------------------------

    def render(
        self,
        req: falcon.Request,
        resp: falcon.Response,
        template: str,
        status: int = 200,
        **context: Any,
    ) -> None:
        """Answer a page; an error status answers JSON to non-browsers."""
        if status >= 400 and not wants_html(req):
            respond(
                resp, status, context.get("code", "invalid_request"), context["error"]
            )
            return
        user = self.user(req)
        page = {
            "user": user,
            "admin": self.is_admin(user),
            "path": req.path,
            "csrf": lambda: self.csrf_token(req, resp),
            "error": None,
            **context,
        }
        resp.status = status
        resp.content_type = HTML
        resp.text = self.env.get_template(template).render(**page)
        self.secure(resp)

    def secure(self, resp: falcon.Response) -> None:
        """Set the security headers of a page."""
        resp.set_headers(SECURITY_HEADERS)

    def redirect(self, resp: falcon.Response, location: str) -> None:
        """Answer 303 See Other (after a form post)."""
        resp.status = falcon.HTTP_303
        resp.location = location
        resp.content_type = HTML
        resp.text = (
            f'<!doctype html><title>See other</title><a href="{html.escape(location)}">'
            "continue</a>"
        )

    def sign_in_url(self, req: falcon.Request) -> str:
        """Return the sign-in page that comes back to this page."""
        back = req.path + (f"?{req.query_string}" if req.query_string else "")
        return "/signin?next=" + quote(local_path(back, "/account"), safe="/")
