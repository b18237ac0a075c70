"""Known-benign sources (crawlers, research scanners) and their score discounts.

Each source is one JSON file, ``builder/data/benign/<source>.json``::

    {"name": "Censys", "description": "...", "source": "where the ranges come from",
     "date": "2025-12-23", "discount": 0.2, "prefixes": ["162.142.125.0/24", ...]}

``discount`` is the factor (0.0-1.0) a listed IP's score is multiplied by,
after the saturation curve; the raw score is kept beside it. Sources are
numbered 1, 2, ... in file-name order (0 means "not listed").

When ranges overlap, the most specific prefix wins (a /27 inside another
source's /16 belongs to the /27's source); the same prefix in two files
belongs to the file that sorts first.
"""

import ipaddress
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from sikker.core.records import is_ipv4
from sikker.errors import BenignSourceError

#: The keys of a source file, all required.
KEYS = ("name", "description", "source", "date", "discount", "prefixes")
#: Source ids are stored as uint8 (0 = none).
MAX_SOURCES = 255

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_V4_BASE = 0xFFFF << 32  # ::ffff:0.0.0.0, the storage form of IPv4 addresses
_V4_LAST = _V4_BASE + (1 << 32) - 1


@dataclass(frozen=True)
class BenignSource:
    """One validated source file."""

    name: str
    description: str
    source: str
    date: str
    discount: float
    prefixes: tuple[str, ...]
    file: str = ""

    def to_dict(self) -> dict[str, Any]:
        """Return the source's fields (the number of prefixes, not the list)."""
        return {
            "name": self.name,
            "description": self.description,
            "source": self.source,
            "date": self.date,
            "discount": self.discount,
            "prefix_count": len(self.prefixes),
            "file": self.file,
        }


def parse_source(text: str, file: str) -> BenignSource:
    """Validate one source file's JSON text; errors name ``file``."""
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as ex:
        raise BenignSourceError(f"{file}: invalid JSON: {ex}") from None
    if not isinstance(doc, dict):
        raise BenignSourceError(f"{file}: expected a JSON object with {KEYS}")
    for key in doc:
        if key not in KEYS:
            raise BenignSourceError(
                f"{file}: unknown key {key!r}; expected {', '.join(KEYS)}"
            )
    for key in KEYS:
        if key not in doc:
            raise BenignSourceError(f"{file}: missing key {key!r}")
    for key in ("name", "description", "source", "date"):
        if not isinstance(doc[key], str) or not doc[key].strip():
            raise BenignSourceError(f"{file}: {key!r} must be a non-empty string")
    if not _DATE.fullmatch(doc["date"]):
        raise BenignSourceError(
            f"{file}: 'date' must be YYYY-MM-DD, got {doc['date']!r}"
        )
    discount = doc["discount"]
    if (
        isinstance(discount, bool)
        or not isinstance(discount, int | float)
        or not 0.0 <= discount <= 1.0
    ):
        raise BenignSourceError(
            f"{file}: 'discount' must be a number within 0.0-1.0, got {discount!r}"
        )
    prefixes = doc["prefixes"]
    if not isinstance(prefixes, list) or not prefixes:
        raise BenignSourceError(f"{file}: 'prefixes' must be a non-empty list")
    seen: set[str] = set()
    for prefix in prefixes:
        _check_prefix(prefix, file)
        if prefix in seen:
            raise BenignSourceError(f"{file}: prefix {prefix!r} is listed twice")
        seen.add(prefix)
    return BenignSource(
        name=doc["name"],
        description=doc["description"],
        source=doc["source"],
        date=doc["date"],
        discount=float(discount),
        prefixes=tuple(prefixes),
        file=file,
    )


def _check_prefix(prefix: object, file: str) -> None:
    if not isinstance(prefix, str):
        raise BenignSourceError(f"{file}: prefix {prefix!r} is not a string")
    try:
        ipaddress.ip_network(prefix, strict=True)
    except ValueError as ex:
        raise BenignSourceError(f"{file}: bad prefix {prefix!r}: {ex}") from None


def _span(prefix: str) -> tuple[int, int]:
    """Return the first and last address of a prefix in 128-bit storage form."""
    net = ipaddress.ip_network(prefix)
    first, last = int(net.network_address), int(net.broadcast_address)
    if net.version == 4:
        return _V4_BASE + first, _V4_BASE + last
    return first, last


def segments(sources: Sequence[BenignSource]) -> list[tuple[int, int, int]]:
    """Return disjoint ``(first, last, source id)`` ranges, ascending.

    Prefixes either nest or are disjoint, so a sweep with a stack of open
    prefixes gives every address to the innermost prefix covering it.
    """
    items = sorted(
        (first, -last, sid)
        for sid, source in enumerate(sources, 1)
        for first, last in map(_span, source.prefixes)
    )
    out: list[tuple[int, int, int]] = []
    stack: list[tuple[int, int, int]] = []  # open (first, last, sid), innermost last
    pos = 0  # first address not yet given to a segment

    def close_before(limit: int) -> None:
        nonlocal pos
        while stack and stack[-1][1] < limit:
            _, last, sid = stack.pop()
            if pos <= last:
                out.append((pos, last, sid))
                pos = last + 1

    for first, neg_last, sid in items:
        last = -neg_last
        close_before(first)
        if stack and stack[-1][:2] == (first, last):
            continue  # the same prefix in a later file: the first file keeps it
        if stack and pos < first:
            out.append((pos, first - 1, stack[-1][2]))
        pos = first
        stack.append((first, last, sid))
    close_before(1 << 128)
    return out


