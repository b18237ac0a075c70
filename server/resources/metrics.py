"""``GET /metrics``: Prometheus metrics of the whole server (every worker).

Requests by route template and status class, a latency histogram per route
template, 429 quota rejections by family (all from the shared counter
table), and gauges read at scrape time: the served snapshot's sequence, age
and size, the event log's last sequence and, on a read replica, its sync
status (``extra``). Only clients in the setting
``metrics_allow`` may scrape (403 otherwise); ``client`` says who the
client is (through trusted proxies) and ``last_event`` reads the event log.
"""

import time
from collections.abc import Callable

import falcon

from sikker.core.config import Config
from sikker.core.store import SnapshotStore
from sikker.errors import SnapshotError
from sikker.server.allowlist import AllowList, parse_networks
from sikker.server.metrics_middleware import RequestMetrics
from sikker.server.metrics_table import BUCKETS, STATUS_CLASSES, Counts
from sikker.server.prometheus import CONTENT_TYPE, Exposition


def _requests(out: Exposition, counts: Counts) -> None:
    out.family(
        "sikker_http_requests_total",
        "counter",
        "Requests answered, by route template and status class.",
    )
    for route, route_counts in counts.routes.items():
        for status in STATUS_CLASSES:
            out.sample(
                "sikker_http_requests_total",
                route_counts.by_class[status],
                route=route,
                status=status,
            )
    out.family(
        "sikker_http_request_duration_seconds",
        "histogram",
        "Time from receiving a request to its response being ready.",
    )
    name = "sikker_http_request_duration_seconds"
    for route, route_counts in counts.routes.items():
        total = 0
        for bound, n in zip(
            [*map(str, BUCKETS), "+Inf"], route_counts.buckets, strict=True
        ):
            total += n
            out.sample(f"{name}_bucket", total, route=route, le=bound)
        out.sample(f"{name}_sum", route_counts.sum_seconds, route=route)
        out.sample(f"{name}_count", total, route=route)
    out.family(
        "sikker_quota_rejections_total",
        "counter",
        "Requests refused with 429 because a key's daily quota was used up.",
    )
    for family, n in counts.rejections.items():
        out.sample("sikker_quota_rejections_total", n, family=family)


class MetricsResource:
    """Render the metrics for allowed clients."""

    def __init__(
        self,
        store: SnapshotStore,
        config: Config,
        metrics: RequestMetrics,
        client: Callable[[falcon.Request], str],
        last_event: Callable[[], int | None],
        extra: Callable[[Exposition], None] | None = None,
    ) -> None:
        self.store = store
        self.extra = extra
        self.metrics = metrics
        self.client = client
        self.last_event = last_event
        self.allow = AllowList(parse_networks(config.metrics_allow, "metrics_allow"))

    def _snapshot(self, out: Exposition) -> None:
        try:
            manifest = self.store.current().manifest
        except SnapshotError:
            available = 0
        else:
            available = 1
            gauges = (
                ("sikker_snapshot_sequence", "Sequence of the served snapshot.",
                 manifest.sequence),
                ("sikker_snapshot_age_seconds", "Seconds since the served snapshot "
                 "was published.", max(0, int(time.time()) - manifest.created_at)),
                ("sikker_snapshot_ips", "IPs in the served snapshot.",
                 manifest.counts["ips"]),
            )  # fmt: skip
            for name, help_text, value in gauges:
                out.family(name, "gauge", help_text)
                out.sample(name, value)
        out.family("sikker_snapshot_available", "gauge", "1 when a snapshot is served.")
        out.sample("sikker_snapshot_available", available)

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        """Answer the exposition, or 403 for a client not in metrics_allow."""
        if not self.allow.allows(self.client(req)):
            raise falcon.HTTPForbidden(
                title="forbidden",
                description="metrics are only served to the networks of the "
                "setting metrics_allow",
            )
        out = Exposition()
        _requests(out, self.metrics.table.read())
        self._snapshot(out)
        last = self.last_event()
        if last is not None:
            out.family(
                "sikker_event_log_last_sequence",
                "gauge",
                "Sequence number of the last event appended to the event log.",
            )
            out.sample("sikker_event_log_last_sequence", last)
        if self.extra is not None:  # a read replica's sync status
            self.extra(out)
        resp.content_type = CONTENT_TYPE
        resp.text = out.text()
