"""Seeded, realistic demo data at any scale, fully vectorised.

:func:`generate` returns a :class:`~sikker.core.records.RecordTable` that looks
like a real honeypot feed. The world of countries and networks comes from
:mod:`.demo_world` and the addresses in it from :mod:`.demo_addresses`; this
module draws the evidence per IP: heavy-tailed sessions, behaviors from the
catalog that fit each IP's protocols, community reports on a minority of IPs,
first and last seen times, and a score, discounted for known-benign scanners.

Everything is numpy over whole columns (no per-IP Python), in chunks of
:data:`CHUNK` rows so that 10 million IPs fit in a few GB. The same arguments
always give the same table.
"""

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np

from sikker.builder.benign import BenignIndex, apply_discount
from sikker.builder.catalog import Catalog, load_catalog
from sikker.builder.conform import conform
from sikker.builder.demo_addresses import place_addresses
from sikker.builder.demo_world import BENIGN_SOURCES, ISP, World, build_world, weights
from sikker.builder.scoring import Evidence, raw_scores
from sikker.core.records import Ragged, RecordTable
from sikker.core.vocab import CATEGORIES, PROTOCOL_IDS, PROTOCOLS

DAY = 86_400
#: Evidence window: first and last seen fall within this many seconds before now.
WINDOW = 90 * DAY
#: Rows generated per step; each step is independent (its own random stream).
CHUNK = 1 << 20

_SENTINEL = np.uint64(0xFFFF_FFFF_FFFF_FFFF)

# -- evidence per IP -------------------------------------------------------------

#: Relative protocol popularity: ISP space (home routers, IoT) and hosting space.
_PROTOCOL_WEIGHTS = (
    # ssh telnet http ftp smtp mysql postgresql mongodb redis docker elasticsearch
    # mssql imap smb rtsp sip (the order of vocab.PROTOCOLS)
    (34, 28, 10, 2, 2, 2.5, 1.5, 0.6, 1.5, 0.8, 0.7, 3, 1.2, 6, 0.8, 0.8),
    (48, 5, 16, 2.5, 2.5, 3.5, 3, 1.5, 4, 3, 2, 3, 1.5, 3, 0.4, 1.5),
)
#: Chances of 1, 2, 3 or 4 protocol draws per profile (repeated draws collapse).
_PROTOCOL_DRAWS = ((0.74, 0.17, 0.06, 0.03), (0.5, 0.25, 0.15, 0.10))
#: Pareto exponent of sessions per IP, per profile (smaller = heavier tail).
_SESSION_ALPHA = (1.1, 0.95)
_MAX_SESSIONS = 2_000_000
#: Mean extra events per session.
_EVENTS_PER_SESSION = (6, 4, 0.6, 3, 4, 2, 2, 3, 3, 2, 1, 2, 3, 3, 1, 1)
#: Behavior draw weight per severity level (1-4), times a per-behavior boost.
_SEVERITY_PREVALENCE = (0.0, 6.0, 4.0, 1.5, 1.0)
_PREVALENCE = {
    "ssh-brute-force": 8,
    "telnet-brute-force": 6,
    "iot-default-credentials": 3,
    "host-fingerprinting": 3,
    "system-info-discovery": 3,
    "connect-only-probe": 4,
    "automated-ssh-client": 3,
    "mirai-busybox-probe": 2,
    "web-vulnerability-scanner": 2,
    "secrets-file-probe": 2,
    "smb-share-enumeration": 2,
    "sip-options-scan": 2,
}
_MAX_BEHAVIORS = 6
#: Report category weights (ids 1-16) by the protocol an IP was first seen on.
_CATEGORY_WEIGHTS = {
    "default": (
        "brute_force:5 port_scan:4 exploited_host:1 other:0.5 "
        "ddos:0.3 dns_abuse:0.1 spoofing:0.1"
    ),
    "ssh": "brute_force:10 port_scan:3 exploited_host:1 malware:0.5",
    "telnet": "brute_force:6 iot_targeted:5 port_scan:2 malware:1",
    "http": (
        "web_exploit:6 bad_bot:3 sql_injection:1.5 port_scan:1.5 "
        "open_proxy:0.5 brute_force:1"
    ),
    "smtp": "spam:6 phishing:3 brute_force:2 open_proxy:0.5",
    "imap": "brute_force:6 phishing:1 spam:1",
    "redis": "web_exploit:3 port_scan:3 malware:2 exploited_host:1",
    "docker": "web_exploit:3 port_scan:3 malware:2 exploited_host:1",
    "smb": "port_scan:4 malware:2 brute_force:2 exploited_host:1",
    "rtsp": "iot_targeted:5 brute_force:3 port_scan:2",
    "sip": "fraud:4 port_scan:3 brute_force:3 spoofing:0.5",
}


