"""Community reports: ``POST /v1/key/report``, ``POST /v1/key/bulk-report``,
``GET /v1/key/reports`` (your own) and ``GET /v1/key/reports/{ip}``.

Accepted reports are committed to the event log before the answer, as
``report`` events with the caller's account as ``reporter``; the builder
folds them into scores. Each accepted report charges the ``reports`` quota.
Comments are shown unredacted only to their author; everyone else reads
them through :func:`sikker.core.redact.redact`.
"""

import io
import logging
import time
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qsl

import falcon
import orjson
from falcon.media import MultipartFormHandler

from sikker.core import ipcore
from sikker.core.config import Config
from sikker.core.eventlog import EventLog
from sikker.core.handles import shared
from sikker.core.layout import EVENTS_DIR
from sikker.core.present import iso
from sikker.core.redact import redact
from sikker.core.report_csv import decode, read_rows
from sikker.core.report_index import ReportIndex
from sikker.core.reports import Networks, Report, ReportRules, canonical_address
from sikker.errors import InvalidAddressError, InvalidFilterError, InvalidReportError
from sikker.server.body import media_type, read_body
from sikker.server.client import client_address, parse_proxies
from sikker.server.errors import error_body
from sikker.server.principal import charge, plan_cap, require_principal

#: Reports one bulk request may hold (SikkerAPI's limit).
MAX_REPORTS = 10_000
#: Row errors listed in a bulk answer (``rejected`` counts them all).
MAX_ERRORS = 1000
#: Body cap of a single report (a report is about a kilobyte).
SINGLE_MAX_BYTES = 64 * 1024
#: Reports a listing returns at most, and by default.
MAX_LIST, DEFAULT_LIST = 500, 50

log = logging.getLogger("sikker.server")
OwnRanges = Callable[[str], Iterable[str]]


class Reporting:
    """What the report resources share: stores, settings, the rules."""

    def __init__(self, config: Config, own_ranges: OwnRanges | None = None) -> None:
        self.config = config
        self.own_ranges: OwnRanges = own_ranges or (lambda account_id: ())
        self.trusted = parse_proxies(config.trusted_proxies)

    def log(self) -> EventLog:
        """Return this process's event log."""
        return shared(EventLog, self.config.data_path / EVENTS_DIR)

    def index(self) -> ReportIndex:
        """Return this process's report index."""
        return shared(ReportIndex, self.config.data_path)

    def rules(self, req: falcon.Request, account_id: str) -> ReportRules:
        """Return the rules for reports of ``account_id`` sent by ``req``."""
        own = Networks(self.own_ranges(account_id), skip_invalid=True)
        return ReportRules(own, client_address(req, self.trusted))

    def store(self, reports: list[Report], reporter: str) -> tuple[int, int]:
        """Commit reports to the event log (then the index); return sequences."""
        now = int(time.time() * 1000)
        events = [report.event(reporter, now) for report in reports]
        first, last = self.log().append(events)
        try:
            self.index().add(first, events)
        except Exception:  # the log holds them; only listings miss them
            log.exception("cannot index reports %d-%d", first, last)
        return first, last


def _document(req: falcon.Request, body: bytes) -> Any:
    kind = media_type(req)
    if kind == "application/x-www-form-urlencoded":
        return dict(parse_qsl(body.decode("utf-8", "replace")))
    if kind not in ("application/json", ""):
        raise falcon.HTTPUnsupportedMediaType(
            title="unsupported media type",
            description=f"Content-Type {kind!r} is not accepted; send application/json",
        )
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as ex:
        raise InvalidReportError("body", f"invalid JSON: {ex}") from None


class ReportResource:
    """``POST /v1/key/report``: one report."""

    def __init__(self, reporting: Reporting) -> None:
        self.reporting = reporting

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        """Validate, charge, commit, then answer ``{"success": true, ...}``."""
        principal = require_principal(req)
        body = read_body(req, SINGLE_MAX_BYTES, "the report size limit")
        rules = self.reporting.rules(req, principal.account_id)
        report = rules.parse(_document(req, body))
        charge(req, "reports")
        first, _ = self.reporting.store([report], principal.account_id)
        resp.content_type = falcon.MEDIA_JSON
        resp.data = orjson.dumps(
            {"success": True, "report": report.public(), "sequence": first}
        )


