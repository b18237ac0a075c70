"""Type stub of the compiled blacklist renderer; docstrings match the pure twin."""

from collections.abc import Sequence

import numpy as np
from typing_extensions import Buffer

from sikker.core.check_json import CheckFragments

__all__ = [
    "DECIMAL",
    "ISO_TIME",
    "LOOKUP",
    "MAX_CELLS",
    "UNBLOCKABLE",
    "keep_rows",
    "render_check",
    "render_compact",
    "render_lines",
]

DECIMAL: int
ISO_TIME: int
LOOKUP: int
MAX_CELLS: int
UNBLOCKABLE: frozenset[str]

def render_lines(
    column: Buffer,
    rows: Buffer,
    pieces: Sequence[bytes],
    cells: Sequence[tuple[int, Buffer, Sequence[bytes]]] = (),
) -> bytes:
    """Render one line per row: fixed pieces around the address and its cells."""

def keep_rows(
    column: Buffer, rows: Buffer, version: int = 0, firewall_safe: bool = False
) -> np.ndarray:
    """Say which rows a blacklist of one family, or a firewall, may list."""

def render_check(
    ip: str,
    ip16: bytes,
    record: bytes | None,
    ignore_whitelist: bool,
    fragments: CheckFragments,
) -> bytes:
    """Render the check answer of an address as JSON (see check_json)."""

def render_compact(
    keys: Sequence[bytes],
    values: Sequence[bytes | None],
    countries: Sequence[bytes],
    severities: Sequence[bytes],
    ignore_whitelist: bool,
) -> bytes:
    """Render the compact answers of many addresses as one JSON array."""
