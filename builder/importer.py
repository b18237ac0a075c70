"""Turn scored records given as JSON objects into a RecordTable.

This is the import path of ``sikker build --records FILE.ndjson`` and the
way tests describe small snapshots. One object per IP::

    {"ip": "203.0.113.7", "score": 87, "rawScore": 90, "country": "CN",
     "asn": 4134, "asnOrg": "CHINANET", "firstSeen": "2026-01-02T03:04:05Z",
     "lastSeen": 1767300000, "sessions": 10, "events": 240,
     "protocols": {"ssh": {"sessions": 9, "events": 200}},
     "behaviors": {"ssh-authorized-keys-persistence": 3},
     "primitives": {"chattr-immutable-removal": 3},
     "reports": {"total": 3, "reporters": 2, "lastReported": 1767300000,
                 "categories": {"brute_force": 3}},
     "benignSource": "Googlebot"}

Only ``ip`` and ``score`` are required.
"""

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from sikker.core import ipcore
from sikker.core.records import RecordDetails, RecordTable
from sikker.core.vocab import CATEGORIES, PROTOCOL_IDS, country_code
from sikker.errors import SikkerError


class RecordImportError(SikkerError, ValueError):
    """A scored record given as JSON is invalid."""

    def __init__(self, line: int, message: str) -> None:
        self.line = line
        super().__init__(f"record {line}: {message}")


def epoch(value: Any, field: str) -> int:
    """Return epoch seconds from an integer or an ISO 8601 timestamp."""
    if value is None:
        return 0
    if isinstance(value, bool):
        raise ValueError(f"{field}: expected a time, got {value!r}")
    if isinstance(value, int | float):
        return int(value)
    if isinstance(value, str):
        return int(datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp())
    raise ValueError(f"{field}: expected epoch seconds or ISO 8601, got {value!r}")


def table_from_records(
    records: Iterable[Mapping[str, Any]],
    catalog: dict[str, list[dict[str, Any]]] | None = None,
    benign_sources: list[dict[str, Any]] | None = None,
) -> RecordTable:
    """Build a RecordTable from JSON-like records (see the module docstring).

    Raises:
        RecordImportError: naming the 1-based record number and the problem.
    """
    catalog = catalog or {"behaviors": [], "primitives": []}
    benign_sources = list(benign_sources or [])
    behavior_ix = {b["id"]: i for i, b in enumerate(catalog["behaviors"])}
    primitive_ix = {p["id"]: i for i, p in enumerate(catalog["primitives"])}
    scalars: dict[str, list[Any]] = {name: [] for name in RecordTable.SCALARS}
    ips: list[bytes] = []
    seen: set[bytes] = set()
    asn_orgs: dict[int, str] = {}
    details: list[RecordDetails] = []
    for number, record in enumerate(records, 1):
        try:
            ip16 = ipcore.to_ip16(_require(record, "ip"))
            if ip16 in seen:
                raise ValueError(f"duplicate ip {record['ip']}")
            seen.add(ip16)
            row = _scalars(record, benign_sources)
            protocols = [
                (
                    _known(name, PROTOCOL_IDS, "protocol"),
                    int(v.get("sessions", 0)),
                    int(v.get("events", 0)),
                )
                for name, v in (record.get("protocols") or {}).items()
            ]
            behaviors = [
                (_known(k, behavior_ix, "behavior"), int(c))
                for k, c in (record.get("behaviors") or {}).items()
            ]
            primitives = [
                (_known(k, primitive_ix, "primitive"), int(c))
                for k, c in (record.get("primitives") or {}).items()
            ]
            reports = record.get("reports") or {}
            categories = [
                (_category(k), int(c))
                for k, c in (reports.get("categories") or {}).items()
            ]
        except (KeyError, ValueError, TypeError, AttributeError) as ex:
            raise RecordImportError(number, str(ex).strip("'\"")) from ex
        ips.append(ip16)
        for name, value in row.items():
            scalars[name].append(value)
        if record.get("asnOrg") and row["asn"]:
            asn_orgs[row["asn"]] = str(record["asnOrg"])
        details.append(RecordDetails(protocols, behaviors, primitives, categories))
    table = RecordTable.from_rows(
        ips,
        scalars,
        details,
        asn_orgs=asn_orgs,
        catalog=catalog,
        benign_sources=benign_sources,
    )
    table.validate()
    return table


def _scalars(record: Mapping[str, Any], benign_sources: list[dict[str, Any]]) -> dict:
    score = _score(_require(record, "score"), "score")
    reports = record.get("reports") or {}
    first = epoch(record.get("firstSeen"), "firstSeen")
    last = epoch(record.get("lastSeen"), "lastSeen") or first
    if first > last:
        raise ValueError("firstSeen is after lastSeen")
    sessions = int(record.get("sessions", 0))
    return {
        "score": score,
        "raw_score": _score(record.get("rawScore", score), "rawScore"),
        "country": country_code(record["country"], "country")
        if record.get("country")
        else "",
        "asn": int(str(record.get("asn") or 0).upper().removeprefix("AS")),
        "first_seen": first,
        "last_seen": last,
        "sessions": sessions,
        "events": int(record.get("events", sessions)),
        "reports": int(reports.get("total", 0)),
        "reporters": int(reports.get("reporters", 0)),
        "last_reported": epoch(reports.get("lastReported"), "lastReported"),
        "benign_source": _benign(record.get("benignSource"), benign_sources),
    }


def _require(record: Mapping[str, Any], field: str) -> Any:
    if field not in record:
        raise ValueError(f"missing required field {field!r}")
    return record[field]


def _score(value: Any, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 100:
        raise ValueError(f"{field} must be an integer 0-100, got {value!r}")
    return value


def _known(name: str, table: Mapping[str, int], what: str) -> int:
    if name not in table:
        raise ValueError(f"unknown {what} {name!r}")
    return table[name]


def _category(key: str | int) -> int:
    text = str(key)
    if text.isdigit() and 1 <= int(text) <= len(CATEGORIES):
        return int(text)
    if text in CATEGORIES:
        return CATEGORIES.index(text) + 1
    raise ValueError(f"unknown report category {key!r}")


def _benign(name: str | None, sources: list[dict[str, Any]]) -> int:
    if not name:
        return 0
    for i, source in enumerate(sources, 1):
        if source["name"] == name:
            return i
    sources.append({"name": name, "discount": 1.0})
    return len(sources)
