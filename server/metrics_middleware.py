"""Falcon middleware counting every answer into the shared metrics table.

It times each request from the moment Falcon hands it over until the
response is ready (a streamed body keeps streaming after that), and counts
it under its route template: ``/v1/key/check/{ip}``, never the address. A
429 whose error names a quota ``family`` also counts as a rejection of that
family. Counting never fails a request: an error is logged once and the
request goes on.
"""

import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import falcon
import falcon.inspect
import orjson

from sikker.server.metrics_table import METRICS_DIR, MetricsTable
from sikker.server.status import status_code

log = logging.getLogger("sikker.server")


def route_templates(app: falcon.App) -> list[str]:
    """Return every route template of ``app``, as ``falcon.inspect`` names them.

    Walks the compiled router's nodes: ``falcon.inspect`` also reads and
    parses the source of every responder, over a second per worker at its
    first request, which every new worker paid again after a reload.
    """
    roots = getattr(getattr(app, "_router", None), "_roots", None)
    if roots is None:  # not falcon's compiled router
        return [route.path for route in falcon.inspect.inspect_routes(app)]
    found: list[str] = []

    def walk(nodes: list[Any], parent: str) -> None:
        for node in nodes:
            path = f"{parent}/{node.raw_segment}"
            if node.resource is not None:
                found.append(path)
            walk(node.children, path)

    walk(roots, "")
    return found


def _family(resp: falcon.Response) -> str | None:
    """Return the quota family a 429 answer names, if any."""
    data = resp.data
    if not data:
        return None
    try:
        family = orjson.loads(data).get("family")
    except (orjson.JSONDecodeError, AttributeError):
        return None
    return family if isinstance(family, str) else None


class RequestMetrics:
    """Count and time requests; the table is built at the first request.

    Args:
        data_dir: The server's data directory (counters go to ``metrics/``).
        families: The quota families whose 429s are counted.
        routes: Returns every route template; called at the first request,
            once the app has all its routes.
    """

    def __init__(
        self,
        data_dir: Path,
        families: tuple[str, ...],
        routes: Callable[[], list[str]],
    ) -> None:
        self.directory = data_dir / METRICS_DIR
        self.families = families
        self.routes = routes
        self._table: MetricsTable | None = None
        self._failed = False

    @property
    def table(self) -> MetricsTable:
        """Return the shared table, laid out from the app's routes."""
        if self._table is None:
            self._table = MetricsTable(self.directory, self.routes(), self.families)
        return self._table

    def process_request(self, req: falcon.Request, resp: falcon.Response) -> None:
        """Note when the request arrived."""
        req.context.metrics_started = time.perf_counter()

    def process_response(
        self,
        req: falcon.Request,
        resp: falcon.Response,
        resource: Any,
        req_succeeded: bool,
    ) -> None:
        """Count the answer under its route template and status class."""
        started = getattr(req.context, "metrics_started", None)
        if started is None:
            return
        status = status_code(resp)
        self.observe(
            req.uri_template,
            status,
            time.perf_counter() - started,
            _family(resp) if status == 429 else None,
        )

    def observe(
        self, route: str | None, status: int, elapsed: float, family: str | None = None
    ) -> None:
        """Count one answer of ``route`` (and a 429 refused for ``family``)."""
        try:
            table = self._table or self.table
            table.observe(route, status, elapsed)
            if family is not None:
                table.rejected(family)
        except Exception:  # never fail a request over a counter
            if not self._failed:
                self._failed = True
                log.exception("request metrics cannot be counted")
