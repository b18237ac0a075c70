"""Compose blacklist lines and JSON answers: the pure-Python twin.

This module is the specification of the blacklist renderer and of the
JSON check answers (:mod:`sikker.core.check_json`, :mod:`sikker.core.bulk`);
``sikker.ext.render`` is its compiled twin with the same API, behaviour and
errors. Import either through :mod:`sikker.core.render`. Addresses come
from a storage-form column (16 bytes a row, IPv4 as IPv4-mapped IPv6, see
:mod:`sikker.core.ipcore`) and print exactly as ``ipcore.render_ips``
prints them. The formats built on these two functions are in
:mod:`sikker.core.formats`.
"""

import time
from collections.abc import Sequence
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np

from sikker.core import ipcore_py
from sikker.core.records import HEADER, Record

if TYPE_CHECKING:
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

DECIMAL = 0
"""Cell kind: the value in decimal."""
ISO_TIME = 1
"""Cell kind: epoch seconds as ``YYYY-MM-DDTHH:MM:SSZ`` (0 prints nothing)."""
LOOKUP = 2
"""Cell kind: ``table[value]``, bytes chosen by the caller."""

#: Classifications of addresses a firewall must never block: a host that
#: blocks them cuts itself off its own networks. Documentation and
#: benchmarking ranges are harmless to block and kept.
UNBLOCKABLE = frozenset(
    {"unspecified", "private", "loopback", "link-local", "multicast", "shared"}
    | {"reserved"}
)
#: Most cells a line may have (the compiled twin's fixed limit).
MAX_CELLS = 32
_U32_FORMATS = frozenset({"I", "@I", "=I", "<I", "L", "@L", "=L", "<L"})
_MAPPED_PREFIX = b"\0" * 10 + b"\xff\xff"


def _u32(values: object, name: str) -> memoryview:
    view = memoryview(values)  # type: ignore[arg-type]
    if view.itemsize != 4 or view.format not in _U32_FORMATS:
        raise TypeError(
            f"{name} must be a buffer of uint32, not format {view.format!r}"
        )
    return view.cast("B").cast("I")


def _column(column: object) -> memoryview:
    view = memoryview(column).cast("B")  # type: ignore[arg-type]
    if len(view) % 16:
        raise ValueError(f"column length {len(view)} is not a multiple of 16")
    return view


def _address(column: memoryview, count: int, row: int) -> bytes:
    if row >= count:
        raise IndexError(f"row {row} out of range for a column of {count}")
    return column[row * 16 : row * 16 + 16].tobytes()


@lru_cache(maxsize=65_536)
def _iso(epoch: int) -> bytes:
    if not epoch:
        return b""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch)).encode("ascii")


def _check_cells(
    pieces: Sequence[bytes],
    cells: Sequence[tuple[int, "Buffer", Sequence[bytes]]],
    nrows: int,
) -> list[tuple[int, memoryview, Sequence[bytes]]]:
    if len(cells) > MAX_CELLS:
        raise ValueError(f"at most {MAX_CELLS} cells, got {len(cells)}")
    if len(pieces) != len(cells) + 2:
        raise ValueError(
            f"{len(cells)} cells need {len(cells) + 2} pieces, got {len(pieces)}"
        )
    for piece in pieces:
        if not isinstance(piece, bytes):
            raise TypeError(f"pieces must be bytes, not {type(piece).__name__}")
    checked = []
    for index, (kind, values, table) in enumerate(cells):
        if kind not in (DECIMAL, ISO_TIME, LOOKUP):
            raise ValueError(f"cell {index}: unknown kind {kind!r}")
        view = _u32(values, f"cell {index} values")
        if len(view) != nrows:
            raise ValueError(f"cell {index} has {len(view)} values for {nrows} rows")
        if kind == LOOKUP:
            for entry in table:
                if not isinstance(entry, bytes):
                    raise TypeError(
                        f"cell {index}: table entries must be bytes, "
                        f"not {type(entry).__name__}"
                    )
            for value in view:
                if value >= len(table):
                    raise IndexError(
                        f"cell {index}: value {value} out of range "
                        f"for a table of {len(table)}"
                    )
        checked.append((kind, view, table))
    return checked


