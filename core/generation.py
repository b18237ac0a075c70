"""Read one generation directory: a base snapshot or an overlay on one.

A :class:`Generation` is immutable and safe to share between threads. Open
it in the process that uses it (after fork, never before): LMDB environments
must not cross a fork. Generations are opened without LMDB's lock file
because nothing ever writes them again (the builder makes them read-only).
Readers use :class:`sikker.core.snapshot.Snapshot`, which layers an overlay
over its base.
"""

import mmap
import os
import threading
import weakref
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import lmdb
import numpy as np
import orjson
from pyroaring import BitMap, FrozenBitMap

from sikker.core import ipcore
from sikker.core.filters import BlacklistQuery
from sikker.core.layout import IPS_FILE, LMDB_DIR, SUMMARY_FILE
from sikker.core.manifest import Manifest
from sikker.core.records import SUMMARY_DTYPE
from sikker.core.snapshot_tables import BITMAPS, IP, META, TABLES
from sikker.core.vocab import PROTOCOLS, SEVERITIES
from sikker.errors import SnapshotCorruptError

_ALL_ROWS = 1 << 32
_EMPTY = FrozenBitMap()

# LMDB refuses to open one environment twice in a process, so every reader in
# the process shares one Generation per directory. A forked child starts with
# none: it must never use an environment its parent opened.
_OPEN: "weakref.WeakValueDictionary[Path, Generation]" = weakref.WeakValueDictionary()
_OPEN_LOCK = threading.Lock()
os.register_at_fork(after_in_child=_OPEN.clear)


def open_generation(path: Path) -> "Generation":
    """Return the process's shared reader of the generation at ``path``."""
    key = Path(path).resolve()
    with _OPEN_LOCK:
        generation = _OPEN.get(key)
        if generation is None:
            generation = Generation(key)
            _OPEN[key] = generation
        return generation


