"""OpenAPI paths of the web site (docs/web.md): HTML pages and forms.

Pages answer ``text/html``. Their errors are described as the one JSON
error shape, which is what programs get; a browser (a client whose
``Accept`` prefers ``text/html``) gets the same status as an HTML page. Forms post
``application/x-www-form-urlencoded`` with a ``csrf`` field; a successful
post usually answers ``303 See Other``. Signed-in pages read the session
cookie ``sikker_session`` (security scheme ``webSession``).
"""

from typing import Any

from sikker.core.config import Config
from sikker.core.filters import PARAMS
from sikker.core.formats import FORMAT_PARAMS
from sikker.server.openapi.common import (
    Schema,
    error,
    ref,
    response,
)

TAG = "web"
HTML: Schema = {"text/html": {"schema": {"type": "string"}}}
LOCATION = {
    "Location": {
        "description": "Where to go next (a path on this site).",
        "schema": {"type": "string"},
    }
}
RETRY = {
    "Retry-After": {
        "description": "Seconds to wait before trying again.",
        "schema": {"type": "integer", "minimum": 0},
    }
}
SESSION: list[dict[str, list[str]]] = [{"webSession": []}]

SCHEMAS: dict[str, Schema] = {
    "ExportPreview": {
        "type": "object",
        "description": "What a blacklist of the filters would hold.",
        "required": [
            "sequence",
            "listed",
            "buckets",
            "matching",
            "count",
            "scoreMinimum",
            "limit",
            "format",
            "apiPath",
        ],
        "properties": {
            "sequence": {"type": "integer", "minimum": 1},
            "listed": {"type": "integer", "minimum": 0, "description": "Listed IPs."},
            "buckets": {
                "type": "array",
                "minItems": 10,
                "maxItems": 10,
                "description": "Matching IPs per 10-point confidence bucket, "
                "whatever scoreMinimum is (the last bucket is 90-100).",
                "items": {
                    "type": "object",
                    "required": ["from", "to", "count"],
                    "properties": {
                        "from": {"type": "integer", "minimum": 0, "maximum": 90},
                        "to": {"type": "integer", "minimum": 9, "maximum": 100},
                        "count": {"type": "integer", "minimum": 0},
                    },
                },
            },
            "matching": {
                "type": "integer",
                "minimum": 0,
                "description": "Matching IPs at or above scoreMinimum.",
            },
            "count": {
                "type": "integer",
                "minimum": 0,
                "description": "What the blacklist returns: matching, cut to limit.",
            },
            "scoreMinimum": {"type": "integer", "minimum": 0, "maximum": 100},
            "limit": {"type": "integer", "minimum": 1},
            "format": {"type": "string"},
            "apiPath": {
                "type": "string",
                "description": "The GET /v1/key/blacklist path (and query) "
                "answering the same filters.",
            },
        },
    },
}


def _error(description: str, headers: dict[str, Any] | None = None) -> Schema:
    """Return an error answer: the JSON error shape (browsers get a page)."""
    out = error(description)
    if headers:
        out["headers"] = headers
    return out


UNAVAILABLE = _error(
    "No snapshot yet, or a store cannot be used (`no_snapshot`, "
    "`store_unavailable`, ...).",
    RETRY,
)
SIGN_IN = _error(
    "Not signed in (`sign_in_required`); browsers are sent to /signin instead (303).",
    {
        "WWW-Authenticate": {
            "description": "The session cookie scheme.",
            "schema": {"type": "string"},
        }
    },
)
TO_SIGN_IN = {
    "description": "A browser that is not signed in goes to the sign-in page.",
    "headers": LOCATION,
}
FORM_ERRORS: dict[str, Schema] = {
    "400": _error("A field is missing or bad (`invalid_form`, naming it)."),
    "403": _error("The form's CSRF token is not this browser's (`csrf_failed`)."),
    "413": _error("The form is too large (`payload_too_large`)."),
    "415": _error("Not a form (`unsupported_media_type`)."),
}
SEE_OTHER = {"description": "Done; go to Location.", "headers": LOCATION}
#: What a report answers when the account's quota or the event log fails it.
QUOTA: dict[str, Schema] = {
    "429": _error("The reports quota is used up (`quota_exceeded`).", RETRY),
    "503": UNAVAILABLE,
}


