"""Publication is atomic: readers see the old snapshot or the new one, whole."""

from pathlib import Path

import pytest

from sikker.builder import bitmaps, publish
from sikker.core.layout import SNAPSHOTS, current_path, published_sequences
from sikker.core.snapshot import Snapshot
from sikker.core.store import SnapshotStore
from sikker.errors import BuildError, NoSnapshotError, StorageFullError
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
    with pytest.raises(StorageFullError, match="No space left"):
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
