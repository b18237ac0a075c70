"""Quotas on Redis vs the embedded quota table, and snapshot notice latency.

Three figures, each beside its embedded baseline in the same run:

* ``quota_redis_us`` vs ``quota_local_us``: one quota charge in process
  (``RedisQuota.count``, a script round trip to a loopback Redis, vs
  ``QuotaTable.count``, an atomic add in shared memory), medians;
* ``check_redis_rps`` vs ``check_embedded_rps``: keyed checks through two
  real servers (same snapshot, same gunicorn settings, one with
  ``redis_url``) driven by ``wrk`` in alternating rounds;
  ``redis_vs_embedded`` = Redis / embedded requests per second (1.0 = the
  shared count costs nothing);
* ``notice_p50_ms`` / ``notice_max_ms``: from ``SnapshotNotices.publish``
  to the subscriber's callback.
* ``redis_charges_per_s``: charges one Redis takes (``redis-benchmark``
  sending the charge script), its CPU per charge (``redis_usec_per_charge``)
  and ``redis_nodes_per_redis``: that rate over one node's keyed requests
  per second (``check_embedded_rps``), the sizing rule of
  docs/deployment.md.

The Redis is a ``redis-server`` started on 127.0.0.1 for the run
(benchmarks/redis_server.py), persisting nothing.
"""

import csv
import queue
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from benchmarks.data import demo_snapshot, sample_addresses
from benchmarks.keys import bench_keys
from benchmarks.redis_server import RedisServer, redis_server
from benchmarks.servers import running, serving_dir
from benchmarks.wrk import run_wrk, wrk_path
from sikker.core.atomics import COUNT_MASK
from sikker.core.config import load_config
from sikker.core.notices import Notice, SnapshotNotices
from sikker.core.quota import QuotaTable
from sikker.core.quota_redis import CHARGE_SCRIPT, RedisQuota
from sikker.core.redis_client import RedisSettings, connect
from sikker.core.snapshot import Snapshot

CONNECTIONS = 8
#: Seconds a Redis command may take here: a timeout would count locally.
TIMEOUT = 5.0
ADDRESSES = 1000
IPS = 100_000
#: Connections redis-benchmark charges from (the capacity figure).
CAPACITY_CLIENTS = 50


def run(quick: bool, say: Callable[[str], None]) -> dict[str, float]:
    """Measure the cost of counting quotas on Redis instead of on the host."""
    wrk_path()
    seconds, rounds = (2, 3) if quick else (5, 6)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        with redis_server(root / "redis-server") as server:
            # a timeout no busy benchmark machine reaches (0.1 s in production)
            settings = RedisSettings(server.url, timeout=TIMEOUT)
            figures = _counts(settings, root, 20_000 if quick else 100_000)
            figures.update(_notices(settings, 50 if quick else 200))
            figures.update(_http(server.url, root, seconds, rounds, say))
            figures.update(_capacity(server, 50_000 if quick else 200_000))
    if "redis_charges_per_s" in figures:
        demand = figures["check_embedded_rps"]  # one charge per keyed request
        figures["redis_nodes_per_redis"] = figures["redis_charges_per_s"] / demand
    say(
        f"   one charge in process: table {figures['quota_local_us']:.2f} us, "
        f"Redis {figures['quota_redis_us']:.1f} us (median, loopback)"
    )
    say(
        f"   keyed checks, {figures['redis_workers']:.0f} sync workers, wrk -t1 "
        f"-c{CONNECTIONS}, {rounds} x {seconds} s per side:"
    )
    say(f"   embedded quotas  {figures['check_embedded_rps']:8,.0f} req/s")
    say(f"   quotas on Redis  {figures['check_redis_rps']:8,.0f} req/s")
    say(
        f"   redis_vs_embedded = {figures['redis_vs_embedded']:.2f} "
        "(Redis / embedded req/s; 1.0 = free)"
    )
    if "redis_charges_per_s" in figures:
        say(
            f"   one Redis takes {figures['redis_charges_per_s']:,.0f} charges/s "
            f"(redis-benchmark, {CAPACITY_CLIENTS} connections, the charge script; "
            f"{figures['redis_usec_per_charge']:.1f} us of Redis CPU each): "
            f"{figures['redis_nodes_per_redis']:.0f} nodes at "
            f"{figures['check_embedded_rps']:,.0f} keyed req/s each"
        )
    say(
        f"   snapshot notice, publish -> callback: p50 "
        f"{figures['notice_p50_ms']:.2f} ms, max {figures['notice_max_ms']:.2f} ms"
    )
    return figures


