"""Known-benign sources: the shipped files, the loader's errors, the lookup."""

import ipaddress
import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from sikker.builder.benign import (
    KEYS,
    BenignIndex,
    BenignSource,
    apply_discount,
    parse_source,
)
from sikker.builder.demo_world import BENIGN_SOURCES
from sikker.core.ipcore import to_ip16
from sikker.errors import BenignSourceError, SikkerError

SHIPPED = Path(__file__).resolve().parent.parent / "builder" / "data" / "benign"


def ip16(*texts: str) -> np.ndarray:
    return np.frombuffer(b"".join(map(to_ip16, texts)), np.uint8).reshape(-1, 16)


def write(folder: Path, stem: str, **fields) -> Path:
    doc = {
        "name": stem.title(),
        "description": "test",
        "source": "tests",
        "date": "2026-01-01",
        "discount": 0.5,
        "prefixes": ["192.0.2.0/24"],
    }
    doc.update(fields)
    path = folder / f"{stem}.json"
    path.write_text(json.dumps(doc))
    return path


@pytest.fixture(scope="module")
def shipped() -> BenignIndex:
    return BenignIndex.load()


def test_shipped_sources_cover_crawlers_and_research_scanners(shipped):
    names = {s["name"] for s in shipped.sources}
    assert {"Googlebot", "Bingbot", "Censys", "Shodan"} <= names
    assert len(names) >= 8
    for source in shipped.sources:
        assert 0.0 <= source["discount"] <= 1.0
        assert source["prefix_count"] > 0 and source["source"] and source["date"]


def test_every_shipped_file_has_exactly_the_documented_keys():
    for path in sorted(SHIPPED.glob("*.json")):
        assert tuple(json.loads(path.read_text())) == KEYS, path.name


def test_every_shipped_prefix_is_public(shipped):
    for source in shipped.benign_sources:
        for prefix in source.prefixes:
            assert ipaddress.ip_network(prefix).is_global, (source.name, prefix)


def test_shipped_prefixes_map_to_their_source(shipped):
    names = [s["name"] for s in shipped.sources]
    for sid, source in enumerate(shipped.benign_sources, 1):
        for prefix in source.prefixes:
            net = ipaddress.ip_network(prefix)
            got = shipped.lookup(ip16(str(net.network_address)))[0]
            # Another source may hold a more specific prefix at the same address.
            assert got == sid or names[got - 1] != source.name, (source.name, prefix)
    assert shipped.lookup(ip16("66.249.66.1"))[0] == names.index("Googlebot") + 1
    assert shipped.lookup(ip16("162.142.125.9"))[0] == names.index("Censys") + 1
    assert shipped.lookup(ip16("8.8.8.8", "2001:db8::1")).tolist() == [0, 0]


def test_snapshot_sources_carry_name_and_discount(shipped):
    meta = shipped.snapshot_sources()
    assert meta == [
        {"name": s["name"], "discount": s["discount"]} for s in shipped.sources
    ]


def test_sources_are_numbered_in_file_name_order(tmp_path):
    write(tmp_path, "b-second", prefixes=["198.51.100.0/24"])
    write(tmp_path, "a-first", prefixes=["203.0.113.0/24"])
    index = BenignIndex.load(tmp_path)
    assert [s["name"] for s in index.sources] == ["A-First", "B-Second"]
    assert index.lookup(ip16("203.0.113.1", "198.51.100.1")).tolist() == [1, 2]


def test_the_most_specific_prefix_wins_and_ties_go_to_the_first_file(tmp_path):
    write(tmp_path, "a", prefixes=["10.0.0.0/8", "10.1.2.0/24"])
    write(tmp_path, "b", prefixes=["10.1.0.0/16", "10.1.2.0/24", "2001:db8::/32"])
    write(tmp_path, "c", prefixes=["::/0"])
    index = BenignIndex.load(tmp_path)
    got = index.lookup(
        ip16("10.9.9.9", "10.1.9.9", "10.1.2.3", "11.0.0.1", "2001:db8::1", "2001::1")
    )
    assert got.tolist() == [1, 2, 1, 3, 2, 3]


def test_an_empty_directory_or_input_finds_nothing(tmp_path):
    index = BenignIndex.load(tmp_path)
    assert index.sources == []
    assert index.lookup(ip16("192.0.2.1")).tolist() == [0]
    assert BenignIndex.load().lookup(np.zeros((0, 16), np.uint8)).shape == (0,)


def test_apply_discount_multiplies_after_normalisation():
    sources = [{"name": "A", "discount": 0.1}, {"name": "B", "discount": 0.0}]
    raw = np.array([95, 95, 95, 7, 100], np.uint8)
    ids = np.array([0, 1, 2, 1, 1], np.uint8)
    got = apply_discount(raw, ids, sources)
    assert got.tolist() == [95, 10, 0, 1, 10] and got.dtype == np.uint8


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"prefixes": ["192.0.2.1/24"]}, "bad prefix '192.0.2.1/24'"),
        ({"prefixes": ["192.0.2.0/33"]}, "bad prefix '192.0.2.0/33'"),
        ({"prefixes": ["not-an-ip"]}, "bad prefix 'not-an-ip'"),
        ({"prefixes": [24]}, "prefix 24 is not a string"),
        (
            {"prefixes": ["192.0.2.0/24", "192.0.2.0/24"]},
            "'192.0.2.0/24' is listed twice",
        ),
        ({"prefixes": []}, "'prefixes' must be a non-empty list"),
        ({"discount": 1.5}, "'discount' must be a number within 0.0-1.0"),
        ({"discount": True}, "'discount' must be a number"),
        ({"discount": "0.2"}, "'discount' must be a number"),
        ({"date": "23/12/2025"}, "'date' must be YYYY-MM-DD"),
        ({"name": ""}, "'name' must be a non-empty string"),
        ({"licence": "CC0"}, "unknown key 'licence'"),
    ],
)
def test_invalid_files_are_rejected_naming_file_and_problem(tmp_path, fields, message):
    path = write(tmp_path, "broken", **fields)
    with pytest.raises(BenignSourceError) as info:
        BenignIndex.load(tmp_path)
    assert str(path) in str(info.value) and message in str(info.value)
    assert isinstance(info.value, SikkerError) and isinstance(info.value, ValueError)


