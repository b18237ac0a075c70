"""Roaring bitmaps over row ids, one per filterable value.

Names are ``<dimension>:<value>``: ``country:CN``, ``asn:4134``,
``protocol:ssh``, ``severity:high`` (the record's highest behavior severity),
``behavior:<id>``, ``primitive:<id>``, ``category:brute_force``, ``version:4``.
"""

import array
from collections.abc import Iterator

import numpy as np
from pyroaring import BitMap

from sikker.core.records import Ragged, RecordTable, is_ipv4
from sikker.core.vocab import CATEGORIES, PROTOCOLS, SEVERITIES


def _bitmap(rows: np.ndarray) -> BitMap:
    bm = BitMap(array.array("I", rows.astype(np.uint32).tobytes()))
    bm.run_optimize()
    return bm


def _grouped(values: np.ndarray) -> Iterator[tuple[int, np.ndarray]]:
    """Yield (value, ascending rows holding it) for every distinct value."""
    if not len(values):
        return
    order = np.argsort(values, kind="stable")
    ordered = values[order]
    starts = np.flatnonzero(ordered[1:] != ordered[:-1]) + 1
    bounds = [0, *starts.tolist(), len(order)]
    for i in range(len(bounds) - 1):
        yield ordered[bounds[i]].item(), order[bounds[i] : bounds[i + 1]]


def _ragged_grouped(col: Ragged, n: int) -> Iterator[tuple[int, np.ndarray]]:
    owner = np.repeat(np.arange(n, dtype=np.uint32), col.lengths())
    for value, positions in _grouped(col.ids):
        yield value, owner[positions]  # ascending; BitMap drops repeats


def build_bitmaps(
    table: RecordTable,
    severity: np.ndarray,
    countries: list[str],
    country_ix: np.ndarray,
) -> Iterator[tuple[str, BitMap]]:
    """Yield ``(name, bitmap)`` for every dimension of a score-ordered table."""
    n = len(table)
    for ix, rows in _grouped(country_ix):
        if countries[ix]:
            yield f"country:{countries[ix]}", _bitmap(rows)
    for asn, rows in _grouped(table.asn):
        if asn:
            yield f"asn:{asn}", _bitmap(rows)
    for level, rows in _grouped(severity):
        if level:
            yield f"severity:{SEVERITIES[level - 1]}", _bitmap(rows)
    for pid, rows in _ragged_grouped(table.protocols, n):
        yield f"protocol:{PROTOCOLS[pid]}", _bitmap(rows)
    behaviors = table.catalog["behaviors"]
    for bix, rows in _ragged_grouped(table.behaviors, n):
        yield f"behavior:{behaviors[bix]['id']}", _bitmap(rows)
    primitives = table.catalog["primitives"]
    for pix, rows in _ragged_grouped(table.primitives, n):
        yield f"primitive:{primitives[pix]['id']}", _bitmap(rows)
    for cid, rows in _ragged_grouped(table.categories, n):
        yield f"category:{CATEGORIES[cid - 1]}", _bitmap(rows)
    v4 = is_ipv4(table.ip)
    yield "version:4", _bitmap(np.flatnonzero(v4))
    yield "version:6", _bitmap(np.flatnonzero(~v4))
