"""Overlays: an incremental generation on a base reads like a full rebuild."""

import shutil
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sikker.builder import demo
from sikker.builder.importer import table_from_records
from sikker.builder.publish import Publisher
from sikker.builder.writer import Delta, Overlay
from sikker.core import ipcore
from sikker.core.filters import BlacklistQuery
from sikker.core.layout import SNAPSHOTS, current_path, published_sequences
from sikker.core.records import RecordTable
from sikker.core.snapshot import Snapshot
from sikker.errors import BuildError
from tests.factories import BENIGN, CATALOG, RECORDS, table

CHANGED = {
    **RECORDS[5],
    "score": 95,
    "lastSeen": "2026-11-22T12:00:00Z",
}  # 203.0.113.11
NEW = {
    "ip": "198.51.100.99",
    "score": 92,
    "country": "DE",
    "asn": 3320,
    "asnOrg": "Deutsche Telekom",
    "lastSeen": "2026-11-22T11:00:00Z",
    "sessions": 4,
    "protocols": {"smb": {"sessions": 4, "events": 12}},
}
REMOVED = "198.51.100.20"


@pytest.fixture
def layered(tmp_path: Path) -> Snapshot:
    with Publisher(tmp_path) as publisher:
        publisher.publish(table(RECORDS))
        with Snapshot.open(current_path(tmp_path)) as base:
            publisher.publish(
                table([CHANGED, NEW]),
                overlay=Overlay(
                    base.top,
                    np.frombuffer(ipcore.to_ip16(REMOVED), np.uint8).reshape(1, 16),
                ),
                delta=Delta(1, np.zeros((0, 16), np.uint8)),
            )
    snapshot = Snapshot.open(current_path(tmp_path))
    return snapshot


def full_rebuild(tmp_path: Path, records: list[dict]) -> Snapshot:
    path = tmp_path / "full"
    with Publisher(path) as publisher:
        publisher.publish(table(records))
    return Snapshot.open(current_path(path))


EXPECTED = [r for r in RECORDS if r["ip"] not in (REMOVED, CHANGED["ip"])] + [
    CHANGED,
    NEW,
]


def test_overlay_lookups_see_changes_removals_and_the_base(layered: Snapshot) -> None:
    assert layered.base is not None and layered.sequence == 2
    assert layered.lookup(CHANGED["ip"]).score == 95
    assert layered.lookup(NEW["ip"]).score == 92
    assert layered.lookup(REMOVED) is None
    assert layered.lookup("203.0.113.10").score == 97  # untouched, from the base


def test_overlay_counts_are_what_readers_see(layered: Snapshot) -> None:
    assert layered.manifest.counts == {"ips": 6, "ipv4": 5, "ipv6": 1}
    assert layered.manifest.rows == 2 and layered.manifest.base == 1


def test_overlay_country_indexes_extend_the_base(layered: Snapshot) -> None:
    assert layered.countries[: len(layered.base.countries)] == layered.base.countries
    new = layered.lookup(NEW["ip"])
    assert layered.countries[new.country] == "DE"


def test_overlay_reads_like_a_full_rebuild(layered: Snapshot, tmp_path: Path) -> None:
    with full_rebuild(tmp_path, EXPECTED) as full:
        everything = BlacklistQuery(score_minimum=0, limit=100)
        assert layered.ip_texts(layered.blacklist(everything)) == full.ip_texts(
            full.blacklist(everything)
        )
        assert [(ip, r.score) for ip, r in layered.records()] == [
            (ip, r.score) for ip, r in full.records()
        ]
        assert [ip for ip, _ in layered.lookup_block("203.0.113.0/24")] == [
            "203.0.113.10",
            "203.0.113.11",
        ]
        assert layered.lookup_block("198.51.100.0/24")[0][0] == "198.51.100.99"


def test_base_stays_while_its_overlay_is_current(tmp_path: Path) -> None:
    with Publisher(tmp_path, keep=1) as publisher:
        publisher.publish(table(RECORDS))
        for score in (80, 81, 82):
            with Snapshot.open(current_path(tmp_path)) as now:
                base = now.base or now.top
                publisher.publish(
                    table([{**NEW, "score": score}]), overlay=Overlay(base)
                )
    assert published_sequences(tmp_path) == [1, 4]
    with Snapshot.open(current_path(tmp_path)) as snap:
        assert snap.lookup(NEW["ip"]).score == 82
    assert not (tmp_path / SNAPSHOTS / "0000000002").exists()


