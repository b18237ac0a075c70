"""Atomic 64-bit words shared by processes (the compiled twin when built).

Re-exports :mod:`sikker.ext.atomics` when it is importable and
``SIKKER_PURE`` is unset, otherwise the pure-Python reference
:mod:`sikker.core.atomics_py`. :data:`IMPLEMENTATION` says which one runs.
Both twins keep the same file layout but make words atomic differently
(CPU atomics or ``lockf`` locks): every process updating one file must run
the same twin, which :attr:`SharedWords.MODE` lets callers check.
"""

from typing import TYPE_CHECKING, Final, Literal

from sikker.core import atomics_py
from sikker.core.twins import select

__all__ = [
    "COUNT_BITS",
    "COUNT_MASK",
    "IMPLEMENTATION",
    "LOCKED",
    "WORD_MASK",
    "SharedWords",
]

_impl = select("atomics")

IMPLEMENTATION: Final[Literal["cython", "pure"]] = (
    "pure" if _impl is atomics_py else "cython"
)
"""Which twin is in use: ``"cython"`` (compiled) or ``"pure"``."""

if TYPE_CHECKING:
    # NOTE: both twins have the same API, so type checkers see the annotated
    # pure twin whichever one runs.
    from sikker.core.atomics_py import (
        COUNT_BITS,
        COUNT_MASK,
        LOCKED,
        WORD_MASK,
        SharedWords,
    )
else:
    COUNT_BITS = _impl.COUNT_BITS
    COUNT_MASK = _impl.COUNT_MASK
    LOCKED = _impl.LOCKED
    WORD_MASK = _impl.WORD_MASK
    SharedWords = _impl.SharedWords
