"""``sikker taxii list`` and ``sikker taxii get COLLECTION``.

``list`` prints the server's TAXII 2.1 collections; ``get`` pulls a
collection's STIX objects page by page, following ``next`` while the
server says ``more``, until ``--limit`` objects (default: all).
"""

import argparse
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from sikker.cli_remote import (
    add_server_options,
    json_option,
    number,
    positive,
    print_json,
    remote_only,
    segment,
)
from sikker.errors import BadAnswerError

if TYPE_CHECKING:
    from sikker.client import Client

#: SikkerAPI's collection paths (sikker also serves them under /taxii2/api/).
COLLECTIONS = "/taxii2/collections/"


def taxii_list(client: "Client", args: argparse.Namespace) -> int:
    """Print the collections."""
    doc = client.request("GET", COLLECTIONS, accept=client.TAXII).json()
    if args.json:
        print_json(doc)
        return 0
    for c in doc.get("collections", []):
        print(f"{c['id']:<28} {c['title']}")
    return 0


def taxii_get(client: "Client", args: argparse.Namespace) -> int:
    """Print a collection's objects, following ``next`` across pages."""
    path = f"{COLLECTIONS}{segment(args.collection)}/objects/"
    objects: list[Any] = []
    token, more, last_added = args.next, False, None
    while args.limit is None or len(objects) < args.limit:
        params = {
            "added_after": args.added_after,
            "match[type]": ",".join(args.type) if args.type else None,
            "limit": None if args.limit is None else args.limit - len(objects),
            "next": token,
        }
        answer = client.request("GET", path, params, accept=client.TAXII)
        page = answer.json()
        got = page.get("objects", [])
        if not isinstance(got, list):
            raise BadAnswerError("the TAXII envelope's objects is not a list")
        if not args.json:
            for obj in got:
                print(describe(obj))
        objects.extend(got)
        last_added = answer.headers.get("X-TAXII-Date-Added-Last") or last_added
        more = bool(page.get("more")) and bool(page.get("next"))
        if not more or not got or page["next"] == token:
            break
        token = page["next"]
    if args.json:
        print_json(
            {"more": more, **({"next": token} if more else {}), "objects": objects}
        )
        return 0
    print(
        f"{number(len(objects))} objects from {args.collection}"
        + (f", added up to {last_added}" if last_added else "")
        + (f"; more: --next {token}" if more else "")
    )
    return 0


def describe(obj: dict[str, Any]) -> str:
    """Return one line about a STIX object."""
    kind = obj.get("type")
    if kind == "indicator":
        what = f"{obj.get('pattern')} confidence {obj.get('confidence', '-')}"
    elif kind == "relationship":
        what = f"{obj.get('relationship_type')} {obj.get('target_ref')}"
    else:
        what = str(obj.get("name") or obj.get("definition_type") or "")
    return f"{obj.get('id')}  {what}".rstrip()


def add_commands(command: Callable[..., argparse.ArgumentParser]) -> None:
    """Add ``taxii list`` and ``taxii get``."""
    get = remote_only(taxii_get)
    p = command("taxii", get, "list TAXII collections or pull their STIX objects")
    actions = p.add_subparsers(dest="taxii_action", required=True, metavar="ACTION")
    a = actions.add_parser(
        "list", help="list the collections", description="list the TAXII collections"
    )
    a.set_defaults(func=remote_only(taxii_list, need_key=False))
    json_option(a)
    add_server_options(a)
    a = actions.add_parser(
        "get",
        help="pull a collection's STIX objects",
        description="pull a collection's STIX 2.1 objects, following next",
    )
    a.set_defaults(func=get)
    a.add_argument("collection", metavar="COLLECTION", help="e.g. sikker-threat-intel")
    a.add_argument(
        "--added-after",
        metavar="TIME",
        help="only objects added after this time (2026-01-01T00:00:00Z)",
    )
    a.add_argument(
        "--limit", type=positive, metavar="N", help="at most N objects (default: all)"
    )
    a.add_argument(
        "--type",
        action="append",
        metavar="TYPE",
        help="only this STIX type (indicator, relationship, ...; repeatable)",
    )
    a.add_argument("--next", metavar="TOKEN", help="continue where a --limit stopped")
    json_option(a)
    add_server_options(a)
