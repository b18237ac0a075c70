"""Table-driven tests of both IP core twins against ipaddress and socket.

Every case runs on the pure and the compiled twin (the ``ipcore`` fixture);
``ipaddress`` and ``socket`` are the oracles.
"""

import array
import ast
import importlib
import inspect
import ipaddress
import mmap
import os
import socket
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

import sikker.core.ipcore
from sikker.core import ipcore_py
from sikker.core.twins import truthy
from sikker.errors import InvalidAddressError

PUBLIC_NAMES = [
    "classify",
    "format_ip",
    "from_ip16",
    "pack_ip",
    "parse_cidr",
    "parse_ip",
    "render_ips",
    "to_ip16",
    "unpack_ip",
]


def oracle_ip(text: str) -> tuple[int, int] | None:
    """Return what ipaddress makes of ``text``, minus scope ids (rejected)."""
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if "%" in text:
        return None
    return address.version, int(address)


def outcome(func: object, *args: object) -> tuple[object, ...]:
    """Return ("ok", result) or ("error", class, text, reason) of a call."""
    try:
        return ("ok", func(*args))  # type: ignore[operator]
    except InvalidAddressError as ex:
        return ("error", type(ex), ex.text, ex.reason)


ADDRESS_CASES = [
    "1.2.3.4",
    "0.0.0.0",
    "255.255.255.255",
    "01.2.3.4",
    "1.2.3.04",
    "1.2.3.00",
    "0.0.0.00",
    "1.2.3",
    "1.2.3.4.5",
    "1.2.3.4.",
    ".1.2.3.4",
    "1..2.3",
    "256.1.1.1",
    "1.2.3.256",
    "1.2.3.1000",
    "999.1.1.1",
    " 1.2.3.4",
    "1.2.3.4 ",
    "1.2.3.4\n",
    "1.2.3.4\t",
    "1.2.3.4\x00",
    "",
    " ",
    ".",
    "...",
    ":",
    "::",
    "::1",
    "1::",
    ":::",
    "::::",
    ":1::",
    "::1:",
    "1:2:3:4:5:6:7:8",
    "1:2:3:4:5:6:7:8:9",
    "1:2:3:4:5:6:7",
    "1:2:3:4:5:6:7::",
    "::2:3:4:5:6:7:8",
    "1:2:3:4::5:6:7:8",
    "1::2::3",
    "1:::2",
    "::ffff:1.2.3.4",
    "::ffff:1.2.3.04",
    "::ffff:1.2.3",
    "::ffff:1.2.3.4.5",
    "::ffff:256.2.3.4",
    "::1.2.3.4",
    "1.2.3.4::",
    "1.2.3.4::1",
    "::1.2.3.4:5",
    "1:2:3:4:5:6:1.2.3.4",
    "1:2:3:4:5:6:7:1.2.3.4",
    "::1:2:3:4:5:1.2.3.4",
    "fe80::1%eth0",
    "fe80::1%",
    "fe80::1%1%2",
    "FE80::ABCD",
    "fE80::aBcD",
    "2001:DB8::1",
    "2001:db8:0:0:0:0:0:1",
    "2001:0db8:0000:0000:0000:0000:0000:0001",
    "12345::",
    "::12345",
    "00000::",
    "0000::",
    "g::1",
    "::ffff:a.2.3.4",
    "1.2.3.a",
    "\u0661.2.3.4",
    "1.2.3.\u0664",
    "\uff11.2.3.4",
    "::\uff46",
    "0x7f.1",
    "0x7f000001",
    "2130706433",
    "127.1",
    "1.2.3.4/32",
    "::/0",
    "abc",
    "deadbeef",
    "1" * 10_000,
    "1.2.3.4" + " " * 10_000,
    "::" + "0:" * 5_000 + "1",
    "a" * 46,
    "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255",
    "0fff:ffff:ffff:ffff:ffff:ffff:255.255.255.255",
]


