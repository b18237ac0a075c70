"""The snapshot reader: lookups, block lookups and filtered blacklists."""

import ipaddress
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sikker.builder import demo
from sikker.builder.publish import publish
from sikker.core import ipcore
from sikker.core.filters import BlacklistQuery
from sikker.core.layout import current_path
from sikker.core.snapshot import Snapshot
from sikker.errors import InvalidAddressError, SnapshotCorruptError
from tests.factories import RECORDS, build


@pytest.fixture(scope="module")
def snapshot(tmp_path_factory: pytest.TempPathFactory) -> Snapshot:
    data = tmp_path_factory.mktemp("data")
    build(data)
    with Snapshot.open(current_path(data)) as snap:
        yield snap


def test_lookup_returns_the_stored_record(snapshot: Snapshot) -> None:
    record = snapshot.lookup("203.0.113.10")
    assert record is not None
    assert (record.score, record.raw_score, record.sessions, record.events) == (
        97,
        97,
        120,
        2400,
    )
    assert record.max_severity == 4  # critical
    assert sorted(record.protocols) == [(0, 100, 2000), (1, 20, 400)]
    assert sorted(c for _, c in record.behaviors) == [3, 7]
    assert sorted(record.categories) == [(1, 3), (10, 1)]
    assert (record.reports, record.reporters) == (4, 3)


def test_lookup_of_an_unlisted_ip_is_none(snapshot: Snapshot) -> None:
    assert snapshot.lookup("8.8.8.8") is None


def test_ipv4_mapped_ipv6_finds_the_ipv4_record(snapshot: Snapshot) -> None:
    assert (
        snapshot.lookup("::ffff:203.0.113.10").row
        == snapshot.lookup("203.0.113.10").row
    )


def test_ipv6_lookup_accepts_any_spelling(snapshot: Snapshot) -> None:
    assert snapshot.lookup("2001:DB8:0:0::7") is not None


def test_invalid_address_raises_a_typed_error(snapshot: Snapshot) -> None:
    with pytest.raises(InvalidAddressError):
        snapshot.lookup("203.0.113.256")


def test_rows_are_ordered_by_score_then_recency(snapshot: Snapshot) -> None:
    ips = snapshot.ip_texts(snapshot.everything())
    # Two records score 91: the more recently seen one comes first.
    assert ips == [
        "203.0.113.10",
        "2001:db8::7",
        "198.51.100.20",
        "192.0.2.44",
        "203.0.113.11",
        "192.0.2.45",
    ]


def test_lookup_block_returns_only_ips_inside_the_network(snapshot: Snapshot) -> None:
    found = {ip for ip, _ in snapshot.lookup_block("203.0.113.0/24")}
    assert found == {"203.0.113.10", "203.0.113.11"}
    assert snapshot.lookup_block("203.0.114.0/24") == []


def test_lookup_block_refuses_networks_that_are_too_wide(snapshot: Snapshot) -> None:
    with pytest.raises(InvalidAddressError, match="wider than /16"):
        snapshot.lookup_block("203.0.0.0/8")


def _ips(snapshot: Snapshot, **filters) -> list[str]:
    rows = snapshot.blacklist(BlacklistQuery.from_params(filters))
    return snapshot.ip_texts(rows)


def test_blacklist_default_is_score_50_and_above(snapshot: Snapshot) -> None:
    assert _ips(snapshot) == [
        "203.0.113.10",
        "2001:db8::7",
        "198.51.100.20",
        "192.0.2.44",
    ]


def test_blacklist_filters_combine(snapshot: Snapshot) -> None:
    assert _ips(snapshot, onlyCountries="CN,RU", scoreMinimum="1") == [
        "203.0.113.10",
        "198.51.100.20",
        "203.0.113.11",
    ]
    assert _ips(snapshot, protocols="ssh") == ["203.0.113.10", "2001:db8::7"]
    assert _ips(snapshot, minSeverity="high") == ["203.0.113.10", "198.51.100.20"]
    assert _ips(snapshot, minSeverity="very_high") == ["203.0.113.10"]
    assert _ips(snapshot, ipVersion="6") == ["2001:db8::7"]
    assert _ips(snapshot, exceptAsn="AS4134,12389") == ["2001:db8::7", "192.0.2.44"]
    assert _ips(snapshot, exceptCountries="CN", onlyAsn="AS14061") == ["2001:db8::7"]
    assert _ips(snapshot, scoreMinimum="0", limit="2") == [
        "203.0.113.10",
        "2001:db8::7",
    ]


def test_blacklist_of_an_unknown_asn_is_empty(snapshot: Snapshot) -> None:
    assert _ips(snapshot, onlyAsn="AS64512") == []