def test_an_overlay_with_another_catalog_is_refused(tmp_path: Path) -> None:
    other = {**CATALOG, "behaviors": CATALOG["behaviors"][:1]}
    with Publisher(tmp_path) as publisher:
        publisher.publish(table(RECORDS))
        with Snapshot.open(current_path(tmp_path)) as base, pytest.raises(BuildError):
            publisher.publish(
                table_from_records([{"ip": "192.0.2.1", "score": 1}], other, BENIGN),
                overlay=Overlay(base.top),
            )


# -- property: any overlay reads exactly like the full rebuild ----------------------


@pytest.fixture(scope="module")
def demo_base(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, RecordTable]:
    data = tmp_path_factory.mktemp("base")
    base = demo.generate(3000, seed=9, now=1_800_000_000)
    with Publisher(data) as publisher:
        publisher.publish(base)
    return data, base


@settings(max_examples=15, deadline=None)
@given(data=st.data())
def test_any_overlay_reads_like_the_full_rebuild(
    demo_base: tuple[Path, RecordTable],
    tmp_path_factory: pytest.TempPathFactory,
    data: st.DataObject,
) -> None:
    path, base = demo_base
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    n = len(base)
    changed = rng.choice(n, data.draw(st.integers(0, 300)), replace=False)
    others = np.setdiff1d(np.arange(n), changed)
    removed = rng.choice(others, data.draw(st.integers(0, 50)), replace=False)
    update = base.take(changed)
    update.score = rng.integers(0, 101, len(update)).astype(np.uint8)
    update.last_seen += rng.integers(0, 3, len(update)).astype(np.uint32)  # many ties
    fresh = demo.generate(40, seed=int(rng.integers(1000, 2000)), now=1_800_000_000)
    known = {bytes(ip) for ip in base.ip}
    fresh = fresh.take(np.flatnonzero([bytes(ip) not in known for ip in fresh.ip]))
    overlay = RecordTable.concat([update, fresh])

    layered, full = (tmp_path_factory.mktemp(name) for name in ("layered", "full"))
    shutil.copytree(path, layered, dirs_exist_ok=True)
    with Publisher(layered) as publisher, Snapshot.open(current_path(layered)) as b:
        publisher.publish(overlay, overlay=Overlay(b.top, base.ip[removed]))
    survivors = np.setdiff1d(others, removed)
    with Publisher(full) as publisher:
        publisher.publish(RecordTable.concat([base.take(survivors), overlay]))

    query = BlacklistQuery(
        score_minimum=data.draw(st.integers(0, 100)),
        protocols=tuple(data.draw(st.lists(st.integers(0, 15), max_size=2))),
        ip_version=data.draw(st.sampled_from([None, 4, 6])),
        limit=data.draw(st.integers(1, 4000)),
    )
    with (
        Snapshot.open(current_path(layered)) as mine,
        Snapshot.open(current_path(full)) as theirs,
    ):
        assert mine.manifest.counts == theirs.manifest.counts
        assert mine.ip_texts(mine.blacklist(query)) == theirs.ip_texts(
            theirs.blacklist(query)
        )


def test_ties_between_overlay_and_base_are_ordered_by_address(tmp_path: Path) -> None:
    tied = {"score": 91, "lastSeen": "2026-11-19T00:00:00Z"}  # as 198.51.100.20
    before = {"ip": "198.51.100.5", **tied}
    after = {"ip": "198.51.100.30", **tied}
    with Publisher(tmp_path) as publisher:
        publisher.publish(table(RECORDS))
        with Snapshot.open(current_path(tmp_path)) as base:
            publisher.publish(table([before, after]), overlay=Overlay(base.top))
    with Snapshot.open(current_path(tmp_path)) as snap:
        assert snap.ip_texts(snap.blacklist(BlacklistQuery(score_minimum=91))) == [
            "203.0.113.10",
            "2001:db8::7",
            "198.51.100.5",
            "198.51.100.20",
            "198.51.100.30",
        ]


def test_a_snapshot_reads_back_into_the_same_table(
    layered: Snapshot, tmp_path: Path
) -> None:
    from sikker.builder.unpack import table_from_snapshot

    again = tmp_path / "again"
    with Publisher(again) as publisher:
        publisher.publish(table_from_snapshot(layered))
    with Snapshot.open(current_path(again)) as copy:
        assert copy.manifest.counts == layered.manifest.counts
        everything = layered.everything()
        assert copy.ip_texts(copy.everything()) == layered.ip_texts(everything)
        for ip in layered.ip_texts(everything):
            assert comparable(copy, ip) == comparable(layered, ip)


def comparable(snapshot: Snapshot, ip: str) -> tuple:
    """Return a record's content, without generation-local row/country indexes."""
    record = snapshot.lookup(ip)
    assert record is not None
    content = record._replace(row=0, country=0, buf=b"")
    return content, snapshot.countries[record.country], record.details()
