"""The editorial engine: classify sessions into primitives and behaviors.

:class:`Engine` compiles a :class:`~sikker.builder.catalog.Catalog` once: per
protocol, one :class:`~sikker.builder.matchers.FieldMatcher` per evidence
field, so a value is only tested against the primitives that could match it.
:meth:`Engine.session` opens a :class:`SessionMatch`, which takes the
session's normalised events in any number of batches and reports each
primitive and behavior the moment the session first matches it::

    engine = Engine(load_catalog())
    match = engine.session("ssh")
    for event in events:
        primitives, behaviors = match.add(event)  # newly matched indexes

Semantics (docs/catalog.md): a primitive matches once at least ``min_count``
of the session's values of its field match it; a behavior matches when all
of ``all`` and, if given, one of ``any`` match, on one of its protocols.
Matching is monotonic: once matched, always matched. The session-level
action ``connect_only`` is decided by the ``close`` event: it matches when
nothing but ``connect`` (and evidence-free ``action``) events came before.
"""

from collections.abc import Callable, Collection, Iterable, Sequence
from typing import Any

from sikker.builder.catalog import Catalog, Primitive
from sikker.builder.fields import HANDLERS, is_payload
from sikker.builder.matchers import CACHE_SIZE, FieldMatcher, ValueMatcher
from sikker.core.vocab import PROTOCOLS

#: Version of the :meth:`SessionMatch.to_json` form.
STATE_VERSION = 1

_CONNECT_ONLY = [("action", "connect_only")]

#: Builds the matcher of one (protocol, field) group from
#: ``(catalog index, primitive)`` pairs and a cache size.
MatcherFactory = Callable[[Sequence[tuple[int, Primitive]], int], ValueMatcher]


class _Plan:
    """The compiled catalog for one protocol."""

    def __init__(
        self,
        protocol: str,
        catalog: Catalog,
        matchers: dict[tuple[int, ...], ValueMatcher],
        make: MatcherFactory,
        cache_size: int,
    ) -> None:
        self.protocol = protocol
        groups: dict[str, list[int]] = {}
        for index, primitive in enumerate(catalog.primitives):
            if protocol in primitive.protocols:
                groups.setdefault(primitive.field, []).append(index)
        self.primitives = frozenset(i for g in groups.values() for i in g)
        self.fields: dict[str, ValueMatcher] = {}
        for field, indexes in groups.items():
            key = tuple(indexes)
            matcher = matchers.get(key)
            if matcher is None:  # protocols with the same primitives share one
                pairs = [(i, catalog.primitives[i]) for i in indexes]
                matcher = matchers[key] = make(pairs, cache_size)
            self.fields[field] = matcher
        self.min_counts = tuple(p.min_count for p in catalog.primitives)
        self.behaviors: dict[int, tuple[tuple[int, ...], tuple[int, ...]]] = {}
        self.behaviors_of: dict[int, list[int]] = {}
        for b, behavior in enumerate(catalog.behaviors):
            if protocol not in behavior.protocols:
                continue
            all_of = tuple(map(catalog.primitive_index, behavior.all_of))
            any_of = tuple(map(catalog.primitive_index, behavior.any_of))
            self.behaviors[b] = (all_of, any_of)
            for p in all_of + any_of:
                self.behaviors_of.setdefault(p, []).append(b)


class Engine:
    """A catalog compiled for matching sessions; cheap sessions share it."""

    def __init__(
        self,
        catalog: Catalog,
        local_domains: Collection[str] = (),
        cache_size: int = CACHE_SIZE,
        matcher: MatcherFactory = FieldMatcher,
    ) -> None:
        """Compile ``catalog``.

        Args:
            catalog: The validated catalog.
            local_domains: Mail domains the sensors accept mail for; SMTP
                recipients elsewhere are relay attempts (none by default: a
                honeypot serves no real domain).
            cache_size: Values cached per field matcher (0 disables).
            matcher: Builds each (protocol, field) matcher; tests and
                benchmarks pass :class:`~sikker.builder.matchers.ReferenceMatcher`.
        """
        self.catalog = catalog
        self.local_domains = frozenset(d.lower().rstrip(".") for d in local_domains)
        self.min_counts = tuple(p.min_count for p in catalog.primitives)
        matchers: dict[tuple[int, ...], ValueMatcher] = {}
        self._plans = {
            p: _Plan(p, catalog, matchers, matcher, cache_size) for p in PROTOCOLS
        }

    def session(self, protocol: str) -> "SessionMatch":
        """Return a new, empty session match for ``protocol``."""
        return SessionMatch(self, self._plan(protocol))

    def restore(self, state: dict[str, Any]) -> "SessionMatch":
        """Return the session match :meth:`SessionMatch.to_json` saved.

        Primitives and behaviors are saved by id, so a state outlives catalog
        edits: unknown ids are dropped, and anything the current catalog
        matches that was not reported yet is reported by the next ``add``.

        Raises:
            ValueError: ``state`` is not a saved session match.
        """
        if not isinstance(state, dict) or state.get("v") != STATE_VERSION:
            raise ValueError(f"not a version {STATE_VERSION} session match state")
        match = SessionMatch(self, self._plan(state.get("protocol")))
        match._payload = bool(state.get("payload"))
        match._closed = bool(state.get("closed"))
        ids = self.catalog
        for primitive_id, count in dict(state.get("counts") or {}).items():
            try:
                index = ids.primitive_index(primitive_id)
            except KeyError:
                continue
            if index in match._plan.primitives:
                match.counts[index] = int(count)
        reported_p = _indexes(state.get("primitives"), ids.primitive_index)
        reported_b = _indexes(state.get("behaviors"), ids.behavior_index)
        match._primitives = {
            p for p, n in match.counts.items() if n >= self.min_counts[p]
        }
        match._behaviors = {
            b for b in match._plan.behaviors if match._behavior_matches(b)
        }
        match._pending = (
            match._primitives - reported_p,
            match._behaviors - reported_b,
        )
        return match

    def match_value(self, protocol: str, field: str, value: str) -> tuple[int, ...]:
        """Return the indexes of the primitives one field value matches."""
        matcher = self._plan(protocol).fields.get(field)
        return matcher.match(value) if matcher is not None else ()

    def _plan(self, protocol: Any) -> _Plan:
        try:
            return self._plans[protocol]
        except (KeyError, TypeError):
            raise ValueError(
                f"unknown protocol {protocol!r}; expected one of {', '.join(PROTOCOLS)}"
            ) from None


