"""Pages of a snapshot's STIX objects in TAXII order, with stable positions.

A feed is a sequence of *groups* sorted by ``(date added, address)``: the
static group (marking, producer identity, attack patterns; dated 2025-01-01,
before any evidence, address ``b""``) and one group per listed IP
(its indicator, then its relationships). A :class:`Position` names an object
by its group's key and its index in the group, so it means the same place
in any later snapshot: a walk that crosses a snapshot change neither skips
nor repeats unchanged objects, and a changed IP shows up again, later, as
its new version (see docs/taxii.md).
"""

import heapq
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np

from sikker.core import ipcore
from sikker.core.records import Record
from sikker.core.snapshot import TOMBSTONES, Snapshot
from sikker.core.stix import (
    IP_TYPES,
    SPEC_VERSION,
    STATIC_TYPES,
    StixMapper,
    version_time,
)
from sikker.core.stix_order import id_index, order_of

_FIRST_CHUNK = 256
_MAX_CHUNK = 1 << 16


class Position(NamedTuple):
    """Where a page starts: object number ``item`` of the group keyed (added, ip16)."""

    added: int
    ip16: bytes
    item: int = 0


@dataclass(frozen=True)
class Selector:
    """Which IPs a collection holds."""

    score_minimum: int = 0
    protocol: int | None = None  # a vocab.PROTOCOLS index


@dataclass(frozen=True)
class ObjectFilter:
    """TAXII ``match[...]`` filters (None = no filter)."""

    types: frozenset[str] | None = None
    ids: frozenset[str] | None = None
    versions: frozenset[str] | None = None  # "first", "last", "all" or times
    spec_versions: frozenset[str] | None = None

    def accepts(self, obj: dict[str, Any], version: str) -> bool:
        """Return whether an object passes every filter."""
        if self.types is not None and obj["type"] not in self.types:
            return False
        if self.ids is not None and obj["id"] not in self.ids:
            return False
        return self.versions is None or bool(
            self.versions & {"first", "last", "all", version}
        )

    @property
    def nothing(self) -> bool:
        """Return whether no object can pass (e.g. spec_version 2.0 only)."""
        return self.spec_versions is not None and SPEC_VERSION not in self.spec_versions


class Entry(NamedTuple):
    """One object of a page, with its date added and position."""

    obj: dict[str, Any]
    added: int
    version: str
    position: Position


class Page(NamedTuple):
    """Objects in TAXII order; ``next`` is where the following page starts."""

    entries: list[Entry]
    more: bool
    next: Position | None


_Group = tuple[tuple[int, bytes], Callable[[], list[dict[str, Any]]]]


