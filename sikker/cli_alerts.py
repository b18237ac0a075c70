"""``sikker alerts deliver``: send due alert webhooks (once, or ``--follow``).

``sikker build --follow`` already runs the deliverer as a thread; run this
instead (or as well: deliveries are leased, never sent twice at once) to
deliver from another host or process, or to flush the queue once.
"""

import argparse
import contextlib
import signal
import sys
import threading
from collections.abc import Callable
from typing import Any

import orjson

from sikker.core.config import Config


def cmd_alerts(config: Config, args: argparse.Namespace) -> int:
    """Deliver due webhooks once, or keep delivering with ``--follow``."""
    from sikker.builder.alert_delivery import Deliverer
    from sikker.core.alerts import AlertStore
    from sikker.core.handles import shared

    store = shared(AlertStore, config.data_path)
    deliverer = Deliverer.from_config(store, config)
    if args.follow:
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        if not args.quiet:
            print(
                f"delivering alert webhooks from {config.data_path} (Ctrl-C to stop)",
                file=sys.stderr,
                flush=True,
            )
        with contextlib.suppress(KeyboardInterrupt):
            deliverer.follow(stop, float(config.webhook_poll_interval))
        return 0
    attempted = 0
    while True:
        done = deliverer.run_once()
        attempted += done
        if not done:
            break
    pending = store.pending_deliveries()
    if args.json:
        out = {"attempted": attempted, "pending": pending}
        sys.stdout.write(orjson.dumps(out, option=orjson.OPT_INDENT_2).decode() + "\n")
    else:
        print(f"attempted {attempted} webhook deliveries; {pending} wait for a retry")
    return 0


def add_commands(command: Callable[..., argparse.ArgumentParser]) -> None:
    """Add ``alerts`` through cli.build_parser's ``command``."""
    p = command("alerts", cmd_alerts, "deliver alert webhooks")
    actions = p.add_subparsers(dest="alerts_action", required=True, metavar="ACTION")
    deliver = actions.add_parser(
        "deliver",
        help="send due webhook deliveries (with retries)",
        description="send due alert webhook deliveries, once or --follow",
    )
    deliver.add_argument(
        "--follow", action="store_true", help="keep delivering until stopped"
    )
    deliver.add_argument("--quiet", action="store_true", help="no start-up line")
    deliver.add_argument(
        "--json", action="store_true", default=argparse.SUPPRESS, help="print JSON"
    )


def start_delivery_thread(config: Config, stop: threading.Event) -> Any:
    """Start the webhook deliverer as a daemon thread (``build --follow``)."""
    from sikker.builder.alert_delivery import Deliverer
    from sikker.core.alerts import AlertStore
    from sikker.core.handles import shared

    deliverer = Deliverer.from_config(shared(AlertStore, config.data_path), config)
    thread = threading.Thread(
        target=deliverer.follow,
        args=(stop, float(config.webhook_poll_interval)),
        name="sikker-webhooks",
        daemon=True,
    )
    thread.start()
    return thread
