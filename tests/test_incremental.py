"""From events to published scores: the aggregator and the incremental builder."""

from pathlib import Path
from typing import Any

import pytest

from sikker.builder.incremental import IncrementalBuilder
from sikker.builder.publish import Publisher
from sikker.core.config import load_config
from sikker.core.eventlog import EventLog
from sikker.core.layout import EVENTS_DIR, current_path
from sikker.core.snapshot import Snapshot
from sikker.errors import BuildError
from tests.factories import build

T0 = 1_795_000_000_000  # epoch ms


def session(
    ip: str, sid: str, commands: list[str], t: int = T0, **extra: Any
) -> list[dict]:
    """Return a realistic SSH session as generic events."""
    base = {"sensor": "hp-1", "session": sid, "src_ip": ip, "protocol": "ssh", **extra}
    events = [
        {**base, "ts": t, "event": "connect", "dst_port": 22},
        {
            **base,
            "ts": t + 10,
            "event": "login_failed",
            "username": "root",
            "password": "123456",
        },
        {
            **base,
            "ts": t + 20,
            "event": "login_success",
            "username": "Root",
            "password": "admin",
        },
    ]
    events += [
        {**base, "ts": t + 30 + i, "event": "command", "command": c}
        for i, c in enumerate(commands)
    ]
    return [*events, {**base, "ts": t + 99, "event": "close", "duration_ms": 99}]


PERSISTENCE = [
    "uname -a",
    "cd ~; chattr -ia .ssh; lockr -ia .ssh",
    "echo 'ssh-rsa AAAAB3NzaC1yc2E mdrfckr' >> ~/.ssh/authorized_keys",
]


def builder_for(data: Path, **settings: Any) -> IncrementalBuilder:
    config = load_config(environ={}, overrides={"data_dir": str(data), **settings})
    return IncrementalBuilder(data, config)


def append(data: Path, events: list[dict]) -> None:
    with EventLog(data / EVENTS_DIR) as log:
        log.append(events)


def current(data: Path) -> Snapshot:
    return Snapshot.open(current_path(data))


def full_build(data: Path, **settings: Any) -> None:
    builder = builder_for(data, **settings)
    try:
        with Publisher(data) as publisher:
            builder.catch_up(publisher)
            builder.publish(publisher, [], full=True)
    finally:
        builder.close()


def test_a_session_becomes_a_scored_record(tmp_path: Path) -> None:
    append(tmp_path, session("45.33.12.7", "a1", PERSISTENCE))
    full_build(tmp_path)
    with current(tmp_path) as snap:
        record = snap.lookup("45.33.12.7")
        assert record is not None
        assert (record.sessions, record.events) == (1, 7)
        behaviors = {snap.catalog["behaviors"][i]["id"] for i, _ in record.behaviors}
        assert "ssh-key-persistence-chattr" in behaviors
        assert record.max_severity == 4 and record.score >= 80  # critical floor
        assert snap.username("root")["total"] == 2  # case-insensitive


def test_a_behavior_counts_once_per_session_however_often_it_matches(
    tmp_path: Path,
) -> None:
    append(tmp_path, session("45.33.12.7", "a1", PERSISTENCE * 3))
    append(tmp_path, session("45.33.12.7", "a2", PERSISTENCE, t=T0 + 5000))
    full_build(tmp_path)
    with current(tmp_path) as snap:
        record = snap.lookup("45.33.12.7")
        counts = {snap.catalog["behaviors"][i]["id"]: n for i, n in record.behaviors}
        assert counts["ssh-key-persistence-chattr"] == 2 and record.sessions == 2


def test_reports_count_distinct_reporters_and_dedupe_15_minutes(tmp_path: Path) -> None:
    def report(who: str, minutes: int) -> dict:
        return {
            "event": "report",
            "src_ip": "45.33.12.8",
            "reporter": who,
            "category": "brute_force",
            "ts": T0 + minutes * 60_000,
        }

    append(tmp_path, [report("a", 0), report("a", 5), report("b", 1), report("a", 20)])
    full_build(tmp_path)
    with current(tmp_path) as snap:
        record = snap.lookup("45.33.12.8")
        assert (record.reports, record.reporters) == (3, 2)
        assert record.categories == [(1, 3)]


def test_follow_steps_publish_overlays_with_only_the_changes(tmp_path: Path) -> None:
    append(tmp_path, session("45.33.12.7", "a1", PERSISTENCE))
    full_build(tmp_path)
    builder = builder_for(tmp_path)
    try:
        with Publisher(tmp_path) as publisher:
            assert builder.step(publisher).events == 0
            builder.log.append(session("45.33.12.9", "b1", ["uname -a"]))
            result = builder.step(publisher)
    finally:
        builder.close()
    assert result.events == 5 and result.manifest is not None
    assert result.manifest.base == 1 and result.manifest.rows == 1
    assert result.manifest.delta == {"from": 1, "count": 1}
    with current(tmp_path) as snap:
        assert snap.count == 2
        assert snap.lookup("45.33.12.9").sessions == 1
        assert snap.lookup("45.33.12.7").sessions == 1  # still there, from the base


