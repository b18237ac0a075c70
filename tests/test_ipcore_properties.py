"""Property tests: both IP core twins against ipaddress, socket and each other."""

import array
import ipaddress
import socket
from types import ModuleType

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sikker.core import ipcore_py
from sikker.errors import InvalidAddressError

# NOTE: the ``ipcore`` fixture only selects a module, so reusing it across
# examples is safe; keep the CI profile's too_slow suppression as well.
fixture_ok = settings(
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)

V4_MAX = 2**32 - 1
V6_MAX = 2**128 - 1
MAPPED = 0xFFFF << 32

v4_values = st.integers(0, V4_MAX)
v6_values = st.one_of(
    st.integers(0, V6_MAX),
    # zero runs are what compression is about
    st.lists(st.sampled_from([0, 0, 0, 1, 0xFFFF, 0x1234]), min_size=8, max_size=8).map(
        lambda groups: int.from_bytes(b"".join(g.to_bytes(2, "big") for g in groups))
    ),
    v4_values.map(lambda value: MAPPED | value),
)


def oracle_ip(text: str) -> tuple[int, int] | None:
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if "%" in text:
        return None  # scope ids are rejected on purpose
    return address.version, int(address)


def outcome(func: object, *args: object) -> tuple[object, ...]:
    try:
        return ("ok", func(*args))  # type: ignore[operator]
    except InvalidAddressError as ex:
        return ("error", type(ex), ex.text, ex.reason)


def assert_agrees(ipcore: ModuleType, text: str) -> None:
    """Assert ``ipcore`` accepts ``text`` as ipaddress does, like the pure twin."""
    expected = oracle_ip(text)
    result = outcome(ipcore.parse_ip, text)
    if expected is None:
        assert result[:3] == ("error", InvalidAddressError, text)
    else:
        assert result == ("ok", expected)
    assert result == outcome(ipcore_py.parse_ip, text)


@st.composite
def ipv6_texts(draw: st.DrawFn) -> str:
    """Draw IPv6 text in any legal spelling: padding, case, '::', dotted tail."""
    value = draw(v6_values)
    groups = [value >> shift & 0xFFFF for shift in range(112, -16, -16)]
    words = []
    for group in groups:
        word = f"{group:x}".rjust(draw(st.integers(1, 4)), "0")
        words.append(word.upper() if draw(st.booleans()) else word)
    if draw(st.booleans()):
        words[6:] = [str(ipaddress.IPv4Address(value & V4_MAX))]
    zeros = [
        i for i, word in enumerate(words) if "." not in word and int(word, 16) == 0
    ]
    if zeros and draw(st.booleans()):
        start = draw(st.sampled_from(zeros))
        stop = start + 1
        while stop in zeros and draw(st.booleans()):
            stop += 1
        return ":".join(words[:start]) + "::" + ":".join(words[stop:])
    return ":".join(words)


@fixture_ok
@given(v4_values)
def test_ipv4_text_from_ipaddress_parses_to_its_value(
    ipcore: ModuleType, value: int
) -> None:
    text = str(ipaddress.IPv4Address(value))
    assert ipcore.parse_ip(text) == (4, value)
    assert ipcore.pack_ip(text) == socket.inet_pton(socket.AF_INET, text)


@fixture_ok
@given(v6_values, st.sampled_from(["compressed", "exploded", "upper"]))
def test_ipv6_text_from_ipaddress_parses_to_its_value(
    ipcore: ModuleType, value: int, form: str
) -> None:
    address = ipaddress.IPv6Address(value)
    text = {
        "compressed": address.compressed,
        "exploded": address.exploded,
        "upper": address.compressed.upper(),
    }[form]
    assert ipcore.parse_ip(text) == (6, value)
    assert ipcore.pack_ip(text) == socket.inet_pton(socket.AF_INET6, text)


@fixture_ok
@given(ipv6_texts())
def test_any_legal_ipv6_spelling_parses_like_ipaddress(
    ipcore: ModuleType, text: str
) -> None:
    assert oracle_ip(text) is not None
    assert_agrees(ipcore, text)


