"""The sync protocol's shared pieces: address sets, digests, wire lines.

A synced set is the blacklist of one filter at one snapshot sequence, held as
16-byte storage-form addresses (IPv4 mapped into IPv6, see
:func:`sikker.core.ipcore.to_ip16`) sorted bytewise, without duplicates. Its
digest is the SHA-256 of those bytes concatenated, so the server and an agent
agree on it whatever text an address was written in. On the wire a full set
is one address a line; a delta is ``-ADDRESS`` lines (removed) then
``+ADDRESS`` lines (added). docs/api.md describes the endpoints.
"""

import hashlib
from collections.abc import Iterable, Iterator, Mapping
from urllib.parse import urlencode

import numpy as np

from sikker.core import ipcore
from sikker.core.records import is_ipv4
from sikker.errors import InvalidAddressError, SyncProtocolError

#: One address in storage form; numpy sorts and compares it bytewise.
KEY = np.dtype("V16")
#: Addresses rendered per chunk of a streamed answer.
CHUNK = 1 << 16
MEDIA_TYPE = "text/plain; charset=utf-8"

# Headers of both endpoints (and of their 304 answers).
SEQUENCE = "X-Snapshot-Sequence"
FROM = "X-Sync-From"
SHA256 = "X-Sync-SHA256"
COUNT = "X-Sync-Count"
FILTER = "X-Sync-Filter"
#: The ``code`` of the 410 that asks an agent for a full pull.
FULL_REQUIRED = "full_required"


def empty() -> np.ndarray:
    """Return the empty set."""
    return np.empty(0, KEY)


def keys_of(buffer: bytes | bytearray | memoryview | np.ndarray) -> np.ndarray:
    """Return a sorted set from concatenated 16-byte addresses (any order)."""
    if not len(buffer):
        return empty()
    return np.unique(np.frombuffer(buffer, KEY))


def digest(keys: np.ndarray) -> str:
    """Return the hex SHA-256 of a sorted set (``keys_of`` order)."""
    return hashlib.sha256(np.ascontiguousarray(keys).tobytes()).hexdigest()


def etag(set_digest: str) -> str:
    """Return the strong entity tag of a set: its digest, quoted."""
    return f'"{set_digest}"'


def diff(old: np.ndarray, new: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return ``(added, removed)`` that turn ``old`` into ``new``, sorted."""
    added = np.setdiff1d(new, old, assume_unique=True)
    removed = np.setdiff1d(old, new, assume_unique=True)
    return added, removed


def apply_delta(keys: np.ndarray, added: np.ndarray, removed: np.ndarray) -> np.ndarray:
    """Return ``keys`` without ``removed`` and with ``added``, sorted."""
    kept = np.setdiff1d(keys, removed, assume_unique=True) if len(removed) else keys
    if not len(added):
        return kept
    return np.union1d(kept, added)


def families(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return ``(ipv4, ipv6)``: the set split by address family."""
    v4 = is_ipv4(np.ascontiguousarray(keys).view(np.uint8).reshape(-1, 16))
    return keys[v4], keys[~v4]


def filter_key(params: Mapping[str, str]) -> str:
    """Return the canonical text of a filter (sorted query parameters)."""
    return urlencode(sorted(params.items()), safe=",")


# -- the wire --------------------------------------------------------------------


def render(
    keys: np.ndarray, prefix: bytes = b"", suffix: bytes = b"\n"
) -> Iterator[bytes]:
    """Yield ``prefix + address + suffix`` for each address, in chunks."""
    column = np.ascontiguousarray(keys).view(np.uint8)
    for start in range(0, len(keys), CHUNK):
        rows = np.arange(start, min(start + CHUNK, len(keys)), dtype=np.uint32)
        yield ipcore.render_ips(column.data, rows.data, prefix, suffix)


def render_delta(added: np.ndarray, removed: np.ndarray) -> Iterator[bytes]:
    """Yield the lines of a delta: removals first, then additions."""
    yield from render(removed, b"-")
    yield from render(added, b"+")


def _lines(body: bytes) -> list[bytes]:
    if body and not body.endswith(b"\n"):
        raise SyncProtocolError("the answer was cut short (no final newline)")
    return body.split(b"\n")[:-1] if body else []


def _packed(texts: Iterable[bytes], where: str) -> np.ndarray:
    out = bytearray()
    for number, text in enumerate(texts, 1):
        try:
            out += ipcore.to_ip16(text.decode("ascii"))
        except (UnicodeDecodeError, InvalidAddressError):
            shown = text[:60].decode("ascii", "replace")
            raise SyncProtocolError(
                f"{where} line {number}: {shown!r} is not an address"
            ) from None
    return keys_of(out)


def parse_full(body: bytes) -> np.ndarray:
    """Return the set of a full answer (one address a line).

    Raises:
        SyncProtocolError: a line is not an address, or the body is cut short.
    """
    return _packed(_lines(body), "full list")


def parse_delta(body: bytes) -> tuple[np.ndarray, np.ndarray]:
    """Return ``(added, removed)`` of a delta answer (``+``/``-`` lines).

    Raises:
        SyncProtocolError: a line is neither, or the body is cut short.
    """
    plus, minus = [], []
    for number, line in enumerate(_lines(body), 1):
        sign, text = line[:1], line[1:]
        if sign == b"+":
            plus.append(text)
        elif sign == b"-":
            minus.append(text)
        else:
            raise SyncProtocolError(
                f"delta line {number} starts with neither '+' nor '-'"
            )
    return _packed(plus, "delta (added)"), _packed(minus, "delta (removed)")
