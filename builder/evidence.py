"""What the builder knows about one IP: its aggregated evidence.

Evidence only grows (no time decay): sessions and events per protocol, how
many sessions matched each behavior and primitive (by catalog id, so a
reordered catalog cannot mix them up), community reports, first and last
seen. It is stored in the builder's state as compact JSON, and turned into
a scored record when a generation is written.
"""

from dataclasses import dataclass, field
from typing import Any

import orjson

from sikker.core.records import Record
from sikker.core.vocab import CATEGORIES, PROTOCOLS

#: One reporter's reports of one IP within this many seconds count once.
REPORT_WINDOW = 15 * 60
#: Reporter identities kept per IP (the distinct count stays exact beyond it).
MAX_REPORTERS = 1000


@dataclass
class Evidence:
    """Aggregated evidence about one IP address."""

    first_seen: int = 0  # epoch seconds
    last_seen: int = 0
    sessions: int = 0
    events: int = 0
    protocols: dict[str, list[int]] = field(
        default_factory=dict
    )  # name -> [sessions, events]
    behaviors: dict[str, int] = field(default_factory=dict)  # id -> matching sessions
    primitives: dict[str, int] = field(default_factory=dict)  # id -> matching sessions
    reports: int = 0
    reporters: dict[str, int] = field(
        default_factory=dict
    )  # reporter -> last report (s)
    other_reporters: int = 0  # distinct reporters known only by count
    categories: dict[str, int] = field(default_factory=dict)  # category name -> reports
    last_reported: int = 0
    geo: list[Any] | None = None  # [country, asn, org] when known from an import

    # -- sensor evidence -------------------------------------------------------

    def seen(self, ts: int) -> None:
        """Widen first/last seen to include ``ts`` (epoch seconds)."""
        self.first_seen = ts if not self.first_seen else min(self.first_seen, ts)
        self.last_seen = max(self.last_seen, ts)

    def add_session(self, protocol: str) -> None:
        """Count a new session on ``protocol``."""
        self.sessions += 1
        self.protocols.setdefault(protocol, [0, 0])[0] += 1

    def add_event(self, protocol: str) -> None:
        """Count one more event on ``protocol``."""
        self.events += 1
        self.protocols.setdefault(protocol, [0, 0])[1] += 1

    def add_matches(self, behaviors: set[str], primitives: set[str]) -> None:
        """Count a session that newly matched these behaviors and primitives."""
        for bid in behaviors:
            self.behaviors[bid] = self.behaviors.get(bid, 0) + 1
        for pid in primitives:
            self.primitives[pid] = self.primitives.get(pid, 0) + 1

    # -- community evidence ----------------------------------------------------

    def add_report(self, reporter: str, category: str, ts: int) -> bool:
        """Count a community report; False if it repeats one within the window.

        One reporter's reports of one IP within REPORT_WINDOW count once.
        """
        last = self.reporters.get(reporter)
        if last is not None and ts - last < REPORT_WINDOW:
            return False
        if last is None and len(self.reporters) >= MAX_REPORTERS:
            oldest = min(self.reporters, key=self.reporters.__getitem__)
            del self.reporters[oldest]
            self.other_reporters += 1
        self.reporters[reporter] = ts
        self.reports += 1
        self.categories[category] = self.categories.get(category, 0) + 1
        self.last_reported = max(self.last_reported, ts)
        return True

    @property
    def distinct_reporters(self) -> int:
        """Return how many different reporters reported this IP."""
        return len(self.reporters) + self.other_reporters

    # -- storage ---------------------------------------------------------------

    def to_json(self) -> bytes:
        """Return the compact stored form."""
        return orjson.dumps(
            {k: v for k, v in self.__dict__.items() if v not in (0, None, {}, [])}
        )

    @classmethod
    def from_json(cls, data: bytes) -> "Evidence":
        """Return evidence from its stored form."""
        return cls(**orjson.loads(data))

    @classmethod
    def from_record(
        cls, record: Record, catalog: dict[str, list[dict[str, Any]]], geo: list[Any]
    ) -> "Evidence":
        """Return the evidence a published record summarises.

        Used when new evidence arrives for an IP that so far only exists in a
        snapshot (imported or demo data): its totals carry over, its
        reporters are known only by count.
        """
        details = record.details()
        behaviors = catalog["behaviors"]
        primitives = catalog["primitives"]
        return cls(
            first_seen=record.first_seen,
            last_seen=record.last_seen,
            sessions=record.sessions,
            events=record.events,
            protocols={PROTOCOLS[p]: [s, e] for p, s, e in details.protocols},
            behaviors={behaviors[i]["id"]: n for i, n in details.behaviors},
            primitives={primitives[i]["id"]: n for i, n in details.primitives},
            reports=record.reports,
            other_reporters=record.reporters,
            categories={CATEGORIES[c - 1]: n for c, n in details.categories},
            last_reported=record.last_reported,
            geo=geo,
        )