def test_new_evidence_adds_to_an_imported_record(tmp_path: Path) -> None:
    build(tmp_path)  # 203.0.113.10 has 120 sessions in the imported base
    append(tmp_path, session("203.0.113.10", "c1", ["uname -a"]))
    builder = builder_for(tmp_path, accept_private_sources=True)
    try:
        with Publisher(tmp_path) as publisher:
            builder.step(publisher)
    finally:
        builder.close()
    with current(tmp_path) as snap:
        record = snap.lookup("203.0.113.10")
        assert record.sessions == 121
        assert (record.reports, record.reporters) == (4, 3)
        assert snap.countries[record.country] == "CN"


def test_a_growing_overlay_is_compacted_into_a_new_base(tmp_path: Path) -> None:
    append(tmp_path, session("45.33.12.7", "a1", ["uname -a"]))
    full_build(tmp_path)
    builder = builder_for(tmp_path, overlay_max_ips=2)
    try:
        with Publisher(tmp_path) as publisher:
            for i in range(4):
                builder.log.append(session(f"45.33.13.{i}", f"d{i}", ["uname -a"]))
                manifest = builder.step(publisher).manifest
                assert manifest is not None
                assert (manifest.base is None) == (i == 2)  # 3 changed IPs > 2
    finally:
        builder.close()
    with current(tmp_path) as snap:
        assert snap.count == 5 and snap.base is not None
        assert snap.top.rows == 1  # only the change after the compaction


def test_building_without_any_evidence_says_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(BuildError, match="event log is empty"):
        full_build(tmp_path)


def test_the_cursor_advances_with_the_state(tmp_path: Path) -> None:
    append(tmp_path, session("45.33.12.7", "a1", ["uname -a"]))
    full_build(tmp_path)
    full_build(tmp_path)  # nothing new: the same evidence, not double counted
    with current(tmp_path) as snap:
        assert snap.lookup("45.33.12.7").sessions == 1


def test_geolocation_comes_from_the_configured_databases(tmp_path: Path) -> None:
    from mmdb_writer import MmdbU32

    from tests.test_geo import write_db

    city = write_db(
        tmp_path / "city.mmdb",
        "GeoLite2-City",
        {"45.33.0.0/16": {"country": {"iso_code": "NL"}}},
    )
    asn = write_db(
        tmp_path / "asn.mmdb",
        "GeoLite2-ASN",
        {
            "45.33.0.0/16": {
                "autonomous_system_number": MmdbU32(64500),
                "autonomous_system_organization": "Example Hosting",
            }
        },
    )
    data = tmp_path / "data"
    append(data, session("45.33.12.7", "g1", ["uname -a"]))
    append(data, session("46.1.2.3", "g2", ["uname -a"]))
    full_build(data, geoip_country_db=city, geoip_asn_db=asn)
    with current(data) as snap:
        known = snap.lookup("45.33.12.7")
        assert snap.countries[known.country] == "NL" and known.asn == 64500
        assert snap.asn_orgs["64500"] == "Example Hosting"
        unknown = snap.lookup("46.1.2.3")  # outside the databases: null, no failure
        assert snap.countries[unknown.country] == "" and unknown.asn == 0


def test_follow_compacts_in_the_background_without_losing_changes(
    tmp_path: Path,
) -> None:
    import threading
    import time

    append(tmp_path, session("45.33.12.7", "a1", ["uname -a"]))
    full_build(tmp_path)
    builder = builder_for(tmp_path, overlay_max_ips=2)
    stop = threading.Event()
    try:
        with Publisher(tmp_path) as publisher:
            runner = threading.Thread(
                target=builder.follow, args=(publisher, stop, 0.05)
            )
            runner.start()
            for i in range(8):  # keeps arriving while the child compacts
                builder.log.append(session(f"45.33.14.{i}", f"e{i}", ["uname -a"]))
                time.sleep(0.3)
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                with current(tmp_path) as snap:
                    if snap.count == 9 and snap.base.sequence > 1:
                        break
                time.sleep(0.2)
            stop.set()
            runner.join(timeout=60)
    finally:
        builder.close()
    with current(tmp_path) as snap:
        assert snap.count == 9  # every IP, none lost across the switch
        assert snap.base is not None and snap.base.sequence > 1  # a compacted base
        assert snap.base.manifest.base is None and snap.base.rows >= 3
        for i in range(8):
            assert snap.lookup(f"45.33.14.{i}").sessions == 1
