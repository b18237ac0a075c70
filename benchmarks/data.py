"""Benchmark inputs: demo snapshots and the equivalent SQLite tables, cached.

Everything is generated from the seeded demo data, so every suite and every
baseline sees the same records. Caches live in ``benchmarks/.data/``.
"""

import hashlib
import shutil
import sqlite3
import struct
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from benchmarks.mmdb import BYTES, MAP, UINT32, DataSection, control, write_mmdb
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

#: The record fields the .mmdb baseline stores (as uint32), as the SQLite one.
MMDB_FIELDS = (
    "score", "raw_score", "max_severity", "asn", "first_seen", "last_seen",
    "sessions", "events", "reports", "reporters", "last_reported",
)  # fmt: skip


def mmdb_db(n: int, say: Callable[[str], None]) -> Path:
    """Return a MaxMind DB holding the same records as the demo snapshot.

    One host entry per IP; its data is a map of the header fields, the
    country code and the packed arrays (``detail`` bytes), like a row of the
    SQLite baseline. Keys and country codes are stored once and pointed at.
    """
    path = CACHE / f"demo-{n}-{SEED}-{_data_version()}.mmdb"
    if path.exists():
        return path
    say(f"   writing the maxminddb baseline ({path})")
    started = time.perf_counter()
    with Snapshot.open(demo_snapshot(n, say)) as snap:
        section_path = path.with_suffix(".data.tmp")
        keys = bytearray()
        offsets = np.empty(snap.count, np.int64)
        with section_path.open("wb") as out:
            section = DataSection(
                out, [*MMDB_FIELDS, "country", "detail", *snap.countries]
            )
            ptr = section.pointers
            # One map per record: 11 uint32 fields, the country, the detail bytes.
            head = struct.Struct(">B" + "HBI" * len(MMDB_FIELDS) + "HHH")
            k = [ptr[f] for f in MMDB_FIELDS]
            u32 = UINT32 << 5 | 4
            countries = [ptr[c] for c in snap.countries]
            country_key, detail_key = ptr["country"], ptr["detail"]
            pack, size = head.pack, MAP << 5 | len(MMDB_FIELDS) + 2
            for i, (ip16, r) in enumerate(snap.records()):
                detail = r.buf[HEADER.size :]
                offsets[i] = section.add(
                    pack(size, k[0], u32, r.score, k[1], u32, r.raw_score, k[2], u32,
                         r.max_severity, k[3], u32, r.asn, k[4], u32, r.first_seen,
                         k[5], u32, r.last_seen, k[6], u32, r.sessions, k[7], u32,
                         r.events, k[8], u32, r.reports, k[9], u32, r.reporters, k[10],
                         u32, r.last_reported, country_key, countries[r.country],
                         detail_key)
                    + control(BYTES, len(detail)) + detail
                )  # fmt: skip
                keys += ip16
        tmp = path.with_suffix(".tmp")
        nodes = write_mmdb(
            tmp,
            np.frombuffer(keys, np.uint8).reshape(-1, 16),
            offsets,
            section_path,
            {
                "database_type": "sikker-benchmark",
                "description": {"en": "demo records"},
            },
        )
        section_path.unlink()
    tmp.rename(path)
    say(
        f"   maxminddb baseline: {nodes:,} nodes, {path.stat().st_size / 1e6:,.0f} MB, "
        f"written in {time.perf_counter() - started:.1f} s"
    )
    return path


def listed_addresses(snapshot: Snapshot, count: int, seed: int) -> list[str]:
    """Return ``count`` listed addresses drawn uniformly (with repeats)."""
    rng = np.random.default_rng(seed)
    rows = rng.integers(0, snapshot.count, count).astype(np.uint32)
    return snapshot.ip_texts(Selection(np.zeros(count, np.uint8), rows))


def unlisted_addresses(count: int, seed: int) -> list[str]:
    """Return ``count`` random public-looking IPv4 addresses (almost never listed)."""
    rng = np.random.default_rng(seed)
    octets = rng.integers([1, 0, 0, 1], [224, 256, 256, 255], (count, 4))
    return [f"{a}.{b}.{c}.{d}" for a, b, c, d in octets.tolist()]


def sample_addresses(snapshot: Snapshot, count: int, seed: int) -> list[str]:
    """Return ``count`` addresses, 90% listed, 10% random, in a seeded order."""
    listed = int(count * 0.9)
    out = listed_addresses(snapshot, listed, seed)
    out += unlisted_addresses(count - listed, seed + 1)
    np.random.default_rng(seed + 2).shuffle(out)
    return out


def percentile(samples_ns: np.ndarray, q: float) -> float:
    """Return the q-th percentile of nanosecond samples in microseconds."""
    return float(np.percentile(samples_ns, q)) / 1000.0
