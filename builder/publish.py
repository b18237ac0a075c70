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
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from sikker.builder.progress import Progress
from sikker.builder.writer import Delta, Intel, Overlay, write_snapshot
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
from sikker.core.storage import storage_errors
from sikker.errors import BuildError, NoSnapshotError, SnapshotCorruptError

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


class Publisher:
    """Holds the data directory's builder lock and publishes generations.

    ``with Publisher(data_dir) as publisher: publisher.publish(table)``; a
    long-running builder (``sikker build --follow``) keeps one open.
    ``announce`` is called with each new sequence once CURRENT names it (e.g.
    :meth:`SnapshotNotices.publish <sikker.core.notices.SnapshotNotices.publish>`).
    """

    def __init__(
        self,
        data_dir: Path,
        keep: int = KEEP,
        announce: Callable[[int], object] | None = None,
    ) -> None:
        self.data_dir = Path(data_dir)
        self.root = self.data_dir / SNAPSHOTS
        self.keep = keep
        self.announce = announce
        #: Generations pruning must keep (e.g. one a compaction is reading).
        self.pinned: set[int] = set()
        self._lock = build_lock(self.data_dir)

    def __enter__(self) -> "Publisher":
        with storage_errors(self.data_dir, "cannot start a build"):
            self._lock.__enter__()
            self.root.mkdir(exist_ok=True)
        _remove_leftovers(self.root)
        return self

    def __exit__(self, *exc: object) -> None:
        self._lock.__exit__(None, None, None)

    def publish(
        self,
        table: RecordTable,
        progress: Progress | None = None,
        overlay: Overlay | None = None,
        delta: Delta | None = None,
        intel: Intel | None = None,
    ) -> Manifest:
        """Write ``table`` as the next generation and make it current."""
        sequence = next_sequence(self.data_dir)
        tmp = self.staging(sequence)
        try:
            with storage_errors(self.root, f"cannot publish snapshot {sequence}"):
                manifest = write_snapshot(
                    table, tmp, sequence, progress, overlay, delta, intel
                )
                self.commit(tmp, sequence)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        return manifest

    def staging(self, sequence: int) -> Path:
        """Return a private directory to write generation ``sequence`` into."""
        return self.root / f"{TMP_PREFIX}{snapshot_dirname(sequence)}-{os.getpid()}"

    def install(self, staged: Path, sequence: int) -> Path:
        """Freeze a fully written staging directory as generation ``sequence``.

        Readers do not see it until CURRENT names it (or an overlay on it).
        """
        _freeze(staged)
        final = self.root / snapshot_dirname(sequence)
        os.rename(staged, final)
        fsync_dir(self.root)
        return final

    def commit(self, staged: Path, sequence: int) -> None:
        """Publish a fully written staging directory as ``sequence``."""
        point_current(self.data_dir, self.install(staged, sequence))
        prune(self.data_dir, self.keep, self.pinned)
        if self.announce is not None:
            self.announce(sequence)


def publish(
    table: RecordTable,
    data_dir: Path,
    progress: Progress | None = None,
    keep: int = KEEP,
    intel: Intel | None = None,
    announce: Callable[[int], object] | None = None,
) -> Manifest:
    """Build ``table`` into a new full snapshot and make it the current one."""
    with Publisher(data_dir, keep, announce) as publisher:
        return publisher.publish(table, progress, intel=intel)


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


def prune(data_dir: Path, keep: int, pinned: set[int] | None = None) -> None:
    """Delete generations beyond the newest ``keep`` (and not ``pinned``).

    Never deletes CURRENT, nor a base that a kept overlay is layered on.
    """
    sequences = published_sequences(data_dir)
    kept = set(sequences[-keep:]) | set(pinned or ())
    with suppress(NoSnapshotError):
        kept.add(int(current_path(data_dir).name))
    for sequence in list(kept):
        try:
            base = Manifest.load(data_dir / SNAPSHOTS / snapshot_dirname(sequence)).base
        except SnapshotCorruptError:  # e.g. an older format: it bases nothing
            continue
        if base is not None:
            kept.add(base)
    for sequence in sequences:
        if sequence not in kept:
            _remove(data_dir / SNAPSHOTS / snapshot_dirname(sequence))


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
