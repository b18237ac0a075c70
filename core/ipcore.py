"""Parse, format and classify IP addresses (the compiled twin when built).

Re-exports the API of :mod:`sikker.ext.ipcore` when it is importable and
``SIKKER_PURE`` is unset, otherwise that of the pure-Python reference
:mod:`sikker.core.ipcore_py`. :data:`IMPLEMENTATION` says which one runs.
See ``docs/ipcore.md`` for the accepted syntax and the classification table.
"""

from typing import TYPE_CHECKING, Final, Literal

from sikker.core import ipcore_py
from sikker.core.twins import select

__all__ = [
    "IMPLEMENTATION",
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

_impl = select("ipcore")

IMPLEMENTATION: Final[Literal["cython", "pure"]] = (
    "pure" if _impl is ipcore_py else "cython"
)
"""Which twin is in use: ``"cython"`` (compiled) or ``"pure"``."""

if TYPE_CHECKING:
    # NOTE: both twins have the same signatures, so type checkers see the
    # annotated pure twin whichever one runs.
    from sikker.core.ipcore_py import (
        classify,
        format_ip,
        from_ip16,
        pack_ip,
        parse_cidr,
        parse_ip,
        render_ips,
        to_ip16,
        unpack_ip,
    )
else:
    classify = _impl.classify
    format_ip = _impl.format_ip
    from_ip16 = _impl.from_ip16
    pack_ip = _impl.pack_ip
    parse_cidr = _impl.parse_cidr
    parse_ip = _impl.parse_ip
    render_ips = _impl.render_ips
    to_ip16 = _impl.to_ip16
    unpack_ip = _impl.unpack_ip
