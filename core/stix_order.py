"""The TAXII order of a generation's rows: by date added, then address.

An IP's *date added* is its version time (:func:`sikker.core.stix.version_time`:
the newest of last seen and last reported), so new evidence moves the IP to
the end of the feed. Each generation is sorted once per process, on first
use, and kept while the generation is open (base and overlay separately; a
reader merges the two).
"""

import bisect
import hashlib
import threading
import weakref
from collections.abc import Callable
from typing import Any, TypeVar, cast

import numpy as np
from pyroaring import BitMap

from sikker.core import stix
from sikker.core.generation import Generation
from sikker.core.records import Record
from sikker.core.vocab import CATEGORIES


class GenerationOrder:
    """A generation's rows sorted by (date added, address)."""

    def __init__(self, gen: Generation, fallback: int) -> None:
        self.gen = gen
        ips = _ip_column(gen)
        added = _date_added(gen, fallback)
        halves = np.ascontiguousarray(ips).view(">u8")
        if len(added):
            self.order = np.lexsort((halves[:, 1], halves[:, 0], added)).astype(
                np.uint32
            )
        else:
            self.order = np.zeros(0, np.uint32)
        #: Date added of each entry of ``order``.
        self.added = added[self.order]

    def __len__(self) -> int:
        return len(self.order)

    def seek(self, added: int, ip16: bytes) -> int:
        """Return the first position whose (date added, address) >= the key."""
        lo = int(np.searchsorted(self.added, added, side="left"))
        hi = int(np.searchsorted(self.added, added, side="right"))
        if lo == hi or not ip16:
            return lo
        rows = self.order
        return lo + bisect.bisect_left(
            range(lo, hi), ip16, key=lambda at: self.gen.ip16(int(rows[at]))
        )


class IdIndex:
    """Finds the address behind an indicator or relationship id of a generation.

    Ids are hashes, so the index hashes the ids of one type for every row
    once and keeps the first 48 bits of each, sorted; callers check each
    candidate by building that IP's objects.
    """

    def __init__(self, gen: Generation, kind: str, catalog_ids: list[str]) -> None:
        keys: list[int] = []
        owners: list[np.ndarray] = []
        if kind == "indicator":
            owners.append(np.arange(gen.rows, dtype=np.uint32))
            keys.extend(_hashes(gen, owners[0], ""))
        else:
            for behavior in catalog_ids:
                bm = gen.bitmap(f"behavior:{behavior}")
                if bm:
                    rows = np.frombuffer(BitMap(bm).to_array(), np.uint32)
                    owners.append(rows)
                    keys.extend(_hashes(gen, rows, f" indicates {behavior}"))
        key_array = np.array(keys, np.uint64)
        order = np.argsort(key_array, kind="stable")
        self.keys = key_array[order]
        self.rows = (np.concatenate(owners) if owners else np.zeros(0, np.uint32))[
            order
        ]

    def rows_of(self, object_id: str) -> list[int]:
        """Return the rows whose objects may have this id."""
        try:
            key = _id_key(object_id)
        except ValueError:
            return []
        lo = int(np.searchsorted(self.keys, key, side="left"))
        hi = int(np.searchsorted(self.keys, key, side="right"))
        return [int(r) for r in self.rows[lo:hi]]


class IndexBuilding(Exception):
    """An index of a large generation is being built; ask again shortly."""


#: Generations with fewer rows build their indexes inside the request.
SYNC_ROWS = 250_000
T = TypeVar("T")


class _Lazy:
    """Per-generation values built once: inline when small, else in a thread."""

    def __init__(self) -> None:
        self._done: weakref.WeakKeyDictionary[Generation, dict[str, Any]] = (
            weakref.WeakKeyDictionary()
        )
        self._building: set[tuple[int, str]] = set()
        self._lock = threading.Lock()

    def get(self, gen: Generation, name: str, build: Callable[[], T]) -> T:
        """Return the value ``name`` of ``gen``, building it on first use.

        Raises:
            IndexBuilding: a large generation's value is still being built.
        """
        found = self._done.get(gen, {}).get(name)
        if found is not None:
            return cast(T, found)
        if gen.rows < SYNC_ROWS:
            value = build()
            with self._lock:
                return cast(T, self._done.setdefault(gen, {}).setdefault(name, value))
        with self._lock:
            found = self._done.get(gen, {}).get(name)
            if found is not None:
                return cast(T, found)
            token = (id(gen), name)
            if token not in self._building:
                self._building.add(token)
                threading.Thread(
                    target=self._build, args=(gen, name, build, token), daemon=True
                ).start()
        raise IndexBuilding(
            f"the TAXII index of snapshot {gen.sequence} ({gen.rows} rows) is "
            "being built; retry in a few seconds"
        )

    def _build(
        self, gen: Generation, name: str, build: Callable[[], T], token: tuple
    ) -> None:
        try:
            value = build()
            with self._lock:
                self._done.setdefault(gen, {})[name] = value
        finally:
            with self._lock:
                self._building.discard(token)


_CACHE = _Lazy()


def order_of(gen: Generation, fallback: int) -> GenerationOrder:
    """Return the TAXII order of a generation (raises IndexBuilding)."""
    return _CACHE.get(gen, "order", lambda: GenerationOrder(gen, fallback))


def id_index(gen: Generation, kind: str, catalog_ids: list[str]) -> IdIndex:
    """Return the index of ``kind`` (indicator, relationship) ids of a generation.

    Raises:
        IndexBuilding: see :func:`order_of`.
    """
    return _CACHE.get(gen, kind, lambda: IdIndex(gen, kind, catalog_ids))


def _ip_column(gen: Generation) -> np.ndarray:
    if not gen.rows:
        return np.zeros((0, 16), np.uint8)
    return np.frombuffer(gen.ips, np.uint8, 16 * gen.rows).reshape(-1, 16)


def _date_added(gen: Generation, fallback: int) -> np.ndarray:
    """Return each row's version time (``fallback`` when it has none)."""
    added = gen.summary["last_seen"].astype(np.uint32)
    reported = BitMap.union(
        BitMap(), *(gen.bitmap(f"category:{name}") for name in CATEGORIES)
    )
    for row in reported:  # reports do not move last_seen: read last_reported
        buf = gen.get(gen.ip16(row))
        if buf:
            record = Record.decode(buf)
            added[row] = stix.version_time(record)
    added[added == 0] = fallback
    return added


def _hashes(gen: Generation, rows: np.ndarray, suffix: str) -> list[int]:
    """Return the 48-bit id keys of the names ``ip + suffix`` of each row."""
    if not len(rows):
        return []
    texts = gen.render(rows, b"", suffix.encode() + b"\n").decode().split("\n")[:-1]
    prefix = stix.NAMESPACE.bytes
    sha1 = hashlib.sha1
    return [int.from_bytes(sha1(prefix + name.encode()).digest()[:6]) for name in texts]


def _id_key(object_id: str) -> int:
    """Return the 48-bit key of a STIX id (raises ValueError if malformed)."""
    _, sep, text = object_id.partition("--")
    if not sep:
        raise ValueError(object_id)
    value = bytes.fromhex(text.replace("-", ""))
    if len(value) != 16:
        raise ValueError(object_id)
    return int.from_bytes(value[:6])
