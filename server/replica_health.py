"""A read replica's sync status in ``/healthz`` and ``/metrics``.

Both read ``<data_dir>/replica.json``, which the sync loop replaces after
every pass (:mod:`sikker.core.replica_status`). A server that is not a
replica shows nothing of it.
"""

import time
from collections.abc import Callable
from typing import Any

from sikker.core.config import Config
from sikker.core.primary import Primary
from sikker.core.replica_status import StatusReader
from sikker.server.prometheus import Exposition


def status_reader(config: Config) -> StatusReader | None:
    """Return the replica status reader of a replica's settings, else None."""
    if not config.replica_of:
        return None
    return StatusReader(config.data_path, Primary.parse(config.replica_of).display)


def health_section(config: Config) -> Callable[[], dict[str, Any]] | None:
    """Return what ``/healthz`` adds on a replica (None elsewhere)."""
    reader = status_reader(config)
    if reader is None:
        return None
    return lambda: {"replica": reader.read().public()}


def metrics_section(config: Config) -> Callable[[Exposition], None] | None:
    """Return the writer of a replica's gauges and counters (None elsewhere)."""
    reader = status_reader(config)
    if reader is None:
        return None

    def write(out: Exposition) -> None:
        status = reader.read()
        now = time.time()
        lag = status.lag(now)
        samples = (
            ("sikker_replica_sequence", "gauge",
             "Sequence of the snapshot this replica holds.", status.sequence),
            ("sikker_replica_primary_sequence", "gauge",
             "The primary's sequence when this replica last asked.",
             status.primary_sequence),
            ("sikker_replica_lag_seconds", "gauge",
             "Seconds since this replica was last in step with its primary.", lag),
            ("sikker_replica_last_sync_timestamp_seconds", "gauge",
             "When the last successful sync pass ended (epoch seconds).",
             status.last_success),
            ("sikker_replica_sync_passes_total", "counter",
             "Sync passes since the sync loop started.", status.passes),
            ("sikker_replica_sync_failures_total", "counter",
             "Failed sync passes since the sync loop started.", status.failures),
            ("sikker_replica_full_pulls_total", "counter",
             "Passes that pulled a base generation (first sync, gap, compaction).",
             status.full_pulls),
            ("sikker_replica_pulled_bytes_total", "counter",
             "Generation file bytes pulled from the primary.", status.bytes),
        )  # fmt: skip
        for name, kind, help_text, value in samples:
            if value is None:
                continue
            out.family(name, kind, help_text)
            out.sample(name, value, primary=status.primary)

    return write
