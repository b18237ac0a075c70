"""Check answers rendered from bytes equal the reference dict, in both twins."""

from types import ModuleType

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from sikker.core.check_json import CheckFragments, check_json, fragments_of
from sikker.core.ipcore import to_ip16
from sikker.core.present import check_payload
from sikker.core.records import (
    CATEGORY_ITEM,
    COUNTED_ITEM,
    HEADER,
    PROTOCOL_ITEM,
    Record,
)
from sikker.core.snapshot import Snapshot
from sikker.core.vocab import CATEGORIES, PROTOCOLS
from sikker.errors import InvalidAddressError
from tests.conftest import twin

EIGHTS = to_ip16("8.8.8.8")
ODD_ADDRESSES = [
    "10.0.0.1",
    "::1",
    "::ffff:1.2.3.4",
    "2001:db8::1",
    "0.0.0.0",
    "224.0.0.1",
    "2001:DB8:0:0:0:0:0:1",
]


@pytest.fixture(scope="module")
def snapshot(demo_3000: Snapshot) -> Snapshot:
    return demo_3000


def reference(snapshot: Snapshot, ip: str, ignore: bool) -> bytes:
    return orjson.dumps(check_payload(snapshot, ip, snapshot.lookup(ip), ignore))


def test_every_listed_address_renders_as_the_reference(
    render: ModuleType, snapshot: Snapshot
) -> None:
    fragments = fragments_of(snapshot)
    addresses = snapshot.ip_texts(snapshot.everything())
    assert len(addresses) > 2000
    for ip in addresses:
        for ignore in (False, True):
            got = render.render_check(
                ip, to_ip16(ip), snapshot.stored(ip), ignore, fragments
            )
            assert got == reference(snapshot, ip, ignore), ip


@pytest.mark.parametrize("ip", ODD_ADDRESSES)
def test_unlisted_and_non_public_addresses_render_as_the_reference(
    render: ModuleType, snapshot: Snapshot, ip: str
) -> None:
    got = render.render_check(
        ip, to_ip16(ip), snapshot.stored(ip), False, fragments_of(snapshot)
    )
    assert got == reference(snapshot, ip, False)


def test_check_json_uses_the_current_twin_and_snapshot(snapshot: Snapshot) -> None:
    ip = snapshot.ip_texts(snapshot.everything())[0]
    assert check_json(snapshot, ip) == reference(snapshot, ip, False)
    assert check_json(snapshot, ip, True) == reference(snapshot, ip, True)


def pack(header: dict, protocols, behaviors, primitives, categories) -> bytes:
    fields = dict.fromkeys(Record._fields[:-1], 0)
    fields.update(
        header,
        n_protocols=len(protocols),
        n_behaviors=len(behaviors),
        n_primitives=len(primitives),
        n_categories=len(categories),
    )
    out = HEADER.pack(*fields.values())
    out += b"".join(PROTOCOL_ITEM.pack(*item) for item in protocols)
    out += b"".join(COUNTED_ITEM.pack(*item) for item in behaviors)
    out += b"".join(COUNTED_ITEM.pack(*item) for item in primitives)
    return out + b"".join(CATEGORY_ITEM.pack(*item) for item in categories)


u32 = st.integers(0, 2**32 - 1)
times = st.one_of(st.just(0), st.integers(1, 4_102_444_800))