class Feed:
    """The objects of one snapshot as a collection sees them."""

    def __init__(self, snapshot: Snapshot, mapper: StixMapper) -> None:
        self.snapshot = snapshot
        self.mapper = mapper
        self.static_key = (mapper.static_time, b"")

    # -- pages -------------------------------------------------------------------

    def page(
        self,
        selector: Selector,
        filters: ObjectFilter,
        start: Position | None,
        added_after: int | None,
        limit: int,
    ) -> Page:
        """Return up to ``limit`` objects from ``start`` on (inclusive)."""
        begin = Position(0, b"", 0)
        if added_after is not None:
            begin = max(begin, Position(added_after + 1, b"", 0))
        if start is not None:
            begin = max(begin, start)
        if filters.nothing:
            return Page([], False, None)
        if filters.ids is not None:
            groups = self._id_groups(selector, filters.ids, begin)
        else:
            groups = self._groups(selector, filters.types, begin)
        entries: list[Entry] = []
        for (added, ip16), load in groups:
            skip = begin.item if (added, ip16) == begin[:2] else 0
            for index, obj in enumerate(load()):
                if index < skip:
                    continue
                version = _version(obj)
                if not filters.accepts(obj, version):
                    continue
                position = Position(added, ip16, index)
                if len(entries) == limit:
                    return Page(entries, True, position)
                entries.append(Entry(obj, added, version, position))
        return Page(entries, False, None)

    def ip_objects(self, selector: Selector, ip: str) -> list[Entry]:
        """Return the objects of one IP in the collection ([] if not in it)."""
        ip16 = ipcore.to_ip16(ip)
        record = self.snapshot.lookup(ip)
        if record is None or not _selected(selector, record):
            return []
        return self._entries(ip16, record)

    def object(self, selector: Selector, object_id: str) -> Entry | None:
        """Return the object with this id in the collection, or None."""
        ids = frozenset({object_id})
        for (added, ip16), load in self._id_groups(selector, ids, Position(0, b"")):
            for index, obj in enumerate(load()):
                if obj["id"] == object_id:
                    return Entry(
                        obj, added, _version(obj), Position(added, ip16, index)
                    )
        return None

    # -- groups ------------------------------------------------------------------

    def _groups(
        self, selector: Selector, types: frozenset[str] | None, begin: Position
    ) -> Iterator[_Group]:
        """Yield every group from ``begin`` on, in order."""
        want_static = types is None or bool(types & STATIC_TYPES)
        want_ip = types is None or bool(types & IP_TYPES)
        need_behaviors = types is not None and "indicator" not in types
        sources: list[Iterator[tuple[tuple[int, bytes], int]]] = []
        if want_static and self.static_key >= begin[:2]:
            sources.append(iter([(self.static_key, -1)]))
        if want_ip:
            for layer in range(len(self.snapshot.layers)):
                sources.append(self._layer_rows(layer, selector, begin, need_behaviors))
        for key, layer in heapq.merge(*sources):
            if layer < 0:
                yield key, self.mapper.static_objects
            else:
                yield key, self._loader(layer, key[1])

    def _layer_rows(
        self, layer: int, selector: Selector, begin: Position, need_behaviors: bool
    ) -> Iterator[tuple[tuple[int, bytes], int]]:
        """Yield ((added, ip16), layer) of a layer's selected rows in order."""
        snapshot = self.snapshot
        gen = snapshot.layers[layer]
        order = order_of(gen, self.mapper.fallback_time)
        tombstones = None
        if layer == 0 and snapshot.base is not None:
            tombstones = np.frombuffer(
                snapshot.top.bitmap(TOMBSTONES).to_array(), np.uint32
            )
        at = order.seek(begin.added, begin.ip16)
        chunk = _FIRST_CHUNK
        while at < len(order):
            rows = order.order[at : at + chunk]
            added = order.added[at : at + chunk]
            at += chunk
            chunk = min(chunk * 2, _MAX_CHUNK)
            summary = gen.summary[rows]
            keep = summary["score"] >= selector.score_minimum
            if selector.protocol is not None:
                keep &= (summary["protocols"] >> selector.protocol) & 1 == 1
            if need_behaviors:
                keep &= summary["max_severity"] > 0
            if tombstones is not None and len(tombstones):
                keep &= ~_member(tombstones, rows)
            for row, when in zip(
                rows[keep].tolist(), added[keep].tolist(), strict=True
            ):
                yield (when, gen.ip16(row)), layer

    def _loader(self, layer: int, ip16: bytes) -> Callable[[], list[dict[str, Any]]]:
        gen = self.snapshot.layers[layer]

        def load() -> list[dict[str, Any]]:
            buf = gen.get(ip16)
            if not buf:
                return []
            return self.mapper.ip_objects(ipcore.from_ip16(ip16), Record.decode(buf))

        return load

    def _id_groups(
        self, selector: Selector, ids: frozenset[str], begin: Position
    ) -> Iterator[_Group]:
        """Yield, in order, the groups holding any of ``ids`` from ``begin`` on."""
        found: dict[tuple[int, bytes], Callable[[], list[dict[str, Any]]]] = {}
        static_ids = {o["id"] for o in self.mapper.static_objects()}
        if ids & static_ids:
            found[self.static_key] = self.mapper.static_objects
        catalog_ids = [b["id"] for b in self.snapshot.catalog["behaviors"]]
        for object_id in ids - static_ids:
            kind = object_id.split("--")[0]
            if kind not in IP_TYPES:
                continue
            for gen in self.snapshot.layers:
                for row in id_index(gen, kind, catalog_ids).rows_of(object_id):
                    ip16 = gen.ip16(row)
                    record = self._current(ip16)
                    if record is not None and _selected(selector, record):
                        key = (self._added(record), ip16)
                        found[key] = _constant(self._objects(ip16, record))
        for key in sorted(found):
            if key >= begin[:2]:
                yield key, found[key]

    # -- helpers -----------------------------------------------------------------

    def _current(self, ip16: bytes) -> Record | None:
        return self.snapshot.lookup(ipcore.from_ip16(ip16))

    def _added(self, record: Record) -> int:
        return version_time(record) or self.mapper.fallback_time

    def _objects(self, ip16: bytes, record: Record) -> list[dict[str, Any]]:
        return self.mapper.ip_objects(ipcore.from_ip16(ip16), record)

    def _entries(self, ip16: bytes, record: Record) -> list[Entry]:
        added = self._added(record)
        return [
            Entry(obj, added, _version(obj), Position(added, ip16, index))
            for index, obj in enumerate(self._objects(ip16, record))
        ]


def _selected(selector: Selector, record: Record) -> bool:
    if record.score < selector.score_minimum:
        return False
    if selector.protocol is None:
        return True
    return any(pid == selector.protocol for pid, _, _ in record.protocols)


def _version(obj: dict[str, Any]) -> str:
    return str(obj.get("modified") or obj["created"])


def _member(sorted_values: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """Return a mask of the ``rows`` present in a sorted array."""
    at = np.searchsorted(sorted_values, rows)
    at[at == len(sorted_values)] = 0
    return sorted_values[at] == rows


def _constant(
    objects: list[dict[str, Any]],
) -> Callable[[], list[dict[str, Any]]]:
    return lambda: objects
