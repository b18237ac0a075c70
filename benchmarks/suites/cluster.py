"""A cluster under load: nginx in front of a primary and two replicas on Redis.

``benchmarks/cluster.py`` starts the topology of docs/deployment.md on
loopback (the shipped ``integrations/nginx/sikker-cluster.conf``, every
node with ``redis_url``, production defaults for syncing). Then:

* ``cluster_node_rps`` vs ``cluster_balanced_rps``: keyed checks with
  ``wrk`` (8 connections) sent to one replica directly and through nginx
  to the three nodes, in alternating rounds (medians). On one machine the
  nodes share its cores, so the balanced figure shows what nginx and the
  spread cost, not what more machines add;
* Locust's traffic mix through nginx (``cluster_locust_*``): one replica
  is killed (``SIGKILL`` to its process group) a third into the run and
  started again at two thirds; the failure ratio, failed reads (must be
  0; a TAXII 503 ``index_building``, which the restarted replica answers
  while it builds a large snapshot's TAXII index, is counted apart), p99
  and requests per second, and the seconds the restarted replica took to
  serve again (``cluster_rejoin_s``);
* reports sent through nginx until each shows in the checks of the
  primary (``cluster_report_primary_*``) and of every replica
  (``cluster_report_replicas_*``): median and maximum seconds.

The suite fails when the run breaks its budgets: more than
:data:`FAIL_BUDGET` of Locust's requests failed, a read failed, or a report
took longer than :data:`PROPAGATION_S` to reach every replica.
"""

import os
import random
import statistics
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

from benchmarks.cluster import Cluster, cluster
from benchmarks.data import sample_addresses
from benchmarks.locust import results
from benchmarks.servers import ROOT
from benchmarks.wrk import run_wrk, wrk_path
from sikker.core.layout import current_path
from sikker.core.snapshot import Snapshot

LOCUST = ROOT / "benchmarks" / "locust" / "run"
FAIL_BUDGET = 0.005
PROPAGATION_S = 5.0
CONNECTIONS = 8
WORKERS = 2
#: Locust's name of TAXII requests: a restarted node answers them 503
#: index_building while it builds a large snapshot's TAXII index.
TAXII = "/taxii2/api/collections/[id]/objects/"


def run(quick: bool, say: Callable[[str], None]) -> dict[str, float]:
    """Measure the cluster through its balancer (see the module docstring)."""
    wrk_path()
    ips, users, seconds = (100_000, 20, 30) if quick else (1_000_000, 40, 120)
    rounds, round_s, reports = (3, 3, 5) if quick else (5, 5, 20)
    with (
        tempfile.TemporaryDirectory(prefix="sikker-cluster-") as tmp,
        cluster(Path(tmp), ips=ips, workers=WORKERS, say=say) as running,
    ):
        running.in_step()
        running.warm_taxii(WORKERS)
        figures = _throughput(running, rounds, round_s)
        figures.update(_locust(running, users, seconds, Path(tmp), say))
        running.ensure_up()
        running.in_step()
        figures.update(_propagation(running, reports))
    figures["cluster_ips"] = float(ips)
    _say(figures, users, seconds, rounds, round_s, say)
    broken = []
    if figures["cluster_locust_fail_ratio"] > FAIL_BUDGET:
        broken.append(f"{figures['cluster_locust_fail_ratio']:.2%} of requests failed")
    if figures["cluster_locust_failed_reads"]:
        broken.append(f"{figures['cluster_locust_failed_reads']:.0f} reads failed")
    if figures["cluster_report_replicas_max_s"] > PROPAGATION_S:
        broken.append("a report took more than 5 s to reach every replica")
    if broken:
        raise RuntimeError("; ".join(broken))
    return figures


def _say(
    f: dict[str, float],
    users: int,
    seconds: int,
    rounds: int,
    round_s: int,
    say: Callable[[str], None],
) -> None:
    say(f"   keyed checks, wrk -c{CONNECTIONS}, {rounds} x {round_s} s per side:")
    say(f"   one replica directly     {f['cluster_node_rps']:8,.0f} req/s")
    say(f"   nginx -> three nodes     {f['cluster_balanced_rps']:8,.0f} req/s")
    say(
        f"   Locust mix, {users} users, {seconds} s through nginx, a replica killed "
        f"at 1/3 and restarted at 2/3: {f['cluster_locust_requests']:,.0f} requests, "
        f"{f['cluster_locust_rps']:,.0f} req/s, "
        f"{f['cluster_locust_fail_ratio']:.3%} failed "
        f"({f['cluster_locust_failed_reads']:.0f} reads; "
        f"{f['cluster_locust_taxii_503']:.0f} TAXII index_building), "
        f"p99 {f['cluster_locust_p99_ms']:.0f} ms; "
        f"the replica served again after {f['cluster_rejoin_s']:.1f} s"
    )
    say(
        f"   a report through nginx until checks count it: primary p50 "
        f"{f['cluster_report_primary_p50_s']:.2f} s (max "
        f"{f['cluster_report_primary_max_s']:.2f}), every replica p50 "
        f"{f['cluster_report_replicas_p50_s']:.2f} s (max "
        f"{f['cluster_report_replicas_max_s']:.2f})"
    )


