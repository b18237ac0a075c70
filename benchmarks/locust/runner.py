"""Run the Locust traffic mix headless with one command (``benchmarks/locust/run``).

Without ``--url`` it serves a cached demo snapshot of ``--ips`` addresses
with the real server (``sikker serve``) on loopback, creates API keys on a
plan whose quotas no run reaches, writes a uniform sample of the served
addresses for the hot/cold mix, waits until the TAXII order is built, and
runs Locust against it. With ``--url`` it targets that server with the keys
in ``SIKKER_BENCH_KEYS`` (comma-separated). ``--workers N`` runs Locust
distributed: a master and N worker processes on this machine. Options it
does not know (budgets, ``--csv``, ``--html``, ...) go to the Locust master.
The exit code is Locust's: 0 when the budgets held, 1 when they broke.
"""

import argparse
import os
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

HERE = Path(__file__).resolve().parent
LOCUSTFILE = HERE / "locustfile.py"
SAMPLE = 20_000
TAXII_WAIT_S = 300


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="benchmarks/locust/run",
        description=__doc__.splitlines()[0],
        epilog="Other options go to Locust, e.g. --max-p99-ms 250 "
        "--max-fail-ratio 0.001 --csv out/run --html out/run.html",
    )
    parser.add_argument("--url", help="a running server (keys: SIKKER_BENCH_KEYS)")
    parser.add_argument(
        "--ips", type=int, default=100_000, help="demo snapshot size (100,000)"
    )
    parser.add_argument(
        "--server-workers", type=int, help="gunicorn workers (setting workers)"
    )
    parser.add_argument("--users", type=int, default=50, help="Locust users (50)")
    parser.add_argument(
        "--spawn-rate", type=float, help="users started per second (users / 5)"
    )
    parser.add_argument("--duration", default="60s", help="run time (60s, 5m, ...)")
    parser.add_argument(
        "--workers",
        type=int,
        default=0,
        help="Locust worker processes; 0 runs Locust in one process",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    """Serve (unless --url), run Locust, return its exit code."""
    args, extra = _parser().parse_known_args(argv)
    with ExitStack() as stack:
        if args.url:
            base, keys, addresses = args.url.rstrip("/"), _env_keys(), None
            if not keys:
                print("--url needs API keys in SIKKER_BENCH_KEYS", file=sys.stderr)
                return 2
        else:
            base, keys, addresses = stack.enter_context(_demo_server(args))
        env = dict(os.environ, SIKKER_BENCH_KEYS=",".join(keys))
        if addresses is not None:
            extra = ["--addresses", str(addresses), *extra]
        return _run_locust(args, base, extra, env)
    return 2  # not reached: the with block returns


def _env_keys() -> list[str]:
    raw = os.environ.get("SIKKER_BENCH_KEYS", "")
    return [k for k in raw.split(",") if k]


@contextmanager
def _demo_server(args: argparse.Namespace) -> Iterator[tuple[str, list[str], Path]]:
    """Serve a cached demo snapshot; yield (base URL, keys, addresses file)."""
    from benchmarks.data import demo_snapshot, listed_addresses
    from benchmarks.keys import bench_keys
    from benchmarks.servers import running, serving_dir
    from sikker.core.snapshot import Snapshot

    def say(line: str) -> None:
        print(f"[locust] {line.strip()}", file=sys.stderr, flush=True)

    snapshot = demo_snapshot(args.ips, say)
    with tempfile.TemporaryDirectory(prefix="sikker-locust-") as tmp:
        root = Path(tmp)
        data = serving_dir(snapshot, root)
        plans = root / "plans.toml"
        keys = bench_keys(data, plans, accounts=5, per_account=4)
        addresses = root / "addresses.txt"
        with Snapshot.open(snapshot) as snap:
            sample = dict.fromkeys(listed_addresses(snap, SAMPLE, 23))
        addresses.write_text("\n".join(sample) + "\n")
        argv = [sys.executable, "-m", "sikker.cli", "--data-dir", str(data), "serve"]
        if args.server_workers:
            argv += ["--workers", str(args.server_workers)]
        env = {"SIKKER_PLANS_PATH": str(plans)}
        with running(argv, root / "server.log", env=env) as base:
            say(f"serving a {args.ips:,}-IP demo snapshot at {base}")
            _wait_for_taxii(base, keys[0])
            yield base, keys, addresses


def _wait_for_taxii(base: str, key: str) -> None:
    """Wait while the TAXII order of a fresh snapshot is being built (503)."""
    url = f"{base}/taxii2/api/collections/sikker-threat-intel/objects/?limit=1"
    request = urllib.request.Request(
        url,
        headers={
            "Authorization": f"Bearer {key}",
            "Accept": "application/taxii+json;version=2.1",
        },
    )
    deadline = time.monotonic() + TAXII_WAIT_S
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(request, timeout=60):
                return
        except urllib.error.HTTPError as ex:
            if ex.code != 503:
                raise
        time.sleep(1)
    raise TimeoutError("the TAXII order was not built in time")


def _run_locust(
    args: argparse.Namespace, base: str, extra: list[str], env: dict[str, str]
) -> int:
    """Run Locust headless (master and workers with --workers); return its code."""
    locust = [sys.executable, "-m", "locust", "-f", str(LOCUSTFILE)]
    rate = args.spawn_rate or max(1.0, args.users / 5)
    master = [
        *locust,
        *("--headless", "--host", base, "--users", str(args.users)),
        *("--spawn-rate", f"{rate:g}", "--run-time", args.duration),
        *("--stop-timeout", "10", "--only-summary"),
        *extra,
    ]
    if not args.workers:
        return subprocess.run(master, env=env, check=False).returncode
    from benchmarks.servers import free_port

    port = str(free_port())
    master += ["--master", "--master-bind-host", "127.0.0.1"]
    master += ["--master-bind-port", port, "--expect-workers", str(args.workers)]
    worker = [*locust, "--worker", "--master-host", "127.0.0.1", "--master-port", port]
    lead = subprocess.Popen(master, env=env)
    crew = [subprocess.Popen(worker, env=env) for _ in range(args.workers)]
    try:
        return lead.wait()
    finally:
        for proc in crew:
            try:
                proc.wait(timeout=30)  # workers quit when the master does
            except subprocess.TimeoutExpired:
                proc.terminate()
                proc.wait()


if __name__ == "__main__":
    sys.exit(main())
