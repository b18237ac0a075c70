"""OpenAPI paths of the TAXII 2.1 server (``/taxii2/``), under both roots.

Answers are ``application/taxii+json;version=2.1``; errors are TAXII error
messages (``TaxiiError``), not the ``Error`` shape of the other paths. The
object endpoints need an API key and count against the ``taxii`` quota;
adding or deleting objects is always refused (``x-refused``: the status it
answers instead of a success).
"""

from typing import Any

from sikker.core.config import Config
from sikker.core.stix import MEDIA_TYPE as STIX_MEDIA
from sikker.server.openapi.common import (
    RATE_HEADERS,
    Schema,
    obj,
    path_param,
    ref,
    response,
)
from sikker.server.taxii import ROOTS
from sikker.server.taxii.collections import COLLECTIONS, DEFAULT
from sikker.server.taxii.media import MEDIA_TYPE
from sikker.server.taxii.params import MATCH_FIELDS

_STR: Schema = {"type": "string"}
_TIME: Schema = {
    "type": "string",
    "format": "date-time",
    "description": "RFC 3339 UTC with milliseconds.",
}


def _envelope(field: str, items: Schema) -> Schema:
    return obj(
        ["more"],
        more={"type": "boolean"},
        next={"type": "string", "description": "Pass as ?next= for the next page."},
        **{field: {"type": "array", "minItems": 1, "items": items}},
    )


SCHEMAS: dict[str, Schema] = {
    "TaxiiError": obj(
        ["title", "http_status"],
        title=_STR,
        description=_STR,
        error_code=_STR,
        http_status={"type": "string", "pattern": "^[45][0-9]{2}$"},
        details=obj([], parameter=_STR),
    ),
    "TaxiiDiscovery": obj(
        ["title", "default", "api_roots"],
        title=_STR,
        description=_STR,
        default=_STR,
        api_roots={"type": "array", "items": _STR},
    ),
    "TaxiiApiRoot": obj(
        ["title", "versions", "max_content_length"],
        title=_STR,
        description=_STR,
        versions={"type": "array", "items": {"const": MEDIA_TYPE}},
        max_content_length={"type": "integer", "minimum": 0},
    ),
    "TaxiiCollection": obj(
        ["id", "title", "can_read", "can_write", "media_types"],
        id={"enum": list(COLLECTIONS)},
        title=_STR,
        description=_STR,
        can_read={"const": True},
        can_write={"const": False},
        media_types={"type": "array", "items": {"const": STIX_MEDIA}},
    ),
    "TaxiiCollections": obj(
        ["collections"],
        collections={"type": "array", "items": ref("TaxiiCollection")},
    ),
    "TaxiiEnvelope": _envelope(
        "objects",
        {
            **obj(["type", "id", "spec_version"], spec_version={"const": "2.1"}),
            "description": "A STIX 2.1 object (indicator, relationship, "
            "attack-pattern, identity, marking-definition).",
        },
    ),
    "TaxiiManifest": _envelope(
        "objects",
        obj(
            ["id", "date_added", "version", "media_type"],
            id=_STR,
            date_added=_TIME,
            version=_TIME,
            media_type={"const": STIX_MEDIA},
        ),
    ),
    "TaxiiVersions": _envelope("versions", _TIME),
}

_DATE_HEADERS = ("X-TAXII-Date-Added-First", "X-TAXII-Date-Added-Last")
HEADERS: dict[str, Schema] = {
    name: {
        "description": f"Date added of the {name.rsplit('-', 1)[1].lower()} object "
        "in this page (only when it holds any).",
        "schema": _STR,
    }
    for name in _DATE_HEADERS
}
_QUOTA_HEADERS = (*RATE_HEADERS, "X-TAXII-Limit", "X-TAXII-Remaining")


def _taxii(schema: Schema) -> dict[str, Schema]:
    return {MEDIA_TYPE: {"schema": schema}}


def _ok(description: str, schema: str, headers: tuple[str, ...] = ()) -> Schema:
    return response(description, headers=headers, content=_taxii(ref(schema)))


def _fail(description: str, headers: tuple[str, ...] = ()) -> Schema:
    return response(description, headers=headers, content=_taxii(ref("TaxiiError")))


_NOT_ACCEPTABLE = {"406": _fail("The Accept header rules TAXII 2.1 JSON out.")}
_NO_COLLECTION = {"404": _fail("No such collection.")}
_KEYED_FAILS = {
    "400": _fail(
        "A bad or unknown parameter: match[...], limit, offset, added_after or "
        "next (`invalid_parameter`, naming it in details.parameter)."
    ),
    "401": _fail(
        "No API key, an unknown one (`unauthorized`) or a revoked one (`key_revoked`).",
        ("WWW-Authenticate",),
    ),
    "403": _fail("The key's account is disabled (`account_disabled`)."),
    "429": _fail(
        "Today's taxii quota is used up (`quota_exceeded`).",
        ("Retry-After", *_QUOTA_HEADERS),
    ),
    "503": _fail(
        "No snapshot yet (`no_snapshot`), or a large generation's index is being "
        "built (`index_building`).",
        ("Retry-After",),
    ),
}
_COLLECTION = path_param(
    "collection_id",
    f"A collection id ({DEFAULT} holds every indicator).",
    {"type": "string", "examples": list(COLLECTIONS)},
)
_OBJECT = path_param(
    "object_id", "A STIX id, or an IP address (SikkerAPI's form): its indicator "
    "and relationships."
)  # fmt: skip