class Generation:
    """One immutable generation directory, opened read-only."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.manifest = Manifest.load(self.path)
        try:
            self._env = lmdb.open(
                str(self.path / LMDB_DIR),
                readonly=True,
                lock=False,
                max_dbs=len(TABLES),
                max_spare_txns=0,
            )
            self._dbs = {name: self._env.open_db(name, create=False) for name in TABLES}
        except lmdb.Error as ex:
            raise SnapshotCorruptError(
                f"{self.path}: cannot open LMDB tables: {ex}"
            ) from ex
        self._ip_db = self._dbs[IP]
        self._reader = threading.local()  # this thread's read transaction
        self._ips = _map_file(self.path / IPS_FILE, 16 * self.rows)
        self._summary_map = _map_file(
            self.path / SUMMARY_FILE, SUMMARY_DTYPE.itemsize * self.rows
        )
        self.summary = (
            np.frombuffer(self._summary_map, SUMMARY_DTYPE, self.rows)
            if self.rows
            else np.zeros(0, SUMMARY_DTYPE)
        )
        meta = self._load_meta()
        self.countries: list[str] = meta["countries"]
        self.asn_orgs: dict[str, str] = meta["asn_orgs"]
        self.catalog: dict[str, list[dict[str, Any]]] = meta["catalog"]
        self.benign_sources: list[dict[str, Any]] = meta["benign_sources"]
        #: Cardinality of every stored bitmap, by name.
        self.bitmap_sizes: dict[str, int] = meta["bitmaps"]
        #: The builder's activity statistics ({} when it recorded none).
        self.stats: dict[str, Any] = meta.get("stats") or {}
        self._bitmaps: dict[str, FrozenBitMap] = {}
        self._bitmap_lock = threading.Lock()

    @property
    def sequence(self) -> int:
        """Return the generation's sequence number."""
        return self.manifest.sequence

    @property
    def rows(self) -> int:
        """Return the number of rows (live records) in this generation."""
        return self.manifest.rows

    # -- records ------------------------------------------------------------

    def get(self, ip16: bytes) -> bytes | None:
        """Return the stored record of an address (b"" = removed), or None.

        PERF: each thread keeps one read transaction open for the life of
        the generation (a look-up then costs ~0.5 us instead of ~2 us).
        Nothing ever writes a published generation, so a long-lived read
        transaction pins no pages and sees every record.
        """
        txn = getattr(self._reader, "txn", None)
        if txn is None:
            txn = self._reader.txn = self._env.begin(db=self._ip_db)
        return txn.get(ip16)

    def get_many(self, keys: list[bytes]) -> list[bytes | None]:
        """Return the stored record of each address, in one read transaction."""
        with self._env.begin(db=self._ip_db) as txn:
            get = txn.get
            return [get(key) for key in keys]

    def intel(self, table: bytes, key: str) -> dict[str, Any] | None:
        """Return the username or email intel stored under ``key``."""
        with self._env.begin(db=self._dbs[table]) as txn:
            value = txn.get(key.encode("utf-8"))
        return orjson.loads(value) if value else None

    def scan(self, start: bytes, stop: bytes) -> list[tuple[bytes, bytes]]:
        """Return ``(ip16, stored record)`` for addresses in [start, stop]."""
        found = []
        with self._env.begin(db=self._ip_db) as txn:
            cursor = txn.cursor()
            if cursor.set_range(start):
                for key, value in cursor:
                    if key > stop:
                        break
                    found.append((key, value))
        return found

    def items(self) -> Iterator[tuple[bytes, bytes]]:
        """Yield ``(ip16, stored record)`` for every address, in order."""
        with self._env.begin(db=self._ip_db) as txn:
            yield from txn.cursor()

    # -- blacklists -------------------------------------------------------

    def bitmap(self, name: str) -> FrozenBitMap:
        """Return the bitmap ``name`` (e.g. ``country:CN``); empty if absent."""
        if name not in self.bitmap_sizes:  # e.g. an AS with no listed IP
            return _EMPTY
        bm = self._bitmaps.get(name)
        if bm is None:
            with self._bitmap_lock:
                bm = self._bitmaps.get(name)
                if bm is None:
                    bm = self._load_bitmap(name)
                    self._bitmaps[name] = bm
        return bm

    def rows_at_least(self, score: int) -> int:
        """Return how many rows have a confidence of ``score`` or more."""
        return self.manifest.score_rows[score]

    def select(
        self, query: BlacklistQuery, exclude: FrozenBitMap = _EMPTY
    ) -> np.ndarray:
        """Return the row ids matching ``query``, best first, at most ``limit``.

        Rows are ordered by confidence, then recency, so "confidence >= X" is
        the row range ``[0, rows_at_least(X))``. Positive filters are
        intersected smallest first, starting from the range cut; negative
        ones and ``exclude`` (rows an overlay replaced) are subtracted.
        """
        end = self.rows_at_least(query.score_minimum)
        positive = list(self._positive(query))
        if not positive:
            result = BitMap(range(0, end)) if end else BitMap()
        else:
            positive.sort(key=len)
            result = BitMap(positive[0])
            result.remove_range(end, _ALL_ROWS)
            for bm in positive[1:]:
                if not result:
                    break
                result.intersection_update(bm)
        for negative in [*(self.bitmap(n) for n in self._negative(query)), exclude]:
            if not result:
                break
            result.difference_update(negative)
        if len(result) > query.limit:
            result.remove_range(result[query.limit - 1] + 1, _ALL_ROWS)
        return np.frombuffer(result.to_array(), np.uint32)

    def render(self, rows: np.ndarray, prefix: bytes, suffix: bytes) -> bytes:
        """Return prefix + address + suffix for each row, concatenated."""
        return ipcore.render_ips(self._ips, rows.data, prefix, suffix)

    @property
    def ips(self) -> "mmap.mmap | bytes":
        """Return the address column: 16 storage-form bytes a row, read-only."""
        return self._ips

    def ip16(self, row: int) -> bytes:
        """Return the 16-byte address stored at ``row``."""
        return bytes(self._ips[row * 16 : row * 16 + 16])

    def _positive(self, query: BlacklistQuery) -> Iterator[BitMap | FrozenBitMap]:
        groups = [
            [f"country:{c}" for c in query.only_countries],
            [f"asn:{a}" for a in query.only_asn],
            [f"protocol:{PROTOCOLS[p]}" for p in query.protocols],
            [f"severity:{s}" for s in SEVERITIES[max(query.min_severity, 1) - 1 :]]
            if query.min_severity
            else [],
            [f"version:{query.ip_version}"] if query.ip_version else [],
        ]
        for names in groups:
            if len(names) == 1:
                yield self.bitmap(names[0])
            elif names:
                yield BitMap.union(*(self.bitmap(n) for n in names))

    def _negative(self, query: BlacklistQuery) -> list[str]:
        return [f"country:{c}" for c in query.except_countries] + [
            f"asn:{a}" for a in query.except_asn
        ]

    def _load_bitmap(self, name: str) -> FrozenBitMap:
        with self._env.begin(db=self._dbs[BITMAPS], buffers=False) as txn:
            data = txn.get(name.encode())
        if data is None:
            raise SnapshotCorruptError(f"{self.path}: bitmap {name!r} is missing")
        try:
            return FrozenBitMap.deserialize(data)
        except ValueError as ex:
            raise SnapshotCorruptError(
                f"{self.path}: bitmap {name!r} is invalid: {ex}"
            ) from ex

    def _load_meta(self) -> dict[str, Any]:
        with self._env.begin(db=self._dbs[META]) as txn:
            try:
                return {
                    key.decode(): orjson.loads(value) for key, value in txn.cursor()
                }
            except orjson.JSONDecodeError as ex:
                raise SnapshotCorruptError(f"{self.path}: bad metadata: {ex}") from ex


def _map_file(path: Path, size: int) -> "mmap.mmap | bytes":
    """Map a column file read-only after checking its size."""
    try:
        actual = path.stat().st_size
    except OSError as ex:
        raise SnapshotCorruptError(f"{path}: {ex}") from ex
    if actual != size:
        raise SnapshotCorruptError(f"{path} is {actual} bytes, expected {size}")
    if size == 0:
        return b""
    with open(path, "rb") as fh:
        return mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
