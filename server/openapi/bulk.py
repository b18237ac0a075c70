"""OpenAPI paths of many addresses at once: bulk check and network block check."""

from typing import Any

from sikker.core.bulk import MAX_ADDRESSES
from sikker.core.config import Config
from sikker.core.snapshot import MAX_BLOCK_PREFIX
from sikker.core.vocab import SEVERITIES
from sikker.server.openapi.common import (
    BODY_ERRORS,
    KEY_ERRORS,
    RATE_HEADERS,
    SNAPSHOT_ERRORS,
    Schema,
    error,
    flag,
    list_body,
    obj,
    ref,
    response,
)

_INT: Schema = {"type": "integer", "minimum": 0}
_TEXT: Schema = {"type": "string"}

SCHEMAS: dict[str, Schema] = {
    "CompactResult": obj(
        [
            "ip",
            "found",
            "confidenceLevel",
            "countryCode",
            "asn",
            "lastSeen",
            "totalSessions",
            "maxSeverity",
            "reports",
        ],
        ip={"type": "string", "description": "The address, canonical spelling."},
        found={"type": "boolean", "description": "Listed in the snapshot."},
        confidenceLevel={"type": "integer", "minimum": 0, "maximum": 100},
        countryCode={"type": ["string", "null"], "pattern": "^[A-Z]{2}$"},
        asn={"type": ["string", "null"], "pattern": "^[0-9]+$"},
        lastSeen={
            "type": ["integer", "null"],
            "description": "Epoch milliseconds (null when not listed).",
        },
        totalSessions=_INT,
        maxSeverity={"enum": [*SEVERITIES, None]},
        reports={**_INT, "description": "Community reports of the address."},
    ),
    "BulkCheckResult": obj(
        ["queried", "found", "results", "invalid", "snapshot"],
        queried={**_INT, "description": "Distinct valid addresses checked."},
        found={**_INT, "description": "How many of them are listed."},
        results={"type": "array", "items": ref("CompactResult")},
        invalid={"type": "array", "items": ref("InvalidLine")},
        snapshot={"type": "integer", "minimum": 1},
    ),
    "InvalidLine": obj(
        ["line", "value", "error"],
        line={"type": "integer", "minimum": 1},
        value={"type": "string", "maxLength": 64},
        error=_TEXT,
    ),
    "BlockCheckResult": obj(
        [
            "network",
            "networkAddress",
            "prefixLength",
            "minAddress",
            "maxAddress",
            "numPossibleHosts",
            "listed",
            "results",
            "snapshot",
        ],
        network={"type": "string", "description": "The network, canonical."},
        networkAddress=_TEXT,
        prefixLength={"type": "integer", "minimum": 0, "maximum": 128},
        minAddress=_TEXT,
        maxAddress=_TEXT,
        numPossibleHosts={"type": "integer", "minimum": 1},
        listed={**_INT, "description": "Listed addresses in the network."},
        results={
            "type": "array",
            "items": ref("CompactResult"),
            "description": "Only listed addresses, in address order.",
        },
        snapshot={"type": "integer", "minimum": 1},
    ),
}

_IGNORE = flag(
    "ignoreWhitelist",
    "true: confidenceLevel is the score before known-benign discounts.",
)


def _bulk_check(config: Config) -> Schema:
    cap = int(config.bulk_max_body_bytes)
    lines = {
        "type": "string",
        "description": "One IPv4 or IPv6 address per line; blank lines are "
        "skipped. A missing Content-Type is read the same way.",
    }
    return {
        "operationId": "bulkCheck",
        "tags": ["lookups"],
        "summary": f"Check up to {MAX_ADDRESSES:,} addresses in one request",
        "description": "Charges the `lookups` quota one unit per distinct valid "
        "address (all or nothing). At most the plan's cap `bulk_check_ips` "
        f"(and never more than {MAX_ADDRESSES:,}) non-blank lines; bodies up to "
        f"{cap} bytes (setting bulk_max_body_bytes). Duplicates are answered "
        "once, in first-seen order; bad lines are listed in `invalid`.",
        "parameters": [_IGNORE],
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": list_body("ips", _TEXT)},
                "text/plain": {"schema": lines},
                "text/csv": {"schema": lines},
                "application/octet-stream": {"schema": lines},
            },
        },
        "responses": {
            "200": response(
                "A compact result per distinct valid address, in first-seen order.",
                ref("BulkCheckResult"),
                ("X-Snapshot-Sequence", *RATE_HEADERS),
            ),
            "400": error(
                "No valid address (`no_valid_addresses`, with the bad lines in "
                "`invalid`), no address at all (`empty_body`), more lines than "
                "the cap, malformed JSON or a bad flag (`invalid_parameter`)."
            ),
            **KEY_ERRORS,
            **BODY_ERRORS,
            **SNAPSHOT_ERRORS,
        },
    }


def _block_check() -> Schema:
    v4, v6 = MAX_BLOCK_PREFIX[4], MAX_BLOCK_PREFIX[6]
    return {
        "operationId": "checkBlock",
        "tags": ["lookups"],
        "summary": "Every listed address inside one network",
        "description": f"At most a /{v4} (IPv4) or a /{v6} (IPv6); host bits are "
        "ignored (203.0.113.7/24 is 203.0.113.0/24). Charges the `lookups` "
        "quota one unit.",
        "parameters": [
            {
                "name": "network",
                "in": "query",
                "required": True,
                "description": "A CIDR network, e.g. 203.0.113.0/24.",
                "schema": {"type": "string", "minLength": 1},
            },
            _IGNORE,
        ],
        "responses": {
            "200": response(
                "The network's bounds and its listed addresses.",
                ref("BlockCheckResult"),
                ("X-Snapshot-Sequence", *RATE_HEADERS),
            ),
            "400": error(
                "No network, an unknown or repeated parameter, a bad flag "
                f"(`invalid_parameter`), or not a network or wider than /{v4} "
                f"or /{v6} (`invalid_address`)."
            ),
            **KEY_ERRORS,
            **SNAPSHOT_ERRORS,
        },
    }


def paths(config: Config) -> dict[str, Any]:
    """Return the bulk lookup paths for a deployment's settings."""
    return {
        "/v1/key/bulk-check-inline": {"post": _bulk_check(config)},
        "/v1/key/check-block": {"get": _block_check()},
    }
