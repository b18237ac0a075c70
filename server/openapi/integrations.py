"""OpenAPI paths of the downloadable integration files (``/integrations``)."""

from typing import Any

from sikker.core.config import Config
from sikker.integrations import FILES
from sikker.server.openapi.common import Schema, error, obj, path_param, ref, response

SCHEMAS: dict[str, Schema] = {
    "IntegrationFiles": obj(
        ["files"],
        files={
            "type": "array",
            "items": obj(
                ["path", "url", "description", "bytes", "sha256"],
                path={"type": "string", "enum": sorted(FILES)},
                url={"type": "string", "description": "Where to download it."},
                description={"type": "string"},
                bytes={"type": "integer", "minimum": 1},
                sha256={"type": "string", "pattern": "^[0-9a-f]{64}$"},
            ),
        },
    ),
}

_TOOLS = sorted({path.split("/")[0] for path in FILES})
_NAMES = sorted({path.split("/")[1] for path in FILES})


def paths(config: Config) -> dict[str, Any]:
    """Return the integration file paths."""
    return {
        "/integrations": {
            "get": {
                "operationId": "listIntegrationFiles",
                "tags": ["integrations"],
                "summary": "The downloadable scripts and configs, with checksums",
                "security": [],
                "responses": {
                    "200": response(
                        "Every file, its URL, size and SHA-256.",
                        ref("IntegrationFiles"),
                    )
                },
            }
        },
        "/integrations/{tool}/{name}": {
            "get": {
                "operationId": "getIntegrationFile",
                "tags": ["integrations"],
                "summary": "One script or config file, as text",
                "description": "The fail2ban action, the report script (fail2ban "
                "and CSF), the update script (ipset, nftables, nginx, Suricata) "
                "and the Suricata rules; see docs/integrations.md.",
                "security": [],
                "parameters": [
                    path_param(
                        "tool", "The tool's folder.", {"type": "string", "enum": _TOOLS}
                    ),
                    path_param(
                        "name", "The file's name.", {"type": "string", "enum": _NAMES}
                    ),
                ],
                "responses": {
                    "200": response(
                        "The file, UTF-8 text; ETag is its quoted SHA-256.",
                        content={"text/plain": {"schema": {"type": "string"}}},
                    ),
                    "304": {
                        "description": "The client's copy is current "
                        "(`If-None-Match` holds the ETag)."
                    },
                    "404": error("No such file (`not_found`)."),
                },
            }
        },
    }
