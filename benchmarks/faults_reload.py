"""Fault (operational): a gunicorn graceful reload (``SIGHUP``) under load.

Client threads send keyed checks as fast as the server answers while the
master is sent ``SIGHUP`` several times: it starts new workers and stops
the old ones gracefully. A request is dropped when its connection is
refused or cut, or when it gets anything but its 200.

With ``keepalive`` each client keeps its connection open between requests
(gthread workers keep it; nginx's ``keepalive`` does the same). A server may
close an idle kept-alive connection at any time, so, as HTTP clients do for
idempotent requests (RFC 9110, 9.2.2), a request that fails on a reused
connection before any answer is sent once more on a new connection; only
the second failure counts as dropped.
"""

import http.client
import random
import signal
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.faults_server import Server, keys, request
from sikker.core.layout import current_path
from sikker.core.snapshot import Snapshot


@dataclass
class ReloadFaults:
    """What a run of reloads under load found."""

    requests: int = 0
    dropped: int = 0
    retried: int = 0  # sent again after a kept-alive connection was closed
    reloads: int = 0
    workers_started: int = 0  # new workers the reloads started
    problems: Counter[str] = field(default_factory=Counter)

    def figures(self) -> dict[str, float]:
        """Return the run's figures for the benchmark report."""
        return {
            "faults_reload_requests": float(self.requests),
            "faults_reload_dropped": float(self.dropped),
            "faults_reload_reloads": float(self.reloads),
        }


class _Load:
    """Threads sending checks of listed addresses until told to stop."""

    def __init__(self, port: int, key: str, paths: list[str], keepalive: bool) -> None:
        self.port = port
        self.key = key
        self.paths = paths
        self.keepalive = keepalive
        self.stop = threading.Event()
        self.faults = ReloadFaults()
        self.lock = threading.Lock()

    def run(self, client: int) -> None:
        rng = random.Random(client)
        conn: http.client.HTTPConnection | None = None
        while not self.stop.is_set():
            path = rng.choice(self.paths)
            try:
                if self.keepalive:
                    conn, status = self._kept(conn, path)
                else:
                    status, _ = request(self.port, "GET", path, self.key, timeout=60)
                problem = None if status == 200 else f"answer {status}"
            except (OSError, http.client.HTTPException) as ex:
                problem = f"{type(ex).__name__}: {ex}"
                conn = None
            with self.lock:
                self.faults.requests += 1
                if problem:
                    self.faults.dropped += 1
                    self.faults.problems[problem[:120]] += 1

    def _kept(
        self, conn: http.client.HTTPConnection | None, path: str
    ) -> tuple[http.client.HTTPConnection, int]:
        """Send on the kept connection; once more on a new one if it was closed."""
        headers = {"Authorization": f"Bearer {self.key}"}
        if conn is not None:
            try:
                conn.request("GET", path, headers=headers)
                resp = conn.getresponse()
                resp.read()
                return conn, resp.status
            except (ConnectionError, http.client.RemoteDisconnected):
                conn.close()
                with self.lock:
                    self.faults.retried += 1
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        conn.request("GET", path, headers=headers)
        resp = conn.getresponse()
        resp.read()
        return conn, resp.status


def run_reload_faults(
    data: Path,
    reloads: int,
    clients: int = 8,
    workers: int = 2,
    threads: int = 1,
    keepalive: bool = False,
    interval: float = 1.5,
    say: Callable[[str], None] = lambda line: None,
) -> ReloadFaults:
    """Reload the server ``reloads`` times under load; count dropped requests.

    ``data`` must hold a published snapshot. ``threads`` > 1 runs gunicorn's
    gthread workers, else its sync workers (the default settings).
    """
    (api_key,), plans = keys(data, 1)
    with Snapshot.open(current_path(data)) as snapshot:
        listed = snapshot.ip_texts(snapshot.everything())[:100]
    paths = [f"/v1/key/check/{ip}" for ip in listed]
    server = Server(
        data,
        data.parent / "reload-server.log",
        workers=workers,
        threads=threads,
        env={"SIKKER_PLANS_PATH": str(plans)},
    )
    with server:
        load = _Load(server.port, api_key, paths, keepalive)
        pool = [
            threading.Thread(target=load.run, args=(n,), daemon=True)
            for n in range(clients)
        ]
        for thread in pool:
            thread.start()
        time.sleep(interval)
        first = set(server.workers())
        seen = set(first)
        for _ in range(reloads):
            server.signal(signal.SIGHUP)
            load.faults.reloads += 1
            _watch(server, seen, time.monotonic() + interval)
            say(f"   reload {load.faults.reloads}: {load.faults.requests:,} requests")
        # the master handles a HUP once the old workers of the last one exited
        _watch(server, seen, time.monotonic() + 60, len(first) * (reloads + 1))
        load.faults.workers_started = len(seen - first)
        load.stop.set()
        for thread in pool:
            thread.join()
    return load.faults


def _watch(server: Server, seen: set[int], deadline: float, enough: int = 0) -> None:
    """Note every worker pid until ``deadline`` or ``enough`` pids were seen."""
    while time.monotonic() < deadline and not (enough and len(seen) >= enough):
        seen.update(server.workers())
        time.sleep(0.05)
