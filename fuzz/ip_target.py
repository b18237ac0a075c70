"""Harness: the IP/CIDR parsers and formatters of both twins, and ``ipaddress``.

The input's bytes are decoded as UTF-8 (undecodable bytes become lone
surrogates, which the parsers must refuse like any non-ASCII text). Both
twins must give the same value or the same ``InvalidAddressError`` for every
function, and agree with ``ipaddress`` except where docs/ipcore.md lists a
divergence (scope ids, netmask prefixes). The raw bytes also go through
``unpack_ip``, ``from_ip16`` and ``render_ips``.
"""

import ipaddress
from array import array
from functools import partial
from types import ModuleType
from typing import Any

from fuzz.outcome import Outcome, agree, outcome
from fuzz.twins import implementations
from sikker.errors import InvalidAddressError


def _each(impls: list[ModuleType], label: str, name: str, *args: Any) -> Outcome:
    return agree(
        label,
        [
            outcome(partial(getattr(impl, name), *args), InvalidAddressError)
            for impl in impls
        ],
    )


def _oracle_address(text: str, parsed: Outcome) -> None:
    """``parse_ip`` accepts exactly what ``ipaddress.ip_address`` accepts."""
    try:
        expected = ipaddress.ip_address(text)
    except ValueError:
        assert parsed[0] == "error", f"{text!r}: accepted, ipaddress refuses it"
        return
    if "%" in text:  # scope ids: refused on purpose
        assert parsed[0] == "error", f"{text!r}: a scope id was accepted"
        return
    assert parsed == ("ok", (expected.version, int(expected))), (
        f"{text!r}: {parsed!r}, ipaddress says {expected!r}"
    )


def _netmask_form(text: str) -> bool:
    """Return True for ``address/mask`` where the mask is not a prefix length."""
    _, slash, prefix = text.partition("/")
    return bool(slash) and not (prefix.isascii() and prefix.isdigit())


def _oracle_network(text: str, strict: bool, parsed: Outcome) -> None:
    """``parse_cidr`` agrees with ``ipaddress.ip_network`` (documented divergences)."""
    try:
        expected = ipaddress.ip_network(text, strict=strict)
    except ValueError:
        assert parsed[0] == "error", f"{text!r}: accepted, ipaddress refuses it"
        return
    if "%" in text or _netmask_form(text):
        assert parsed[0] == "error", f"{text!r}: a documented refusal was accepted"
        return
    network = (expected.version, int(expected.network_address), expected.prefixlen)
    assert parsed == ("ok", network), f"{text!r}: {parsed!r}, ipaddress: {network}"


def _formats(impls: list[ModuleType], text: str, version: int, value: int) -> None:
    """Formatting what was parsed gives ``ipaddress``'s text and bytes."""
    address = ipaddress.ip_address(text)
    formatted = _each(impls, "format_ip", "format_ip", version, value)
    assert formatted == ("ok", str(address)), (text, formatted)
    packed = _each(impls, "pack_ip", "pack_ip", text)
    assert packed == ("ok", address.packed), (text, packed)
    assert _each(impls, "unpack_ip", "unpack_ip", address.packed) == formatted
    ip16 = _each(impls, "to_ip16", "to_ip16", text)
    assert ip16[0] == "ok" and len(ip16[1]) == 16, (text, ip16)
    back = _each(impls, "from_ip16", "from_ip16", ip16[1])
    mapped = isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped
    shown = mapped or address
    assert back == ("ok", str(shown)), (text, back)
    _each(impls, "classify", "classify", version, value)


def _raw(impls: list[ModuleType], data: bytes) -> None:
    """Bytes as packed addresses and as a storage-form column."""
    _each(impls, "unpack_ip", "unpack_ip", data)
    _each(impls, "from_ip16", "from_ip16", data[:16])
    column = data[: len(data) // 16 * 16]
    rows = array("I", reversed(range(len(column) // 16)))
    _each(impls, "render_ips", "render_ips", column, rows, b"<", b">\n")


def fuzz_ipcore(data: bytes) -> None:
    """Check every IP core function on one input; assert on any finding."""
    impls = implementations()
    text = data.decode("utf-8", "surrogateescape")
    parsed = _each(impls, "parse_ip", "parse_ip", text)
    _oracle_address(text, parsed)
    if parsed[0] == "ok":
        _formats(impls, text, *parsed[1])
    for strict in (True, False):
        network = _each(impls, "parse_cidr", "parse_cidr", text, strict)
        _oracle_network(text, strict, network)
    _raw(impls, data)
