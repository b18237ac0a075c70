"""Faults: killed builders and servers, full and read-only disks, stale readers.

The quick versions of issue 7's fault runs; ``benchmarks/run.py faults``
runs the full sizes with the same code (``benchmarks/faults_*.py``).
"""

import http.client
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import lmdb
import orjson
import pytest

from benchmarks.faults_publish import run_publish_faults
from benchmarks.faults_reload import run_reload_faults
from benchmarks.faults_reports import run_report_faults
from benchmarks.faults_server import Server, keys, request
from sikker.core.eventlog import EventLog
from tests.factories import build


@pytest.mark.slow
def test_builders_killed_at_random_points_never_serve_a_torn_snapshot(
    tmp_path: Path,
) -> None:
    build(tmp_path)
    faults = run_publish_faults(tmp_path, attempts=15, ips=5_000, max_delay=0.5)
    assert faults.problems == []
    assert faults.killed == faults.attempts == 15
    assert faults.torn == 0 and faults.reads > 1000
    # the reader was served generations of killed builders, each one whole
    assert faults.verified > 5
    assert faults.leftovers > 0  # some kills did leave a half-written build


# -- a server killed while clients report ------------------------------------------


@pytest.mark.slow
def test_no_acknowledged_report_is_lost_when_the_server_is_killed(
    tmp_path: Path,
) -> None:
    data = tmp_path / "data"
    build(data)
    faults = run_report_faults(data, target=1500, kills=2)
    assert faults.problems == []
    assert faults.kills == 2 and faults.acknowledged >= 1500
    assert faults.failed_requests > 0  # the kills did cut requests
    assert (faults.lost, faults.unlisted) == (0, 0)


# -- a graceful reload under load ----------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize(
    ("threads", "keepalive"), [(1, False), (4, True)], ids=["sync", "gthread"]
)
def test_a_graceful_reload_under_load_drops_no_request(
    tmp_path: Path, threads: int, keepalive: bool
) -> None:
    data = tmp_path / "data"
    build(data)
    faults = run_reload_faults(
        data, reloads=3, threads=threads, keepalive=keepalive, interval=1.0
    )
    assert faults.dropped == 0, faults.problems
    assert faults.requests > 300
    assert faults.workers_started >= 2 * faults.reloads  # every worker replaced


# -- stale LMDB reader slots ---------------------------------------------------------

HOLDER = """
import sys, time
import lmdb
env = lmdb.open(sys.argv[1], max_readers=1024, max_dbs=8)
txn = env.begin()
txn.get(b"any")
print("holding", flush=True)
time.sleep(600)
"""


def reader_pids(env: lmdb.Environment) -> set[int]:
    """Return the pids LMDB's reader table holds slots for."""
    lines = env.readers().splitlines()[1:]
    return {int(line.split()[0]) for line in lines if line.split()[:1] != ["(no"]}


def hold_and_kill(path: Path) -> int:
    """Start a process holding a read transaction on ``path``; SIGKILL it."""
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(path)], stdout=subprocess.PIPE, text=True
    )
    assert holder.stdout is not None
    assert holder.stdout.readline().strip() == "holding"
    holder.kill()
    holder.wait()
    return holder.pid


def growth(log: EventLog, appends: int) -> int:
    """Return how many pages ``appends`` small appends add to the file."""
    before = log._env.info()["last_pgno"]
    for n in range(appends):
        log.append([{"n": n, "pad": "x" * 200}])
    return int(log._env.info()["last_pgno"] - before)


def test_a_reader_killed_inside_a_transaction_does_not_pin_a_running_writer(
    tmp_path: Path,
) -> None:
    with EventLog(tmp_path / "clean") as log:
        log.append([{"n": 0}])
        clean = growth(log, 400)
    with EventLog(tmp_path / "events") as log:  # open before the reader dies
        log.append([{"n": 0}])
        dead = hold_and_kill(tmp_path / "events")
        assert dead in reader_pids(log._env)  # a stale slot pinning a txn
        pinned = growth(log, 400)
        assert dead not in reader_pids(log._env)
    # a pinned writer grows by pages every append (about 4); this one reused them
    assert pinned <= 2 * clean + 16


def _listing_load(port: int, key: str, stop: threading.Event) -> None:
    """List 500 reports (one long read transaction each) until stopped."""
    while not stop.is_set():
        try:
            request(port, "GET", "/v1/key/reports?limit=500", key, timeout=10)
        except (OSError, http.client.HTTPException):
            time.sleep(0.01)  # the worker was killed


def _kill_inside_reads(
    server: Server, key: str, envs: list[lmdb.Environment]
) -> set[int]:
    """Kill the workers while they read; return the killed pids left in slots."""
    for _ in range(20):
        stop = threading.Event()
        load = [threading.Thread(target=_listing_load, args=(server.port, key, stop))
                for _ in range(6)]  # fmt: skip
        for thread in load:
            thread.start()
        time.sleep(0.5)
        workers = set(server.workers())
        for pid in workers:
            os.kill(pid, signal.SIGKILL)
        stale = workers & set().union(*map(reader_pids, envs))  # before any cleanup
        stop.set()
        for thread in load:
            thread.join()
        if stale:
            return stale
    raise AssertionError("no worker was killed inside a read transaction")


@pytest.mark.slow
def test_reader_slots_of_workers_killed_while_reading_are_reclaimed(
    tmp_path: Path,
) -> None:
    data = tmp_path / "data"
    build(data)
    (key,), plans = keys(data, 1)
    reports = [{"ip": f"45.9.{n >> 8}.{n & 255}", "category": 4} for n in range(500)]
    with Server(data, tmp_path / "log", workers=2, threads=3,
                env={"SIKKER_PLANS_PATH": str(plans)}) as server:  # fmt: skip
        body = orjson.dumps({"reports": reports})
        assert request(server.port, "POST", "/v1/key/bulk-report", key, body)[0] == 200
        envs = [lmdb.open(str(data / name), max_dbs=16, max_readers=1024)
                for name in ("reports", "accounts")]  # fmt: skip
        stale = _kill_inside_reads(server, key, envs)
        # the new workers free the slots when they open the stores and write
        body = orjson.dumps({"ip": "45.10.0.1", "category": 4})
        assert request(server.port, "POST", "/v1/key/report", key, body)[0] == 200
        assert request(server.port, "GET", "/v1/key/reports", key)[0] == 200
        left = set().union(*map(reader_pids, envs))
        for env in envs:
            env.close()
    assert stale and not stale & left
