"""What the client commands share: server options, connecting, output.

A client command runs as ``run(client, args) -> exit status``;
:func:`remote_only` and :func:`local_or_remote` turn it into a ``sikker``
command (``func(config, args)``). The settings precedence is in
:mod:`sikker.client_config`; the exit statuses are in docs/cli.md.
"""

import argparse
import os
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import orjson

from sikker.client_config import ClientSettings, default_path, resolve
from sikker.core.config import Config
from sikker.errors import BadAnswerError, ConfigError

if TYPE_CHECKING:  # urllib, http.client and ssl load only when a command connects
    from sikker.client import Client

Command = Callable[[Config, argparse.Namespace], int]
RemoteCommand = Callable[["Client", argparse.Namespace], int]


def add_server_options(p: argparse.ArgumentParser, local: bool = False) -> None:
    """Add ``--url``, ``--key``, ``--timeout`` (and ``--local``) to ``p``."""
    p.add_argument("--url", help="server base URL (else SIKKER_URL, client.toml)")
    p.add_argument(
        "--key",
        help="API key (else SIKKER_KEY, client.toml; a key on the command line "
        "shows in ps and shell history)",
    )
    p.add_argument(
        "--timeout",
        type=float,
        metavar="SECONDS",
        help="seconds to wait for the server (client.toml timeout, default 60)",
    )
    if local:
        p.add_argument(
            "--local",
            action="store_true",
            help="read the local data directory even when a server is configured",
        )


def settings_of(args: argparse.Namespace) -> ClientSettings:
    """Return the client settings of a command's options and the environment."""
    return resolve(args.url, args.key, args.timeout)


def _config_file() -> str:
    return os.environ.get("SIKKER_CLIENT_CONFIG") or str(default_path(os.environ))


def connect(args: argparse.Namespace, need_key: bool = True) -> "Client":
    """Return a client of the configured server.

    Raises:
        ConfigError: no URL (or no key, when ``need_key``) is configured.
    """
    settings = settings_of(args)
    if settings.url is None:
        raise ConfigError(
            "no server configured: pass --url URL, set SIKKER_URL or put "
            f'url = "https://..." in {_config_file()} (docs/cli.md)'
        )
    if need_key and not settings.key:
        raise ConfigError(
            'no API key: pass --key, set SIKKER_KEY or put key = "sk_live_..." '
            f"in {_config_file()}; the server's operator creates one with "
            "`sikker admin key create EMAIL`"
        )
    from sikker.client import Client

    return Client(settings)


def remote_only(run: RemoteCommand, need_key: bool = True) -> Command:
    """Return a command that always asks the configured server."""

    def command(config: Config, args: argparse.Namespace) -> int:
        return _guarded(run, connect(args, need_key), args)

    command.__doc__ = run.__doc__
    return command


def local_or_remote(local: Command, run: RemoteCommand) -> Command:
    """Return a command that asks a server when one is configured, else reads
    the local data directory (always with ``--local``)."""

    def command(config: Config, args: argparse.Namespace) -> int:
        if args.local or settings_of(args).url is None:
            return local(config, args)
        return _guarded(run, connect(args), args)

    command.__doc__ = local.__doc__
    return command


def _guarded(run: RemoteCommand, client: "Client", args: argparse.Namespace) -> int:
    """Run ``run``; an answer missing what the API promises is a BadAnswerError."""
    try:
        return run(client, args)
    except (KeyError, TypeError, AttributeError, IndexError) as ex:
        raise BadAnswerError(
            f"{client.base} answered without what the sikker API promises "
            f"({type(ex).__name__}: {ex}); is it a sikker server of this version?"
        ) from None


def print_json(data: Any) -> None:
    """Print ``data`` as indented JSON on stdout."""
    sys.stdout.write(orjson.dumps(data, option=orjson.OPT_INDENT_2).decode() + "\n")


def json_option(p: argparse.ArgumentParser) -> None:
    """Add ``--json`` to an action's parser (the command's one stays valid)."""
    p.add_argument(
        "--json", action="store_true", default=argparse.SUPPRESS, help="print JSON"
    )


def number(value: Any) -> str:
    """Return a count with thousands separators ('-' when missing)."""
    return f"{value:,}" if isinstance(value, int) else "-"


def positive(text: str) -> int:
    """Return ``text`` as an integer of 1 or more (an argparse type)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more, got {value}")
    return value


def fail_above(threshold: int | None, levels: list[int]) -> int:
    """Return 1 when any confidence level reaches ``threshold``, else 0."""
    return int(threshold is not None and any(x >= threshold for x in levels))


def when(epoch_ms: Any) -> str:
    """Return an epoch-milliseconds time as ISO 8601 UTC ('-' when missing)."""
    if not isinstance(epoch_ms, int) or isinstance(epoch_ms, bool) or not epoch_ms:
        return "-"
    moment = datetime.fromtimestamp(epoch_ms / 1000, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def segment(value: str) -> str:
    """Return ``value`` quoted as one URL path segment (``/`` and ``%`` too)."""
    return quote(value, safe="")
