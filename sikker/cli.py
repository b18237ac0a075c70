"""The ``sikker`` command: build, serve and query snapshots.

Every command prints something a person can read, or JSON with ``--json``.
Errors go to stderr with a non-zero exit status and say what to do.
"""

import argparse
import sys
from collections.abc import Callable, Sequence
from typing import Any

import orjson

from sikker import __version__
from sikker.cli_admin import add_commands as add_admin_commands
from sikker.cli_admin import operator_key
from sikker.cli_alerts import add_commands as add_alert_commands
from sikker.cli_alerts import start_delivery_thread
from sikker.cli_catalog import add_commands as add_catalog_commands
from sikker.cli_client import add_commands as add_client_commands
from sikker.cli_events import add_commands as add_event_commands
from sikker.cli_replica import add_commands as add_replica_commands
from sikker.cli_sync import add_commands as add_sync_commands
from sikker.core.config import Config, load_config
from sikker.core.format_names import FORMAT_NAMES
from sikker.errors import SikkerError

EXIT_ERROR = 2


def _print_json(data: Any) -> None:
    sys.stdout.write(orjson.dumps(data, option=orjson.OPT_INDENT_2).decode() + "\n")


def _store(config: Config):  # type: ignore[no-untyped-def]
    from sikker.core.store import SnapshotStore

    return SnapshotStore(config.data_path, check_interval=0)


# -- build / demo / serve ----------------------------------------------------------


