"""OpenAPI paths a primary serves its read replicas (``/v1/replica/...``),
and what a replica answers instead of the primary-only routes."""

from typing import Any

from sikker.core.config import Config
from sikker.server.forward import PRIMARY_ROUTES
from sikker.server.openapi.common import Schema, error, obj, ref, response

_HEX64 = {"type": "string", "pattern": "^[0-9a-f]{64}$"}
_FILE_ENTRY = obj(
    ["size", "sha256"], size={"type": "integer", "minimum": 0}, sha256=_HEX64
)

SCHEMAS: dict[str, Schema] = {
    "ReplicaState": obj(
        ["sequence", "generations", "accounts", "sessions", "events"],
        sequence={"type": "integer", "minimum": 1},
        generations={
            "type": "array",
            "minItems": 1,
            "maxItems": 2,
            "description": "The base, then the overlay on it (if any).",
            "items": obj(
                ["name", "manifest"],
                name={"type": "string", "pattern": "^[0-9]{10}$"},
                manifest={
                    "type": "object",
                    "description": "The generation's manifest.json "
                    "(docs/snapshot-format.md).",
                    "required": ["sequence", "files", "base", "format"],
                    "properties": {
                        "sequence": {"type": "integer", "minimum": 1},
                        "base": {"type": ["integer", "null"]},
                        "format": {"type": "integer"},
                        "files": {
                            "type": "object",
                            "additionalProperties": _FILE_ENTRY,
                        },
                    },
                },
            ),
        },
        accounts={
            "type": "string",
            "description": "Tag of the account directory; pull "
            "/v1/replica/accounts when it changes.",
        },
        sessions={
            "type": "string",
            "description": "Tag of the web sessions; pull /v1/replica/sessions "
            "when it changes.",
        },
        events={
            "type": "integer",
            "minimum": 0,
            "description": "The event log's last sequence; pull "
            "/v1/replica/reports from where the replica is.",
        },
    ),
    "ReplicaAccounts": obj(
        ["tag", "secret", "accounts", "keys"],
        tag={"type": "string"},
        secret={
            "type": "string",
            "pattern": "^[0-9a-f]+$",
            "description": "The server secret API key digests are keyed with.",
        },
        accounts={
            "type": "array",
            "items": obj(
                ["id", "email", "plan", "created", "disabled"],
                id={"type": "string"},
                email={"type": "string"},
                plan={"type": "string"},
                created={"type": "integer"},
                disabled={"type": "boolean"},
                password={"const": "", "description": "Never sent."},
                ranges={"type": "array", "items": {"type": "string"}},
            ),
        },
        keys={
            "type": "array",
            "items": obj(
                ["id", "account", "digest", "created", "revoked", "name"],
                id={"type": "string"},
                account={"type": "string"},
                digest=_HEX64,
                created={"type": "integer"},
                revoked={"type": ["integer", "null"]},
                name={"type": "string"},
            ),
        },
    ),
    "ReplicaSessions": obj(
        ["tag", "sessions"],
        tag={"type": "string"},
        sessions={
            "type": "array",
            "items": obj(
                ["key", "account", "created", "expires"],
                key={**_HEX64, "description": "SHA-256 of the session token."},
                account={"type": "string"},
                created={"type": "integer"},
                expires={"type": "integer"},
            ),
        },
    ),
    "ReplicaReports": obj(
        ["after", "next", "last", "reports"],
        after={"type": "integer", "minimum": 0},
        next={
            "type": "integer",
            "minimum": 0,
            "description": "The last log sequence looked at: ask again after it.",
        },
        last={"type": "integer", "minimum": 0},
        reports={
            "type": "array",
            "items": obj(
                ["sequence", "event"],
                sequence={"type": "integer", "minimum": 1},
                event={
                    "type": "object",
                    "required": ["event", "src_ip", "reporter"],
                    "description": "The report as the event log holds it.",
                },
            ),
        },
    ),
}

_TOKEN: list[dict[str, list[str]]] = [{"replicaToken": []}]
_UNAUTHORIZED = error("No replica token, or an unknown one (`unauthorized`).")
_IF_NONE_MATCH: Schema = {
    "name": "If-None-Match",
    "in": "header",
    "required": False,
    "description": "The ETag the replica holds: 304 when it is current.",
    "schema": {"type": "string"},
}
_ETAG = {"ETag": {"description": "The answer's tag.", "schema": {"type": "string"}}}


def _get(operation_id: str, summary: str, **parts: Any) -> dict[str, Any]:
    return {
        "get": {
            "operationId": operation_id,
            "tags": ["replication"],
            "summary": summary,
            "security": _TOKEN,
            **parts,
        }
    }


