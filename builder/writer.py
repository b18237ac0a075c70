"""Compile a RecordTable into the files of one snapshot directory.

The directory is private to the builder until it is published (see
:mod:`sikker.builder.publish`), so files are written without per-write syncs
and synced once at the end. docs/snapshot-format.md describes every file.
"""

import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import lmdb
import numpy as np
import orjson
import pyroaring
from pyroaring import BitMap

from sikker.builder import bitmaps, encode
from sikker.builder.progress import NullProgress, Progress
from sikker.core.generation import Generation
from sikker.core.layout import DELTA_FILE, IPS_FILE, LMDB_DIR, MANIFEST, SUMMARY_FILE
from sikker.core.manifest import Manifest, file_digest
from sikker.core.records import Record, RecordTable, address_order, is_ipv4, take_ip
from sikker.core.snapshot import MAX_INTEL_KEY, TOMBSTONES
from sikker.core.snapshot_tables import BITMAPS, EMAILS, IP, META, TABLES, USERNAMES
from sikker.errors import BuildError


def score_order(table: RecordTable, by_address: np.ndarray) -> np.ndarray:
    """Return the row order: score desc, then last seen desc, then address.

    ``by_address`` is :func:`address_order` of the table; a stable sort on
    the combined (score, recency) key keeps address order among ties.
    """
    key = (np.uint64(100) - table.score.astype(np.uint64)) << np.uint64(32)
    key |= np.uint64(0xFFFFFFFF) - table.last_seen.astype(np.uint64)
    return by_address[np.argsort(key[by_address], kind="stable")]


def score_rows(scores: np.ndarray) -> list[int]:
    """Return ``r[s]`` = how many rows have score >= s, for s in 0..100."""
    counts = np.bincount(scores, minlength=101)[:101]
    return np.cumsum(counts[::-1])[::-1].tolist()


def _map_size(table: RecordTable) -> int:
    # A sparse reservation on 64-bit: generous costs nothing, too small fails.
    return (256 << 20) + len(table) * 1024


@dataclass
class Overlay:
    """Write an overlay on ``base``: the table's IPs replace the base's.

    ``removed`` lists (N, 16) addresses to hide from the base.
    """

    base: Generation
    removed: np.ndarray = field(default_factory=lambda: np.zeros((0, 16), np.uint8))


@dataclass
class Intel:
    """Username and email intel to store: lower-cased key -> JSON dict.

    ``stats`` is the activity statistics document (builder/stats.py), stored
    whole in the generation's ``meta`` table when given.
    """

    usernames: dict[str, dict[str, Any]] = field(default_factory=dict)
    emails: dict[str, dict[str, Any]] = field(default_factory=dict)
    stats: dict[str, Any] | None = None


@dataclass
class Delta:
    """The addresses whose visible record changed since sequence ``since``."""

    since: int
    changed: np.ndarray  # (K, 16) uint8


def write_snapshot(
    table: RecordTable,
    directory: Path,
    sequence: int,
    progress: Progress | None = None,
    overlay: Overlay | None = None,
    delta: Delta | None = None,
    intel: Intel | None = None,
) -> Manifest:
    """Write ``table`` as generation ``sequence`` into the new ``directory``."""
    progress = progress or NullProgress()
    n = len(table)
    progress.stage("ordering", n)
    by_address = address_order(table.ip)
    table.validate(by_address)
    if overlay is not None:
        _check_compatible(table, overlay.base)
    directory.mkdir(parents=True)
    order = score_order(table, by_address)
    table = table.take(order)
    rows = np.empty(n, np.uint32)
    rows[order] = np.arange(n, dtype=np.uint32)
    rows_by_address = rows[by_address]
    severity = encode.max_severity(table)
    known = overlay.base.countries if overlay is not None else None
    country_ix, countries = encode.country_index(table, known)
    progress.finish()

    env = lmdb.open(
        str(directory / LMDB_DIR),
        map_size=_map_size(table),
        max_dbs=len(TABLES),
        sync=False,
        metasync=False,
        meminit=False,
        lock=False,  # a private directory; a mapped lock file could SIGBUS
    )
    try:
        dbs = {name: env.open_db(name) for name in TABLES}
        _write_records(env, dbs, table, rows_by_address, severity, country_ix, progress)
        bitmap_index = _write_bitmaps(
            env, dbs, table, severity, countries, country_ix, progress
        )
        if intel is not None:
            _write_intel(env, dbs, intel)
        counts = _counts(table)
        if overlay is not None:
            hidden = _hide(env, dbs, table, overlay)
            bitmap_index[TOMBSTONES] = len(hidden)
            counts = _overlay_counts(overlay.base, hidden, counts)
        orgs = dict(overlay.base.asn_orgs) if overlay is not None else {}
        orgs.update({str(k): v for k, v in table.asn_orgs.items()})
        with env.begin(write=True, db=dbs[META]) as txn:
            meta = {
                "countries": countries,
                "asn_orgs": orgs,
                "catalog": table.catalog,
                "benign_sources": table.benign_sources,
                "bitmaps": bitmap_index,
            }
            if intel is not None and intel.stats is not None:
                meta["stats"] = intel.stats
            for key, value in meta.items():
                txn.put(key.encode(), orjson.dumps(value))
        env.sync(True)
    finally:
        env.close()
    (directory / LMDB_DIR / "lock.mdb").unlink(missing_ok=True)

    progress.stage("columns", n)
    _write_file(directory / IPS_FILE, np.ascontiguousarray(table.ip).tobytes())
    _write_file(
        directory / SUMMARY_FILE, encode.summary(table, severity, country_ix).tobytes()
    )
    if delta is not None:
        _write_file(
            directory / DELTA_FILE, np.ascontiguousarray(delta.changed).tobytes()
        )
    progress.finish()

    manifest = Manifest(
        sequence=sequence,
        created_at=int(time.time()),
        counts=counts,
        rows=n,
        score_rows=score_rows(table.score),
        base=overlay.base.sequence if overlay is not None else None,
        delta={"from": delta.since, "count": len(delta.changed)} if delta else None,
        engine={
            "lmdb": ".".join(map(str, lmdb.version())),
            "py-lmdb": lmdb.__version__,
            "pyroaring": pyroaring.__version__,
        },
    )
    progress.stage("checksums", None)
    for path in sorted(directory.rglob("*")):
        if path.is_file():
            manifest.files[str(path.relative_to(directory))] = file_digest(path)
    _write_file(directory / MANIFEST, manifest.to_json())
    progress.finish()
    return manifest


