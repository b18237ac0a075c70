"""The plain keyed check, answered before Falcon builds a request (the hot path).

Nearly every request a busy server answers is ``GET /v1/key/check/{ip}``
with a key the worker has already seen. Through Falcon, such a check spends
more on the request and response objects and six middleware calls than on
the check itself. :class:`CheckLane` answers it at the WSGI level with the
very pieces the Falcon path uses: the key cache of
:class:`~sikker.server.auth.KeyAuth`, the quota table's atomic count,
:func:`~sikker.core.check_json.check_json`, the rate-limit headers of
:func:`~sikker.server.auth.rate_limit_headers` and the shared request
counters. Anything else returns None before anything is counted, and the
full app answers: another method, a query string (``?key=``,
``explain=true``), a key the cache does not hold or refuses, a malformed
address, no snapshot, a used-up quota (the 429 and its headers come from
the one place that writes them), or a quota backend that failed (Redis:
the full app counts again, as a client retrying would).

``tests/test_check_lane.py`` sends the same requests to an app with the
lane and to one without, and compares status, headers, body and counters.
"""

import time
from collections.abc import Callable
from typing import Any

from falcon import MEDIA_JSON

from sikker.core.check_json import check_json
from sikker.core.store import SnapshotStore
from sikker.server.auth import KeyAuth, rate_limit_headers
from sikker.server.metrics_middleware import RequestMetrics
from sikker.server.router import CHECK_PREFIX, CHECK_TEMPLATE

_FAMILY = "lookups"


class CheckLane:
    """Answer plain keyed checks of a WSGI environ, or leave them (None)."""

    def __init__(
        self, store: SnapshotStore, auth: KeyAuth, metrics: RequestMetrics
    ) -> None:
        self.store = store
        self.auth = auth
        self.metrics = metrics

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> list[bytes] | None:
        """Return the body of a plain check (after ``start_response``), else None."""
        path = environ.get("PATH_INFO", "")
        if (
            not path.startswith(CHECK_PREFIX)
            or environ.get("REQUEST_METHOD") != "GET"
            or environ.get("QUERY_STRING")
            or not path.isascii()
        ):
            return None
        ip = path[len(CHECK_PREFIX) :]
        authorization = environ.get("HTTP_AUTHORIZATION")
        if not ip or "/" in ip or not authorization:
            return None
        if not authorization.startswith("Bearer "):
            return None
        started = time.perf_counter()
        service = self.auth.service
        try:
            accounts, quota = service.handles()
            principal = self.auth.cached(authorization[7:].strip(), accounts)
            if principal is None:
                return None
            limit = principal.plan.quotas.get(_FAMILY)
            if limit is None:
                return None
            snapshot = self.store.current()
            body = check_json(snapshot, ip)
            granted, used, period = quota.count(
                principal.account_id, _FAMILY, 1, limit, False, service.clock()
            )
        except Exception:  # the full app answers (and logs) it
            return None
        if granted != 1:  # nothing counted: the full app answers the 429
            return None
        headers = rate_limit_headers(limit, used, (period + 1) * quota.period)
        headers.append(("content-type", MEDIA_JSON))
        headers.append(("x-snapshot-sequence", str(snapshot.sequence)))
        headers.append(("content-length", str(len(body))))
        start_response("200 OK", headers)
        self.metrics.observe(CHECK_TEMPLATE, 200, time.perf_counter() - started)
        return [body]
