"""OpenAPI paths of community reports: report, bulk report, and listings."""

from typing import Any

from sikker.core.config import Config
from sikker.core.reports import MAX_COMMENT
from sikker.core.vocab import CATEGORIES, PROTOCOLS
from sikker.server.openapi.common import (
    BODY_ERRORS,
    KEY_ERRORS,
    RATE_HEADERS,
    UNCHARGED_KEY_ERRORS,
    Schema,
    error,
    json_body,
    list_body,
    obj,
    path_param,
    ref,
    response,
)
from sikker.server.resources.reports import (
    DEFAULT_LIST,
    MAX_ERRORS,
    MAX_LIST,
    MAX_REPORTS,
    SINGLE_MAX_BYTES,
)

_INT: Schema = {"type": "integer", "minimum": 0}
_SEQUENCE: Schema = {"type": ["integer", "null"], "minimum": 1}
_CATEGORY: Schema = {"type": "string", "enum": list(CATEGORIES)}
_PROTOCOL: Schema = {"type": ["string", "null"], "enum": [*PROTOCOLS, None]}
_REPORT_HEADERS = (*RATE_HEADERS, "X-Report-Limit", "X-Report-Remaining")
_BULK_FIELDS: dict[str, Schema] = {
    "total": {**_INT, "description": "Reports (rows) in the request."},
    "accepted": _INT,
    "rejected": _INT,
    "errors": {
        "type": "array",
        "maxItems": MAX_ERRORS,
        "items": obj(
            ["row", "ip", "error"],
            row={"type": "integer", "minimum": 1},
            ip={"type": "string", "maxLength": 64},
            error={"type": "string"},
        ),
    },
    "firstSequence": _SEQUENCE,
    "lastSequence": _SEQUENCE,
}

SCHEMAS: dict[str, Schema] = {
    "ReportInput": {
        **obj(
            ["ip", "category"],
            ip={"type": "string", "description": "A public IPv4 or IPv6 address."},
            category={
                "oneOf": [
                    {"type": "string", "description": "A category name (any case)."},
                    {"type": "integer", "minimum": 1, "maximum": len(CATEGORIES)},
                ],
                "examples": ["brute_force", 1],
            },
            protocol={"type": ["string", "null"], "examples": list(PROTOCOLS)},
            comment={"type": ["string", "null"], "maxLength": MAX_COMMENT},
        ),
        "description": "Category: a name or an id 1-16 (names: "
        f"{', '.join(CATEGORIES)}).",
    },
    "AcceptedReport": obj(
        ["success", "report", "sequence"],
        success={"const": True},
        report=obj(
            ["ip", "category", "categoryId", "protocol", "comment"],
            ip={"type": "string"},
            category=_CATEGORY,
            categoryId={"type": "integer", "minimum": 1, "maximum": len(CATEGORIES)},
            protocol=_PROTOCOL,
            comment={"type": ["string", "null"]},
        ),
        sequence={"type": "integer", "minimum": 1},
    ),
    "BulkReportResult": obj(
        ["success", *_BULK_FIELDS], success={"const": True}, **_BULK_FIELDS
    ),
    "BulkReportRejection": {
        "allOf": [ref("Error"), obj(["success", *_BULK_FIELDS])],
        "description": "Nothing in the request was usable: the error shape plus "
        "the per-row result.",
    },
    "ListedReport": obj(
        ["ip", "category", "protocol", "comment", "reportedAt", "own", "sequence"],
        ip={"type": "string"},
        category=_CATEGORY,
        protocol=_PROTOCOL,
        comment={
            "type": ["string", "null"],
            "description": "As written for your own reports; redacted (addresses, "
            "e-mails, secrets) for others'.",
        },
        reportedAt={"type": "string", "format": "date-time"},
        own={"type": "boolean", "description": "You sent this report."},
        sequence={"type": "integer", "minimum": 1},
    ),
}

_LIMIT: Schema = {
    "name": "limit",
    "in": "query",
    "description": "At most this many reports, newest first.",
    "schema": {"type": "integer", "minimum": 1, "maximum": MAX_LIST,
               "default": DEFAULT_LIST},
}  # fmt: skip
_STORE_ERROR = {
    "503": error(
        "The event log or the report index cannot be written or read "
        "(`event_log_unavailable`), or the data directory is read-only "
        "(`storage_read_only`); nothing was stored.",
        ("Retry-After",),
    )
}
_FULL_DISK = {
    "507": error(
        "The server's disk is full (`insufficient_storage`); nothing was stored.",
        ("Retry-After",),
    )
}
_LISTING = obj(["reports"], reports={"type": "array", "items": ref("ListedReport")})


