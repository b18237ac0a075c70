"""One-address-a-line formats: plaintext, CSF, nginx deny/geo, counts.

See docs/integrations.md for where each goes. Addresses are canonical
hosts (a snapshot lists single IPs), so nginx sees no duplicate or
host-bit warnings and CSF no prefix it rejects.
"""

from collections.abc import Iterator

import numpy as np

from sikker.core.format_base import Export, column, header, lines, subset, u32
from sikker.core.generation import Generation
from sikker.core.render import DECIMAL


def plaintext(export: Export) -> Iterator[bytes]:
    """One address a line, nothing else (SikkerAPI ``plaintext=true``)."""
    yield from lines(export.snapshot, export.selection, (b"", b"\n"))


def csf(export: Export) -> Iterator[bytes]:
    """A CSF ``csf.blocklists`` list: ``#`` header, then addresses a firewall may block.

    Loopback, private, link-local, shared, unspecified, multicast and
    reserved addresses are left out, so a list can never cut a host off its
    own networks (lfd itself only refuses 127.0.0.1 and ::1).
    """
    selection = subset(export.snapshot, export.selection, safe=True)
    yield header(
        export,
        "sikker blacklist for CSF",
        len(selection),
        "one address a line; csf.blocklists: NAME|86400|0|<this URL>",
    )
    yield from lines(export.snapshot, selection, (b"", b"\n"))


def nginx_deny(export: Export) -> Iterator[bytes]:
    """``deny ADDRESS;`` lines for ``include`` in an http/server/location block."""
    yield header(
        export,
        "sikker blacklist for nginx (deny)",
        len(export.selection),
        "include inside http, server or location, before 'allow all;'",
    )
    yield from lines(export.snapshot, export.selection, (b"deny ", b";\n"))


def nginx_geo(export: Export) -> Iterator[bytes]:
    """``ADDRESS 1;`` lines for ``include`` inside a ``geo`` block."""
    yield header(
        export,
        "sikker blacklist for nginx (geo)",
        len(export.selection),
        "geo $sikker_blocked { default 0; include <this file>; }",
    )
    yield from lines(export.snapshot, export.selection, (b"", b" 1;\n"))


def _sessions(layer: Generation, rows: np.ndarray) -> list:
    return [(DECIMAL, u32(layer.summary["sessions"][rows]), ())]


def counts(export: Export) -> Iterator[bytes]:
    """``ADDRESS<TAB>SESSIONS`` lines: honeypot sessions seen from each address."""
    total = int(column(export.snapshot, export.selection, "sessions").sum())
    yield header(
        export,
        "sikker blacklist with session counts",
        len(export.selection),
        f"address<TAB>honeypot sessions; {total} sessions in all",
    )
    yield from lines(export.snapshot, export.selection, (b"", b"\t", b"\n"), _sessions)
