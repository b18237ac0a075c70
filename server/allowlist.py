"""Which clients may reach an operator endpoint, by address.

A comma-separated list of CIDRs (``127.0.0.0/8,::1/128``) is matched against
the client's address (as :mod:`sikker.server.client` resolves it through
``trusted_proxies``). IPv4-mapped IPv6 addresses (``::ffff:127.0.0.1``)
count as their IPv4 address.
"""

import ipaddress

from sikker.errors import ConfigError

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_networks(text: str, setting: str) -> tuple[Network, ...]:
    """Return the networks of a comma-separated CIDR list (ConfigError if bad)."""
    out = []
    for item in (part.strip() for part in text.split(",")):
        if not item:
            continue
        try:
            out.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            raise ConfigError(
                f"setting {setting!r}: {item!r} is not a network "
                "(write CIDRs such as 127.0.0.0/8,::1/128)"
            ) from None
    return tuple(out)


class AllowList:
    """Networks allowed to call an endpoint."""

    def __init__(self, networks: tuple[Network, ...]) -> None:
        self.networks = networks

    def allows(self, address: str) -> bool:
        """Return whether ``address`` (text; ``""`` = unknown) is allowed."""
        try:
            parsed = ipaddress.ip_address(address.strip())
        except ValueError:
            return False
        if isinstance(parsed, ipaddress.IPv6Address) and parsed.ipv4_mapped:
            parsed = parsed.ipv4_mapped
        return any(parsed in network for network in self.networks)
