"""OpenAPI paths of accounts and keys: register, keys, and the key's status."""

from typing import Any

from sikker.core.config import Config
from sikker.core.plans import ALERTS, CAPS, FAMILIES
from sikker.server.openapi.common import (
    BODY_ERRORS,
    KEY_ERRORS,
    RATE_HEADERS,
    Schema,
    error,
    json_body,
    path_param,
    ref,
    response,
)
from sikker.server.resources.status import ALERT_NAMES

_INT: Schema = {"type": "integer", "minimum": 0}
_BASIC: list[dict[str, list[str]]] = [{"accountBasic": []}]


def _object(required: list[str], **properties: Schema) -> Schema:
    return {"type": "object", "required": required, "properties": properties}


def _counts(names: tuple[str, ...]) -> Schema:
    return _object(list(names), **dict.fromkeys(names, _INT))


_USAGE = _object(["used", "limit", "remaining"], used=_INT, limit=_INT, remaining=_INT)
_ALERT_USAGE = _object(["current", "limit"], current=_INT, limit=_INT)

SCHEMAS: dict[str, Schema] = {
    "Plan": _object(
        ["id", "name", "quotas", "alerts", "caps"],
        id={"type": "string"},
        name={"type": "string"},
        quotas=_counts(FAMILIES),
        alerts=_counts(ALERTS),
        caps=_counts(CAPS),
    ),
    "Account": _object(
        ["id", "email", "plan", "created", "disabled", "allowedRanges"],
        id={"type": "string", "pattern": "^acct_[a-z2-7]{12}$"},
        email={"type": "string"},
        plan=ref("Plan"),
        created={"type": "integer", "description": "Epoch seconds."},
        disabled={"type": "boolean"},
        allowedRanges={
            "type": "array",
            "items": {"type": "string"},
            "description": "Your own CIDR ranges: reports of them are refused.",
        },
    ),
    "ApiKey": _object(
        ["id", "prefix", "name", "created", "revoked"],
        id={"type": "string", "pattern": "^[a-z2-7]{12}$"},
        prefix={"type": "string", "description": "How the key starts: sk_live_<id>_"},
        name={"type": "string"},
        created={"type": "integer", "description": "Epoch seconds."},
        revoked={"type": ["integer", "null"], "description": "Epoch seconds."},
    ),
    "NewApiKey": {
        "allOf": [
            ref("ApiKey"),
            _object(
                ["key"],
                key={
                    "type": "string",
                    "pattern": "^sk_live_[a-z2-7]{12}_[0-9A-Za-z]{38}$",
                    "description": "The key itself, shown in this answer only.",
                },
            ),
        ]
    },
    "Status": _object(
        ["tier", "quotas", "alerts", "resetAt"],
        tier=_object(["id", "name"], id={"type": "string"}, name={"type": "string"}),
        quotas=_object(list(FAMILIES), **dict.fromkeys(FAMILIES, _USAGE)),
        alerts=_object(
            list(ALERT_NAMES.values()),
            **dict.fromkeys(ALERT_NAMES.values(), _ALERT_USAGE),
        ),
        resetAt={"type": "integer", "description": "Epoch seconds of 00:00 UTC."},
        account=_object(
            ["id", "email"], id={"type": "string"}, email={"type": "string"}
        ),
        key=_object(["id"], id={"type": "string"}),
    ),
}

_LOGIN_ERRORS: dict[str, Schema] = {
    "401": error(
        "No Basic credentials, or a wrong email or password (`unauthorized`).",
        ("WWW-Authenticate",),
    ),
    "403": error("The account is disabled (`account_disabled`)."),
    "429": error(
        "Too many failed logins from your address (`rate_limited`).", ("Retry-After",)
    ),
}


def paths(config: Config) -> dict[str, Any]:
    """Return the account paths."""
    register_body = _object(
        ["email", "password"],
        email={"type": "string", "format": "email"},
        password={"type": "string", "minLength": 10, "maxLength": 1024},
    )
    return {
        "/v1/account": {
            "post": {
                "operationId": "register",
                "tags": ["accounts"],
                "summary": "Create an account (on the default plan)",
                "security": [],
                "requestBody": {"required": True, "content": json_body(register_body)},
                "responses": {
                    "201": response("The new account.", ref("Account")),
                    "400": error("Bad email, password or body (`invalid_request`)."),
                    "403": error("Registration is off (`registration_closed`)."),
                    "409": error("The email has an account (`account_exists`)."),
                    "429": error(
                        "Too many registrations from your address (`rate_limited`).",
                        ("Retry-After",),
                    ),
                    **BODY_ERRORS,
                },
            },
            "get": {
                "operationId": "getAccount",
                "tags": ["accounts"],
                "summary": "Your account and plan",
                "security": _BASIC,
                "responses": {
                    "200": response("Your account.", ref("Account")),
                    **_LOGIN_ERRORS,
                },
            },
        },
        "/v1/account/keys": {
            "get": {
                "operationId": "listKeys",
                "tags": ["accounts"],
                "summary": "Your API keys (never the keys themselves)",
                "security": _BASIC,
                "responses": {
                    "200": response(
                        "Your keys, oldest first.",
                        _object(
                            ["keys"], keys={"type": "array", "items": ref("ApiKey")}
                        ),
                    ),
                    **_LOGIN_ERRORS,
                },
            },
            "post": {
                "operationId": "createKey",
                "tags": ["accounts"],
                "summary": "Create an API key (shown once)",
                "security": _BASIC,
                "requestBody": {
                    "required": False,
                    "content": json_body(
                        _object([], name={"type": "string", "maxLength": 64})
                    ),
                },
                "responses": {
                    "201": response("The new key.", ref("NewApiKey")),
                    "400": error(
                        "A bad body, or the account holds 10 active keys "
                        "(`invalid_request`)."
                    ),
                    **_LOGIN_ERRORS,
                    **BODY_ERRORS,
                },
            },
        },
        "/v1/account/keys/{key_id}": {
            "delete": {
                "operationId": "revokeKey",
                "tags": ["accounts"],
                "summary": "Revoke one of your API keys",
                "security": _BASIC,
                "parameters": [path_param("key_id", "The key's public id.")],
                "responses": {
                    "200": response("The revoked key.", ref("ApiKey")),
                    "400": error("Not a key id, or a body (`invalid_request`)."),
                    "404": error("You hold no key with that id (`not_found`)."),
                    **_LOGIN_ERRORS,
                    **BODY_ERRORS,
                },
            }
        },
        "/v1/key/status": {
            "get": {
                "operationId": "getStatus",
                "tags": ["accounts"],
                "summary": "Your plan, today's quota usage and your alerts",
                "description": "Counts nothing.",
                "responses": {
                    "200": response("The key's status.", ref("Status"), RATE_HEADERS),
                    **{k: v for k, v in KEY_ERRORS.items() if k != "429"},
                },
            }
        },
    }
