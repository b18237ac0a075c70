"""Turn aggregated evidence into scored records (a RecordTable).

Scores come from :mod:`sikker.builder.scoring` (vectorised), known-benign
discounts from :mod:`sikker.builder.benign`, country and ASN from
:mod:`sikker.builder.geo` (or from the evidence, for imported IPs that no
database knows).
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from sikker.builder import scoring
from sikker.builder.benign import BenignIndex, apply_discount
from sikker.builder.catalog import Catalog
from sikker.builder.evidence import Evidence
from sikker.builder.geo import Geo
from sikker.core.records import RecordDetails, RecordTable
from sikker.core.vocab import CATEGORIES, PROTOCOL_IDS, SEVERITY_LEVELS

_CATEGORY_IDS = {name: i + 1 for i, name in enumerate(CATEGORIES)}


@dataclass
class Scorer:
    """What it takes to score evidence: the catalog, benign ranges, geo."""

    catalog: Catalog
    benign: BenignIndex
    geo: Geo

    def __post_init__(self) -> None:
        self._behaviors = {b.id: i for i, b in enumerate(self.catalog.behaviors)}
        self._primitives = {p.id: i for i, p in enumerate(self.catalog.primitives)}
        self._levels = [SEVERITY_LEVELS[b.severity] for b in self.catalog.behaviors]
        self.catalog_snapshot = self.catalog.to_snapshot()

    def table(self, items: Sequence[tuple[bytes, Evidence]]) -> RecordTable:
        """Return the scored records of ``(ip16, evidence)`` pairs."""
        evidence = [ev for _, ev in items]
        details = [self._details(ev) for ev in evidence]
        scalars: dict[str, list[Any]] = {
            name: [getattr(ev, name, 0) for ev in evidence]
            for name in RecordTable.SCALARS
        }
        scalars["reporters"] = [ev.distinct_reporters for ev in evidence]
        scalars["country"] = [""] * len(evidence)
        table = RecordTable.from_rows(
            [ip16 for ip16, _ in items],
            scalars,
            details,
            catalog=self.catalog_snapshot,
            benign_sources=self.benign.snapshot_sources(),
        )
        raw = scoring.raw_scores(self._scoring_input(table, details))
        table.raw_score = raw
        table.benign_source = self.benign.lookup(table.ip)
        table.score = apply_discount(raw, table.benign_source, table.benign_sources)
        table.country, table.asn, table.asn_orgs = self.geo.lookup(table.ip)
        for row, ev in enumerate(evidence):  # imported IPs keep the geo they came with
            if ev.geo and not table.country[row] and not table.asn[row]:
                country, asn, org = ev.geo
                table.country[row] = (country or "").encode("ascii")
                table.asn[row] = asn or 0
                if asn and org:
                    table.asn_orgs.setdefault(int(asn), org)
        return table

    def _details(self, ev: Evidence) -> RecordDetails:
        behaviors, primitives = self._behaviors, self._primitives
        return RecordDetails(
            [(PROTOCOL_IDS[p], s, e) for p, (s, e) in ev.protocols.items()],
            [(behaviors[b], n) for b, n in ev.behaviors.items() if b in behaviors],
            [(primitives[p], n) for p, n in ev.primitives.items() if p in primitives],
            [(_CATEGORY_IDS[c], n) for c, n in ev.categories.items()],
        )

    def _scoring_input(
        self, table: RecordTable, details: list[RecordDetails]
    ) -> scoring.Evidence:
        severity_counts = np.zeros((len(table), 4), np.uint32)
        for row, record in enumerate(details):
            for index, _ in record.behaviors:
                severity_counts[row, self._levels[index] - 1] += 1
        return scoring.Evidence(
            sessions=table.sessions,
            events=table.events,
            protocols=np.diff(table.protocols.offsets).astype(np.uint32),
            severity_counts=severity_counts,
            behavior_matches=np.array(
                [sum(n for _, n in d.behaviors) for d in details], np.uint32
            ),
            primitives=np.diff(table.primitives.offsets).astype(np.uint32),
            reports=table.reports,
            reporters=table.reporters,
        )