def _throughput(running: Cluster, rounds: int, seconds: int) -> dict[str, float]:
    """Return keyed checks/s to one replica and through nginx (medians)."""
    with Snapshot.open(current_path(running.primary_data)) as snapshot:
        paths = [f"/v1/key/check/{ip}" for ip in sample_addresses(snapshot, 1000, 5)]
    auth = f"Bearer {running.keys[0]}"
    sides = {"node": running.replicas[0].url, "balanced": running.url}
    for base in sides.values():  # warm up: page cache, keep-alive, Redis script
        run_wrk(base, paths, 1, CONNECTIONS, auth)
    rps: dict[str, list[float]] = {name: [] for name in sides}
    for _ in range(rounds):
        for name, base in sides.items():
            result = run_wrk(base, paths, seconds, CONNECTIONS, auth)
            if result["socket_errors"] or result["status_errors"]:
                raise RuntimeError(f"failed requests through {name}: {result}")
            rps[name].append(result["rps"])
    return {f"cluster_{name}_rps": statistics.median(v) for name, v in rps.items()}


def _locust(
    running: Cluster, users: int, seconds: int, tmp: Path, say: Callable[[str], None]
) -> dict[str, float]:
    """Run Locust through nginx; kill a replica at 1/3, restart it at 2/3."""
    prefix, log = tmp / "locust", tmp / "locust.log"
    argv = [str(LOCUST), "--url", running.url, "--users", str(users)]
    argv += ["--duration", f"{seconds}s", "--csv", str(prefix)]
    argv += ["--max-fail-ratio", str(FAIL_BUDGET), "--max-p99-ms", "60000"]
    env = dict(os.environ, SIKKER_BENCH_KEYS=",".join(running.keys))
    victim = running.replicas[-1]
    rejoin: list[float] = []

    def chaos() -> None:
        time.sleep(seconds / 3)
        say(f"   killing {victim.name} (SIGKILL to its process group)")
        victim.kill()
        time.sleep(seconds / 3)
        started = time.monotonic()
        victim.start()
        rejoin.append(time.monotonic() - started)
        say(f"   {victim.name} serves again")

    with log.open("w") as out:
        locust = subprocess.Popen(argv, env=env, stdout=out, stderr=subprocess.STDOUT)
        thread = threading.Thread(target=chaos, daemon=True)
        thread.start()
        try:
            code = locust.wait(timeout=seconds + 300)
        finally:
            if locust.poll() is None:
                locust.kill()
                locust.wait()
        thread.join(timeout=120)
    totals = results.totals(prefix)
    reads: dict[str, int] = {}
    taxii = 0
    for row in results.failed_reads(prefix):
        if row["Name"] == TAXII and "503" in row["Error"]:
            taxii += int(row["Occurrences"])  # a legitimate "retry shortly"
        else:
            reads[row["Name"]] = reads.get(row["Name"], 0) + int(row["Occurrences"])
    if not rejoin or not totals["requests"]:
        raise RuntimeError(
            f"the Locust run failed (exit {code}): {log.read_text()[-2000:]}"
        )
    return {
        "cluster_locust_requests": totals["requests"],
        "cluster_locust_rps": totals["rps"],
        "cluster_locust_fail_ratio": totals["failures"] / totals["requests"],
        "cluster_locust_failed_reads": float(sum(reads.values())),
        "cluster_locust_taxii_503": float(taxii),
        "cluster_locust_p99_ms": totals["p99_ms"],
        "cluster_rejoin_s": rejoin[0],
    }


def _propagation(running: Cluster, n: int) -> dict[str, float]:
    """Return seconds from a report through nginx until checks count it."""
    rnd = random.Random(11)
    on_primary, on_replicas = [], []
    for _ in range(n):
        ip = running.unlisted_ip(rnd)
        running.report(ip)
        sent = time.monotonic()
        waiting = {node.name: node.url for node in running.nodes}
        seen: dict[str, float] = {}
        while waiting:
            for name, url in list(waiting.items()):
                if running.reports_counted(url, ip):
                    seen[name] = time.monotonic() - sent
                    del waiting[name]
            if time.monotonic() - sent > 60:
                raise RuntimeError(f"report of {ip} not on {sorted(waiting)} in 60 s")
            time.sleep(0.02)
        on_primary.append(seen[running.primary.name])
        on_replicas.append(max(seen[r.name] for r in running.replicas))
    return {
        "cluster_report_primary_p50_s": statistics.median(on_primary),
        "cluster_report_primary_max_s": max(on_primary),
        "cluster_report_replicas_p50_s": statistics.median(on_replicas),
        "cluster_report_replicas_max_s": max(on_replicas),
    }
