"""Formats with columns: CSV and Suricata IP reputation.

CSV cells that a spreadsheet would run as a formula (starting with ``=``,
``+``, ``-``, ``@``, a tab or a carriage return) get a leading ``'``, and
cells with a comma, quote or line break are quoted (RFC 4180).

Suricata's reputation file says ``ip,category,score`` with scores 1-127:
confidence ``c`` maps to ``max(1, round(c * 127 / 100))``. Category 1
(``sikker``) holds every listed address; categories 2-17
(``sikker-ssh`` ... ``sikker-sip``) repeat each address for every protocol
honeypots saw it on.
"""

from collections.abc import Iterator
from functools import lru_cache

import numpy as np

from sikker.core.format_base import Export, column, header, lines, pick, u32
from sikker.core.generation import Generation
from sikker.core.render import DECIMAL, ISO_TIME, LOOKUP
from sikker.core.vocab import PROTOCOLS

CSV_COLUMNS = (
    "ip",
    "confidenceLevel",
    "lastSeen",
    "sessions",
    "protocols",
    "countryCode",
    "asn",
    "asnOrg",
)
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

#: Suricata category ids: 1 for every listed address, then one per protocol.
SURICATA_ALL = 1
SURICATA_CATEGORIES: tuple[tuple[int, str, str], ...] = (
    (SURICATA_ALL, "sikker", "Listed by sikker (any protocol)"),
    *(
        (2 + i, f"sikker-{name}", f"Listed by sikker and seen on {name} by honeypots")
        for i, name in enumerate(PROTOCOLS)
    ),
)


def csv_cell(text: str) -> str:
    """Return ``text`` as a CSV cell that no spreadsheet runs as a formula."""
    if text.startswith(_FORMULA_STARTS):
        text = "'" + text
    if any(c in text for c in ',"\r\n'):
        text = '"' + text.replace('"', '""') + '"'
    return text


@lru_cache(maxsize=4096)
def _protocol_cell(mask: int) -> bytes:
    return " ".join(p for i, p in enumerate(PROTOCOLS) if mask >> i & 1).encode()


def _lookup(values: np.ndarray) -> tuple[np.ndarray, list[int]]:
    """Return (codes, distinct values) for a LOOKUP cell over ``values``."""
    distinct, codes = np.unique(values, return_inverse=True)
    return u32(codes.reshape(-1)), distinct.tolist()


class _CsvCells:
    """Builds the CSV cells of a run of rows."""

    def __init__(self, export: Export) -> None:
        snapshot = export.snapshot
        self.countries = [csv_cell(c).encode("utf-8") for c in snapshot.countries]
        self.orgs = snapshot.asn_orgs

    def __call__(self, layer: Generation, rows: np.ndarray) -> list:
        summary = layer.summary[rows]
        masks, mask_values = _lookup(summary["protocols"])
        asns, asn_values = _lookup(summary["asn"])
        return [
            (DECIMAL, u32(summary["score"]), ()),
            (ISO_TIME, u32(summary["last_seen"]), ()),
            (DECIMAL, u32(summary["sessions"]), ()),
            (LOOKUP, masks, [_protocol_cell(m) for m in mask_values]),
            (LOOKUP, u32(summary["country"]), self.countries),
            (LOOKUP, asns, [self._asn_cells(a) for a in asn_values]),
        ]

    def _asn_cells(self, asn: int) -> bytes:
        if not asn:
            return b","
        org = csv_cell(self.orgs.get(str(asn), ""))
        return f"{asn},{org}".encode()


def csv(export: Export) -> Iterator[bytes]:
    """A CSV table with a header row: the JSON document's fields, one row an address.

    ``lastSeen`` is ISO 8601 UTC; ``protocols`` are space-separated.
    """
    yield (",".join(CSV_COLUMNS) + "\n").encode("ascii")
    pieces = (b"", b",", b",", b",", b",", b",", b",", b"\n")
    yield from lines(export.snapshot, export.selection, pieces, _CsvCells(export))


def suricata_score(confidence: np.ndarray) -> np.ndarray:
    """Map confidences 0-100 to Suricata reputation scores 1-127."""
    scaled = (confidence.astype(np.uint32) * 127 + 50) // 100
    return np.maximum(scaled, 1).astype(np.uint32)


def _scores(layer: Generation, rows: np.ndarray) -> list:
    return [(DECIMAL, suricata_score(layer.summary["score"][rows]), ())]


def suricata(export: Export) -> Iterator[bytes]:
    """A Suricata reputation file (``reputation-files``): ``ip,category,score``."""
    snapshot, selection = export.snapshot, export.selection
    masks = column(snapshot, selection, "protocols")
    yield header(
        export,
        "sikker IP reputation for Suricata",
        len(selection),
        "ip,category,score (score 1-127); categories: format=suricata-categories",
    )
    yield from lines(
        snapshot, selection, (b"", f",{SURICATA_ALL},".encode(), b"\n"), _scores
    )
    for bit in range(len(PROTOCOLS)):
        on = (masks >> bit) & 1 == 1
        if on.any():
            pieces = (b"", f",{bit + 2},".encode(), b"\n")
            yield from lines(snapshot, pick(selection, on), pieces, _scores)


def suricata_categories(export: Export) -> Iterator[bytes]:
    """The Suricata categories file (``reputation-categories-file``)."""
    yield b"# id,shortname,description (sikker IP reputation categories)\n"
    yield "".join(
        f"{i},{name},{text}\n" for i, name, text in SURICATA_CATEGORIES
    ).encode()