def render_lines(
    column: "Buffer",
    rows: "Buffer",
    pieces: Sequence[bytes],
    cells: Sequence[tuple[int, "Buffer", Sequence[bytes]]] = (),
) -> bytes:
    """Render one line per row: fixed pieces around the address and its cells.

    Line ``i`` is ``pieces[0]``, the address of ``column[rows[i]]`` (as
    ``ipcore.render_ips`` prints it), ``pieces[1]``, cell 0 of row ``i``,
    ``pieces[2]``, ..., the last cell, ``pieces[-1]``.

    Args:
        column: N consecutive 16-byte storage-form addresses.
        rows: Native uint32 row indexes into ``column``.
        pieces: ``len(cells) + 2`` byte strings written between the fields.
        cells: At most 32 ``(kind, values, table)``: ``values`` holds one
            uint32 per row; ``kind`` is :data:`DECIMAL`, :data:`ISO_TIME` or
            :data:`LOOKUP` (prints ``table[value]``; ``table`` is ignored
            for the other kinds).

    Returns:
        The concatenated lines.

    Raises:
        IndexError: A row is not below N, or a LOOKUP value is not below
            the table's length.
        ValueError: The column length is not a multiple of 16, the number
            of pieces does not match, a cell's length differs from the
            rows', a kind is unknown, or there are more than 32 cells.
        TypeError: A buffer is not uint32, or a piece or table entry is not
            bytes.
    """
    col = _column(column)
    indexes = _u32(rows, "rows")
    checked = _check_cells(pieces, cells, len(indexes))
    texts = ipcore_py.render_ips(col, indexes, b"", b"\n").split(b"\n")
    out = []
    for i, text in enumerate(texts[:-1]):
        out.append(pieces[0])
        out.append(text)
        out.append(pieces[1])
        for (kind, values, table), after in zip(checked, pieces[2:], strict=True):
            value = values[i]
            if kind == DECIMAL:
                out.append(str(value).encode("ascii"))
            elif kind == ISO_TIME:
                out.append(_iso(value))
            else:
                out.append(table[value])
            out.append(after)
    return b"".join(out)


def keep_rows(
    column: "Buffer", rows: "Buffer", version: int = 0, firewall_safe: bool = False
) -> np.ndarray:
    """Say which rows a blacklist of one family, or a firewall, may list.

    Args:
        column: N consecutive 16-byte storage-form addresses.
        rows: Native uint32 row indexes into ``column``.
        version: 4 or 6 keeps only that family; 0 keeps both.
        firewall_safe: Drop addresses a firewall must never block
            (:data:`UNBLOCKABLE`: loopback, private, link-local, shared,
            unspecified, multicast, reserved).

    Returns:
        A numpy bool array, True for each row to keep.

    Raises:
        IndexError: A row is not below N.
        ValueError: The column length is not a multiple of 16, or
            ``version`` is not 0, 4 or 6.
        TypeError: ``rows`` is not a uint32 buffer.
    """
    if version not in (0, 4, 6):
        raise ValueError(f"version must be 0, 4 or 6, not {version!r}")
    col = _column(column)
    indexes = _u32(rows, "rows")
    count = len(col) // 16
    keep = np.ones(len(indexes), dtype=bool)
    for i, row in enumerate(indexes):
        data = _address(col, count, row)
        family = 4 if data[:12] == _MAPPED_PREFIX else 6
        if version and family != version:
            keep[i] = False
        elif firewall_safe:
            value = int.from_bytes(data[12:] if family == 4 else data, "big")
            keep[i] = ipcore_py.classify(family, value) not in UNBLOCKABLE
    return keep


def _json_time(epoch: int) -> bytes:
    return b'"' + _iso(epoch) + b'"' if epoch else b"null"


