"""Removal requests: the public form ``/removal`` and the admin review pages.

The form takes what ``POST /v1/removal-requests`` takes (address, an e-mail
address to answer, a reason), through the same
:func:`~sikker.core.removals.parse_request` and
:class:`~sikker.core.removals.RemovalStore`, with the same per-address
limit (setting ``removal_requests_per_hour``). Administrators -- signed-in
accounts whose e-mail address the setting ``admin_emails`` lists -- review
requests on ``/admin/removals``: approving one delists its address for a
number of days, as ``sikker admin removal approve`` does.
"""

import falcon

from sikker.core.handles import shared
from sikker.core.removals import MAX_REASON, STATUSES, RemovalStore, parse_request
from sikker.errors import (
    InvalidFormError,
    InvalidRemovalRequestError,
    UnknownRemovalRequestError,
)
from sikker.server.web.forms import read_form
from sikker.server.web.site import Site

#: Longest approval an administrator may give, in days.
MAX_DAYS = 3650


class RemovalPage:
    """``GET`` and ``POST /removal``: ask for an address to be delisted."""

    web_page = True

    def __init__(self, site: Site) -> None:
        self.site = site

    def store(self) -> RemovalStore:
        """Return this process's removal store."""
        return shared(RemovalStore, self.site.config.data_path)

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        """Answer the form (``ip`` prefills the address)."""
        values = {"ip": (req.get_param("ip") or "")[:100], "email": "", "reason": ""}
        self.site.render(req, resp, "removal.html", values=values, done=None)

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        """Store a pending request (rate-limited per address); show its id."""
        form = read_form(req, {"ip": 100, "email": 254, "reason": MAX_REASON * 2})
        self.site.check_csrf(req, form)
        values = {name: form.get(name) for name in ("ip", "email", "reason")}
        try:
            fields = parse_request(values)
        except InvalidRemovalRequestError as ex:
            self.site.render(
                req,
                resp,
                "removal.html",
                status=400,
                code="invalid_removal_request",
                error=str(ex),
                values=values,
                done=None,
            )
            return
        request = self.store().create(
            fields,
            self.site.client(req),
            int(self.site.config.removal_requests_per_hour),
        )
        self.site.render(req, resp, "removal.html", values=values, done=request)


class AdminRemovalsPage:
    """``GET /admin/removals``: requests to review (``status`` picks which)."""

    web_page = True

    def __init__(self, site: Site) -> None:
        self.site = site

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        """Answer the requests of one status, newest first."""
        self.site.require_admin(req)
        status = (req.get_param("status") or "pending").strip().lower()
        if status not in (*STATUSES, "all"):
            raise InvalidFormError(
                "status", f"must be one of {', '.join(STATUSES)}, all"
            )
        store = shared(RemovalStore, self.site.config.data_path)
        self.site.render(
            req,
            resp,
            "admin_removals.html",
            requests=store.requests(None if status == "all" else status),
            shown=status,
            statuses=(*STATUSES, "all"),
            days=int(self.site.config.removal_days),
        )


class AdminDecisionResource:
    """``POST /admin/removals/{request_id}``: approve or reject a request."""

    web_page = True

    def __init__(self, site: Site) -> None:
        self.site = site

    def on_post(
        self, req: falcon.Request, resp: falcon.Response, request_id: str
    ) -> None:
        """Record the decision; back to the list."""
        form = read_form(req, {"decision": 16, "days": 8, "note": 500})
        self.site.check_csrf(req, form)
        self.site.require_admin(req)
        decision = form.require("decision", "is required: approve or reject")
        store = shared(RemovalStore, self.site.config.data_path)
        note = form.get("note") or None
        try:
            if decision == "approve":
                store.approve(request_id[:64], _days(form.get("days")), note)
            elif decision == "reject":
                store.reject(request_id[:64], note)
            else:
                raise InvalidFormError("decision", "must be approve or reject")
        except UnknownRemovalRequestError as ex:
            raise falcon.HTTPNotFound(title="not found", description=str(ex)) from None
        self.site.redirect(resp, "/admin/removals")


def _days(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= MAX_DAYS:
        raise InvalidFormError("days", f"must be a whole number of days, 1-{MAX_DAYS}")
    return int(text)