@st.composite
def records(draw: st.DrawFn, snapshot: Snapshot) -> bytes:
    n_behaviors = len(snapshot.catalog["behaviors"])
    n_primitives = len(snapshot.catalog["primitives"])
    header = {
        "score": draw(st.integers(0, 100)),
        "raw_score": draw(st.integers(0, 100)),
        "max_severity": draw(st.integers(0, 4)),
        "benign_source": draw(st.integers(0, len(snapshot.benign_sources))),
        "country": draw(st.integers(0, len(snapshot.countries) + 2)),
        "asn": draw(
            st.one_of(
                st.just(0), st.sampled_from(sorted(map(int, snapshot.asn_orgs))), u32
            )
        ),
        "first_seen": draw(times),
        "last_seen": draw(times),
        "sessions": draw(u32),
        "events": draw(u32),
        "reports": draw(u32),
        "reporters": draw(u32),
        "last_reported": draw(times),
    }
    distinct = {"unique_by": lambda item: item[0], "max_size": 6}
    return pack(
        header,
        draw(
            st.lists(
                st.tuples(st.integers(0, len(PROTOCOLS) - 1), u32, u32), **distinct
            )
        ),
        draw(st.lists(st.tuples(st.integers(0, n_behaviors - 1), u32), **distinct)),
        draw(st.lists(st.tuples(st.integers(0, n_primitives - 1), u32), **distinct)),
        draw(st.lists(st.tuples(st.integers(1, len(CATEGORIES)), u32), **distinct)),
    )


@pytest.mark.parametrize("which", ["pure", "cython"])
@given(data=st.data())
def test_any_well_formed_record_renders_as_the_reference(
    which: str, snapshot: Snapshot, data: st.DataObject
) -> None:
    render = twin("render", which)
    stored = data.draw(records(snapshot))
    ip = data.draw(st.sampled_from(["203.0.113.9", "8.8.4.4", "2a00:1450::1"]))
    ignore = data.draw(st.booleans())
    want = orjson.dumps(check_payload(snapshot, ip, Record.decode(stored), ignore))
    assert (
        render.render_check(ip, to_ip16(ip), stored, ignore, fragments_of(snapshot))
        == want
    )


def test_a_truncated_record_is_a_value_error(
    render: ModuleType, snapshot: Snapshot
) -> None:
    stored = pack({}, [(0, 1, 2)], [], [], [])
    fragments = fragments_of(snapshot)
    for cut in (10, len(stored) - 1):
        with pytest.raises(ValueError, match="truncated"):
            render.render_check("8.8.8.8", EIGHTS, stored[:cut], False, fragments)


@pytest.mark.parametrize(
    ("header", "items", "what"),
    [
        ({"max_severity": 9}, ([], [], [], []), "severity"),
        ({"benign_source": 250}, ([], [], [], []), "benign source"),
        ({}, ([(200, 1, 1)], [], [], []), "protocol"),
        ({}, ([], [(60000, 1)], [], []), "behavior"),
        ({}, ([], [], [(60000, 1)], []), "primitive"),
        ({}, ([], [], [], [(0, 1)]), "category"),
    ],
)
def test_an_index_beyond_the_snapshot_is_an_index_error_naming_it(
    render: ModuleType, snapshot: Snapshot, header: dict, items: tuple, what: str
) -> None:
    stored = pack(header, *items)
    with pytest.raises(IndexError, match=f"^{what} index"):
        render.render_check("8.8.8.8", EIGHTS, stored, False, fragments_of(snapshot))


@pytest.mark.parametrize(
    ("ip", "ip16", "record", "error"),
    [
        ("8.8.8.8", b"\0" * 15, None, ValueError),
        ("8.8.8.8", bytearray(EIGHTS), None, TypeError),
        (b"8.8.8.8", EIGHTS, None, TypeError),
        ("8.8.8.8", EIGHTS, bytearray(60), TypeError),
    ],
)
def test_malformed_arguments_are_refused_alike(
    render: ModuleType, snapshot: Snapshot, ip, ip16, record, error: type
) -> None:
    with pytest.raises(error):
        render.render_check(ip, ip16, record, False, fragments_of(snapshot))


def test_check_json_refuses_a_bad_address(snapshot: Snapshot) -> None:
    with pytest.raises(InvalidAddressError):
        check_json(snapshot, "999.1.1.1")


def test_fragments_are_bytes_and_a_non_bytes_fragment_is_a_type_error(
    render: ModuleType, snapshot: Snapshot
) -> None:
    fragments = fragments_of(snapshot)
    assert isinstance(fragments, CheckFragments)
    broken = fragments._replace(tail="not bytes")
    with pytest.raises(TypeError):
        render.render_check("8.8.8.8", EIGHTS, None, False, broken)
