"""Vectorised encoding of a score-ordered RecordTable into stored records.

Records are encoded in batches so that ten million of them never need
per-record Python work beyond handing a slice to LMDB.
"""

from collections.abc import Iterator

import numpy as np

from sikker.core.records import (
    CATEGORY_ITEM,
    COUNTED_ITEM,
    HEADER,
    PROTOCOL_ITEM,
    SUMMARY_DTYPE,
    Ragged,
    RecordTable,
)

HEADER_DTYPE = np.dtype(
    [
        ("score", "u1"),
        ("raw_score", "u1"),
        ("max_severity", "u1"),
        ("benign_source", "u1"),
        ("n_protocols", "u1"),
        ("n_behaviors", "u1"),
        ("n_primitives", "u1"),
        ("n_categories", "u1"),
        ("flags", "u1"),
        ("pad", "V3"),
        ("row", "<u4"),
        ("country", "<u4"),
        ("asn", "<u4"),
        ("first_seen", "<u4"),
        ("last_seen", "<u4"),
        ("sessions", "<u4"),
        ("events", "<u4"),
        ("reports", "<u4"),
        ("reporters", "<u4"),
        ("last_reported", "<u4"),
    ]
)
assert HEADER_DTYPE.itemsize == HEADER.size

_PROTOCOL_DTYPE = np.dtype([("id", "u1"), ("sessions", "<u4"), ("events", "<u4")])
_COUNTED_DTYPE = np.dtype([("id", "<u2"), ("count", "<u4")])
_CATEGORY_DTYPE = np.dtype([("id", "u1"), ("count", "<u4")])
assert _PROTOCOL_DTYPE.itemsize == PROTOCOL_ITEM.size
assert _COUNTED_DTYPE.itemsize == COUNTED_ITEM.size
assert _CATEGORY_DTYPE.itemsize == CATEGORY_ITEM.size

BATCH = 1 << 17


def max_severity(table: RecordTable) -> np.ndarray:
    """Return each record's highest behavior severity level (0 = none)."""
    levels = {"low": 1, "medium": 2, "high": 3, "critical": 4}
    per_behavior = np.array(
        [levels[b["severity"]] for b in table.catalog["behaviors"]] or [0], np.uint8
    )
    result = np.zeros(len(table), np.uint8)
    beh = table.behaviors
    if len(beh.ids):
        owner = np.repeat(np.arange(len(table)), beh.lengths())
        np.maximum.at(result, owner, per_behavior[beh.ids])
    return result


def protocol_masks(table: RecordTable) -> np.ndarray:
    """Return each record's protocol bit mask (bit i = protocol id i)."""
    protos = table.protocols
    masks = np.zeros(len(table), np.uint16)
    if len(protos.ids):
        owner = np.repeat(np.arange(len(table)), protos.lengths())
        np.bitwise_or.at(
            masks, owner, (1 << protos.ids.astype(np.uint16)).astype(np.uint16)
        )
    return masks


def country_index(
    table: RecordTable, known: list[str] | None = None
) -> tuple[np.ndarray, list[str]]:
    """Return (per-record index into the country list, the country list).

    The list starts with ``known`` (an overlay keeps its base's indexes), or
    with the unknown country ``""``; codes not in it follow, sorted.
    """
    codes = np.ascontiguousarray(table.country, "S2").view(">u2")  # sorts like text
    names = list(known or [""])
    as_code = {_code(name): i for i, name in enumerate(names)}
    for code in np.flatnonzero(np.bincount(codes, minlength=1 << 16)).tolist():
        if code not in as_code:
            as_code[code] = len(names)
            names.append(code.to_bytes(2, "big").rstrip(b"\0").decode("ascii"))
    lookup = np.zeros(1 << 16, np.uint16)
    lookup[list(as_code)] = list(as_code.values())
    return lookup[codes], names