def test_plaintext_rendering_lists_one_address_per_line(snapshot: Snapshot) -> None:
    rows = snapshot.blacklist(BlacklistQuery(score_minimum=90))
    text = b"".join(snapshot.render_plaintext(rows)).decode()
    assert text == "203.0.113.10\n2001:db8::7\n198.51.100.20\n"


def test_a_tampered_file_fails_verification(tmp_path: Path) -> None:
    build(tmp_path)
    path = current_path(tmp_path)
    with Snapshot.open(path) as snap:
        snap.manifest.verify(path)
        victim = path / "ips.bin"
        victim.chmod(0o644)
        data = bytearray(victim.read_bytes())
        data[0] ^= 1
        victim.write_bytes(bytes(data))
        with pytest.raises(SnapshotCorruptError, match=r"ips\.bin"):
            snap.manifest.verify(path)


def test_a_truncated_column_is_refused_on_open(tmp_path: Path) -> None:
    build(tmp_path)
    path = current_path(tmp_path)
    victim = path / "summary.bin"
    victim.chmod(0o644)
    victim.write_bytes(victim.read_bytes()[:-1])
    with pytest.raises(SnapshotCorruptError, match=r"summary\.bin"):
        Snapshot.open(path)


def test_every_row_maps_back_to_its_address(snapshot: Snapshot) -> None:
    stored = snapshot.ip_texts(snapshot.everything())
    assert set(stored) == {str(ipaddress.ip_address(r["ip"])) for r in RECORDS}
    for row, ip in enumerate(stored):
        assert snapshot.lookup(ip).row == row


# -- the blacklist against a plain-Python oracle, on demo data -------------------


@pytest.fixture(scope="module")
def demo_snapshot(tmp_path_factory: pytest.TempPathFactory) -> Snapshot:
    data = tmp_path_factory.mktemp("demo")
    publish(demo.generate(4000, seed=5, now=1_800_000_000), data)
    with Snapshot.open(current_path(data)) as snap:
        yield snap


@pytest.fixture(scope="module")
def oracle_rows(demo_snapshot: Snapshot) -> list[dict]:
    """Every row decoded the slow way: one lookup per address."""
    rows = []
    for text in demo_snapshot.ip_texts(demo_snapshot.everything()):
        record = demo_snapshot.lookup(text)
        rows.append(
            {
                "row": record.row,
                "ip16": ipcore.to_ip16(text),
                "version": 6 if ":" in text else 4,
                "score": record.score,
                "last_seen": record.last_seen,
                "country": demo_snapshot.countries[record.country],
                "asn": record.asn,
                "protocols": {pid for pid, _, _ in record.protocols},
                "severity": record.max_severity,
            }
        )
    return rows


def test_rows_follow_score_then_recency_then_address(oracle_rows: list[dict]) -> None:
    assert [r["row"] for r in oracle_rows] == list(range(len(oracle_rows)))
    keys = [(-r["score"], -r["last_seen"], r["ip16"]) for r in oracle_rows]
    assert keys == sorted(keys)


def _expected(rows: list[dict], q: BlacklistQuery) -> list[int]:
    def keep(r: dict) -> bool:
        return (
            r["score"] >= q.score_minimum
            and (not q.only_countries or r["country"] in q.only_countries)
            and r["country"] not in q.except_countries
            and (not q.only_asn or r["asn"] in q.only_asn)
            and r["asn"] not in q.except_asn
            and (not q.ip_version or r["version"] == q.ip_version)
            and (not q.protocols or bool(r["protocols"] & set(q.protocols)))
            and r["severity"] >= q.min_severity
        )

    return [r["row"] for r in rows if keep(r)][: q.limit]


def some(values: list) -> st.SearchStrategy[tuple]:
    return st.lists(st.sampled_from(values), max_size=3).map(tuple)


@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_blacklist_equals_a_plain_python_filter(
    demo_snapshot: Snapshot, oracle_rows: list[dict], data: st.DataObject
) -> None:
    countries = sorted({r["country"] for r in oracle_rows if r["country"]})
    asns = sorted({r["asn"] for r in oracle_rows if r["asn"]})
    query = BlacklistQuery(
        score_minimum=data.draw(st.integers(0, 100)),
        only_countries=data.draw(some(countries)),
        except_countries=data.draw(some(countries)),
        only_asn=data.draw(some(asns)),
        except_asn=data.draw(some([*asns, 64512])),
        ip_version=data.draw(st.sampled_from([None, 4, 6])),
        protocols=data.draw(some(list(range(16)))),
        min_severity=data.draw(st.integers(0, 4)),
        limit=data.draw(st.integers(1, 5000)),
    )
    got = demo_snapshot.blacklist(query).rows.tolist()
    assert got == _expected(oracle_rows, query)
