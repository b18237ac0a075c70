"""Wire request metrics into the app: the middleware and ``GET /metrics``.

Call :func:`install` before any other middleware is added, so that the
timing covers authentication and every answer (401s and 429s too) is
counted. See :mod:`sikker.server.metrics_table` for what is counted.
"""

from pathlib import Path

import falcon

from sikker.core.config import Config
from sikker.core.eventlog import EventLog
from sikker.core.handles import shared
from sikker.core.layout import EVENTS_DIR
from sikker.core.plans import FAMILIES
from sikker.core.store import SnapshotStore
from sikker.server.client import client_address, parse_proxies
from sikker.server.metrics_middleware import RequestMetrics, route_templates
from sikker.server.replica_health import metrics_section
from sikker.server.resources.metrics import MetricsResource


def _last_event(events: Path) -> int | None:
    """Return the event log's last sequence (None while there is no log)."""
    if not events.is_dir():
        return None
    return shared(EventLog, events).last_sequence()


def install(app: falcon.App, config: Config, store: SnapshotStore) -> RequestMetrics:
    """Count every request of ``app`` and serve the counts at ``/metrics``."""
    metrics = RequestMetrics(config.data_path, FAMILIES, lambda: route_templates(app))
    app.add_middleware(metrics)
    trusted = parse_proxies(config.trusted_proxies)
    events = config.data_path / EVENTS_DIR
    app.add_route(
        "/metrics",
        MetricsResource(
            store,
            config,
            metrics,
            client=lambda req: client_address(req, trusted),
            last_event=lambda: _last_event(events),
            extra=metrics_section(config),
        ),
    )
    return metrics