@pytest.mark.parametrize("text", ADDRESS_CASES, ids=repr)
def test_edge_case_addresses_agree_with_ipaddress(
    ipcore: ModuleType, text: str
) -> None:
    expected = oracle_ip(text)
    result = outcome(ipcore.parse_ip, text)
    if expected is None:
        assert result[0] == "error"
        assert result[1] is InvalidAddressError
        assert result[2] == text
    else:
        assert result == ("ok", expected)
        assert ipcore.pack_ip(text) == expected[1].to_bytes(
            4 if expected[0] == 4 else 16, "big"
        )


@pytest.mark.parametrize("text", ADDRESS_CASES, ids=repr)
def test_twins_give_the_same_reason_for_each_edge_case(text: str) -> None:
    compiled = pytest.importorskip("sikker.ext.ipcore")
    for name in ("parse_ip", "pack_ip", "to_ip16", "parse_cidr"):
        assert outcome(getattr(compiled, name), text) == outcome(
            getattr(ipcore_py, name), text
        )


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "empty"),
        ("010.1.1.1", "leading zeros are not permitted"),
        ("::ffff:1.2.3.04", "leading zeros are not permitted"),
        ("256.1.1.1", "octet 256 out of range"),
        ("1.2.3.1000", "octet 1000 out of range"),
        ("1.2.3", "expected 4 octets, found 3"),
        ("1.2.3.4.5", "more than 4 octets"),
        ("1..3.4", "empty octet"),
        ("1.2.3.a", "octet 'a' is not decimal"),
        ("fe80::1%eth0", "scope ids are not accepted"),
        (" 1.2.3.4", "whitespace is not permitted"),
        ("1.2.3.4\n", "whitespace is not permitted"),
        ("\u0661.2.3.4", "non-ASCII characters are not permitted"),
        ("0x7f.1", "invalid character 'x'"),
        ("1.2.3.4/32", "'/' is not permitted in an address (parse it as a network)"),
        ("1234", "not an IPv4 or IPv6 address"),
        ("1::2::3", "at most one '::' is permitted"),
        (":::", "at most one '::' is permitted"),
        ("1.2.3.4::", "an embedded IPv4 address must come last"),
        (":1::", "a leading ':' must be part of '::'"),
        ("1::2:", "a trailing ':' must be part of '::'"),
        ("12345::", "hextet '12345' has more than 4 digits"),
        ("1:2:3:4:5:6:7:8:9", "too many groups"),
        ("1:2:3:4::5:6:7:8", "too many groups"),
        ("1:2:3", "too few groups (8 are needed without '::')"),
        ("1" * 100, "too long for an IP address"),
    ],
)
def test_errors_name_the_input_and_a_reason(
    ipcore: ModuleType, text: str, reason: str
) -> None:
    with pytest.raises(InvalidAddressError) as info:
        ipcore.parse_ip(text)
    assert info.value.text == text
    assert info.value.reason == reason
    assert isinstance(info.value, ValueError)


def test_leading_zeros_are_rejected_by_both_twins(ipcore: ModuleType) -> None:
    for text in ("01.2.3.4", "1.02.3.4", "1.2.003.4", "1.2.3.00", "::ffff:1.2.3.04"):
        with pytest.raises(InvalidAddressError, match="leading zeros"):
            ipcore.parse_ip(text)
    assert ipcore.parse_ip("0.0.0.0") == (4, 0)


def test_leading_zeros_in_hextets_are_accepted_like_ipaddress(
    ipcore: ModuleType,
) -> None:
    assert ipcore.parse_ip("0001:02::003") == (6, int(ipaddress.ip_address("1:2::3")))


def test_scope_ids_are_rejected_although_ipaddress_accepts_them(
    ipcore: ModuleType,
) -> None:
    assert ipaddress.ip_address("fe80::1%eth0").scope_id == "eth0"
    with pytest.raises(InvalidAddressError, match="scope ids"):
        ipcore.parse_ip("fe80::1%eth0")


