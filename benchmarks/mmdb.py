"""A MaxMind DB (.mmdb) writer for the ``maxminddb`` baseline of the benchmarks.

Written from the format's specification (MaxMind DB File Format 2.0): a
binary search tree over the bits of 128-bit addresses (IPv4 at
``::a.b.c.d``, as MaxMind's own IPv6 databases place it), 16 zero bytes,
the data section, then ``\\xab\\xcd\\xefMaxMind.com`` and a metadata map.

The tree is built level by level with numpy from the sorted keys, so ten
million host entries take seconds rather than hours: at depth ``d`` the
nodes are the runs of keys sharing their first ``d`` bits; a node's left
child exists if its first key has bit ``d`` clear, its right child if its
last key has it set. Records are 32 bits; nodes are numbered breadth first.
"""

import struct
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

METADATA_MARKER = b"\xab\xcd\xefMaxMind.com"
SEPARATOR = bytes(16)
RECORD_BITS = 32
#: Data types (the ones this writer uses).
POINTER, STRING, BYTES, UINT16, UINT32, MAP = 1, 2, 4, 5, 6, 7
UINT64, ARRAY = 9, 11
#: The smallest pointer form reaches this far into the data section.
SHORT_POINTER_LIMIT = 2048
_U32 = struct.Struct(">I")


class MmdbError(ValueError):
    """The records do not fit the format (too many, duplicate keys, ...)."""


def control(kind: int, size: int) -> bytes:
    """Return the control byte(s) of a field of type ``kind`` and ``size``."""
    if size < 29:
        head, extra = size, b""
    elif size < 285:
        head, extra = 29, bytes([size - 29])
    elif size < 65_821:
        head, extra = 30, (size - 285).to_bytes(2, "big")
    else:
        head, extra = 31, (size - 65_821).to_bytes(3, "big")
    if kind <= 7:
        return bytes([kind << 5 | head]) + extra
    return bytes([head, kind - 7]) + extra


def encode(value: Any) -> bytes:
    """Encode a metadata-style value: str, bytes, non-negative int, list, dict."""
    if isinstance(value, str):
        raw = value.encode()
        return control(STRING, len(raw)) + raw
    if isinstance(value, bytes):
        return control(BYTES, len(value)) + value
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return uint(UINT32 if value < 1 << 32 else UINT64, value)
    if isinstance(value, list):
        return control(ARRAY, len(value)) + b"".join(map(encode, value))
    if isinstance(value, dict):
        body = b"".join(encode(k) + encode(v) for k, v in value.items())
        return control(MAP, len(value)) + body
    raise MmdbError(f"cannot encode {type(value).__name__} {value!r}")