def _tagged(description: str, schema: str) -> dict[str, Any]:
    """Return the answers of a JSON document with an ETag (200, 304, errors)."""
    return {
        "200": {**response(description, ref(schema)), "headers": _ETAG},
        "304": {"description": "Nothing changed.", "headers": _ETAG},
        "400": error("A query parameter was given (`invalid_parameter`)."),
        "401": _UNAUTHORIZED,
    }


def paths(config: Config) -> dict[str, Any]:
    """Return the replication paths."""
    return {
        "/v1/replica/state": _get(
            "getReplicaState",
            "The generations readers see now, with their manifests",
            parameters=[_IF_NONE_MATCH],
            responses={
                **_tagged("The chain, base first.", "ReplicaState"),
                "503": error("No snapshot yet (`no_snapshot`).", ("Retry-After",)),
            },
        ),
        "/v1/replica/files/{generation}": _get(
            "getReplicaFile",
            "One file of a published generation, streamed",
            parameters=[
                {
                    "name": "generation",
                    "in": "path",
                    "required": True,
                    "description": "The generation's directory name.",
                    "schema": {"type": "string", "pattern": "^[0-9]{10}$"},
                },
                {
                    "name": "path",
                    "in": "query",
                    "required": True,
                    "description": "A file of its manifest, e.g. lmdb/data.mdb.",
                    "schema": {"type": "string", "minLength": 1},
                },
                _IF_NONE_MATCH,
            ],
            responses={
                "200": {
                    "description": "The file; check its size and SHA-256 against "
                    "the manifest.",
                    "headers": {
                        "ETag": {
                            "description": "The file's SHA-256, quoted.",
                            "schema": {"type": "string"},
                        }
                    },
                    "content": {
                        "application/octet-stream": {
                            "schema": {
                                "type": "string",
                                "contentMediaType": "application/octet-stream",
                            }
                        }
                    },
                },
                "304": {"description": "The replica holds this file."},
                "400": error("`path` is missing or a parameter is unknown."),
                "401": _UNAUTHORIZED,
                "404": error(
                    "No such generation or file (`not_found`): it was pruned; ask "
                    "for the state again."
                ),
            },
        ),
        "/v1/replica/accounts": _get(
            "getReplicaAccounts",
            "Every account and API key (digests only) and the server secret",
            parameters=[_IF_NONE_MATCH],
            responses=_tagged("The account directory.", "ReplicaAccounts"),
        ),
        "/v1/replica/sessions": _get(
            "getReplicaSessions",
            "The web sign-ins (SHA-256 of each session token)",
            parameters=[_IF_NONE_MATCH],
            responses=_tagged("Every stored session.", "ReplicaSessions"),
        ),
        "/v1/replica/reports": _get(
            "getReplicaReports",
            "Community reports the event log holds after a sequence",
            parameters=[
                {
                    "name": "after",
                    "in": "query",
                    "required": False,
                    "description": "The log sequence the replica has copied up to.",
                    "schema": {"type": "integer", "minimum": 0, "default": 0},
                }
            ],
            responses={
                "200": response(
                    "The reports among the next 10,000 log entries.",
                    ref("ReplicaReports"),
                ),
                "400": error("`after` is not a sequence, or a parameter is unknown."),
                "401": _UNAUTHORIZED,
            },
        ),
    }


SECURITY_SCHEMES: dict[str, Schema] = {
    "replicaToken": {
        "type": "http",
        "scheme": "bearer",
        "description": "A replica token from `sikker replica add NAME` on the primary.",
    }
}

_ON_REPLICA: dict[str, Schema] = {
    "403": error(
        "On a read replica with `replica_writes = reject`: only the primary answers "
        "this (`read_replica`, naming it in `primary`)."
    ),
    "502": error("Read replica: the primary answered badly (`bad_primary_answer`)."),
    "503": error(
        "Read replica: the primary cannot be reached (`primary_unavailable`).",
        ("Retry-After",),
    ),
    "504": error(
        "Read replica: the primary did not answer in time (`primary_timeout`)."
    ),
}


def forwarded(paths: dict[str, Any], config: Config) -> None:
    """On a replica, add what it may answer itself to the primary-only routes."""
    if not config.replica_of:
        return
    for path, item in paths.items():
        if path not in PRIMARY_ROUTES:
            continue
        for operation in item.values():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            responses = operation["responses"]
            for status, answer in _ON_REPLICA.items():
                if status in responses:  # a copy: the answers are shared
                    answer = {
                        **responses[status],
                        "description": responses[status]["description"]
                        + " " + answer["description"],
                    }  # fmt: skip
                responses[status] = answer
