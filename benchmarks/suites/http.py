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

import numpy as np

from benchmarks.data import demo_snapshot, scale
from benchmarks.servers import running, serving_dir
from benchmarks.wrk import run_wrk, wrk_path
from sikker.core.config import load_config
from sikker.core.snapshot import Selection, Snapshot

CONNECTIONS = 8
ADDRESSES = 1000
BULK_IPS = 10_000


def _addresses(snapshot_dir: Path, count: int) -> list[str]:
    """Return ``count`` addresses, 90% listed, in a fixed random order."""
    snapshot = Snapshot.open(snapshot_dir)
    rng = np.random.default_rng(5)
    rows = rng.integers(0, snapshot.count, int(count * 0.9)).astype(np.uint32)
    listed = snapshot.ip_texts(Selection(np.zeros(len(rows), np.uint8), rows))
    unlisted = [
        f"{a}.{b}.{c}.{d}"
        for a, b, c, d in rng.integers(
            [1, 0, 0, 1], [224, 256, 256, 255], (count - len(listed), 4)
        )
    ]
    out = listed + unlisted
    rng.shuffle(out)
    return out


def _fetch(
    url: str, headers: dict[str, str], data: bytes | None = None
) -> tuple[int, bytes]:
    request = urllib.request.Request(url, data=data, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as ex:
        return ex.code, ex.read()


def _api_key(data: Path) -> str | None:
    """Return a real API key with quota counting, once accounts exist."""
    return None


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
    seconds, rounds = (3.0, 2) if quick else (10.0, 3)
    workers = int(load_config().workers)
    snapshot_dir = demo_snapshot(n, say)
    addresses = _addresses(snapshot_dir, ADDRESSES)
    paths = [f"/v1/key/check/{ip}" for ip in addresses]
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        data = serving_dir(snapshot_dir, root)
        key = _api_key(data)
        headers = {"Authorization": f"Bearer {key}"} if key else {}
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
        with running(sikker, root / "sikker.log") as ours:
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
                    ours, theirs, paths, seconds, rounds, headers.get("Authorization")
                )
            bulk = _bulk_check_ms(
                ours, headers, _addresses(snapshot_dir, BULK_IPS), 3 if quick else 10
            )
    figures["http_ips"] = float(n)
    figures["http_workers"] = float(workers)
    say(
        f"   {n:,}-IP snapshot, {workers} sync workers each, wrk -t1 -c{CONNECTIONS}, "
        f"{rounds} x {seconds:g} s per side, {'keyed' if key else 'anonymous'} checks"
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
    seconds: float,
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
    for name, base in (("check", ours), ("floor", floor)):
        one = run_wrk(base, paths, max(2.0, seconds / 2), 1, authorization)
        latency[f"{name}_p50_ms"] = one["p50_us"] / 1000
        latency[f"{name}_p99_ms"] = one["p99_us"] / 1000
    return {
        "check_rps": statistics.median(ours_rps),
        "floor_rps": statistics.median(floor_rps),
        "check_vs_falcon_floor": statistics.median(ratios),
        **latency,
    }
