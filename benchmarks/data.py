"""Benchmark inputs: demo snapshots and the equivalent SQLite tables, cached.

Everything is generated from the seeded demo data, so every suite and every
baseline sees the same records. Caches live in ``benchmarks/.data/``.
"""

import shutil
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from sikker.builder import demo
from sikker.builder.progress import NullProgress
from sikker.builder.publish import publish
from sikker.core.layout import current_path
from sikker.core.records import RecordTable

CACHE = Path(__file__).resolve().parent / ".data"
SEED = 7


def scale(quick: bool) -> int:
    """Return the number of IPs a suite uses: 1M quick, 10M in full."""
    return 1_000_000 if quick else 10_000_000


def demo_snapshot(n: int, say: Callable[[str], None]) -> Path:
    """Return the directory of a published demo snapshot of ``n`` IPs."""
    data_dir = CACHE / f"demo-{n}-{SEED}"
    try:
        return current_path(data_dir)
    except Exception:
        shutil.rmtree(data_dir, ignore_errors=True)
    say(f"   generating and building a {n:,}-IP demo snapshot (cached in {data_dir})")
    started = time.perf_counter()
    publish(demo.generate(n, seed=SEED), data_dir, NullProgress())
    say(f"   built in {time.perf_counter() - started:.1f} s")
    return current_path(data_dir)


def demo_table(n: int) -> RecordTable:
    """Return the seeded demo table behind :func:`demo_snapshot`."""
    return demo.generate(n, seed=SEED)


def sqlite_db(n: int, say: Callable[[str], None]) -> Path:
    """Return a SQLite file holding the same records as the demo snapshot.

    One row per IP keyed by the same 16-byte address, with the same fields
    (variable-length parts as packed blobs), an index for blacklist queries.
    """
    path = CACHE / f"demo-{n}-{SEED}.sqlite"
    if path.exists():
        return path
    say(f"   building the SQLite baseline ({path})")
    started = time.perf_counter()
    table = demo_table(n)
    tmp = path.with_suffix(".tmp")
    tmp.unlink(missing_ok=True)
    db = sqlite3.connect(tmp)
    db.executescript(
        """
        PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;
        CREATE TABLE ips (ip BLOB PRIMARY KEY, ip_text TEXT, score INT, raw_score INT,
            country TEXT, asn INT, first_seen INT, last_seen INT,
            sessions INT, events INT,
            reports INT, reporters INT, last_reported INT, protocols INT,
            protocol_counts BLOB, behaviors BLOB, primitives BLOB) WITHOUT ROWID;
        """
    )
    from sikker.builder.encode import protocol_masks
    from sikker.core import ipcore

    masks = protocol_masks(table)
    step = 200_000
    for s in range(0, len(table), step):
        e = min(s + step, len(table))
        rows = []
        for i in range(s, e):
            ip16 = table.ip[i].tobytes()
            rows.append(
                (
                    ip16,
                    ipcore.from_ip16(ip16),
                    int(table.score[i]),
                    int(table.raw_score[i]),
                    table.country[i].decode(),
                    int(table.asn[i]),
                    int(table.first_seen[i]),
                    int(table.last_seen[i]),
                    int(table.sessions[i]),
                    int(table.events[i]),
                    int(table.reports[i]),
                    int(table.reporters[i]),
                    int(table.last_reported[i]),
                    int(masks[i]),
                    _blob(table.protocols, i),
                    _blob(table.behaviors, i),
                    _blob(table.primitives, i),
                )
            )
        db.executemany(
            "INSERT INTO ips VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", rows
        )
    db.execute("CREATE INDEX ips_score ON ips (score DESC, last_seen DESC)")
    db.execute("CREATE INDEX ips_country ON ips (country, score DESC, last_seen DESC)")
    db.commit()
    db.close()
    tmp.rename(path)
    say(f"   SQLite baseline built in {time.perf_counter() - started:.1f} s")
    return path


def _blob(col, i: int) -> bytes:  # type: ignore[no-untyped-def]
    a, b = col.offsets[i], col.offsets[i + 1]
    return col.ids[a:b].tobytes() + b"".join(
        v[a:b].tobytes() for v in col.values.values()
    )


def percentile(samples_ns: np.ndarray, q: float) -> float:
    """Return the q-th percentile of nanosecond samples in microseconds."""
    return float(np.percentile(samples_ns, q)) / 1000.0