class _Tables(NamedTuple):
    """Catalog lookups for drawing behaviors and their primitives."""

    cum: np.ndarray  # per (class, protocol) row r: r + normalised cumulative weight
    ids: np.ndarray  # uint64 behavior index per ``cum`` entry, _NONE when none fits
    level: np.ndarray  # severity level per behavior, plus 0 for _NONE
    refs: np.ndarray  # (behaviors, variants, width) primitive indexes, _NONE padded
    variants: np.ndarray  # number of ``any`` variants per behavior (at least 1)
    categories: tuple[np.ndarray, np.ndarray]  # (cum, ids) per protocol row


_NONE = 0xFFFF_FFFF


def _cumulative(rows: list[dict[int, float]]) -> tuple[np.ndarray, np.ndarray]:
    """Flatten weighted choices per row into (r + cumulative share, id) arrays."""
    cum, ids = [], []
    for r, choices in enumerate(rows):
        if not choices:
            choices = {_NONE: 1.0}
        share = np.cumsum(list(choices.values()))
        cum.append(r + share / share[-1])
        cum[-1][-1] = r + 1.0
        ids.append(np.array(list(choices), np.uint64))
    return np.concatenate(cum), np.concatenate(ids)


def _tables(catalog: Catalog) -> _Tables:
    """Build the draw tables: behaviors per (benign?, protocol), refs, categories."""
    behaviors = catalog.behaviors
    rows: list[dict[int, float]] = []
    for benign_only in (False, True):
        for name in PROTOCOLS:
            rows.append(
                {
                    i: _SEVERITY_PREVALENCE[b.level] * _PREVALENCE.get(b.id, 1.0)
                    for i, b in enumerate(behaviors)
                    if name in b.protocols and (b.level == 1 or not benign_only)
                }
            )
    cum, ids = _cumulative(rows)
    variants = np.array([max(1, len(b.any_of)) for b in behaviors] or [1], np.int64)
    width = max([len(b.all_of) + bool(b.any_of) for b in behaviors] or [1])
    refs = np.full(
        (max(1, len(behaviors)), int(variants.max()), width), _NONE, np.uint64
    )
    for i, b in enumerate(behaviors):
        for v in range(variants[i]):
            chosen = b.all_of + b.any_of[v : v + 1]
            refs[i, v, : len(chosen)] = [catalog.primitive_index(p) for p in chosen]
    cat_ix = {name: i + 1 for i, name in enumerate(CATEGORIES)}
    cat_rows = [
        {
            cat_ix[c]: w
            for c, w in weights(
                _CATEGORY_WEIGHTS.get(name, _CATEGORY_WEIGHTS["default"])
            ).items()
        }
        for name in PROTOCOLS
    ]
    return _Tables(
        cum=cum,
        ids=ids,
        level=np.array([b.level for b in behaviors] + [0], np.int64),
        refs=refs,
        variants=variants,
        categories=_cumulative(cat_rows),
    )


def _pick(
    table: tuple[np.ndarray, np.ndarray], row: np.ndarray, u: np.ndarray
) -> np.ndarray:
    """Draw one id per element from the weighted choices of its ``row``."""
    cum, ids = table
    return ids[np.searchsorted(cum, row + u, side="right")]


