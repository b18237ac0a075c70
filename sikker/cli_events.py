"""``sikker ingest`` and ``sikker sensor``: evidence into the event log.

Registered on the main parser by :func:`add_commands`, so they share the
global options, ``--json`` and the error handling of :mod:`sikker.cli`.
"""

import argparse
import os
import sys
import time
from collections import Counter
from collections.abc import Callable
from typing import IO, Any

import orjson

from sikker.core.config import Config

EXIT_ERROR = 2
#: Lines parsed and committed per event-log transaction.
BATCH_LINES = 10_000
#: Malformed lines printed (human output) and listed (``--json``).
SHOW_ERRORS, LIST_ERRORS = 10, 100


def _print_json(data: Any) -> None:
    sys.stdout.write(orjson.dumps(data, option=orjson.OPT_INDENT_2).decode() + "\n")


def _fail(command: str, message: str) -> int:
    print(f"sikker {command}: error: {message}", file=sys.stderr)
    return EXIT_ERROR


# -- ingest ---------------------------------------------------------------------------


class _Counted:
    """A binary line stream that counts the bytes read (for progress)."""

    def __init__(self, stream: IO[bytes]) -> None:
        self.stream = stream
        self.bytes = 0

    def __iter__(self) -> "_Counted":
        return self

    def __next__(self) -> bytes:
        line = self.stream.readline()
        if not line:
            raise StopIteration
        self.bytes += len(line)
        return line


def _batches(lines: _Counted, size: int) -> Any:
    batch: list[bytes] = []
    for line in lines:
        batch.append(line)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def _ingest(
    config: Config, args: argparse.Namespace, stream: IO[bytes], total: int | None
) -> dict[str, Any]:
    from sikker.builder.progress import NullProgress, TextProgress
    from sikker.core.eventlog import EventLog
    from sikker.core.ingest import LineParser
    from sikker.core.layout import EVENTS_DIR

    parser = LineParser(args.format, args.sensor, config.accept_private_sources)
    progress: Any = NullProgress() if args.quiet else TextProgress()
    progress.stage("ingesting", total)
    lines = _Counted(stream)
    first = last = 0
    errors: list[tuple[int, str]] = []
    log = EventLog(config.data_path / EVENTS_DIR)
    try:
        start = 1
        for batch in _batches(lines, BATCH_LINES):
            events, bad = parser.parse_lines(batch, start)
            start += len(batch)
            errors.extend(bad[: LIST_ERRORS - len(errors)])
            if events:
                low, last = log.append(events)
                first = first or low
            progress.update(lines.bytes if total else start - 1)
    finally:
        log.close()
        progress.finish()
    skipped: Counter[str] = parser.skipped
    return {
        "file": args.file,
        "format": args.format,
        "accepted": parser.accepted,
        "rejected": parser.rejected,
        "skipped": sum(skipped.values()),
        "firstSequence": first or None,
        "lastSequence": last or None,
        "errors": [{"line": n, "error": e} for n, e in errors],
        "skippedEvents": dict(skipped.most_common()),
        "eventLog": str(config.data_path / EVENTS_DIR),
    }


def _print_ingest(result: dict[str, Any]) -> None:
    span = (
        f" (sequences {result['firstSequence']}-{result['lastSequence']})"
        if result["accepted"]
        else ""
    )
    print(
        f"{result['file']}: {result['accepted']:,} events accepted{span}, "
        f"{result['rejected']:,} lines rejected, {result['skipped']:,} skipped"
    )
    for item in result["errors"][:SHOW_ERRORS]:
        print(f"  line {item['line']}: {item['error']}")
    if result["rejected"] > SHOW_ERRORS:
        print(f"  ... {result['rejected'] - SHOW_ERRORS:,} more (--json lists 100)")
    if result["skippedEvents"]:
        kinds = ", ".join(f"{k} {v}" for k, v in result["skippedEvents"].items())
        print(f"  skipped (nothing to score): {kinds}")


