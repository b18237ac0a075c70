"""OpenAPI paths of watch alerts: four kinds of collections, and matches."""

from typing import Any

from sikker.core.alerts import KINDS, MAX_LABEL, MAX_NAME, MAX_URL
from sikker.core.config import Config
from sikker.server.openapi.common import (
    BODY_ERRORS,
    RATE_HEADERS,
    UNCHARGED_KEY_ERRORS,
    Schema,
    error,
    json_body,
    obj,
    path_param,
    ref,
    response,
)
from sikker.server.resources.alerts import (
    DEFAULT_MATCHES,
    FIELDS,
    MAX_BODY,
    MAX_MATCHES,
)

_INT: Schema = {"type": "integer", "minimum": 0}
_TIME: Schema = {"type": ["string", "null"], "format": "date-time"}
_WATCHED: dict[str, Schema] = {
    "ip": {"type": "string", "description": "A public IPv4 or IPv6 address."},
    "range": {
        "type": "string",
        "description": "A public CIDR network, at most as wide as the plan's "
        "range_prefix_v4 / range_prefix_v6 allow.",
    },
    "username": {"type": "string", "minLength": 1, "maxLength": MAX_NAME},
    "email": {"type": "string", "minLength": 1, "maxLength": MAX_NAME},
}
_COMMON: dict[str, Schema] = {
    "label": {"type": ["string", "null"], "maxLength": MAX_LABEL},
    "enabled": {"type": "boolean"},
    "emailNotifications": {"const": False, "description": "Never sent by sikker."},
    "webhookUrl": {"type": ["string", "null"], "format": "uri"},
    "lastAlertedAt": _TIME,
    "totalAlerts": _INT,
    "createdAt": {"type": "string", "format": "date-time"},
}
HEADERS: dict[str, Schema] = {
    "Location": {
        "description": "The path of the new resource.",
        "schema": {"type": "string"},
    }
}


def _name(kind: str) -> str:
    return f"{kind.title()}Alert"


def _alert(kind: str) -> Schema:
    field = FIELDS[kind]
    counter = "uniqueMatches" if kind == "range" else "matchCount"
    extra: dict[str, Schema] = {}
    if kind == "range":
        extra = {
            "networkAddress": {"type": "string"},
            "prefixLength": {"type": "integer", "minimum": 0, "maximum": 128},
        }
    return obj(
        ["id", field, *extra, *_COMMON, counter],
        id={"type": "string", "pattern": "^[0-9a-f]{16}$"},
        **{field: _WATCHED[kind]},
        **extra,
        **_COMMON,
        **{
            counter: {
                **_INT,
                "description": "Distinct addresses matched."
                if kind == "range"
                else "Matches so far.",
            }
        },
    )


SCHEMAS: dict[str, Schema] = {_name(kind): _alert(kind) for kind in KINDS}
SCHEMAS["AlertMatch"] = {
    **obj(
        ["id", "alertId", "type", "label", "matchedAt"],
        id={"type": "integer", "minimum": 1, "description": "Pass as ?since=."},
        alertId={"type": "string"},
        type={"enum": list(KINDS)},
        label={"type": ["string", "null"]},
        matchedAt={"type": "string", "format": "date-time"},
        delivery=obj(
            ["status", "attempts", "error"],
            status={"enum": ["delivered", "failed"]},
            attempts=_INT,
            error={"type": ["string", "null"]},
        ),
    ),
    "description": "The watched value under its field (`ip`, `cidr`, `username`, "
    "`email`) and what was seen: for addresses the compact check result "
    "(`confidenceLevel`, `countryCode`, `lastSeen`, ...), for names the "
    "intel counts (`totalSessions` or `totalMessages`, `protocols`, "
    "`firstSeenAt`, `lastSeenAt`). The same document is POSTed to the "
    "alert's webhook.",
}

_ALERT_ID = path_param(
    "alert_id", "The alert's id.", {"type": "string", "pattern": "^[0-9a-f]{16}$"}
)
_NOT_FOUND = error("You have no such alert of this kind (`not_found`).")
_STORE = {
    "503": error(
        "The alert store cannot be opened or written (`store_unavailable`).",
        ("Retry-After",),
    )
}