@pytest.mark.parametrize(
    "func", ["parse_ip", "parse_cidr", "pack_ip", "to_ip16"], ids=str
)
@pytest.mark.parametrize("value", [b"1.2.3.4", 16909060, None, ["1.2.3.4"]], ids=repr)
def test_text_functions_reject_non_str_with_type_error(
    ipcore: ModuleType, func: str, value: object
) -> None:
    with pytest.raises(TypeError, match="must be str"):
        getattr(ipcore, func)(value)


def test_str_subclasses_are_accepted(ipcore: ModuleType) -> None:
    class Text(str):
        pass

    assert ipcore.parse_ip(Text("1.2.3.4")) == (4, 0x01020304)


# --- networks -------------------------------------------------------------------

CIDR_CASES = [
    "1.2.3.0/24",
    "1.2.3.4/24",
    "1.2.3.4/32",
    "1.2.3.4",
    "0.0.0.0/0",
    "1.2.3.4/0",
    "255.255.255.255/1",
    "1.2.3.0/024",
    "1.2.3.0/" + "0" * 40 + "24",
    "1.2.3.0/33",
    "1.2.3.0/-1",
    "1.2.3.0/+24",
    "1.2.3.0/ 24",
    "1.2.3.0/24 ",
    "1.2.3.0/",
    "/24",
    "/",
    "1.2.3.0/24/8",
    "1.2.3.0//24",
    "1.2.3.0/2a",
    "1.2.3.0/\u0662\u0664",
    "::/0",
    "::1/128",
    "::1/127",
    "2001:db8::/32",
    "2001:db8::1/32",
    "2001:db8::/129",
    "2001:db8::/064",
    "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/64",
    "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/63",
    "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/65",
    "::ffff:1.2.3.4/96",
    "::ffff:1.2.3.4/120",
    "fe80::%eth0/64",
    "01.2.3.0/24",
]


@pytest.mark.parametrize("strict", [True, False])
@pytest.mark.parametrize("text", CIDR_CASES, ids=repr)
def test_networks_agree_with_ip_network(
    ipcore: ModuleType, text: str, strict: bool
) -> None:
    try:
        network = ipaddress.ip_network(text, strict=strict)
        expected: tuple[int, int, int] | None = (
            network.version,
            int(network.network_address),
            network.prefixlen,
        )
    except ValueError:
        expected = None
    if "%" in text:
        expected = None
    result = outcome(ipcore.parse_cidr, text, strict)
    if expected is None:
        assert result[:3] == ("error", InvalidAddressError, text)
    else:
        assert result == ("ok", expected)


@pytest.mark.parametrize(
    "text", ["1.2.3.0/255.255.255.0", "1.2.3.0/0.0.0.255", "0.0.0.0/0.0.0.0"]
)
def test_netmask_forms_are_rejected_with_a_hint(ipcore: ModuleType, text: str) -> None:
    ipaddress.ip_network(text)  # ipaddress accepts them: a documented divergence
    with pytest.raises(InvalidAddressError, match="use a prefix length"):
        ipcore.parse_cidr(text)


def test_host_bits_fail_strict_and_are_masked_otherwise(ipcore: ModuleType) -> None:
    with pytest.raises(InvalidAddressError, match=r"the network is 1\.2\.3\.0/24"):
        ipcore.parse_cidr("1.2.3.4/24")
    with pytest.raises(InvalidAddressError, match="the network is 2001:db8::/32"):
        ipcore.parse_cidr("2001:db8::1/32")
    assert ipcore.parse_cidr("1.2.3.4/24", strict=False) == (4, 0x01020300, 24)
    assert ipcore.parse_cidr("2001:db8::1/32", False) == (6, 0x20010DB8 << 96, 32)


