"""Demo data: deterministic, valid, public, clustered and internally consistent."""

import ipaddress

import numpy as np
import pytest

from sikker.builder import demo, demo_world
from sikker.builder.catalog import load_catalog, parse_catalog
from sikker.builder.scoring import CRITICAL_FLOOR
from sikker.core.records import RecordTable
from sikker.core.vocab import CATEGORIES, PROTOCOL_IDS, countries

NOW = 1_800_000_000
N = 100_000
HOSTING_ASNS = {14061, 16276, 24940, 51167, 63949, 9009, 36352, 60781}
RESERVED_V4 = (
    "0.0.0.0/8",
    "10.0.0.0/8",
    "100.64.0.0/10",
    "127.0.0.0/8",
    "169.254.0.0/16",
    "172.16.0.0/12",
    "192.0.0.0/24",
    "192.0.2.0/24",
    "192.88.99.0/24",
    "192.168.0.0/16",
    "198.18.0.0/15",
    "198.51.100.0/24",
    "203.0.113.0/24",
    "224.0.0.0/3",
)


@pytest.fixture(scope="module")
def table() -> RecordTable:
    return demo.generate(N, seed=3, now=NOW, ipv6_share=0.1)


def is_v4(table: RecordTable) -> np.ndarray:
    ip = table.ip
    return (ip[:, :10] == 0).all(axis=1) & (ip[:, 10] == 0xFF) & (ip[:, 11] == 0xFF)


def v4_ints(table: RecordTable) -> np.ndarray:
    return table.ip[is_v4(table), 12:].copy().view(">u4").ravel().astype(np.int64)


def address(ip16: np.ndarray) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    raw = bytes(ip16)
    if raw[:12] == b"\0" * 10 + b"\xff\xff":
        return ipaddress.IPv4Address(raw[12:])
    return ipaddress.IPv6Address(raw)


def owners(ragged) -> np.ndarray:
    return np.repeat(np.arange(len(ragged.offsets) - 1), ragged.lengths())


def assert_same(a: RecordTable, b: RecordTable) -> None:
    assert np.array_equal(a.ip, b.ip)
    for name in RecordTable.SCALARS:
        assert np.array_equal(getattr(a, name), getattr(b, name)), name
    for name in RecordTable.RAGGED:
        left, right = getattr(a, name), getattr(b, name)
        assert np.array_equal(left.offsets, right.offsets), name
        assert np.array_equal(left.ids, right.ids), name
        for key in left.values:
            assert np.array_equal(left.values[key], right.values[key]), name
    assert a.asn_orgs == b.asn_orgs
    assert a.benign_sources == b.benign_sources


def test_same_arguments_give_the_same_table():
    assert_same(
        demo.generate(30_000, seed=5, now=NOW), demo.generate(30_000, seed=5, now=NOW)
    )


def test_different_seeds_give_different_tables():
    a = demo.generate(5_000, seed=1, now=NOW)
    b = demo.generate(5_000, seed=2, now=NOW)
    assert not np.array_equal(a.ip, b.ip)
    assert not np.array_equal(a.sessions, b.sessions)


def test_table_validates_with_the_requested_size(table):
    table.validate()
    assert len(table) == N


def test_sampled_addresses_are_global_unicast(table):
    rng = np.random.default_rng(0)
    for row in rng.choice(N, 3_000, replace=False):
        ip = address(table.ip[row])
        assert ip.is_global and not ip.is_multicast, ip


def test_no_ipv4_address_falls_in_a_reserved_block(table):
    addr = v4_ints(table)
    for block in RESERVED_V4:
        net = ipaddress.IPv4Network(block)
        low = int(net.network_address)
        assert not ((addr >= low) & (addr < low + net.num_addresses)).any(), block


def test_no_ipv6_address_falls_in_a_reserved_block(table):
    high = table.ip[~is_v4(table), :8].copy().view(">u8").ravel()
    top16 = high >> np.uint64(48)
    assert ((top16 >= 0x2000) & (top16 < 0x4000)).all()  # 2000::/3
    assert not (high >> np.uint64(41) == 0x2001 << 7).any()  # 2001::/23
    assert not (high >> np.uint64(32) == 0x20010DB8).any()
    assert not (top16 == 0x2002).any()
    assert not (high >> np.uint64(44) == 0x3FFF0).any()


def test_ipv6_share_follows_the_parameter(table):
    assert abs((~is_v4(table)).mean() - 0.1) < 0.002
    assert is_v4(demo.generate(2_000, seed=1, now=NOW, ipv6_share=0.0)).all()
    quarter = demo.generate(8_000, seed=1, now=NOW, ipv6_share=0.25)
    assert abs((~is_v4(quarter)).mean() - 0.25) < 0.002
    only_v6 = demo.generate(3_000, seed=1, now=NOW, ipv6_share=1.0)
    assert not is_v4(only_v6).any()
    only_v6.validate()


