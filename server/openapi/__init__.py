"""The OpenAPI 3.1 description of the HTTP API, served at ``GET /openapi.json``.

Built in Python, one module per area, so that enums, ranges and caps come from
the same constants and settings the code validates with. tests/test_openapi.py
keeps it true: every route of the app is described (and nothing else), the
document is valid OpenAPI 3.1, and real responses validate against it.
"""

from typing import Any

from sikker import __version__
from sikker.core.config import Config
from sikker.server.openapi import common, lookup, ops, sensor

#: The area modules; each has ``SCHEMAS`` and ``paths(config)``.
AREAS = (lookup, sensor, ops)

TAGS = [
    {"name": "lookups", "description": "Checks, blacklists and intel (keyed)."},
    {"name": "sensors", "description": "Honeypot sensors post events."},
    {"name": "operations", "description": "Health, metrics and this document."},
]


def build(config: Config) -> dict[str, Any]:
    """Return the OpenAPI document for a deployment's settings."""
    paths: dict[str, Any] = {}
    schemas = dict(common.SCHEMAS)
    for area in AREAS:
        for path, item in area.paths(config).items():
            if path in paths:
                raise ValueError(f"{path} is described twice")
            paths[path] = item
        schemas.update(area.SCHEMAS)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "sikker",
            "version": __version__,
            "summary": "Self-hosted IP reputation: checks, blacklists, reports.",
            "description": "Field names and paths follow SikkerAPI. Every error "
            "is one JSON shape (`Error`). Prose reference: docs/api.md.",
            "license": {"name": "MIT", "identifier": "MIT"},
        },
        "servers": [{"url": "/"}],
        "tags": TAGS,
        "security": common.KEYED,
        "paths": dict(sorted(paths.items())),
        "components": {
            "schemas": schemas,
            "headers": common.HEADERS,
            "securitySchemes": common.SECURITY_SCHEMES,
        },
    }