def test_a_bare_address_is_a_full_length_network(ipcore: ModuleType) -> None:
    assert ipcore.parse_cidr("1.2.3.4") == (4, 0x01020304, 32)
    assert ipcore.parse_cidr("::1") == (6, 1, 128)


# --- formatting and packing ------------------------------------------------------

FORMAT_CASES = [
    (4, 0),
    (4, 0x01020304),
    (4, 0xFFFFFFFF),
    (6, 0),
    (6, 1),
    (6, 1 << 112),
    (6, (1 << 128) - 1),
    (6, 0xFFFF01020304),
    (6, 0x01020304),
    (6, int(ipaddress.ip_address("2001:db8:0:1:1:1:1:1"))),
    (6, int(ipaddress.ip_address("2001:0:0:1::1"))),
    (6, int(ipaddress.ip_address("1:0:0:2:0:0:0:3"))),
    (6, int(ipaddress.ip_address("1:0:2:0:3:0:4:0"))),
    (6, int(ipaddress.ip_address("0:0:1:0:0:1:0:0"))),
    (6, int(ipaddress.ip_address("a:b:c:d:e:f:0:0"))),
]


@pytest.mark.parametrize(("version", "value"), FORMAT_CASES)
def test_format_matches_python_311_ipaddress(
    ipcore: ModuleType, version: int, value: int
) -> None:
    cls = ipaddress.IPv4Address if version == 4 else ipaddress.IPv6Address
    assert ipcore.format_ip(version, value) == str(cls(value))


def test_ipv4_mapped_formats_as_hex_like_ipaddress(ipcore: ModuleType) -> None:
    assert ipcore.format_ip(6, 0xFFFF01020304) == "::ffff:102:304"


@pytest.mark.parametrize(
    ("version", "value", "error"),
    [
        (4, -1, InvalidAddressError),
        (4, 1 << 32, InvalidAddressError),
        (6, 1 << 128, InvalidAddressError),
        (6, -1, InvalidAddressError),
        (5, 1, ValueError),
        (0, 0, ValueError),
        (4.0, 1, TypeError),
        (4, 1.0, TypeError),
        (4, "1", TypeError),
        (4, None, TypeError),
    ],
)
def test_format_and_classify_reject_bad_values(
    ipcore: ModuleType, version: object, value: object, error: type[Exception]
) -> None:
    with pytest.raises(error):
        ipcore.format_ip(version, value)
    with pytest.raises(error):
        ipcore.classify(version, value)


def test_integer_likes_are_accepted_as_values(ipcore: ModuleType) -> None:
    assert ipcore.format_ip(np.int64(4), np.uint32(0x01020304)) == "1.2.3.4"
    assert ipcore.format_ip(6, True) == "::1"


@pytest.mark.parametrize(
    "text", ["1.2.3.4", "0.0.0.0", "::", "::1", "2001:db8::1", "::ffff:1.2.3.4"]
)
def test_pack_matches_inet_pton_and_unpack_inverts_it(
    ipcore: ModuleType, text: str
) -> None:
    family = socket.AF_INET6 if ":" in text else socket.AF_INET
    packed = ipcore.pack_ip(text)
    assert packed == socket.inet_pton(family, text)
    assert ipcore.unpack_ip(packed) == str(ipaddress.ip_address(packed))
    assert ipcore.pack_ip(ipcore.unpack_ip(packed)) == packed


def test_unpack_accepts_bytes_likes(ipcore: ModuleType) -> None:
    assert ipcore.unpack_ip(bytearray(b"\x01\x02\x03\x04")) == "1.2.3.4"
    assert ipcore.unpack_ip(memoryview(bytes(16))) == "::"
    assert ipcore.from_ip16(memoryview(bytes(16))) == "::"


@pytest.mark.parametrize("length", [0, 1, 3, 5, 15, 17, 32])
def test_unpack_rejects_wrong_lengths(ipcore: ModuleType, length: int) -> None:
    with pytest.raises(InvalidAddressError, match=f"got {length}"):
        ipcore.unpack_ip(bytes(length))
    with pytest.raises(InvalidAddressError, match=f"got {length}"):
        ipcore.from_ip16(bytes(length))