def _median_us(call: Callable[[], object], n: int) -> float:
    """Return the median microseconds of ``call`` over batches of 100."""
    batches = []
    for _ in range(max(n // 100, 5)):
        started = time.perf_counter()
        for _ in range(100):
            call()
        batches.append((time.perf_counter() - started) / 100)
    return statistics.median(batches) * 1e6


def _counts(settings: RedisSettings, root: Path, n: int) -> dict[str, float]:
    remote = RedisQuota(connect(settings), "bench")
    table = QuotaTable(root / "quota.bin")
    now = time.time()
    try:
        local_us = _median_us(
            lambda: table.count("acct_bench", "lookups", 1, 1 << 35, False, now), n
        )
        redis_us = _median_us(
            lambda: remote.count("acct_bench", "lookups", 1, 1 << 35, False, now), n
        )
    finally:
        table.close()
    return {"quota_local_us": local_us, "quota_redis_us": redis_us}


def _capacity(server: RedisServer, n: int) -> dict[str, float]:
    """Return the charges per second one Redis takes, and its CPU per charge.

    ``redis-benchmark`` (C, from redis-tools) sends the real charge script
    (``EVALSHA``) from :data:`CAPACITY_CLIENTS` connections over 100,000
    accounts, so the client is not the limit. Nodes per Redis divides that
    by the keyed requests per second one node makes (``check_embedded_rps``,
    one charge each), filled in by :func:`run`.
    """
    binary = shutil.which("redis-benchmark")
    if binary is None:
        return {}
    with server.client() as client:
        sha = client.script_load(CHARGE_SCRIPT)
        client.config_resetstat()
        key = "bench:quota:1:acct___rand_int__:lookups"
        args = [
            "1",
            "1000000000000",
            "0",
            str(int(time.time()) + 3600),
            str(COUNT_MASK),
        ]
        out = subprocess.run(
            [binary, "-h", "127.0.0.1", "-p", str(server.port),
             "-c", str(CAPACITY_CLIENTS), "-n", str(n), "-r", "100000", "--csv",
             "EVALSHA", sha, "1", key, *args],
            capture_output=True, text=True, check=True, timeout=600,
        ).stdout  # fmt: skip
        stats = client.info("commandstats")["cmdstat_evalsha"]
    rows = list(csv.reader(out.splitlines()))
    return {
        "redis_charges_per_s": float(rows[1][1]),
        "redis_usec_per_charge": float(stats["usec_per_call"]),
    }


def _notices(settings: RedisSettings, n: int) -> dict[str, float]:
    notices = SnapshotNotices(settings)
    arrived: queue.Queue[tuple[Notice, float]] = queue.Queue()
    ready: queue.Queue[None] = queue.Queue()
    subscription = notices.subscribe(
        lambda notice: arrived.put((notice, time.time())), lambda: ready.put(None)
    )
    ready.get(timeout=10)
    delays = []
    try:
        for sequence in range(1, n + 1):
            notices.publish(sequence)
            notice, at = arrived.get(timeout=10)
            delays.append((at - notice.published) * 1000)
    finally:
        subscription.stop()
    return {"notice_p50_ms": statistics.median(delays), "notice_max_ms": max(delays)}


def _http(
    url: str, root: Path, seconds: int, rounds: int, say: Callable[[str], None]
) -> dict[str, float]:
    workers = int(load_config().workers)
    snapshot_dir = demo_snapshot(IPS, say)
    with Snapshot.open(snapshot_dir) as snapshot:
        paths = [
            f"/v1/key/check/{ip}" for ip in sample_addresses(snapshot, ADDRESSES, 5)
        ]
    bases = []
    for name in ("embedded", "redis"):
        (root / name).mkdir()
        data = serving_dir(snapshot_dir, root / name)
        plans = root / name / "plans.toml"
        bases.append((data, plans, bench_keys(data, plans)[0]))
    (e_data, e_plans, e_key), (r_data, r_plans, r_key) = bases
    with (
        running(_serve(e_data, workers), root / "embedded.log",
                env={"SIKKER_PLANS_PATH": str(e_plans)}) as embedded,
        running(_serve(r_data, workers), root / "redis.log",
                env={"SIKKER_PLANS_PATH": str(r_plans), "SIKKER_REDIS_URL": url,
                     "SIKKER_REDIS_TIMEOUT": str(TIMEOUT)}) as shared,
    ):  # fmt: skip
        sides = ((embedded, f"Bearer {e_key}"), (shared, f"Bearer {r_key}"))
        for base, auth in sides:  # warm up: imports, page cache, Redis script
            run_wrk(base, paths, 1, CONNECTIONS, auth)
        rps: dict[str, list[float]] = {"embedded": [], "redis": []}
        ratios = []
        for _ in range(rounds):
            results = [
                run_wrk(base, paths, seconds, CONNECTIONS, a) for base, a in sides
            ]
            for result in results:
                if result["socket_errors"] or result["status_errors"]:
                    raise RuntimeError(
                        f"failed requests during the benchmark: {result}"
                    )
            rps["embedded"].append(results[0]["rps"])
            rps["redis"].append(results[1]["rps"])
            ratios.append(results[1]["rps"] / results[0]["rps"])
    if "is unreachable" in (root / "redis.log").read_text():
        raise RuntimeError("the server lost Redis during the run: figures are void")
    return {
        "check_embedded_rps": statistics.median(rps["embedded"]),
        "check_redis_rps": statistics.median(rps["redis"]),
        "redis_vs_embedded": statistics.median(ratios),
        "redis_workers": float(workers),
    }


def _serve(data: Path, workers: int) -> list[str]:
    return [sys.executable, "-m", "sikker.cli", "--data-dir", str(data), "serve",
            "--workers", str(workers)]  # fmt: skip
