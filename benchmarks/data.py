"""Benchmark inputs: demo snapshots and the equivalent SQLite tables, cached.

Everything is generated from the seeded demo data, so every suite and every
baseline sees the same records. Caches live in ``benchmarks/.data/``.
"""

import hashlib
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
from sikker.core.records import HEADER
from sikker.core.snapshot import Selection, Snapshot

CACHE = Path(__file__).resolve().parent / ".data"
BUILDER = Path(demo.__file__).resolve().parent
SEED = 7


def _data_version() -> str:
    """Return a tag that changes whenever the demo generator or catalog does."""
    digest = hashlib.sha256()
    for name in ("demo.py", "demo_world.py", "demo_addresses.py", "data/catalog.toml"):
        digest.update((BUILDER / name).read_bytes())
    return digest.hexdigest()[:8]


def scale(quick: bool) -> int:
    """Return the number of IPs a suite uses: 1M quick, 10M in full."""
    return 1_000_000 if quick else 10_000_000


def demo_snapshot(n: int, say: Callable[[str], None]) -> Path:
    """Return the directory of a published demo snapshot of ``n`` IPs."""
    data_dir = CACHE / f"demo-{n}-{SEED}-{_data_version()}"
    try:
        return current_path(data_dir)
    except Exception:
        shutil.rmtree(data_dir, ignore_errors=True)
    say(f"   generating and building a {n:,}-IP demo snapshot (cached in {data_dir})")
    started = time.perf_counter()
    publish(demo.generate(n, seed=SEED), data_dir, NullProgress())
    say(f"   built in {time.perf_counter() - started:.1f} s")
    return current_path(data_dir)


def sqlite_db(n: int, say: Callable[[str], None]) -> Path:
    """Return a SQLite file holding the same records as the demo snapshot.

    One row per IP keyed by the same 16-byte address, with the same fields
    (the variable-length parts as one blob) and indexes for blacklists.
    """
    path = CACHE / f"demo-{n}-{SEED}-{_data_version()}.sqlite"
    if path.exists():
        return path
    say(f"   building the SQLite baseline ({path})")
    started = time.perf_counter()
    snapshot = demo_snapshot(n, say)
    tmp = path.with_suffix(".tmp")
    tmp.unlink(missing_ok=True)
    db = sqlite3.connect(tmp)
    db.executescript(
        """
        PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;
        CREATE TABLE ips (ip BLOB PRIMARY KEY, ip_text TEXT, score INT, raw_score INT,
            country TEXT, asn INT, first_seen INT, last_seen INT, sessions INT,
            events INT, reports INT, reporters INT, last_reported INT,
            protocols INT, detail BLOB) WITHOUT ROWID;
        """
    )
    with Snapshot.open(snapshot) as snap:
        everything = Selection(
            np.zeros(snap.count, np.uint8), np.arange(snap.count, dtype=np.uint32)
        )  # every row of a base, in row order
        texts = snap.ip_texts(everything)
        summary = snap.summaries(everything)
        codes = np.array(snap.countries, dtype=object)[summary["country"]]
        masks = summary["protocols"].tolist()
        batch = []
        for ip16, r in snap.records():
            batch.append((
                ip16, texts[r.row], r.score, r.raw_score, codes[r.row], r.asn,
                r.first_seen, r.last_seen, r.sessions, r.events, r.reports,
                r.reporters, r.last_reported, masks[r.row], r.buf[HEADER.size :],
            ))  # fmt: skip
            if len(batch) == 100_000:
                db.executemany(_INSERT, batch)
                batch.clear()
        db.executemany(_INSERT, batch)
    db.execute("CREATE INDEX ips_score ON ips (score DESC, last_seen DESC)")
    db.execute("CREATE INDEX ips_country ON ips (country, score DESC, last_seen DESC)")
    db.commit()
    db.close()
    tmp.rename(path)
    say(f"   SQLite baseline built in {time.perf_counter() - started:.1f} s")
    return path


_INSERT = "INSERT INTO ips VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"


def percentile(samples_ns: np.ndarray, q: float) -> float:
    """Return the q-th percentile of nanosecond samples in microseconds."""
    return float(np.percentile(samples_ns, q)) / 1000.0
