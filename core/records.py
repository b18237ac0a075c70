"""Scored IP records: the columnar input of the builder and the stored form.

The builder takes a :class:`RecordTable` (one numpy array per field, so ten
million records never become ten million Python objects). Inside a snapshot,
each record is stored under its address as ``HEADER`` (which carries the
record's row id) followed by four packed arrays (protocols, behaviors,
primitives, report categories); see docs/snapshot-format.md.
"""

import struct
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, ClassVar, NamedTuple

import numpy as np


class RecordHeader(NamedTuple):
    """The fixed fields of a stored record, then the record's bytes."""

    score: int  # confidence after known-benign discounts
    raw_score: int  # confidence before discounts
    max_severity: int  # 0 none, 1 low .. 4 critical
    benign_source: int  # 0 or 1-based index into the snapshot's benign sources
    n_protocols: int
    n_behaviors: int
    n_primitives: int
    n_categories: int
    flags: int
    row: int
    country: int  # index into the snapshot's country list
    asn: int
    first_seen: int
    last_seen: int
    sessions: int
    events: int
    reports: int
    reporters: int
    last_reported: int
    buf: bytes


#: Record header layout, little-endian, in RecordHeader field order.
HEADER = struct.Struct("<BBBBBBBBB3xIIIIIIIIII")
HEADER_FIELDS = RecordHeader._fields[:-1]
#: Bytes per element of the packed arrays that follow the header.
PROTOCOL_ITEM = struct.Struct("<BII")  # protocol id, sessions, events
COUNTED_ITEM = struct.Struct("<HI")  # behavior/primitive id, count
CATEGORY_ITEM = struct.Struct("<BI")  # report category id (1-16), count


#: The first 12 bytes of an IPv4 address in 16-byte storage form.
MAPPED_PREFIX = bytes(10) + b"\xff\xff"


def is_ipv4(ip: np.ndarray) -> np.ndarray:
    """Return a bool mask of the IPv4 rows of an (N, 16) storage-form array."""
    return (ip[:, :12] == np.frombuffer(MAPPED_PREFIX, np.uint8)).all(axis=1)


@dataclass
class Ragged:
    """A ragged column: entries of record i are ``[offsets[i]:offsets[i+1]]``."""

    offsets: np.ndarray  # int64, length N + 1
    ids: np.ndarray
    values: dict[str, np.ndarray] = field(default_factory=dict)

    @classmethod
    def empty(cls, n: int, id_dtype: str, value_names: tuple[str, ...]) -> "Ragged":
        """Return a column with no entries for ``n`` records."""
        return cls(
            np.zeros(n + 1, np.int64),
            np.zeros(0, id_dtype),
            {name: np.zeros(0, np.uint32) for name in value_names},
        )

    @classmethod
    def from_items(
        cls,
        records: "Sequence[Sequence[tuple[int, ...]]]",
        id_dtype: str,
        names: tuple[str, ...],
    ) -> "Ragged":
        """Build a column from each record's ``(id, value, ...)`` tuples."""
        offsets = np.zeros(len(records) + 1, np.int64)
        np.cumsum([len(items) for items in records], out=offsets[1:])
        flat = [item for items in records for item in items]
        columns = list(zip(*flat, strict=True)) or [()] * (len(names) + 1)
        return cls(
            offsets,
            np.array(columns[0], id_dtype),
            {name: np.array(columns[i + 1], np.uint32) for i, name in enumerate(names)},
        )

    @classmethod
    def concat(cls, columns: "list[Ragged]") -> "Ragged":
        """Return the records of every column, one after the other."""
        lengths = np.concatenate([c.lengths() for c in columns])
        offsets = np.zeros(len(lengths) + 1, np.int64)
        np.cumsum(lengths, out=offsets[1:])
        return cls(
            offsets,
            np.concatenate([c.ids for c in columns]),
            {
                name: np.concatenate([c.values[name] for c in columns])
                for name in columns[0].values
            },
        )

    def lengths(self) -> np.ndarray:
        """Return the number of entries of each record."""
        return np.diff(self.offsets)

    def take(self, order: np.ndarray) -> "Ragged":
        """Return the column with records reordered by ``order``."""
        lengths = self.lengths()[order]
        offsets = np.zeros(len(order) + 1, np.int64)
        np.cumsum(lengths, out=offsets[1:])
        starts = self.offsets[:-1][order]
        # Index of every element in the old arrays, in the new record order.
        index = np.repeat(starts - offsets[:-1], lengths) + np.arange(offsets[-1])
        return Ragged(
            offsets,
            self.ids[index],
            {name: col[index] for name, col in self.values.items()},
        )


