"""Building blocks of the OpenAPI document: the error shape, headers, auth.

Every area module (``lookup``, ``sensor``, ...) describes its paths with
these helpers, so an error response or a rate-limit header is written once.
"""

from typing import Any

Schema = dict[str, Any]

#: The one error shape of every 4xx/5xx answer (see server/errors.py).
ERROR: Schema = {
    "type": "object",
    "description": "Every error: a clear message, a stable code, the status.",
    "required": ["error", "code", "status"],
    "properties": {
        "error": {"type": "string", "description": "What went wrong, for a person."},
        "code": {
            "type": "string",
            "pattern": "^[a-z0-9_]+$",
            "description": "A stable slug for programs, e.g. invalid_parameter.",
        },
        "status": {"type": "integer", "minimum": 400, "maximum": 599},
        "parameter": {
            "type": "string",
            "description": "The query parameter or field at fault, when one is.",
        },
        "field": {
            "type": "string",
            "description": "The body field at fault (reports, alerts, removal "
            "requests), when one is.",
        },
    },
}

SCHEMAS: dict[str, Schema] = {"Error": ERROR}

#: Quota headers on every keyed response, and Retry-After on 429/503.
HEADERS: dict[str, Schema] = {
    "X-RateLimit-Limit": {
        "description": "Requests the key may make in this endpoint family today.",
        "schema": {"type": "integer", "minimum": 0},
    },
    "X-RateLimit-Remaining": {
        "description": "Requests left today (UTC) in this endpoint family.",
        "schema": {"type": "integer", "minimum": 0},
    },
    "X-RateLimit-Reset": {
        "description": "Epoch seconds of the next UTC midnight, when quotas reset.",
        "schema": {"type": "integer", "minimum": 0},
    },
    "Retry-After": {
        "description": "Seconds to wait before trying again.",
        "schema": {"type": "integer", "minimum": 0},
    },
    "X-Snapshot-Sequence": {
        "description": "Sequence number of the snapshot that answered.",
        "schema": {"type": "integer", "minimum": 1},
    },
    "X-Result-Count": {
        "description": "Entries in the answer.",
        "schema": {"type": "integer", "minimum": 0},
    },
    "X-Generated-At": {
        "description": "When the answer was made, epoch milliseconds.",
        "schema": {"type": "integer", "minimum": 0},
    },
    "WWW-Authenticate": {
        "description": "The authentication scheme to use (`Bearer`).",
        "schema": {"type": "string"},
    },
    "X-Report-Limit": {
        "description": "The daily report quota (alias the SikkerAPI CLI reads).",
        "schema": {"type": "integer", "minimum": 0},
    },
    "X-Report-Remaining": {
        "description": "Reports left today (alias the SikkerAPI CLI reads).",
        "schema": {"type": "integer", "minimum": 0},
    },
    "X-TAXII-Limit": {
        "description": "The daily TAXII object quota (alias the SikkerAPI CLI reads).",
        "schema": {"type": "integer", "minimum": 0},
    },
    "X-TAXII-Remaining": {
        "description": "TAXII objects left today (alias the SikkerAPI CLI reads).",
        "schema": {"type": "integer", "minimum": 0},
    },
}

#: Quota headers of every keyed answer (for the endpoint family it counts).
RATE_HEADERS = ("X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset")

SECURITY_SCHEMES: dict[str, Schema] = {
    "bearerKey": {
        "type": "http",
        "scheme": "bearer",
        "description": "An API key: `Authorization: Bearer <key>`.",
    },
    "queryKey": {
        "type": "apiKey",
        "in": "query",
        "name": "key",
        "description": "The same API key as `?key=`, for tools that cannot send "
        "headers (CSF, some firewalls).",
    },
    "accountBasic": {
        "type": "http",
        "scheme": "basic",
        "description": "Account e-mail and password, for managing API keys.",
    },
    "sensorToken": {
        "type": "http",
        "scheme": "bearer",
        "description": "A sensor token from `sikker sensor add NAME`.",
    },
    "webSession": {
        "type": "apiKey",
        "in": "cookie",
        "name": "sikker_session",
        "description": "A web sign-in (POST /signin); forms also need their "
        "CSRF token.",
    },
}

