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

import numpy as np
from pyroaring import BitMap

from sikker.core import stix
from sikker.core.generation import Generation
from sikker.core.records import Record
from sikker.core.vocab import CATEGORIES

_LOCK = threading.Lock()


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
        return bisect.bisect_left(
            range(lo, hi), ip16, key=lambda at: self.gen.ip16(int(rows[at]))
        )


class IdIndex:
    """Finds the address behind an indicator or relationship id of a generation.

    Ids are hashes, so the index hashes every row's ids once (on first use)
    and keeps the first 48 bits of each, sorted; callers check candidates by
    building the IP's objects.
    """

    def __init__(self, gen: Generation, catalog_ids: list[str]) -> None:
        self.gen = gen
        rows = np.arange(gen.rows, dtype=np.uint32)
        keys: list[int] = []
        owners: list[np.ndarray] = [rows]
        keys.extend(_hashes(gen, rows, "{}"))
        for behavior in catalog_ids:
            bm = gen.bitmap(f"behavior:{behavior}")
            if not bm:
                continue
            with_it = np.frombuffer(BitMap(bm).to_array(), np.uint32)
            owners.append(with_it)
            name = "{} indicates " + behavior.replace("{", "{{").replace("}", "}}")
            keys.extend(_hashes(gen, with_it, name))
        key_array = np.array(keys, np.uint64)
        owner_array = np.concatenate(owners) if owners else np.zeros(0, np.uint32)
        order = np.argsort(key_array, kind="stable")
        self.keys = key_array[order]
        self.rows = owner_array[order]

    def rows_of(self, object_id: str) -> list[int]:
        """Return the rows whose indicator or relationships may have this id."""
        try:
            key = _id_key(object_id)
        except ValueError:
            return []
        lo = int(np.searchsorted(self.keys, key, side="left"))
        hi = int(np.searchsorted(self.keys, key, side="right"))
        return [int(r) for r in self.rows[lo:hi]]


_ORDERS: "weakref.WeakKeyDictionary[Generation, GenerationOrder]" = (
    weakref.WeakKeyDictionary()
)
_INDEXES: "weakref.WeakKeyDictionary[Generation, IdIndex]" = weakref.WeakKeyDictionary()


def order_of(gen: Generation, fallback: int) -> GenerationOrder:
    """Return the (cached) TAXII order of a generation."""
    found = _ORDERS.get(gen)
    if found is None:
        with _LOCK:
            found = _ORDERS.get(gen)
            if found is None:
                found = _ORDERS[gen] = GenerationOrder(gen, fallback)
    return found


def id_index(gen: Generation, catalog_ids: list[str]) -> IdIndex:
    """Return the (cached) id index of a generation."""
    found = _INDEXES.get(gen)
    if found is None:
        with _LOCK:
            found = _INDEXES.get(gen)
            if found is None:
                found = _INDEXES[gen] = IdIndex(gen, catalog_ids)
    return found


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


def _hashes(gen: Generation, rows: np.ndarray, template: str) -> list[int]:
    """Return the 48-bit id keys of ``template.format(ip)`` for each row."""
    if not len(rows):
        return []
    texts = gen.render(rows, b"", b"\n").decode("ascii").split("\n")[:-1]
    prefix = stix.NAMESPACE.bytes
    sha1 = hashlib.sha1
    return [
        int.from_bytes(sha1(prefix + template.format(ip).encode()).digest()[:6])
        for ip in texts
    ]


def _id_key(object_id: str) -> int:
    """Return the 48-bit key of a STIX id (raises ValueError if malformed)."""
    _, sep, text = object_id.partition("--")
    if not sep:
        raise ValueError(object_id)
    value = bytes.fromhex(text.replace("-", ""))
    if len(value) != 16:
        raise ValueError(object_id)
    return int.from_bytes(value[:6])