def _report() -> Schema:
    return {
        "operationId": "report",
        "tags": ["reports"],
        "summary": "Report an abusive address",
        "description": "Committed to the event log before the answer; the builder "
        "folds it into scores. Charges the `reports` quota one unit. Refused "
        "(400, `field` ip) for a non-public address, the address the request "
        "comes from, or one inside your account's own ranges. Bodies up to "
        f"{SINGLE_MAX_BYTES} bytes.",
        "requestBody": {
            "required": True,
            "content": {
                **json_body(ref("ReportInput")),
                "application/x-www-form-urlencoded": {"schema": ref("ReportInput")},
            },
        },
        "responses": {
            "200": response(
                "The report, as stored.", ref("AcceptedReport"), _REPORT_HEADERS
            ),
            "400": error(
                "A missing or bad field, or malformed JSON (`invalid_report`, "
                "naming it in `field`, with `success: false`)."
            ),
            **KEY_ERRORS,
            **BODY_ERRORS,
            **_STORE_ERROR,
            **_FULL_DISK,
        },
    }


def _bulk_report(config: Config) -> Schema:
    cap, csv_cap = int(config.bulk_max_body_bytes), int(config.report_csv_max_bytes)
    csv = {
        "type": "string",
        "description": "CSV rows `IP,Category,Protocol,Comment` (comma or "
        "semicolon; an optional header row; UTF-8).",
    }
    return {
        "operationId": "bulkReport",
        "tags": ["reports"],
        "summary": f"Report up to {MAX_REPORTS:,} addresses at once (JSON or CSV)",
        "description": "Every row is validated as a single report; the good ones "
        "are committed in one transaction and charge the `reports` quota one "
        "unit each (all or nothing), the bad ones are listed in `errors` (at "
        f"most {MAX_ERRORS}; `rejected` counts them all). At most the plan's "
        f"cap `bulk_report_rows` (and never more than {MAX_REPORTS:,}) rows. "
        f"Bodies up to {cap} bytes (setting bulk_max_body_bytes); a CSV file up "
        f"to {csv_cap} bytes (setting report_csv_max_bytes).",
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": list_body("reports", ref("ReportInput"))
                },
                "text/csv": {"schema": csv},
                "text/plain": {"schema": csv},
                "multipart/form-data": {
                    "schema": obj(
                        ["file"],
                        file={
                            "type": "string",
                            "contentMediaType": "text/csv",
                            "description": "The CSV file.",
                        },
                    )
                },
            },
        },
        "responses": {
            "200": response(
                "What was accepted and what was not, per row.",
                ref("BulkReportResult"),
                _REPORT_HEADERS,
            ),
            "400": response(
                "Nothing usable (`no_valid_reports`, `empty_body`, with the per-row "
                "result), or a bad request as a whole: malformed JSON, no list, "
                "too many rows, a CSV file that is not UTF-8, a form without a "
                "`file` part (`invalid_report`); a malformed multipart body.",
                {"anyOf": [ref("BulkReportRejection"), ref("Error")]},
            ),
            **KEY_ERRORS,
            **BODY_ERRORS,
            **_STORE_ERROR,
            **_FULL_DISK,
        },
    }


def paths(config: Config) -> dict[str, Any]:
    """Return the report paths for a deployment's settings."""
    return {
        "/v1/key/report": {"post": _report()},
        "/v1/key/bulk-report": {"post": _bulk_report(config)},
        "/v1/key/reports": {
            "get": {
                "operationId": "listOwnReports",
                "tags": ["reports"],
                "summary": "Your own reports, newest first",
                "description": "Comments as you wrote them. Counts nothing.",
                "parameters": [
                    _LIMIT,
                    {
                        "name": "ip",
                        "in": "query",
                        "description": "Only your reports of this address.",
                        "schema": {"type": "string"},
                    },
                ],
                "responses": {
                    "200": response("Your reports.", _LISTING, RATE_HEADERS),
                    "400": error(
                        "A bad `limit` (`invalid_parameter`) or `ip` "
                        "(`invalid_address`)."
                    ),
                    **UNCHARGED_KEY_ERRORS,
                    **_STORE_ERROR,
                },
            }
        },
        "/v1/key/reports/{ip}": {
            "get": {
                "operationId": "listAddressReports",
                "tags": ["reports"],
                "summary": "Recent community reports of one address",
                "description": "Newest first, from every reporter; others' comments "
                "are redacted. Charges the `lookups` quota one unit.",
                "parameters": [
                    path_param("ip", "An IPv4 or IPv6 address."),
                    _LIMIT,
                ],
                "responses": {
                    "200": response(
                        "The address and its reports.",
                        obj(
                            ["ip", "reports"],
                            ip={"type": "string"},
                            reports={"type": "array", "items": ref("ListedReport")},
                        ),
                        RATE_HEADERS,
                    ),
                    "400": error(
                        "Not an IP address (`invalid_address`) or a bad `limit` "
                        "(`invalid_parameter`)."
                    ),
                    **KEY_ERRORS,
                    **_STORE_ERROR,
                },
            }
        },
    }