def _dedupe(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sort rows of ``id << 32 | value`` keys; drop padding and repeated ids.

    Returns the number of entries kept per row and the kept keys, row by row.
    Of a repeated id the largest value is kept.
    """
    keys.sort(axis=1)
    ids = keys >> np.uint64(32)
    keep = keys != _SENTINEL
    keep[:, :-1] &= ids[:, :-1] != ids[:, 1:]
    return keep.sum(axis=1).astype(np.uint8), keys[keep]


def _keys(
    ids: np.ndarray, values: np.ndarray, valid: np.ndarray | np.bool_
) -> np.ndarray:
    """Pack ``id << 32 | value``; padding (invalid or _NONE ids) becomes _SENTINEL."""
    keys = ids.astype(np.uint64) << np.uint64(32) | values.astype(np.uint64)
    return np.where(valid & (ids != _NONE), keys, _SENTINEL)


def _split_ids(keys: np.ndarray, dtype: str) -> tuple[np.ndarray, np.ndarray]:
    """Unpack keys into (ids as ``dtype``, uint32 values)."""
    return (keys >> np.uint64(32)).astype(dtype), (keys & np.uint64(_NONE)).astype(
        np.uint32
    )


def _starts(lengths: np.ndarray) -> np.ndarray:
    """Return the offset of each row's first entry."""
    return np.cumsum(lengths, dtype=np.int64) - lengths


@dataclass
class _Part:
    """The columns of one chunk of rows."""

    scalars: dict[str, np.ndarray]
    ragged: dict[str, tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]]


_PROTOCOL_CUM = [_cumulative([dict(enumerate(w))]) for w in _PROTOCOL_WEIGHTS]
_PROTOCOL_POPULARITY = np.array(_PROTOCOL_WEIGHTS[0])
_EVENT_RATE = np.array(_EVENTS_PER_SESSION)
_HTTP = PROTOCOL_IDS["http"]
#: Benign sources that only crawl the web (Googlebot, Bingbot); others scan all.
_CRAWLERS = (1, 2)


