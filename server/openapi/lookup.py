"""OpenAPI paths of the lookups: check, blacklist, username and email intel."""

from typing import Any

from sikker.core.config import Config
from sikker.core.filters import DEFAULT_SCORE_MINIMUM
from sikker.core.format_base import NAME_PATTERN
from sikker.core.formats import FORMATS
from sikker.core.scoring import COMPONENTS
from sikker.core.vocab import (
    CATEGORIES,
    PROTOCOLS,
    SEVERITIES,
    SEVERITY_ALIASES,
    countries,
)
from sikker.server.openapi.common import (
    KEY_ERRORS,
    RATE_HEADERS,
    SNAPSHOT_ERRORS,
    Schema,
    comma_list,
    error,
    flag,
    path_param,
    ref,
    response,
)

_NON_PUBLIC = [
    "unspecified",
    "private",
    "loopback",
    "link-local",
    "multicast",
    "reserved",
    "documentation",
    "shared",
    "benchmarking",
]
_INT = {"type": "integer", "minimum": 0}
_TIME = {"type": ["string", "null"], "format": "date-time"}
_STR_OR_NULL = {"type": ["string", "null"]}
_PROTOCOL = {"type": "string", "enum": list(PROTOCOLS)}
_SEVERITY = {"type": "string", "enum": list(SEVERITIES)}


def _object(required: list[str], **properties: Schema) -> Schema:
    return {"type": "object", "required": required, "properties": properties}


_FOUND_FIELDS = [
    "whitelist",
    "geolocation",
    "firstSeen",
    "lastSeen",
    "totalSessions",
    "totalEvents",
    "maxSeverity",
    "protocols",
    "behaviors",
    "primitives",
    "reports",
]

SCHEMAS: dict[str, Schema] = {
    "Geolocation": _object(
        ["countryCode", "countryName", "asn", "asnOrg"],
        countryCode={"type": ["string", "null"], "pattern": "^[A-Z]{2}$"},
        countryName=_STR_OR_NULL,
        asn={"type": ["string", "null"], "pattern": "^[0-9]+$"},
        asnOrg=_STR_OR_NULL,
    ),
    "CheckResult": {
        **_object(
            [
                "ip",
                "found",
                "confidenceLevel",
                "rawConfidenceLevel",
                "isPublic",
                "nonPublicReason",
                "snapshot",
            ],
            ip={"type": "string", "description": "The address, canonical spelling."},
            found={"type": "boolean", "description": "Listed in the snapshot."},
            confidenceLevel={"type": "integer", "minimum": 0, "maximum": 100},
            rawConfidenceLevel={
                "type": "integer",
                "minimum": 0,
                "maximum": 100,
                "description": "The score before known-benign discounts.",
            },
            isPublic={"type": "boolean"},
            nonPublicReason={"enum": [*_NON_PUBLIC, None]},
            whitelist={
                "oneOf": [
                    {"type": "null"},
                    _object(
                        ["source", "discount"],
                        source={"type": "string"},
                        discount={"type": ["number", "null"]},
                    ),
                ]
            },
            geolocation=ref("Geolocation"),
            firstSeen=_TIME,
            lastSeen=_TIME,
            totalSessions=_INT,
            totalEvents=_INT,
            maxSeverity={"enum": [*SEVERITIES, None]},
            protocols={
                "type": "array",
                "items": _object(
                    ["protocol", "sessions", "events"],
                    protocol=_PROTOCOL,
                    sessions=_INT,
                    events=_INT,
                ),
            },
            behaviors={
                "type": "array",
                "items": _object(
                    ["id", "name", "severity", "count", "description", "mitre"],
                    id={"type": "string"},
                    name={"type": "string"},
                    severity=_SEVERITY,
                    count=_INT,
                    description={"type": "string"},
                    mitre={
                        "type": "array",
                        "items": {"type": "string", "pattern": r"^T\d{4}(\.\d{3})?$"},
                    },
                ),
            },
            primitives={
                "type": "array",
                "items": _object(
                    ["id", "name", "count", "description"],
                    id={"type": "string"},
                    name={"type": "string"},
                    count=_INT,
                    description={"type": "string"},
                ),
            },
            reports=_object(
                ["total", "distinctReporters", "lastReportedAt", "categories"],
                total=_INT,
                distinctReporters=_INT,
                lastReportedAt=_TIME,
                categories={
                    "type": "object",
                    "propertyNames": {"enum": list(CATEGORIES)},
                    "additionalProperties": _INT,
                },
            ),
            scoreBreakdown={
                "type": "array",
                "description": "With explain=true: each component's points.",
                "items": _object(
                    ["name", "points", "formula"],
                    name={"enum": [*COMPONENTS, "score"]},
                    points={"type": "number"},
                    formula={"type": "string"},
                ),
            },
            snapshot={"type": "integer", "minimum": 1},
        ),
        "if": {"properties": {"found": {"const": True}}},
        "then": {"required": _FOUND_FIELDS},
    },
    "BlacklistEntry": _object(
        [
            "ip",
            "confidenceLevel",
            "lastSeen",
            "sessions",
            "protocols",
            "countryCode",
            "asn",
            "asnOrg",
        ],
        ip={"type": "string"},
        confidenceLevel={"type": "integer", "minimum": 0, "maximum": 100},
        lastSeen={"type": "integer", "description": "Epoch milliseconds."},
        sessions=_INT,
        protocols={"type": "array", "items": _PROTOCOL},
        countryCode={"type": ["string", "null"]},
        asn={"type": ["string", "null"]},
        asnOrg=_STR_OR_NULL,
    ),
    "Blacklist": _object(
        ["meta", "data"],
        meta=_object(
            ["generatedAt", "scoreMinimum", "limit", "count", "sequence"],
            generatedAt={"type": "integer", "description": "Epoch milliseconds."},
            scoreMinimum={"type": "integer", "minimum": 0, "maximum": 100},
            limit={"type": "integer", "minimum": 1},
            count=_INT,
            sequence={"type": "integer", "minimum": 1},
        ),
        data={"type": "array", "items": ref("BlacklistEntry")},
    ),
}

