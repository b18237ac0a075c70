"""OpenAPI paths of the appliance sync: ``/v1/key/sync/snapshot`` and ``delta``."""

from typing import Any

from sikker.core import syncproto
from sikker.core.config import Config
from sikker.server.openapi.common import (
    KEY_ERRORS,
    RATE_HEADERS,
    SNAPSHOT_ERRORS,
    Schema,
    error,
    header_ref,
)
from sikker.server.openapi.lookup import filter_parameters

SCHEMAS: dict[str, Schema] = {}

_HEX = {"type": "string", "pattern": "^[0-9a-f]{64}$"}
_COUNT = {"type": "integer", "minimum": 0}


def _header(description: str, schema: Schema, required: bool = True) -> Schema:
    return {"description": description, "required": required, "schema": schema}


_IF_NONE_MATCH: Schema = {
    "name": "If-None-Match",
    "in": "header",
    "required": False,
    "description": "The ETag (the quoted SHA-256) of the set the agent holds: "
    "304 when it is current.",
    "schema": {"type": "string"},
}


def _set_headers(delta: bool) -> dict[str, Schema]:
    """Return the headers of a sync answer (200 and 304)."""
    headers = {
        "ETag": _header(
            "Strong entity tag: the set's SHA-256, quoted. Send it back in "
            "If-None-Match.",
            {"type": "string", "pattern": '^"[0-9a-f]{64}"$'},
        ),
        syncproto.SEQUENCE: _header(
            "The sequence the set belongs to (the agent moves on to it, 304 too).",
            {"type": "integer", "minimum": 1},
        ),
        syncproto.SHA256: _header(
            "SHA-256 (hex) of the whole set, as sorted 16-byte addresses "
            "(IPv4 mapped into IPv6), after the delta.",
            _HEX,
        ),
        syncproto.COUNT: _header("Addresses in the whole set.", _COUNT),
        syncproto.FILTER: _header(
            "The filter served, as canonical query parameters (the limit after "
            "the plan's cap).",
            {"type": "string"},
        ),
        **{name: header_ref(name) for name in RATE_HEADERS},
    }
    if delta:
        headers[syncproto.FROM] = _header(
            "The sequence the delta starts from (200 only).",
            {"type": "integer", "minimum": 0},
            required=False,
        )
    return headers


def _operation(config: Config, delta: bool) -> Schema:
    parameters = [*filter_parameters(config), _IF_NONE_MATCH]
    if delta:
        parameters.insert(
            0,
            {
                "name": "from",
                "in": "query",
                "required": True,
                "description": "The sequence of the set the agent holds.",
                "schema": {"type": "integer", "minimum": 0},
            },
        )
    ok_lines = (
        "`-ADDRESS` lines (left the set) then `+ADDRESS` lines (joined it), "
        "each group sorted"
        if delta
        else "The whole set, one address a line, sorted by the 16-byte form"
    )
    responses: dict[str, Schema] = {
        "200": {
            "description": ok_lines + ". The blacklist quota counts the lines.",
            "headers": {
                **_set_headers(delta),
                "X-Result-Count": header_ref("X-Result-Count"),
            },
            "content": {"text/plain": {"schema": {"type": "string"}}},
        },
        "304": {
            "description": "If-None-Match holds the current set's ETag: nothing "
            "to send (counts nothing).",
            "headers": _set_headers(delta),
        },
        "400": error(
            "A parameter is unknown, repeated or has a bad value "
            "(`invalid_parameter`, naming it in `parameter`)."
        ),
    }
    if delta:
        responses["410"] = error(
            f"No delta from `from` for this filter (`{syncproto.FULL_REQUIRED}`): "
            "pull /v1/key/sync/snapshot."
        )
    responses.update(KEY_ERRORS)
    responses.update(SNAPSHOT_ERRORS)
    what = "What changed in a filtered set" if delta else "A filtered set, whole"
    return {
        "get": {
            "operationId": "getSyncDelta" if delta else "getSyncSnapshot",
            "tags": ["lookups"],
            "summary": f"{what} (appliance sync)",
            "description": "For `sikker sync` and other agents: see docs/api.md "
            "and docs/integrations.md.",
            "parameters": parameters,
            "responses": responses,
        }
    }


def paths(config: Config) -> dict[str, Any]:
    """Return the sync paths for a deployment's settings."""
    return {
        "/v1/key/sync/snapshot": _operation(config, delta=False),
        "/v1/key/sync/delta": _operation(config, delta=True),
    }