@pytest.mark.parametrize("func", ["unpack_ip", "from_ip16"])
@pytest.mark.parametrize("value", ["1.2.3.4", 16, None])
def test_unpack_rejects_non_buffers_with_type_error(
    ipcore: ModuleType, func: str, value: object
) -> None:
    with pytest.raises(TypeError):
        getattr(ipcore, func)(value)


def test_ipv4_and_its_mapped_form_share_one_storage_key(ipcore: ModuleType) -> None:
    key = ipcore.to_ip16("1.2.3.4")
    assert key == bytes(10) + b"\xff\xff\x01\x02\x03\x04"
    assert ipcore.to_ip16("::ffff:1.2.3.4") == key
    assert ipcore.to_ip16("::FFFF:102:304") == key
    assert ipcore.from_ip16(key) == "1.2.3.4"


def test_storage_form_of_ipv6_is_the_packed_address(ipcore: ModuleType) -> None:
    assert ipcore.to_ip16("2001:db8::1") == socket.inet_pton(
        socket.AF_INET6, "2001:db8::1"
    )
    assert ipcore.from_ip16(ipcore.to_ip16("2001:DB8::1")) == "2001:db8::1"
    assert ipcore.from_ip16(ipcore.to_ip16("::1.2.3.4")) == "::102:304"


# --- classification ----------------------------------------------------------------