def _write_intel(env: lmdb.Environment, dbs: dict, intel: Intel) -> None:
    with env.begin(write=True) as txn:
        for table, values in ((USERNAMES, intel.usernames), (EMAILS, intel.emails)):
            for key, value in sorted(values.items()):
                encoded = key.encode("utf-8")
                if 0 < len(encoded) <= MAX_INTEL_KEY:
                    txn.put(encoded, orjson.dumps(value), db=dbs[table], append=True)


def _counts(table: RecordTable) -> dict[str, int]:
    v4 = int(is_ipv4(table.ip).sum())
    return {"ips": len(table), "ipv4": v4, "ipv6": len(table) - v4}


def _check_compatible(table: RecordTable, base: Generation) -> None:
    """Refuse an overlay whose indexes would mean something else in its base."""
    if table.catalog != base.catalog or table.benign_sources != base.benign_sources:
        raise BuildError(
            "the catalog or the known-benign sources changed since the base "
            f"snapshot {base.sequence}; build a full snapshot instead of an overlay"
        )


def _hide(
    env: lmdb.Environment, dbs: dict, table: RecordTable, overlay: Overlay
) -> BitMap:
    """Mark removed addresses and return the base rows the overlay replaces."""
    hidden = BitMap()
    replaced = np.ascontiguousarray(table.ip).tobytes()
    removed = np.ascontiguousarray(overlay.removed).tobytes()
    with env.begin(write=True, db=dbs[IP]) as txn:
        for data, is_removed in ((replaced, False), (removed, True)):
            for at in range(0, len(data), 16):
                ip16 = data[at : at + 16]
                buf = overlay.base.get(ip16)
                if buf:
                    hidden.add(Record.decode(buf).row)
                    if is_removed:
                        txn.put(ip16, b"")  # a tombstone: listed in the base, not now
    hidden.run_optimize()
    with env.begin(write=True, db=dbs[BITMAPS]) as txn:
        txn.put(TOMBSTONES.encode(), hidden.serialize())
    return hidden


def _overlay_counts(
    base: Generation, hidden: BitMap, own: dict[str, int]
) -> dict[str, int]:
    """Return the counts readers see through the overlay."""
    hidden_v4 = hidden.intersection_cardinality(base.bitmap("version:4"))
    counts = base.manifest.counts
    ipv4 = counts["ipv4"] - hidden_v4 + own["ipv4"]
    ipv6 = counts["ipv6"] - (len(hidden) - hidden_v4) + own["ipv6"]
    return {"ips": ipv4 + ipv6, "ipv4": ipv4, "ipv6": ipv6}


def _write_records(
    env: lmdb.Environment,
    dbs: dict,
    table: RecordTable,
    rows_by_address: np.ndarray,
    severity: np.ndarray,
    country_ix: np.ndarray,
    progress: Progress,
) -> None:
    """Store every record under its address (appended in key order)."""
    progress.stage("records", len(table))
    with env.begin(write=True) as txn:
        cursor = txn.cursor(dbs[IP])
        batches = encode.encode_batches(table, severity, country_ix, rows_by_address)
        for rows, buf, offsets in batches:
            keys = np.ascontiguousarray(take_ip(table.ip, rows)).tobytes()
            view = buf.data
            bounds = offsets.tolist()
            cursor.putmulti(
                (
                    (keys[i * 16 : i * 16 + 16], view[bounds[i] : bounds[i + 1]])
                    for i in range(len(rows))
                ),
                append=True,
            )
            progress.advance(len(rows))
    progress.finish()


def _write_bitmaps(
    env: lmdb.Environment,
    dbs: dict,
    table: RecordTable,
    severity: np.ndarray,
    countries: list[str],
    country_ix: np.ndarray,
    progress: Progress,
) -> dict[str, int]:
    progress.stage("bitmaps", None)
    index: dict[str, int] = {}
    with env.begin(write=True, db=dbs[b"bitmaps"]) as txn:
        for name, bm in bitmaps.build_bitmaps(table, severity, countries, country_ix):
            txn.put(name.encode(), bm.serialize())
            index[name] = len(bm)
            progress.advance(1)
    progress.finish()
    return index


def _write_file(path: Path, data: bytes) -> None:
    with open(path, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