class BulkReportResource:
    """``POST /v1/key/bulk-report``: up to 10,000 reports, JSON or CSV."""

    max_body_setting = "bulk_max_body_bytes"

    def __init__(self, reporting: Reporting) -> None:
        self.reporting = reporting

    @property
    def max_body_bytes(self) -> int:
        """Return this endpoint's body cap (setting ``bulk_max_body_bytes``)."""
        return int(self.reporting.config.bulk_max_body_bytes)

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        """Validate every row, commit the good ones in one transaction."""
        principal = require_principal(req)
        body = read_body(req, self.max_body_bytes, self.max_body_setting)
        rows, errors = self._rows(req, body)
        total = len(rows) + len(errors)  # errors so far: malformed CSV records
        rules = self.reporting.rules(req, principal.account_id)
        accepted: list[Report] = []
        for row, obj in rows:
            try:
                accepted.append(rules.parse(obj))
            except InvalidReportError as ex:
                ip = obj.get("ip") if isinstance(obj, dict) else None
                errors.append((row, ip if isinstance(ip, str) else "", str(ex)))
        errors.sort(key=lambda e: e[0])
        result: dict[str, Any] = {
            "total": total,
            "accepted": len(accepted),
            "rejected": len(errors),
            "errors": [
                {"row": row, "ip": ip[:64], "error": error}
                for row, ip, error in errors[:MAX_ERRORS]
            ],
            "firstSequence": None,
            "lastSequence": None,
        }
        resp.content_type = falcon.MEDIA_JSON
        if not accepted:
            code = "no_valid_reports" if errors else "empty_body"
            message = (
                f"nothing accepted: row {errors[0][0]}: {errors[0][2]}"
                if errors
                else "the request holds no reports"
            )
            resp.status = 400
            resp.data = error_body(400, code, message, success=False, **result)
            return
        charge(req, "reports", len(accepted))
        first, last = self.reporting.store(accepted, principal.account_id)
        result["firstSequence"], result["lastSequence"] = first, last
        resp.data = orjson.dumps({"success": True, **result})

    def _rows(
        self, req: falcon.Request, body: bytes
    ) -> tuple[list[tuple[int, Any]], list[tuple[int, str, str]]]:
        """Return ``(row, report object)`` pairs and the rows already bad."""
        kind = media_type(req)
        most = plan_cap(req, "bulk_report_rows", MAX_REPORTS)
        if kind == "multipart/form-data":
            return self._csv(self._file(req, body), most)
        if kind in ("text/csv", "text/plain"):
            return self._csv(body, most)
        if kind == "application/x-www-form-urlencoded":  # a form holds no list
            raise falcon.HTTPUnsupportedMediaType(
                title="unsupported media type",
                description="a form cannot hold a list of reports; send "
                "application/json, text/csv or a multipart/form-data file",
            )
        doc = _document(req, body)
        items = doc.get("reports") if isinstance(doc, dict) else doc
        if not isinstance(items, list):
            raise InvalidReportError(
                "reports", 'expected {"reports": [{"ip": ..., "category": ...}, ...]}'
            )
        if len(items) > most:
            raise InvalidReportError(
                "reports", f"more than {most:,} reports; split the request"
            )
        return list(enumerate(items, 1)), []

    def _csv(
        self, data: bytes, most: int
    ) -> tuple[list[tuple[int, Any]], list[tuple[int, str, str]]]:
        cap = int(self.reporting.config.report_csv_max_bytes)
        if len(data) > cap:
            raise falcon.HTTPContentTooLarge(
                title="payload too large",
                description=f"the CSV file is larger than {cap} bytes (setting "
                "report_csv_max_bytes); split it into smaller files",
            )
        parsed = read_rows(decode(data), most)
        return list(parsed.rows), list(parsed.errors)

    def _file(self, req: falcon.Request, body: bytes) -> bytes:
        """Return the ``file`` part of a multipart body (at most the cap + 1)."""
        cap = int(self.reporting.config.report_csv_max_bytes)
        form = MultipartFormHandler().deserialize(
            io.BytesIO(body), req.content_type, len(body)
        )
        for part in form:
            if part.name == "file":
                return part.stream.read(cap + 1)
        raise InvalidReportError(
            "file", "the multipart body has no 'file' part holding the CSV"
        )


class OwnReportsResource:
    """``GET /v1/key/reports``: the caller's own reports, newest first."""

    def __init__(self, reporting: Reporting) -> None:
        self.reporting = reporting

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        """Answer ``{"reports": [...]}`` with the caller's comments as written."""
        principal = require_principal(req)
        limit = _limit(req)
        ip16 = None
        if req.get_param("ip"):
            ip16 = _ip16(req.get_param("ip") or "")
        reports = self.reporting.index().of_reporter(principal.account_id, limit, ip16)
        resp.content_type = falcon.MEDIA_JSON
        resp.data = orjson.dumps({"reports": [_shown(r, own=True) for r in reports]})


class AddressReportsResource:
    """``GET /v1/key/reports/{ip}``: recent reports of an address, redacted."""

    def __init__(self, reporting: Reporting) -> None:
        self.reporting = reporting

    def on_get(self, req: falcon.Request, resp: falcon.Response, ip: str) -> None:
        """Answer the newest reports; only the caller's own comments are unredacted."""
        principal = require_principal(req)
        limit = _limit(req)
        ip16 = _ip16(ip)
        charge(req, "lookups")
        reports = self.reporting.index().of_address(ip16, limit)
        account = principal.account_id
        resp.content_type = falcon.MEDIA_JSON
        resp.data = orjson.dumps(
            {
                "ip": ipcore.from_ip16(ip16),
                "reports": [
                    _shown(r, own=r.get("reporter") == account) for r in reports
                ],
            }
        )


def _limit(req: falcon.Request) -> int:
    value = req.get_param("limit")
    if value is None:
        return DEFAULT_LIST
    if not value.isdigit() or not 1 <= int(value) <= MAX_LIST:
        raise InvalidFilterError("limit", f"must be an integer 1-{MAX_LIST}")
    return int(value)


def _ip16(text: str) -> bytes:
    try:
        version, value = canonical_address(text)
    except InvalidReportError as ex:
        raise InvalidAddressError(text, ex.reason) from None
    return ipcore.to_ip16(ipcore.format_ip(version, value))


def _shown(report: dict[str, Any], own: bool) -> dict[str, Any]:
    """Return a listed report; comments of others are redacted."""
    comment = report.get("comment")
    if comment and not own:
        comment = redact(comment, subject=report["ip"])
    return {
        "ip": report["ip"],
        "category": report["category"],
        "protocol": report.get("protocol"),
        "comment": comment or None,
        "reportedAt": iso(report["ts"] // 1000),
        "own": own,
        "sequence": report["sequence"],
    }
