"""Keyed checks through the real server vs a minimal Falcon app, over HTTP.

Both run under the shipped gunicorn settings (``gunicorn_options``: workers,
worker class, timeouts; access log off on both) at the same time, on
loopback. The floor is a Falcon app that answers the same path template with
the fixed bytes of a real check answer, so ``check_vs_falcon_floor`` (ours /
floor requests per second, larger is better, target >= 0.9) is the share of
Falcon+gunicorn's throughput left after everything a check does: auth, quota
counting, snapshot lookup, JSON. Load comes from ``wrk`` (Debian's package)
in its own process: 1 thread, a few connections, cycling through 1,000
addresses (90% listed); the two sides alternate in rounds and the figures
are medians. Latency percentiles come from one connection (no queueing).
"""

import statistics
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks.data import demo_snapshot, sample_addresses, scale
from benchmarks.keys import bench_keys
from benchmarks.samples import keep_curve
from benchmarks.servers import running, serving_dir
from benchmarks.wrk import PERCENTILES, run_wrk, wrk_path
from sikker.core.config import load_config
from sikker.core.snapshot import Snapshot

CONNECTIONS = 8
#: Connection counts of the throughput-vs-concurrency sweep.
SWEEP = (1, 2, 4, 8, 16, 32, 64)
ADDRESSES = 1000
BULK_IPS = 10_000