def cmd_ingest(config: Config, args: argparse.Namespace) -> int:
    """Append a sensor log file to the event log; report what was rejected."""
    if args.sensor is not None:
        from sikker.core.sensors import check_name

        check_name(args.sensor)
    if args.file == "-":
        result = _ingest(config, args, sys.stdin.buffer, None)
    else:
        try:
            stream = open(args.file, "rb")  # noqa: SIM115
        except OSError as ex:
            return _fail("ingest", f"cannot read {args.file}: {ex.strerror}")
        with stream:
            size = os.fstat(stream.fileno()).st_size
            result = _ingest(config, args, stream, size or None)
    _print_json(result) if args.json else _print_ingest(result)
    if not result["accepted"] and (result["rejected"] or not result["skipped"]):
        return _fail(
            "ingest",
            f"no usable events in {args.file}: expected generic events, Cowrie or "
            "OpenCanary JSON lines (see docs/events.md)",
        )
    return 0


# -- sensor ---------------------------------------------------------------------------


def cmd_sensor(config: Config, args: argparse.Namespace) -> int:
    """Add, list or remove the sensors allowed to post events."""
    from sikker.core.sensors import SensorRegistry

    return manage_tokens(
        SensorRegistry(config.data_path),
        args,
        "Sensors send it as 'Authorization: Bearer <token>' to POST /v1/sensor/events.",
    )


def manage_tokens(registry: Any, args: argparse.Namespace, use: str) -> int:
    """Run ``add``, ``list`` or ``remove`` on a token registry (sensors,
    replicas); ``use`` tells a person where the new token goes."""
    kind = registry.KIND
    as_json = getattr(args, "json", False)
    if args.action == "add":
        entry, token = registry.add(args.name)
        if as_json:
            _print_json({**entry.public(), "token": token})
        else:
            print(
                f"{kind} {entry.name!r} added; its token follows (shown only once, "
                f"keep it secret). {use}",
                file=sys.stderr,
            )
            print(token)
        return 0
    if args.action == "remove":
        gone = registry.remove(args.name)
        if as_json:
            _print_json({**gone.public(), "removed": True})
        else:
            print(f"{kind} {gone.name!r} removed; its token no longer works")
        return 0
    entries = [s.public() for s in registry.sensors()]
    if as_json:
        _print_json({f"{kind}s": entries})
    elif not entries:
        print(f"no {kind}s registered; add one with `sikker {kind} add NAME`")
    else:
        for s in entries:
            created = time.strftime("%Y-%m-%d %H:%M:%SZ", time.gmtime(s["created"]))
            print(f"{s['name']:<24} {created}  {s['token']}")
    return 0


# -- parser ---------------------------------------------------------------------------


def add_commands(command: Callable[..., argparse.ArgumentParser]) -> None:
    """Add ``ingest`` and ``sensor`` through cli.build_parser's ``command``."""
    from sikker.core.ingest import FORMATS

    p = command("ingest", cmd_ingest, "append a sensor log file to the event log")
    p.add_argument(
        "file", metavar="FILE", help="log file, one JSON event per line ('-' = stdin)"
    )
    p.add_argument(
        "--format",
        choices=FORMATS,
        default="auto",
        help="line format (default auto: detected per line)",
    )
    p.add_argument(
        "--sensor",
        metavar="NAME",
        help="record every event under this sensor name (default: each line's)",
    )
    p.add_argument("--quiet", action="store_true", help="no progress output")

    p = command("sensor", cmd_sensor, "manage the sensors allowed to post events")
    add_token_actions(p, "sensor")


def add_token_actions(p: argparse.ArgumentParser, kind: str) -> Any:
    """Add the ``add``, ``list`` and ``remove`` actions of a token registry to
    ``p`` (``sikker sensor``, ``sikker replica``); return the subparsers."""
    actions = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    for name, help in (
        ("add", f"register a {kind} and print its token once"),
        ("list", f"list the registered {kind}s"),
        ("remove", f"remove a {kind}; its token stops working"),
    ):
        sub = actions.add_parser(name, help=help, description=help)
        if name != "list":
            sub.add_argument("name", metavar="NAME", help=f"{kind} name")
        sub.add_argument(
            "--json",
            action="store_true",
            default=argparse.SUPPRESS,
            help="print JSON for scripts",
        )
    return actions
