"""Snapshot build time, size and peak memory, in a fresh process."""

import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import orjson

from benchmarks.data import SEED, scale

_CHILD = """
import resource, sys, time, orjson
from pathlib import Path
from sikker.builder import demo
from sikker.builder.progress import NullProgress
from sikker.builder.publish import publish
n, seed, out = int(sys.argv[1]), int(sys.argv[2]), Path(sys.argv[3])
t0 = time.perf_counter()
table = demo.generate(n, seed=seed)
t1 = time.perf_counter()
manifest = publish(table, out, NullProgress())
t2 = time.perf_counter()
size = sum(f["size"] for f in manifest.files.values())
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print(orjson.dumps({"generate_s": t1 - t0, "build_s": t2 - t1, "bytes": size,
                    "peak_rss": peak}).decode())
"""


def run(quick: bool, say: Callable[[str], None]) -> dict[str, float]:
    """Generate and build an N-IP snapshot in a child process."""
    n = scale(quick)
    with tempfile.TemporaryDirectory(prefix="sikker-build-") as tmp:
        started = time.perf_counter()
        out = subprocess.run(
            [sys.executable, "-c", _CHILD, str(n), str(SEED), str(Path(tmp) / "data")],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
    result = orjson.loads(out.strip().splitlines()[-1])
    figures = {
        "build_ips": float(n),
        "build_s": result["build_s"],
        "generate_s": result["generate_s"],
        "snapshot_mb": result["bytes"] / 1e6,
        "snapshot_bytes_per_ip": result["bytes"] / n,
        "build_peak_rss_mb": result["peak_rss"] / 1e6,
    }
    say(
        f"   {n:,} IPs: generate {result['generate_s']:.1f} s, build+publish "
        f"{result['build_s']:.1f} s (wall {time.perf_counter() - started:.0f} s)"
    )
    say(
        f"   snapshot {figures['snapshot_mb']:,.0f} MB "
        f"({figures['snapshot_bytes_per_ip']:.0f} B/IP), peak RSS "
        f"{figures['build_peak_rss_mb']:,.0f} MB (generation included)"
    )
    return figures
