"""A full disk and a read-only data directory: clear errors, nothing lost.

Each test mounts a small tmpfs as the data directory (root only), fills it
or remounts it read-only under the real server and CLI, then frees it and
checks that what was published and acknowledged before is whole.
"""

import http.client
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest

from benchmarks.faults_server import Server, keys, request
from sikker.core.eventlog import EventLog
from sikker.core.layout import EVENTS_DIR, SNAPSHOTS, current_path
from sikker.core.manifest import Manifest
from sikker.core.sensors import SensorRegistry
from tests.factories import build

pytestmark = pytest.mark.slow

EVENTS = [
    {"ts": 1795351569 + i, "sensor": "s1", "session": "a", "protocol": "ssh",
     "src_ip": f"45.155.1.{i + 1}", "event": "login_failed", "username": "root"}
    for i in range(20)
]  # fmt: skip
NDJSON = b"\n".join(orjson.dumps(event) for event in EVENTS)


@pytest.fixture
def disk(tmp_path: Path) -> Iterator[Path]:
    """A mounted 8 MiB tmpfs (root only), unmounted afterwards."""
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs as the data directory needs root")
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", str(mount)],
        capture_output=True, text=True,
    )  # fmt: skip
    if done.returncode:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=True)


class World:
    """A data directory with a snapshot, an API key, a sensor and a server."""

    def __init__(self, data: Path, work: Path) -> None:
        self.data = data
        build(data)
        (self.key,), plans = keys(data, 1)
        (work / "plans.toml").write_text(plans.read_text())
        _, self.token = SensorRegistry(data).add("s1")
        (work / "events.ndjson").write_bytes(NDJSON)
        self.events_file = work / "events.ndjson"
        env = {"SIKKER_PLANS_PATH": str(work / "plans.toml")}
        self.server = Server(data, work / "server.log", env=env)

    def acknowledged_report(self) -> dict[int, str]:
        """Send report 1; return {its sequence: its comment}."""
        status, answer = self.report(1)
        assert status == 200
        return {answer["sequence"]: "r1"}

    def writes_refused(self, why: str) -> None:
        """Assert that build, build --demo and ingest fail clearly."""
        refused(self.cli("build"), "build", why)
        refused(self.cli("build", "--demo", "--ips", "500"), "build", why)
        refused(self.cli("ingest", str(self.events_file)), "ingest", why)

    def report(self, n: int) -> tuple[int, dict]:
        body = orjson.dumps({"ip": f"45.1.1.{n}", "category": 4, "comment": f"r{n}"})
        return _json(
            request(self.server.port, "POST", "/v1/key/report", self.key, body)
        )

    def bulk_report(self) -> tuple[int, dict]:
        body = orjson.dumps({"reports": [{"ip": "45.1.2.1", "category": 4}]})
        path = "/v1/key/bulk-report"
        return _json(request(self.server.port, "POST", path, self.key, body))

    def sensor_events(self) -> tuple[int, dict]:
        conn = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=30)
        headers = {"Authorization": f"Bearer {self.token}",
                   "Content-Type": "application/x-ndjson"}  # fmt: skip
        conn.request("POST", "/v1/sensor/events", body=NDJSON, headers=headers)
        resp = conn.getresponse()
        return resp.status, orjson.loads(resp.read())

    def check(self) -> int:
        path = "/v1/key/check/203.0.113.10"
        return request(self.server.port, "GET", path, self.key)[0]

    def cli(self, *argv: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "sikker.cli", "--data-dir", str(self.data), *argv],
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip


def _json(answer: tuple[int, bytes]) -> tuple[int, dict]:
    return answer[0], orjson.loads(answer[1])


def refused(result: subprocess.CompletedProcess[str], command: str, why: str) -> None:
    """Assert a CLI run failed with exit 2 and one clear line, no traceback."""
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith(f"sikker {command}: error: ") and why in last, last


def assert_intact(data: Path, acknowledged: dict[int, str]) -> None:
    """The published snapshot is whole; acknowledged reports are in the log."""
    path = current_path(data)
    Manifest.load(path).verify(path)
    assert not [p for p in (data / SNAPSHOTS).iterdir() if p.name.startswith(".")]
    with EventLog(data / EVENTS_DIR) as log:
        stored = dict(log.read())
    for sequence, comment in acknowledged.items():
        assert stored[sequence].get("comment") == comment


def fill(mount: Path) -> None:
    """Write a file until the disk is full."""
    with open(mount / "filler", "wb") as fh:
        try:
            while True:
                fh.write(b"\0" * 65536)
                fh.flush()
        except OSError as ex:
            assert ex.errno == 28  # ENOSPC


def test_a_full_disk_gives_clear_errors_and_loses_nothing(
    disk: Path, tmp_path: Path
) -> None:
    world = World(disk / "data", tmp_path)
    with world.server:
        acknowledged = world.acknowledged_report()
        assert world.sensor_events()[0] == 200
        fill(disk)
        for status, answer in (world.report(2), world.bulk_report(),
                               world.sensor_events()):  # fmt: skip
            assert status == 507 and answer["code"] == "insufficient_storage"
            assert answer["error"] == answer["error"].strip() != ""
        assert world.check() == 200  # lookups keep working
        world.writes_refused("is full")
        assert current_path(world.data).name == "0000000001"
        (disk / "filler").unlink()  # space again: everything works and is there
        assert_intact(world.data, acknowledged)
        status, answer = world.report(3)
        assert status == 200 and answer["sequence"] == 22  # nothing half-stored
    assert world.cli("build", "--quiet").returncode == 0
    assert_intact(world.data, {**acknowledged, 22: "r3"})
    assert current_path(world.data).name == "0000000002"


def test_a_read_only_data_directory_gives_clear_errors_and_loses_nothing(
    disk: Path, tmp_path: Path
) -> None:
    world = World(disk / "data", tmp_path)
    with world.server:
        acknowledged = world.acknowledged_report()
    subprocess.run(["mount", "-o", "remount,ro", str(disk)], check=True)
    world.writes_refused("not writable")
    assert world.cli("check", "203.0.113.10").returncode == 0  # reads work
    with world.server:
        for status, answer in (world.report(2), world.sensor_events()):
            assert status == 503 and answer["code"] == "storage_read_only"
    subprocess.run(["mount", "-o", "remount,rw", str(disk)], check=True)
    assert_intact(world.data, acknowledged)
    assert world.cli("build", "--quiet").returncode == 0
