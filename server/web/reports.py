"""Report pages: ``/report`` (one address) and ``/bulk-report`` (a CSV).

For signed-in users. Reports go through the API's own code: the
:class:`~sikker.core.reports.ReportRules` of the account (public addresses
only, never your own ranges or your own address), the account's daily
``reports`` quota, and :meth:`Reporting.store
<sikker.server.resources.reports.Reporting.store>`, which commits them to
the event log before the page answers. The builder folds them into scores
at its next step (``sikker build --follow``: about a second).
"""

from typing import Any

import falcon

from sikker.core.handles import shared
from sikker.core.present import iso
from sikker.core.report_csv import CsvRows, decode, read_rows
from sikker.core.report_index import ReportIndex
from sikker.core.reports import MAX_COMMENT, Report, ReportRules
from sikker.core.vocab import CATEGORIES, PROTOCOLS
from sikker.errors import InvalidReportError
from sikker.server.resources.reports import MAX_REPORTS, Reporting
from sikker.server.web.forms import read_form
from sikker.server.web.site import Site

#: The reporter's own reports a page lists.
OWN_REPORTS = 10
#: Rows of a bulk report listed with their outcome.
SHOWN_ROWS = 1000
FIELDS = {"ip": 100, "category": 32, "protocol": 32, "comment": MAX_COMMENT * 2}


class Reports:
    """What the two pages share: the reporting code and the page context."""

    def __init__(self, site: Site) -> None:
        self.site = site
        self.reporting = Reporting(site.config, site.service.allowed_ranges)

    def own(self, account_id: str) -> list[dict[str, Any]]:
        """Return the account's newest reports."""
        index = shared(ReportIndex, self.site.config.data_path)
        return [
            {**r, "reportedAt": iso(r["ts"] // 1000)}
            for r in index.of_reporter(account_id, OWN_REPORTS)
        ]

    def context(self, account_id: str, **extra: Any) -> dict[str, Any]:
        """Return what both report pages show."""
        return {
            "categories": CATEGORIES,
            "protocols": PROTOCOLS,
            "own": self.own(account_id),
            "done": None,
            **extra,
        }


class ReportPage:
    """``GET`` and ``POST /report``: report one address."""

    web_page = True

    def __init__(self, reports: Reports) -> None:
        self.reports = reports

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        """Answer the form (``ip`` prefills the address)."""
        account = self.reports.site.require_user(req)
        values = {"ip": (req.get_param("ip") or "")[:100]}
        context = self.reports.context(account.id, values=values)
        self.reports.site.render(req, resp, "report.html", **context)

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        """Validate, charge the quota, commit; show the accepted report."""
        site = self.reports.site
        form = read_form(req, FIELDS)
        site.check_csrf(req, form)
        account = site.require_user(req)
        values = {name: form.get(name) for name in FIELDS}
        rules = self.reports.reporting.rules(req, account.id)
        try:
            report = rules.parse({k: v for k, v in values.items() if v})
        except InvalidReportError as ex:
            context = self.reports.context(account.id, values=values)
            site.render(
                req,
                resp,
                "report.html",
                status=400,
                code="invalid_report",
                error=str(ex),
                **context,
            )
            return
        site.meter(req, resp, account).charge("reports")
        first, _ = self.reports.reporting.store([report], account.id)
        done = {**report.public(), "sequence": first}
        context = self.reports.context(account.id, values={"ip": ""}, done=done)
        site.render(req, resp, "report.html", **context)


class BulkReportPage:
    """``GET`` and ``POST /bulk-report``: a CSV pasted or uploaded."""

    web_page = True

    def __init__(self, reports: Reports) -> None:
        self.reports = reports
        self.csv_max = int(reports.site.config.report_csv_max_bytes)

    @property
    def max_body_bytes(self) -> int:
        """Return the body cap: a CSV file of ``report_csv_max_bytes`` and a form."""
        return self.csv_max + 64 * 1024

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        """Answer the form."""
        account = self.reports.site.require_user(req)
        context = self.reports.context(account.id, results=None, csv="")
        self.reports.site.render(req, resp, "bulk_report.html", **context)

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        """Check every row; commit the good ones; list each row's outcome."""
        site = self.reports.site
        form = read_form(
            req, {"csv": self.csv_max}, {"file": self.csv_max}, self.max_body_bytes
        )
        site.check_csrf(req, form)
        account = site.require_user(req)
        pasted = form.fields.get("csv", "")
        data = form.files.get("file") or pasted.encode()
        plan = site.service.plans.resolve(account.plan)
        most = min(int(plan.caps.get("bulk_report_rows", MAX_REPORTS)), MAX_REPORTS)
        try:
            if not data.strip():
                raise InvalidReportError("file", "paste CSV rows or choose a file")
            parsed = read_rows(decode(data), most)
        except InvalidReportError as ex:
            self._fail(req, resp, account.id, "invalid_report", str(ex), None, pasted)
            return
        rules = self.reports.reporting.rules(req, account.id)
        accepted, results = _outcomes(rules, parsed)
        if not accepted:
            message = "no row was accepted: see each row's reason below"
            self._fail(
                req, resp, account.id, "no_valid_reports", message, results, pasted
            )
            return
        site.meter(req, resp, account).charge("reports", len(accepted))
        results["sequences"] = self.reports.reporting.store(accepted, account.id)
        context = self.reports.context(account.id, results=results, csv="")
        site.render(req, resp, "bulk_report.html", **context)

    def _fail(
        self,
        req: falcon.Request,
        resp: falcon.Response,
        account_id: str,
        code: str,
        error: str,
        results: dict[str, Any] | None,
        pasted: str,
    ) -> None:
        """Show the form again (with what was pasted) and why: a 400."""
        context = self.reports.context(account_id, results=results, csv=pasted)
        self.reports.site.render(
            req, resp, "bulk_report.html", status=400, code=code, error=error, **context
        )


def _outcomes(rules: ReportRules, parsed: CsvRows) -> tuple[list[Report], dict]:
    """Return the acceptable reports of CSV rows and every row's outcome."""
    accepted: list[Report] = []
    outcomes: list[dict[str, Any]] = [
        {"row": row, "ip": ip, "error": error} for row, ip, error in parsed.errors
    ]
    for row, obj in parsed.rows:
        try:
            report = rules.parse(obj)
        except InvalidReportError as ex:
            outcomes.append({"row": row, "ip": obj.get("ip", ""), "error": str(ex)})
        else:
            accepted.append(report)
            outcomes.append({"row": row, "ip": report.ip, "report": report})
    outcomes.sort(key=lambda o: o["row"])
    results = {
        "total": len(outcomes),
        "accepted": len(accepted),
        "rejected": len(outcomes) - len(accepted),
        "rows": outcomes[:SHOWN_ROWS],
        "sequences": None,
    }
    return accepted, results