#: Security requirement of the keyed /v1/key/ paths.
KEYED: list[dict[str, list[str]]] = [{"bearerKey": []}, {"queryKey": []}]


def ref(name: str) -> Schema:
    """Return a reference to a schema in ``components/schemas``."""
    return {"$ref": f"#/components/schemas/{name}"}


def header_ref(name: str) -> Schema:
    """Return a reference to a header in ``components/headers``."""
    return {"$ref": f"#/components/headers/{name}"}


def obj(required: list[str], **properties: Schema) -> Schema:
    """Return an object schema with ``properties``, ``required`` of them."""
    return {"type": "object", "required": required, "properties": properties}


def list_body(field: str, items: Schema) -> Schema:
    """Return a JSON body that is ``{field: [items]}`` or a bare ``[items]``."""
    array = {"type": "array", "items": items}
    return {"oneOf": [obj([field], **{field: array}), array]}


def json_body(schema: Schema) -> dict[str, Schema]:
    """Return a ``content`` map holding one JSON schema."""
    return {"application/json": {"schema": schema}}


def response(
    description: str,
    schema: Schema | None = None,
    headers: tuple[str, ...] = (),
    content: dict[str, Schema] | None = None,
) -> Schema:
    """Return a response object (JSON ``schema`` or explicit ``content``)."""
    out: Schema = {"description": description}
    if schema is not None:
        out["content"] = json_body(schema)
    elif content is not None:
        out["content"] = content
    if headers:
        out["headers"] = {name: header_ref(name) for name in headers}
    return out


def error(description: str, headers: tuple[str, ...] = ()) -> Schema:
    """Return an error response in the one error shape."""
    return response(description, ref("Error"), headers)


#: Errors any snapshot-backed operation may answer.
SNAPSHOT_ERRORS: dict[str, Schema] = {
    "503": error(
        "No snapshot has been published yet (`no_snapshot`) or it cannot be "
        "read (`snapshot_unavailable`).",
        ("Retry-After",),
    )
}

#: Errors any keyed (``/v1/key/``) operation may answer.
KEY_ERRORS: dict[str, Schema] = {
    "401": error(
        "No API key, an unknown or malformed one (`unauthorized`), or a revoked "
        "one (`key_revoked`).",
        ("WWW-Authenticate",),
    ),
    "403": error("The key's account is disabled (`account_disabled`)."),
    "429": error(
        "Today's quota of this endpoint family is used up (`quota_exceeded`, "
        "with `family`, `limit`, `used`, `resetAt`); retry after the next 00:00 "
        "UTC.",
        ("Retry-After", *RATE_HEADERS),
    ),
    "503": error(
        "Quotas cannot be counted (`quota_unavailable`): the quota table is full, "
        "or the shared counters (Redis) are down and `redis_failure` is `closed`.",
        ("Retry-After",),
    ),
}

#: KEY_ERRORS of an operation that counts no quota (it never answers 429).
UNCHARGED_KEY_ERRORS: dict[str, Schema] = {
    status: answer for status, answer in KEY_ERRORS.items() if status != "429"
}

#: Errors any operation with a request body may answer.
BODY_ERRORS: dict[str, Schema] = {
    "413": error("The body is larger than the endpoint's cap (`payload_too_large`)."),
    "415": error("The Content-Type is not accepted (`unsupported_media_type`)."),
}


def flag(name: str, description: str) -> Schema:
    """Return a boolean query parameter (``true/false``; 1/0, yes/no, on/off)."""
    return {
        "name": name,
        "in": "query",
        "required": False,
        "description": description + " Also accepts 1/0, yes/no, on/off.",
        "schema": {"type": "boolean", "default": False},
    }


def comma_list(name: str, description: str, items: Schema) -> Schema:
    """Return a comma-separated list query parameter (``a,b,c``)."""
    return {
        "name": name,
        "in": "query",
        "required": False,
        "description": description,
        "style": "form",
        "explode": False,
        "schema": {"type": "array", "items": items},
    }


def path_param(name: str, description: str, schema: Schema | None = None) -> Schema:
    """Return a required path parameter."""
    return {
        "name": name,
        "in": "path",
        "required": True,
        "description": description,
        "schema": schema or {"type": "string", "minLength": 1},
    }