def _progress(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    from sikker.builder.progress import NullProgress, TextProgress

    return NullProgress() if args.quiet else TextProgress()


def _demo_table(ips: int, seed: int, progress: Any):  # type: ignore[no-untyped-def]
    from sikker.builder import demo

    progress.stage("generating", ips)
    table = demo.generate(
        ips, seed=seed, progress=lambda done, total: progress.update(done)
    )
    progress.finish()
    return table


def announcer(config: Config) -> Callable[[int], int] | None:
    """Return what announces new snapshots on Redis (None without redis_url)."""
    from sikker.core.notices import announcer

    return announcer(config)


def _build(config: Config, args: argparse.Namespace) -> dict[str, Any]:
    from sikker.builder.publish import publish

    progress = _progress(args)
    intel = None
    if getattr(args, "records", None):
        table = _records_table(args.records)
    elif getattr(args, "demo", True) or args.ips:
        table = _demo_table(args.ips or config.demo_ips, args.seed, progress)
        intel = _demo_intel(table)
    else:
        return _build_from_events(config, progress)
    manifest = publish(
        table,
        config.data_path,
        progress,
        keep=config.keep_snapshots,
        intel=intel,
        announce=announcer(config),
    )
    return _summary(config, manifest)


def _demo_intel(table: Any) -> Any:
    """Return the activity statistics a demo snapshot carries (docs/web.md)."""
    import time

    from sikker.builder.demo_stats import demo_stats
    from sikker.builder.writer import Intel

    return Intel(stats=demo_stats(table, int(time.time())))


def _build_from_events(config: Config, progress: Any) -> dict[str, Any]:
    from sikker.builder.incremental import IncrementalBuilder
    from sikker.builder.publish import Publisher

    builder = IncrementalBuilder(config.data_path, config, progress)
    announce = announcer(config)
    try:
        with Publisher(config.data_path, config.keep_snapshots, announce) as publisher:
            result = builder.catch_up(publisher)
            manifest = builder.publish(publisher, [], full=True)
    finally:
        builder.close()
    return {**_summary(config, manifest), "events": result.events}


def _summary(config: Config, manifest: Any) -> dict[str, Any]:
    size = sum(f["size"] for f in manifest.files.values())
    return {
        "sequence": manifest.sequence,
        "ips": manifest.counts["ips"],
        "ipv4": manifest.counts["ipv4"],
        "ipv6": manifest.counts["ipv6"],
        "bytes": size,
        "dataDir": str(config.data_path),
    }


def _records_table(path: str):  # type: ignore[no-untyped-def]
    from sikker.builder.catalog import load_catalog
    from sikker.builder.importer import RecordImportError, table_from_records

    stream = sys.stdin if path == "-" else open(path, encoding="utf-8")  # noqa: SIM115
    with stream:

        def records():  # type: ignore[no-untyped-def]
            for number, line in enumerate(stream, 1):
                if line.strip():
                    try:
                        yield orjson.loads(line)
                    except orjson.JSONDecodeError as ex:
                        raise RecordImportError(number, f"invalid JSON: {ex}") from None

        return table_from_records(records(), load_catalog().to_snapshot())


def _print_build(result: dict[str, Any]) -> None:
    print(
        f"published snapshot {result['sequence']} in {result['dataDir']}: "
        f"{result['ips']:,} IPs ({result['ipv4']:,} IPv4, {result['ipv6']:,} IPv6), "
        f"{result['bytes'] / 1e6:,.1f} MB"
    )


def cmd_build(config: Config, args: argparse.Namespace) -> int:
    """Build and publish a snapshot (and keep following with --follow)."""
    from sikker.core.storage import storage_errors

    with storage_errors(config.data_path, "cannot build"):
        if args.follow:
            return _follow(config, args)
        result = _build(config, args)
    _print_json(result) if args.json else _print_build(result)
    return 0


def _follow(config: Config, args: argparse.Namespace) -> int:
    """Publish new events as they arrive, until interrupted."""
    import signal
    import threading

    from sikker.builder.incremental import IncrementalBuilder
    from sikker.builder.publish import Publisher

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    start_delivery_thread(config, stop)  # alert webhooks, beside the builder
    builder = IncrementalBuilder(config.data_path, config, _progress(args))
    announce = announcer(config)
    try:
        with Publisher(config.data_path, config.keep_snapshots, announce) as publisher:
            if not args.quiet:
                print(
                    f"following the event log in {config.data_path} (Ctrl-C to stop)",
                    file=sys.stderr,
                    flush=True,
                )
            builder.follow(publisher, stop, config.follow_interval)
    except KeyboardInterrupt:
        pass
    finally:
        builder.close()
    return 0


def cmd_demo(config: Config, args: argparse.Namespace) -> int:
    """Generate demo data, publish it, then serve it with a live builder."""
    import subprocess

    result = _build(config, args)
    _print_build(result)
    if args.no_serve:
        return 0
    follower = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "sikker.cli",
            "--data-dir",
            str(config.data_path),
            *(["--config", config.source] if config.source else []),
            "build",
            "--follow",
            "--quiet",
        ],
    )
    try:
        _print_try(config)
        return cmd_serve(config, args)
    finally:
        follower.terminate()
        follower.wait(timeout=30)


def _print_try(config: Config) -> None:
    from sikker.core.filters import BlacklistQuery

    snapshot = _store(config).current()
    top = BlacklistQuery(score_minimum=0, limit=1)
    best = snapshot.ip_texts(snapshot.blacklist(top))
    sample = best[0] if best else "203.0.113.7"
    base = f"http://{config.bind}"
    key, where = operator_key(config)
    auth = '-H "Authorization: Bearer $SIKKER_KEY"'
    print(
        f"""
serving on {base}  (Ctrl-C to stop). Your API key (kept in {where}):
  export SIKKER_KEY={key}
Try:
  curl -s {auth} {base}/v1/key/check/{sample}
  curl -s {auth} '{base}/v1/key/blacklist?scoreMinimum=90&onlyCountries=CN,RU&limit=5'
  curl -s {auth} '{base}/v1/key/blacklist?plaintext=true&scoreMinimum=75&limit=20'
  sikker check {sample}
""",
        flush=True,
    )


def cmd_serve(config: Config, args: argparse.Namespace) -> int:
    """Serve the data directory with gunicorn (a read replica with --replica-of)."""
    from sikker.cli_replica import start_sync, stop_sync
    from sikker.server.serve import serve

    syncing = start_sync(config) if config.replica_of else None
    try:
        serve(config)
    finally:
        if syncing is not None:
            stop_sync(syncing)
    return 0


