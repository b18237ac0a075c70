"""Account pages: sign up, sign in and out, API keys, usage and alerts.

The same stores and rules as the API (``/v1/account``, ``/v1/key/status``,
the alert endpoints): :class:`~sikker.core.accounts.AccountStore` for
accounts and keys, the shared quota table for today's usage, the alert
store for watches. Failed sign-ins and sign-ups count against the same
per-address budget as the API's (setting ``login_max_failures``). A new
API key, and an alert's webhook secret, are shown on one page only.
"""

from typing import Any

import falcon

from sikker.core.accounts import Account
from sikker.core.alerts import (
    KINDS,
    AlertStore,
    parse_label,
    parse_value,
    validate_webhook_url,
)
from sikker.core.apikeys import is_key_id
from sikker.core.handles import shared
from sikker.core.plans import FAMILIES
from sikker.errors import (
    AccountError,
    AccountExistsError,
    AlertExistsError,
    AlertLimitError,
    InvalidAlertError,
    LoginError,
    UnknownAccountError,
)
from sikker.server.web.forms import read_form
from sikker.server.web.site import Site, local_path

EMAIL, PASSWORD, NAME = 254, 1024, 64
#: What a family's quota counts, for the usage table.
COUNTS = {
    "lookups": "checks and intel lookups",
    "reports": "reports",
    "blacklist": "IPs in blacklists",
    "taxii": "TAXII objects",
}
KIND_NAMES = {"ip": "IP address", "range": "Range (CIDR)", "username": "Username"}
KIND_NAMES["email"] = "E-mail address"


class SignUpPage:
    """``GET`` and ``POST /signup``: create an account and sign in."""

    web_page = True

    def __init__(self, site: Site) -> None:
        self.site = site
        self.open = bool(site.config.allow_registration)

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        """Answer the sign-up form."""
        self.site.render(req, resp, "signup.html", email="", closed=not self.open)

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        """Create the account on the default plan, sign in, go to the account."""
        form = read_form(req, {"email": EMAIL, "password": PASSWORD})
        self.site.check_csrf(req, form)
        email = form.get("email")
        if not self.open:
            message = "this server does not take registrations; ask its operator"
            self._fail(req, resp, 403, "registration_closed", message, email)
            return
        try:
            password = form.fields.get("password", "")
            self.site.guard.registering(req)
            account = self.site.service.store().add_user(email, password)
        except AccountExistsError as ex:
            self._fail(req, resp, 409, "account_exists", str(ex), email)
            return
        except AccountError as ex:
            self._fail(req, resp, 400, "invalid_request", str(ex), email)
            return
        self.site.start_session(req, resp, account)
        self.site.redirect(resp, "/account")

    def _fail(
        self,
        req: falcon.Request,
        resp: falcon.Response,
        status: int,
        code: str,
        error: str,
        email: str,
    ) -> None:
        self.site.render(
            req,
            resp,
            "signup.html",
            status=status,
            code=code,
            error=error,
            email=email[:EMAIL],
            closed=not self.open,
        )


class SignInPage:
    """``GET`` and ``POST /signin``: start a session."""

    web_page = True

    def __init__(self, site: Site) -> None:
        self.site = site

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        """Answer the sign-in form (``next``: where to go afterwards)."""
        target = local_path(req.get_param("next") or "/account")
        self.site.render(req, resp, "signin.html", email="", next=target)

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        """Check the password (throttled per address), then sign in."""
        form = read_form(req, {"email": EMAIL, "password": PASSWORD, "next": 2048})
        self.site.check_csrf(req, form)
        email, target = form.get("email"), local_path(form.get("next"))
        try:
            account = self.site.guard.login(req, email, form.fields.get("password", ""))
        except LoginError as ex:
            self.site.render(
                req,
                resp,
                "signin.html",
                status=400,
                code="login_failed",
                error=str(ex),
                email=email[:EMAIL],
                next=target,
            )
            return
        self.site.start_session(req, resp, account)
        self.site.redirect(resp, target)


class SignOutResource:
    """``POST /signout``: end the session."""

    web_page = True

    def __init__(self, site: Site) -> None:
        self.site = site

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        """Delete the session and its cookie; back to the start page."""
        form = read_form(req, {})
        self.site.check_csrf(req, form)
        self.site.end_session(req, resp)
        self.site.redirect(resp, "/")


