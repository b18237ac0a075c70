"""The threat catalog pages: ``/catalog`` and ``/catalog/{behavior_id}``.

Read from the served snapshot's own copy of the catalog (the builder writes
it into every snapshot), so the pages describe exactly what the scores were
computed with. Match counts are the listed IPs in each ``behavior:<id>``
and ``primitive:<id>`` bitmap (:func:`~sikker.core.landscape.bitmap_count`).
A behavior's page shows the IPs that match it best and, when the builder
recorded them, sanitised examples of the evidence its primitives matched.
"""

from typing import Any

import falcon

from sikker.core.landscape import best_rows, bitmap_count, snapshot_stats
from sikker.core.snapshot import Snapshot
from sikker.core.vocab import PROTOCOLS, SEVERITIES, SEVERITY_LEVELS
from sikker.server.web.site import Site

#: IPs a behavior page lists.
BEST = 10


def _counted(
    snapshot: Snapshot, kind: str, entries: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Return catalog entries with ``ips``: the listed IPs that matched each."""
    return [{**e, "ips": bitmap_count(snapshot, f"{kind}:{e['id']}")} for e in entries]


class CatalogPage:
    """``GET /catalog``: every behavior and primitive, with match counts."""

    web_page = True

    def __init__(self, site: Site) -> None:
        self.site = site

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        """Answer the catalog; ``severity`` and ``protocol`` narrow it down."""
        severity = (req.get_param("severity") or "").strip().lower()
        protocol = (req.get_param("protocol") or "").strip().lower()
        error = None
        if severity and severity not in SEVERITY_LEVELS:
            error, severity = f"severity: unknown value {severity[:30]!r}", ""
        if protocol and protocol not in PROTOCOLS:
            error, protocol = f"protocol: unknown value {protocol[:30]!r}", ""
        snapshot = self.site.store.current()
        catalog = snapshot.catalog
        behaviors = [
            b
            for b in _counted(snapshot, "behavior", catalog["behaviors"])
            if (not severity or b["severity"] == severity)
            and (not protocol or protocol in b.get("protocols", ()))
        ]
        behaviors.sort(key=lambda b: (-SEVERITY_LEVELS[b["severity"]], b["id"]))
        used = {p for b in behaviors for p in (*b.get("all", ()), *b.get("any", ()))}
        primitives = [
            p
            for p in _counted(snapshot, "primitive", catalog["primitives"])
            if (not protocol or protocol in p.get("protocols", ()))
            and (not severity or p["id"] in used)
        ]
        self.site.render(
            req,
            resp,
            "catalog.html",
            error=error,
            behaviors=behaviors,
            primitives=primitives,
            severity=severity,
            protocol=protocol,
            severities=SEVERITIES,
            protocols=PROTOCOLS,
            primitive_counts=any(
                n.startswith("primitive:") for n in snapshot.top.bitmap_sizes
            ),
        )


class BehaviorPage:
    """``GET /catalog/{behavior_id}``: one behavior, its primitives and evidence."""

    web_page = True

    def __init__(self, site: Site) -> None:
        self.site = site

    def on_get(
        self, req: falcon.Request, resp: falcon.Response, behavior_id: str
    ) -> None:
        """Answer the behavior's page; 404 for an id the catalog lacks."""
        snapshot = self.site.store.current()
        catalog = snapshot.catalog
        behavior = next(
            (b for b in catalog["behaviors"] if b["id"] == behavior_id), None
        )
        if behavior is None:
            raise falcon.HTTPNotFound(
                title="not found",
                description=f"the catalog has no behavior {behavior_id[:80]!r}",
            )
        by_id = {p["id"]: p for p in catalog["primitives"]}
        examples = snapshot_stats(snapshot).get("examples", {})
        parts = [
            {
                **by_id.get(pid, {"id": pid, "description": ""}),
                "required": pid in behavior.get("all", ()),
                "examples": examples.get(pid, []),
            }
            for pid in (*behavior.get("all", ()), *behavior.get("any", ()))
        ]
        name = f"behavior:{behavior['id']}"
        self.site.render(
            req,
            resp,
            "behavior.html",
            behavior=behavior,
            parts=parts,
            ips=bitmap_count(snapshot, name),
            best=best_rows(snapshot, name, BEST),
            orgs=snapshot.asn_orgs,
        )