def _bytes16(values: list[int]) -> np.ndarray:
    """Return 128-bit integers as a sortable big-endian ``S16`` array."""
    return np.array([v.to_bytes(16, "big") for v in values], "S16")


class BenignIndex:
    """Known-benign sources and a vectorised address -> source lookup."""

    def __init__(self, sources: Sequence[BenignSource]) -> None:
        if len(sources) > MAX_SOURCES:
            raise BenignSourceError(f"at most {MAX_SOURCES} benign sources")
        names = [s.name for s in sources]
        for name in names:
            if names.count(name) > 1:
                raise BenignSourceError(f"benign source name {name!r} is used twice")
        self.benign_sources = list(sources)
        #: One dict per source (see BenignSource.to_dict); source id = index + 1.
        self.sources = [s.to_dict() for s in sources]
        spans = segments(sources)
        self._first = _bytes16([s[0] for s in spans])
        self._last = _bytes16([s[1] for s in spans])
        self._sid = np.array([s[2] for s in spans], np.uint8)
        v4 = [
            (max(a, _V4_BASE) - _V4_BASE, min(b, _V4_LAST) - _V4_BASE, sid)
            for a, b, sid in spans
            if a <= _V4_LAST and b >= _V4_BASE
        ]
        self._v4_first = np.array([s[0] for s in v4], np.uint32)
        self._v4_last = np.array([s[1] for s in v4], np.uint32)
        self._v4_sid = np.array([s[2] for s in v4], np.uint8)

    @classmethod
    def load(cls, directory: str | Path | None = None) -> "BenignIndex":
        """Load every ``*.json`` source of ``directory`` (default: the shipped ones).

        Raises:
            BenignSourceError: a file is unreadable or invalid (the message
                names the file and, for a bad range, the prefix).
        """
        if directory is None:
            folder = resources.files("sikker.builder").joinpath("data/benign")
            files = sorted(
                (f for f in folder.iterdir() if f.name.endswith(".json")),
                key=lambda f: f.name,
            )
            return cls(
                [parse_source(f.read_text(encoding="utf-8"), f.name) for f in files]
            )
        path = Path(directory)
        if not path.is_dir():
            raise BenignSourceError(f"{path}: not a directory of benign sources")
        sources = []
        for file in sorted(path.glob("*.json")):
            try:
                text = file.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as ex:
                raise BenignSourceError(f"{file}: cannot read: {ex}") from None
            sources.append(parse_source(text, str(file)))
        return cls(sources)

    def snapshot_sources(self) -> list[dict[str, Any]]:
        """Return what a snapshot stores per source: name and discount."""
        return [{"name": s.name, "discount": s.discount} for s in self.benign_sources]

    def lookup(self, ip16: np.ndarray) -> np.ndarray:
        """Return the source id (1-based, 0 = none) of each (N, 16) address."""
        ip16 = np.ascontiguousarray(ip16, np.uint8).reshape(-1, 16)
        out = np.zeros(len(ip16), np.uint8)
        if not len(self._sid) or not len(ip16):
            return out
        v4 = is_ipv4(ip16)
        if v4.any():
            addr = ip16[v4, 12:].copy().view(">u4").ravel()
            out[v4] = _find(addr, self._v4_first, self._v4_last, self._v4_sid)
        v6 = ~v4
        if v6.any():
            keys = ip16[v6].copy().view("S16").ravel()
            out[v6] = _find(keys, self._first, self._last, self._sid)
        return out


def _find(
    keys: np.ndarray, first: np.ndarray, last: np.ndarray, sid: np.ndarray
) -> np.ndarray:
    """Return the id of the sorted, disjoint range holding each key (0 = none)."""
    out = np.zeros(len(keys), np.uint8)
    if not len(first):
        return out
    j = np.searchsorted(first, keys, side="right") - 1
    inside = j >= 0
    inside[inside] = keys[inside] <= last[j[inside]]
    out[inside] = sid[j[inside]]
    return out


def apply_discount(
    raw: np.ndarray, source_ids: np.ndarray, sources: Sequence[Mapping[str, Any]]
) -> np.ndarray:
    """Return ``rint(raw * discount)`` per IP (uint8); source id 0 is unchanged.

    ``sources`` holds one mapping with a ``discount`` per source id 1, 2, ...
    """
    factor = np.array([1.0] + [float(s["discount"]) for s in sources])
    ids = np.asarray(source_ids, np.int64)
    return np.rint(np.asarray(raw, np.float64) * factor[ids]).astype(np.uint8)