def _query(name: str, description: str) -> Schema:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "description": description,
        "schema": {"type": "string"},
    }


def _path(name: str, description: str) -> Schema:
    return {
        "name": name,
        "in": "path",
        "required": True,
        "description": description,
        "schema": {"type": "string", "minLength": 1},
    }


def _form(fields: dict[str, str], multipart: bool = False) -> Schema:
    """Return a form request body: ``fields`` (name -> description) and csrf."""
    schema = {
        "type": "object",
        "required": ["csrf"],
        "properties": {
            "csrf": {"type": "string", "description": "The page's CSRF token."},
            **{n: {"type": "string", "description": d} for n, d in fields.items()},
        },
    }
    content = {"application/x-www-form-urlencoded": {"schema": schema}}
    if multipart:
        content["multipart/form-data"] = {"schema": schema}
    return {"required": True, "content": content}


def _op(
    operation_id: str,
    summary: str,
    responses: dict[str, Any],
    description: str = "",
    parameters: list[Schema] | None = None,
    body: Schema | None = None,
    signed_in: bool = False,
) -> Schema:
    out: Schema = {
        "operationId": operation_id,
        "tags": [TAG],
        "summary": summary,
        "security": SESSION if signed_in else [],
        "responses": responses,
    }
    if description:
        out["description"] = description
    if parameters:
        out["parameters"] = parameters
    if body:
        out["requestBody"] = body
    return out


def _page(operation_id: str, summary: str, **kwargs: Any) -> Schema:
    """Return a GET of a page: 200 HTML plus ``errors``."""
    errors = kwargs.pop("errors", {})
    return _op(
        operation_id,
        summary,
        {"200": response("The page.", content=HTML), **errors},
        **kwargs,
    )


def _filters() -> list[Schema]:
    return [
        _query(name, f"As `{name}` of GET /v1/key/blacklist.")
        for name in (*PARAMS, *FORMAT_PARAMS)
    ]


def _signed_in_page(operation_id: str, summary: str, **kwargs: Any) -> Schema:
    errors = {"303": TO_SIGN_IN, "401": SIGN_IN, **kwargs.pop("errors", {})}
    return _page(operation_id, summary, signed_in=True, errors=errors, **kwargs)


def _signed_in_post(
    operation_id: str,
    summary: str,
    responses: dict[str, Any],
    fields: dict[str, str],
    **kwargs: Any,
) -> Schema:
    """Return a form post of a signed-in user (``responses`` beside the
    form's own errors and the 401)."""
    multipart = kwargs.pop("multipart", False)
    return _op(
        operation_id,
        summary,
        {"401": SIGN_IN, **FORM_ERRORS, **responses},
        body=_form(fields, multipart),
        signed_in=True,
        **kwargs,
    )


def _owned(operation_id: str, summary: str, param: str) -> Schema:
    """Return a form post acting on one thing the signed-in user owns."""
    what = param.split("_")[0]
    return _signed_in_post(
        operation_id,
        summary,
        {"303": SEE_OTHER, "404": _error(f"No such {what} of yours (`not_found`).")},
        {},
        parameters=[_path(param, f"The {what}'s id.")],
    )