@dataclass
class RecordTable:
    """Columnar scored records, one entry per distinct IP.

    ``ip`` holds the 16-byte storage form (IPv4 as ``::ffff:a.b.c.d``), see
    :func:`sikker.core.ipcore.to_ip16`. ``country`` holds ISO codes as ``S2``
    bytes (``b""`` when unknown); ``asn`` 0 means unknown. Times are UTC epoch
    seconds. ``benign_source`` is 0 or a 1-based index into ``benign_sources``.
    """

    ip: np.ndarray  # (N, 16) uint8
    score: np.ndarray  # uint8, 0-100, after benign discounts
    raw_score: np.ndarray  # uint8, 0-100, before discounts
    country: np.ndarray  # S2
    asn: np.ndarray  # uint32
    first_seen: np.ndarray  # uint32
    last_seen: np.ndarray  # uint32
    sessions: np.ndarray  # uint32
    events: np.ndarray  # uint32
    reports: np.ndarray  # uint32
    reporters: np.ndarray  # uint32
    last_reported: np.ndarray  # uint32
    benign_source: np.ndarray  # uint8
    protocols: Ragged  # ids uint8; values sessions, events
    behaviors: Ragged  # ids uint16 (catalog index); values count
    primitives: Ragged  # ids uint16 (catalog index); values count
    categories: Ragged  # ids uint8 (1-16); values count
    asn_orgs: dict[int, str] = field(default_factory=dict)
    catalog: dict[str, list[dict[str, Any]]] = field(
        default_factory=lambda: {"behaviors": [], "primitives": []}
    )
    benign_sources: list[dict[str, Any]] = field(default_factory=list)

    SCALARS = (
        "score",
        "raw_score",
        "country",
        "asn",
        "first_seen",
        "last_seen",
        "sessions",
        "events",
        "reports",
        "reporters",
        "last_reported",
        "benign_source",
    )
    RAGGED = ("protocols", "behaviors", "primitives", "categories")
    #: The numpy type of each scalar column.
    DTYPES: ClassVar[dict[str, str]] = {
        "score": "u1",
        "raw_score": "u1",
        "country": "S2",
        "asn": "u4",
        "first_seen": "u4",
        "last_seen": "u4",
        "sessions": "u4",
        "events": "u4",
        "reports": "u4",
        "reporters": "u4",
        "last_reported": "u4",
        "benign_source": "u1",
    }

    @classmethod
    def from_rows(
        cls,
        ips: Sequence[bytes],
        scalars: dict[str, list[Any]],
        details: Sequence["RecordDetails"],
        **meta: Any,
    ) -> "RecordTable":
        """Build a table from per-record Python values (small tables only).

        ``scalars`` maps every name in SCALARS to one value per record
        (``country`` as an ISO code string); ``meta`` is ``asn_orgs``,
        ``catalog`` and ``benign_sources``.
        """
        columns: dict[str, Any] = {
            name: np.array(scalars[name], cls.DTYPES[name]) for name in cls.SCALARS
        }
        columns.update(ragged_columns(details))
        return cls(
            ip=np.frombuffer(b"".join(ips), np.uint8).reshape(-1, 16).copy(),
            **columns,
            **meta,
        )

    def __len__(self) -> int:
        return len(self.ip)

    @classmethod
    def concat(cls, tables: "list[RecordTable]") -> "RecordTable":
        """Return the records of every table (same catalog and sources)."""
        first = tables[0]
        columns: dict[str, Any] = {"ip": np.concatenate([t.ip for t in tables])}
        for name in cls.SCALARS:
            columns[name] = np.concatenate([getattr(t, name) for t in tables])
        for name in cls.RAGGED:
            columns[name] = Ragged.concat([getattr(t, name) for t in tables])
        orgs: dict[int, str] = {}
        for table in tables:
            orgs.update(table.asn_orgs)
        return cls(
            **columns,
            asn_orgs=orgs,
            catalog=first.catalog,
            benign_sources=first.benign_sources,
        )

    def take(self, order: np.ndarray) -> "RecordTable":
        """Return a table with records reordered (or subset) by ``order``."""
        columns: dict[str, Any] = {"ip": take_ip(self.ip, order)}
        for name in self.SCALARS:
            columns[name] = getattr(self, name)[order]
        for name in self.RAGGED:
            columns[name] = getattr(self, name).take(order)
        return RecordTable(
            **columns,
            asn_orgs=self.asn_orgs,
            catalog=self.catalog,
            benign_sources=self.benign_sources,
        )

    def validate(self, by_address: np.ndarray | None = None) -> None:
        """Raise ValueError when columns disagree in length, range or uniqueness.

        ``by_address`` may pass :func:`address_order` of ``ip`` if known.
        """
        n = len(self.ip)
        if self.ip.shape != (n, 16) or self.ip.dtype != np.uint8:
            raise ValueError("ip must be an (N, 16) uint8 array")
        for name in self.SCALARS:
            if len(getattr(self, name)) != n:
                raise ValueError(
                    f"column {name} has {len(getattr(self, name))} rows, expected {n}"
                )
        for name in self.RAGGED:
            col = getattr(self, name)
            if len(col.offsets) != n + 1 or col.offsets[-1] != len(col.ids):
                raise ValueError(f"ragged column {name} has inconsistent offsets")
            if col.lengths().max(initial=0) > 255:
                raise ValueError(
                    f"ragged column {name}: at most 255 entries per record"
                )
        if n and (self.score.max() > 100 or self.raw_score.max() > 100):
            raise ValueError("scores must be within 0-100")
        order = address_order(self.ip) if by_address is None else by_address
        ordered = take_ip(self.ip, order).view(np.uint64)
        repeats = np.flatnonzero((ordered[1:] == ordered[:-1]).all(axis=1))
        if len(repeats):
            raise ValueError(f"ip column has {len(repeats)} duplicate addresses")


