"""Type stub of the compiled IP core; docstrings match the pure twin."""

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

def unpack_ip(packed: Buffer) -> str:
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

def from_ip16(packed: Buffer) -> str:
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

def render_ips(
    column: Buffer, rows: Buffer, prefix: Buffer = b"", suffix: Buffer = b"\n"
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