def test_ipv6_hosting_addresses_share_slash64s(table):
    high = table.ip[~is_v4(table), :8].copy().view(">u8").ravel()
    _, per_64 = np.unique(high, return_counts=True)
    assert (per_64 >= 4).sum() > 100


def test_hosting_networks_fill_dense_slash24s(table):
    v4 = is_v4(table)
    slash24 = v4_ints(table) >> 8
    hosting = np.isin(table.asn[v4], list(HOSTING_ASNS))
    _, per_24 = np.unique(slash24[hosting], return_counts=True)
    assert (per_24 >= 10).sum() >= 50


def test_isp_addresses_are_scattered(table):
    v4 = is_v4(table)
    chinanet = table.asn[v4] == 4134
    _, per_24 = np.unique(v4_ints(table)[chinanet] >> 8, return_counts=True)
    assert chinanet.sum() > 1_000
    assert np.median(per_24) <= 2


def test_known_prefixes_are_public_and_never_shared():
    world = demo_world.build_world(1)
    per_network = [
        np.unique(prefixes >> 8 if kind == demo_world.BENIGN else prefixes)
        for prefixes, kind in zip(world.known_v4, world.kind, strict=True)
    ]
    slash16 = np.concatenate(per_network)
    assert len(np.unique(slash16)) == len(slash16)
    for prefix in slash16.tolist():
        ip = ipaddress.IPv4Address(prefix << 16 | 0x0101)
        assert ip.is_global, ip


def test_well_known_networks_use_their_real_prefixes(table):
    v4 = is_v4(table)
    for asn in (14061, 24940, 16276):
        known = np.concatenate(
            [demo_world.prefix_ranges(r.v4) for r in demo_world._REAL if r.asn == asn]
        )
        mine = table.asn[v4] == asn
        assert mine.sum() > 100
        assert np.isin(v4_ints(table)[mine] >> 16, known).all(), asn


def test_countries_are_skewed_with_a_long_tail(table):
    codes, counts = np.unique(table.country, return_counts=True)
    share = counts / counts.sum()
    order = np.argsort(share)[::-1]
    assert codes[order[0]] == b"CN"
    assert 0.10 < share[order[0]] < 0.30
    assert share[order[:10]].sum() > 0.5
    assert len(codes) >= 150
    assert {c.decode() for c in codes} <= set(countries())


def test_every_asn_has_an_org_and_well_known_ones_keep_their_names(table):
    asns = set(np.unique(table.asn).tolist())
    assert len(asns) >= 1_000
    assert asns <= set(table.asn_orgs)
    assert table.asn_orgs[4134] == "CHINANET-BACKBONE"
    assert table.asn_orgs[14061] == "DIGITALOCEAN-ASN"


def test_each_ip_has_one_to_four_distinct_protocols(table):
    lengths = table.protocols.lengths()
    assert lengths.min() == 1 and lengths.max() == 4
    assert (np.bincount(lengths)[1] / N) > 0.5
    counts = np.bincount(table.protocols.ids, minlength=16)
    ssh, telnet, http = (counts[PROTOCOL_IDS[p]] for p in ("ssh", "telnet", "http"))
    assert ssh > telnet > http > counts[PROTOCOL_IDS["rtsp"]]


def test_per_protocol_counts_sum_to_the_totals(table):
    starts = table.protocols.offsets[:-1]
    sessions = table.protocols.values["sessions"].astype(np.int64)
    events = table.protocols.values["events"].astype(np.int64)
    assert np.array_equal(np.add.reduceat(sessions, starts), table.sessions)
    assert np.array_equal(np.add.reduceat(events, starts), table.events)
    assert (sessions >= 1).all() and (events >= sessions).all()


def test_sessions_are_heavy_tailed(table):
    assert np.median(table.sessions) <= 5
    assert (table.sessions <= 10).mean() > 0.8
    assert table.sessions.max() >= 10_000


def test_behaviors_fit_the_protocols_of_their_ip(table):
    behaviors = table.catalog["behaviors"]
    masks = np.zeros(len(table), np.int64)
    np.bitwise_or.at(
        masks, owners(table.protocols), 1 << table.protocols.ids.astype(np.int64)
    )
    wanted = np.array(
        [sum(1 << PROTOCOL_IDS[p] for p in b["protocols"]) for b in behaviors]
    )
    rows = owners(table.behaviors)
    assert len(rows) > N // 5
    assert (masks[rows] & wanted[table.behaviors.ids]).all()
    assert np.bincount(table.behaviors.lengths())[:4].sum() / N > 0.97


