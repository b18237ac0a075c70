"""``sikker report``, ``sikker bulk-report`` and ``sikker bulk-check``.

They send abuse reports (one, or a CSV / JSON file of up to 10,000) and
check a list of addresses, one per line, against the configured server.
"""

import argparse
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from sikker.cli_remote import (
    add_server_options,
    fail_above,
    number,
    print_json,
    remote_only,
    when,
)
from sikker.core.vocab import CATEGORIES
from sikker.errors import InputFileError

if TYPE_CHECKING:
    from sikker.client import Client

#: Addresses one bulk check takes at most (SikkerAPI's limit, the server's too).
MAX_ADDRESSES = 10_000
#: Row errors a bulk report prints (``--json`` has up to 1,000).
SHOWN_ERRORS = 20


def read_input(path: str) -> bytes:
    """Return the bytes of ``path`` (``-``: stdin).

    Raises:
        InputFileError: the file cannot be read.
    """
    if path == "-":
        if sys.stdin.isatty():
            print("reading from stdin (Ctrl-D ends)", file=sys.stderr, flush=True)
        return sys.stdin.buffer.read()
    try:
        with open(path, "rb") as stream:
            return stream.read()
    except OSError as ex:
        raise InputFileError(f"cannot read {path}: {ex.strerror or ex}") from None


def remote_report(client: "Client", args: argparse.Namespace) -> int:
    """``sikker report IP --category C``: one report."""
    body = {
        "ip": args.ip,
        "category": args.category,
        "protocol": args.protocol,
        "comment": args.comment,
    }
    doc = client.send_json(
        "POST", "/v1/key/report", {k: v for k, v in body.items() if v is not None}
    )
    if args.json:
        print_json(doc)
    else:
        report = doc["report"]
        protocol = f", {report['protocol']}" if report.get("protocol") else ""
        print(f"reported {report['ip']} ({report['category']}{protocol})")
    return 0


def remote_bulk_report(client: "Client", args: argparse.Namespace) -> int:
    """``sikker bulk-report FILE``: a CSV (or JSON) file of reports."""
    data = read_input(args.file)
    is_json = data.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] in (b"{", b"[")
    answer = client.request(
        "POST",
        "/v1/key/bulk-report",
        body=data,
        content_type=client.JSON if is_json else "text/csv; charset=utf-8",
    )
    doc = answer.json()
    if args.json:
        print_json(doc)
        return 0
    print(
        f"{number(doc['total'])} reports: {number(doc['accepted'])} accepted, "
        f"{number(doc['rejected'])} rejected"
    )
    errors = doc["errors"]
    for error in errors[:SHOWN_ERRORS]:
        ip = f" ({error['ip']})" if error.get("ip") else ""
        print(f"  row {error['row']}{ip}: {error['error']}")
    if doc["rejected"] > SHOWN_ERRORS:
        print(
            f"  ... {number(doc['rejected'] - SHOWN_ERRORS)} more (--json lists them)"
        )
    return 0


def remote_bulk_check(client: "Client", args: argparse.Namespace) -> int:
    """``sikker bulk-check [FILE]``: up to 10,000 addresses, one per line."""
    data = read_input(args.file)
    lines = sum(1 for line in data.splitlines() if line.strip())
    if lines > MAX_ADDRESSES:
        raise InputFileError(
            f"{args.file} holds {lines:,} addresses; a bulk check takes at most "
            f"{MAX_ADDRESSES:,}: split it (split -l {MAX_ADDRESSES} FILE)"
        )
    params = {"ignoreWhitelist": "true" if args.ignore_whitelist else None}
    answer = client.request(
        "POST",
        "/v1/key/bulk-check-inline",
        params,
        body=data,
        content_type="text/plain; charset=utf-8",
    )
    doc = answer.json()
    results = doc["results"]
    if args.json:
        print_json(doc)
    else:
        _print_bulk_check(doc, results)
    return fail_above(args.fail_above, [r["confidenceLevel"] for r in results])


def _print_bulk_check(doc: dict[str, Any], results: list[dict[str, Any]]) -> None:
    found = sorted(
        (r for r in results if r["found"]), key=lambda r: -r["confidenceLevel"]
    )
    for r in found:
        print(
            f"{r['ip']:<40} {r['confidenceLevel']:>3}  {r['countryCode'] or '--'}  "
            f"AS{r['asn'] or '?':<8} {r['maxSeverity'] or '-':<8} "
            f"last seen {when(r['lastSeen'])}"
        )
    for bad in doc["invalid"]:
        print(f"line {bad['line']}: {bad['value']!r}: {bad['error']}")
    print(
        f"{number(doc['queried'])} addresses checked, {number(doc['found'])} listed, "
        f"{number(len(doc['invalid']))} invalid lines"
    )


def add_commands(command: Callable[..., argparse.ArgumentParser]) -> None:
    """Add ``report``, ``bulk-report`` and ``bulk-check``."""
    p = command("report", remote_only(remote_report), "report an abusive address")
    p.add_argument("ip", help="IPv4 or IPv6 address (public)")
    p.add_argument(
        "--category",
        required=True,
        help=f"a name or an id 1-{len(CATEGORIES)}: {', '.join(CATEGORIES)}",
    )
    p.add_argument("--protocol", help="where it was seen: ssh, http, ...")
    p.add_argument("--comment", help="free text, at most 1,000 characters")
    add_server_options(p)

    p = command(
        "bulk-report",
        remote_only(remote_bulk_report),
        "send up to 10,000 reports from a CSV or JSON file",
    )
    p.add_argument(
        "file", metavar="FILE", help="IP,Category,Protocol,Comment rows ('-' = stdin)"
    )
    add_server_options(p)

    p = command(
        "bulk-check",
        remote_only(remote_bulk_check),
        "check up to 10,000 addresses, one per line",
    )
    p.add_argument(
        "file", metavar="FILE", nargs="?", default="-", help="addresses ('-' = stdin)"
    )
    p.add_argument(
        "--fail-above",
        type=int,
        metavar="N",
        help="exit 1 when any address's confidence is N or more",
    )
    p.add_argument(
        "--ignore-whitelist",
        action="store_true",
        help="raw scores, without known-benign discounts",
    )
    add_server_options(p)