_INTEL_COMMON: dict[str, Schema] = {
    "protocols": {
        "type": "object",
        "propertyNames": {"enum": list(PROTOCOLS)},
        "additionalProperties": _INT,
    },
    "protocolCounts": {
        "type": "string",
        "description": "`protocols` again as a JSON-encoded string (SikkerAPI).",
    },
    "firstSeenAt": {"type": "integer", "description": "Epoch milliseconds."},
    "lastSeenAt": {"type": "integer", "description": "Epoch milliseconds."},
}
SCHEMAS["UsernameIntel"] = _object(
    ["username", "totalSessions", *_INTEL_COMMON],
    username={"type": "string"},
    totalSessions=_INT,
    **_INTEL_COMMON,
)
SCHEMAS["EmailIntel"] = _object(
    ["email", "totalMessages", *_INTEL_COMMON],
    email={"type": "string"},
    totalMessages=_INT,
    **_INTEL_COMMON,
)

_BAD_PARAMETER = error(
    "A parameter is unknown, repeated or has a bad value (`invalid_parameter`, "
    "naming it in `parameter`)."
)


def filter_parameters(config: Config) -> list[Schema]:
    """Return the blacklist filters (the sync endpoints take them too)."""
    codes = {"type": "string", "enum": sorted(countries())}
    asns = {"type": "string", "pattern": "^(AS|as)?[0-9]{1,10}$"}
    return [
        {
            "name": "scoreMinimum",
            "in": "query",
            "description": "Minimum confidence.",
            "schema": {
                "type": "integer",
                "minimum": 0,
                "maximum": 100,
                "default": DEFAULT_SCORE_MINIMUM,
            },
        },
        comma_list("onlyCountries", "ISO 3166-1 alpha-2 codes to keep.", codes),
        comma_list("exceptCountries", "Country codes to drop.", codes),
        comma_list("onlyAsn", "AS numbers to keep (AS4134 or 4134).", asns),
        comma_list("exceptAsn", "AS numbers to drop.", asns),
        {
            "name": "ipVersion",
            "in": "query",
            "description": "Address family.",
            "schema": {"type": "string", "enum": ["4", "6", "mixed"]},
        },
        comma_list(
            "protocols", "Keep IPs active on any of these protocols.", _PROTOCOL
        ),
        {
            "name": "minSeverity",
            "in": "query",
            "description": "Keep IPs with a behavior at least this severe "
            "(very_high means critical).",
            "schema": {"type": "string", "enum": [*SEVERITIES, *SEVERITY_ALIASES]},
        },
        {
            "name": "limit",
            "in": "query",
            "description": "At most this many entries (setting blacklist_max_limit "
            "caps it).",
            "schema": {
                "type": "integer",
                "minimum": 1,
                "maximum": int(config.blacklist_max_limit),
                "default": min(
                    int(config.blacklist_default_limit),
                    int(config.blacklist_max_limit),
                ),
            },
        },
    ]