CLASSIFY_CASES = [
    # IPv4, inside and just outside each block
    ("0.0.0.0", "unspecified"),
    ("0.0.0.1", "reserved"),
    ("0.255.255.255", "reserved"),
    ("1.0.0.0", None),
    ("9.255.255.255", None),
    ("10.0.0.0", "private"),
    ("10.255.255.255", "private"),
    ("11.0.0.0", None),
    ("100.63.255.255", None),
    ("100.64.0.0", "shared"),
    ("100.127.255.255", "shared"),
    ("100.128.0.0", None),
    ("126.255.255.255", None),
    ("127.0.0.1", "loopback"),
    ("127.255.255.255", "loopback"),
    ("128.0.0.0", None),
    ("169.253.255.255", None),
    ("169.254.0.1", "link-local"),
    ("169.255.0.0", None),
    ("172.15.255.255", None),
    ("172.16.0.0", "private"),
    ("172.31.255.255", "private"),
    ("172.32.0.0", None),
    ("191.255.255.255", None),
    ("192.0.0.0", "reserved"),
    ("192.0.0.8", "reserved"),
    ("192.0.0.9", None),
    ("192.0.0.10", None),
    ("192.0.0.11", "reserved"),
    ("192.0.0.170", "reserved"),
    ("192.0.0.255", "reserved"),
    ("192.0.1.0", None),
    ("192.0.2.0", "documentation"),
    ("192.0.2.255", "documentation"),
    ("192.0.3.0", None),
    ("192.31.196.1", None),
    ("192.52.193.1", None),
    ("192.88.98.255", None),
    ("192.88.99.1", "reserved"),
    ("192.88.99.2", "reserved"),
    ("192.88.100.0", None),
    ("192.167.255.255", None),
    ("192.168.1.1", "private"),
    ("192.169.0.0", None),
    ("192.175.48.1", None),
    ("198.17.255.255", None),
    ("198.18.0.0", "benchmarking"),
    ("198.19.255.255", "benchmarking"),
    ("198.20.0.0", None),
    ("198.51.100.7", "documentation"),
    ("198.51.101.0", None),
    ("203.0.112.255", None),
    ("203.0.113.255", "documentation"),
    ("203.0.114.0", None),
    ("8.8.8.8", None),
    ("223.255.255.255", None),
    ("224.0.0.1", "multicast"),
    ("239.255.255.255", "multicast"),
    ("240.0.0.1", "reserved"),
    ("255.255.255.255", "reserved"),
    # IPv6
    ("::", "unspecified"),
    ("::1", "loopback"),
    ("::2", "reserved"),
    ("::1.2.3.4", "reserved"),
    ("::ffff:0:1.2.3.4", "reserved"),
    ("ff:ffff::", "reserved"),
    ("::ffff:10.0.0.1", "private"),
    ("::ffff:8.8.8.8", None),
    ("::ffff:127.0.0.1", "loopback"),
    ("::ffff:0.0.0.0", "unspecified"),
    ("64:ff9b::a00:1", "private"),
    ("64:ff9b::808:808", None),
    ("64:ff9b::c000:201", "documentation"),
    ("64:ff9b:1::1", "private"),
    ("64:ff9b:1:ffff:ffff:ffff:ffff:ffff", "private"),
    ("64:ff9b:2::", "reserved"),
    ("100::1", "reserved"),
    ("100:0:0:1::1", "reserved"),
    ("2001::f5ff:fffe", "private"),
    ("2001:0:4136:e378:8000:63bf:f7f7:f7f7", None),
    ("2001:0:ffff:ffff:ffff:ffff:5601:fffe", "link-local"),
    ("2001:1::1", None),
    ("2001:1::2", None),
    ("2001:1::3", None),
    ("2001:1::4", "reserved"),
    ("2001:2::1", "benchmarking"),
    ("2001:2:0:ffff::", "benchmarking"),
    ("2001:2:1::", "reserved"),
    ("2001:3::1", None),
    ("2001:4:112::1", None),
    ("2001:4:113::", "reserved"),
    ("2001:10::1", "reserved"),
    ("2001:1f:ffff::", "reserved"),
    ("2001:20::1", None),
    ("2001:2f:ffff::", None),
    ("2001:30::1", None),
    ("2001:3f:ffff::", None),
    ("2001:40::1", "reserved"),
    ("2001:1ff:ffff:ffff::", "reserved"),
    ("2001:200::1", None),
    ("2001:db7:ffff::", None),
    ("2001:db8::1", "documentation"),
    ("2001:db8:ffff::", "documentation"),
    ("2001:db9::", None),
    ("2002:a00:1::", "private"),
    ("2002:808:808::", None),
    ("2002:c000:204::1", "documentation"),
    ("2002::", "unspecified"),
    ("1fff:ffff::", "reserved"),
    ("2000::", None),
    ("2606:4700::1111", None),
    ("2620:4f:8000::1", None),
    ("3ffe::1", None),
    ("3fff::1", "documentation"),
    ("3fff:fff:ffff::", "documentation"),
    ("3fff:1000::", None),
    ("4000::1", "reserved"),
    ("5f00::1", "reserved"),
    ("fbff:ffff::", "reserved"),
    ("fc00::1", "private"),
    ("fd12:3456::1", "private"),
    ("fe00::", "reserved"),
    ("fe80::1", "link-local"),
    ("febf:ffff::", "link-local"),
    ("fec0::1", "reserved"),
    ("ff00::", "multicast"),
    ("ff02::1", "multicast"),
]


@pytest.mark.parametrize(("text", "reason"), CLASSIFY_CASES)
def test_classification_follows_the_iana_registries(
    ipcore: ModuleType, text: str, reason: str | None
) -> None:
    assert ipcore.classify(*ipcore.parse_ip(text)) == reason


def test_ipv4_in_nat64_6to4_and_teredo_is_judged_by_the_ipv4(
    ipcore: ModuleType,
) -> None:
    assert ipcore.classify(*ipcore.parse_ip("::ffff:10.0.0.1")) == "private"
    assert ipcore.classify(*ipcore.parse_ip("64:ff9b::a00:1")) == "private"
    assert ipcore.classify(*ipcore.parse_ip("2002:a00:1::")) == "private"
    assert ipcore.classify(*ipcore.parse_ip("2002:808:808::")) is None
    teredo = (0x2001 << 112) | (0x0A000001 ^ 0xFFFFFFFF)  # client 10.0.0.1
    assert ipcore.classify(6, teredo) == "private"


