"""The JSON shapes users see: check responses and blacklist documents.

Field names follow SikkerAPI (camelCase); see docs/api.md. The server and
the CLI both use these functions, so ``sikker check --json`` prints exactly
what ``GET /v1/key/check/{ip}`` returns.
"""

import time
import weakref
from functools import lru_cache
from typing import Any

from sikker.core import ipcore, scoring
from sikker.core.filters import BlacklistQuery
from sikker.core.records import Record
from sikker.core.snapshot import Selection, Snapshot
from sikker.core.vocab import (
    CATEGORIES,
    PROTOCOLS,
    SEVERITIES,
    SEVERITY_LEVELS,
    countries,
)


def iso(epoch: int) -> str | None:
    """Return an epoch-seconds time as ISO 8601 UTC, or None for 0."""
    if not epoch:
        return None
    days, seconds = divmod(epoch, 86_400)
    return _iso_day(days) + _iso_time(seconds)


# PERF: datetime formatting costs ~4 us a call; days and times of day repeat.
@lru_cache(maxsize=4096)
def _iso_day(days: int) -> str:
    return time.strftime("%Y-%m-%dT", time.gmtime(days * 86_400))


@lru_cache(maxsize=86_400)
def _iso_time(seconds: int) -> str:
    return f"{seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}Z"


def severity_name(level: int) -> str | None:
    """Return the name of a severity level, None for 0."""
    return SEVERITIES[level - 1] if level else None


@lru_cache(maxsize=4096)
def protocol_names(mask: int) -> tuple[str, ...]:
    """Return the protocol names set in a protocol bit mask."""
    return tuple(name for i, name in enumerate(PROTOCOLS) if mask >> i & 1)


def geolocation(snapshot: Snapshot, country_ix: int, asn: int) -> dict[str, Any]:
    """Return the geolocation object of a record."""
    code = (
        snapshot.countries[country_ix] if country_ix < len(snapshot.countries) else ""
    )
    return {
        "countryCode": code or None,
        "countryName": countries().get(code) if code else None,
        "asn": str(asn) if asn else None,
        "asnOrg": snapshot.asn_orgs.get(str(asn)) if asn else None,
    }


def check_payload(
    snapshot: Snapshot, ip: str, record: Record | None, ignore_whitelist: bool = False
) -> dict[str, Any]:
    """Return the check response for ``ip`` (``record`` None = not listed)."""
    version, value = ipcore.parse_ip(ip)
    reason = ipcore.classify(version, value)
    if record is None:
        return {
            "ip": ipcore.format_ip(version, value),
            "found": False,
            "confidenceLevel": 0,
            "rawConfidenceLevel": 0,
            "isPublic": reason is None,
            "nonPublicReason": reason,
            "snapshot": snapshot.sequence,
        }
    behaviors, primitives = catalog_views(snapshot)
    details = record.details()
    whitelist = None
    if record.benign_source:
        source = snapshot.benign_sources[record.benign_source - 1]
        whitelist = {"source": source["name"], "discount": source.get("discount")}
    # PERF: one literal in the answer's key order (no update() of a draft)
    payload: dict[str, Any] = {
        "ip": ipcore.format_ip(version, value),
        "found": True,
        "confidenceLevel": record.raw_score if ignore_whitelist else record.score,
        "rawConfidenceLevel": record.raw_score,
        "isPublic": reason is None,
        "nonPublicReason": reason,
        "whitelist": whitelist,
        "geolocation": geolocation(snapshot, record.country, record.asn),
        "firstSeen": iso(record.first_seen),
        "lastSeen": iso(record.last_seen),
        "totalSessions": record.sessions,
        "totalEvents": record.events,
        "maxSeverity": severity_name(record.max_severity),
        "protocols": [
            {"protocol": PROTOCOLS[pid], "sessions": sessions, "events": events}
            for pid, sessions, events in details.protocols
        ],
        "behaviors": [{**behaviors[i], "count": n} for i, n in details.behaviors],
        "primitives": [{**primitives[i], "count": n} for i, n in details.primitives],
        "reports": {
            "total": record.reports,
            "distinctReporters": record.reporters,
            "lastReportedAt": iso(record.last_reported),
            "categories": {CATEGORIES[c - 1]: n for c, n in details.categories},
        },
        "snapshot": snapshot.sequence,
    }
    return payload


_VIEWS: "weakref.WeakKeyDictionary[Snapshot, tuple[list, list]]" = (
    weakref.WeakKeyDictionary()
)


def score_breakdown(snapshot: Snapshot, record: Record) -> list[dict[str, Any]]:
    """Return each scoring component's points for a record (docs/scoring.md)."""
    details = record.details()
    levels = _severity_levels(snapshot)
    counts = [0, 0, 0, 0]
    for index, _ in details.behaviors:
        counts[levels[index] - 1] += 1
    evidence = scoring.Evidence.one(
        sessions=record.sessions,
        events=record.events,
        protocols=len(details.protocols),
        severity_counts=(counts[0], counts[1], counts[2], counts[3]),
        behavior_matches=sum(n for _, n in details.behaviors),
        primitives=len(details.primitives),
        reports=record.reports,
        reporters=record.reporters,
    )
    return scoring.explain(evidence)


def _severity_levels(snapshot: Snapshot) -> list[int]:
    return [SEVERITY_LEVELS[b["severity"]] for b in snapshot.catalog["behaviors"]]


def catalog_views(snapshot: Snapshot) -> tuple[list[dict], list[dict]]:
    """Return the check-response fields of every behavior and primitive."""
    views = _VIEWS.get(snapshot)
    if views is None:
        behaviors = [
            {
                "id": b["id"],
                "name": b.get("name", b["id"]),
                "severity": b["severity"],
                "description": b.get("description", ""),
                "mitre": list(b.get("mitre", [])),
            }
            for b in snapshot.catalog["behaviors"]
        ]
        primitives = [
            {"id": p["id"], "name": p["id"], "description": p.get("description", "")}
            for p in snapshot.catalog["primitives"]
        ]
        views = _VIEWS.setdefault(snapshot, (behaviors, primitives))
    return views


def blacklist_payload(
    snapshot: Snapshot, query: BlacklistQuery, selection: Selection
) -> dict[str, Any]:
    """Return the JSON blacklist document for ``selection`` (already filtered)."""
    summary = snapshot.summaries(selection)
    columns = zip(
        snapshot.ip_texts(selection),
        summary["score"].tolist(),
        summary["last_seen"].tolist(),
        summary["sessions"].tolist(),
        summary["protocols"].tolist(),
        summary["country"].tolist(),
        summary["asn"].tolist(),
        strict=True,
    )
    names = snapshot.countries
    orgs = snapshot.asn_orgs
    data = [
        {
            "ip": ip,
            "confidenceLevel": score,
            "lastSeen": last_seen * 1000,
            "sessions": sessions,
            "protocols": protocol_names(mask),
            "countryCode": names[country] or None,
            "asn": str(asn) if asn else None,
            "asnOrg": orgs.get(str(asn)) if asn else None,
        }
        for ip, score, last_seen, sessions, mask, country, asn in columns
    ]
    return {
        "meta": {
            "generatedAt": int(time.time() * 1000),
            "scoreMinimum": query.score_minimum,
            "limit": query.limit,
            "count": len(data),
            "sequence": snapshot.sequence,
        },
        "data": data,
    }
