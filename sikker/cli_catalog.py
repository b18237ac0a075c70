"""``sikker catalog``: list the threat catalog, or check a catalog file.

Registered on the main parser by :func:`add_commands`, so it shares the
global options, ``--json`` and the error handling of :mod:`sikker.cli`.
"""

import argparse
import sys
from collections.abc import Callable, Sequence
from typing import Any

import orjson

from sikker.builder.catalog import Catalog, load_catalog
from sikker.core.config import Config
from sikker.core.vocab import PROTOCOLS, SEVERITIES, SEVERITY_ALIASES

#: Widest a table cell gets before it is cut with "...".
MAX_CELL = 60


def _print_json(data: Any) -> None:
    sys.stdout.write(orjson.dumps(data, option=orjson.OPT_INDENT_2).decode() + "\n")


def select(
    catalog: Catalog, protocol: str | None = None, severity: str | None = None
) -> dict[str, list[dict[str, Any]]]:
    """Return the snapshot form of the entries the filters keep.

    Behaviors are kept when they apply to ``protocol`` and have exactly
    ``severity``; primitives when they apply to ``protocol`` and, with a
    severity filter, are used by a kept behavior.
    """
    behaviors = [
        b
        for b in catalog.behaviors
        if (protocol is None or protocol in b.protocols)
        and (severity is None or b.severity == severity)
    ]
    used = {p for b in behaviors for p in b.primitive_ids}
    primitives = [
        p
        for p in catalog.primitives
        if (protocol is None or protocol in p.protocols)
        and (severity is None or p.id in used)
    ]
    return {
        "behaviors": [b.to_dict() for b in behaviors],
        "primitives": [p.to_dict() for p in primitives],
    }


def protocols_cell(protocols: Sequence[str]) -> str:
    """Return a short protocol list: ``all``, ``all but ...`` or the names."""
    missing = [p for p in PROTOCOLS if p not in protocols]
    if not missing:
        return "all"
    if len(missing) < len(protocols):
        return "all but " + ",".join(missing)
    return ",".join(protocols)


def _cell(column: str, value: Any) -> str:
    if column == "protocols":
        text = protocols_cell(value)
    else:
        text = ",".join(value) if isinstance(value, list) else str(value)
    text = text.replace("\n", " ")
    return text if len(text) <= MAX_CELL else text[: MAX_CELL - 3] + "..."


def render_table(rows: list[dict[str, Any]], columns: Sequence[str]) -> list[str]:
    """Return aligned text lines: a header, then one line per row."""
    cells = [[_cell(c, row[c]) for c in columns] for row in rows]
    widths = [
        max([len(c), *(len(line[i]) for line in cells)]) for i, c in enumerate(columns)
    ]
    lines = [[c.upper() for c in columns], *cells]
    return [
        "  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)).rstrip()
        for line in lines
    ]


def cmd_catalog(config: Config, args: argparse.Namespace) -> int:
    """List behaviors and primitives, or validate a catalog file (--check)."""
    if args.check:
        catalog = load_catalog(args.check)  # CatalogError: exit 2, entry named
        result = {
            "file": args.check,
            "valid": True,
            "behaviors": len(catalog.behaviors),
            "primitives": len(catalog.primitives),
        }
        if args.json:
            _print_json(result)
        else:
            print(
                f"{args.check}: valid, {result['behaviors']} behaviors and "
                f"{result['primitives']} primitives"
            )
        return 0
    catalog = load_catalog(config.catalog_path or None)
    severity = SEVERITY_ALIASES.get(args.severity, args.severity)
    selected = select(catalog, args.protocol, severity)
    if args.json:
        _print_json(selected)
        return 0
    source = config.catalog_path or "the shipped catalog"
    print(
        f"{len(selected['behaviors'])} behaviors, {len(selected['primitives'])} "
        f"primitives ({source})"
    )
    print()
    for line in render_table(
        selected["behaviors"], ("id", "severity", "protocols", "mitre", "name")
    ):
        print(line)
    print()
    for line in render_table(
        selected["primitives"], ("id", "protocols", "field", "match", "pattern")
    ):
        print(line)
    return 0


def add_commands(command: Callable[..., argparse.ArgumentParser]) -> None:
    """Add ``catalog`` through cli.build_parser's ``command``."""
    p = command("catalog", cmd_catalog, "list the threat catalog or check a file")
    p.add_argument(
        "--protocol", choices=PROTOCOLS, help="only entries for this protocol"
    )
    p.add_argument(
        "--severity",
        choices=(*SEVERITIES, *SEVERITY_ALIASES),
        help="only behaviors of this severity (and their primitives)",
    )
    p.add_argument(
        "--check",
        metavar="FILE",
        help="validate a catalog file; on error name the bad entry (exit 2)",
    )