# -- queries ------------------------------------------------------------------------


def cmd_check(config: Config, args: argparse.Namespace) -> int:
    """Look one IP up; exit 1 when --fail-above is reached."""
    from sikker.core.present import check_payload, score_breakdown

    snapshot = _store(config).current()
    record = snapshot.lookup(args.ip)
    payload = check_payload(snapshot, args.ip, record, args.ignore_whitelist)
    if record is not None and (args.explain or not args.json):
        payload["scoreBreakdown"] = score_breakdown(snapshot, record)
    if args.json:
        _print_json(payload)
    else:
        _print_check(payload)
    failed = (
        args.fail_above is not None and payload["confidenceLevel"] >= args.fail_above
    )
    return 1 if failed else 0


def _print_check(p: dict[str, Any]) -> None:
    if not p["found"]:
        note = f" ({p['nonPublicReason']} address)" if p["nonPublicReason"] else ""
        print(f"{p['ip']}: not found{note}, confidence 0")
        return
    raw = ""
    if p["whitelist"]:
        raw = (
            f" (raw {p['rawConfidenceLevel']}, known benign: {p['whitelist']['source']}"
            f" x{p['whitelist']['discount']})"
        )
    geo = p["geolocation"]
    print(f"{p['ip']}: confidence {p['confidenceLevel']}/100{raw}")
    print(
        f"  {geo['countryCode'] or '??'} {geo['countryName'] or ''}"
        f" - AS{geo['asn'] or '?'} {geo['asnOrg'] or ''}"
    )
    print(
        f"  seen {p['firstSeen']} .. {p['lastSeen']}: {p['totalSessions']:,} sessions, "
        f"{p['totalEvents']:,} events"
    )
    protos = ", ".join(f"{x['protocol']} ({x['sessions']:,})" for x in p["protocols"])
    print(f"  protocols: {protos or '-'}")
    for b in p["behaviors"]:
        mitre = f" [{', '.join(b['mitre'])}]" if b["mitre"] else ""
        print(f"  behavior {b['severity']:>8}: {b['name']} x{b['count']}{mitre}")
    if p.get("scoreBreakdown"):
        points = {c["name"]: c["points"] for c in p["scoreBreakdown"]}
        evidence = ", ".join(
            f"{name} {value:g}"
            for name, value in points.items()
            if value and name not in ("curve", "floor", "score")
        )
        floor = f" + critical floor {points['floor']:g}" if points["floor"] else ""
        print(
            f"  why: {evidence} -> curve {points['curve']:g}{floor} (docs/scoring.md)"
        )
    r = p["reports"]
    if r["total"]:
        cats = ", ".join(f"{k} {v}" for k, v in r["categories"].items())
        print(
            f"  reports: {r['total']} from {r['distinctReporters']} reporters ({cats})"
        )


def blacklist_params(args: argparse.Namespace) -> tuple[dict[str, str], bool]:
    """Return the API filters of ``sikker blacklist``'s options, and if brief.

    Brief (no --limit, --plaintext, --format or --json): the first 10 rows.
    """
    params = filter_params(args)
    brief = not (args.limit or args.plaintext or args.format or args.json)
    if brief:
        params["limit"] = "10"
    return params, brief


def filter_params(args: argparse.Namespace) -> dict[str, str]:
    """Return the API filters given by :func:`add_filter_options`' options."""
    params = {
        "scoreMinimum": args.score_min,
        "onlyCountries": args.only_countries,
        "exceptCountries": args.except_countries,
        "onlyAsn": args.only_asn,
        "exceptAsn": args.except_asn,
        "ipVersion": args.ip_version,
        "protocols": args.protocols,
        "minSeverity": args.min_severity,
        "limit": args.limit,
    }
    return {k: str(v) for k, v in params.items() if v is not None}


