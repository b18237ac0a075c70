"""Where snapshots live in a data directory, and how the current one is found.

::

    <data_dir>/CURRENT                 "snapshots/0000000042\\n" (atomically replaced)
    <data_dir>/snapshots/0000000042/   one immutable snapshot (see manifest.json)
    <data_dir>/snapshots/.tmp-*        a build in progress or a crashed build
    <data_dir>/build.lock              held by the one builder allowed at a time

Readers only ever follow CURRENT, which is written last, so they see the
previous complete snapshot or the new complete one, never a partial one.
"""

import os
from pathlib import Path

from sikker.errors import NoSnapshotError, SnapshotCorruptError

CURRENT = "CURRENT"
SNAPSHOTS = "snapshots"
TMP_PREFIX = ".tmp-"
LOCK = "build.lock"
EVENTS_DIR = "events"  # the durable event log (sensors, reports)
STATE_DIR = "state"  # the builder's evidence state

MANIFEST = "manifest.json"
LMDB_DIR = "lmdb"
IPS_FILE = "ips.bin"
SUMMARY_FILE = "summary.bin"
DELTA_FILE = "delta.bin"


def snapshot_dirname(sequence: int) -> str:
    """Return the directory name of the snapshot with this sequence number."""
    return f"{sequence:010d}"


def current_path(data_dir: Path) -> Path:
    """Return the directory of the current snapshot.

    Raises:
        NoSnapshotError: nothing has been published in ``data_dir`` yet.
        SnapshotCorruptError: CURRENT names a directory that does not exist.
    """
    pointer = Path(data_dir) / CURRENT
    try:
        name = pointer.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        raise NoSnapshotError(
            f"no snapshot published in {data_dir} yet; run `sikker build` "
            "(or `sikker demo`) first"
        ) from None
    path = Path(data_dir) / name
    if not name.startswith(f"{SNAPSHOTS}/") or not path.is_dir():
        raise SnapshotCorruptError(f"{pointer} points to a missing snapshot {name!r}")
    return path


def current_token(data_dir: Path) -> tuple[int, int, int] | None:
    """Return a cheap token that changes whenever CURRENT is replaced."""
    try:
        st = os.stat(Path(data_dir) / CURRENT)
    except FileNotFoundError:
        return None
    return (st.st_ino, st.st_mtime_ns, st.st_size)


def published_sequences(data_dir: Path) -> list[int]:
    """Return the sequence numbers of every published snapshot, ascending."""
    root = Path(data_dir) / SNAPSHOTS
    if not root.is_dir():
        return []
    return sorted(int(p.name) for p in root.iterdir() if p.name.isdigit())