def paths(config: Config) -> dict[str, Any]:
    """Return the web site's paths."""
    snapshot = {"503": UNAVAILABLE}
    limited = _error("Too many requests from this address (`rate_limited`).", RETRY)
    return {
        "/": {
            "get": _page("webHome", "The start page: the lookup form", errors=snapshot)
        },
        "/lookup": {
            "get": _page(
                "webLookup",
                "Look an IP up: score, evidence, reports and why",
                description="Free, no key, no quota; limited per client address "
                "(setting web_lookups_per_minute, now "
                f"{config.web_lookups_per_minute} a minute).",
                parameters=[_query("ip", "The IPv4 or IPv6 address.")],
                errors={
                    "400": _error("Not an IP address (`invalid_address`)."),
                    "429": limited,
                    **snapshot,
                },
            )
        },
        "/catalog": {
            "get": _page(
                "webCatalog",
                "Every behavior and primitive with match counts",
                parameters=[
                    _query("severity", "Only behaviors of this severity."),
                    _query("protocol", "Only entries of this protocol."),
                ],
                errors=snapshot,
            )
        },
        "/catalog/{behavior_id}": {
            "get": _page(
                "webBehavior",
                "One behavior: primitives, examples, the IPs that show it",
                parameters=[_path("behavior_id", "A behavior id of the catalog.")],
                errors={"404": _error("No such behavior (`not_found`)."), **snapshot},
            )
        },
        "/landscape": {
            "get": _page("webLandscape", "Charts of recent activity", errors=snapshot)
        },
        "/export": {
            "get": _page(
                "webExport",
                "The blacklist export tool",
                parameters=_filters(),
                errors=snapshot,
            )
        },
        "/export/preview": {
            "get": _op(
                "webExportPreview",
                "How many IPs filters match, by 10-point confidence bucket",
                {
                    "200": response("The preview.", ref("ExportPreview")),
                    "400": error("A bad filter (`invalid_parameter`, naming it)."),
                    "429": error(
                        "Too many previews from this address (`rate_limited`).",
                        ("Retry-After",),
                    ),
                    "503": error("No snapshot yet (`no_snapshot`).", ("Retry-After",)),
                },
                description="Free, no key; limited per client address (setting "
                "web_previews_per_minute).",
                parameters=_filters(),
            )
        },
        "/export/download": {
            "get": _op(
                "webExportDownload",
                "Download the blacklist of the filters (signed in)",
                {
                    "200": response(
                        "What GET /v1/key/blacklist answers, as an attachment.",
                        content={
                            "text/plain": {"schema": {"type": "string"}},
                            "text/csv": {"schema": {"type": "string"}},
                            "application/json": {"schema": ref("Blacklist")},
                        },
                    ),
                    "303": TO_SIGN_IN,
                    "400": _error("A bad filter (`invalid_parameter`)."),
                    "401": SIGN_IN,
                    "429": _error(
                        "The account's blacklist quota is used up (`quota_exceeded`).",
                        RETRY,
                    ),
                    **snapshot,
                },
                description="Charged to the account's daily blacklist quota.",
                parameters=_filters(),
                signed_in=True,
            )
        },
        "/signup": {
            "get": _page("webSignUpForm", "The sign-up form"),
            "post": _op(
                "webSignUp",
                "Create an account and sign in",
                {
                    "303": SEE_OTHER,
                    **FORM_ERRORS,
                    "403": _error(
                        "Bad CSRF token (`csrf_failed`), or registration is closed "
                        "(`registration_closed`)."
                    ),
                    "409": _error("The e-mail address has an account."),
                    "429": limited,
                },
                body=_form({"email": "E-mail address.", "password": "Password."}),
            ),
        },
        "/signin": {
            "get": _page(
                "webSignInForm",
                "The sign-in form",
                parameters=[_query("next", "A path on this site to go to after.")],
            ),
            "post": _op(
                "webSignIn",
                "Sign in (a session cookie)",
                {
                    "303": SEE_OTHER,
                    **FORM_ERRORS,
                    "400": _error("A bad field, or a wrong e-mail or password."),
                    "403": _error("Bad CSRF token, or the account is disabled."),
                    "429": limited,
                },
                description="Failed sign-ins count per client address (setting "
                "login_max_failures), shared with the API's logins.",
                body=_form(
                    {"email": "E-mail.", "password": "Password.", "next": "Path."}
                ),
            ),
        },
        "/signout": {
            "post": _op(
                "webSignOut",
                "Sign out (ends the session)",
                {"303": SEE_OTHER, **FORM_ERRORS},
                body=_form({}),
            )
        },
        "/account": {
            "get": _signed_in_page(
                "webAccount", "Plan, today's usage, API keys and alerts"
            )
        },
        "/account/keys": {
            "post": _signed_in_post(
                "webCreateKey",
                "Create an API key; this answer is the only one showing it",
                {"200": response("The key, once.", content=HTML)},
                {"name": "An optional name."},
            )
        },
        "/account/keys/{key_id}/revoke": {
            "post": _owned("webRevokeKey", "Revoke one of your API keys", "key_id")
        },
        "/account/alerts": {
            "post": _signed_in_post(
                "webCreateAlert",
                "Watch an address, a range, a username or an e-mail address",
                {
                    "200": response(
                        "Created with a webhook: its secret, shown once.", content=HTML
                    ),
                    "303": SEE_OTHER,
                    "403": _error(
                        "Bad CSRF token, or the plan allows no more alerts of the kind."
                    ),
                    "409": _error("You already watch it (`alert_exists`)."),
                },
                {
                    "kind": "ip, range, username or email.",
                    "value": "The address, CIDR or name.",
                    "label": "An optional label.",
                    "webhookUrl": "An optional https URL to post matches to.",
                },
            )
        },
        "/account/alerts/{alert_id}/delete": {
            "post": _owned("webDeleteAlert", "Delete one of your alerts", "alert_id")
        },
        "/report": {
            "get": _signed_in_page(
                "webReportForm",
                "The report form",
                parameters=[_query("ip", "Prefills the address.")],
            ),
            "post": _signed_in_post(
                "webReport",
                "Report one address (charged to the reports quota)",
                {
                    "200": response("The report was committed.", content=HTML),
                    "400": _error("A bad form or report (`invalid_report`)."),
                    **QUOTA,
                },
                {
                    "ip": "The address.",
                    "category": "A category name or id 1-16.",
                    "protocol": "Optional protocol.",
                    "comment": "Optional comment.",
                },
            ),
        },
        "/bulk-report": {
            "get": _signed_in_page("webBulkReportForm", "The bulk report form"),
            "post": _signed_in_post(
                "webBulkReport",
                "Report a CSV of addresses; each row's outcome",
                {
                    "200": response("Rows accepted and committed.", content=HTML),
                    "400": _error("A bad form or file, or no row was acceptable."),
                    **QUOTA,
                },
                {"csv": "Pasted CSV rows.", "file": "A CSV file."},
                multipart=True,
            ),
        },
        "/removal": {
            "get": _page(
                "webRemovalForm",
                "The removal request form",
                parameters=[_query("ip", "Prefills the address.")],
            ),
            "post": _op(
                "webRemoval",
                "Ask for an address to be delisted",
                {
                    "200": response("Received; its id.", content=HTML),
                    **FORM_ERRORS,
                    "400": _error("A bad field (`invalid_removal_request`)."),
                    "429": limited,
                    "503": UNAVAILABLE,
                },
                description="Limited per client address (setting "
                "removal_requests_per_hour).",
                body=_form(
                    {
                        "ip": "The address.",
                        "email": "Where to answer.",
                        "reason": "Why it should not be listed.",
                    }
                ),
            ),
        },
        "/admin/removals": {
            "get": _signed_in_page(
                "webAdminRemovals",
                "Removal requests to review (administrators)",
                parameters=[
                    _query("status", "pending (default), approved, rejected or all.")
                ],
                errors={
                    "400": _error("A bad status (`invalid_form`)."),
                    "403": _error("Not an administrator (`admin_only`)."),
                },
            )
        },
        "/admin/removals/{request_id}": {
            "post": _signed_in_post(
                "webDecideRemoval",
                "Approve or reject a removal request (administrators)",
                {
                    "303": SEE_OTHER,
                    "403": _error("Bad CSRF token, or not an administrator."),
                    "404": _error("No such request (`not_found`)."),
                    "503": UNAVAILABLE,
                },
                {
                    "decision": "approve or reject.",
                    "days": "Days to delist.",
                    "note": "A note kept with the decision.",
                },
                parameters=[_path("request_id", "The request id (rr_...).")],
            )
        },
        "/static/{name}": {
            "get": _op(
                "webStatic",
                "A static file of the site (CSS, JavaScript, icon)",
                {
                    "200": response(
                        "The file.",
                        content={
                            "text/css": {"schema": {"type": "string"}},
                            "text/javascript": {"schema": {"type": "string"}},
                            "image/svg+xml": {"schema": {"type": "string"}},
                        },
                    ),
                    "304": {"description": "The browser's copy is current."},
                    "404": _error("No such file (`not_found`)."),
                },
                parameters=[_path("name", "The file name.")],
            )
        },
    }
