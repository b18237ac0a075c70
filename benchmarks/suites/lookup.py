"""In-process check latency on an N-IP snapshot vs SQLite and maxminddb.

Ours (LMDB ip -> record, header decoded) against two stores of the same
records: SQLite's primary-key lookup (the address parsed by the same
compiled parser, so the ratio compares storage paths) and ``maxminddb``
(its C extension, memory-mapped) reading a .mmdb with one host entry per IP
whose data map holds the same fields (``benchmarks/mmdb.py`` writes it).
90% of the queried addresses are listed (drawn uniformly from the snapshot),
10% are not. Every store must agree with ours on a sample first.
"""

import sqlite3
import time
from collections.abc import Callable

import maxminddb
import numpy as np

from benchmarks.data import (
    demo_snapshot,
    mmdb_db,
    percentile,
    sample_addresses,
    scale,
    sqlite_db,
)
from benchmarks.samples import keep_distribution
from sikker.core import ipcore
from sikker.core.check_json import check_json
from sikker.core.snapshot import Snapshot

QUERIES = 200_000
AGREE_SAMPLE = 5_000


def _agree(snapshot: Snapshot, reader: maxminddb.Reader, queries: list[str]) -> None:
    """Raise unless the .mmdb answers every sampled address as ours does."""
    for ip in queries[:AGREE_SAMPLE]:
        ours, theirs = snapshot.lookup(ip), reader.get(ip)
        if ours is None or not isinstance(theirs, dict):
            if ours is not None or theirs is not None:
                raise RuntimeError(f"maxminddb and sikker disagree on {ip}")
        elif (theirs["score"], theirs["last_seen"]) != (ours.score, ours.last_seen):
            raise RuntimeError(f"maxminddb holds another record for {ip}")


def _latencies(func: Callable[[str], object], queries: list[str]) -> np.ndarray:
    clock = time.perf_counter_ns
    samples = np.empty(len(queries), np.int64)
    for i, ip in enumerate(queries):
        start = clock()
        func(ip)
        samples[i] = clock() - start
    return samples


def run(quick: bool, say: Callable[[str], None]) -> dict[str, float]:
    """Measure p50/p99 lookup latency: ours, SQLite's, maxminddb's."""
    n = scale(quick)
    path = demo_snapshot(n, say)
    db = sqlite3.connect(sqlite_db(n, say))
    reader = maxminddb.open_database(str(mmdb_db(n, say)))
    with Snapshot.open(path) as snapshot:  # closed for the suites that follow
        return _run(snapshot, db, reader, quick, say)


def _run(
    snapshot: Snapshot,
    db: sqlite3.Connection,
    reader: maxminddb.Reader,
    quick: bool,
    say: Callable[[str], None],
) -> dict[str, float]:
    n = snapshot.count
    queries = sample_addresses(snapshot, QUERIES // (2 if quick else 1), 11)
    _agree(snapshot, reader, queries)
    cursor = db.cursor()
    statement = "SELECT * FROM ips WHERE ip = ?"

    def sqlite_lookup(ip: str) -> object:
        return cursor.execute(statement, (ipcore.to_ip16(ip),)).fetchone()

    def full_check(ip: str) -> bytes:  # what GET /v1/key/check/{ip} answers
        return check_json(snapshot, ip)

    stores = (snapshot.lookup, sqlite_lookup, reader.get)
    for func in stores:  # warm the page cache equally
        _latencies(func, queries[:50_000])
    ours = _latencies(snapshot.lookup, queries)
    theirs = _latencies(sqlite_lookup, queries)
    mmdb = _latencies(reader.get, queries)
    check = _latencies(full_check, queries[:50_000])
    for label, samples in (("sikker", ours), ("SQLite", theirs), ("maxminddb", mmdb)):
        keep_distribution("lookup", label, samples / 1000)
    keep_distribution("lookup", "sikker + check JSON", check / 1000)
    found = sum(snapshot.lookup(ip) is not None for ip in queries[:10_000])
    figures = {
        "lookup_ips": float(n),
        "lookup_p50_us": percentile(ours, 50),
        "lookup_p99_us": percentile(ours, 99),
        "sqlite_p50_us": percentile(theirs, 50),
        "sqlite_p99_us": percentile(theirs, 99),
        "check_json_p50_us": percentile(check, 50),
        "check_json_p99_us": percentile(check, 99),
        "maxminddb_p50_us": percentile(mmdb, 50),
        "maxminddb_p99_us": percentile(mmdb, 99),
        "lookup_vs_sqlite": float(np.median(theirs) / np.median(ours)),
        "lookup_vs_maxminddb": float(np.median(mmdb) / np.median(ours)),
    }
    say(
        f"   {n:,} IPs, {len(queries):,} lookups ({found / 100:.0f}% listed), "
        f"IP core: {ipcore.IMPLEMENTATION}"
    )
    say(
        f"   sikker lookup      p50 {figures['lookup_p50_us']:6.2f} us   "
        f"p99 {figures['lookup_p99_us']:6.2f} us"
    )
    say(
        f"   SQLite (same recs) p50 {figures['sqlite_p50_us']:6.2f} us   "
        f"p99 {figures['sqlite_p99_us']:6.2f} us"
    )
    say(
        f"   maxminddb (same)   p50 {figures['maxminddb_p50_us']:6.2f} us   "
        f"p99 {figures['maxminddb_p99_us']:6.2f} us"
    )
    say(
        f"   lookup + check JSON p50 {figures['check_json_p50_us']:6.2f} us   "
        f"p99 {figures['check_json_p99_us']:6.2f} us"
    )
    say(
        f"   lookup_vs_sqlite = {figures['lookup_vs_sqlite']:.1f}x, lookup_vs_maxminddb"
        f" = {figures['lookup_vs_maxminddb']:.1f}x (their p50 / ours)"
    )
    return figures
