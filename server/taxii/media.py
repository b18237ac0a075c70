"""TAXII media types: ``Accept`` negotiation and the TAXII error message.

Everything under ``/taxii2/`` answers ``application/taxii+json;version=2.1``.
:class:`TaxiiMedia` is Falcon middleware for those paths only: it answers
406 to an ``Accept`` that excludes TAXII 2.1, and turns the one JSON error
document of :mod:`sikker.server.errors` into a TAXII error message
(``title``, ``description``, ``error_code``, ``http_status``) with the
TAXII media type, whatever raised the error (routing, auth, quotas).
"""

from typing import Any

import falcon
import orjson

PREFIX = "/taxii2"
TAXII = "application/taxii+json"
MEDIA_TYPE = "application/taxii+json;version=2.1"
VERSION = "2.1"


def _ranges(header: str) -> list[tuple[str, dict[str, str]]]:
    """Return (type/subtype, parameters) of each media range in a header."""
    out = []
    for part in header.split(","):
        fields = [f.strip() for f in part.split(";")]
        params = {}
        for field in fields[1:]:
            name, _, value = field.partition("=")
            params[name.strip().lower()] = value.strip().strip('"')
        if fields[0]:
            out.append((fields[0].lower(), params))
    return out


def acceptable(header: str | None) -> bool:
    """Return whether an ``Accept`` header admits TAXII 2.1 JSON."""
    if not header or not header.strip():
        return True
    for kind, params in _ranges(header):
        if params.get("q", "1").strip() in ("0", "0.0", "0.00", "0.000"):
            continue
        if kind in ("*/*", "application/*"):
            return True
        if kind == TAXII and params.get("version", VERSION) == VERSION:
            return True
    return False


def taxii_content_type(header: str | None) -> bool:
    """Return whether a ``Content-Type`` is TAXII 2.1 JSON."""
    ranges = _ranges(header or "")
    if len(ranges) != 1:
        return False
    kind, params = ranges[0]
    return kind == TAXII and params.get("version", VERSION) == VERSION


def error_document(status: int, title: str, description: str) -> dict[str, Any]:
    """Return a TAXII error message."""
    return {
        "title": title,
        "description": description,
        "error_code": title.lower().replace(" ", "_"),
        "http_status": str(status),
    }


class TaxiiMedia:
    """Falcon middleware for ``/taxii2/``: 406s and TAXII-shaped errors."""

    def process_request(self, req: falcon.Request, resp: falcon.Response) -> None:
        """Refuse an ``Accept`` header that rules TAXII 2.1 out."""
        path = req.path
        if not path.startswith(PREFIX):  # PERF: one C call for non-TAXII paths
            return
        if _is_taxii(path) and not acceptable(req.get_header("Accept")):
            raise falcon.HTTPNotAcceptable(
                description=f"the Accept header must allow {MEDIA_TYPE} "
                f"(got {req.get_header('Accept')!r})"
            )

    def process_response(
        self,
        req: falcon.Request,
        resp: falcon.Response,
        resource: object,
        req_succeeded: bool,
    ) -> None:
        """Re-shape an error answer as a TAXII error message."""
        path = req.path
        if not path.startswith(PREFIX) or not _is_taxii(path):
            return
        status = resp.status_code
        if status < 400 or not isinstance(resp.data, bytes):
            return
        try:
            body = orjson.loads(resp.data)
        except orjson.JSONDecodeError:
            return
        if not isinstance(body, dict) or "error" not in body:
            return
        title = str(body.get("code") or "error").replace("_", " ")
        document = error_document(status, title, str(body["error"]))
        if body.get("code"):
            document["error_code"] = str(body["code"])
        if body.get("parameter"):
            document["details"] = {"parameter": body["parameter"]}
        resp.data = orjson.dumps(document)
        resp.content_type = MEDIA_TYPE


def _is_taxii(path: str) -> bool:
    return path == PREFIX or path.startswith(PREFIX + "/")
