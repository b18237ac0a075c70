"""One spelling per address: IPv4-mapped IPv6 is the IPv4 address it maps."""

from functools import lru_cache

from sikker.core import ipcore
from sikker.errors import InvalidAddressError


def canonical_ip(text: str) -> tuple[int, int]:
    """Return ``(version, value)``; ``::ffff:a.b.c.d`` becomes IPv4.

    Raises:
        InvalidAddressError: ``text`` is not an address.
    """
    version, value = ipcore.parse_ip(text)
    if version == 6 and value >> 32 == 0xFFFF:
        return 4, value & 0xFFFFFFFF
    return version, value


@lru_cache(maxsize=4096)
def canonical_text(text: str) -> str | None:
    """Return the canonical text of an address, or None if it is not one."""
    try:
        return ipcore.format_ip(*canonical_ip(text))
    except InvalidAddressError:
        return None
