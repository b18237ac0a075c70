"""Names and key encodings of the LMDB tables inside a snapshot."""

import struct

import numpy as np

#: ip16 (16-byte storage form) -> row id (little-endian uint32).
IP = b"ip"
#: row id (native uint32, LMDB integer key) -> packed record.
ROW_KEY = b"rows"
#: bitmap name (``country:CN``) -> Roaring portable serialisation.
BITMAPS = b"bitmaps"
#: name -> JSON: countries, asn_orgs, catalog, benign_sources, bitmaps index.
META = b"meta"
TABLES = (IP, ROW_KEY, BITMAPS, META)

_ROW = struct.Struct("=I")
_ROW_VALUE = struct.Struct("<I")


def row_key(row: int) -> bytes:
    """Return the LMDB key of a row id."""
    return _ROW.pack(row)


def row_keys(first: int, count: int) -> bytes:
    """Return the keys of rows ``first .. first + count - 1``, concatenated."""
    return np.arange(first, first + count, dtype="=u4").tobytes()


def row_value(value: bytes) -> int:
    """Return the row id stored as an ip table value."""
    return _ROW_VALUE.unpack(value)[0]
