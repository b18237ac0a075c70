"""Publication is atomic: readers see the old snapshot or the new one, whole."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sikker.builder import bitmaps, publish
from sikker.core.layout import CURRENT, SNAPSHOTS, current_path, published_sequences
from sikker.core.snapshot import Snapshot
from sikker.core.store import SnapshotStore
from sikker.errors import BuildError, NoSnapshotError
from tests.factories import RECORDS, build


def test_each_build_gets_the_next_sequence_and_becomes_current(tmp_path: Path) -> None:
    assert build(tmp_path).sequence == 1
    assert build(tmp_path).sequence == 2
    assert current_path(tmp_path).name == "0000000002"
    assert published_sequences(tmp_path) == [1, 2]


def test_old_snapshots_are_pruned_beyond_keep(tmp_path: Path) -> None:
    for _ in range(5):
        build(tmp_path)
    assert published_sequences(tmp_path) == [3, 4, 5]


def test_published_files_are_read_only(tmp_path: Path) -> None:
    build(tmp_path)
    for path in current_path(tmp_path).rglob("*"):
        if path.is_file():
            assert not path.stat().st_mode & 0o222, path


def test_a_failed_build_leaves_the_previous_snapshot_current(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    build(tmp_path)

    def explode(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(bitmaps, "build_bitmaps", explode)
    with pytest.raises(OSError, match="No space left"):
        build(tmp_path)
    assert current_path(tmp_path).name == "0000000001"
    assert [p.name for p in (tmp_path / SNAPSHOTS).iterdir()] == ["0000000001"]
    with Snapshot.open(current_path(tmp_path)) as snap:
        snap.manifest.verify(snap.path)


def test_a_second_builder_is_refused_while_one_runs(tmp_path: Path) -> None:
    with publish.build_lock(tmp_path), pytest.raises(BuildError, match="another build"):
        build(tmp_path)


def test_no_snapshot_yet_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(NoSnapshotError, match="sikker build"):
        SnapshotStore(tmp_path).current()


def test_store_switches_to_a_new_snapshot_and_old_readers_keep_working(
    tmp_path: Path,
) -> None:
    build(tmp_path)
    store = SnapshotStore(tmp_path, check_interval=0)
    old = store.current()
    changed = [dict(r, score=r["score"] // 2) for r in RECORDS]
    for _ in range(3):  # with keep=3, the first snapshot's files are deleted
        build(tmp_path, changed)
    new = store.current()
    assert (old.sequence, new.sequence) == (1, 4)
    assert not old.path.exists()
    assert old.lookup("203.0.113.10").score == 97  # still mapped, still whole
    assert new.lookup("203.0.113.10").score == 48


_CRASHER = """
import sys
from sikker.builder import demo
from sikker.builder.publish import publish
from pathlib import Path
table = demo.generate(int(sys.argv[2]), seed=int(sys.argv[3]))
print("ready", flush=True)
publish(table, Path(sys.argv[1]))
"""


@pytest.mark.slow
def test_kill_9_at_random_points_never_tears_the_current_snapshot(
    tmp_path: Path,
) -> None:
    build(tmp_path)
    for attempt in range(6):
        proc = subprocess.Popen(
            [sys.executable, "-c", _CRASHER, str(tmp_path), "40000", str(attempt)],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert proc.stdout.readline().strip() == "ready"
        time.sleep(0.05 + 0.15 * attempt)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        path = current_path(tmp_path)
        with Snapshot.open(path) as snap:
            snap.manifest.verify(path)  # whichever it is, it is complete
    manifest = build(tmp_path)
    assert not [
        p for p in (tmp_path / SNAPSHOTS).iterdir() if p.name.startswith(".tmp")
    ]
    assert (
        (tmp_path / CURRENT).read_text().strip().endswith(f"{manifest.sequence:010d}")
    )