def render_check(
    ip: str,
    ip16: bytes,
    record: bytes | None,
    ignore_whitelist: bool,
    fragments: "CheckFragments",
) -> bytes:
    """Render the check answer of an address as JSON (:mod:`~sikker.core.check_json`).

    Args:
        ip: The address as asked; only whether it holds a ``:`` matters
            (an IPv4-mapped address asked in IPv6 form is answered in that
            form, as ``ipcore.format_ip`` prints it).
        ip16: Its 16-byte storage form (``ipcore.to_ip16(ip)``).
        record: Its stored record (:mod:`sikker.core.records`), or None
            when it is not listed.
        ignore_whitelist: Write the raw score as ``confidenceLevel``.
        fragments: The snapshot's serialised pieces.

    Returns:
        The bytes ``orjson.dumps(check_payload(...))`` would return.

    Raises:
        ValueError: ``ip16`` is not 16 bytes, or ``record`` is shorter than
            its header says.
        IndexError: ``record`` names an index ``fragments`` lacks.
        TypeError: ``ip``, ``ip16`` or ``record`` has the wrong type, or a
            fragment is not bytes.
    """
    if type(ip) is not str:
        raise TypeError(f"ip must be str, not {type(ip).__name__}")
    if type(ip16) is not bytes:
        raise TypeError(f"ip16 must be bytes, not {type(ip16).__name__}")
    if len(ip16) != 16:
        raise ValueError(f"ip16 must be 16 bytes, not {len(ip16)}")
    value = int.from_bytes(ip16, "big")
    public = fragments.publics[ipcore_py.classify(6, value)]
    if ip16[:12] == _MAPPED_PREFIX and ":" not in ip:
        text = ipcore_py.format_ip(4, value & 0xFFFFFFFF).encode("ascii")
    else:
        text = ipcore_py.format_ip(6, value).encode("ascii")
    if record is None:
        return b"".join(
            [
                b'{"ip":"',
                text,
                b'","found":false,"confidenceLevel":0,"rawConfidenceLevel":0,',
                public,
                fragments.tail,
            ]
        )
    if type(record) is not bytes:
        raise TypeError(f"record must be bytes, not {type(record).__name__}")
    if len(record) < HEADER.size:
        raise ValueError(f"the record is truncated ({len(record)} bytes)")
    r = Record.decode(record)
    if len(record) < _record_size(r):
        raise ValueError(f"the record is truncated ({len(record)} bytes)")
    details = r.details()
    country = r.country
    out = [
        b'{"ip":"',
        text,
        b'","found":true,"confidenceLevel":',
        str(r.raw_score if ignore_whitelist else r.score).encode(),
        b',"rawConfidenceLevel":',
        str(r.raw_score).encode(),
        b",",
        public,
        _at(fragments.whitelists, r.benign_source, "benign source"),
        fragments.countries[country]
        if country < len(fragments.countries)
        else fragments.no_country,
        fragments.asns[r.asn],
        b'"firstSeen":',
        _json_time(r.first_seen),
        b',"lastSeen":',
        _json_time(r.last_seen),
        b',"totalSessions":',
        str(r.sessions).encode(),
        b',"totalEvents":',
        str(r.events).encode(),
        b",",
        _at(fragments.severities, r.max_severity, "severity"),
        b'"protocols":[',
    ]
    for i, (pid, sessions, events) in enumerate(details.protocols):
        out.append(b"," if i else b"")
        out.append(_at(fragments.protocols, pid, "protocol"))
        out.append(b'%d,"events":%d}' % (sessions, events))
    for member, table, items, what in (
        (b'],"behaviors":[', fragments.behaviors, details.behaviors, "behavior"),
        (b'],"primitives":[', fragments.primitives, details.primitives, "primitive"),
    ):
        out.append(member)
        for i, (index, count) in enumerate(items):
            out.append(b"," if i else b"")
            out.append(_at(table, index, what))
            out.append(b"%d}" % count)
    out.append(
        b'],"reports":{"total":%d,"distinctReporters":%d' % (r.reports, r.reporters)
    )
    out.append(b',"lastReportedAt":')
    out.append(_json_time(r.last_reported))
    out.append(b',"categories":{')
    for i, (category, count) in enumerate(details.categories):
        out.append(b"," if i else b"")
        out.append(_at(fragments.categories, category - 1, "category"))
        out.append(b"%d" % count)
    out.append(b"}},")
    out.append(fragments.tail)
    return b"".join(out)


