"""The durable event log: order, reopen, SIGKILL durability, concurrent writers."""

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from sikker.core import eventlog
from sikker.core.eventlog import EventLog
from sikker.errors import EventLogError

ROOT = Path(__file__).resolve().parent.parent


def test_appends_read_back_in_order_across_reopen(tmp_path: Path) -> None:
    with EventLog(tmp_path / "events") as log:
        assert log.last_sequence() == 0
        assert log.append([{"n": 1}, {"n": 2}]) == (1, 2)
        assert log.append([]) == (0, 0)
        assert log.append([{"n": 3}]) == (3, 3)
    with EventLog(tmp_path / "events") as log:
        assert log.last_sequence() == 3
        assert list(log.read()) == [(1, {"n": 1}), (2, {"n": 2}), (3, {"n": 3})]
        assert log.append([{"n": 4}]) == (4, 4)


def test_read_after_and_limit_span_chunks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(eventlog, "READ_CHUNK", 7)
    with EventLog(tmp_path / "events") as log:
        log.append([{"n": i} for i in range(1, 51)])
        assert [s for s, _ in log.read(after=40)] == list(range(41, 51))
        assert [e["n"] for _, e in log.read(after=3, limit=20)] == list(range(4, 24))
        assert list(log.read(after=50)) == []
        assert list(log.read(limit=0)) == []


def test_any_json_value_is_stored_so_reports_fit_too(tmp_path: Path) -> None:
    report = {"event": "report", "src_ip": "45.155.205.7", "category": "brute_force"}
    with EventLog(tmp_path / "events") as log:
        log.append([report])
        assert next(log.read()) == (1, report)


def test_the_map_grows_when_full(tmp_path: Path) -> None:
    with EventLog(tmp_path / "events", map_size=64 * 1024) as log:
        first, last = log.append([{"pad": "x" * 1000}] * 500)
        assert (first, last) == (1, 500)
        assert sum(1 for _ in log.read()) == 500


def test_use_from_another_process_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = EventLog(tmp_path / "events")
    pid = os.getpid()
    monkeypatch.setattr(os, "getpid", lambda: pid + 1)
    with pytest.raises(EventLogError, match="open it after fork"):
        log.append([{"n": 1}])
    monkeypatch.undo()
    log.close()


def _python(code: str) -> list[str]:
    return [sys.executable, "-c", textwrap.dedent(code)]


APPENDER = """
    import sys
    from sikker.core.eventlog import EventLog
    log = EventLog(sys.argv[1])
    batch = 0
    while True:
        batch += 1
        first, last = log.append([{"batch": batch, "i": i} for i in range(10)])
        print(batch, first, last, flush=True)
"""


def test_acknowledged_events_survive_sigkill(tmp_path: Path) -> None:
    path = tmp_path / "events"
    proc = subprocess.Popen(
        [*_python(APPENDER), str(path)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    assert proc.stdout is not None
    acked = []
    try:
        for line in proc.stdout:
            acked.append(tuple(int(x) for x in line.split()))
            if len(acked) == 30:
                break
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    assert len(acked) == 30
    with EventLog(path) as log:
        stored = dict(log.read())
    for batch, first, last in acked:
        assert last - first == 9
        for offset, sequence in enumerate(range(first, last + 1)):
            assert stored[sequence] == {"batch": batch, "i": offset}
    assert sorted(stored) == list(range(1, len(stored) + 1))


WRITER = """
    import sys
    from sikker.core.eventlog import EventLog
    path, writer = sys.argv[1], int(sys.argv[2])
    log = EventLog(path)
    for batch in range(40):
        first, last = log.append([{"w": writer, "b": batch, "i": i} for i in range(5)])
        print(first, last)
"""


def test_concurrent_writers_get_unique_gap_free_sequences(tmp_path: Path) -> None:
    path = tmp_path / "events"
    EventLog(path).close()  # create it once, so writers race only on appends
    procs = [
        subprocess.Popen(
            [*_python(WRITER), str(path), str(w)],
            stdout=subprocess.PIPE,
            text=True,
            cwd=ROOT,
        )
        for w in range(4)
    ]
    ranges = []
    for proc in procs:
        out, _ = proc.communicate(timeout=120)
        assert proc.returncode == 0
        ranges += [tuple(map(int, line.split())) for line in out.splitlines()]
    with EventLog(path) as log:
        stored = list(log.read())
    assert [s for s, _ in stored] == list(range(1, 4 * 40 * 5 + 1))
    assert len({(e["w"], e["b"], e["i"]) for _, e in stored}) == 800
    covered = sorted(s for first, last in ranges for s in range(first, last + 1))
    assert covered == list(range(1, 801))
    for first, last in ranges:  # a batch is contiguous and from one writer
        writers = {e["w"] for s, e in stored[first - 1 : last]}
        assert len(writers) == 1
