"""``GET /landscape``: charts of what the honeypots and reporters see.

From the served snapshot: the confidence histogram, the countries,
networks, behaviors, protocols and report categories with the most listed
IPs (bitmap sizes, :mod:`sikker.core.landscape`); from the statistics the
builder records with each snapshot: sessions per protocol per day and the
usernames tried most. Computed once per snapshot sequence per worker.
"""

import threading
from typing import Any

import falcon

from sikker.core.filters import BlacklistQuery
from sikker.core.landscape import (
    bitmap_count,
    score_histogram,
    snapshot_stats,
    top_groups,
)
from sikker.core.snapshot import Snapshot
from sikker.core.vocab import CATEGORIES, PROTOCOLS, countries
from sikker.server.web import charts
from sikker.server.web.site import Site

TOP = 10
#: Days the activity chart covers, and protocols drawn as their own line.
DAYS, LINES = 30, 6
USERNAMES = 15


def activity(stats: dict[str, Any]) -> dict[str, Any] | None:
    """Return the line chart of sessions per protocol over the recorded days."""
    days = sorted(stats.get("days", {}))[-DAYS:]
    if not days:
        return None
    per_day = [stats["days"][d] for d in days]
    totals: dict[str, int] = {}
    for counts in per_day:
        for protocol, n in counts.items():
            totals[protocol] = totals.get(protocol, 0) + int(n)
    leaders = sorted(totals, key=lambda p: (-totals[p], p))[:LINES]
    series = {p: [int(c.get(p, 0)) for c in per_day] for p in leaders}
    if len(totals) > LINES:
        series["other"] = [
            sum(int(n) for p, n in c.items() if p not in leaders) for c in per_day
        ]
    return charts.lines(days, series)


class LandscapePage:
    """Render the landscape (see the module docstring)."""

    web_page = True

    def __init__(self, site: Site) -> None:
        self.site = site
        self._cached: tuple[int, dict[str, Any]] | None = None
        self._lock = threading.Lock()

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        """Answer the charts of the current snapshot."""
        snapshot = self.site.store.current()
        with self._lock:
            cached = self._cached
            if cached is None or cached[0] != snapshot.sequence:
                cached = self._cached = (snapshot.sequence, self._charts(snapshot))
        self.site.render(req, resp, "landscape.html", **cached[1])

    def _charts(self, snapshot: Snapshot) -> dict[str, Any]:
        names = countries()
        behaviors = {
            b["id"]: b.get("name", b["id"]) for b in snapshot.catalog["behaviors"]
        }
        orgs = snapshot.asn_orgs
        everything = BlacklistQuery(score_minimum=0, limit=max(snapshot.count, 1))
        histogram = score_histogram(snapshot, everything).public()
        protocols = sorted(
            ((p, bitmap_count(snapshot, f"protocol:{p}")) for p in PROTOCOLS),
            key=lambda item: -item[1],
        )
        reported = sorted(
            ((c, bitmap_count(snapshot, f"category:{c}")) for c in CATEGORIES),
            key=lambda item: -item[1],
        )
        stats = snapshot_stats(snapshot)
        tried = sorted(
            stats.get("usernames", {}).items(), key=lambda item: (-item[1], item[0])
        )[:USERNAMES]
        return {
            "sequence": snapshot.sequence,
            "listed": snapshot.count,
            "histogram": charts.histogram(histogram["buckets"], 0),
            "countries": charts.hbars(
                [
                    (f"{names.get(c, c)} ({c})", n, f"/export?onlyCountries={c}")
                    for c, n in top_groups(snapshot, "country:", TOP)
                ]
            ),
            "networks": charts.hbars(
                [
                    (f"AS{a} {orgs.get(a, '')}".strip(), n, f"/export?onlyAsn=AS{a}")
                    for a, n in top_groups(snapshot, "asn:", TOP)
                ]
            ),
            "behaviors": charts.hbars(
                [
                    (behaviors.get(b, b), n, f"/catalog/{b}")
                    for b, n in top_groups(snapshot, "behavior:", TOP)
                ]
            ),
            "protocols": charts.hbars([(p, n) for p, n in protocols if n]),
            "categories": charts.hbars([(c, n) for c, n in reported if n]),
            "activity": activity(stats),
            "usernames": charts.hbars([(u, int(n)) for u, n in tried]),
        }