def _blacklist_parameters(config: Config) -> list[Schema]:
    return [
        *filter_parameters(config),
        flag("plaintext", "true: text/plain, one address per line."),
        {
            "name": "format",
            "in": "query",
            "description": "Output format (see docs/integrations.md); "
            "plaintext=true means plaintext.",
            "schema": {"type": "string", "enum": list(FORMATS), "default": "json"},
        },
        _name("setName", "ipset and nftables sets are <setName>4 and <setName>6."),
        _name("tableName", "The nftables table (family inet)."),
    ]


def _name(name: str, description: str) -> Schema:
    return {
        "name": name,
        "in": "query",
        "description": description,
        "schema": {"type": "string", "pattern": NAME_PATTERN, "default": "sikker"},
    }


def _intel(kind: str, total: str) -> Schema:
    return {
        "get": {
            "operationId": f"get{kind.title()}Intel",
            "tags": ["lookups"],
            "summary": f"What honeypots saw of one {kind}",
            "description": f"Per-protocol counts and first/last seen; `{total}` "
            "in all. Case-insensitive.",
            "parameters": [path_param(kind, f"The {kind}.")],
            "responses": {
                "200": response(
                    f"The {kind} is known.", ref(f"{kind.title()}Intel"), RATE_HEADERS
                ),
                "404": error(f"No sensor has seen this {kind} (`not_found`)."),
                **KEY_ERRORS,
                **SNAPSHOT_ERRORS,
            },
        }
    }


def paths(config: Config) -> dict[str, Any]:
    """Return the lookup paths for a deployment's settings."""
    return {
        "/v1/key/check/{ip}": {
            "get": {
                "operationId": "checkIp",
                "tags": ["lookups"],
                "summary": "Reputation of one IPv4 or IPv6 address",
                "description": "Unknown addresses answer `found: false`; "
                "non-public ones carry `nonPublicReason`.",
                "parameters": [
                    path_param(
                        "ip",
                        "An IPv4 or IPv6 address (IPv6 may be percent-encoded).",
                    ),
                    flag(
                        "ignoreWhitelist",
                        "true: confidenceLevel is the score before known-benign "
                        "discounts.",
                    ),
                    flag("explain", "true: add scoreBreakdown."),
                ],
                "responses": {
                    "200": response(
                        "The address's reputation.",
                        ref("CheckResult"),
                        ("X-Snapshot-Sequence", *RATE_HEADERS),
                    ),
                    "400": error(
                        "Not a valid IP address (`invalid_address`) or a bad flag "
                        "(`invalid_parameter`)."
                    ),
                    **KEY_ERRORS,
                    **SNAPSHOT_ERRORS,
                },
            }
        },
        "/v1/key/blacklist": {
            "get": {
                "operationId": "getBlacklist",
                "tags": ["lookups"],
                "summary": "Listed IPs, best first, filtered",
                "parameters": _blacklist_parameters(config),
                "responses": {
                    "200": response(
                        "The matching IPs, by confidence then recency.",
                        headers=(
                            "X-Snapshot-Sequence",
                            "X-Result-Count",
                            "X-Generated-At",
                            *RATE_HEADERS,
                        ),
                        content={
                            "application/json": {"schema": ref("Blacklist")},
                            "text/plain": {
                                "schema": {
                                    "type": "string",
                                    "description": "One address per line, or the "
                                    "lines of the requested format.",
                                }
                            },
                            "text/csv": {
                                "schema": {
                                    "type": "string",
                                    "description": "format=csv: a header row, "
                                    "then a row per address.",
                                }
                            },
                        },
                    ),
                    "400": _BAD_PARAMETER,
                    **KEY_ERRORS,
                    **SNAPSHOT_ERRORS,
                },
            }
        },
        "/v1/key/username/{username}": _intel("username", "totalSessions"),
        "/v1/key/email/{email}": _intel("email", "totalMessages"),
    }
