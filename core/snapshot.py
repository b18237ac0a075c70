"""What readers see: a base generation, possibly with an overlay on top.

An incremental build writes only the changed IPs, as an overlay generation
on the current base: its own small LMDB table, columns and bitmaps, plus a
``tombstones`` bitmap of the base rows it replaces. A lookup asks the overlay
first; a blacklist selects in both and merges by (confidence, recency). The
overlay's country list extends the base's, so country indexes of both mean
the same. Every method answers from one consistent (base, overlay) pair.
"""

import itertools
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from sikker.core import ipcore
from sikker.core.filters import BlacklistQuery
from sikker.core.generation import Generation, open_generation
from sikker.core.layout import snapshot_dirname
from sikker.core.manifest import Manifest
from sikker.core.records import MAPPED_PREFIX, SUMMARY_DTYPE, Record
from sikker.core.snapshot_tables import EMAILS, USERNAMES
from sikker.errors import InvalidAddressError

#: Widest networks ``lookup_block`` accepts (2^16 addresses / 2^80 for IPv6).
MAX_BLOCK_PREFIX = {4: 16, 6: 48}
RENDER_CHUNK = 1 << 16
#: Longest username/email key stored (LMDB keys are at most 511 bytes).
MAX_INTEL_KEY = 255
TOMBSTONES = "tombstones"


class Selection(NamedTuple):
    """Rows picked from a snapshot, best first: ``layers[layer[i]]`` row ``rows[i]``."""

    layer: np.ndarray  # uint8: 0 = base (or the only generation), 1 = overlay
    rows: np.ndarray  # uint32

    def __len__(self) -> int:
        return len(self.rows)


