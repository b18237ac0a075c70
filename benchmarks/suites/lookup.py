"""In-process check latency on an N-IP snapshot vs the same lookups in SQLite.

Both sides parse the address with the same compiled parser, so the ratio
compares the storage paths: ours (LMDB ip -> row -> record, header decoded)
against SQLite's primary-key lookup of the same record. 90% of the queried
addresses are listed (drawn uniformly from the snapshot), 10% are not.
"""

import sqlite3
import time
from collections.abc import Callable

import numpy as np
import orjson

from benchmarks.data import demo_snapshot, percentile, scale, sqlite_db
from sikker.core import ipcore
from sikker.core.present import check_payload
from sikker.core.snapshot import Selection, Snapshot

QUERIES = 200_000


def _queries(snapshot: Snapshot, count: int) -> list[str]:
    rng = np.random.default_rng(11)
    rows = rng.integers(0, snapshot.count, int(count * 0.9)).astype(np.uint32)
    listed = snapshot.ip_texts(Selection(np.zeros(len(rows), np.uint8), rows))
    unlisted = [
        f"{a}.{b}.{c}.{d}"
        for a, b, c, d in rng.integers(
            [1, 0, 0, 1], [224, 256, 256, 255], (count - len(listed), 4)
        )
    ]
    queries = listed + unlisted
    rng.shuffle(queries)
    return queries


def _latencies(func: Callable[[str], object], queries: list[str]) -> np.ndarray:
    clock = time.perf_counter_ns
    samples = np.empty(len(queries), np.int64)
    for i, ip in enumerate(queries):
        start = clock()
        func(ip)
        samples[i] = clock() - start
    return samples


def run(quick: bool, say: Callable[[str], None]) -> dict[str, float]:
    """Measure p50/p99 check latency, ours and SQLite's, on the same IPs."""
    n = scale(quick)
    path = demo_snapshot(n, say)
    db = sqlite3.connect(sqlite_db(n, say))
    snapshot = Snapshot.open(path)
    queries = _queries(snapshot, QUERIES // (2 if quick else 1))
    cursor = db.cursor()
    statement = "SELECT * FROM ips WHERE ip = ?"

    def sqlite_lookup(ip: str) -> object:
        return cursor.execute(statement, (ipcore.to_ip16(ip),)).fetchone()

    def full_check(ip: str) -> bytes:
        return orjson.dumps(check_payload(snapshot, ip, snapshot.lookup(ip)))

    for func in (snapshot.lookup, sqlite_lookup):  # warm the page cache equally
        _latencies(func, queries[:50_000])
    ours = _latencies(snapshot.lookup, queries)
    theirs = _latencies(sqlite_lookup, queries)
    check = _latencies(full_check, queries[:50_000])
    found = sum(snapshot.lookup(ip) is not None for ip in queries[:10_000])
    figures = {
        "lookup_ips": float(n),
        "lookup_p50_us": percentile(ours, 50),
        "lookup_p99_us": percentile(ours, 99),
        "sqlite_p50_us": percentile(theirs, 50),
        "sqlite_p99_us": percentile(theirs, 99),
        "check_json_p50_us": percentile(check, 50),
        "check_json_p99_us": percentile(check, 99),
        "lookup_vs_sqlite": float(np.median(theirs) / np.median(ours)),
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
        f"   lookup + check JSON p50 {figures['check_json_p50_us']:6.2f} us   "
        f"p99 {figures['check_json_p99_us']:6.2f} us"
    )
    say(f"   lookup_vs_sqlite = {figures['lookup_vs_sqlite']:.1f}x (SQLite p50 / ours)")
    return figures