def _collection(kind: str) -> dict[str, Any]:
    field = FIELDS[kind]
    name = _name(kind)
    body = obj(
        [field],
        **{field: _WATCHED[kind]},
        label={"type": ["string", "null"], "maxLength": MAX_LABEL},
        webhookUrl={
            "type": ["string", "null"],
            "maxLength": MAX_URL,
            "description": "http(s) URL that receives each match (POST, JSON, "
            "signed with X-Sikker-Signature: sha256=HMAC(webhookSecret, body)).",
        },
    )
    created = {
        "allOf": [
            ref(name),
            {
                "type": "object",
                "properties": {
                    "webhookSecret": {
                        "type": "string",
                        "description": "Signs the webhook deliveries; shown once, "
                        "only when webhookUrl is given.",
                    }
                },
            },
        ]
    }
    return {
        "get": {
            "operationId": f"list{name}s",
            "tags": ["alerts"],
            "summary": f"Your {kind} alerts, oldest first",
            "description": "Counts nothing.",
            "responses": {
                "200": response(
                    f"Your {kind} alerts.",
                    obj(["alerts"], alerts={"type": "array", "items": ref(name)}),
                    RATE_HEADERS,
                ),
                **UNCHARGED_KEY_ERRORS,
                **_STORE,
            },
        },
        "post": {
            "operationId": f"create{name}",
            "tags": ["alerts"],
            "summary": f"Watch a {'network' if kind == 'range' else kind}",
            "description": "Counts nothing; the plan limits how many alerts of each "
            f"kind an account keeps. Bodies up to {MAX_BODY} bytes.",
            "requestBody": {"required": True, "content": json_body(body)},
            "responses": {
                "201": response("The new alert.", created, ("Location", *RATE_HEADERS)),
                "400": error(
                    "A missing or bad field, or a body that is not a JSON object "
                    "(`invalid_alert`, naming it in `field`)."
                ),
                "403": error(
                    "The plan's limit of this kind is reached "
                    "(`alert_limit_reached`), or the key's account is disabled "
                    "(`account_disabled`)."
                ),
                "409": error("You already watch this value (`alert_exists`)."),
                "401": UNCHARGED_KEY_ERRORS["401"],
                **BODY_ERRORS,
                **_STORE,
            },
        },
    }


def _one(kind: str) -> dict[str, Any]:
    name = _name(kind)
    return {
        "get": {
            "operationId": f"get{name}",
            "tags": ["alerts"],
            "summary": f"One of your {kind} alerts",
            "parameters": [_ALERT_ID],
            "responses": {
                "200": response(f"The {kind} alert.", ref(name), RATE_HEADERS),
                "404": _NOT_FOUND,
                **UNCHARGED_KEY_ERRORS,
                **_STORE,
            },
        },
        "delete": {
            "operationId": f"delete{name}",
            "tags": ["alerts"],
            "summary": f"Stop watching (delete a {kind} alert)",
            "description": "Its past matches stay listed.",
            "parameters": [_ALERT_ID],
            "responses": {
                "200": response(
                    "Deleted.",
                    obj(
                        ["success", "id", "deleted"],
                        success={"const": True},
                        id={"type": "string"},
                        deleted={"const": True},
                    ),
                    RATE_HEADERS,
                ),
                "404": _NOT_FOUND,
                **UNCHARGED_KEY_ERRORS,
                **_STORE,
            },
        },
    }


def paths(config: Config) -> dict[str, Any]:
    """Return the alert paths."""
    out: dict[str, Any] = {}
    for kind in KINDS:
        out[f"/v1/key/{kind}-alerts"] = _collection(kind)
        out[f"/v1/key/{kind}-alerts/{{alert_id}}"] = _one(kind)
    out["/v1/key/alerts/matches"] = {
        "get": {
            "operationId": "listAlertMatches",
            "tags": ["alerts"],
            "summary": "Poll for matches of your alerts, oldest first",
            "description": "Matches are found by the builder as evidence arrives "
            "(one address or name matches one alert at most once per "
            "alert_repeat_seconds). Pass the answer's `next` as `since` to get "
            "only newer ones. Counts nothing.",
            "parameters": [
                {
                    "name": "since",
                    "in": "query",
                    "description": "Only matches with an id above this.",
                    "schema": {"type": "integer", "minimum": 0, "default": 0},
                },
                {
                    "name": "limit",
                    "in": "query",
                    "description": "At most this many matches.",
                    "schema": {
                        "type": "integer",
                        "minimum": 1,
                        "maximum": MAX_MATCHES,
                        "default": DEFAULT_MATCHES,
                    },
                },
            ],
            "responses": {
                "200": response(
                    "Your matches after `since`.",
                    obj(
                        ["matches", "next"],
                        matches={"type": "array", "items": ref("AlertMatch")},
                        next={
                            "type": "integer",
                            "minimum": 0,
                            "description": "The last match id here (or `since`).",
                        },
                    ),
                    RATE_HEADERS,
                ),
                "400": error("A bad `since` or `limit` (`invalid_parameter`)."),
                **UNCHARGED_KEY_ERRORS,
                **_STORE,
            },
        }
    }
    return out
