"""Match the evidence of each published generation against users' alerts.

After a step publishes, :class:`AlertMatcher` takes the step's changes (the
addresses whose evidence changed, the usernames and email addresses seen)
and looks them up in an index of every enabled alert: a dict for addresses
and names, and, for ranges, a bisection of the sorted changed addresses per
network. Matches go to the alert store, which skips a subject that matched
the same alert within ``alert_repeat_seconds`` and queues webhooks.
"""

import bisect
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sikker.builder.state import Changes
from sikker.core import ipcore
from sikker.core.alerts import Alert, AlertStore, Hit
from sikker.core.bulk import compact_results
from sikker.core.handles import shared
from sikker.core.snapshot import Snapshot

log = logging.getLogger("sikker.alerts")


@dataclass
class AlertIndex:
    """Every enabled alert, arranged for lookups by subject."""

    ips: dict[bytes, list[str]] = field(default_factory=dict)
    ranges: list[tuple[bytes, bytes, str]] = field(default_factory=list)
    names: dict[tuple[str, str], list[str]] = field(default_factory=dict)

    @classmethod
    def of(cls, alerts: list[Alert]) -> "AlertIndex":
        """Index ``alerts``."""
        index = cls()
        for alert in alerts:
            if alert.kind == "ip":
                index.ips.setdefault(ipcore.to_ip16(alert.value), []).append(alert.id)
            elif alert.kind == "range":
                version, network, prefix = ipcore.parse_cidr(alert.value)
                bits = 32 if version == 4 else 128
                last = network | ((1 << (bits - prefix)) - 1)
                first16, last16 = _ip16(version, network), _ip16(version, last)
                index.ranges.append((first16, last16, alert.id))
            else:
                index.names.setdefault((alert.kind, alert.value), []).append(alert.id)
        return index

    def __len__(self) -> int:
        return len(self.ips) + len(self.ranges) + len(self.names)

    def addresses(self, changed: list[bytes]) -> list[tuple[str, bytes]]:
        """Return ``(alert id, ip16)`` for changed addresses that alerts watch."""
        out = [(aid, ip) for ip in changed for aid in self.ips.get(ip, ())]
        if self.ranges:
            ordered = sorted(changed)
            for first, last, aid in self.ranges:
                lo = bisect.bisect_left(ordered, first)
                hi = bisect.bisect_right(ordered, last)
                out.extend((aid, ip) for ip in ordered[lo:hi])
        return out

    def named(self, kind: str, names: list[str]) -> list[tuple[str, str]]:
        """Return ``(alert id, name)`` for changed names that alerts watch."""
        return [(aid, n) for n in names for aid in self.names.get((kind, n), ())]


class AlertMatcher:
    """The builder's after-publish hook that records alert matches."""

    def __init__(
        self,
        data_dir: Path,
        snapshot: Callable[[], Snapshot | None],
        repeat: int,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.data_dir = Path(data_dir)
        self.snapshot = snapshot
        self.repeat = repeat
        self.clock = clock
        self._index = AlertIndex()
        self._version = -1

    @property
    def store(self) -> AlertStore:
        """Return this process's alert store."""
        return shared(AlertStore, self.data_dir)

    def index(self) -> AlertIndex:
        """Return the index of enabled alerts, rebuilt when alerts changed."""
        version = self.store.version()
        if version != self._version:
            self._index = AlertIndex.of(self.store.enabled())
            self._version = version
        return self._index

    def __call__(self, changes: Changes) -> int:
        """Record the matches of one step; return how many were recorded.

        Failures are logged, never raised: alerts must not stop the builder.
        """
        try:
            return self.match(changes)
        except Exception:
            log.exception("matching alerts failed; the next step tries again")
            return 0

    def match(self, changes: Changes) -> int:
        """Record the matches of one step's changes."""
        index = self.index()
        if not len(index):
            return 0
        hits = self._address_hits(index, list(changes.evidence))
        for name, intel in changes.usernames.items():
            detail = _intel("username", "totalSessions", name, intel)
            hits += [Hit(a, name, detail) for a, _ in index.named("username", [name])]
        for name, intel in changes.emails.items():
            detail = _intel("email", "totalMessages", name, intel)
            hits += [Hit(a, name, detail) for a, _ in index.named("email", [name])]
        return len(self.store.record(hits, int(self.clock()), self.repeat))

    def _address_hits(self, index: AlertIndex, changed: list[bytes]) -> list[Hit]:
        pairs = index.addresses(changed)
        if not pairs:
            return []
        snapshot = self.snapshot()
        keys = sorted({ip for _, ip in pairs})
        details: dict[bytes, dict[str, Any]]
        if snapshot is None:
            details = {ip: {"ip": ipcore.from_ip16(ip), "found": False} for ip in keys}
        else:
            results = compact_results(snapshot, keys)
            details = {
                ip: {**result, "snapshot": snapshot.sequence}
                for ip, result in zip(keys, results, strict=True)
            }
        return [Hit(aid, str(details[ip]["ip"]), details[ip]) for aid, ip in pairs]


def _intel(kind: str, total: str, name: str, intel: dict[str, Any]) -> dict[str, Any]:
    return {
        kind: name,
        total: intel.get("total", 0),
        "protocols": intel.get("protocols", {}),
        "firstSeenAt": intel.get("first", 0) * 1000,
        "lastSeenAt": intel.get("last", 0) * 1000,
    }


def _ip16(version: int, value: int) -> bytes:
    return ipcore.to_ip16(ipcore.format_ip(version, value))