_NOT_LISTED = (
    b'","found":false,"confidenceLevel":0,"countryCode":null,"asn":null,'
    b'"lastSeen":null,"totalSessions":0,"maxSeverity":null,"reports":0}'
)


def render_compact(
    keys: Sequence[bytes],
    values: Sequence[bytes | None],
    countries: Sequence[bytes],
    severities: Sequence[bytes],
    ignore_whitelist: bool,
) -> bytes:
    """Render the compact answers of many addresses as one JSON array.

    Args:
        keys: The addresses in 16-byte storage form.
        values: Each one's stored record, or None when it is not listed.
        countries: JSON of each country index's code (``null`` for none);
            an index beyond them writes ``null``.
        severities: JSON of each severity level (0: ``null``).
        ignore_whitelist: Write the raw score as ``confidenceLevel``.

    Returns:
        The bytes ``orjson.dumps(bulk.compact(...))`` would return.

    Raises:
        ValueError: ``keys`` and ``values`` differ in length, a key is not
            16 bytes or a record is shorter than its header.
        IndexError: a record names a severity ``severities`` lacks.
        TypeError: a key or a record is not bytes, or a piece is not bytes.
    """
    if len(values) != len(keys):
        raise ValueError(f"{len(keys)} keys but {len(values)} values")
    out = [b"["]
    for i, (key, value) in enumerate(zip(keys, values, strict=True)):
        if type(key) is not bytes:
            raise TypeError(f"keys must be bytes, not {type(key).__name__}")
        if len(key) != 16:
            raise ValueError(f"keys must be 16 bytes, not {len(key)}")
        out.append(b',{"ip":"' if i else b'{"ip":"')
        out.append(ipcore_py.from_ip16(key).encode("ascii"))
        if value is None:
            out.append(_NOT_LISTED)
            continue
        if type(value) is not bytes:
            raise TypeError(f"records must be bytes, not {type(value).__name__}")
        if len(value) < HEADER.size:
            raise ValueError(f"the record is truncated ({len(value)} bytes)")
        r = Record.decode(value)
        country = countries[r.country] if r.country < len(countries) else b"null"
        out += [
            b'","found":true,"confidenceLevel":%d'
            % (r.raw_score if ignore_whitelist else r.score),
            b',"countryCode":',
            _bytes(country),
            b',"asn":"%d"' % r.asn if r.asn else b',"asn":null',
            b',"lastSeen":%d000' % r.last_seen if r.last_seen else b',"lastSeen":null',
            b',"totalSessions":%d,"maxSeverity":' % r.sessions,
            _bytes(_at(severities, r.max_severity, "severity")),
            b',"reports":%d}' % r.reports,
        ]
    out.append(b"]")
    return b"".join(out)


def _bytes(piece: object) -> bytes:
    """Return ``piece``, or raise TypeError unless it is bytes."""
    if type(piece) is not bytes:
        raise TypeError(f"fragments must be bytes, not {type(piece).__name__}")
    return piece


def _at(table: Sequence[bytes], index: int, what: str) -> bytes:
    """Return ``table[index]``, or raise IndexError naming ``what``."""
    if not 0 <= index < len(table):
        raise IndexError(f"{what} index {index} is out of range")
    return table[index]


def _record_size(r: Record) -> int:
    """Return the bytes a record with ``r``'s array lengths occupies."""
    return (
        HEADER.size
        + 9 * r.n_protocols
        + 6 * (r.n_behaviors + r.n_primitives)
        + 5 * r.n_categories
    )