def test_missing_keys_bad_json_and_duplicate_names_are_rejected(tmp_path):
    with pytest.raises(BenignSourceError, match=r"x\.json: missing key 'source'"):
        parse_source(json.dumps({k: "v" for k in KEYS if k != "source"}), "x.json")
    with pytest.raises(BenignSourceError, match=r"y\.json: invalid JSON"):
        parse_source("{", "y.json")
    with pytest.raises(BenignSourceError, match=r"z\.json: expected a JSON object"):
        parse_source("[]", "z.json")
    write(tmp_path, "one", name="Same")
    write(tmp_path, "two", name="Same")
    with pytest.raises(BenignSourceError, match="'Same' is used twice"):
        BenignIndex.load(tmp_path)
    with pytest.raises(BenignSourceError, match="not a directory"):
        BenignIndex.load(tmp_path / "missing")


# -- the lookup against a plain-Python oracle -------------------------------------

V4_BASE = 0xFFFF << 32


def span(prefix: str) -> tuple[int, int, int]:
    """Return (first, last, length) of a prefix in 128-bit storage form."""
    net = ipaddress.ip_network(prefix)
    offset, extra = (V4_BASE, 96) if net.version == 4 else (0, 0)
    return (
        offset + int(net.network_address),
        offset + int(net.broadcast_address),
        net.prefixlen + extra,
    )


def oracle(sources: list[list[str]], address: str) -> int:
    """The documented rule: longest prefix, then the first source."""
    value = int.from_bytes(to_ip16(address), "big")
    best = (-1, 0)
    for sid, prefixes in enumerate(sources, 1):
        for prefix in prefixes:
            first, last, length = span(prefix)
            if first <= value <= last and length > best[0]:
                best = (length, sid)
    return best[1]


def v4_net(draw) -> str:
    length = draw(st.integers(8, 32))
    value = draw(st.integers(0, 2**32 - 1)) >> (32 - length) << (32 - length)
    return str(ipaddress.IPv4Network((value, length)))


def v6_net(draw) -> str:
    length = draw(st.integers(0, 128))
    value = draw(st.integers(0, 2**128 - 1)) >> (128 - length) << (128 - length)
    return str(ipaddress.IPv6Network((value, length)))


def inner(prefix: str, extra: int) -> str:
    """Return the first subnet ``extra`` bits longer than ``prefix``."""
    net = ipaddress.ip_network(prefix)
    return str(
        next(net.subnets(new_prefix=min(net.max_prefixlen, net.prefixlen + extra)))
    )


@st.composite
def source_lists(draw) -> list[list[str]]:
    # A small pool of networks and subnets of them, so that sources overlap,
    # nest and repeat each other.
    pool = [
        v4_net(draw) if draw(st.booleans()) else v6_net(draw)
        for _ in range(draw(st.integers(1, 8)))
    ]
    pool += [inner(p, draw(st.integers(1, 8))) for p in pool]
    return [
        sorted(set(draw(st.lists(st.sampled_from(pool), min_size=1, max_size=6))))
        for _ in range(draw(st.integers(1, 4)))
    ]


@st.composite
def addresses(draw, sources: list[list[str]]) -> list[str]:
    """Return addresses at, around and between the sources' network edges."""
    out = []
    for _ in range(draw(st.integers(1, 30))):
        if draw(st.booleans()):
            net = ipaddress.ip_network(
                draw(st.sampled_from([p for prefixes in sources for p in prefixes]))
            )
            edge = draw(
                st.sampled_from([0, net.num_addresses // 2, net.num_addresses - 1])
            )
            value = int(net.network_address) + edge + draw(st.integers(-2, 2))
            bits = net.max_prefixlen
        else:
            bits = draw(st.sampled_from([32, 128]))
            value = draw(st.integers(0, 2**bits - 1))
        value = min(max(value, 0), 2**bits - 1)
        kind = ipaddress.IPv4Address if bits == 32 else ipaddress.IPv6Address
        out.append(str(kind(value)))
    return out


@given(data=st.data())
def test_lookup_matches_a_plain_python_oracle(data):
    sources = data.draw(source_lists())
    index = BenignIndex(
        [
            BenignSource(f"s{i}", "d", "s", "2026-01-01", 0.5, tuple(prefixes))
            for i, prefixes in enumerate(sources)
        ]
    )
    queries = data.draw(addresses(sources))
    got = index.lookup(ip16(*queries)).tolist()
    assert got == [oracle(sources, q) for q in queries]


def test_the_demo_discounts_like_the_shipped_sources(shipped):
    shipped_discount = {s["name"]: s["discount"] for s in shipped.sources}
    for source in BENIGN_SOURCES:
        assert source.discount == shipped_discount[source.name], source.name
