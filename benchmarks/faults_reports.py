"""Fault: SIGKILL the whole server while clients send reports.

Concurrent clients POST ``/v1/key/report`` and ``/v1/key/bulk-report``
(every report with its own address and comment) and record each report the
server acknowledged (a whole 200 answer with its event sequence). The
server's process group (master and workers) is killed with ``SIGKILL`` at
random moments and started again on the same port; clients whose request
failed send a new one. At the end every acknowledged report must be in the
event log under its sequence (what scores are built from) and in the
report index (what listings read), and the API must list a sample of them.
"""

import http.client
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from benchmarks.faults_server import Server, keys, request
from sikker.core import ipcore
from sikker.core.eventlog import EventLog
from sikker.core.layout import EVENTS_DIR
from sikker.core.report_index import ReportIndex

#: Share of requests that are bulk reports, and their rows.
BULK_SHARE, BULK_ROWS = 0.3, 10
#: Acknowledged reports read back through ``GET /v1/key/reports/{ip}``.
API_SAMPLE = 200


@dataclass(frozen=True)
class Ack:
    """A report the server acknowledged."""

    client: int
    ip: str
    comment: str
    sequence: int


@dataclass
class ReportFaults:
    """What a run of server kills found."""

    acknowledged: int = 0
    kills: int = 0
    failed_requests: int = 0  # refused or cut by a kill: never acknowledged
    lost: int = 0  # acknowledged, then missing from the event log
    unlisted: int = 0  # acknowledged, then missing from the report index
    problems: list[str] = field(default_factory=list)

    def figures(self) -> dict[str, float]:
        """Return the run's figures for the benchmark report."""
        return {
            "faults_reports_acknowledged": float(self.acknowledged),
            "faults_reports_lost": float(self.lost + self.unlisted),
            "faults_reports_kills": float(self.kills),
        }


class _Clients:
    """Report-sending threads sharing one list of acknowledgements."""

    def __init__(self, port: int, api_keys: list[str], target: int) -> None:
        self.port = port
        self.keys = api_keys
        self.target = target
        self.acks: list[Ack] = []
        self.failed = 0
        self.problems: list[str] = []
        self.lock = threading.Lock()

    def count(self) -> int:
        with self.lock:
            return len(self.acks)

    def run(self, client: int) -> None:
        rng = random.Random(client)
        serial = 0
        while self.count() < self.target:
            rows = BULK_ROWS if rng.random() < BULK_SHARE else 1
            reports = [_report(client, serial + i) for i in range(rows)]
            serial += rows
            try:
                status, body = self._send(client, reports)
            except (OSError, http.client.HTTPException):
                with self.lock:
                    self.failed += 1
                time.sleep(0.05)  # the server is down: try a new report soon
                continue
            self._record(client, reports, status, body)

    def _send(self, client: int, reports: list[dict[str, Any]]) -> tuple[int, bytes]:
        key = self.keys[client]
        if len(reports) == 1:
            body = orjson.dumps(reports[0])
            return request(self.port, "POST", "/v1/key/report", key, body)
        body = orjson.dumps({"reports": reports})
        return request(self.port, "POST", "/v1/key/bulk-report", key, body)

    def _record(
        self, client: int, reports: list[dict[str, Any]], status: int, body: bytes
    ) -> None:
        if status != 200:
            with self.lock:
                self.problems.append(f"answer {status}: {body[:200]!r}")
            return
        answer = orjson.loads(body)
        first = answer.get("sequence") or answer.get("firstSequence")
        if len(reports) > 1 and answer.get("accepted") != len(reports):
            with self.lock:
                self.problems.append(f"bulk report not all accepted: {answer}")
            return
        with self.lock:
            self.acks += [
                Ack(client, r["ip"], r["comment"], first + i)
                for i, r in enumerate(reports)
            ]


def _report(client: int, serial: int) -> dict[str, Any]:
    """Return a report of an address no other report names."""
    ip = f"45.{client + 1}.{serial >> 8 & 255}.{serial & 255}"
    return {"ip": ip, "category": 4, "comment": f"fault {client}-{serial}"}


def run_report_faults(
    data: Path,
    target: int,
    kills: int,
    clients: int = 8,
    seed: int = 1,
    say: Callable[[str], None] = lambda line: None,
) -> ReportFaults:
    """Send ``target`` acknowledged reports through ``kills`` server kills.

    ``data`` must hold a published snapshot; the server log goes beside it.
    """
    rng = random.Random(seed)
    api_keys, plans = keys(data, clients)
    server = Server(data, data.parent / "reports-server.log", workers=2, threads=4,
                    env={"SIKKER_PLANS_PATH": str(plans)})  # fmt: skip
    faults = ReportFaults()
    server.start()
    try:
        reporters = _Clients(server.port, api_keys, target)
        threads = [
            threading.Thread(target=reporters.run, args=(n,), daemon=True)
            for n in range(clients)
        ]
        for thread in threads:
            thread.start()
        for point in sorted(rng.uniform(0.1, 0.9) * target for _ in range(kills)):
            while reporters.count() < point:
                time.sleep(0.005)
            server.kill()
            faults.kills += 1
            say(f"   killed the server at {reporters.count():,} acknowledged reports")
            time.sleep(rng.uniform(0, 0.3))
            server.start()
        for thread in threads:
            thread.join()
        server.stop()
        faults.acknowledged = len(reporters.acks)
        faults.failed_requests = reporters.failed
        faults.problems += reporters.problems[:20]
        _check_stores(data, reporters.acks, faults)
        server.start()  # after a restart, the API lists them too
        _check_api(
            server.port, api_keys, rng.sample(reporters.acks, API_SAMPLE), faults
        )
    finally:
        server.stop()
    return faults


def _check_stores(data: Path, acks: list[Ack], faults: ReportFaults) -> None:
    """Count acknowledged reports missing from the event log and the index."""
    if len({ack.sequence for ack in acks}) != len(acks):
        faults.problems.append("two acknowledged reports got one sequence")
    with EventLog(data / EVENTS_DIR) as log:
        events = dict(log.read())
    index = ReportIndex(data)
    try:
        for ack in acks:
            event = events.get(ack.sequence) or {}
            if (event.get("src_ip"), event.get("comment")) != (ack.ip, ack.comment):
                faults.lost += 1
            listed = index.of_address(ipcore.to_ip16(ack.ip), 10)
            if not any(r["sequence"] == ack.sequence for r in listed):
                faults.unlisted += 1
    finally:
        index.close()


def _check_api(
    port: int, api_keys: list[str], sample: list[Ack], faults: ReportFaults
) -> None:
    """Read a sample back through ``GET /v1/key/reports/{ip}``."""
    for ack in sample:
        status, body = request(
            port, "GET", f"/v1/key/reports/{ack.ip}", api_keys[ack.client]
        )
        listed = orjson.loads(body).get("reports", []) if status == 200 else []
        if not any(
            (r["sequence"], r["comment"]) == (ack.sequence, ack.comment) for r in listed
        ):
            faults.problems.append(f"the API does not list {ack}: {status}")
