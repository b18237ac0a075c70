"""OpenAPI path of ``POST /v1/removal-requests`` (public delisting requests)."""

from typing import Any

from sikker.core.config import Config
from sikker.core.removals import MAX_EMAIL, MAX_REASON
from sikker.server.openapi.common import (
    BODY_ERRORS,
    Schema,
    error,
    json_body,
    obj,
    ref,
    response,
)
from sikker.server.resources.removals import MAX_BODY

_REQUEST: Schema = obj(
    ["ip", "email", "reason"],
    ip={"type": "string", "description": "The public address to delist."},
    email={
        "type": "string",
        "maxLength": MAX_EMAIL,
        "description": "Where the administrator answers.",
    },
    reason={"type": "string", "minLength": 1, "maxLength": MAX_REASON},
)

SCHEMAS: dict[str, Schema] = {
    "RemovalRequest": _REQUEST,
    "RemovalReceipt": obj(
        ["id", "status", "ip", "createdAt", "message"],
        id={"type": "string", "pattern": "^rr_[0-9a-f]{16}$"},
        status={"const": "pending"},
        ip={"type": "string"},
        createdAt={"type": "string", "format": "date-time"},
        message={"type": "string"},
    ),
}


def paths(config: Config) -> dict[str, Any]:
    """Return the removal-request path for a deployment's settings."""
    per_hour = int(config.removal_requests_per_hour)
    return {
        "/v1/removal-requests": {
            "post": {
                "operationId": "requestRemoval",
                "tags": ["removals"],
                "summary": "Ask for an address to be delisted",
                "description": "Public: no API key. An administrator approves it "
                "(`sikker admin removal approve`), which delists the address for "
                "removal_days days, or rejects it. At most "
                f"{per_hour} requests per client address per hour (setting "
                f"removal_requests_per_hour); bodies up to {MAX_BODY} bytes.",
                "security": [],
                "requestBody": {
                    "required": True,
                    "content": {
                        **json_body(_REQUEST),
                        "application/x-www-form-urlencoded": {"schema": _REQUEST},
                    },
                },
                "responses": {
                    "201": response("Received, pending review.", ref("RemovalReceipt")),
                    "400": error(
                        "A missing or bad field: not a public address, no e-mail "
                        "address, no reason (`invalid_removal_request`, naming it "
                        "in `field`)."
                    ),
                    **BODY_ERRORS,
                    "429": error(
                        "Too many requests from your address this hour "
                        "(`rate_limited`, with `retryAfter` seconds).",
                        ("Retry-After",),
                    ),
                    "503": error(
                        "The removal store cannot be written (`store_unavailable`).",
                        ("Retry-After",),
                    ),
                },
            }
        }
    }
