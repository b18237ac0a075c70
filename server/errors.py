"""Every error leaves the server as one JSON shape with the right status.

``{"error": "<message>", "code": "<slug>", "status": <int>}`` (plus
``parameter`` when one query parameter is at fault). A full disk answers
507 ``insufficient_storage`` and a read-only data directory 503
``storage_read_only``, whichever store met it. Unexpected exceptions are
logged with their traceback and answered with a 500 that reveals none.
"""

import logging
import re
from pathlib import Path
from typing import Any

import falcon
import lmdb
import orjson

from sikker.core.storage import storage_error
from sikker.errors import (
    AlertExistsError,
    AlertLimitError,
    AlertStoreError,
    EventLogError,
    InvalidAddressError,
    InvalidAlertError,
    InvalidFilterError,
    InvalidRemovalRequestError,
    InvalidReportError,
    NoSnapshotError,
    RateLimitedError,
    RemovalStoreError,
    SnapshotError,
    StorageError,
    StorageFullError,
    StorageReadOnlyError,
    UnknownAlertError,
)

log = logging.getLogger("sikker.server")


def error_body(status: int, code: str, message: str, **extra: Any) -> bytes:
    """Return the JSON error document."""
    return orjson.dumps({"error": message, "code": code, "status": status, **extra})


def respond(
    resp: falcon.Response, status: int, code: str, message: str, **extra: Any
) -> None:
    """Answer ``status`` with the JSON error document."""
    resp.status = status
    resp.content_type = falcon.MEDIA_JSON
    resp.data = error_body(status, code, message, **extra)


def _invalid_address(
    req: falcon.Request, resp: falcon.Response, ex: InvalidAddressError, params: dict
) -> None:
    respond(resp, 400, "invalid_address", str(ex))


def _invalid_filter(
    req: falcon.Request, resp: falcon.Response, ex: InvalidFilterError, params: dict
) -> None:
    respond(resp, 400, "invalid_parameter", str(ex), parameter=ex.name)


def _no_snapshot(
    req: falcon.Request, resp: falcon.Response, ex: SnapshotError, params: dict
) -> None:
    log.error("snapshot unavailable: %s", ex)
    code = "no_snapshot" if isinstance(ex, NoSnapshotError) else "snapshot_unavailable"
    respond(resp, 503, code, str(ex))
    resp.set_header("Retry-After", "10")


def _event_log(
    req: falcon.Request, resp: falcon.Response, ex: EventLogError, params: dict
) -> None:
    log.error("event log unavailable: %s", ex)
    respond(resp, 503, "event_log_unavailable", "the event log cannot be written")
    resp.set_header("Retry-After", "10")


_STATUS_PREFIX = re.compile(r"^\d{3}\s+")
_NOT_SLUG = re.compile(r"[^a-z0-9]+")


def _http_message(req: falcon.Request, ex: falcon.HTTPError) -> str:
    """Return a clear message for Falcon's own errors, which carry none."""
    if ex.description:
        return ex.description
    if ex.status_code == 404:
        return f"no such path: {req.path} (the API is described at /openapi.json)"
    if ex.status_code == 405:
        allowed = dict(ex.headers or {}).get("Allow", "")
        return f"{req.method} is not allowed on {req.path}; allowed: {allowed}"
    return _STATUS_PREFIX.sub("", ex.title or "error")


def _http_error(
    req: falcon.Request, resp: falcon.Response, ex: falcon.HTTPError, params: dict
) -> None:
    title = _STATUS_PREFIX.sub("", ex.title or "error")
    # A slug, whatever the title holds ("malformed multipart/form-data ...").
    code = _NOT_SLUG.sub("_", title.lower()).strip("_") or "error"
    respond(resp, ex.status_code, code, _http_message(req, ex))
    if ex.headers:
        resp.set_headers(ex.headers)


def _unexpected(
    req: falcon.Request, resp: falcon.Response, ex: Exception, params: dict
) -> None:
    log.exception("unhandled error on %s %s", req.method, req.path)
    respond(resp, 500, "internal_error", "internal server error; see the server log")


