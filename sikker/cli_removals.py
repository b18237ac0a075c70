"""``sikker admin removal list|approve|reject``: decide removal requests.

Requests arrive through ``POST /v1/removal-requests``. Approving one
delists its address for ``--days`` days (setting ``removal_days``): the
builder (``sikker build --follow``) hides it from checks and blacklists at
its next step and publishes it again when the period ends. Its evidence and
reports are kept.
"""

import argparse
import sys
import time
from typing import Any

import orjson

from sikker.core.config import Config


def _print_json(data: Any) -> None:
    sys.stdout.write(orjson.dumps(data, option=orjson.OPT_INDENT_2).decode() + "\n")


def _when(epoch: int | None) -> str:
    return time.strftime("%Y-%m-%d %H:%MZ", time.gmtime(epoch)) if epoch else "-"


def _line(request: dict[str, Any]) -> str:
    state = request["status"]
    if state == "approved":
        ended = request["until"] <= time.time()
        state = f"{'expired' if ended else 'delisted'} until {_when(request['until'])}"
    reason = " ".join(request["reason"].split())
    if len(reason) > 60:
        reason = reason[:57] + "..."
    return (
        f"{request['id']}  {_when(request['createdAt'])}  {request['ip']:<39} "
        f"{state}\n    {request['email']}: {reason}"
    )


def cmd_removal(config: Config, args: argparse.Namespace) -> int:
    """List, approve or reject removal requests."""
    from sikker.core.handles import shared
    from sikker.core.removals import RemovalStore

    store = shared(RemovalStore, config.data_path)
    if args.removal_action == "list":
        status = None if args.status == "all" else args.status
        found = store.requests(status)
        if getattr(args, "json", False):
            _print_json({"requests": found})
        elif not found:
            print(f"no {args.status} removal requests")
        else:
            for request in found:
                print(_line(request))
        return 0
    if args.removal_action == "approve":
        days = args.days or int(config.removal_days)
        request = store.approve(args.id, days, args.note)
        message = (
            f"approved {request['id']}: {request['ip']} is delisted for {days} "
            f"day(s), until {_when(request['until'])} (the builder applies it "
            "at its next step)"
        )
    else:
        request = store.reject(args.id, args.note)
        message = f"rejected {request['id']}: {request['ip']} stays listed"
    if getattr(args, "json", False):
        _print_json(request)
    else:
        print(message)
    return 0


def add_removal_parser(actions: Any) -> None:
    """Add ``removal`` to the ``admin`` command's sub-commands."""
    p = actions.add_parser(
        "removal",
        help="list, approve or reject removal (delisting) requests",
        description="list, approve or reject removal (delisting) requests",
    )
    p.set_defaults(func=cmd_removal)
    sub = p.add_subparsers(dest="removal_action", required=True, metavar="ACTION")
    json_flag = {"action": "store_true", "default": argparse.SUPPRESS}
    listing = sub.add_parser("list", help="list requests, newest first")
    listing.add_argument(
        "--status",
        choices=("pending", "approved", "rejected", "all"),
        default="pending",
        help="which requests (default pending)",
    )
    listing.add_argument("--json", help="print JSON for scripts", **json_flag)
    approve = sub.add_parser("approve", help="delist the request's address for N days")
    approve.add_argument("id", metavar="ID", help="request id (rr_...)")
    approve.add_argument(
        "--days", type=int, metavar="N", help="days to delist (setting removal_days)"
    )
    approve.add_argument("--note", help="a note kept with the decision")
    approve.add_argument("--json", help="print JSON for scripts", **json_flag)
    reject = sub.add_parser("reject", help="reject the request; the address stays")
    reject.add_argument("id", metavar="ID", help="request id (rr_...)")
    reject.add_argument("--note", help="a note kept with the decision")
    reject.add_argument("--json", help="print JSON for scripts", **json_flag)


def add_commands(command: Any) -> None:
    """Add ``admin`` (with ``removal``) through cli.build_parser's ``command``."""
    p = command("admin", cmd_removal, "administer the server: removal requests")
    actions = p.add_subparsers(dest="admin_area", required=True, metavar="AREA")
    add_removal_parser(actions)
