"""Client commands: ask a sikker server's REST API with an API key.

``check`` and ``blacklist`` ask the server when one is configured (else
they keep reading the local data directory); ``username``, ``email`` and
``status`` here, ``report``, ``bulk-report`` and ``bulk-check``
(:mod:`sikker.cli_client_reports`), ``taxii`` (:mod:`sikker.cli_client_taxii`)
and ``alerts list|add|remove|matches`` (:mod:`sikker.cli_client_alerts`)
always do. See docs/cli.md, "Client commands".
"""

import argparse
import sys
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from sikker.cli_remote import (
    add_server_options,
    fail_above,
    local_or_remote,
    number,
    print_json,
    remote_only,
    segment,
    when,
)
from sikker.errors import ServerRefusedError

if TYPE_CHECKING:
    from sikker.client import Client

#: The intel commands: the answer's total field and what it counts.
INTEL = {
    "username": ("totalSessions", "sessions"),
    "email": ("totalMessages", "messages"),
}


def remote_check(client: "Client", args: argparse.Namespace) -> int:
    """``sikker check IP`` against the server; exit 1 at --fail-above."""
    from sikker.cli import _print_check

    params = {
        "ignoreWhitelist": "true" if args.ignore_whitelist else None,
        "explain": "true" if args.explain or not args.json else None,
    }
    payload = client.get(f"/v1/key/check/{segment(args.ip)}", params)
    print_json(payload) if args.json else _print_check(payload)
    return fail_above(args.fail_above, [payload["confidenceLevel"]])


def remote_blacklist(client: "Client", args: argparse.Namespace) -> int:
    """``sikker blacklist`` from the server: a table, JSON or a format."""
    from sikker.cli import blacklist_params, print_blacklist

    filters, brief = blacklist_params(args)
    params: dict[str, Any] = {
        **filters,
        "plaintext": "true" if args.plaintext else None,
        "format": args.format,
        "setName": args.set_name,
        "tableName": args.table_name,
    }
    if args.plaintext or args.format not in (None, "json"):
        client.stream("/v1/key/blacklist", params, sys.stdout.buffer)
        return 0
    payload = client.get("/v1/key/blacklist", params)
    print_json(payload) if args.json or args.format else print_blacklist(payload, brief)
    return 0


def remote_intel(client: "Client", args: argparse.Namespace) -> int:
    """``sikker username NAME`` / ``sikker email ADDRESS``; exit 1 if unseen."""
    kind = args.command
    value = getattr(args, kind)
    try:
        doc = client.get(f"/v1/key/{kind}/{segment(value)}")
    except ServerRefusedError as ex:
        if ex.http_status != 404:
            raise
        if args.json:
            print_json({kind: value.lower(), "found": False})
        else:
            print(f"{value}: not in the attack database")
        return 1
    if args.json:
        print_json(doc)
        return 0
    total, unit = INTEL[kind]
    protocols = ", ".join(f"{k} {number(v)}" for k, v in doc["protocols"].items())
    print(f"{doc[kind]}: {number(doc[total])} {unit} ({protocols or '-'})")
    print(
        f"  first seen {when(doc['firstSeenAt'])}, last seen {when(doc['lastSeenAt'])}"
    )
    return 0


def remote_status(client: "Client", args: argparse.Namespace) -> int:
    """``sikker status``: the key's plan, today's quotas and alert usage."""
    doc = client.get("/v1/key/status")
    if args.json:
        print_json(doc)
        return 0
    tier, account = doc["tier"], doc.get("account") or {}
    who = f"; account {account['email']}" if account.get("email") else ""
    key = (doc.get("key") or {}).get("id")
    print(f"plan {tier['name']} ({tier['id']}){who}{f', key {key}' if key else ''}")
    print(f"{'quota':<10} {'used':>12} {'limit':>12} {'remaining':>12}")
    for family, q in doc["quotas"].items():
        print(
            f"{family:<10} {number(q['used']):>12} {number(q['limit']):>12} "
            f"{number(q['remaining']):>12}"
        )
    print(f"quotas reset at {when(int(doc['resetAt']) * 1000)}")
    alerts = []
    for name, usage in doc["alerts"].items():
        text = f"{name.removesuffix('Alerts')} {usage['current']}/{usage['limit']}"
        if "maxPrefixV4" in usage:
            text += f" (up to /{usage['maxPrefixV4']}, /{usage['maxPrefixV6']})"
        alerts.append(text)
    print(f"alerts: {', '.join(alerts)}")
    return 0


def add_commands(
    command: Callable[..., argparse.ArgumentParser],
    commands: Mapping[str, argparse.ArgumentParser],
) -> None:
    """Add the client commands through cli.build_parser's ``command``; let
    ``check`` and ``blacklist`` ask a server (``commands`` holds them)."""
    from sikker.cli_client_alerts import add_actions
    from sikker.cli_client_reports import add_commands as add_report_commands
    from sikker.cli_client_taxii import add_commands as add_taxii_commands

    for name, run in (("check", remote_check), ("blacklist", remote_blacklist)):
        parser = commands[name]
        add_server_options(parser, local=True)
        parser.set_defaults(func=local_or_remote(parser.get_default("func"), run))
    add_report_commands(command)
    for kind, what in (("username", "a login username"), ("email", "an address")):
        p = command(
            kind,
            remote_only(remote_intel),
            f"what the server's honeypots saw of {what}",
        )
        p.add_argument(kind, help=f"{what}, case-insensitive")
        add_server_options(p)
    p = command("status", remote_only(remote_status), "your plan, quotas and alerts")
    add_server_options(p)
    add_taxii_commands(command)
    add_actions(commands["alerts"])
