"""Whole-snapshot counts: histograms, group sizes, best rows, with overlays."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sikker.builder import demo
from sikker.builder.publish import Publisher
from sikker.builder.writer import Overlay
from sikker.core.filters import BlacklistQuery
from sikker.core.landscape import (
    best_rows,
    bitmap_count,
    score_histogram,
    top_groups,
)
from sikker.core.layout import current_path
from sikker.core.records import RecordTable
from sikker.core.snapshot import Snapshot

ALL = 1 << 32


def brute_histogram(snapshot: Snapshot, query: BlacklistQuery) -> list[int]:
    """Count the rows a blacklist of ``query`` at any score holds, by bucket."""
    rows = snapshot.blacklist(
        BlacklistQuery(**{**vars(query), "score_minimum": 0, "limit": ALL})
    )
    scores = snapshot.summaries(rows)["score"].astype(int)
    return np.bincount(np.minimum(scores // 10, 9), minlength=10).tolist()


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> tuple[Snapshot, Snapshot]:
    """A base with an overlay (changed, new and removed IPs), and its full rebuild."""
    base = demo.generate(3000, seed=21, now=1_800_000_000)
    layered, full = (tmp_path_factory.mktemp(n) for n in ("layered", "full"))
    with Publisher(layered) as publisher:
        publisher.publish(base)
    rng = np.random.default_rng(5)
    n = len(base)
    changed = rng.choice(n, 250, replace=False)
    others = np.setdiff1d(np.arange(n), changed)
    removed = rng.choice(others, 40, replace=False)
    update = base.take(changed)
    update.score = rng.integers(0, 101, len(update)).astype(np.uint8)
    update.country = rng.permutation(update.country)
    with Publisher(layered) as publisher, Snapshot.open(current_path(layered)) as b:
        publisher.publish(update, overlay=Overlay(b.top, base.ip[removed]))
    survivors = np.setdiff1d(others, removed)
    with Publisher(full) as publisher:
        publisher.publish(RecordTable.concat([base.take(survivors), update]))
    return Snapshot.open(current_path(layered)), Snapshot.open(current_path(full))


def test_the_layered_snapshot_really_has_an_overlay(pair) -> None:  # type: ignore[no-untyped-def]
    layered, full = pair
    assert layered.base is not None and full.base is None
    assert layered.count == full.count


@settings(max_examples=25, deadline=None)
@given(
    score=st.integers(0, 100),
    protocols=st.lists(st.integers(0, 15), max_size=2),
    version=st.sampled_from([None, 4, 6]),
    limit=st.integers(1, 4000),
    countries=st.lists(st.sampled_from(["CN", "US", "RU", "BR", "DE"]), max_size=2),
)
def test_histograms_count_the_rows_a_blacklist_would_hold(  # type: ignore[no-untyped-def]
    pair, score, protocols, version, limit, countries
) -> None:
    query = BlacklistQuery(
        score_minimum=score,
        protocols=tuple(protocols),
        ip_version=version,
        limit=limit,
        only_countries=tuple(countries),
    )
    for snapshot in pair:
        histogram = score_histogram(snapshot, query)
        assert histogram.buckets == brute_histogram(snapshot, query)
        assert histogram.count == len(snapshot.blacklist(query))
        assert histogram.matching == len(
            snapshot.blacklist(BlacklistQuery(**{**vars(query), "limit": ALL}))
        )
    assert score_histogram(pair[0], query) == score_histogram(pair[1], query)


def test_the_histogram_buckets_are_ten_points_wide_and_the_last_holds_100(
    pair,  # type: ignore[no-untyped-def]
) -> None:
    public = score_histogram(pair[0], BlacklistQuery(score_minimum=0)).public()
    edges = [(b["from"], b["to"]) for b in public["buckets"]]
    assert edges[0] == (0, 9) and edges[-1] == (90, 100) and len(edges) == 10


def test_group_counts_with_an_overlay_match_the_full_rebuild(pair) -> None:  # type: ignore[no-untyped-def]
    layered, full = pair
    names = [n for n in full.top.bitmap_sizes if not n.startswith("tomb")]
    assert names
    for name in names:
        assert bitmap_count(layered, name) == bitmap_count(full, name), name
        assert bitmap_count(full, name) == full.top.bitmap_sizes[name]
    assert bitmap_count(layered, "country:ZZ") == 0


@pytest.mark.parametrize(
    ("prefix", "k"), [("country:", 5), ("asn:", 7), ("behavior:", 10), ("protocol:", 3)]
)
def test_top_groups_are_exact_with_an_overlay(pair, prefix: str, k: int) -> None:  # type: ignore[no-untyped-def]
    layered, full = pair
    expected = sorted(
        (
            (n[len(prefix) :], size)
            for n, size in full.top.bitmap_sizes.items()
            if n.startswith(prefix)
        ),
        key=lambda item: (-item[1], item[0]),
    )[:k]
    assert top_groups(layered, prefix, k) == expected
    assert top_groups(full, prefix, k) == expected
    assert top_groups(layered, prefix, 0) == []


def test_best_rows_are_the_best_of_the_group_in_blacklist_order(pair) -> None:  # type: ignore[no-untyped-def]
    layered, full = pair
    behavior = top_groups(full, "behavior:", 1)[0][0]
    name = f"behavior:{behavior}"
    mine, theirs = best_rows(layered, name, 8), best_rows(full, name, 8)
    assert mine == theirs and len(mine) == 8
    scores = [(r["score"], r["lastSeen"]) for r in mine]
    assert scores == sorted(scores, reverse=True)
    for row in mine:
        record = layered.lookup(row["ip"])
        assert record is not None and record.score == row["score"]
        index = next(
            i for i, b in enumerate(layered.catalog["behaviors"]) if b["id"] == behavior
        )
        assert index in {i for i, _ in record.details().behaviors}