_FIELD_ERRORS: dict[type, tuple[int, str]] = {
    InvalidReportError: (400, "invalid_report"),
    InvalidAlertError: (400, "invalid_alert"),
    AlertLimitError: (403, "alert_limit_reached"),
    AlertExistsError: (409, "alert_exists"),
    InvalidRemovalRequestError: (400, "invalid_removal_request"),
}


def _field_error(
    req: falcon.Request,
    resp: falcon.Response,
    ex: InvalidReportError | InvalidAlertError | InvalidRemovalRequestError,
    params: dict,
) -> None:
    status, code = next(
        _FIELD_ERRORS[cls] for cls in type(ex).__mro__ if cls in _FIELD_ERRORS
    )
    extra: dict[str, Any] = {"field": ex.field}
    if isinstance(ex, InvalidReportError):
        extra["success"] = False  # SikkerAPI's report clients read this
    respond(resp, status, code, str(ex), **extra)


def _unknown_alert(
    req: falcon.Request, resp: falcon.Response, ex: UnknownAlertError, params: dict
) -> None:
    respond(resp, 404, "not_found", str(ex))


def _rate_limited(
    req: falcon.Request, resp: falcon.Response, ex: RateLimitedError, params: dict
) -> None:
    respond(resp, 429, "rate_limited", str(ex), retryAfter=ex.retry_after)
    resp.set_header("Retry-After", str(ex.retry_after))


def _store_unavailable(
    req: falcon.Request,
    resp: falcon.Response,
    ex: AlertStoreError | RemovalStoreError,
    params: dict,
) -> None:
    log.error("store unavailable: %s", ex)
    respond(resp, 503, "store_unavailable", "a data store cannot be written")
    resp.set_header("Retry-After", "10")


def _storage(
    req: falcon.Request, resp: falcon.Response, ex: StorageError, params: dict
) -> None:
    log.error("storage unavailable: %s", ex)
    if isinstance(ex, StorageFullError):
        status, code = 507, "insufficient_storage"
        message = "the server's disk is full; nothing was stored, retry later"
    elif isinstance(ex, StorageReadOnlyError):
        status, code = 503, "storage_read_only"
        message = "the server's data directory is read-only; retry later"
    else:
        status, code = 503, "storage_unavailable"
        message = "the server cannot write its data directory; retry later"
    respond(resp, status, code, message)
    resp.set_header("Retry-After", "60")


def _os_error(
    req: falcon.Request, resp: falcon.Response, ex: Exception, params: dict
) -> None:
    """A store that did not type its error: a full or read-only disk still
    answers as such (a named file, or LMDB's errno), anything else a 500."""
    filename = getattr(ex, "filename", None)
    error = None
    if filename or isinstance(ex, lmdb.Error):
        error = storage_error(ex, Path(filename) if filename else None, str(ex))
    if error is None:
        _unexpected(req, resp, ex, params)
    else:
        _storage(req, resp, error, params)


def install(app: falcon.App) -> None:
    """Register the handlers; later registrations win for subclasses."""
    app.add_error_handler(Exception, _unexpected)
    app.add_error_handler(falcon.HTTPError, _http_error)
    app.add_error_handler(SnapshotError, _no_snapshot)
    app.add_error_handler(EventLogError, _event_log)
    app.add_error_handler(InvalidFilterError, _invalid_filter)
    app.add_error_handler(InvalidAddressError, _invalid_address)
    for field_error in _FIELD_ERRORS:
        app.add_error_handler(field_error, _field_error)
    app.add_error_handler(UnknownAlertError, _unknown_alert)
    app.add_error_handler(RateLimitedError, _rate_limited)
    app.add_error_handler(AlertStoreError, _store_unavailable)
    app.add_error_handler(RemovalStoreError, _store_unavailable)
    app.add_error_handler(OSError, _os_error)
    app.add_error_handler(lmdb.Error, _os_error)
    app.add_error_handler(StorageError, _storage)
