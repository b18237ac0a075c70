"""The OpenAPI 3.1 description of the HTTP API, served at ``GET /openapi.json``.

Built in Python, one module per area, so that enums, ranges and caps come from
the same constants and settings the code validates with. tests/test_openapi.py
keeps it true: every route of the app is described (and nothing else), the
document is valid OpenAPI 3.1, and real responses validate against it.
"""

from typing import Any

from sikker import __version__
from sikker.core.config import Config
from sikker.server.openapi import (
    account,
    alerts,
    bulk,
    common,
    integrations,
    lookup,
    ops,
    removals,
    replica,
    reports,
    sensor,
    sync,
    taxii,
    web,
)
from sikker.server.openapi.encoding import add_encoding_errors

#: The area modules; each has ``SCHEMAS`` and ``paths(config)``, some
#: ``HEADERS`` of their own.
AREAS = (
    lookup,
    sync,
    bulk,
    account,
    reports,
    alerts,
    removals,
    sensor,
    taxii,
    integrations,
    ops,
    web,
    replica,
)

TAGS = [
    {"name": "lookups", "description": "Checks, blacklists and intel (keyed)."},
    {"name": "accounts", "description": "Register, API keys, quota status."},
    {"name": "reports", "description": "Community abuse reports (keyed)."},
    {"name": "alerts", "description": "Watch addresses, networks and names (keyed)."},
    {"name": "removals", "description": "Ask for an address to be delisted."},
    {"name": "sensors", "description": "Honeypot sensors post events."},
    {"name": "taxii", "description": "TAXII 2.1 collections of STIX indicators."},
    {"name": "integrations", "description": "Scripts and configs to download."},
    {"name": "operations", "description": "Health, metrics and this document."},
    {"name": "web", "description": "The web site's pages and forms (HTML)."},
    {"name": "replication", "description": "What a primary serves read replicas."},
]


def build(config: Config) -> dict[str, Any]:
    """Return the OpenAPI document for a deployment's settings."""
    paths: dict[str, Any] = {}
    schemas = dict(common.SCHEMAS)
    headers = dict(common.HEADERS)
    for area in AREAS:
        for path, item in area.paths(config).items():
            if path in paths:
                raise ValueError(f"{path} is described twice")
            paths[path] = item
        schemas.update(area.SCHEMAS)
        headers.update(getattr(area, "HEADERS", {}))
    replica.forwarded(paths, config)  # a read replica's own answers
    add_encoding_errors(paths)  # server/path_encoding.py
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "sikker",
            "version": __version__,
            "summary": "Self-hosted IP reputation: checks, blacklists, reports.",
            "description": "Field names and paths follow SikkerAPI. Every error "
            "is one JSON shape (`Error`), except under /taxii2/, where errors are "
            "TAXII error messages (`TaxiiError`). Prose reference: docs/api.md.",
            "license": {"name": "MIT", "identifier": "MIT"},
        },
        "servers": [{"url": "/"}],
        "tags": TAGS,
        "security": common.KEYED,
        "paths": dict(sorted(paths.items())),
        "components": {
            "schemas": schemas,
            "headers": headers,
            "securitySchemes": {
                **common.SECURITY_SCHEMES,
                **replica.SECURITY_SCHEMES,
            },
        },
    }
