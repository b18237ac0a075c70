"""Apply event-log entries to the builder's state.

Sensor events update the evidence of their source IP and of their session:
a new session counts once, every event counts, and the editorial engine's
session matcher reports behaviors and primitives the moment a session first
matches them (each counts once per session). Login attempts feed username
intelligence, SMTP recipients email intelligence. ``report`` entries are
community reports. The result of a batch is a :class:`Changes` to commit.
"""

from collections.abc import Callable, Iterable
from typing import Any

from sikker.builder import stats
from sikker.builder.engine import Engine, SessionMatch
from sikker.builder.evidence import Evidence
from sikker.builder.fields import extract
from sikker.builder.state import EMAILS, USERNAMES, Changes, State
from sikker.core import ipcore

#: Seconds without events after which an open session is forgotten.
SESSION_TIMEOUT = 3600
_LOGINS = ("login_failed", "login_success")


class Aggregator:
    """Folds batches of events into evidence, sessions and intel."""

    def __init__(
        self,
        state: State,
        engine: Engine,
        seed: Callable[[bytes], Evidence | None] = lambda ip16: None,
        session_timeout: int = SESSION_TIMEOUT,
    ) -> None:
        """Create an aggregator.

        ``seed`` returns the evidence of an IP the state does not know yet
        but a published snapshot does (imported or demo data), so new
        evidence adds to it instead of replacing it.
        """
        self.state = state
        self.engine = engine
        self.seed = seed
        self.session_timeout = session_timeout
        behaviors = engine.catalog.behaviors
        primitives = engine.catalog.primitives
        self.behavior_ids = [b.id for b in behaviors]
        self.primitive_ids = [p.id for p in primitives]

    def apply(self, entries: Iterable[tuple[int, dict[str, Any]]]) -> Changes:
        """Return the changes a batch of ``(sequence, event)`` entries makes."""
        batch = _Batch(self)
        for sequence, event in entries:
            batch.cursor = sequence
            if event.get("event") == "report":
                batch.report(event)
            else:
                batch.sensor_event(event)
        return batch.changes()

    def expire(self, now: int) -> Changes:
        """Return changes dropping sessions idle since before ``now - timeout``."""
        changes = Changes(cursor=self.state.cursor())
        for key, session in self.state.sessions():
            if session["last"] < now - self.session_timeout:
                changes.sessions[key] = None
        return changes


class _Batch:
    """The working set of one batch: loaded once, changed in memory."""

    def __init__(self, aggregator: Aggregator) -> None:
        self.agg = aggregator
        self.cursor = aggregator.state.cursor()
        self.evidence: dict[bytes, Evidence] = {}
        self.sessions: dict[bytes, tuple[dict[str, Any], SessionMatch]] = {}
        self.closed: set[bytes] = set()
        self.usernames: dict[str, dict[str, Any]] = {}
        self.emails: dict[str, dict[str, Any]] = {}
        self.day_sessions: dict[tuple[int, str], int] = {}
        self.examples: dict[str, list[str]] = {}
        self.known = stats.example_counts(aggregator.state.stats())

    def _evidence(self, ip16: bytes) -> Evidence:
        ev = self.evidence.get(ip16)
        if ev is None:
            ev = self.agg.state.evidence(ip16) or self.agg.seed(ip16) or Evidence()
            self.evidence[ip16] = ev
        return ev

    def _session(
        self, key: bytes, protocol: str, ev: Evidence, ts: int
    ) -> tuple[dict[str, Any], SessionMatch]:
        live = self.sessions.get(key)
        if live is None:
            stored = self.agg.state.session(key)
            if stored is None:  # a new session (or a late event of a forgotten one)
                ev.add_session(protocol)
                day = (ts // 86_400, protocol)
                self.day_sessions[day] = self.day_sessions.get(day, 0) + 1
                live = (
                    {"protocol": protocol, "last": 0},
                    self.agg.engine.session(protocol),
                )
            else:
                live = (stored, self.agg.engine.restore(stored["match"]))
            self.sessions[key] = live
        return live

    def sensor_event(self, event: dict[str, Any]) -> None:
        ip16 = ipcore.to_ip16(event["src_ip"])
        ts = event["ts"] // 1000
        protocol = event["protocol"]
        ev = self._evidence(ip16)
        ev.seen(ts)
        key = f"{event['sensor']}/{event['session']}".encode()
        session, match = self._session(key, protocol, ev, ts)
        session["last"] = max(session["last"], ts)
        ev.add_event(protocol)
        primitives, behaviors = match.add(event)
        if primitives:
            self._examples(event, protocol, primitives)
        if primitives or behaviors:
            ev.add_matches(
                {self.agg.behavior_ids[i] for i in behaviors},
                {self.agg.primitive_ids[i] for i in primitives},
            )
        kind = event["event"]
        if kind in _LOGINS and event.get("username"):
            name = str(event["username"]).lower()
            self._count(self.usernames, USERNAMES, name, ts, protocol)
        elif kind == "email":
            for recipient in event.get("recipients") or ():
                self._count(self.emails, EMAILS, str(recipient).lower(), ts, protocol)
        elif kind == "close":
            self.closed.add(key)

    def _examples(
        self, event: dict[str, Any], protocol: str, primitives: set[int]
    ) -> None:
        """Keep the values that made primitives match, while they lack examples."""
        ids = self.agg.primitive_ids
        wanted = {
            i
            for i in primitives
            if self.known.get(ids[i], 0) + len(self.examples.get(ids[i], ()))
            < stats.EXAMPLES
        }
        if not wanted:
            return
        engine = self.agg.engine
        for field, value in extract(event, protocol, engine.local_domains):
            matched = engine.match_value(protocol, field, value)
            for index in wanted.intersection(matched):
                shown = stats.sanitise(value)
                mine = self.examples.setdefault(ids[index], [])
                if shown and shown not in mine:
                    mine.append(shown)

    def report(self, event: dict[str, Any]) -> None:
        ip16 = ipcore.to_ip16(event["src_ip"])
        ts = event["ts"] // 1000
        self._evidence(ip16).add_report(str(event["reporter"]), event["category"], ts)

    def _count(
        self,
        table: dict[str, dict[str, Any]],
        stored_in: bytes,
        name: str,
        ts: int,
        protocol: str,
    ) -> None:
        intel = table.get(name)
        if intel is None:
            intel = self.agg.state.intel(stored_in, name) or {
                "total": 0,
                "protocols": {},
                "first": ts,
                "last": ts,
            }
            table[name] = intel
        intel["total"] += 1
        intel["protocols"][protocol] = intel["protocols"].get(protocol, 0) + 1
        intel["first"] = min(intel["first"], ts)
        intel["last"] = max(intel["last"], ts)

    def changes(self) -> Changes:
        sessions: dict[bytes, dict[str, Any] | None] = {
            key: None if key in self.closed else {**session, "match": match.to_json()}
            for key, (session, match) in self.sessions.items()
        }
        return Changes(
            cursor=self.cursor,
            evidence=self.evidence,
            sessions=sessions,
            usernames=self.usernames,
            emails=self.emails,
            day_sessions=self.day_sessions,
            examples=self.examples,
        )