def _fetch(
    url: str, headers: dict[str, str], data: bytes | None = None
) -> tuple[int, bytes]:
    request = urllib.request.Request(url, data=data, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as ex:
        return ex.code, ex.read()


def _bulk_check_ms(
    base: str, headers: dict[str, str], ips: list[str], repeat: int
) -> float | None:
    """Return the median ms of POST /v1/key/bulk-check-inline with ``ips``."""
    body = "\n".join(ips).encode()
    url = f"{base}/v1/key/bulk-check-inline"
    headers = {**headers, "Content-Type": "text/plain"}
    status, answer = _fetch(url, headers, body)
    if status == 404:
        return None
    if status != 200:
        raise RuntimeError(f"bulk check answered {status}: {answer[:300]!r}")
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        _fetch(url, headers, body)
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def run(quick: bool, say: Callable[[str], None]) -> dict[str, float]:
    """Measure keyed-check throughput and latency against the Falcon floor."""
    wrk_path()
    n = 100_000 if quick else scale(quick)
    seconds, rounds = (2, 4) if quick else (5, 8)
    workers = int(load_config().workers)
    snapshot_dir = demo_snapshot(n, say)
    with Snapshot.open(snapshot_dir) as snapshot:
        addresses = sample_addresses(snapshot, ADDRESSES, 5)
        bulk_ips = sample_addresses(snapshot, BULK_IPS, 6)
    paths = [f"/v1/key/check/{ip}" for ip in addresses]
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        data = serving_dir(snapshot_dir, root)
        plans = root / "plans.toml"
        key = bench_keys(data, plans)[0]
        headers = {"Authorization": f"Bearer {key}"}
        sikker = [
            sys.executable,
            "-m",
            "sikker.cli",
            "--data-dir",
            str(data),
            "serve",
            "--workers",
            str(workers),
        ]
        settings = {"SIKKER_PLANS_PATH": str(plans)}
        with running(sikker, root / "sikker.log", env=settings) as ours:
            status, body = _fetch(f"{ours}{paths[0]}", headers)
            if status != 200:
                raise RuntimeError(f"check answered {status}: {body[:300]!r}")
            (root / "body.json").write_bytes(body)
            floor = [
                sys.executable,
                "-m",
                "benchmarks.floor_app",
                "--workers",
                str(workers),
                "--body",
                str(root / "body.json"),
            ]
            with running(floor, root / "floor.log") as theirs:
                figures = _measure(
                    ours, theirs, paths, seconds, rounds, headers["Authorization"]
                )
                figures.update(
                    _sweep(ours, theirs, paths, 1 if quick else 3, headers, say)
                )
            bulk = _bulk_check_ms(ours, headers, bulk_ips, 3 if quick else 10)
    figures["http_ips"] = float(n)
    figures["http_workers"] = float(workers)
    say(
        f"   {n:,}-IP snapshot, {workers} sync workers each, wrk -t1 -c{CONNECTIONS}, "
        f"{rounds} x {seconds:g} s per side, keyed checks (quota counted)"
    )
    say(f"   Falcon floor   {figures['floor_rps']:8,.0f} req/s")
    say(
        f"   sikker check   {figures['check_rps']:8,.0f} req/s   "
        f"p50 {figures['check_p50_ms']:.2f} ms  p99 {figures['check_p99_ms']:.2f} ms "
        f"(one connection)"
    )
    say(
        f"   floor latency                  p50 {figures['floor_p50_ms']:.2f} ms  "
        f"p99 {figures['floor_p99_ms']:.2f} ms (one connection)"
    )
    say(
        f"   check_vs_falcon_floor = {figures['check_vs_falcon_floor']:.2f} "
        "(ours / floor req/s; target >= 0.9)"
    )
    if bulk is not None:
        figures["bulk_check_10k_ms"] = bulk
        say(f"   bulk check of {BULK_IPS:,} IPs: {bulk:.1f} ms (median; target <= 50)")
    return figures


def _measure(
    ours: str,
    floor: str,
    paths: list[str],
    seconds: int,
    rounds: int,
    authorization: str | None,
) -> dict[str, float]:
    """Alternate the two sides; return median throughput and latency."""
    for base in (ours, floor):  # warm both: page cache, lazy imports, JIT-less Python
        run_wrk(base, paths, 1, CONNECTIONS, authorization)
    ratios, ours_rps, floor_rps = [], [], []
    errors = 0
    for _ in range(rounds):
        theirs = run_wrk(floor, paths, seconds, CONNECTIONS, authorization)
        mine = run_wrk(ours, paths, seconds, CONNECTIONS, authorization)
        errors += mine["socket_errors"] + mine["status_errors"]
        errors += theirs["socket_errors"] + theirs["status_errors"]
        ours_rps.append(mine["rps"])
        floor_rps.append(theirs["rps"])
        ratios.append(mine["rps"] / theirs["rps"])
    if errors:
        raise RuntimeError(f"{errors} failed requests during the benchmark")
    latency: dict[str, Any] = {}
    for name, label, base in (("check", "sikker", ours), ("floor", FLOOR, floor)):
        one = run_wrk(base, paths, max(2, seconds // 2), 1, authorization)
        latency[f"{name}_p50_ms"] = one["p50_us"] / 1000
        latency[f"{name}_p99_ms"] = one["p99_us"] / 1000
        keep_curve("http_latency", label, PERCENTILES, one["percentiles_us"])
    return {
        "check_rps": statistics.median(ours_rps),
        "floor_rps": statistics.median(floor_rps),
        "check_vs_falcon_floor": statistics.median(ratios),
        **latency,
    }


FLOOR = "Falcon floor"


def _sweep(
    ours: str,
    floor: str,
    paths: list[str],
    seconds: int,
    headers: dict[str, str],
    say: Callable[[str], None],
) -> dict[str, float]:
    """Return requests/s of both sides at each connection count of SWEEP."""
    figures: dict[str, float] = {}
    curves: dict[str, list[float]] = {"sikker": [], FLOOR: []}
    for connections in SWEEP:
        for label, base in (("sikker", ours), (FLOOR, floor)):
            result = run_wrk(
                base, paths, seconds, connections, headers["Authorization"]
            )
            if result["socket_errors"] or result["status_errors"]:
                raise RuntimeError(f"failed requests at {connections} connections")
            curves[label].append(result["rps"])
        figures[f"check_rps_c{connections}"] = curves["sikker"][-1]
        figures[f"floor_rps_c{connections}"] = curves[FLOOR][-1]
    for label, rps in curves.items():
        keep_curve("http_throughput", label, SWEEP, rps)
    say(
        "   connections    "
        + "".join(f"{c:>8}" for c in SWEEP)
        + "\n   sikker req/s   "
        + "".join(f"{r:8,.0f}" for r in curves["sikker"])
        + "\n   floor req/s    "
        + "".join(f"{r:8,.0f}" for r in curves[FLOOR])
    )
    return figures
