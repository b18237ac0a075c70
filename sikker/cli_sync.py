"""``sikker sync``: keep a firewall or web server in step with a sikker server.

One pass by default (for cron); ``--interval SECONDS`` keeps running, one
pass per interval, until SIGTERM or Ctrl-C, reporting failed passes on
stderr and trying again at the next one. How a pass works is in
:mod:`sikker.sync_agent`; the targets are in :mod:`sikker.sync_targets`.
"""

import argparse
import signal
import sys
import threading
from pathlib import Path
from typing import Any

import orjson

from sikker.core.config import Config
from sikker.core.format_base import FormatOptions
from sikker.errors import ConfigError, InvalidFilterError, SikkerError
from sikker.sync_agent import PassResult, SyncAgent
from sikker.sync_allow import AllowList
from sikker.sync_http import HttpTransport
from sikker.sync_state import StateDir
from sikker.sync_targets import (
    NGINX_FORMATS,
    TARGETS,
    FileTarget,
    IpsetTarget,
    NftTarget,
    NginxTarget,
    Target,
    command,
)

STATE_ROOT = "/var/lib/sikker"


def _key(args: argparse.Namespace) -> str | None:
    if args.key or not args.key_file:
        return args.key
    try:
        return Path(args.key_file).read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as ex:
        raise ConfigError(f"--key-file {args.key_file}: cannot read it: {ex}") from None


def _target(args: argparse.Namespace, state: StateDir) -> Target:
    try:
        names = FormatOptions.from_params(
            {"setName": args.set_name or "", "tableName": args.table_name or ""}
        )
    except InvalidFilterError as ex:
        option = "--set-name" if ex.name == "setName" else "--table-name"
        raise InvalidFilterError(option, str(ex).split(": ", 1)[-1]) from None
    if args.apply == "ipset":
        return IpsetTarget(names.set_name, command(args.ipset_command), state)
    if args.apply == "nftables":
        argv = command(args.nft_command)
        return NftTarget(names.table_name, names.set_name, argv, state)
    if args.output is None:
        raise ConfigError(f"--apply {args.apply} needs --output FILE")
    if args.apply == "nginx":
        argv = command(args.nginx_command)
        return NginxTarget(Path(args.output), args.nginx_format, argv)
    return FileTarget(Path(args.output))


def build_agent(args: argparse.Namespace) -> SyncAgent:
    """Return the agent ``sikker sync``'s options describe.

    Raises:
        ConfigError: no server or key, or an unreadable key file.
        InvalidFilterError: a bad allow-list entry or set/table name.
    """
    from sikker.cli import filter_params
    from sikker.client_config import resolve

    settings = resolve(args.url, _key(args), args.timeout)
    if settings.url is None:
        raise ConfigError("no server: pass --server URL (or set SIKKER_URL)")
    if not settings.key:
        raise ConfigError("no API key: pass --key-file FILE (or set SIKKER_KEY)")
    state = StateDir(Path(args.state_dir or f"{STATE_ROOT}/sync-{args.apply}"))
    return SyncAgent(
        HttpTransport(settings.url, settings.key, settings.timeout),
        _target(args, state),
        state,
        filter_params(args),
        AllowList.read(args.allow or [], args.allow_file or []),
    )


def _report(result: PassResult, as_json: bool) -> None:
    if as_json:
        sys.stdout.write(orjson.dumps(result.as_json()).decode() + "\n")
    else:
        sys.stdout.write(f"sikker sync: {result.line()}\n")
    sys.stdout.flush()


def cmd_sync(config: Config, args: argparse.Namespace) -> int:
    """Run one pass, or one pass per ``--interval`` until stopped."""
    agent = build_agent(args)
    if not args.interval:
        _report(agent.run_once(full=args.full), args.json)
        return 0
    if args.interval < 0:
        raise ConfigError("--interval must be a positive number of seconds")
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    full = args.full
    while not stop.is_set():
        try:
            _report(agent.run_once(full=full), args.json)
            full = False
        except SikkerError as ex:  # keep going: the next pass may work
            print(f"sikker sync: error: {ex}", file=sys.stderr, flush=True)
        stop.wait(args.interval)
    return 0


def add_commands(command_: Any) -> None:
    """Add ``sync`` through cli.build_parser's ``command``."""
    from sikker.cli import add_filter_options

    p = command_(
        "sync", cmd_sync, "keep ipset, nftables, nginx or a file in step with a server"
    )
    p.add_argument(
        "--apply", required=True, choices=TARGETS, help="where the list goes"
    )
    p.add_argument(
        "--server", "--url", dest="url", metavar="URL",
        help="the server's base URL (else SIKKER_URL, client.toml)",
    )  # fmt: skip
    p.add_argument(
        "--key", help="API key (else SIKKER_KEY, client.toml; prefer --key-file)"
    )
    p.add_argument("--key-file", metavar="FILE", help="read the API key from FILE")
    p.add_argument(
        "--timeout", type=float, metavar="SECONDS", help="wait for the server (60)"
    )
    p.add_argument(
        "--state-dir",
        metavar="DIR",
        help=f"where the agent keeps its set ({STATE_ROOT}/sync-<apply>)",
    )
    p.add_argument(
        "--interval",
        type=float,
        metavar="SECONDS",
        help="keep running, one pass every SECONDS (default: one pass, for cron)",
    )
    p.add_argument(
        "--full", action="store_true", help="pull the whole list, not a delta"
    )
    add_filter_options(p)
    p.add_argument(
        "--allow",
        action="append",
        metavar="CIDR",
        help="never block this network (repeatable; loopback always)",
    )
    p.add_argument(
        "--allow-file",
        action="append",
        metavar="FILE",
        help="never block the networks in FILE, one a line (repeatable)",
    )
    p.add_argument(
        "--set-name", metavar="NAME", help="ipset/nftables sets NAME4, NAME6 (sikker)"
    )
    p.add_argument(
        "--table-name", metavar="NAME", help="nftables table, family inet (sikker)"
    )
    p.add_argument(
        "--output", metavar="FILE", help="nginx include or file to write (nginx, file)"
    )
    p.add_argument(
        "--nginx-format",
        choices=NGINX_FORMATS,
        default="deny",
        help="nginx include: deny lines or a geo map (deny)",
    )
    for tool, default in (("ipset", "ipset"), ("nft", "nft"), ("nginx", "nginx")):
        p.add_argument(
            f"--{tool}-command",
            default=default,
            metavar="CMD",
            help=f"how to run {tool} ({default}; e.g. 'sudo {default}')",
        )