class AccountPage:
    """``GET /account``: plan, today's usage, API keys and alerts."""

    web_page = True

    def __init__(self, site: Site) -> None:
        self.site = site

    def context(self, account: Account) -> dict[str, Any]:
        """Return what the account page shows."""
        service = self.site.service
        plan = service.plans.resolve(account.plan)
        quota = service.quota()
        now = service.clock()
        usage = []
        for family in FAMILIES:
            used = quota.used(account.id, family, now)
            limit = plan.quotas[family]
            usage.append(
                {
                    "family": family,
                    "counts": COUNTS.get(family, family),
                    "used": used,
                    "limit": limit,
                    "remaining": max(limit - used, 0),
                }
            )
        alerts = shared(AlertStore, self.site.config.data_path)
        return {
            "account": account,
            "plan": plan,
            "usage": usage,
            "resetAt": quota.reset_epoch(now),
            "keys": [k.public() for k in service.store().keys(account.id)],
            "alerts": {kind: alerts.alerts(account.id, kind) for kind in KINDS},
            "kinds": KIND_NAMES,
            "limits": plan.alerts,
        }

    def render(
        self, req: falcon.Request, resp: falcon.Response, account: Account, **extra: Any
    ) -> None:
        """Render the account page (``extra``: an error or notice)."""
        context = {"notice": None, **self.context(account), **extra}
        self.site.render(req, resp, "account.html", **context)

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        """Answer the signed-in user's account page."""
        self.render(req, resp, self.site.require_user(req))


class KeysResource:
    """``POST /account/keys``: create an API key, shown on this page only."""

    web_page = True

    def __init__(self, page: AccountPage) -> None:
        self.page = page

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        """Create the key; the answer is the only place its plaintext appears."""
        site = self.page.site
        form = read_form(req, {"name": NAME})
        site.check_csrf(req, form)
        account = site.require_user(req)
        try:
            key, plaintext = site.service.store().create_key(
                account.id, form.get("name")
            )
        except AccountError as ex:
            self.page.render(req, resp, account, status=400, error=str(ex))
            return
        site.render(
            req,
            resp,
            "key_created.html",
            key=key.public(),
            plaintext=plaintext,
            base=req.prefix,
        )
        resp.cache_control = ["no-store"]


class KeyRevokeResource:
    """``POST /account/keys/{key_id}/revoke``: revoke one of your keys."""

    web_page = True

    def __init__(self, site: Site) -> None:
        self.site = site

    def on_post(self, req: falcon.Request, resp: falcon.Response, key_id: str) -> None:
        """Revoke the key (it stops working at once); back to the account."""
        form = read_form(req, {})
        self.site.check_csrf(req, form)
        account = self.site.require_user(req)
        if not is_key_id(key_id):
            raise UnknownAccountError(f"no API key {key_id[:40]!r}")
        self.site.service.store().revoke_key(key_id, account.id)
        self.site.redirect(resp, "/account#keys")


class AlertsResource:
    """``POST /account/alerts``: watch an address, range, username or e-mail."""

    web_page = True

    def __init__(self, page: AccountPage) -> None:
        self.page = page

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        """Create the alert within the plan's limits; back to the account."""
        site = self.page.site
        form = read_form(
            req, {"kind": 16, "value": 300, "label": 200, "webhookUrl": 2100}
        )
        site.check_csrf(req, form)
        account = site.require_user(req)
        kind = form.get("kind")
        plan = site.service.plans.resolve(account.plan)
        try:
            if kind not in KINDS:
                raise InvalidAlertError("kind", f"must be one of {', '.join(KINDS)}")
            widest = {
                4: plan.alerts["range_prefix_v4"],
                6: plan.alerts["range_prefix_v6"],
            }
            alert = shared(AlertStore, site.config.data_path).create(
                account.id,
                kind,
                parse_value(kind, form.get("value"), widest),
                parse_label(form.get("label") or None),
                validate_webhook_url(
                    form.get("webhookUrl") or None,
                    bool(site.config.webhook_allow_private),
                ),
                plan.alerts.get(kind),
            )
        except InvalidAlertError as ex:
            status = 409 if isinstance(ex, AlertExistsError) else 400
            status = 403 if isinstance(ex, AlertLimitError) else status
            self.page.render(req, resp, account, status=status, error=str(ex))
            return
        if alert.secret:
            site.render(
                req,
                resp,
                "alert_created.html",
                alert=alert.public(),
                secret=alert.secret,
            )
            resp.cache_control = ["no-store"]
            return
        site.redirect(resp, "/account#alerts")


class AlertDeleteResource:
    """``POST /account/alerts/{alert_id}/delete``: stop watching."""

    web_page = True

    def __init__(self, site: Site) -> None:
        self.site = site

    def on_post(
        self, req: falcon.Request, resp: falcon.Response, alert_id: str
    ) -> None:
        """Delete one of your alerts (404 for anyone else's)."""
        form = read_form(req, {})
        self.site.check_csrf(req, form)
        account = self.site.require_user(req)
        store = shared(AlertStore, self.site.config.data_path)
        alert = store.get(account.id, alert_id[:64])
        store.delete(account.id, alert.kind, alert.id)
        self.site.redirect(resp, "/account#alerts")