def _protocols(
    rng: np.random.Generator, profile: np.ndarray, benign: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Return (protocols per IP, protocol ids row by row, ascending)."""
    n = len(profile)
    draws = np.empty((n, 4), np.uint64)
    count = np.empty(n, np.int64)
    for p, chances in enumerate(_PROTOCOL_DRAWS):
        sel = profile == p
        size = int(sel.sum())
        draws[sel] = _pick(_PROTOCOL_CUM[p], np.zeros((size, 1)), rng.random((size, 4)))
        count[sel] = 1 + np.searchsorted(np.cumsum(chances)[:-1], rng.random(size))
    crawler = np.isin(benign, _CRAWLERS)
    draws[crawler, 0], count[crawler] = _HTTP, 1
    scanner = (benign > 0) & ~crawler
    draws[scanner] = rng.integers(0, len(PROTOCOLS), (int(scanner.sum()), 4))
    count[scanner] = 4
    lengths, keys = _dedupe(_keys(draws, np.zeros(1), np.arange(4) < count[:, None]))
    return lengths, (keys >> np.uint64(32)).astype(np.uint8)


def _sessions(
    rng: np.random.Generator, profile: np.ndarray, minimum: np.ndarray
) -> np.ndarray:
    """Return Pareto-distributed sessions per IP: mostly 1-10, a few 10^5 and more."""
    alpha = np.array(_SESSION_ALPHA)[profile]
    sessions = np.floor((1.0 - rng.random(len(profile))) ** (-1.0 / alpha))
    return np.maximum(np.minimum(sessions, _MAX_SESSIONS).astype(np.int64), minimum)


def _split(
    rng: np.random.Generator, sessions: np.ndarray, lengths: np.ndarray, ids: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Split each IP's sessions over its protocols; derive events (>= sessions)."""
    owner = np.repeat(np.arange(len(sessions)), lengths)
    starts = _starts(lengths)
    weight = rng.exponential(size=len(ids)) * _PROTOCOL_POPULARITY[ids]
    share = weight / np.add.reduceat(weight, starts)[owner]
    parts = 1 + np.floor(share * (sessions - lengths)[owner]).astype(np.int64)
    parts[starts] += sessions - np.add.reduceat(parts, starts)
    rate = _EVENT_RATE[ids] * rng.gamma(2.0, 0.5, len(sessions))[owner]
    return parts, parts + rng.poisson(parts * rate)


def _grouped(lengths: np.ndarray, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Deduplicate flat per-row keys (``lengths`` per row) like :func:`_dedupe`."""
    rows = np.flatnonzero(lengths)
    per_row = lengths[rows].astype(np.int64)
    local = np.repeat(np.arange(len(rows)), per_row)
    grid = np.full((len(rows), max(1, int(per_row.max(initial=0)))), _SENTINEL)
    grid[local, np.arange(len(keys)) - _starts(per_row)[local]] = keys
    found = np.zeros(len(lengths), np.uint8)
    found[rows], flat = _dedupe(grid)
    return found, flat


def _behaviors(
    rng: np.random.Generator,
    tables: _Tables,
    benign: np.ndarray,
    sessions: np.ndarray,
    protocols: tuple[np.ndarray, np.ndarray, np.ndarray],
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Draw behaviors fitting each IP's protocols: (lengths, keys, max level)."""
    lengths, ids, per_protocol_sessions = protocols
    wanted = 0.3 + 0.3 * np.log10(sessions) + 0.2 * (lengths - 1.0)
    slots = np.minimum(rng.poisson(wanted), _MAX_BEHAVIORS)
    owner = np.repeat(np.arange(len(sessions)), slots)
    entry = _starts(lengths)[owner] + (rng.random(len(owner)) * lengths[owner]).astype(
        np.int64
    )
    row = (benign[owner] > 0) * len(PROTOCOLS) + ids[entry]
    behavior = _pick((tables.cum, tables.ids), row, rng.random(len(owner)))
    share = rng.random(len(owner)) ** 2
    count = 1 + rng.binomial(per_protocol_sessions[entry] - 1, share)
    level = tables.level[np.minimum(behavior, len(tables.level) - 1).astype(np.int64)]
    max_level = np.zeros(len(sessions), np.int64)
    np.maximum.at(max_level, owner, level)
    found, flat = _grouped(slots, _keys(behavior, count, np.bool_(True)))
    return found, flat, max_level


def _primitives(
    rng: np.random.Generator, tables: _Tables, lengths: np.ndarray, keys: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Return the primitives the drawn behaviors reference, with match counts."""
    behavior, count = _split_ids(keys, "i8")
    variant = (rng.random(len(behavior)) * tables.variants[behavior]).astype(np.int64)
    refs = tables.refs[behavior, variant]
    matches = count[:, None] * (1 + rng.poisson(0.7, refs.shape))
    flat = _keys(refs, matches, np.bool_(True)).ravel()
    return _grouped(lengths.astype(np.int64) * refs.shape[1], flat)


def _reports(
    rng: np.random.Generator,
    tables: _Tables,
    evidence: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Return (reports, reporters, category lengths, category keys).

    Busier, more dangerous and hosted IPs are reported more often, and busier
    ones by more people. Every report carries the main category, some also
    others.
    """
    sessions, max_level, profile, first_protocol = evidence
    n = len(sessions)
    chance = (
        0.08
        + 0.05 * np.log10(sessions)
        + 0.08 * (max_level >= 3)
        + 0.3 * (max_level >= 4)
        + 0.05 * profile
    )
    hit = np.flatnonzero(rng.random(n) < np.minimum(chance, 0.85))
    reports, reporters = np.zeros(n, np.int64), np.zeros(n, np.int64)
    # Heavy-tailed, but an IP our sensors barely saw is rarely reported by hundreds.
    ceiling = np.minimum(20 + 25 * sessions[hit], 20_000)
    volume = np.minimum(np.floor((1.0 - rng.random(len(hit))) ** (-1 / 1.3)), ceiling)
    reports[hit] = volume
    reporters[hit] = 1 + rng.binomial(
        reports[hit] - 1, rng.uniform(0.15, 0.8, len(hit))
    )
    category = _pick(
        tables.categories, first_protocol[hit, None], rng.random((len(hit), 3))
    )
    extra = 1 + rng.binomial(
        reports[hit, None] - 1, rng.uniform(0.1, 0.6, (len(hit), 2))
    )
    count = np.column_stack([reports[hit], extra])
    wanted = 1 + np.searchsorted([0.55, 0.85], rng.random(len(hit)))
    lengths = np.zeros(n, np.uint8)
    lengths[hit], keys = _dedupe(_keys(category, count, np.arange(3) < wanted[:, None]))
    return reports, reporters, lengths, keys


def _times(
    rng: np.random.Generator, now: int, sessions: np.ndarray, reports: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return (first seen, last seen, last reported) within WINDOW before ``now``."""
    n = len(sessions)
    last_age = np.minimum(rng.exponential(12 * DAY, n), WINDOW - DAY).astype(np.int64)
    span = rng.exponential(DAY, n) * (1 + np.log10(sessions)) ** 2
    first = now - last_age - np.minimum(span, WINDOW - 1 - last_age).astype(np.int64)
    reported = first + (rng.random(n) * (now - first)).astype(np.int64)
    return first, now - last_age, np.where(reports > 0, reported, 0)


def evidence_score(
    sessions: np.ndarray,
    events: np.ndarray,
    protocols: np.ndarray,
    behaviors: tuple[np.ndarray, np.ndarray, np.ndarray],
    primitives: np.ndarray,
    reports: tuple[np.ndarray, np.ndarray],
) -> np.ndarray:
    """Return each IP's raw 0-100 score from the real model (:mod:`.scoring`).

    ``behaviors`` is (behaviors per IP, their severity levels 1-4 and match
    counts, row by row); ``reports`` is (reports, distinct reporters).
    """
    n = len(sessions)
    lengths, level, count = behaviors
    owner = np.repeat(np.arange(n), lengths)
    severity_counts = np.zeros((n, 4), np.int64)
    np.add.at(severity_counts, (owner, level - 1), 1)
    return raw_scores(
        Evidence(
            sessions=sessions,
            events=events,
            protocols=protocols,
            severity_counts=severity_counts,
            behavior_matches=np.bincount(owner, weights=count, minlength=n),
            primitives=primitives,
            reports=reports[0],
            reporters=reports[1],
        )
    )


_SOURCES = [{"name": s.name, "discount": s.discount} for s in BENIGN_SOURCES]


def _chunk(
    seed: int,
    index: int,
    kind: np.ndarray,
    benign: np.ndarray,
    tables: _Tables,
    now: int,
) -> _Part:
    """Generate every column but the address, country and ASN for one chunk."""
    rng = np.random.default_rng([seed, 2, index])
    profile = (kind != ISP).astype(np.int64)
    plen, pids = _protocols(rng, profile, benign)
    sessions = _sessions(rng, profile, plen)
    psessions, pevents = _split(rng, sessions, plen, pids)
    blen, bkeys, max_level = _behaviors(
        rng, tables, benign, sessions, (plen, pids, psessions)
    )
    prlen, prkeys = _primitives(rng, tables, blen, bkeys)
    first_protocol = pids[_starts(plen)]
    reports, reporters, clen, ckeys = _reports(
        rng, tables, (sessions, max_level, profile, first_protocol)
    )
    first, last, last_reported = _times(rng, now, sessions, reports)
    behavior, bcount = _split_ids(bkeys, "<u2")
    events = np.add.reduceat(pevents, _starts(plen))
    raw = evidence_score(
        sessions,
        events,
        plen,
        (blen, tables.level[behavior], bcount),
        prlen,
        (reports, reporters),
    )
    primitive, prcount = _split_ids(prkeys, "<u2")
    category, ccount = _split_ids(ckeys, "u1")
    return _Part(
        scalars={
            "score": apply_discount(raw, benign, _SOURCES),
            "raw_score": raw,
            "first_seen": first.astype(np.uint32),
            "last_seen": last.astype(np.uint32),
            "sessions": sessions.astype(np.uint32),
            "events": events.astype(np.uint32),
            "reports": reports.astype(np.uint32),
            "reporters": reporters.astype(np.uint32),
            "last_reported": last_reported.astype(np.uint32),
            "benign_source": benign,
        },
        ragged={
            "protocols": (
                plen,
                pids,
                {
                    "sessions": psessions.astype(np.uint32),
                    "events": pevents.astype(np.uint32),
                },
            ),
            "behaviors": (blen, behavior, {"count": bcount}),
            "primitives": (prlen, primitive, {"count": prcount}),
            "categories": (clen, category, {"count": ccount}),
        },
    )


# -- assembly ------------------------------------------------------------------

_SCALAR_TYPES = {
    "score": np.uint8,
    "raw_score": np.uint8,
    "first_seen": np.uint32,
    "last_seen": np.uint32,
    "sessions": np.uint32,
    "events": np.uint32,
    "reports": np.uint32,
    "reporters": np.uint32,
    "last_reported": np.uint32,
    "benign_source": np.uint8,
}
_RAGGED_TYPES = {
    "protocols": ("u1", ("sessions", "events")),
    "behaviors": ("<u2", ("count",)),
    "primitives": ("<u2", ("count",)),
    "categories": ("u1", ("count",)),
}


def _concat(arrays: list[np.ndarray], dtype: Any) -> np.ndarray:
    """Concatenate and empty the list (to free each chunk as soon as possible)."""
    out = (
        np.concatenate(arrays).astype(dtype, copy=False)
        if arrays
        else np.zeros(0, dtype)
    )
    arrays.clear()
    return out


def _ragged(parts: list[_Part], name: str) -> Ragged:
    """Join one ragged column of every chunk."""
    id_type, value_names = _RAGGED_TYPES[name]
    pieces = [part.ragged.pop(name) for part in parts]
    lengths = _concat([p[0] for p in pieces], np.uint8)
    offsets = np.zeros(len(lengths) + 1, np.int64)
    np.cumsum(lengths, out=offsets[1:])
    return Ragged(
        offsets,
        _concat([p[1] for p in pieces], id_type),
        {v: _concat([p[2][v] for p in pieces], np.uint32) for v in value_names},
    )


def _assemble(
    parts: list[_Part], ip: np.ndarray, net: np.ndarray, world: World, catalog: Catalog
) -> RecordTable:
    """Join the chunks with the addresses and the network columns."""
    scalars: dict[str, Any] = {
        name: _concat([part.scalars.pop(name) for part in parts], dtype)
        for name, dtype in _SCALAR_TYPES.items()
    }
    ragged: dict[str, Any] = {name: _ragged(parts, name) for name in _RAGGED_TYPES}
    used = np.unique(net)
    table = RecordTable(
        ip=ip,
        country=world.country[net],
        asn=world.asn[net],
        **scalars,
        **ragged,
        asn_orgs={int(world.asn[i]): world.org[i] for i in used.tolist()},
        catalog=catalog.to_snapshot(),
        benign_sources=[dict(s) for s in _SOURCES],
    )
    # Use the shipped benign-source list, so live builds can layer on the demo.
    return conform(table, table.catalog, BenignIndex.load().snapshot_sources())


def _chunks(n: int) -> Iterator[tuple[int, int, int]]:
    """Yield (index, start, stop) of each chunk of ``n`` rows."""
    for index, start in enumerate(range(0, n, CHUNK)):
        yield index, start, min(n, start + CHUNK)


def generate(
    n: int,
    seed: int = 1,
    now: int | None = None,
    ipv6_share: float = 0.1,
    catalog: Catalog | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> RecordTable:
    """Return ``n`` realistic scored demo records.

    Args:
        n: number of distinct IPs.
        seed: the same seed (and other arguments) gives the same table.
        now: end of the 90-day evidence window (epoch seconds); default now.
        ipv6_share: fraction of IPv6 addresses (0-1).
        catalog: behaviors and primitives to draw from; default the shipped one.
        progress: called as ``progress(done, total)`` after each chunk of rows.

    Raises:
        ValueError: ``n`` is negative or ``ipv6_share`` is outside 0-1.
    """
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}")
    if not 0.0 <= ipv6_share <= 1.0:
        raise ValueError(f"ipv6_share must be within 0-1, got {ipv6_share}")
    now = int(time.time()) if now is None else int(now)
    catalog = load_catalog() if catalog is None else catalog
    report = progress or (lambda done, total: None)
    report(0, n)
    world = build_world(seed)
    net, ip = place_addresses(world, n, ipv6_share, seed)
    tables = _tables(catalog)
    parts = []
    for index, start, stop in _chunks(n):
        rows = net[start:stop]
        parts.append(
            _chunk(seed, index, world.kind[rows], world.benign[rows], tables, now)
        )
        report(stop, n)
    return _assemble(parts, ip, net, world, catalog)
