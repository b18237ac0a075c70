"""OpenAPI path of ``POST /v1/sensor/events``."""

from typing import Any

from sikker.core.config import Config
from sikker.core.vocab import PROTOCOLS
from sikker.server.openapi.common import (
    BODY_ERRORS,
    Schema,
    error,
    ref,
    response,
)

_EVENT: Schema = {
    "type": "object",
    "description": "A generic event (docs/events.md), a Cowrie line or an "
    "OpenCanary line; the format is detected per item.",
    "properties": {
        "ts": {"type": ["string", "number"]},
        "sensor": {"type": "string"},
        "session": {"type": "string"},
        "src_ip": {"type": "string"},
        "protocol": {"type": "string", "examples": list(PROTOCOLS)},
        "event": {"type": "string"},
    },
}
_RESULT_FIELDS: dict[str, Schema] = {
    "accepted": {"type": "integer", "minimum": 0},
    "rejected": {"type": "integer", "minimum": 0},
    "skipped": {"type": "integer", "minimum": 0},
    "errors": {
        "type": "array",
        "maxItems": 100,
        "items": {
            "type": "object",
            "required": ["line", "error"],
            "properties": {
                "line": {"type": "integer", "minimum": 1},
                "error": {"type": "string"},
            },
        },
    },
    "firstSequence": {"type": ["integer", "null"]},
    "lastSequence": {"type": ["integer", "null"]},
}

SCHEMAS: dict[str, Schema] = {
    "SensorEvent": _EVENT,
    "SensorResult": {
        "type": "object",
        "required": list(_RESULT_FIELDS),
        "properties": _RESULT_FIELDS,
    },
    "SensorRejection": {
        "allOf": [ref("Error"), {"type": "object", "required": list(_RESULT_FIELDS)}],
        "description": "Nothing in the body was usable: the error shape plus the "
        "per-line result.",
    },
}


def paths(config: Config) -> dict[str, Any]:
    """Return the sensor path for a deployment's settings."""
    cap = int(config.sensor_max_body_bytes)
    return {
        "/v1/sensor/events": {
            "post": {
                "operationId": "postSensorEvents",
                "tags": ["sensors"],
                "summary": "Honeypot sensors post events, durably",
                "description": "Every accepted event is committed to the event log "
                f"before the answer. Bodies up to {cap} bytes "
                "(setting sensor_max_body_bytes).",
                "security": [{"sensorToken": []}],
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": {
                                "oneOf": [
                                    ref("SensorEvent"),
                                    {"type": "array", "items": ref("SensorEvent")},
                                ]
                            }
                        },
                        "application/x-ndjson": {
                            "schema": {
                                "type": "string",
                                "description": "One event per line (also "
                                "application/ndjson, application/jsonl).",
                            }
                        },
                    },
                },
                "responses": {
                    "200": response(
                        "What was accepted, rejected and skipped.", ref("SensorResult")
                    ),
                    "400": response(
                        "Nothing usable (`no_valid_events`, `empty_body`) or "
                        "malformed (`invalid_json`).",
                        {"anyOf": [ref("SensorRejection"), ref("Error")]},
                    ),
                    "401": error(
                        "No sensor token, or an unknown or revoked one.",
                        ("WWW-Authenticate",),
                    ),
                    **BODY_ERRORS,
                    "503": error(
                        "The event log cannot be written; nothing was stored "
                        "(`event_log_unavailable`, or `storage_read_only` when "
                        "the data directory is read-only).",
                        ("Retry-After",),
                    ),
                    "507": error(
                        "The server's disk is full; nothing was stored "
                        "(`insufficient_storage`).",
                        ("Retry-After",),
                    ),
                },
            }
        }
    }