def print_blacklist(payload: dict[str, Any], brief: bool) -> None:
    """Print a blacklist JSON document as a table."""
    for item in payload["data"]:
        print(
            f"{item['ip']:<40} {item['confidenceLevel']:>3}  "
            f"{item['countryCode'] or '--'}  "
            f"AS{item['asn'] or '?':<8} {','.join(item['protocols'])}"
        )
    if brief:
        print("(first 10 shown; use --limit N, --plaintext or --json for more)")


def cmd_blacklist(config: Config, args: argparse.Namespace) -> int:
    """Print a filtered blacklist."""
    from sikker.core.filters import BlacklistQuery
    from sikker.core.format_base import Export, FormatOptions
    from sikker.core.formats import format_named
    from sikker.core.present import blacklist_payload

    params, brief = blacklist_params(args)
    params.setdefault("limit", str(config.blacklist_default_limit))
    query = BlacklistQuery.from_params(params, max_limit=config.blacklist_max_limit)
    fmt = format_named(args.format, args.plaintext)
    options = FormatOptions.from_params(
        {"setName": args.set_name or "", "tableName": args.table_name or ""}
    )
    snapshot = _store(config).current()
    rows = snapshot.blacklist(query)
    if fmt.render is not None:
        for chunk in fmt.render(Export(snapshot, rows, query, options)):
            sys.stdout.buffer.write(chunk)
        return 0
    payload = blacklist_payload(snapshot, query, rows)
    if args.json or fmt.name == args.format == "json":
        _print_json(payload)
        return 0
    print_blacklist(payload, brief)
    return 0


def cmd_info(config: Config, args: argparse.Namespace) -> int:
    """Describe the current snapshot (and verify it with --verify)."""
    snapshot = _store(config).current()
    manifest = snapshot.manifest
    if args.verify:
        manifest.verify(snapshot.path)
    info = {
        "path": str(snapshot.path),
        "sequence": manifest.sequence,
        "createdAt": manifest.created_at,
        "counts": manifest.counts,
        "bytes": sum(f["size"] for f in manifest.files.values()),
        "verified": bool(args.verify),
        "engine": manifest.engine,
    }
    if args.json:
        _print_json(info)
    else:
        print(f"snapshot {info['sequence']} at {info['path']}")
        print(
            f"  {manifest.counts['ips']:,} IPs ({manifest.counts['ipv4']:,} IPv4, "
            f"{manifest.counts['ipv6']:,} IPv6), {info['bytes'] / 1e6:,.1f} MB"
        )
        if args.verify:
            print(f"  all {len(manifest.files)} files match their SHA-256")
    return 0


# -- parser -------------------------------------------------------------------------


def _add_build_source(p: argparse.ArgumentParser, records: bool) -> None:
    p.add_argument(
        "--ips", type=int, help="demo IPs to generate (default: setting demo_ips)"
    )
    p.add_argument("--seed", type=int, default=1, help="demo data seed (default 1)")
    if records:
        p.add_argument(
            "--demo",
            action="store_true",
            help="build demo data instead of the event log",
        )
        p.add_argument(
            "--records",
            metavar="FILE",
            help="build from scored records, one JSON object per line ('-' = stdin)",
        )
        p.add_argument(
            "--follow",
            action="store_true",
            help="keep publishing new events within seconds, until stopped",
        )
    p.add_argument("--quiet", action="store_true", help="no progress output")


def add_filter_options(p: argparse.ArgumentParser) -> None:
    """Add the blacklist filters (``--score-min``, ``--limit``, ...) to ``p``."""
    p.add_argument("--score-min", type=int, help="minimum confidence (default 50)")
    p.add_argument("--limit", type=int, help="maximum entries")
    p.add_argument(
        "--only-countries", metavar="CC,CC", help="ISO country codes to keep"
    )
    p.add_argument(
        "--except-countries", metavar="CC,CC", help="ISO country codes to drop"
    )
    p.add_argument("--only-asn", metavar="AS,AS", help="AS numbers to keep")
    p.add_argument("--except-asn", metavar="AS,AS", help="AS numbers to drop")
    p.add_argument("--ip-version", choices=("4", "6", "mixed"), help="address family")
    p.add_argument(
        "--protocols", metavar="P,P", help="only IPs active on these protocols"
    )
    p.add_argument(
        "--min-severity",
        choices=("low", "medium", "high", "critical", "very_high"),
        help="only IPs with a behavior this severe",
    )


