"""``sikker alerts list|add|remove|matches``: your watch alerts on a server.

Alerts watch an address (``ip``), a network (``range``), a login name
(``username``) or an SMTP recipient (``email``); the server's builder
records a match when new evidence hits one (and POSTs it to the alert's
webhook, if any). These actions join ``sikker alerts deliver``.
"""

import argparse
from typing import TYPE_CHECKING, Any

from sikker.cli_remote import (
    add_server_options,
    json_option,
    positive,
    print_json,
    remote_only,
    segment,
)

if TYPE_CHECKING:
    from sikker.client import Client

#: The alert kinds and the JSON field naming each one's watched value.
FIELDS = {"ip": "ip", "range": "cidr", "username": "username", "email": "email"}
KINDS = tuple(FIELDS)


def alerts_list(client: "Client", args: argparse.Namespace) -> int:
    """List the alerts of one kind, or of every kind."""
    found = []
    for kind in [args.kind] if args.kind else KINDS:
        doc = client.get(f"/v1/key/{kind}-alerts")
        found += [{"kind": kind, **alert} for alert in doc["alerts"]]
    if args.json:
        print_json({"alerts": found})
        return 0
    for a in found:
        label = f"  {a['label']}" if a.get("label") else ""
        print(
            f"{a['kind']:<8} {a['id']:<14} {a[FIELDS[a['kind']]]:<40} "
            f"{a['totalAlerts']:>6} matches{label}"
        )
    if not found:
        print("no alerts")
    return 0


def alerts_add(client: "Client", args: argparse.Namespace) -> int:
    """Create an alert."""
    body = {FIELDS[args.kind]: args.value, "label": args.label}
    if args.webhook_url:
        body["webhookUrl"] = args.webhook_url
    doc = client.send_json("POST", f"/v1/key/{args.kind}-alerts", body)
    if args.json:
        print_json(doc)
        return 0
    print(f"added {args.kind} alert {doc['id']} for {doc[FIELDS[args.kind]]}")
    if doc.get("webhookSecret"):
        print(f"webhook secret (shown once, signs deliveries): {doc['webhookSecret']}")
    return 0


def alerts_remove(client: "Client", args: argparse.Namespace) -> int:
    """Delete an alert."""
    path = f"/v1/key/{args.kind}-alerts/{segment(args.id)}"
    doc = client.request("DELETE", path).json()
    print_json(doc) if args.json else print(f"removed {args.kind} alert {args.id}")
    return 0


def alerts_matches(client: "Client", args: argparse.Namespace) -> int:
    """List the matches after ``--since``."""
    params = {"since": args.since, "limit": args.limit}
    doc = client.get("/v1/key/alerts/matches", params)
    if args.json:
        print_json(doc)
        return 0
    for m in doc["matches"]:
        print(_match_line(m))
    print(f"next: --since {doc['next']}")
    return 0


def _match_line(m: dict[str, Any]) -> str:
    kind = m.get("type", "")
    watched = m.get(FIELDS.get(kind, ""), "")
    subject = m.get("ip") if kind == "range" else None
    hit = f" hit {subject}" if subject and subject != watched else ""
    level = m.get("confidenceLevel")
    confidence = f", confidence {level}" if level is not None else ""
    return (
        f"{m['id']:>8} {m.get('matchedAt')} {kind} alert {m.get('alertId')} "
        f"({watched}){hit}{confidence}"
    )


def add_actions(alerts: argparse.ArgumentParser) -> None:
    """Add the client actions to ``sikker alerts`` (beside ``deliver``)."""
    sub = next(a for a in alerts._actions if isinstance(a, argparse._SubParsersAction))
    alerts.description = "deliver alert webhooks, or manage your alerts on a server"

    def action(name: str, run: Any, help: str) -> argparse.ArgumentParser:
        p: argparse.ArgumentParser = sub.add_parser(name, help=help, description=help)
        p.set_defaults(func=remote_only(run))
        json_option(p)
        add_server_options(p)
        return p

    p = action("list", alerts_list, "list your alerts on the server")
    p.add_argument("--kind", choices=KINDS, help="only alerts of this kind")
    p = action("add", alerts_add, "watch an address, network, username or email")
    p.add_argument("kind", choices=KINDS, metavar="KIND", help=" | ".join(KINDS))
    p.add_argument("value", metavar="VALUE", help="203.0.113.7, 203.0.113.0/28, ...")
    p.add_argument("--label", help="your note, at most 100 characters")
    p.add_argument("--webhook-url", metavar="URL", help="POST each match here (signed)")
    p = action("remove", alerts_remove, "delete one of your alerts")
    p.add_argument("kind", choices=KINDS, metavar="KIND", help=" | ".join(KINDS))
    p.add_argument("id", metavar="ID", help="the alert id (sikker alerts list)")
    p = action("matches", alerts_matches, "list matches of your alerts")
    p.add_argument(
        "--since", type=int, default=0, metavar="ID", help="only matches after ID"
    )
    p.add_argument("--limit", type=positive, metavar="N", help="at most N (1-1000)")
