"""Counts over a whole snapshot: score histograms and the largest groups.

What the web pages chart, read from the snapshot's bitmaps and row order
rather than from its records:

* :func:`score_histogram`: how many rows a blacklist query matches in each
  10-point confidence bucket. Rows are ordered by confidence, so each
  bucket is a row range; the query's matching rows (its bitmaps
  intersected, without the score cut) are counted per range.
* :func:`bitmap_count`: the rows of one bitmap (``country:CN``,
  ``behavior:<id>``) as readers see them: the base's, less the rows an
  overlay replaced (its tombstones), plus the overlay's own.
* :func:`top_groups`: the largest bitmaps of one kind (countries, ASNs,
  behaviors), exact, loading only the bitmaps needed to be sure of the
  ranking.
"""

import heapq
import itertools
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from pyroaring import FrozenBitMap

from sikker.core import ipcore
from sikker.core.filters import BlacklistQuery
from sikker.core.generation import Generation
from sikker.core.snapshot import TOMBSTONES, Snapshot

#: Width of a histogram bucket, in confidence points.
BUCKET = 10
#: Buckets: 0-9, 10-19, ..., 80-89 and 90-100.
BUCKETS = 10
_ALL = 1 << 32


@dataclass(frozen=True)
class Histogram:
    """Rows a query matches by confidence bucket, and at its score cut.

    ``buckets[i]`` counts confidence ``10*i`` to ``10*i + 9`` (the last
    bucket also holds 100), ignoring the query's ``score_minimum``;
    ``matching`` counts the rows at or above ``score_minimum``; ``count`` is
    what a blacklist of the query returns (``matching`` cut to ``limit``).
    """

    buckets: list[int]
    matching: int
    count: int

    def public(self) -> dict[str, Any]:
        """Return the histogram as JSON-ready camelCase fields."""
        return {
            "buckets": [
                {
                    "from": i * BUCKET,
                    "to": 100 if i == BUCKETS - 1 else i * BUCKET + BUCKET - 1,
                    "count": n,
                }
                for i, n in enumerate(self.buckets)
            ],
            "matching": self.matching,
            "count": self.count,
        }


def _layer_rows(
    snapshot: Snapshot, query: BlacklistQuery
) -> list[tuple[Generation, np.ndarray]]:
    """Return each layer with its rows matching ``query`` at any score."""
    everything = replace(query, score_minimum=0, limit=_ALL)
    if snapshot.base is None:
        return [(snapshot.top, snapshot.top.select(everything))]
    tombstones = snapshot.top.bitmap(TOMBSTONES)
    return [
        (snapshot.base, snapshot.base.select(everything, exclude=tombstones)),
        (snapshot.top, snapshot.top.select(everything)),
    ]


def score_histogram(snapshot: Snapshot, query: BlacklistQuery) -> Histogram:
    """Return the confidence histogram of the rows ``query`` matches."""
    at_least = np.zeros(102, np.int64)  # at_least[s]: matching rows scoring >= s
    for layer, rows in _layer_rows(snapshot, query):
        cuts = np.array([layer.rows_at_least(s) for s in range(101)], np.int64)
        at_least[:101] += np.searchsorted(rows, cuts, side="left")
    edges = [i * BUCKET for i in range(BUCKETS)] + [101]
    buckets = [int(at_least[a] - at_least[b]) for a, b in itertools.pairwise(edges)]
    matching = int(at_least[query.score_minimum])
    return Histogram(buckets, matching, min(matching, query.limit))


def bitmap_count(snapshot: Snapshot, name: str) -> int:
    """Return how many listed rows the bitmap ``name`` holds, overlay applied."""
    if snapshot.base is None:
        return snapshot.top.bitmap_sizes.get(name, 0)
    return _base_count(snapshot, name, snapshot.top.bitmap(TOMBSTONES)) + (
        snapshot.top.bitmap_sizes.get(name, 0)
    )


def _base_count(snapshot: Snapshot, name: str, tombstones: FrozenBitMap) -> int:
    base = snapshot.base
    assert base is not None
    size = base.bitmap_sizes.get(name, 0)
    if not size or not tombstones:
        return size
    return size - base.bitmap(name).intersection_cardinality(tombstones)


def top_groups(snapshot: Snapshot, prefix: str, k: int) -> list[tuple[str, int]]:
    """Return the ``k`` largest bitmaps named ``<prefix><value>``, largest first.

    Returns ``(value, rows)`` pairs; ties are ordered by value. Candidates
    are ranked by an upper bound (base size plus overlay size); exact counts
    are computed in that order until no remaining bound can enter the top.
    """
    if k <= 0:
        return []
    bounds: dict[str, int] = {}
    for layer in snapshot.layers:
        for name, size in layer.bitmap_sizes.items():
            if name.startswith(prefix):
                bounds[name] = bounds.get(name, 0) + size
    ranked = sorted(bounds.items(), key=lambda item: (-item[1], item[0]))
    best: list[int] = []  # a min-heap of the k largest exact counts so far
    exact: list[tuple[int, str]] = []
    for name, bound in ranked:
        if len(best) >= k and bound < best[0]:
            break  # every remaining candidate is smaller than the k-th
        count = bitmap_count(snapshot, name)
        if count:
            exact.append((count, name))
            heapq.heappush(best, count)
            if len(best) > k:
                heapq.heappop(best)
    exact.sort(key=lambda item: (-item[0], item[1]))
    return [(name[len(prefix) :], count) for count, name in exact[:k]]


def best_rows(snapshot: Snapshot, name: str, k: int) -> list[dict[str, Any]]:
    """Return the ``k`` highest-scoring listed IPs in the bitmap ``name``.

    Each is ``{"ip", "score", "countryCode", "asn", "lastSeen"}`` (last seen
    in epoch seconds), in blacklist order: confidence, recency, address.
    """
    picks: list[tuple[int, int, bytes, int, int]] = []
    for layer in snapshot.layers:
        rows: Any = layer.bitmap(name)
        if layer is snapshot.base:
            rows = rows - snapshot.top.bitmap(TOMBSTONES)
        for row in itertools.islice(rows, k):
            summary = layer.summary[row]
            picks.append(
                (
                    -int(summary["score"]),
                    -int(summary["last_seen"]),
                    layer.ip16(row),
                    int(summary["country"]),
                    int(summary["asn"]),
                )
            )
    picks.sort()
    codes = snapshot.countries
    return [
        {
            "ip": ipcore.from_ip16(ip16),
            "score": -score,
            "countryCode": (codes[country] if country < len(codes) else "") or None,
            "asn": asn or None,
            "lastSeen": -last_seen,
        }
        for score, last_seen, ip16, country, asn in picks[:k]
    ]


def snapshot_stats(snapshot: Snapshot) -> dict[str, Any]:
    """Return the activity statistics the builder recorded, newest layer first.

    ``{"days": {"YYYY-MM-DD": {protocol: sessions}}, "usernames": {name:
    attempts}, "examples": {primitive id: [sanitised values]}}``; empty
    when the snapshot holds none (docs/snapshot-format.md).
    """
    for layer in reversed(snapshot.layers):
        if layer.stats:
            return dict(layer.stats)
    return {}
