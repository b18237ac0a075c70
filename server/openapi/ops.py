"""OpenAPI paths for operators: health and this document itself."""

from typing import Any

from sikker.core.config import Config
from sikker.server.openapi.common import SNAPSHOT_ERRORS, Schema, ref, response

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
