"""On a read replica: what only the primary holds goes to the primary.

Writes (reports, sensor events, accounts and keys, alerts, removal
requests, the web site's forms) and reads of what the primary alone keeps
(an account, its keys, reports, alerts, matches, the signed-in web pages)
are routes of :data:`PRIMARY_ROUTES`. With ``replica_writes = "forward"``
:class:`ReplicaWrites` sends such a request on to the primary (same method,
path, query, body and headers, ``Authorization`` and cookies included, the
client added to ``X-Forwarded-For``) and answers with the primary's status,
headers (``X-RateLimit-*``, ``Set-Cookie``, ``Location``) and body; a
primary that cannot be reached is a 503 (a timeout a 504, a broken answer a
502) with ``Retry-After``. With ``"reject"`` it answers 403 (``read_replica``)
naming the primary. Everything else is answered locally.
"""

import http.client
import logging
from urllib.parse import quote

import falcon

from sikker.core.primary import Primary
from sikker.server.body_limit import BODY_METHODS
from sikker.server.errors import respond

log = logging.getLogger("sikker.replica")

_ALERTS = ("ip", "range", "username", "email")
#: Route templates answered by the primary only (any method).
PRIMARY_ROUTES = frozenset(
    {
        "/v1/account",
        "/v1/account/keys",
        "/v1/account/keys/{key_id}",
        "/v1/key/status",
        "/v1/key/report",
        "/v1/key/bulk-report",
        "/v1/key/reports",
        "/v1/key/reports/{ip}",
        *(f"/v1/key/{kind}-alerts" for kind in _ALERTS),
        *(f"/v1/key/{kind}-alerts/{{alert_id}}" for kind in _ALERTS),
        "/v1/key/alerts/matches",
        "/v1/removal-requests",
        "/v1/sensor/events",
        "/signup",
        "/signin",
        "/signout",
        "/account",
        "/account/keys",
        "/account/keys/{key_id}/revoke",
        "/account/alerts",
        "/account/alerts/{alert_id}/delete",
        "/report",
        "/bulk-report",
        "/removal",
        "/admin/removals",
        "/admin/removals/{request_id}",
    }
)
#: Headers that describe one connection, never forwarded either way.
HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "expect",
        "host",
        "content-length",
    }
)
_NOT_RETURNED = HOP_BY_HOP | {"date", "server"}
#: Largest answer taken from the primary (a bulk report's is far smaller).
MAX_ANSWER = 64 * 1024 * 1024
RETRY_AFTER = "10"
_PATH_SAFE = "/:@!$&'()*+,;=~"


class ReplicaWrites:
    """Falcon middleware: forward (or refuse) :data:`PRIMARY_ROUTES`.

    Add it after the metrics and before the key authentication, so that
    the primary, not the replica, authenticates and charges these requests.
    """

    def __init__(self, primary: Primary, mode: str, timeout: float) -> None:
        self.primary = primary
        self.mode = mode
        self.timeout = timeout

    def process_resource(
        self,
        req: falcon.Request,
        resp: falcon.Response,
        resource: object,
        params: dict,
    ) -> None:
        """Answer a primary-only route here and now; leave the rest alone."""
        if resource is None or req.uri_template not in PRIMARY_ROUTES:
            return
        resp.complete = True  # no other middleware, no local responder
        if self.mode == "reject":
            respond(
                resp, 403, "read_replica",
                f"this node is a read replica; send {req.method} {req.path} to "
                f"the primary, {self.primary.display}",
                primary=self.primary.display,
            )  # fmt: skip
            return
        self.forward(req, resp)

    def forward(self, req: falcon.Request, resp: falcon.Response) -> None:
        """Send ``req`` to the primary and copy its answer into ``resp``."""
        target = self.primary.prefix + quote(req.path, safe=_PATH_SAFE)
        if req.query_string:
            target += "?" + req.query_string
        body = req.bounded_stream.read() if req.method in BODY_METHODS else None
        conn = self.primary.connect(self.timeout)
        try:
            conn.request(req.method, target, body=body, headers=self._headers(req))
            answer = conn.getresponse()
            data = answer.read(MAX_ANSWER + 1)
            if len(data) > MAX_ANSWER:
                raise http.client.HTTPException("the answer is too large")
        except TimeoutError:
            self._failed(resp, 504, "primary_timeout", "did not answer in time")
            return
        except (http.client.HTTPException, ValueError) as ex:
            self._failed(resp, 502, "bad_primary_answer", f"answered badly ({ex})")
            return
        except OSError as ex:
            self._failed(resp, 503, "primary_unavailable", f"cannot be reached ({ex})")
            return
        finally:
            conn.close()
        resp.status = answer.status
        for name, value in answer.getheaders():
            if name.lower() not in _NOT_RETURNED:
                resp.append_header(name, value)
        resp.data = data

    @staticmethod
    def _headers(req: falcon.Request) -> dict[str, str]:
        """Return the request's headers for the primary (http.client adds Host)."""
        headers = {
            name.lower(): value
            for name, value in req.headers.items()
            if name.lower() not in HOP_BY_HOP
        }
        seen = headers.get("x-forwarded-for")
        peer = req.remote_addr or ""
        headers["x-forwarded-for"] = f"{seen}, {peer}" if seen else peer
        headers.setdefault("x-forwarded-proto", req.scheme)
        return headers

    def _failed(self, resp: falcon.Response, status: int, code: str, what: str) -> None:
        message = (
            f"this node is a read replica and its primary {self.primary.display} "
            f"{what}; try again later"
        )
        log.warning("forwarding to the primary failed: %s", message)
        respond(resp, status, code, message, primary=self.primary.display)
        resp.set_header("Retry-After", RETRY_AFTER)