@fixture_ok
@given(st.text(alphabet="0123456789abcdefABCDEF:./% x", max_size=50))
def test_random_text_is_judged_like_ipaddress(ipcore: ModuleType, text: str) -> None:
    assert_agrees(ipcore, text)


tokens = st.sampled_from(
    [
        "",
        "0",
        "1",
        "00",
        "01",
        "fF",
        "ffff",
        "0ffff",
        "12345",
        "1.2.3.4",
        "01.2.3.4",
        "1.2.3",
        "255.255.255.255",
        "256.0.0.1",
        "1.2.3.4.5",
        " 1",
        "1%e",
        "\u0663",
    ]
)


@fixture_ok
@given(st.lists(tokens, min_size=1, max_size=11), st.sampled_from([":", "."]))
def test_token_soup_is_judged_like_ipaddress(
    ipcore: ModuleType, parts: list[str], separator: str
) -> None:
    assert_agrees(ipcore, separator.join(parts))


@fixture_ok
@given(
    st.one_of(
        v4_values.map(lambda value: (4, value)),
        v6_values.map(lambda value: (6, value)),
    ),
    st.integers(0, 128),
    st.booleans(),
)
def test_networks_agree_with_ip_network(
    ipcore: ModuleType, address: tuple[int, int], length: int, strict: bool
) -> None:
    version, value = address
    cls = ipaddress.IPv4Address if version == 4 else ipaddress.IPv6Address
    text = f"{cls(value)}/{length}"
    try:
        network = ipaddress.ip_network(text, strict=strict)
        expected = (
            "ok",
            (network.version, int(network.network_address), network.prefixlen),
        )
    except ValueError:
        expected = None
    result = outcome(ipcore.parse_cidr, text, strict)
    if expected is None:
        assert result[:3] == ("error", InvalidAddressError, text)
    else:
        assert result == expected
    assert result == outcome(ipcore_py.parse_cidr, text, strict)


@fixture_ok
@given(st.text(alphabet="0123456789abcdef:./", max_size=50), st.booleans())
def test_random_network_text_is_judged_like_ip_network(
    ipcore: ModuleType, text: str, strict: bool
) -> None:
    try:
        network = ipaddress.ip_network(text, strict=strict)
        expected = (
            "ok",
            (network.version, int(network.network_address), network.prefixlen),
        )
    except ValueError:
        expected = None
    if expected is not None and "." in text.partition("/")[2]:
        expected = None  # netmask forms are rejected on purpose
    result = outcome(ipcore.parse_cidr, text, strict)
    if expected is None:
        assert result[:3] == ("error", InvalidAddressError, text)
    else:
        assert result == expected
    assert result == outcome(ipcore_py.parse_cidr, text, strict)


@fixture_ok
@given(v4_values)
def test_ipv4_format_round_trips(ipcore: ModuleType, value: int) -> None:
    text = ipcore.format_ip(4, value)
    assert text == str(ipaddress.IPv4Address(value))
    assert ipcore.parse_ip(text) == (4, value)


@fixture_ok
@given(v6_values)
def test_ipv6_format_round_trips(ipcore: ModuleType, value: int) -> None:
    text = ipcore.format_ip(6, value)
    assert text == str(ipaddress.IPv6Address(value))
    assert ipcore.parse_ip(text) == (6, value)


@fixture_ok
@given(
    st.one_of(st.binary(min_size=4, max_size=4), st.binary(min_size=16, max_size=16))
)
def test_unpack_inverts_pack_and_agrees_with_inet_ntop(
    ipcore: ModuleType, packed: bytes
) -> None:
    family = socket.AF_INET if len(packed) == 4 else socket.AF_INET6
    text = ipcore.unpack_ip(packed)
    assert text == str(ipaddress.ip_address(packed))
    assert ipcore.pack_ip(text) == packed
    assert socket.inet_pton(family, text) == packed
    assert ipcore.pack_ip(socket.inet_ntop(family, packed)) == packed


