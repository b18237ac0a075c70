"""A filtered blacklist (countries + protocol + score) rendered as plaintext.

Ours: bitmap intersection on row ids, row-range cut, Cython rendering. The
baseline runs the same query on the same records in SQLite (indexed on
country and score) and joins the stored address texts.
"""

import sqlite3
from collections.abc import Callable

from benchmarks.data import demo_snapshot, scale, sqlite_db
from benchmarks.timing import best_of
from sikker.core.filters import BlacklistQuery
from sikker.core.snapshot import Snapshot
from sikker.core.vocab import PROTOCOL_IDS

COUNTRIES = ("CN", "RU", "BR", "IN")
PROTOCOL = "ssh"
TARGET = 100_000


def _query(snapshot: Snapshot, target: int) -> BlacklistQuery:
    """Return the filter with the highest scoreMinimum giving >= target rows."""
    for score in range(100, -1, -1):
        query = BlacklistQuery(
            score_minimum=score,
            only_countries=COUNTRIES,
            protocols=(PROTOCOL_IDS[PROTOCOL],),
            limit=10_000_000,
        )
        if len(snapshot.blacklist(query)) >= target:
            return query
    return query


def run(quick: bool, say: Callable[[str], None]) -> dict[str, float]:
    """Time ours vs SQLite on a ~100k-result filtered plaintext blacklist."""
    n = scale(quick)
    db = sqlite3.connect(sqlite_db(n, say))
    with Snapshot.open(demo_snapshot(n, say)) as snapshot:  # closed for the next
        return _run(snapshot, db, n, quick, say)


def _run(
    snapshot: Snapshot,
    db: sqlite3.Connection,
    n: int,
    quick: bool,
    say: Callable[[str], None],
) -> dict[str, float]:
    query = _query(snapshot, TARGET // (10 if quick else 1))

    def ours() -> bytes:
        return b"".join(snapshot.render_plaintext(snapshot.blacklist(query)))

    marks = ",".join("?" * len(COUNTRIES))
    sql = (
        f"SELECT ip_text FROM ips WHERE country IN ({marks}) AND protocols & ? "
        "AND score >= ? ORDER BY score DESC, last_seen DESC, ip LIMIT ?"
    )
    args = (*COUNTRIES, 1 << PROTOCOL_IDS[PROTOCOL], query.score_minimum, query.limit)

    def theirs() -> bytes:
        return "".join(f"{row[0]}\n" for row in db.execute(sql, args)).encode()

    mine, other = ours(), theirs()
    same = mine == other
    ours_s = best_of(ours, 20)
    theirs_s = best_of(theirs, 3)
    count = mine.count(b"\n")
    figures = {
        "blacklist_ips": float(n),
        "blacklist_results": float(count),
        "blacklist_ms": ours_s * 1000,
        "blacklist_sqlite_ms": theirs_s * 1000,
        "blacklist_vs_sqlite": theirs_s / ours_s,
        "blacklist_identical": float(same),
    }
    say(
        f"   {n:,} IPs: onlyCountries={','.join(COUNTRIES)} protocols={PROTOCOL} "
        f"scoreMinimum={query.score_minimum} -> {count:,} IPs "
        f"({'identical' if same else 'DIFFERENT'} output)"
    )
    say(
        f"   sikker {figures['blacklist_ms']:8.2f} ms   "
        f"SQLite {figures['blacklist_sqlite_ms']:8.1f} ms"
        f"   blacklist_vs_sqlite = {figures['blacklist_vs_sqlite']:.0f}x"
    )
    return figures
