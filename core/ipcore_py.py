"""Parse, format and classify IP addresses: the pure-Python reference twin.

This module is the specification of the IP core. ``sikker.ext.ipcore`` is
its compiled twin with the same API, behaviour, error classes and error
reasons; import either through :mod:`sikker.core.ipcore`.

Text is accepted exactly as :func:`ipaddress.ip_address` accepts it, except
that IPv6 scope ids (``fe80::1%eth0``) are rejected. Checks run in a fixed
order, so both twins report the same reason for the same bad input:

1. not a ``str``: :class:`TypeError`;
2. empty, non-ASCII, longer than 45 characters;
3. the first character that cannot appear in an address (``%``, whitespace,
   ``/``, anything else);
4. the IPv4 or IPv6 grammar, left to right.

Values are plain integers; the 16-byte *storage form* keeps IPv4 as
IPv4-mapped IPv6 (``::ffff:a.b.c.d``).
"""

import operator
from typing import TYPE_CHECKING

from sikker.errors import InvalidAddressError

if TYPE_CHECKING:
    from typing_extensions import Buffer

__all__ = [
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

# NOTE: the longest accepted address is six full hextets and a dotted quad,
# "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255".
MAX_TEXT = 45
V4_MAX = 0xFFFFFFFF
V6_MAX = (1 << 128) - 1
MAPPED = 0xFFFF << 32
MAPPED_PREFIX = b"\0" * 10 + b"\xff\xff"

_ADDRESS_CHARS = "0123456789abcdefABCDEF:."
_WHITESPACE = " \t\n\r\x0b\x0c"
_HEX = "0123456789abcdef"
_U32_FORMATS = frozenset({"I", "@I", "=I", "<I", "L", "@L", "=L", "<L"})

# Reasons, shared word for word with the compiled twin.
EMPTY = "empty"
NON_ASCII = "non-ASCII characters are not permitted"
TOO_LONG = "too long for an IP address"
SCOPE_ID = "scope ids are not accepted"
WHITESPACE = "whitespace is not permitted"
SLASH = "'/' is not permitted in an address (parse it as a network)"
NOT_AN_ADDRESS = "not an IPv4 or IPv6 address"
TOO_MANY_OCTETS = "more than 4 octets"
EMPTY_OCTET = "empty octet"
LEADING_ZEROS = "leading zeros are not permitted"
DOUBLE_COLONS = "at most one '::' is permitted"
V4_NOT_LAST = "an embedded IPv4 address must come last"
LEADING_COLON = "a leading ':' must be part of '::'"
TRAILING_COLON = "a trailing ':' must be part of '::'"
TOO_MANY_GROUPS = "too many groups"
TOO_FEW_GROUPS = "too few groups (8 are needed without '::')"
EMPTY_PREFIX = "empty prefix length"
SLASHES = "only one '/' is permitted"
NETMASK = "netmask and hostmask forms are not accepted; use a prefix length"


def _check_str(name: str, text: object) -> str:
    if not isinstance(text, str):
        raise TypeError(f"{name}() argument must be str, not {type(text).__name__}")
    return text


def _bad_char(text: str, char: str) -> InvalidAddressError:
    if char == "%":
        return InvalidAddressError(text, SCOPE_ID)
    if char in _WHITESPACE:
        return InvalidAddressError(text, WHITESPACE)
    if char == "/":
        return InvalidAddressError(text, SLASH)
    return InvalidAddressError(text, f"invalid character {char!r}")


def _parse_v4(text: str, part: str) -> int:
    """Return the value of dotted-quad ``part``; errors name ``text``."""
    octets = part.split(".")
    value = 0
    for index, octet in enumerate(octets):
        if index == 4:
            raise InvalidAddressError(text, TOO_MANY_OCTETS)
        if not octet:
            raise InvalidAddressError(text, EMPTY_OCTET)
        if not octet.isdigit():
            raise InvalidAddressError(text, f"octet {octet!r} is not decimal")
        if len(octet) > 1 and octet[0] == "0":
            raise InvalidAddressError(text, LEADING_ZEROS)
        number = int(octet) if len(octet) <= 3 else 256
        if number > 255:
            raise InvalidAddressError(text, f"octet {octet} out of range")
        value = value << 8 | number
    if len(octets) < 4:
        raise InvalidAddressError(text, f"expected 4 octets, found {len(octets)}")
    return value


def _parse_v6(text: str, part: str) -> int:
    """Return the value of IPv6 ``part``; errors name ``text``."""
    if part.count("::") > 1 or ":::" in part:
        raise InvalidAddressError(text, DOUBLE_COLONS)
    dot = part.find(".")
    if 0 <= dot < part.rfind(":"):
        raise InvalidAddressError(text, V4_NOT_LAST)
    if part[0] == ":" and not part.startswith("::"):
        raise InvalidAddressError(text, LEADING_COLON)
    if part[-1] == ":" and not part.endswith("::"):
        raise InvalidAddressError(text, TRAILING_COLON)
    head, compressed, tail = part.partition("::")
    limit = 7 if compressed else 8
    units = [0, 0]  # groups before and after "::"
    values = [0, 0]
    for side, groups in enumerate((head, tail)):
        for group in groups.split(":") if groups else ():
            used = units[0] + units[1]
            if "." in group:
                if used + 2 > limit:
                    raise InvalidAddressError(text, TOO_MANY_GROUPS)
                values[side] = values[side] << 32 | _parse_v4(text, group)
                units[side] += 2
                continue
            if used >= limit:
                raise InvalidAddressError(text, TOO_MANY_GROUPS)
            if len(group) > 4:
                raise InvalidAddressError(
                    text, f"hextet {group!r} has more than 4 digits"
                )
            values[side] = values[side] << 16 | int(group, 16)
            units[side] += 1
    if not compressed and units[0] < 8:
        raise InvalidAddressError(text, TOO_FEW_GROUPS)
    return values[0] << (16 * (8 - units[0])) | values[1]


def _parse(text: str, part: str) -> tuple[int, int]:
    """Parse the address ``part`` of ``text`` (ASCII already checked)."""
    if not part:
        raise InvalidAddressError(text, EMPTY)
    if len(part) > MAX_TEXT:
        raise InvalidAddressError(text, TOO_LONG)
    rest = part.lstrip(_ADDRESS_CHARS)
    if rest:
        raise _bad_char(text, rest[0])
    if ":" in part:
        return 6, _parse_v6(text, part)
    if "." not in part:
        raise InvalidAddressError(text, NOT_AN_ADDRESS)
    return 4, _parse_v4(text, part)


def parse_ip(text: str) -> tuple[int, int]:
    """Parse an IPv4 or IPv6 address into its version and integer value.

    Accepts what :func:`ipaddress.ip_address` accepts for a ``str``, except
    IPv6 scope ids. Nothing is stripped or normalised first.

    Args:
        text: The address, e.g. ``"192.0.2.1"`` or ``"2001:db8::1"``.

    Returns:
        ``(version, value)`` with version 4 or 6.

    Raises:
        InvalidAddressError: ``text`` is not an address; ``reason`` says why.
        TypeError: ``text`` is not a ``str``.
    """
    text = _check_str("parse_ip", text)
    if not text:
        raise InvalidAddressError(text, EMPTY)
    if not text.isascii():
        raise InvalidAddressError(text, NON_ASCII)
    return _parse(text, text)


def parse_cidr(text: str, strict: bool = True) -> tuple[int, int, int]:
    """Parse an address or ``address/prefixlen`` network.

    Agrees with :func:`ipaddress.ip_network` except that netmask and
    hostmask forms (``1.2.3.0/255.255.255.0``) and scope ids are rejected.
    A bare address is a network of one address.

    Args:
        text: The network, e.g. ``"192.0.2.0/24"`` or ``"2001:db8::/32"``.
        strict: Reject host bits set below the prefix; when False they
            are masked off instead.

    Returns:
        ``(version, network value, prefix length)``.

    Raises:
        InvalidAddressError: ``text`` is not a network; ``reason`` says why.
        TypeError: ``text`` is not a ``str``.
    """
    text = _check_str("parse_cidr", text)
    if not text:
        raise InvalidAddressError(text, EMPTY)
    if not text.isascii():
        raise InvalidAddressError(text, NON_ASCII)
    address, slash, prefix = text.partition("/")
    version, value = _parse(text, address)
    width = 32 if version == 4 else 128
    if not slash:
        return version, value, width
    if not prefix:
        raise InvalidAddressError(text, EMPTY_PREFIX)
    if "/" in prefix:
        raise InvalidAddressError(text, SLASHES)
    if "." in prefix:
        raise InvalidAddressError(text, NETMASK)
    if not prefix.isdigit():
        raise InvalidAddressError(text, f"invalid prefix length {prefix!r}")
    significant = prefix.lstrip("0")
    length = int(significant) if 0 < len(significant) <= 3 else 0
    if len(significant) > 3 or length > width:
        raise InvalidAddressError(
            text, f"prefix length {prefix} out of range for IPv{version}"
        )
    host = (1 << (width - length)) - 1
    if value & host:
        if strict:
            network = format_ip(version, value & ~host)
            raise InvalidAddressError(
                text, f"host bits set (the network is {network}/{length})"
            )
        value &= ~host
    return version, value, length


def _check_value(version: object, value: object) -> tuple[int, int]:
    version = operator.index(version)  # type: ignore[arg-type]
    number = operator.index(value)  # type: ignore[arg-type]
    if version not in (4, 6):
        raise ValueError(f"version must be 4 or 6, not {version}")
    if number < 0 or number > (V4_MAX if version == 4 else V6_MAX):
        raise InvalidAddressError(value, f"value out of range for IPv{version}")
    return version, number


def _format_v4(value: int) -> str:
    return f"{value >> 24}.{value >> 16 & 255}.{value >> 8 & 255}.{value & 255}"


def _format_v6(value: int) -> str:
    """Format like Python 3.11's ipaddress (RFC 5952, mapped as hex)."""
    hextets = [value >> shift & 0xFFFF for shift in range(112, -16, -16)]
    best_start, best_len, start, run = -1, 0, -1, 0
    for index, hextet in enumerate(hextets):
        if hextet:
            run = 0
            continue
        if run == 0:
            start = index
        run += 1
        if run > best_len:
            best_start, best_len = start, run
    words = [f"{hextet:x}" for hextet in hextets]
    if best_len < 2:
        return ":".join(words)
    head = ":".join(words[:best_start])
    tail = ":".join(words[best_start + best_len :])
    return f"{head}::{tail}"


def format_ip(version: int, value: int) -> str:
    """Format an integer address as text.

    The result equals ``str(ipaddress.ip_address(value))`` in Python 3.11:
    dotted quad for IPv4; lowercase RFC 5952 compression for IPv6, with
    IPv4-mapped addresses printed in hex (``::ffff:102:304``).

    Args:
        version: 4 or 6.
        value: The address as an integer.

    Returns:
        The canonical text form.

    Raises:
        InvalidAddressError: ``value`` is out of range for ``version``.
        ValueError: ``version`` is neither 4 nor 6.
        TypeError: ``version`` or ``value`` is not an integer.
    """
    version, value = _check_value(version, value)
    return _format_v4(value) if version == 4 else _format_v6(value)


def pack_ip(text: str) -> bytes:
    """Pack an address into 4 (IPv4) or 16 (IPv6) big-endian bytes.

    Gives what :func:`socket.inet_pton` gives for the right family, with
    the acceptance rules of :func:`parse_ip`.

    Args:
        text: The address.

    Returns:
        The packed address.

    Raises:
        InvalidAddressError: ``text`` is not an address.
        TypeError: ``text`` is not a ``str``.
    """
    text = _check_str("pack_ip", text)
    if not text:
        raise InvalidAddressError(text, EMPTY)
    if not text.isascii():
        raise InvalidAddressError(text, NON_ASCII)
    version, value = _parse(text, text)
    return value.to_bytes(4 if version == 4 else 16, "big")


def _as_bytes(packed: object) -> bytes:
    if isinstance(packed, bytes):
        return packed
    return memoryview(packed).tobytes()  # type: ignore[arg-type]


def unpack_ip(packed: "Buffer") -> str:
    """Turn 4 or 16 packed bytes back into text.

    The inverse of :func:`pack_ip`; the text is the one :func:`format_ip`
    gives (so IPv4-mapped IPv6 prints as hex, unlike ``inet_ntop``).

    Args:
        packed: A bytes-like object of 4 or 16 bytes.

    Returns:
        The canonical text form.

    Raises:
        InvalidAddressError: ``packed`` is neither 4 nor 16 bytes long.
        TypeError: ``packed`` is not bytes-like.
    """
    data = _as_bytes(packed)
    if len(data) == 4:
        return _format_v4(int.from_bytes(data, "big"))
    if len(data) == 16:
        return _format_v6(int.from_bytes(data, "big"))
    raise InvalidAddressError(packed, f"expected 4 or 16 bytes, got {len(data)}")


def to_ip16(text: str) -> bytes:
    """Return the 16-byte storage form of an address.

    IPv4 becomes IPv4-mapped IPv6, so ``"1.2.3.4"`` and
    ``"::ffff:1.2.3.4"`` give the same key. IPv6 is packed as is.

    Args:
        text: The address.

    Returns:
        16 big-endian bytes.

    Raises:
        InvalidAddressError: ``text`` is not an address.
        TypeError: ``text`` is not a ``str``.
    """
    text = _check_str("to_ip16", text)
    if not text:
        raise InvalidAddressError(text, EMPTY)
    if not text.isascii():
        raise InvalidAddressError(text, NON_ASCII)
    version, value = _parse(text, text)
    if version == 4:
        value |= MAPPED
    return value.to_bytes(16, "big")


def _ip16_text(data: bytes) -> str:
    if data[:12] == MAPPED_PREFIX:
        return _format_v4(int.from_bytes(data[12:], "big"))
    return _format_v6(int.from_bytes(data, "big"))


def from_ip16(packed: "Buffer") -> str:
    """Turn the 16-byte storage form back into text.

    IPv4-mapped addresses print as dotted IPv4 (``"1.2.3.4"``), all others
    as compressed IPv6.

    Args:
        packed: A bytes-like object of 16 bytes.

    Returns:
        The text form.

    Raises:
        InvalidAddressError: ``packed`` is not 16 bytes long.
        TypeError: ``packed`` is not bytes-like.
    """
    data = _as_bytes(packed)
    if len(data) != 16:
        raise InvalidAddressError(packed, f"expected 16 bytes, got {len(data)}")
    return _ip16_text(data)


# IANA IPv4 Special-Purpose Address Registry plus multicast, most specific
# first; None marks a globally reachable exception inside a listed block.
_V4_TABLE: tuple[tuple[int, int, str | None], ...] = (
    (0x00000000, 32, "unspecified"),  # 0.0.0.0/32 "this host"
    (0x00000000, 8, "reserved"),  # 0.0.0.0/8 "this network"
    (0x0A000000, 8, "private"),  # 10.0.0.0/8
    (0x64400000, 10, "shared"),  # 100.64.0.0/10
    (0x7F000000, 8, "loopback"),  # 127.0.0.0/8
    (0xA9FE0000, 16, "link-local"),  # 169.254.0.0/16
    (0xAC100000, 12, "private"),  # 172.16.0.0/12
    (0xC0000009, 32, None),  # 192.0.0.9/32 PCP anycast
    (0xC000000A, 32, None),  # 192.0.0.10/32 TURN anycast
    (0xC0000000, 24, "reserved"),  # 192.0.0.0/24 IETF protocol assignments
    (0xC0000200, 24, "documentation"),  # 192.0.2.0/24 TEST-NET-1
    (0xC0586300, 24, "reserved"),  # 192.88.99.0/24 deprecated 6to4 relay
    (0xC0A80000, 16, "private"),  # 192.168.0.0/16
    (0xC6120000, 15, "benchmarking"),  # 198.18.0.0/15
    (0xC6336400, 24, "documentation"),  # 198.51.100.0/24 TEST-NET-2
    (0xCB007100, 24, "documentation"),  # 203.0.113.0/24 TEST-NET-3
    (0xE0000000, 4, "multicast"),  # 224.0.0.0/4
    (0xF0000000, 4, "reserved"),  # 240.0.0.0/4 incl. 255.255.255.255
)

# Embedded IPv4 markers in the IPv6 table.
_MAPPED, _NAT64, _TEREDO, _6TO4 = "mapped", "nat64", "teredo", "6to4"
_EMBEDDED = frozenset({_MAPPED, _NAT64, _TEREDO, _6TO4})

# IANA IPv6 Special-Purpose Address Registry, multicast and the 2000::/3
# global unicast space, most specific first; first match wins.
_V6_TABLE: tuple[tuple[int, int, str | None], ...] = (
    (0, 128, "unspecified"),  # ::/128
    (1, 128, "loopback"),  # ::1/128
    (0xFFFF << 32, 96, _MAPPED),  # ::ffff:0:0/96
    (0x64FF9B << 96, 96, _NAT64),  # 64:ff9b::/96
    (0x64FF9B0001 << 80, 48, "private"),  # 64:ff9b:1::/48 local-use NAT64
    (0, 8, "reserved"),  # ::/8 incl. IPv4-compatible
    (0x0100 << 112, 64, "reserved"),  # 100::/64 discard-only
    (0x2001 << 112, 32, _TEREDO),  # 2001::/32
    ((0x20010001 << 96) | 1, 128, None),  # 2001:1::1 PCP anycast
    ((0x20010001 << 96) | 2, 128, None),  # 2001:1::2 TURN anycast
    ((0x20010001 << 96) | 3, 128, None),  # 2001:1::3 DNS-SD SRP anycast
    (0x200100020000 << 80, 48, "benchmarking"),  # 2001:2::/48
    (0x20010003 << 96, 32, None),  # 2001:3::/32 AMT
    (0x200100040112 << 80, 48, None),  # 2001:4:112::/48 AS112-v6
    (0x20010020 << 96, 28, None),  # 2001:20::/28 ORCHIDv2
    (0x20010030 << 96, 28, None),  # 2001:30::/28 drone remote ID DETs
    (0x2001 << 112, 23, "reserved"),  # 2001::/23 IETF protocol assignments
    (0x20010DB8 << 96, 32, "documentation"),  # 2001:db8::/32
    (0x2002 << 112, 16, _6TO4),  # 2002::/16
    (0x3FFF << 112, 20, "documentation"),  # 3fff::/20
    (0x2000 << 112, 3, None),  # 2000::/3 global unicast
    (0x5F00 << 112, 16, "reserved"),  # 5f00::/16 SRv6 SIDs
    (0xFC00 << 112, 7, "private"),  # fc00::/7 unique local
    (0xFE80 << 112, 10, "link-local"),  # fe80::/10
    (0xFF00 << 112, 8, "multicast"),  # ff00::/8
    (0, 0, "reserved"),  # everything else is unassigned or reserved
)


def _classify_v4(value: int) -> str | None:
    for network, length, reason in _V4_TABLE:
        if value >> (32 - length) == network >> (32 - length):
            return reason
    return None


def _classify_v6(value: int) -> str | None:
    for network, length, reason in _V6_TABLE:
        if value >> (128 - length) != network >> (128 - length):
            continue
        if reason not in _EMBEDDED:
            return reason
        if reason == _TEREDO:
            return _classify_v4((value & V4_MAX) ^ V4_MAX)
        if reason == _6TO4:
            return _classify_v4(value >> 80 & V4_MAX)
        return _classify_v4(value & V4_MAX)
    raise AssertionError("unreachable: ::/0 matches every address")


def classify(version: int, value: int) -> str | None:
    """Say why an address is not public, or return None if it is.

    Judged by the IANA special-purpose registries. IPv4 embedded in IPv6
    (IPv4-mapped, NAT64 ``64:ff9b::/96``, 6to4 and Teredo) is judged by the
    embedded IPv4 address.

    Args:
        version: 4 or 6.
        value: The address as an integer.

    Returns:
        None for a globally routable unicast address, otherwise one of
        ``"unspecified"``, ``"private"``, ``"loopback"``, ``"link-local"``,
        ``"multicast"``, ``"reserved"``, ``"documentation"``, ``"shared"``
        or ``"benchmarking"``.

    Raises:
        InvalidAddressError: ``value`` is out of range for ``version``.
        ValueError: ``version`` is neither 4 nor 6.
        TypeError: ``version`` or ``value`` is not an integer.
    """
    version, value = _check_value(version, value)
    return _classify_v4(value) if version == 4 else _classify_v6(value)


def _column_view(column: object) -> memoryview:
    view = memoryview(column).cast("B")  # type: ignore[arg-type]
    if len(view) % 16:
        raise ValueError(f"column length {len(view)} is not a multiple of 16")
    return view


def _rows_view(rows: object) -> memoryview:
    view = memoryview(rows)  # type: ignore[arg-type]
    if view.itemsize != 4 or view.format not in _U32_FORMATS:
        raise TypeError(f"rows must be a buffer of uint32, not format {view.format!r}")
    return view.cast("B").cast("I")


def render_ips(
    column: "Buffer", rows: "Buffer", prefix: "Buffer" = b"", suffix: "Buffer" = b"\n"
) -> bytes:
    """Render the addresses at ``rows`` of a storage-form column as text.

    For each row in order the output holds ``prefix``, the text
    :func:`from_ip16` gives for ``column[row]``, and ``suffix``.

    Args:
        column: A buffer of N consecutive 16-byte storage-form addresses
            (bytes, mmap, memoryview, numpy array).
        rows: A buffer of native uint32 row indexes (``array('I')``, numpy
            uint32, memoryview).
        prefix: Bytes written before each address.
        suffix: Bytes written after each address.

    Returns:
        The concatenated lines.

    Raises:
        IndexError: A row is not below N.
        ValueError: The column length is not a multiple of 16.
        TypeError: An argument is not a buffer, or rows are not uint32.
    """
    col = _column_view(column)
    indexes = _rows_view(rows)
    before = _as_bytes(prefix).decode("latin-1")
    after = _as_bytes(suffix).decode("latin-1")
    count = len(col) // 16
    texts = []
    for row in indexes:
        if row >= count:
            raise IndexError(f"row {row} out of range for a column of {count}")
        texts.append(_ip16_text(col[row * 16 : row * 16 + 16].tobytes()))
    if not texts:
        return b""
    body = (after + before).join(texts)
    return (before + body + after).encode("latin-1")
