"""Country and ASN lookups against tiny .mmdb files the tests write themselves.

The databases use documentation prefixes (192.0.2.0/24, 198.51.100.0/24,
203.0.113.0/24, 2001:db8::/32) and private-use ASNs (64496-64511), in the
layouts of GeoLite2 City/Country/ASN, DB-IP lite and IPinfo lite.
"""

import ipaddress
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from mmdb_writer import MmdbU32, MMDBWriter
from netaddr import IPSet

from sikker.builder.geo import Geo, asn_of, country_of
from sikker.core.ipcore import to_ip16
from sikker.errors import GeoDatabaseError, SikkerError

CITY = {
    "192.0.2.0/25": {"city": {"names": {"en": "Oslo"}}, "country": {"iso_code": "NO"}},
    "192.0.2.128/26": {"country": {"iso_code": "SE"}},
    "198.51.100.0/24": {"registered_country": {"iso_code": "DK"}},
    "203.0.113.64/27": {"continent": {"code": "EU"}},  # no country at all
    "2001:db8::/33": {"country": {"iso_code": "FI"}},
    "2001:db8:8000::/48": {"country": {"iso_code": "IS"}},
}
ASN = {
    "192.0.2.0/24": (64496, "Example Net A"),
    "198.51.100.0/25": (64497, "Example Net B"),
    "198.51.100.128/25": (64498, ""),
    "2001:db8::/32": (64499, "Example Net C"),
}
LITE = {  # IPinfo's lite layout: country and ASN in one file
    "203.0.113.0/24": {"country_code": "ee", "asn": "AS64500", "as_name": "Lite Org"},
}
ADDRESSES = [
    "192.0.2.1",
    "192.0.2.127",
    "192.0.2.128",
    "192.0.2.200",
    "198.51.100.7",
    "198.51.100.200",
    "203.0.113.70",
    "203.0.113.1",
    "8.8.8.8",
    "2001:db8::1",
    "2001:db8:8000::1",
    "2001:db8:8001::1",
    "2001:db9::1",
]


def ip16(*texts: str) -> np.ndarray:
    return np.frombuffer(b"".join(map(to_ip16, texts)), np.uint8).reshape(-1, 16)


def write_db(path: Path, db_type: str, networks: dict, ip_version: int = 6) -> str:
    writer = MMDBWriter(
        ip_version=ip_version,
        database_type=db_type,
        languages=["en"],
        description={"en": "sikker test data"},
        ipv4_compatible=ip_version == 6,
    )
    for network, record in networks.items():
        writer.insert_network(IPSet([network]), record)
    writer.to_db_file(str(path))
    return str(path)


def asn_record(value: tuple[int, str]) -> dict:
    number, org = value
    record: dict = {"autonomous_system_number": MmdbU32(number)}
    if org:
        record["autonomous_system_organization"] = org
    return record


@pytest.fixture(scope="module")
def dbs(tmp_path_factory) -> dict[str, str]:
    folder = tmp_path_factory.mktemp("mmdb")
    v4_only = {k: v for k, v in CITY.items() if ":" not in k}
    return {
        "city": write_db(folder / "city.mmdb", "GeoLite2-City", CITY),
        "country4": write_db(
            folder / "country4.mmdb", "DBIP-Country-Lite", v4_only, ip_version=4
        ),
        "asn": write_db(
            folder / "asn.mmdb",
            "GeoLite2-ASN",
            {k: asn_record(v) for k, v in ASN.items()},
        ),
        "lite": write_db(folder / "lite.mmdb", "ipinfo_lite", LITE),
    }


def test_country_and_asn_come_from_the_databases(dbs):
    with Geo.open(dbs["city"], dbs["asn"]) as geo:
        country, asn, orgs = geo.lookup(ip16(*ADDRESSES))
    assert country.dtype == np.dtype("S2") and asn.dtype == np.uint32
    assert [c.decode() for c in country] == [
        "NO", "NO", "SE", "", "DK", "DK", "", "", "", "FI", "IS", "", "",
    ]  # fmt: skip
    assert asn.tolist() == [
        64496, 64496, 64496, 64496, 64497, 64498, 0, 0, 0, 64499, 64499, 64499, 0,
    ]  # fmt: skip
    assert orgs == {
        64496: "Example Net A",
        64497: "Example Net B",
        64499: "Example Net C",
    }


def test_an_ipv4_only_database_leaves_ipv6_addresses_unknown(dbs):
    geo = Geo.open(dbs["country4"], None)
    country, asn, orgs = geo.lookup(ip16("192.0.2.1", "2001:db8::1", "198.51.100.1"))
    assert country.tolist() == [b"NO", b"", b"DK"]
    assert asn.tolist() == [0, 0, 0] and orgs == {}
    geo.close()