def uint(kind: int, value: int) -> bytes:
    """Encode ``value`` as an unsigned integer of type ``kind`` (UINT16/32/64)."""
    raw = value.to_bytes((value.bit_length() + 7) // 8, "big")
    return control(kind, len(raw)) + raw


def metadata_map(nodes: int, extra: Mapping[str, Any]) -> bytes:
    """Return the metadata map, each required field in its required type."""
    typed = {
        "node_count": uint(UINT32, nodes),
        "record_size": uint(UINT16, RECORD_BITS),
        "ip_version": uint(UINT16, 6),
        "binary_format_major_version": uint(UINT16, 2),
        "binary_format_minor_version": uint(UINT16, 0),
        "build_epoch": uint(UINT64, int(time.time())),
    }
    fields = {"languages": ["en"], **extra}
    body = b"".join(encode(k) + v for k, v in typed.items())
    body += b"".join(encode(k) + encode(v) for k, v in fields.items())
    return control(MAP, len(typed) + len(fields)) + body


def short_pointer(offset: int) -> int:
    """Return the two bytes (as an int) of a pointer to ``offset`` < 2048."""
    if not 0 <= offset < SHORT_POINTER_LIMIT:
        raise MmdbError(f"pointer target {offset} is beyond the short form")
    return POINTER << 13 | offset


class DataSection:
    """The data section, written to ``out`` as records are added.

    ``strings`` are written first, once, so records can point at them with
    two-byte pointers (map keys and repeated values, as MaxMind's writers do).
    """

    def __init__(self, out: BinaryIO, strings: Iterable[str]) -> None:
        self.out = out
        self.size = 0
        self.pointers: dict[str, int] = {}
        for text in dict.fromkeys(strings):
            self.pointers[text] = short_pointer(self.size)
            self.add(encode(text))

    def add(self, raw: bytes) -> int:
        """Append one encoded value; return its offset in the section."""
        offset = self.size
        self.out.write(raw)
        self.size += len(raw)
        return offset


def _bits(hi: np.ndarray, lo: np.ndarray, depth: int) -> np.ndarray:
    """Return bit ``depth`` (0 = most significant) of each 128-bit key."""
    if depth < 64:
        return ((hi >> np.uint64(63 - depth)) & np.uint64(1)).astype(np.bool_)
    return ((lo >> np.uint64(127 - depth)) & np.uint64(1)).astype(np.bool_)


def split_keys(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return (high, low) uint64 halves of (N, 16) big-endian address keys."""
    halves = np.ascontiguousarray(keys).view(">u8").reshape(-1, 2)
    return halves[:, 0].astype(np.uint64), halves[:, 1].astype(np.uint64)


def node_counts(hi: np.ndarray, lo: np.ndarray) -> list[int]:
    """Return the number of tree nodes at each depth 0..127 (keys sorted)."""
    start = np.zeros(len(hi), np.bool_)
    start[0] = True
    counts = []
    for depth in range(128):
        counts.append(int(start.sum()))
        bit = _bits(hi, lo, depth)
        start[1:] |= bit[1:] != bit[:-1]
    if not start.all():
        raise MmdbError("duplicate keys (IPv6 in ::/96 aliases IPv4 there)")
    return counts


def write_tree(
    out: BinaryIO, hi: np.ndarray, lo: np.ndarray, offsets: np.ndarray
) -> int:
    """Write the search tree of sorted keys; return its node count.

    ``offsets[i]`` is where key ``i``'s record starts in the data section.
    """
    counts = node_counts(hi, lo)
    nodes = sum(counts)
    if nodes + len(SEPARATOR) + int(offsets.max(initial=0)) >= 1 << RECORD_BITS:
        raise MmdbError(f"{nodes:,} nodes and the data do not fit 32-bit records")
    data = (offsets + (nodes + len(SEPARATOR))).astype(np.int64)
    start = np.zeros(len(hi), np.bool_)
    start[0] = True
    base = 0
    for depth in range(128):
        first = np.flatnonzero(start)
        last = np.append(first[1:] - 1, len(hi) - 1)
        bit = _bits(hi, lo, depth)
        start[1:] |= bit[1:] != bit[:-1]
        base += counts[depth]
        child = data if depth == 127 else base + np.cumsum(start) - 1
        pair = np.empty((len(first), 2), ">u4")
        pair[:, 0] = np.where(bit[first], nodes, child[first])
        pair[:, 1] = np.where(bit[last], child[last], nodes)
        out.write(pair.tobytes())
    return nodes


def write_mmdb(
    path: Path,
    keys: np.ndarray,
    offsets: np.ndarray,
    data: Path,
    metadata: Mapping[str, Any],
) -> int:
    """Write ``path`` from address keys and their records' data offsets.

    ``keys`` is (N, 16) uint8 in sikker's storage form (IPv4 as
    ``::ffff:a.b.c.d``, moved to ``::a.b.c.d`` here); ``data`` holds the data
    section the offsets point into. Returns the node count.
    """
    keys = np.array(keys, np.uint8)
    mapped = (keys[:, :10] == 0).all(axis=1) & (keys[:, 10:12] == 0xFF).all(axis=1)
    keys[mapped, 10:12] = 0
    hi, lo = split_keys(keys)
    order = np.lexsort((lo, hi))
    hi, lo, offsets = hi[order], lo[order], np.asarray(offsets)[order]
    with path.open("wb") as out:
        nodes = write_tree(out, hi, lo, offsets)
        out.write(SEPARATOR)
        with data.open("rb") as section:
            while chunk := section.read(1 << 24):
                out.write(chunk)
        out.write(METADATA_MARKER + metadata_map(nodes, metadata))
    return nodes