def test_primitives_are_the_ones_their_behaviors_reference(table):
    catalog = load_catalog()
    refs = [
        {catalog.primitive_index(p) for p in b.primitive_ids} for b in catalog.behaviors
    ]
    beh, prim = table.behaviors, table.primitives
    for row in np.flatnonzero(beh.lengths())[:3_000]:
        allowed = set().union(
            *(refs[b] for b in beh.ids[beh.offsets[row] : beh.offsets[row + 1]])
        )
        found = set(prim.ids[prim.offsets[row] : prim.offsets[row + 1]].tolist())
        assert found and found <= allowed
    assert (prim.lengths()[beh.lengths() == 0] == 0).all()


def test_reports_are_a_minority_with_consistent_categories(table):
    reported = table.reports > 0
    assert 0.03 < reported.mean() < 0.4
    assert (table.reporters <= table.reports).all()
    assert (table.reporters[reported] >= 1).all()
    cats = table.categories
    assert np.array_equal(cats.lengths() > 0, reported)
    assert cats.ids.min() >= 1 and cats.ids.max() <= len(CATEGORIES)
    per_report = table.reports[owners(cats)]
    assert (cats.values["count"] <= per_report).all()
    top = np.maximum.reduceat(cats.values["count"], cats.offsets[:-1][reported])
    assert np.array_equal(top, table.reports[reported])


def test_times_fall_in_the_90_days_before_now(table):
    assert (table.first_seen >= NOW - demo.WINDOW).all()
    assert (table.first_seen <= table.last_seen).all()
    assert (table.last_seen <= NOW).all()
    reported = table.reports > 0
    assert (table.last_reported[~reported] == 0).all()
    assert (table.last_reported[reported] >= table.first_seen[reported]).all()
    assert (table.last_reported[reported] <= NOW).all()


def test_scores_look_like_a_real_feed(table):
    score = table.score
    assert (score < 40).mean() > 0.4
    assert 0.005 < (score >= 90).mean() < 0.1
    assert (score >= 75).mean() > (score >= 90).mean()
    assert (table.raw_score >= score).all()


def test_benign_scanners_are_discounted_and_keep_their_raw_score(table):
    names = [s["name"] for s in table.benign_sources]
    assert {"Googlebot", "Bingbot", "Censys", "Shodan"} <= set(names)
    benign = table.benign_source > 0
    assert 0 < benign.sum() < N * 0.01
    discount = np.array([1.0] + [s["discount"] for s in table.benign_sources])
    expected = np.rint(table.raw_score * discount[table.benign_source])
    assert np.array_equal(table.score, expected.astype(np.uint8))
    googlebot = table.benign_source == names.index("Googlebot") + 1
    google = ipaddress.IPv4Network("66.249.64.0/19")
    assert all(address(ip) in google for ip in table.ip[googlebot])


def test_benign_crawlers_only_speak_http(table):
    crawler = np.isin(table.benign_source, [1, 2])
    rows = owners(table.protocols)
    assert (table.protocols.ids[crawler[rows]] == PROTOCOL_IDS["http"]).all()


def test_progress_reports_up_to_the_total():
    calls = []
    demo.generate(1_500, seed=1, now=NOW, progress=lambda d, t: calls.append((d, t)))
    assert calls[0] == (0, 1_500) and calls[-1] == (1_500, 1_500)


def test_an_empty_table_is_valid():
    empty = demo.generate(0, now=NOW)
    empty.validate()
    assert len(empty) == 0


def test_bad_arguments_are_rejected():
    with pytest.raises(ValueError, match="n must be"):
        demo.generate(-1)
    with pytest.raises(ValueError, match="ipv6_share"):
        demo.generate(10, ipv6_share=1.5)


def test_a_custom_catalog_drives_the_behaviors():
    catalog = parse_catalog(
        """
        [[primitive]]
        id = "probe"
        description = "any connection"
        protocols = ["ssh", "telnet", "http"]
        field = "action"
        match = "equals"
        pattern = "connect"

        [[behavior]]
        id = "probing"
        name = "Probing"
        description = "Connects."
        severity = "critical"
        protocols = ["ssh", "telnet", "http"]
        mitre = ["T1595"]
        all = ["probe"]
        """
    )
    table = demo.generate(5_000, seed=1, now=NOW, catalog=catalog)
    table.validate()
    assert table.catalog == catalog.to_snapshot()
    assert set(table.behaviors.ids.tolist()) == {0}
    assert (table.score[table.behaviors.lengths() > 0] >= CRITICAL_FLOOR).all()