def test_ipinfo_lite_layout_gives_country_and_asn(dbs):
    geo = Geo.open(dbs["lite"], dbs["lite"])
    country, asn, orgs = geo.lookup(ip16("203.0.113.9", "192.0.2.1"))
    assert country.tolist() == [b"EE", b""]
    assert asn.tolist() == [64500, 0] and orgs == {64500: "Lite Org"}


def test_without_databases_fields_are_empty_and_nothing_fails():
    for geo in (Geo.open(None, None), Geo.open("", ""), Geo()):
        assert not geo.enabled
        country, asn, orgs = geo.lookup(ip16("192.0.2.1", "2001:db8::1"))
        assert country.tolist() == [b"", b""] and asn.tolist() == [0, 0]
        assert orgs == {}
        country, asn, orgs = geo.lookup(np.zeros((0, 16), np.uint8))
        assert len(country) == len(asn) == 0


def test_a_missing_file_is_an_error_naming_the_path(tmp_path, dbs):
    missing = str(tmp_path / "GeoLite2-Country.mmdb")
    with pytest.raises(GeoDatabaseError, match=r"GeoLite2-Country\.mmdb: country"):
        Geo.open(missing, None)
    with pytest.raises(GeoDatabaseError, match="ASN database not found") as info:
        Geo.open(dbs["city"], missing)
    assert missing in str(info.value)
    assert isinstance(info.value, SikkerError)


def test_a_corrupt_file_is_an_error_naming_the_path(tmp_path):
    bad = tmp_path / "broken.mmdb"
    bad.write_bytes(b"not a maxmind database" * 100)
    with pytest.raises(GeoDatabaseError) as info:
        Geo.open(None, str(bad))
    assert str(bad) in str(info.value) and "not a readable MaxMind DB" in str(
        info.value
    )


def test_swapped_databases_are_an_error(dbs):
    with pytest.raises(GeoDatabaseError, match="holds no country data"):
        Geo.open(dbs["asn"], None)
    with pytest.raises(GeoDatabaseError, match="holds no ASN data"):
        Geo.open(None, dbs["city"])


def test_record_layouts_are_read_leniently():
    assert country_of({"country": {"iso_code": "NO"}}) == "NO"
    assert country_of({"registered_country": {"iso_code": "DK"}}) == "DK"
    assert country_of({"country": "se"}) == "SE"
    assert country_of({"country": "Sweden", "country_code": "SE"}) == "SE"
    assert country_of({"continent": {"code": "EU"}}) is None
    assert asn_of({"autonomous_system_number": 64496}) == (64496, "")
    assert asn_of({"asn": "AS64500", "as_name": "X"}) == (64500, "X")
    assert asn_of({"asn": "bogus"}) is None
    assert asn_of({"asn": 0}) is None


def test_many_addresses_share_one_lookup_per_network(dbs):
    calls = []
    geo = Geo.open(dbs["city"], None)
    reader = geo.country_reader
    original = reader.get_with_prefix_len

    class Counting:
        def __getattr__(self, name):
            return getattr(reader, name)

        def get_with_prefix_len(self, address):
            calls.append(address)
            return original(address)

    geo.country_reader = Counting()
    hosts = [f"192.0.2.{i}" for i in range(128)] * 3
    country, _, _ = geo.lookup(ip16(*hosts))
    assert set(country.tolist()) == {b"NO"}
    assert len(calls) == 1


# -- against per-address lookups (the oracle) --------------------------------------

PREFIXES = [ipaddress.ip_network(p) for p in [*CITY, *ASN]]


@st.composite
def near_networks(draw) -> str:
    if draw(st.integers(0, 4)) == 0:
        bits = draw(st.sampled_from([32, 128]))
        value = draw(st.integers(0, 2**bits - 1))
    else:
        net = draw(st.sampled_from(PREFIXES))
        bits = net.max_prefixlen
        value = int(net.network_address) + draw(
            st.integers(-300, net.num_addresses + 300)
        )
        value = min(max(value, 0), 2**bits - 1)
    kind = ipaddress.IPv4Address if bits == 32 else ipaddress.IPv6Address
    return str(kind(value))


@given(queries=st.lists(near_networks(), min_size=1, max_size=60))
def test_lookups_match_one_query_per_address(dbs, queries):
    geo = Geo.open(dbs["city"], dbs["asn"])
    country, asn, _ = geo.lookup(ip16(*queries))
    for i, text in enumerate(queries):
        address = ipaddress.ip_address(text)
        record = geo.country_reader.get(address)
        expected = country_of(record) if isinstance(record, dict) else None
        assert country[i].decode() == (expected or ""), text
        record = geo.asn_reader.get(address)
        pair = asn_of(record) if isinstance(record, dict) else None
        assert asn[i] == (pair[0] if pair else 0), text
    geo.close()
