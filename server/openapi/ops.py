"""OpenAPI paths for operators: health, metrics and this document itself."""

from typing import Any

from sikker.core.config import Config
from sikker.server.openapi.common import (
    SNAPSHOT_ERRORS,
    Schema,
    error,
    ref,
    response,
)

SCHEMAS: dict[str, Schema] = {
    "Health": {
        "type": "object",
        "required": ["status", "snapshot"],
        "properties": {
            "status": {"const": "ok"},
            "snapshot": {
                "type": "object",
                "required": ["sequence", "ips", "createdAt", "ageSeconds"],
                "properties": {
                    "sequence": {"type": "integer", "minimum": 1},
                    "ips": {"type": "integer", "minimum": 0},
                    "createdAt": {"type": "integer", "description": "Epoch seconds."},
                    "ageSeconds": {"type": "integer", "minimum": 0},
                },
            },
            "mode": {
                "enum": ["primary", "replica"],
                "description": "replica: a read replica (docs/replication.md).",
            },
            "replica": {
                "type": "object",
                "description": "A read replica's sync status.",
                "required": ["primary", "sequence", "lagSeconds", "lastError"],
                "properties": {
                    "primary": {"type": "string", "description": "Its primary."},
                    "sequence": {"type": ["integer", "null"]},
                    "primarySequence": {"type": ["integer", "null"]},
                    "lagSeconds": {
                        "type": ["number", "null"],
                        "description": "Seconds since it was last in step.",
                    },
                    "lastSync": {"type": ["number", "null"]},
                    "lastError": {"type": ["string", "null"]},
                },
            },
        },
    },
}


def paths(config: Config) -> dict[str, Any]:
    """Return the operator paths."""
    return {
        "/healthz": {
            "get": {
                "operationId": "getHealth",
                "tags": ["operations"],
                "summary": "The served snapshot's sequence, size and age",
                "security": [],
                "responses": {
                    "200": response("A snapshot is served.", ref("Health")),
                    **SNAPSHOT_ERRORS,
                },
            }
        },
        "/metrics": {
            "get": {
                "operationId": "getMetrics",
                "tags": ["operations"],
                "summary": "Prometheus metrics of every worker",
                "description": "Requests by route template and status class, a "
                "latency histogram per route template, 429 quota rejections by "
                "family, the served snapshot's sequence, age and size, and the event "
                "log's last sequence. Only for clients in the setting metrics_allow "
                f"(now: {config.metrics_allow or 'nobody'}).",
                "security": [],
                "responses": {
                    "200": response(
                        "The Prometheus text exposition (version 0.0.4).",
                        content={
                            "text/plain": {
                                "schema": {"type": "string"},
                            }
                        },
                    ),
                    "403": error("The client is not in metrics_allow (`forbidden`)."),
                },
            }
        },
        "/openapi.json": {
            "get": {
                "operationId": "getOpenApi",
                "tags": ["operations"],
                "summary": "This OpenAPI 3.1 document",
                "security": [],
                "responses": {
                    "200": response(
                        "The document.",
                        {"type": "object", "required": ["openapi", "info", "paths"]},
                    )
                },
            }
        },
    }
