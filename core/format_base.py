"""What every blacklist format builds on: the export, subsets, chunks, headers.

A format turns an :class:`Export` (a snapshot, the selected rows, the query
and the format options) into an iterator of byte chunks, so the server can
stream a list of millions of lines without holding it. Lines are composed
by :mod:`sikker.core.render` (compiled when built), one chunk of at most
``RENDER_CHUNK`` rows at a time.
"""

import itertools
import re
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from sikker.core import render
from sikker.core.filters import BlacklistQuery
from sikker.core.generation import Generation
from sikker.core.records import SUMMARY_DTYPE
from sikker.core.snapshot import RENDER_CHUNK, Selection, Snapshot
from sikker.errors import InvalidFilterError

if TYPE_CHECKING:
    from typing_extensions import Buffer

#: ``(kind, values, table)`` cells of :func:`sikker.core.render.render_lines`.
Cells = Sequence[tuple[int, "Buffer", Sequence[bytes]]]
CellMaker = Callable[[Generation, np.ndarray], Cells]

#: Set and table names: a letter, then letters, digits or ``_``; short enough
#: that ``<name>4-tmp`` fits ipset's 31 characters.
NAME_PATTERN = "^[A-Za-z][A-Za-z0-9_]{0,25}$"
_NAME = re.compile(NAME_PATTERN)


@dataclass(frozen=True)
class FormatOptions:
    """Options of the firewall formats (query parameters in brackets)."""

    set_name: str = "sikker"  # [setName] ipset/nftables sets <name>4, <name>6
    table_name: str = "sikker"  # [tableName] the nftables table (family inet)

    @classmethod
    def from_params(cls, params: Mapping[str, str]) -> "FormatOptions":
        """Read ``setName`` and ``tableName``.

        Raises:
            InvalidFilterError: naming the parameter with a bad value.
        """
        return cls(
            set_name=_name(params.get("setName"), "setName", cls.set_name),
            table_name=_name(params.get("tableName"), "tableName", cls.table_name),
        )


def _name(value: str | None, param: str, default: str) -> str:
    if value is None or value == "":
        return default
    if not _NAME.fullmatch(value):
        raise InvalidFilterError(
            param,
            f"{value!r} is not a set/table name: a letter, then up to 25 "
            "letters, digits or '_'",
        )
    return value


@dataclass(frozen=True)
class Export:
    """Everything a format renders: the rows and what they were chosen by."""

    snapshot: Snapshot
    selection: Selection
    query: BlacklistQuery
    options: FormatOptions = FormatOptions()
    generated_at: int = 0  # epoch seconds; 0 = now

    @property
    def when(self) -> int:
        """Return the generation time in epoch seconds."""
        return self.generated_at or int(time.time())


def subset(
    snapshot: Snapshot, selection: Selection, version: int = 0, safe: bool = False
) -> Selection:
    """Return the rows of one address family and/or safe for a firewall."""
    if not version and not safe:
        return selection
    keep = np.empty(len(selection), dtype=bool)
    for index, layer in enumerate(snapshot.layers):
        mask = selection.layer == index
        if mask.any():
            keep[mask] = render.keep_rows(
                layer.ips,
                np.ascontiguousarray(selection.rows[mask]).data,
                version,
                safe,
            )
    return pick(selection, keep)


def column(snapshot: Snapshot, selection: Selection, field: str) -> np.ndarray:
    """Return one summary field (SUMMARY_DTYPE) of the selected rows."""
    if len(snapshot.layers) == 1:
        return snapshot.top.summary[field][selection.rows]
    out = np.empty(len(selection), dtype=SUMMARY_DTYPE[field])
    for index, layer in enumerate(snapshot.layers):
        mask = selection.layer == index
        out[mask] = layer.summary[field][selection.rows[mask]]
    return out


def pick(selection: Selection, keep: np.ndarray) -> Selection:
    """Return the selected rows where ``keep`` is True, in order."""
    return Selection(selection.layer[keep], selection.rows[keep])


def chunks(
    snapshot: Snapshot, selection: Selection
) -> Iterator[list[tuple[Generation, np.ndarray]]]:
    """Yield each chunk of rows as runs of rows of one generation."""
    layers, rows = selection.layer, selection.rows
    for start in range(0, len(selection), RENDER_CHUNK):
        part_layers = layers[start : start + RENDER_CHUNK]
        part_rows = rows[start : start + RENDER_CHUNK]
        cuts = [0, *(np.flatnonzero(np.diff(part_layers)) + 1).tolist()]
        cuts.append(len(part_rows))
        yield [
            (
                snapshot.layers[int(part_layers[a])],
                np.ascontiguousarray(part_rows[a:b]),
            )
            for a, b in itertools.pairwise(cuts)
        ]


def lines(
    snapshot: Snapshot,
    selection: Selection,
    pieces: Sequence[bytes],
    cells: CellMaker | None = None,
) -> Iterator[bytes]:
    """Yield the lines of every selected row (see ``render.render_lines``)."""
    for runs in chunks(snapshot, selection):
        yield b"".join(
            render.render_lines(
                layer.ips, rows.data, pieces, cells(layer, rows) if cells else ()
            )
            for layer, rows in runs
        )


def u32(values: np.ndarray) -> np.ndarray:
    """Return a column as contiguous native uint32 (for cells)."""
    return np.ascontiguousarray(values, dtype=np.uint32)


def utc(epoch: int) -> str:
    """Return epoch seconds as ``YYYY-MM-DD HH:MM:SS UTC``."""
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(epoch))


def header(export: Export, title: str, count: int, *extra: str) -> bytes:
    """Return the ``# ...`` comment lines that open a list file.

    The first two follow SikkerAPI's nginx include: ``# <title> - <date>``
    and ``# IPs: N | Score >= X``; then the snapshot and filters, then
    ``extra`` lines.
    """
    query = export.query
    filters = "".join(
        f", {k}={v}"
        for k, v in query.as_params().items()
        if k not in ("scoreMinimum", "limit")
    )
    out = [
        f"{title} - {utc(export.when)}",
        f"IPs: {count} | Score >= {query.score_minimum}",
        f"snapshot {export.snapshot.sequence}, limit {query.limit}{filters}",
        *extra,
    ]
    return "".join(f"# {line}\n" for line in out).encode("utf-8")
