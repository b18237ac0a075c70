"""Routes of the community features: bulk checks, reports, alerts, removals.

:func:`install` adds them to the app. Reports refuse the reporter's own
networks, which the accounts service knows (``app.keyed``), and the status
endpoint counts alerts from the alert store; both are looked up on the app
when present, so the routes also run without accounts (tests, tools).
"""

from collections.abc import Iterable
from typing import Any

import falcon

from sikker.core.alerts import KINDS
from sikker.core.config import Config
from sikker.core.store import SnapshotStore
from sikker.server.resources.alerts import (
    AlertResource,
    Alerts,
    AlertsResource,
    MatchesResource,
)
from sikker.server.resources.bulk_check import BulkCheckResource, CheckBlockResource
from sikker.server.resources.removals import RemovalRequestsResource
from sikker.server.resources.reports import (
    AddressReportsResource,
    BulkReportResource,
    OwnReportsResource,
    Reporting,
    ReportResource,
)


def install(app: falcon.App, config: Config, store: SnapshotStore) -> None:
    """Add the community routes to ``app``."""

    def own_ranges(account_id: str) -> Iterable[str]:
        keyed: Any = getattr(app, "keyed", None)
        return keyed.service.allowed_ranges(account_id) if keyed else ()

    app.add_route("/v1/key/bulk-check-inline", BulkCheckResource(store, config))
    app.add_route("/v1/key/check-block", CheckBlockResource(store))
    reporting = Reporting(config, own_ranges)
    app.add_route("/v1/key/report", ReportResource(reporting))
    app.add_route("/v1/key/bulk-report", BulkReportResource(reporting))
    app.add_route("/v1/key/reports", OwnReportsResource(reporting))
    app.add_route("/v1/key/reports/{ip}", AddressReportsResource(reporting))
    alerts = Alerts(config)
    for kind in KINDS:
        app.add_route(f"/v1/key/{kind}-alerts", AlertsResource(alerts, kind))
        app.add_route(
            f"/v1/key/{kind}-alerts/{{alert_id}}", AlertResource(alerts, kind)
        )
    app.add_route("/v1/key/alerts/matches", MatchesResource(alerts))
    app.add_route("/v1/removal-requests", RemovalRequestsResource(config))
    keyed: Any = getattr(app, "keyed", None)
    if keyed is not None:
        keyed.status.alert_counts = lambda account_id: alerts.store().counts(account_id)