@fixture_ok
@given(st.binary(min_size=16, max_size=16), st.booleans())
def test_storage_form_round_trips(
    ipcore: ModuleType, packed: bytes, mapped: bool
) -> None:
    if mapped:
        packed = bytes(10) + b"\xff\xff" + packed[12:]
    text = ipcore.from_ip16(packed)
    assert ipcore.to_ip16(text) == packed
    value = int.from_bytes(packed, "big")
    if value >> 32 == 0xFFFF:
        assert text == str(ipaddress.IPv4Address(value & V4_MAX))
    else:
        assert text == str(ipaddress.IPv6Address(value))
    assert ipcore.from_ip16(packed) == ipcore_py.from_ip16(packed)


@fixture_ok
@given(
    st.lists(
        st.one_of(
            v4_values.map(lambda value: (MAPPED | value).to_bytes(16, "big")),
            v6_values.map(lambda value: value.to_bytes(16, "big")),
        ),
        max_size=20,
    ),
    st.data(),
    st.binary(max_size=12),
    st.binary(max_size=4),
)
def test_render_equals_a_join_of_from_ip16(
    ipcore: ModuleType,
    keys: list[bytes],
    data: st.DataObject,
    prefix: bytes,
    suffix: bytes,
) -> None:
    rows = (
        data.draw(st.lists(st.integers(0, max(len(keys) - 1, 0)), max_size=40))
        if keys
        else []
    )
    column = b"".join(keys)
    expected = b"".join(
        prefix + ipcore.from_ip16(keys[row]).encode() + suffix for row in rows
    )
    assert ipcore.render_ips(column, array.array("I", rows), prefix, suffix) == expected


def embedded_forms(v4: int) -> dict[str, int]:
    return {
        "mapped": MAPPED | v4,
        "nat64": 0x64FF9B << 96 | v4,
        "6to4": 0x2002 << 112 | v4 << 80 | 0xABCD << 64 | 0x1234,
        "teredo": 0x2001 << 112 | 0x41364242 << 64 | 0x8000 << 48 | (v4 ^ V4_MAX),
    }


special_v4 = st.sampled_from(
    [
        0x00000000,
        0x0A000001,
        0x64400001,
        0x7F000001,
        0xA9FE0001,
        0xAC100001,
        0xC0000001,
        0xC0000009,
        0xC0000201,
        0xC0586301,
        0xC0A80001,
        0xC6120001,
        0xC6336401,
        0xCB007101,
        0xE0000001,
        0xF0000001,
        0xFFFFFFFF,
        0x08080808,
    ]
)


@fixture_ok
@given(st.one_of(v4_values, special_v4))
def test_embedded_ipv4_is_classified_as_the_ipv4(ipcore: ModuleType, v4: int) -> None:
    expected = ipcore.classify(4, v4)
    for form, value in embedded_forms(v4).items():
        assert ipcore.classify(6, value) == expected, form


def table_edges() -> list[tuple[int, int]]:
    """Return addresses at and around every boundary of the pure twin's tables."""
    edges = []
    for version, table, width in (
        (4, ipcore_py._V4_TABLE, 32),
        (6, ipcore_py._V6_TABLE, 128),
    ):
        for network, length, _reason in table:
            first = network >> (width - length) << (width - length)
            last = first | ((1 << (width - length)) - 1)
            for value in (first - 1, first, first + 1, last - 1, last, last + 1):
                if 0 <= value < 1 << width:
                    edges.append((version, value))
    return edges


@fixture_ok
@given(
    st.one_of(
        st.sampled_from(table_edges()),
        v4_values.map(lambda value: (4, value)),
        v6_values.map(lambda value: (6, value)),
    )
)
def test_twins_classify_alike(ipcore: ModuleType, address: tuple[int, int]) -> None:
    assert ipcore.classify(*address) == ipcore_py.classify(*address)


def test_twins_classify_every_table_edge_alike(ipcore: ModuleType) -> None:
    for address in table_edges():
        assert ipcore.classify(*address) == ipcore_py.classify(*address), address
