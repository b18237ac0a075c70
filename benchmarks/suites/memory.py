"""What extra gunicorn workers cost in memory when serving an N-IP snapshot.

The real server (``sikker serve``) runs twice on the same cached snapshot:
with four workers, then with one. Each run is warmed with rounds of keyed
lookups and blacklist pulls from 8 concurrent clients: at least five, and
until every worker has touched the snapshot (its LMDB table and address
column are resident in that worker's mappings); the one-worker run gets as
many rounds as the four-worker one needed. Then the PSS of the whole tree
(master and workers, from ``/proc/PID/smaps_rollup``) is summed. PSS splits
each shared page among the processes mapping it, so the sum is the physical
memory the server uses, and ``memory_added_mb`` = PSS(4 workers) - PSS(1
worker) is what three more workers cost. The budget is 300 MB; the naive
baseline is three private copies of the snapshot (workers that read it into
their heap).
"""

import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from benchmarks.data import demo_snapshot, listed_addresses, scale
from benchmarks.keys import bench_keys
from benchmarks.procmem import children, mapped_rss, rollup
from benchmarks.servers import serving_dir, started
from sikker.core.snapshot import Snapshot

BUDGET_MB = 300
CLIENTS = 8
LOOKUPS_PER_ROUND = 2_000
WARM_ROUNDS = 5
MAX_ROUNDS = 30
#: A firewall's pull: every IP at or above 50, as ipset commands.
BLACKLIST = "/v1/key/blacklist?format=ipset&scoreMinimum=50&limit=100000"
#: Files a worker must have resident to count as warm.
WARM_FILES = ("data.mdb", "ips.bin")
MB = 1e6


def _get(base: str, path: str, key: str) -> None:
    request = urllib.request.Request(
        base + path, headers={"Authorization": f"Bearer {key}"}
    )
    with urllib.request.urlopen(request, timeout=120) as resp:
        resp.read()


def _warm_round(base: str, key: str, addresses: list[str]) -> None:
    """Send one round of lookups and one blacklist pull per client."""
    paths = [f"/v1/key/check/{ip}" for ip in addresses] + [BLACKLIST] * CLIENTS
    with ThreadPoolExecutor(CLIENTS) as pool:
        list(pool.map(lambda path: _get(base, path, key), paths))


def _cold_workers(pid: int, snapshot: Path) -> list[int]:
    """Return the workers that have not touched every file of WARM_FILES."""
    return [
        worker
        for worker in children(pid)
        if not all(mapped_rss(worker, snapshot).get(f) for f in WARM_FILES)
    ]


def _serve_and_measure(
    snapshot: Path, workers: int, addresses: list[str], rounds: int
) -> tuple[dict[str, int], list[dict[str, int]], int]:
    """Serve with ``workers``, warm them all; return (master, workers, rounds)."""
    with tempfile.TemporaryDirectory(prefix="sikker-memory-") as tmp:
        root = Path(tmp)
        data = serving_dir(snapshot, root)
        plans = root / "plans.toml"
        key = bench_keys(data, plans)[0]
        argv = [
            *(sys.executable, "-m", "sikker.cli", "--data-dir", str(data)),
            *("serve", "--workers", str(workers)),
        ]
        env = {"SIKKER_PLANS_PATH": str(plans)}
        with started(argv, root / "server.log", env=env) as (base, pid):
            while len(children(pid)) < workers:
                time.sleep(0.1)
            done = 0
            while done < rounds or _cold_workers(pid, snapshot):
                if done >= MAX_ROUNDS:
                    raise RuntimeError(f"workers still cold after {done} rounds")
                start = done * LOOKUPS_PER_ROUND % len(addresses)
                _warm_round(base, key, addresses[start : start + LOOKUPS_PER_ROUND])
                done += 1
            time.sleep(1)  # let the last answers finish
            return rollup(pid), [rollup(w) for w in children(pid)], done


def _describe(worker: dict[str, int]) -> str:
    rss, pss, heap = (worker[k] / MB for k in ("Rss", "Pss", "Anonymous"))
    return f"RSS {rss:,.0f} PSS {pss:,.0f} heap {heap:,.0f}"


def _snapshot_bytes(snapshot: Path) -> int:
    return sum(f.stat().st_size for f in snapshot.rglob("*") if f.is_file())


def run(quick: bool, say: Callable[[str], None]) -> dict[str, float]:
    """Measure the memory three more workers add; return the named figures."""
    n = scale(quick)
    snapshot = demo_snapshot(n, say)
    with Snapshot.open(snapshot) as snap:
        addresses = listed_addresses(snap, LOOKUPS_PER_ROUND * 4, 17)
    master4, workers4, rounds = _serve_and_measure(snapshot, 4, addresses, WARM_ROUNDS)
    master1, workers1, _ = _serve_and_measure(snapshot, 1, addresses, rounds)
    pss4 = master4["Pss"] + sum(w["Pss"] for w in workers4)
    pss1 = master1["Pss"] + sum(w["Pss"] for w in workers1)
    added = (pss4 - pss1) / MB
    copies = 3 * _snapshot_bytes(snapshot) / MB
    figures = {
        "memory_ips": float(n),
        "memory_one_worker_pss_mb": pss1 / MB,
        "memory_four_workers_pss_mb": pss4 / MB,
        "memory_added_mb": added,
        "memory_added_vs_budget": added / BUDGET_MB,
        "memory_private_copies_mb": copies,
        "memory_vs_private_copies": copies / max(added, 1.0),
        "memory_worker_rss_mb": max(w["Rss"] for w in workers4) / MB,
        "memory_worker_heap_mb": max(w["Anonymous"] for w in workers4) / MB,
    }
    say(
        f"   {n:,}-IP snapshot ({_snapshot_bytes(snapshot) / MB:,.0f} MB), "
        f"warmed with {rounds} round(s) of {LOOKUPS_PER_ROUND:,} lookups and "
        f"{CLIENTS} blacklist pulls; every worker touched the snapshot"
    )
    for label, master, workers in (
        ("1 worker ", master1, workers1),
        ("4 workers", master4, workers4),
    ):
        per = ", ".join(_describe(w) for w in workers)
        total = master["Pss"] + sum(w["Pss"] for w in workers)
        say(
            f"   {label}: total PSS {total / MB:,.0f} MB "
            f"(master {master['Pss'] / MB:,.0f}); workers (MB): {per}"
        )
    mark = "meets" if added <= BUDGET_MB else "MISSES"
    say(
        f"   memory_added_mb = {added:,.0f} MB for 3 more workers ({mark} the "
        f"{BUDGET_MB} MB budget: {figures['memory_added_vs_budget']:.2f} of it); "
        f"three private copies would add {copies:,.0f} MB "
        f"({figures['memory_vs_private_copies']:.0f}x)"
    )
    return figures