def _indexes(ids: Any, index_of: Any) -> set[int]:
    found = set()
    for item in ids or ():
        try:
            found.add(index_of(item))
        except KeyError:
            continue
    return found


class SessionMatch:
    """What one session has matched so far; fed event by event."""

    __slots__ = (
        "_behaviors",
        "_closed",
        "_engine",
        "_payload",
        "_pending",
        "_plan",
        "_primitives",
        "counts",
    )

    def __init__(self, engine: Engine, plan: _Plan) -> None:
        """Start an empty match; use :meth:`Engine.session`."""
        self._engine = engine
        self._plan = plan
        #: Matching values seen per primitive index.
        self.counts: dict[int, int] = {}
        self._primitives: set[int] = set()
        self._behaviors: set[int] = set()
        self._payload = False
        self._closed = False
        self._pending: tuple[set[int], set[int]] | None = None

    @property
    def protocol(self) -> str:
        """Return the session's protocol."""
        return self._plan.protocol

    @property
    def primitives(self) -> frozenset[int]:
        """Return the indexes of the primitives the session matches."""
        return frozenset(self._primitives)

    @property
    def behaviors(self) -> frozenset[int]:
        """Return the indexes of the behaviors the session matches."""
        return frozenset(self._behaviors)

    def add(self, event: dict[str, Any]) -> tuple[set[int], set[int]]:
        """Take one normalised event of the session.

        The session's protocol decides which primitives apply, whatever the
        event says. Returns the primitive and behavior indexes that this
        event made match (each is reported once per session).
        """
        plan = self._plan
        fields = plan.fields
        kind = event.get("event")
        if kind == "close":
            pairs = [] if self._closed or self._payload else _CONNECT_ONLY
            self._closed = True
        else:
            handler = HANDLERS.get(kind)  # type: ignore[arg-type]
            if handler is None:
                return set(), set()
            pairs = handler(event, plan.protocol, self._engine.local_domains, fields)
            if not self._payload and is_payload(event, pairs):
                self._payload = True
        new_p: set[int] = set()
        counts = self.counts
        for field, value in pairs:
            matcher = fields.get(field)
            if matcher is not None:
                for index in matcher.match(value):
                    count = counts[index] = counts.get(index, 0) + 1
                    if count == plan.min_counts[index]:
                        new_p.add(index)
        if not new_p and self._pending is None:
            return new_p, set()
        return new_p, self._newly_matched(new_p)

    def _newly_matched(self, new_p: set[int]) -> set[int]:
        """Record newly matched primitives; return the behaviors they complete."""
        new_b: set[int] = set()
        if new_p:
            self._primitives |= new_p
            behaviors_of = self._plan.behaviors_of
            for index in new_p:
                for b in behaviors_of.get(index, ()):
                    if b not in self._behaviors and self._behavior_matches(b):
                        new_b.add(b)
            self._behaviors |= new_b
        if self._pending is not None:
            new_p |= self._pending[0]
            new_b |= self._pending[1]
            self._pending = None
        return new_b

    def extend(self, events: Iterable[dict[str, Any]]) -> tuple[set[int], set[int]]:
        """Take several events; return everything they newly matched."""
        all_p: set[int] = set()
        all_b: set[int] = set()
        for event in events:
            new_p, new_b = self.add(event)
            all_p |= new_p
            all_b |= new_b
        return all_p, all_b

    def _behavior_matches(self, b: int) -> bool:
        all_of, any_of = self._plan.behaviors[b]
        matched = self._primitives
        if not all(p in matched for p in all_of):
            return False
        return not any_of or any(p in matched for p in any_of)

    def to_json(self) -> dict[str, Any]:
        """Return the state as plain JSON-able data (ids, not indexes)."""
        primitives = self._engine.catalog.primitives
        behaviors = self._engine.catalog.behaviors
        reported_p, reported_b = self._primitives, self._behaviors
        if self._pending is not None:
            reported_p = reported_p - self._pending[0]
            reported_b = reported_b - self._pending[1]
        return {
            "v": STATE_VERSION,
            "protocol": self._plan.protocol,
            "counts": {primitives[p].id: n for p, n in sorted(self.counts.items())},
            "primitives": [primitives[p].id for p in sorted(reported_p)],
            "behaviors": [behaviors[b].id for b in sorted(reported_b)],
            "payload": self._payload,
            "closed": self._closed,
        }