def _add_serve_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--bind", help="host:port to listen on (setting bind)")
    p.add_argument("--workers", type=int, help="gunicorn workers (setting workers)")
    p.add_argument("--threads", type=int, help="threads per worker (setting threads)")


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of every command."""
    parser = argparse.ArgumentParser(prog="sikker", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"sikker {__version__}")
    parser.add_argument("--config", metavar="FILE", help="settings file (TOML)")
    parser.add_argument(
        "--data-dir", metavar="DIR", help="data directory (setting data_dir)"
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(
        name: str, func: Callable[..., int], help: str
    ) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help, description=help)
        p.set_defaults(func=func)
        p.add_argument("--json", action="store_true", help="print JSON for scripts")
        return p

    p = command("demo", cmd_demo, "generate demo data, build a snapshot and serve it")
    _add_build_source(p, records=False)
    _add_serve_options(p)
    p.add_argument("--no-serve", action="store_true", help="build only, do not serve")

    p = command("build", cmd_build, "build and atomically publish a snapshot")
    _add_build_source(p, records=True)

    p = command("serve", cmd_serve, "serve the current snapshot with gunicorn")
    _add_serve_options(p)
    p.add_argument(
        "--replica-of",
        metavar="URL",
        help="serve as a read replica of this primary (setting replica_of)",
    )

    p = command("check", cmd_check, "look up one IP in the current snapshot")
    p.add_argument("ip", help="IPv4 or IPv6 address")
    p.add_argument(
        "--fail-above",
        type=int,
        metavar="N",
        help="exit 1 when the confidence is N or more",
    )
    p.add_argument(
        "--explain",
        action="store_true",
        help="with --json: add scoreBreakdown (each component's points)",
    )
    p.add_argument(
        "--ignore-whitelist",
        action="store_true",
        help="show the raw score, without known-benign discounts",
    )

    p = command("blacklist", cmd_blacklist, "print a filtered blacklist, best first")
    add_filter_options(p)
    p.add_argument("--plaintext", action="store_true", help="one address per line")
    p.add_argument(
        "--format",
        choices=FORMAT_NAMES,
        help="output format (docs/integrations.md); json is the same as --json",
    )
    p.add_argument(
        "--set-name", metavar="NAME", help="ipset/nftables sets NAME4, NAME6 (sikker)"
    )
    p.add_argument(
        "--table-name", metavar="NAME", help="nftables table, family inet (sikker)"
    )

    p = command("info", cmd_info, "describe the current snapshot")
    p.add_argument("--verify", action="store_true", help="check every file's SHA-256")
    add_event_commands(command)
    add_catalog_commands(command)
    add_alert_commands(command)
    add_admin_commands(command)
    add_sync_commands(command)
    add_replica_commands(command)
    add_client_commands(command, sub.choices)  # last: extends check, blacklist
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``sikker`` command line; return the exit status."""
    args = build_parser().parse_args(argv)
    try:
        overrides = {
            "data_dir": args.data_dir,
            "bind": getattr(args, "bind", None),
            "workers": getattr(args, "workers", None),
            "threads": getattr(args, "threads", None),
            "replica_of": getattr(args, "replica_of", None),
        }
        config = load_config(args.config, overrides)
        return int(args.func(config, args))
    except SikkerError as ex:
        print(f"sikker {args.command}: error: {ex}", file=sys.stderr)
        return int(getattr(ex, "exit_status", EXIT_ERROR))
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