# --- rendering -------------------------------------------------------------------

RENDER_TEXTS = ["1.2.3.4", "::", "2001:db8::1", "255.255.255.255", "::ffff:0:0", "::1"]


def render_reference(
    texts: list[str], rows: list[int], prefix: bytes, suffix: bytes
) -> bytes:
    return b"".join(
        prefix + ipcore_py.from_ip16(ipcore_py.to_ip16(texts[row])).encode() + suffix
        for row in rows
    )


@pytest.mark.parametrize(
    ("prefix", "suffix"),
    [(b"", b"\n"), (b"add bad ", b"\r\n"), (b"", b""), (b"\xff", b",")],
)
def test_render_writes_prefix_text_suffix_per_row(
    ipcore: ModuleType, prefix: bytes, suffix: bytes
) -> None:
    column = b"".join(ipcore.to_ip16(text) for text in RENDER_TEXTS)
    rows = [5, 0, 0, 2, 1, 4, 3]
    expected = render_reference(RENDER_TEXTS, rows, prefix, suffix)
    assert ipcore.render_ips(column, array.array("I", rows), prefix, suffix) == expected


def test_render_reads_any_buffer(ipcore: ModuleType, tmp_path: Path) -> None:
    column = b"".join(ipcore.to_ip16(text) for text in RENDER_TEXTS)
    rows = list(range(len(RENDER_TEXTS)))
    expected = render_reference(RENDER_TEXTS, rows, b"", b"\n")
    path = tmp_path / "column"
    path.write_bytes(column)
    with (
        path.open("rb") as handle,
        mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as mapped,
    ):
        columns = [
            column,
            bytearray(column),
            memoryview(column),
            np.frombuffer(column, dtype=np.uint8).reshape(-1, 16),
            mapped,
        ]
        row_buffers = [
            array.array("I", rows),
            np.array(rows, dtype=np.uint32),
            memoryview(array.array("I", rows)),
            memoryview(np.array(rows, dtype=np.uint32).tobytes()).cast("I"),
        ]
        for col in columns:
            for row_buffer in row_buffers:
                assert ipcore.render_ips(col, row_buffer) == expected
        del columns  # release the mmap exports before it closes


def test_render_of_a_large_job_matches_the_pure_twin(ipcore: ModuleType) -> None:
    # NOTE: above 4,096 rows the compiled twin renders without the GIL.
    values = np.arange(6_000, dtype=np.uint64) * 7_919_993
    keys = [ipcore_py.to_ip16(ipcore_py.format_ip(4, int(v) % 2**32)) for v in values]
    keys += [(int(v) << 90 | 1).to_bytes(16, "big") for v in values[:3_000]]
    column = b"".join(keys)
    rows = np.arange(len(keys), dtype=np.uint32)[::-1].copy()
    expected = ipcore_py.render_ips(column, rows, b"deny ", b";\n")
    assert ipcore.render_ips(column, rows, b"deny ", b";\n") == expected


def test_render_of_no_rows_is_empty(ipcore: ModuleType) -> None:
    assert ipcore.render_ips(b"", array.array("I")) == b""
    assert ipcore.render_ips(bytes(32), np.zeros(0, dtype=np.uint32), b"x", b"y") == b""


def test_render_rejects_rows_out_of_range_with_index_error(ipcore: ModuleType) -> None:
    column = bytes(32)
    with pytest.raises(IndexError, match="row 2 out of range"):
        ipcore.render_ips(column, array.array("I", [0, 1, 2, 1]))
    with pytest.raises(IndexError):
        ipcore.render_ips(b"", array.array("I", [0]))
    with pytest.raises(IndexError):
        ipcore.render_ips(column, np.array([0, 2**32 - 1], dtype=np.uint32))


