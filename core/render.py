"""Compose blacklist lines and check answers (the compiled twin when built).

Re-exports the API of :mod:`sikker.ext.render` when it is importable and
``SIKKER_PURE`` is unset, otherwise that of the pure-Python reference
:mod:`sikker.core.render_py`. :data:`IMPLEMENTATION` says which one runs.
The blacklist formats built on it are in :mod:`sikker.core.formats`.
"""

from typing import TYPE_CHECKING, Final, Literal

from sikker.core import render_py
from sikker.core.twins import select

__all__ = [
    "DECIMAL",
    "IMPLEMENTATION",
    "ISO_TIME",
    "LOOKUP",
    "MAX_CELLS",
    "UNBLOCKABLE",
    "keep_rows",
    "render_check",
    "render_compact",
    "render_lines",
]

_impl = select("render")

IMPLEMENTATION: Final[Literal["cython", "pure"]] = (
    "pure" if _impl is render_py else "cython"
)
"""Which twin is in use: ``"cython"`` (compiled) or ``"pure"``."""

if TYPE_CHECKING:
    # NOTE: both twins have the same signatures, so type checkers see the
    # annotated pure twin whichever one runs.
    from sikker.core.render_py import (
        DECIMAL,
        ISO_TIME,
        LOOKUP,
        MAX_CELLS,
        UNBLOCKABLE,
        keep_rows,
        render_check,
        render_compact,
        render_lines,
    )
else:
    DECIMAL = _impl.DECIMAL
    ISO_TIME = _impl.ISO_TIME
    LOOKUP = _impl.LOOKUP
    MAX_CELLS = _impl.MAX_CELLS
    UNBLOCKABLE = _impl.UNBLOCKABLE
    keep_rows = _impl.keep_rows
    render_check = _impl.render_check
    render_compact = _impl.render_compact
    render_lines = _impl.render_lines
