"""Check many addresses at once: parse, look up, answer compactly.

Built for 10,000 addresses in a few milliseconds: lines are parsed by the
compiled IP core, every layer of the snapshot is read in one transaction,
and the fixed record headers of all hits are decoded as one numpy array
instead of one record object per address. Each answer is the compact form
(``ip``, ``found``, ``confidenceLevel``, ``countryCode``, ``asn``,
``lastSeen`` in epoch ms, ...) that SikkerAPI's bulk check returns.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import orjson

from sikker.core import ipcore, render
from sikker.core.records import HEADER, HEADER_FIELDS
from sikker.core.snapshot import Snapshot
from sikker.core.vocab import SEVERITIES
from sikker.errors import InvalidAddressError, InvalidFilterError

#: Addresses one bulk check may hold (SikkerAPI's limit).
MAX_ADDRESSES = 10_000
#: Characters of a bad line echoed back in its error.
ECHO = 64

#: A record's fixed header (records.HEADER) as a numpy dtype.
HEADER_DTYPE = np.dtype(
    [
        *((name, "u1") for name in HEADER_FIELDS[:9]),
        ("pad", "V3"),
        *((name, "<u4") for name in HEADER_FIELDS[9:]),
    ]
)
assert HEADER_DTYPE.itemsize == HEADER.size
_SEVERITY = (None, *SEVERITIES)
_TABLES = "compact_json"  # its key in Snapshot.derived


@dataclass
class ParsedLines:
    """Distinct addresses of a body, in first-seen order, and its bad lines."""

    keys: list[bytes] = field(default_factory=list)  # 16-byte storage form
    invalid: list[dict[str, Any]] = field(default_factory=list)
    lines: int = 0  # non-blank lines


def parse_lines(text: str, max_addresses: int = MAX_ADDRESSES) -> ParsedLines:
    """Parse one address per line; blank lines are skipped.

    Raises:
        InvalidFilterError: more than ``max_addresses`` non-blank lines.
    """
    out = ParsedLines()
    seen: set[bytes] = set()
    to_ip16 = ipcore.to_ip16
    for number, raw in enumerate(text.split("\n"), 1):
        line = raw.strip()
        if not line:
            continue
        out.lines += 1
        if out.lines > max_addresses:
            raise InvalidFilterError(
                "body", f"more than {max_addresses:,} addresses; split the list"
            )
        try:
            key = to_ip16(line)
        except InvalidAddressError as ex:
            out.invalid.append(
                {"line": number, "value": line[:ECHO], "error": ex.reason}
            )
            continue
        if key not in seen:
            seen.add(key)
            out.keys.append(key)
    return out


def compact_results(
    snapshot: Snapshot, keys: list[bytes], ignore_whitelist: bool = False
) -> list[dict[str, Any]]:
    """Return the compact answer of each 16-byte address, in order."""
    return compact(snapshot, keys, snapshot.lookup_many(keys), ignore_whitelist)


def compact_json(
    snapshot: Snapshot,
    keys: list[bytes],
    values: Sequence[bytes | None],
    ignore_whitelist: bool = False,
) -> bytes:
    """Return ``orjson.dumps(compact(...))``, written in one compiled call.

    The endpoints answer with this; :func:`compact` is its reference (the
    tests compare both twins with it).
    """
    countries, severities = snapshot.derive(_TABLES, _json_tables)
    return render.render_compact(keys, values, countries, severities, ignore_whitelist)


def _json_tables(snapshot: Snapshot) -> tuple[list[bytes], list[bytes]]:
    """Return the JSON of each country code and severity level."""
    return (
        [orjson.dumps(code or None) for code in snapshot.countries],
        [orjson.dumps(name) for name in _SEVERITY],
    )


def with_results(head: dict[str, Any], results: bytes, tail: dict[str, Any]) -> bytes:
    """Return ``orjson.dumps({**head, "results": ..., **tail})`` around
    ``results`` already in JSON (both dicts non-empty)."""
    return (
        orjson.dumps(head)[:-1]
        + b',"results":'
        + results
        + b","
        + orjson.dumps(tail)[1:]
    )


def compact(
    snapshot: Snapshot,
    keys: list[bytes],
    values: list[bytes | None],
    ignore_whitelist: bool = False,
) -> list[dict[str, Any]]:
    """Return the compact answers of addresses and their stored records."""
    hits = [value for value in values if value is not None]
    headers = np.frombuffer(
        b"".join(value[: HEADER.size] for value in hits), HEADER_DTYPE
    )
    columns = zip(
        (headers["raw_score"] if ignore_whitelist else headers["score"]).tolist(),
        headers["country"].tolist(),
        headers["asn"].tolist(),
        headers["last_seen"].tolist(),
        headers["sessions"].tolist(),
        headers["max_severity"].tolist(),
        headers["reports"].tolist(),
        strict=True,
    )
    countries = snapshot.countries
    text = ipcore.from_ip16
    out = []
    for key, value in zip(keys, values, strict=True):
        if value is None:
            out.append(_missing(text(key)))
            continue
        score, country, asn, last_seen, sessions, severity, reports = next(columns)
        out.append(
            {
                "ip": text(key),
                "found": True,
                "confidenceLevel": score,
                "countryCode": (countries[country] if country < len(countries) else "")
                or None,
                "asn": str(asn) if asn else None,
                "lastSeen": last_seen * 1000 if last_seen else None,
                "totalSessions": sessions,
                "maxSeverity": _SEVERITY[severity],
                "reports": reports,
            }
        )
    return out


def _missing(ip: str) -> dict[str, Any]:
    return {
        "ip": ip,
        "found": False,
        "confidenceLevel": 0,
        "countryCode": None,
        "asn": None,
        "lastSeen": None,
        "totalSessions": 0,
        "maxSeverity": None,
        "reports": 0,
    }


def found_count(results: Iterable[dict[str, Any]]) -> int:
    """Return how many results are listed addresses."""
    return sum(1 for r in results if r["found"])