def test_render_rejects_bad_buffers(ipcore: ModuleType) -> None:
    with pytest.raises(ValueError, match="multiple of 16"):
        ipcore.render_ips(bytes(17), array.array("I", [0]))
    with pytest.raises(TypeError, match="uint32"):
        ipcore.render_ips(bytes(16), np.array([0], dtype=np.int64))
    with pytest.raises(TypeError, match="uint32"):
        ipcore.render_ips(bytes(16), b"\0\0\0\0")
    with pytest.raises(TypeError):
        ipcore.render_ips(bytes(16), [0])
    with pytest.raises(TypeError):
        ipcore.render_ips("not bytes", array.array("I", [0]))
    with pytest.raises(TypeError):
        ipcore.render_ips(bytes(16), array.array("I", [0]), "str prefix")


# --- the twins themselves -----------------------------------------------------------


def test_compiled_twin_is_selected_when_importable() -> None:
    if truthy(os.environ.get("SIKKER_PURE")):
        assert sikker.core.ipcore.IMPLEMENTATION == "pure"
        return
    try:
        compiled = importlib.import_module("sikker.ext.ipcore")
    except ImportError:
        if truthy(os.environ.get("SIKKER_REQUIRE_EXTENSION")):
            pytest.fail(
                "SIKKER_REQUIRE_EXTENSION is set but sikker.ext.ipcore is missing"
            )
        assert sikker.core.ipcore.IMPLEMENTATION == "pure"
        return
    assert sikker.core.ipcore.IMPLEMENTATION == "cython"
    assert sikker.core.ipcore.parse_ip is compiled.parse_ip
    assert "cyfunction" in repr(sikker.core.ipcore.parse_ip)


def test_selector_reexports_every_public_name() -> None:
    assert sorted(sikker.core.ipcore.__all__) == sorted(
        ["IMPLEMENTATION", *PUBLIC_NAMES]
    )
    for name in PUBLIC_NAMES:
        assert callable(getattr(sikker.core.ipcore, name))


def test_twins_export_the_same_public_names(ipcore: ModuleType) -> None:
    assert sorted(ipcore.__all__) == PUBLIC_NAMES
    public = {
        name
        for name, value in vars(ipcore).items()
        if not name.startswith("_") and callable(value) and not isinstance(value, type)
    }
    assert public == set(PUBLIC_NAMES)


def docstring(func: object) -> str:
    """Return a function's docstring without Cython's embedded signature."""
    doc = inspect.getdoc(func) or ""
    name = getattr(func, "__name__", "")
    if doc.startswith(f"{name}("):
        doc = doc.split("\n", 1)[1].lstrip("\n")
    return doc


@pytest.mark.parametrize("name", PUBLIC_NAMES)
def test_twins_have_the_same_docstrings_and_parameters(
    ipcore: ModuleType, name: str
) -> None:
    reference = getattr(ipcore_py, name)
    func = getattr(ipcore, name)
    assert docstring(func) == docstring(reference)
    summary = docstring(reference).splitlines()[0]
    assert len(summary) <= 70 and summary.endswith(".")
    ours = inspect.signature(func).parameters.values()
    theirs = inspect.signature(reference).parameters.values()
    assert [(p.name, p.default) for p in ours] == [(p.name, p.default) for p in theirs]


def test_type_stub_matches_the_pure_twin() -> None:
    stub = Path(ipcore_py.__file__).resolve().parent.parent / "ext" / "ipcore.pyi"
    tree = ast.parse(stub.read_text())
    functions = {
        node.name: ast.get_docstring(node)
        for node in tree.body
        if isinstance(node, ast.FunctionDef)
    }
    assert sorted(functions) == PUBLIC_NAMES
    for name, doc in functions.items():
        assert doc == docstring(getattr(ipcore_py, name))
