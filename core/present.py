"""The JSON shapes users see: check responses and blacklist documents.

Field names follow SikkerAPI (camelCase); see docs/api.md. The server and
the CLI both use these functions, so ``sikker check --json`` prints exactly
what ``GET /v1/key/check/{ip}`` returns.
"""

import time
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

import numpy as np

from sikker.core import ipcore
from sikker.core.filters import BlacklistQuery
from sikker.core.records import Record
from sikker.core.snapshot import Snapshot
from sikker.core.vocab import CATEGORIES, PROTOCOLS, SEVERITIES, countries


def iso(epoch: int) -> str | None:
    """Return an epoch-seconds time as ISO 8601 UTC, or None for 0."""
    if not epoch:
        return None
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


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
    text = ipcore.format_ip(version, value)
    reason = ipcore.classify(version, value)
    if record is None:
        return {
            "ip": text,
            "found": False,
            "confidenceLevel": 0,
            "rawConfidenceLevel": 0,
            "isPublic": reason is None,
            "nonPublicReason": reason,
            "snapshot": snapshot.sequence,
        }
    behaviors_def = snapshot.catalog["behaviors"]
    primitives_def = snapshot.catalog["primitives"]
    whitelist = None
    if record.benign_source:
        source = snapshot.benign_sources[record.benign_source - 1]
        whitelist = {"source": source["name"], "discount": source.get("discount")}
    return {
        "ip": text,
        "found": True,
        "confidenceLevel": record.raw_score if ignore_whitelist else record.score,
        "rawConfidenceLevel": record.raw_score,
        "whitelist": whitelist,
        "isPublic": reason is None,
        "nonPublicReason": reason,
        "geolocation": geolocation(snapshot, record.country, record.asn),
        "firstSeen": iso(record.first_seen),
        "lastSeen": iso(record.last_seen),
        "totalSessions": record.sessions,
        "totalEvents": record.events,
        "maxSeverity": severity_name(record.max_severity),
        "protocols": [
            {"protocol": PROTOCOLS[pid], "sessions": sessions, "events": events}
            for pid, sessions, events in record.protocols
        ],
        "behaviors": [
            _behavior(behaviors_def[bix], count) for bix, count in record.behaviors
        ],
        "primitives": [
            {
                "id": primitives_def[pix]["id"],
                "name": primitives_def[pix]["id"],
                "count": count,
                "description": primitives_def[pix].get("description", ""),
            }
            for pix, count in record.primitives
        ],
        "reports": {
            "total": record.reports,
            "distinctReporters": record.reporters,
            "lastReportedAt": iso(record.last_reported),
            "categories": {
                CATEGORIES[cid - 1]: count for cid, count in record.categories
            },
        },
        "snapshot": snapshot.sequence,
    }


def _behavior(definition: dict[str, Any], count: int) -> dict[str, Any]:
    return {
        "id": definition["id"],
        "name": definition.get("name", definition["id"]),
        "severity": definition["severity"],
        "count": count,
        "description": definition.get("description", ""),
        "mitre": list(definition.get("mitre", [])),
    }


def blacklist_payload(
    snapshot: Snapshot, query: BlacklistQuery, rows: np.ndarray
) -> dict[str, Any]:
    """Return the JSON blacklist document for ``rows`` (already filtered)."""
    summary = snapshot.summary[rows]
    scores = summary["score"].tolist()
    last_seen = summary["last_seen"].tolist()
    sessions = summary["sessions"].tolist()
    masks = summary["protocols"].tolist()
    country_ix = summary["country"].tolist()
    asns = summary["asn"].tolist()
    names = snapshot.countries
    orgs = snapshot.asn_orgs
    data = []
    for i, row in enumerate(rows.tolist()):
        asn = asns[i]
        data.append(
            {
                "ip": snapshot.ip_text(row),
                "confidenceLevel": scores[i],
                "lastSeen": last_seen[i] * 1000,
                "sessions": sessions[i],
                "protocols": protocol_names(masks[i]),
                "countryCode": names[country_ix[i]] or None,
                "asn": str(asn) if asn else None,
                "asnOrg": orgs.get(str(asn)) if asn else None,
            }
        )
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
