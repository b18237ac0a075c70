"""Build a snapshot beside the live one and publish it atomically.

Protocol: write every file into ``snapshots/.tmp-*``, fsync the files and the
directory, rename it to its sequence number, fsync ``snapshots/``, then
replace ``CURRENT`` (write a temp file, fsync, rename, fsync the data
directory). A crash at any point leaves CURRENT naming the previous complete
snapshot; leftovers of a crashed build are removed by the next build.
"""

import fcntl
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sikker.builder.progress import Progress
from sikker.builder.writer import write_snapshot
from sikker.core.layout import (
    CURRENT,
    LOCK,
    SNAPSHOTS,
    TMP_PREFIX,
    current_path,
    published_sequences,
    snapshot_dirname,
)
from sikker.core.manifest import Manifest
from sikker.core.records import RecordTable
from sikker.errors import BuildError, NoSnapshotError

#: Published snapshots kept on disk (readers may still have older ones open).
KEEP = 3


@contextmanager
def build_lock(data_dir: Path) -> Iterator[None]:
    """Hold the data directory's builder lock, failing fast if it is taken."""
    data_dir.mkdir(parents=True, exist_ok=True)
    with open(data_dir / LOCK, "a+") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise BuildError(
                f"another build is running in {data_dir} (it holds {data_dir / LOCK})"
            ) from None
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def fsync_dir(path: Path) -> None:
    """Flush a directory entry change (create, rename) to disk."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def publish(
    table: RecordTable,
    data_dir: Path,
    progress: Progress | None = None,
    keep: int = KEEP,
) -> Manifest:
    """Build ``table`` into a new snapshot and make it the current one."""
    data_dir = Path(data_dir)
    with build_lock(data_dir):
        root = data_dir / SNAPSHOTS
        root.mkdir(exist_ok=True)
        _remove_leftovers(root)
        sequence = next_sequence(data_dir)
        tmp = root / f"{TMP_PREFIX}{snapshot_dirname(sequence)}-{os.getpid()}"
        try:
            manifest = write_snapshot(table, tmp, sequence, progress)
            _freeze(tmp)
            final = root / snapshot_dirname(sequence)
            os.rename(tmp, final)
            fsync_dir(root)
            point_current(data_dir, final)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        prune(data_dir, keep)
        return manifest


def next_sequence(data_dir: Path) -> int:
    """Return the sequence number the next snapshot gets."""
    sequences = published_sequences(data_dir)
    return (sequences[-1] if sequences else 0) + 1


def point_current(data_dir: Path, snapshot: Path) -> None:
    """Atomically make ``snapshot`` the one readers open."""
    tmp = data_dir / f"{CURRENT}.tmp"
    with open(tmp, "w", encoding="ascii") as fh:
        fh.write(f"{SNAPSHOTS}/{snapshot.name}\n")
        fh.flush()
        os.fsync(fh.fileno())
    os.rename(tmp, data_dir / CURRENT)
    fsync_dir(data_dir)


def prune(data_dir: Path, keep: int) -> None:
    """Delete published snapshots beyond the newest ``keep`` (never CURRENT)."""
    try:
        live = current_path(data_dir).name
    except NoSnapshotError:
        live = ""
    for sequence in published_sequences(data_dir)[:-keep]:
        name = snapshot_dirname(sequence)
        if name != live:
            _remove(data_dir / SNAPSHOTS / name)


def _freeze(directory: Path) -> None:
    """Make every file read-only and flush the directory tree to disk."""
    for path in directory.rglob("*"):
        if path.is_file():
            path.chmod(0o444)
    for path in [*directory.rglob("*"), directory]:
        if path.is_dir():
            fsync_dir(path)


def _remove_leftovers(root: Path) -> None:
    for path in root.glob(f"{TMP_PREFIX}*"):
        _remove(path)


def _remove(path: Path) -> None:
    for sub in [path, *path.rglob("*")]:
        if sub.is_dir():
            sub.chmod(0o755)
    shutil.rmtree(path, ignore_errors=True)