def _query(config: Config) -> list[Schema]:
    most = int(config.taxii_max_page_size)
    return [
        {
            "name": "added_after",
            "in": "query",
            "description": "Only objects added after this time (RFC 3339, with a "
            "time zone).",
            "schema": _STR,
        },
        {
            "name": "limit",
            "in": "query",
            "description": f"Objects per page; larger values are cut to {most} "
            "(setting taxii_max_page_size) and to what is left of today's quota.",
            "schema": {"type": "integer", "minimum": 1, "default": most},
        },
        {
            "name": "next",
            "in": "query",
            "description": "The `next` of the previous page (same collection and "
            "filters).",
            "schema": _STR,
        },
        {
            "name": "offset",
            "in": "query",
            "description": "Skip this many objects first (the SikkerAPI CLI's paging).",
            "schema": {"type": "integer", "minimum": 0, "default": 0},
        },
        *(
            {
                "name": f"match[{name}]",
                "in": "query",
                "description": "Comma-separated values"
                + (" (first, last, all or times)." if name == "version" else "."),
                "schema": _STR,
            }
            for name in MATCH_FIELDS
        ),
    ]


def _public(op_id: str, summary: str, schema: str, one: bool = False) -> Schema:
    operation: Schema = {
        "operationId": op_id,
        "tags": ["taxii"],
        "summary": summary,
        "description": "Public: no API key.",
        "security": [],
        "responses": {
            "200": _ok(summary, schema),
            **(_NO_COLLECTION if one else {}),
            **_NOT_ACCEPTABLE,
        },
    }
    if one:
        operation["parameters"] = [_COLLECTION]
    return {"get": operation}


def _keyed(
    config: Config, op_id: str, summary: str, schema: str, by_object: bool
) -> Schema:
    return {
        "operationId": op_id,
        "tags": ["taxii"],
        "summary": summary,
        "description": "Charges the `taxii` quota one unit per object (or "
        "version) returned.",
        "parameters": [
            _COLLECTION,
            *([_OBJECT] if by_object else []),
            *_query(config),
        ],
        "responses": {
            "200": _ok(
                summary,
                schema,
                ("X-Snapshot-Sequence", *_DATE_HEADERS, *_QUOTA_HEADERS),
            ),
            "404": _fail(
                "No such collection"
                + (", or the object is not in it." if by_object else ".")
            ),
            **_NOT_ACCEPTABLE,
            **_KEYED_FAILS,
        },
    }


def _refusal(config: Config, op_id: str, summary: str, by_object: bool) -> Schema:
    cap = int(config.max_body_bytes)
    out: Schema = {
        "operationId": op_id,
        "tags": ["taxii"],
        "summary": summary,
        "description": "Every collection is read-only (can_write: false): the "
        "answer is always an error.",
        "security": [],
        "x-refused": "403",
        "parameters": [_COLLECTION, *([_OBJECT] if by_object else [])],
        "responses": {
            "403": _fail("The collection is read-only (`forbidden`)."),
            **_NO_COLLECTION,
            **_NOT_ACCEPTABLE,
            "413": _fail(f"A body larger than {cap} bytes (setting max_body_bytes)."),
        },
    }
    if not by_object:
        out["requestBody"] = {
            "content": _taxii(obj(["objects"], objects={"type": "array"}))
        }
        out["responses"]["415"] = _fail(
            f"The body is not {MEDIA_TYPE} (`unsupported_media_type`)."
        )
    return out


def paths(config: Config) -> dict[str, Any]:
    """Return the TAXII paths under both roots."""
    out: dict[str, Any] = {
        "/taxii2": _public("taxiiDiscovery", "TAXII discovery", "TaxiiDiscovery"),
        "/taxii2/api": _public("taxiiApiRoot", "The TAXII API root", "TaxiiApiRoot"),
    }
    for n, root in enumerate(ROOTS):
        tag = "" if n == 0 else "Short"
        base = f"{root}/collections"
        out[base] = _public(
            f"taxiiCollections{tag}", "Every collection", "TaxiiCollections"
        )
        out[base + "/{collection_id}"] = _public(
            f"taxiiCollection{tag}", "One collection", "TaxiiCollection", one=True
        )
        out[base + "/{collection_id}/objects"] = {
            "get": _keyed(config, f"taxiiObjects{tag}",
                          "A page of objects, oldest first", "TaxiiEnvelope", False),
            "post": _refusal(config, f"taxiiAddObjects{tag}",
                             "Adding objects (always refused)", False),
        }  # fmt: skip
        out[base + "/{collection_id}/objects/{object_id}"] = {
            "get": _keyed(config, f"taxiiObject{tag}", "One object by STIX id or IP",
                          "TaxiiEnvelope", True),
            "delete": _refusal(config, f"taxiiDeleteObject{tag}",
                               "Deleting an object (always refused)", True),
        }  # fmt: skip
        out[base + "/{collection_id}/objects/{object_id}/versions"] = {
            "get": _keyed(config, f"taxiiVersions{tag}",
                          "The versions of one object", "TaxiiVersions", True)
        }  # fmt: skip
        out[base + "/{collection_id}/manifest"] = {
            "get": _keyed(config, f"taxiiManifest{tag}",
                          "Ids, versions and dates added", "TaxiiManifest", False)
        }  # fmt: skip
    return out
