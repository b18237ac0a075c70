"""The home page and the free lookup page (``/`` and ``/lookup?ip=``).

A lookup shows what ``GET /v1/key/check/{ip}?explain=true`` answers (the
same :func:`~sikker.core.present.check_payload` and
:func:`~sikker.core.present.score_breakdown`), the newest community reports
of the address (comments redacted) and why the score is what it is. It
needs no key and counts against no quota; each client address may look up
``web_lookups_per_minute`` addresses a minute.
"""

from typing import Any

import falcon

from sikker.core import ipcore
from sikker.core.handles import shared
from sikker.core.landscape import top_groups
from sikker.core.present import check_payload, iso, score_breakdown
from sikker.core.redact import redact
from sikker.core.report_index import ReportIndex
from sikker.errors import InvalidAddressError, NoSnapshotError
from sikker.server.web.site import Site

#: Community reports a lookup lists.
RECENT_REPORTS = 10
#: What each scoring component means, in words (docs/scoring.md).
COMPONENTS = {
    "volume": "sessions and events seen by the honeypots (log scale)",
    "diversity": "how many different protocols it attacked",
    "severity": "the behaviors it showed, weighted by severity",
    "patterns": "distinct attack primitives (commands, downloads, queries)",
    "community": "community reports, counting distinct reporters most",
    "agreement": "bonus when honeypots and reporters agree",
    "curve": "all evidence points mapped onto 0-100",
    "floor": "a critical behavior keeps the score at 80 or more",
}


class HomePage:
    """``GET /``: the lookup form and what the served snapshot holds."""

    web_page = True

    def __init__(self, site: Site) -> None:
        self.site = site

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        """Answer the home page (it works before the first snapshot too)."""
        summary: dict[str, Any] | None = None
        try:
            snapshot = self.site.store.current()
        except NoSnapshotError:
            snapshot = None
        if snapshot is not None:
            behaviors = snapshot.catalog["behaviors"]
            names = {b["id"]: b.get("name", b["id"]) for b in behaviors}
            summary = {
                "count": snapshot.count,
                "sequence": snapshot.sequence,
                "ipv4": snapshot.manifest.counts.get("ipv4", 0),
                "ipv6": snapshot.manifest.counts.get("ipv6", 0),
                "createdAt": snapshot.manifest.created_at,
                "behaviors": [
                    (b, names.get(b, b), n)
                    for b, n in top_groups(snapshot, "behavior:", 5)
                ],
            }
        self.site.render(req, resp, "home.html", summary=summary)


class LookupPage:
    """``GET /lookup?ip=``: the reputation of one address, explained."""

    web_page = True

    def __init__(self, site: Site) -> None:
        self.site = site
        self.per_minute = int(site.config.web_lookups_per_minute)

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        """Answer the lookup (or the empty form without ``ip``)."""
        ip = (req.get_param("ip") or "").strip()
        if not ip:
            self.site.render(req, resp, "lookup.html", ip="", result=None)
            return
        self.site.limit(req, "lookups", self.per_minute)
        snapshot = self.site.store.current()
        try:
            record = snapshot.lookup(ip)
        except InvalidAddressError as ex:
            self.site.render(
                req,
                resp,
                "lookup.html",
                status=400,
                code="invalid_address",
                error=str(ex),
                ip=ip[:100],
                result=None,
            )
            return
        result = check_payload(snapshot, ip, record)
        breakdown = score_breakdown(snapshot, record) if record is not None else []
        self.site.render(
            req,
            resp,
            "lookup.html",
            ip=result["ip"],
            result=result,
            breakdown=breakdown,
            components=COMPONENTS,
            reports=self._reports(result["ip"]),
        )

    def _reports(self, ip: str) -> list[dict[str, Any]]:
        """Return the newest community reports of ``ip``, comments redacted."""
        index = shared(ReportIndex, self.site.config.data_path)
        found = index.of_address(ipcore.to_ip16(ip), RECENT_REPORTS)
        return [
            {
                "category": r["category"],
                "protocol": r.get("protocol"),
                "comment": redact(r["comment"], subject=ip) if r.get("comment") else "",
                "reportedAt": iso(r["ts"] // 1000),
            }
            for r in found
        ]