def _code(name: str) -> int:
    return int.from_bytes(name.encode("ascii").ljust(2, b"\0"), "big")


def summary(
    table: RecordTable, severity: np.ndarray, countries: np.ndarray
) -> np.ndarray:
    """Return the fixed-width summary column of every record."""
    out = np.zeros(len(table), SUMMARY_DTYPE)
    out["score"] = table.score
    out["raw_score"] = table.raw_score
    out["max_severity"] = severity
    out["benign_source"] = table.benign_source
    out["country"] = countries
    out["protocols"] = protocol_masks(table)
    out["asn"] = table.asn
    out["last_seen"] = table.last_seen
    out["sessions"] = table.sessions
    return out


def _headers(
    batch: RecordTable, rows: np.ndarray, severity: np.ndarray, countries: np.ndarray
) -> np.ndarray:
    hdr = np.zeros(len(batch), HEADER_DTYPE)
    for name in RecordTable.SCALARS:
        if name != "country":  # stored as an index into the country list
            hdr[name] = getattr(batch, name)
    hdr["country"] = countries
    hdr["row"] = rows
    hdr["max_severity"] = severity
    for field, col in (
        ("n_protocols", batch.protocols),
        ("n_behaviors", batch.behaviors),
        ("n_primitives", batch.primitives),
        ("n_categories", batch.categories),
    ):
        hdr[field] = col.lengths()
    return hdr


def _items(col: Ragged, dtype: np.dtype) -> tuple[np.ndarray, np.ndarray]:
    """Return (packed item bytes, per-record item counts) of a column."""
    items = np.zeros(len(col.ids), dtype)
    items["id"] = col.ids
    for name in (dtype.names or ())[1:]:
        items[name] = col.values[name]
    return items.view(np.uint8).reshape(-1, dtype.itemsize), col.lengths()


def _scatter(
    buf: np.ndarray, starts: np.ndarray, counts: np.ndarray, items: np.ndarray
) -> None:
    """Write each record's items contiguously from its start offset."""
    if not len(items):
        return
    width = items.shape[1]
    owner_start = np.repeat(starts, counts)
    first = np.repeat(np.cumsum(counts) - counts, counts)
    position = owner_start + (np.arange(len(items)) - first) * width
    buf[(position[:, None] + np.arange(width)).ravel()] = items.ravel()


def encode_batches(
    table: RecordTable,
    severity: np.ndarray,
    countries: np.ndarray,
    rows: np.ndarray,
    batch: int = BATCH,
) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Yield ``(rows, record bytes, record offsets)`` for batches of ``rows``.

    ``rows`` lists the table rows to encode, in output order; the record of
    ``batch_rows[i]`` is ``bytes[offsets[i]:offsets[i + 1]]``.
    """
    for s in range(0, len(rows), batch):
        chosen = rows[s : s + batch]
        part = table.take(chosen)
        packed = [
            _items(part.protocols, _PROTOCOL_DTYPE),
            _items(part.behaviors, _COUNTED_DTYPE),
            _items(part.primitives, _COUNTED_DTYPE),
            _items(part.categories, _CATEGORY_DTYPE),
        ]
        lengths = np.full(len(chosen), HEADER.size, np.int64)
        for items, counts in packed:
            lengths += counts * items.shape[1]
        offsets = np.zeros(len(chosen) + 1, np.int64)
        np.cumsum(lengths, out=offsets[1:])
        buf = np.empty(offsets[-1], np.uint8)
        hdr = _headers(part, chosen, severity[chosen], countries[chosen])
        _scatter(
            buf,
            offsets[:-1],
            np.ones(len(chosen), np.int64),
            hdr.view(np.uint8).reshape(-1, HEADER.size),
        )
        cursor = offsets[:-1] + HEADER.size
        for items, counts in packed:
            _scatter(buf, cursor, counts, items)
            cursor = cursor + counts * items.shape[1]
        yield chosen, buf, offsets