def take_ip(ip: np.ndarray, order: np.ndarray) -> np.ndarray:
    """Return ``ip[order]`` for an (N, 16) array, gathering 8 bytes at a time."""
    halves = np.ascontiguousarray(ip).view(np.uint64)
    return np.take(halves, order, axis=0).view(np.uint8)


def address_order(ip: np.ndarray) -> np.ndarray:
    """Return the permutation that sorts (N, 16) storage-form addresses."""
    halves = np.ascontiguousarray(ip).view(">u8")  # big-endian halves sort as bytes
    return np.lexsort((halves[:, 1], halves[:, 0]))


#: One row of ``summary.bin``: what a blacklist needs without touching LMDB.
SUMMARY_DTYPE = np.dtype(
    [
        ("score", "u1"),
        ("raw_score", "u1"),
        ("max_severity", "u1"),
        ("benign_source", "u1"),
        ("country", "<u2"),  # index into the snapshot's country list
        ("protocols", "<u2"),  # bit i set = activity on vocab.PROTOCOLS[i]
        ("asn", "<u4"),
        ("last_seen", "<u4"),
        ("sessions", "<u4"),
    ]
)


_new_tuple = tuple.__new__


class Record(RecordHeader):
    """One decoded snapshot record: the header fields, then the raw bytes.

    The packed arrays (protocols, behaviors, ...) decode on first use.
    """

    __slots__ = ()

    @classmethod
    def decode(cls, buf: bytes) -> "Record":
        """Return the record stored as ``buf``."""
        # PERF: concatenation is ~30% faster here than unpacking into a tuple.
        return _new_tuple(cls, HEADER.unpack_from(buf) + (buf,))  # noqa: RUF005

    def details(self) -> "RecordDetails":
        """Decode the packed arrays (one struct unpack for all four)."""
        n_p, n_b, n_m = self.n_protocols, self.n_behaviors, self.n_primitives
        values = _tail(n_p, n_b, n_m, self.n_categories).unpack_from(
            self.buf, HEADER.size
        )
        a = 3 * n_p
        b = a + 2 * n_b
        c = b + 2 * n_m
        return RecordDetails(
            list(zip(values[0:a:3], values[1:a:3], values[2:a:3])),  # noqa: B905
            list(zip(values[a:b:2], values[a + 1 : b : 2])),  # noqa: B905
            list(zip(values[b:c:2], values[b + 1 : c : 2])),  # noqa: B905
            list(zip(values[c::2], values[c + 1 :: 2])),  # noqa: B905
        )

    @property
    def protocols(self) -> list[tuple[int, int, int]]:
        """Return ``(protocol id, sessions, events)`` per protocol."""
        return self.details().protocols

    @property
    def behaviors(self) -> list[tuple[int, int]]:
        """Return ``(behavior index, count)`` per behavior."""
        return self.details().behaviors

    @property
    def primitives(self) -> list[tuple[int, int]]:
        """Return ``(primitive index, count)`` per primitive."""
        return self.details().primitives

    @property
    def categories(self) -> list[tuple[int, int]]:
        """Return ``(category id 1-16, count)`` per report category."""
        return self.details().categories


class RecordDetails(NamedTuple):
    """The packed arrays of a record, decoded."""

    protocols: list[tuple[int, int, int]]  # (protocol id, sessions, events)
    behaviors: list[tuple[int, int]]  # (behavior index, count)
    primitives: list[tuple[int, int]]  # (primitive index, count)
    categories: list[tuple[int, int]]  # (category id 1-16, count)


@lru_cache(maxsize=4096)
def _tail(
    n_protocols: int, n_behaviors: int, n_primitives: int, n_categories: int
) -> struct.Struct:
    """Return the layout of a record's packed arrays, given their lengths."""
    return struct.Struct(
        "<"
        + PROTOCOL_ITEM.format[1:] * n_protocols
        + COUNTED_ITEM.format[1:] * (n_behaviors + n_primitives)
        + CATEGORY_ITEM.format[1:] * n_categories
    )


#: Each ragged RecordTable column: (name, id dtype, value names).
RAGGED_LAYOUT: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("protocols", "u1", ("sessions", "events")),
    ("behaviors", "<u2", ("count",)),
    ("primitives", "<u2", ("count",)),
    ("categories", "u1", ("count",)),
)


def ragged_columns(details: Sequence[RecordDetails]) -> dict[str, Ragged]:
    """Return the four ragged RecordTable columns of per-record details."""
    return {
        name: Ragged.from_items([d[i] for d in details], id_dtype, names)
        for i, (name, id_dtype, names) in enumerate(RAGGED_LAYOUT)
    }