class Snapshot:
    """A published snapshot: one generation, or an overlay and its base."""

    def __init__(self, top: Generation, base: Generation | None = None) -> None:
        self.top = top
        self.base = base
        self.layers: tuple[Generation, ...] = (top,) if base is None else (base, top)
        self._tombstones = top.bitmap(TOMBSTONES) if base is not None else None
        #: What callers derive once per snapshot (see :meth:`derive`).
        self.derived: dict[str, Any] = {}

    @classmethod
    def open(cls, path: Path) -> "Snapshot":
        """Open the generation at ``path`` and, for an overlay, its base."""
        top = open_generation(path)
        if top.manifest.base is None:
            return cls(top)
        return cls(
            top, open_generation(path.parent / snapshot_dirname(top.manifest.base))
        )

    # Generations are shared by every reader in the process and close when the
    # last one lets go, so a Snapshot has nothing to close; ``with`` is allowed.
    def __enter__(self) -> "Snapshot":
        return self

    def __exit__(self, *exc: object) -> None:
        pass

    def derive(self, name: str, make: Callable[["Snapshot"], Any]) -> Any:
        """Return ``make(self)``, computed at the first call for ``name`` and
        kept as long as the snapshot is (serialised check fragments, ...)."""
        value = self.derived.get(name)
        if value is None:
            value = self.derived.setdefault(name, make(self))
        return value

    # -- what it is ------------------------------------------------------------

    @property
    def path(self) -> Path:
        """Return the directory of the newest generation."""
        return self.top.path

    @property
    def manifest(self) -> Manifest:
        """Return the newest generation's manifest."""
        return self.top.manifest

    @property
    def sequence(self) -> int:
        """Return the sequence number readers see."""
        return self.top.sequence

    @property
    def count(self) -> int:
        """Return the number of listed IPs."""
        return self.top.manifest.counts["ips"]

    @property
    def countries(self) -> list[str]:
        """Return the country codes that records' ``country`` indexes name."""
        return self.top.countries

    @property
    def asn_orgs(self) -> dict[str, str]:
        """Return the organisation of every AS number (as a string key)."""
        return self.top.asn_orgs

    @property
    def catalog(self) -> dict[str, list[dict[str, Any]]]:
        """Return the behaviors and primitives that records' indexes name."""
        return self.top.catalog

    @property
    def benign_sources(self) -> list[dict[str, Any]]:
        """Return the known-benign sources that records' indexes name."""
        return self.top.benign_sources

    # -- lookups ---------------------------------------------------------------

    def lookup(self, ip: str) -> Record | None:
        """Return the record of an IP address, or None if it is not listed.

        Raises:
            InvalidAddressError: ``ip`` is not an IPv4/IPv6 address.
        """
        buf = self.stored(ip)
        return Record.decode(buf) if buf is not None else None

    def stored(self, ip: str) -> bytes | None:
        """Return the stored record of an IP address (see :meth:`lookup`).

        Raises:
            InvalidAddressError: ``ip`` is not an IPv4/IPv6 address.
        """
        return self.stored16(ipcore.to_ip16(ip))

    def stored16(self, ip16: bytes) -> bytes | None:
        """Return the stored record of an address in storage form, or None."""
        for layer in reversed(self.layers):
            buf = layer.get(ip16)
            if buf is not None:
                return buf or None  # b"" = removed
        return None

    def lookup_many(self, keys: list[bytes]) -> list[bytes | None]:
        """Return the stored record of each 16-byte address (None: not listed).

        One read transaction per layer; the overlay answers first. Decode a
        value with :meth:`Record.decode` (or read its fixed header directly).
        """
        found: list[bytes | None] = [None] * len(keys)
        pending = list(range(len(keys)))
        for layer in reversed(self.layers):
            values = layer.get_many([keys[i] for i in pending])
            missing = []
            for i, value in zip(pending, values, strict=True):
                if value is None:
                    missing.append(i)
                elif value:  # b"" = removed by the overlay
                    found[i] = value
            pending = missing
            if not pending:
                break
        return found

    def username(self, name: str) -> dict[str, Any] | None:
        """Return login-attempt intel for a username (case-insensitive)."""
        return self._intel(USERNAMES, name.lower())

    def email(self, address: str) -> dict[str, Any] | None:
        """Return intel for an SMTP recipient address (case-insensitive)."""
        return self._intel(EMAILS, address.lower())

    def _intel(self, table: bytes, key: str) -> dict[str, Any] | None:
        if not key or len(key.encode("utf-8")) > MAX_INTEL_KEY:
            return None
        for layer in reversed(self.layers):
            found = layer.intel(table, key)
            if found is not None:
                return found
        return None

    def lookup_block(self, cidr: str, strict: bool = False) -> list[tuple[str, Record]]:
        """Return ``(address, record)`` for every listed IP inside a network.

        Raises:
            InvalidAddressError: ``cidr`` is not a network, or is wider than
                ``MAX_BLOCK_PREFIX`` allows.
        """
        version, network, prefix = ipcore.parse_cidr(cidr, strict)
        if prefix < MAX_BLOCK_PREFIX[version]:
            raise InvalidAddressError(
                cidr,
                f"networks wider than /{MAX_BLOCK_PREFIX[version]} are not accepted",
            )
        bits = 32 if version == 4 else 128
        last = network | ((1 << (bits - prefix)) - 1)
        start, stop = (_ip16(version, value) for value in (network, last))
        found: dict[bytes, bytes] = {}
        for layer in self.layers:  # later layers replace earlier ones
            found.update(layer.scan(start, stop))
        return [
            (ipcore.from_ip16(ip16), Record.decode(buf))
            for ip16, buf in sorted(found.items())
            if buf
        ]

    def records(self) -> Iterator[tuple[bytes, Record]]:
        """Yield ``(ip16, record)`` for every listed IP, in address order."""
        if self.base is None:
            for ip16, buf in self.top.items():
                yield ip16, Record.decode(buf)
            return
        overlay = self.top.items()
        ahead = next(overlay, None)
        for ip16, buf in self.base.items():
            while ahead is not None and ahead[0] < ip16:
                if ahead[1]:
                    yield ahead[0], Record.decode(ahead[1])
                ahead = next(overlay, None)
            if ahead is not None and ahead[0] == ip16:
                buf, ahead = ahead[1], next(overlay, None)  # replaced or removed
            if buf:
                yield ip16, Record.decode(buf)
        while ahead is not None:
            if ahead[1]:
                yield ahead[0], Record.decode(ahead[1])
            ahead = next(overlay, None)

    # -- blacklists ------------------------------------------------------------

    def blacklist(self, query: BlacklistQuery) -> Selection:
        """Return the rows matching ``query``, best first, at most ``limit``."""
        if self.base is None:
            rows = self.top.select(query)
            return Selection(np.zeros(len(rows), np.uint8), rows)
        assert self._tombstones is not None
        base_rows = self.base.select(query, exclude=self._tombstones)
        top_rows = self.top.select(query)
        if not len(top_rows):
            return Selection(np.zeros(len(base_rows), np.uint8), base_rows)
        at = self._merge_points(base_rows, top_rows)
        total = min(len(base_rows) + len(top_rows), query.limit)
        layer = np.zeros(len(base_rows) + len(top_rows), np.uint8)
        rows = np.empty(len(layer), np.uint32)
        top_at = at + np.arange(len(top_rows))
        layer[top_at] = 1
        rows[top_at] = top_rows
        rows[layer == 0] = base_rows
        return Selection(layer[:total], rows[:total])

    def everything(self) -> Selection:
        """Return every listed row, best first."""
        return self.blacklist(BlacklistQuery(score_minimum=0, limit=max(self.count, 1)))

    def _merge_points(self, base_rows: np.ndarray, top_rows: np.ndarray) -> np.ndarray:
        """Return where each overlay row goes among the base rows.

        Both lists are ordered by (confidence, recency, address); rows with
        equal confidence and recency are placed by address, as a full build
        would order them.
        """
        assert self.base is not None
        base_keys = _order_keys(self.base.summary[base_rows])
        top_keys = _order_keys(self.top.summary[top_rows])
        at = np.searchsorted(base_keys, top_keys, side="left")
        ends = np.searchsorted(base_keys, top_keys, side="right")
        for i in np.flatnonzero(ends > at).tolist():  # ties: rare, compare addresses
            ip16 = self.top.ip16(int(top_rows[i]))
            while at[i] < ends[i] and self.base.ip16(int(base_rows[at[i]])) < ip16:
                at[i] += 1
        return at

    def render_plaintext(
        self, selection: Selection, prefix: bytes = b"", suffix: bytes = b"\n"
    ) -> Iterator[bytes]:
        """Yield prefix + address + suffix for each selected row, in chunks."""
        for start in range(0, len(selection), RENDER_CHUNK):
            stop = start + RENDER_CHUNK
            yield b"".join(
                self.layers[layer].render(rows, prefix, suffix)
                for layer, rows in _runs(
                    selection.layer[start:stop], selection.rows[start:stop]
                )
            )

    def ip_texts(self, selection: Selection) -> list[str]:
        """Return the addresses of the selected rows as text."""
        text = b"".join(self.render_plaintext(selection)).decode("ascii")
        return text.split("\n")[:-1]

    def summaries(self, selection: Selection) -> np.ndarray:
        """Return the summary column (SUMMARY_DTYPE) of the selected rows."""
        if self.base is None:
            return self.top.summary[selection.rows]
        out = np.empty(len(selection), SUMMARY_DTYPE)
        for index, layer in enumerate(self.layers):
            mask = selection.layer == index
            out[mask] = layer.summary[selection.rows[mask]]
        return out


def _order_keys(summary: np.ndarray) -> np.ndarray:
    """Return keys that sort rows by confidence desc, then last seen desc."""
    key = (np.uint64(100) - summary["score"].astype(np.uint64)) << np.uint64(32)
    return key | (np.uint64(0xFFFFFFFF) - summary["last_seen"].astype(np.uint64))


def _runs(layers: np.ndarray, rows: np.ndarray) -> Iterator[tuple[int, np.ndarray]]:
    """Yield (layer, rows) for each run of consecutive rows of one layer."""
    if not len(rows):
        return
    cuts = [0, *(np.flatnonzero(np.diff(layers)) + 1).tolist(), len(rows)]
    for a, b in itertools.pairwise(cuts):
        yield int(layers[a]), rows[a:b]


def _ip16(version: int, value: int) -> bytes:
    """Return the storage form of an address given as an integer."""
    if version == 4:
        return MAPPED_PREFIX + value.to_bytes(4, "big")
    return value.to_bytes(16, "big")
