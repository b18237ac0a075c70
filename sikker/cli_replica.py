"""``sikker replica``: read replicas (docs/replication.md).

On the primary, ``add|list|remove NAME`` manage the tokens replicas pull
with. On a replica, ``sync`` keeps the data directory in step with the
primary: one pass with ``--once``, otherwise a pass every
``replica_poll_seconds`` (sooner on a Redis notice of a new snapshot, when
``redis_url`` is set) until SIGTERM or Ctrl-C, reporting failed passes on
stderr and trying again with a growing pause. ``sikker serve --replica-of
URL`` runs that loop beside gunicorn.
"""

import argparse
import logging
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import orjson

from sikker.cli_events import add_token_actions, manage_tokens
from sikker.core.config import Config
from sikker.core.primary import Primary, write_mode
from sikker.errors import ConfigError, SikkerError

if TYPE_CHECKING:
    from sikker.builder.publish import Publisher
    from sikker.replica_sync import PassResult, ReplicaSync

#: Longest pause between passes while the primary keeps failing (seconds).
MAX_BACKOFF = 30.0

log = logging.getLogger("sikker.replica")


def primary_of(config: Config) -> Primary:
    """Return the primary a replica's settings name, checked.

    Raises:
        ConfigError: no or a bad ``replica_of``, no ``replica_token``, or a
            bad ``replica_writes``.
    """
    if not config.replica_of:
        raise ConfigError(
            "no primary to replicate: give --replica-of URL (or the setting replica_of)"
        )
    primary = Primary.parse(config.replica_of)
    write_mode(config.replica_writes)
    if not config.replica_token:
        raise ConfigError(
            "replica_token is empty: create a token on the primary with `sikker "
            "replica add NAME` and set SIKKER_REPLICA_TOKEN (or replica_token)"
        )
    return primary


def start_sync(config: Config) -> subprocess.Popen[bytes]:
    """Start ``sikker replica sync`` for a serving replica; return the process.

    Raises:
        ConfigError: the replica settings are incomplete.
        BuildError: something else (a builder) writes the data directory.
    """
    from sikker.builder.publish import build_lock

    primary = primary_of(config)
    with build_lock(config.data_path):  # fail now, not in the child
        pass
    return subprocess.Popen(
        [
            sys.executable, "-m", "sikker.cli",
            "--data-dir", str(config.data_path),
            *(["--config", config.source] if config.source else []),
            "replica", "sync", "--replica-of", primary.display,
        ],
    )  # fmt: skip


def stop_sync(process: subprocess.Popen[bytes]) -> None:
    """Stop the sync loop started by :func:`start_sync`."""
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def cmd_replica(config: Config, args: argparse.Namespace) -> int:
    """Manage replica tokens (on the primary) or sync a replica."""
    if args.action != "sync":
        from sikker.core.replica_tokens import ReplicaRegistry

        return manage_tokens(
            ReplicaRegistry(config.data_path),
            args,
            "On the replica, set SIKKER_REPLICA_TOKEN (or replica_token) to it "
            "and run `sikker serve --replica-of URL`.",
        )
    return _sync(config, args)


def _sync(config: Config, args: argparse.Namespace) -> int:
    from sikker.builder.publish import Publisher
    from sikker.replica_http import PrimaryClient
    from sikker.replica_sync import ReplicaSync

    primary = primary_of(config)
    client = PrimaryClient(primary, config.replica_token, float(config.replica_timeout))
    replica = ReplicaSync(config.data_path, client, config.plans_path)
    as_json = getattr(args, "json", False)
    try:
        with Publisher(config.data_path, config.keep_snapshots) as publisher:
            if args.once:
                result = replica.run_once(publisher, full=args.full)
                _report(result, as_json)
                return 0
            stop, wake = threading.Event(), threading.Event()

            def on_term(*_: object) -> None:
                stop.set()
                wake.set()

            signal.signal(signal.SIGTERM, on_term)
            subscription = _notices(config, wake)
            print(
                f"sikker replica: following {primary.display} into "
                f"{config.data_path} (Ctrl-C to stop)",
                file=sys.stderr,
                flush=True,
            )
            try:
                _follow(replica, publisher, stop, wake, config, args, as_json)
            finally:
                if subscription is not None:
                    subscription.stop()
    except KeyboardInterrupt:
        pass
    finally:
        replica.close()
    return 0


def _follow(
    replica: "ReplicaSync",
    publisher: "Publisher",
    stop: threading.Event,
    wake: threading.Event,
    config: Config,
    args: argparse.Namespace,
    as_json: bool,
) -> None:
    """Run passes until ``stop``; a failure only lengthens the next pause."""
    poll = max(float(config.replica_poll_seconds), 0.05)
    full, failures = args.full, 0
    while not stop.is_set():
        wake.clear()
        try:
            result = replica.run_once(publisher, full=full)
            full, failures = False, 0
            if result.mode not in ("not_modified", "current") or result.copied:
                _report(result, as_json)
        except (SikkerError, OSError) as ex:
            failures += 1
            print(f"sikker replica: sync failed: {ex}", file=sys.stderr, flush=True)
        except Exception:  # never let the loop die: log it and try again
            failures += 1
            log.exception("sikker replica: unexpected error in a sync pass")
        pause = poll if not failures else min(poll * 2 ** (failures - 1), MAX_BACKOFF)
        wake.wait(pause)


def _report(result: "PassResult", as_json: bool) -> None:
    if as_json:
        sys.stdout.write(orjson.dumps(result.as_json()).decode() + "\n")
        sys.stdout.flush()
    else:
        print(f"sikker replica: {result.line()}", file=sys.stderr, flush=True)


def _notices(config: Config, wake: threading.Event) -> Any:
    """Wake the loop on Redis notices of new snapshots, when ``redis_url`` is
    set (the loop polls either way); return the subscription or None."""
    from sikker.core.notices import SnapshotNotices
    from sikker.core.redis_client import RedisSettings

    redis = RedisSettings.from_config(config)
    if redis is None:
        return None
    return SnapshotNotices(redis).subscribe(
        lambda notice: wake.set(), on_connect=wake.set
    )


def add_commands(command: Callable[..., argparse.ArgumentParser]) -> None:
    """Add ``replica`` through cli.build_parser's ``command``."""
    p = command(
        "replica",
        cmd_replica,
        "read replicas: tokens (on the primary), sync (on a replica)",
    )
    actions = add_token_actions(p, "replica")
    help = "keep this data directory in step with the primary, until stopped"
    sub = actions.add_parser("sync", help=help, description=help)
    sub.add_argument(
        "--replica-of", metavar="URL", help="the primary (setting replica_of)"
    )
    sub.add_argument("--once", action="store_true", help="one pass, then exit")
    sub.add_argument(
        "--full",
        action="store_true",
        help="hash the generations held locally again before reusing them",
    )
    sub.add_argument(
        "--json",
        action="store_true",
        default=argparse.SUPPRESS,
        help="print JSON for scripts",
    )
