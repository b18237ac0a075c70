"""Errors of web pages as HTML pages, for browsers only.

Every error leaves the app's error handlers as the one JSON shape
(server/errors.py). For a browser (``Accept`` prefers ``text/html``) on a
web page, or on a path no route serves outside the API, this middleware
turns that JSON into a readable page with the same status and headers; a
page that needs a signed-in user sends the browser to the sign-in page
instead. Programs keep getting JSON.
"""

from typing import Any

import falcon
import orjson

from sikker.server.status import status_code
from sikker.server.web.site import Site, wants_html

#: Prefixes of the API: their errors stay JSON whoever asks.
API_PREFIXES = ("/v1/", "/taxii2", "/healthz", "/metrics", "/openapi.json")
TITLES = {
    400: "That did not work",
    401: "Sign in first",
    403: "Not allowed",
    404: "Not found",
    405: "Method not allowed",
    409: "Already exists",
    413: "Too large",
    415: "Not a form",
    429: "Slow down",
    503: "Not available yet",
}


class HtmlErrors:
    """Falcon middleware: see the module docstring."""

    def __init__(self, site: Site) -> None:
        self.site = site

    def _applies(self, req: falcon.Request, resource: object) -> bool:
        if resource is not None:
            return bool(getattr(resource, "web_page", False))
        return not req.path.startswith(API_PREFIXES)

    def process_response(
        self,
        req: falcon.Request,
        resp: falcon.Response,
        resource: object,
        req_succeeded: bool,
    ) -> None:
        """Re-render a JSON error as a page when a browser asked."""
        status = status_code(resp)
        media = str(resp.content_type or "")
        if status < 400 or not media.startswith("application/json"):
            return
        if not wants_html(req) or not self._applies(req, resource):
            return
        try:
            error: Any = orjson.loads(resp.data or (resp.text or "").encode())
        except orjson.JSONDecodeError:
            return
        if not isinstance(error, dict):
            return
        if status == 401 and error.get("code") == "sign_in_required":
            self.site.redirect(resp, self.site.sign_in_url(req))
            return
        self.site.render(
            req,
            resp,
            "error.html",
            status=status,
            title=TITLES.get(status, "Something went wrong"),
            message=str(error.get("error", "")),
        )
        resp.data = None
