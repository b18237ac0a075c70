"""What a read replica's sync loop last did, for ``/healthz`` and ``/metrics``.

The loop (``sikker replica sync``, started by ``sikker serve --replica-of``)
replaces ``<data_dir>/replica.json`` atomically after every pass; server
workers read it (at most once per ``stat`` change). Times are epoch seconds.
The replica is *in step* when a pass found nothing newer on the primary;
its lag is the time since it last was.
"""

import os
import time
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

import orjson

STATUS_FILE = "replica.json"


@dataclass
class ReplicaStatus:
    """The sync loop's state (counters count since the loop started)."""

    primary: str
    sequence: int | None = None  # the sequence this replica serves
    primary_sequence: int | None = None  # the primary's, when last asked
    in_step_at: float | None = None  # the last pass that found nothing newer
    last_success: float | None = None
    last_attempt: float | None = None
    last_error: str | None = None
    passes: int = 0
    failures: int = 0
    full_pulls: int = 0  # passes that pulled a base generation
    bytes: int = 0  # file bytes pulled
    #: Tags of the primary's state, accounts and sessions last applied, so a
    #: restarted loop starts with a 304 (the state's only while it serves
    #: ``sequence``).
    state_tag: str | None = None
    accounts_tag: str | None = None
    sessions_tag: str | None = None
    #: The primary's event log sequence the report index is copied up to.
    reports_after: int = 0

    def lag(self, now: float | None = None) -> float | None:
        """Return seconds since the replica was last in step (None: never)."""
        if self.in_step_at is None:
            return None
        return max(0.0, (time.time() if now is None else now) - self.in_step_at)

    def public(self, now: float | None = None) -> dict[str, Any]:
        """Return what ``/healthz`` shows (camelCase)."""
        lag = self.lag(now)
        return {
            "primary": self.primary,
            "sequence": self.sequence,
            "primarySequence": self.primary_sequence,
            "lagSeconds": None if lag is None else round(lag, 3),
            "lastSync": self.last_success,
            "lastError": self.last_error,
        }

    def save(self, data_dir: Path) -> None:
        """Replace the status file atomically."""
        path = Path(data_dir) / STATUS_FILE
        tmp = path.with_name(f".{STATUS_FILE}.{os.getpid()}.tmp")
        tmp.write_bytes(orjson.dumps(asdict(self)))
        os.replace(tmp, path)


class StatusReader:
    """Reads a data directory's replica status, again only when it changed.

    ``primary`` (the configured one) is what the status shows.
    """

    def __init__(self, data_dir: Path, primary: str) -> None:
        self.path = Path(data_dir) / STATUS_FILE
        self.primary = primary
        self._stamp: Any = None
        self._status = ReplicaStatus(primary)

    def read(self) -> ReplicaStatus:
        """Return the last status saved (an empty one before the first pass)."""
        try:
            st = os.stat(self.path)
        except OSError:
            return self._status
        stamp = (st.st_ino, st.st_mtime_ns, st.st_size)
        if stamp != self._stamp:
            self._stamp = stamp
            status = load_status(self.path.parent)
            if status is None:
                status = ReplicaStatus("", last_error=f"{self.path} is unreadable")
            status.primary = self.primary
            self._status = status
        return self._status


def load_status(data_dir: Path) -> ReplicaStatus | None:
    """Return the status as saved (None: none, or unreadable)."""
    path = Path(data_dir) / STATUS_FILE
    try:
        data = orjson.loads(path.read_bytes())
        known = {f.name for f in fields(ReplicaStatus)}
        status = ReplicaStatus(**{k: v for k, v in data.items() if k in known})
        numbers = [status.in_step_at, status.last_success, status.last_attempt]
        if not all(n is None or isinstance(n, int | float) for n in numbers):
            raise TypeError("a time is not a number")
    except (OSError, ValueError, TypeError, AttributeError):
        return None
    return status
