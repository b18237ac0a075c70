"""The agent's allow-list: networks ``sikker sync`` never blocks.

Addresses inside any of them are left out of what reaches the target (the
set the agent holds and verifies stays the server's). Loopback
(``127.0.0.0/8``, ``::1/128``) is always on the list. ``--allow CIDR`` adds a
network; ``--allow-file FILE`` reads one a line (``#`` starts a comment).
"""

from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

from sikker.core import ipcore
from sikker.errors import InvalidAddressError, InvalidFilterError

ALWAYS = ("127.0.0.0/8", "::1/128")
_MAPPED = 0xFFFF << 32


def _range(cidr: str) -> tuple[int, int]:
    """Return the first and last 128-bit storage-form value of a network."""
    version, network, prefix = ipcore.parse_cidr(cidr, False)
    bits = 32 if version == 4 else 128
    first = network | (_MAPPED if version == 4 else 0)
    return first, first | ((1 << (bits - prefix)) - 1)


def _halves(value: int) -> tuple[int, int]:
    return value >> 64, value & 0xFFFFFFFFFFFFFFFF


class AllowList:
    """Networks that are never blocked."""

    def __init__(self, cidrs: Sequence[str] = ()) -> None:
        self.cidrs = [*ALWAYS, *(c for c in cidrs if c not in ALWAYS)]
        self._ranges = []
        for cidr in self.cidrs:
            try:
                self._ranges.append(_range(cidr))
            except InvalidAddressError as ex:
                raise InvalidFilterError("--allow", str(ex)) from None

    @classmethod
    def read(cls, cidrs: Iterable[str], files: Iterable[Path]) -> "AllowList":
        """Return the list of ``--allow`` values and ``--allow-file`` files.

        Raises:
            InvalidFilterError: a network is not a CIDR or an address, or a
                file cannot be read.
        """
        found = [c.strip() for c in cidrs]
        for path in files:
            try:
                text = Path(path).read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as ex:
                raise InvalidFilterError(
                    "--allow-file", f"cannot read {path}: {ex}"
                ) from None
            for line in text.splitlines():
                item = line.split("#", 1)[0].strip()
                if item:
                    found.append(item)
        return cls(found)

    def mask(self, keys: np.ndarray) -> np.ndarray:
        """Return True for each address of a sorted set that is allowed."""
        pairs = np.ascontiguousarray(keys).view(">u8").reshape(-1, 2)
        hi, lo = pairs[:, 0], pairs[:, 1]
        allowed = np.zeros(len(keys), bool)
        for first, last in self._ranges:
            (fh, fl), (lh, ll) = _halves(first), _halves(last)
            above = (hi > fh) | ((hi == fh) & (lo >= fl))
            below = (hi < lh) | ((hi == lh) & (lo <= ll))
            allowed |= above & below
        return allowed

    def without(self, keys: np.ndarray) -> tuple[np.ndarray, int]:
        """Return the set without allowed addresses, and how many were left out."""
        if not len(keys):
            return keys, 0
        allowed = self.mask(keys)
        return keys[~allowed], int(allowed.sum())
