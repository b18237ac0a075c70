"""The published sets the sync endpoints remember, so they can send deltas.

Each time a worker serves a filter's set at a sequence it keeps that set on
disk, shared by every worker::

    <data_dir>/sync/<filter hash>/filter                  the filter, as text
    <data_dir>/sync/<filter hash>/0000000042-<sha256>.set  sorted 16-byte keys

A delta from sequence A needs A's set: it is read back here (its digest is
checked against the file name). A set equal to the newest one kept is a hard
link, so a filter whose list rarely changes costs one file. Each filter keeps
its newest ``keep`` sequences; beyond ``max_filters`` filters the least
recently served go. Files are written to a temporary name and renamed, so a
reader never sees half a set.
"""

import contextlib
import hashlib
import logging
import os
import shutil
import time
from pathlib import Path

import numpy as np

from sikker.core import syncproto

SYNC_DIR = "sync"
#: Seconds after which a temporary file is a crashed writer's leftover.
STALE_SECONDS = 600
_SUFFIX = ".set"
log = logging.getLogger("sikker.server")


class SyncHistory:
    """Sets served per (filter, sequence), bounded."""

    def __init__(self, root: Path, keep: int, max_filters: int) -> None:
        self.root = Path(root)
        self.keep = max(keep, 1)
        self.max_filters = max(max_filters, 1)

    def _dir(self, key: str) -> Path:
        return self.root / hashlib.sha256(key.encode()).hexdigest()[:32]

    def _entries(self, folder: Path) -> list[Path]:
        try:
            return sorted(folder.glob(f"*{_SUFFIX}"))
        except OSError:
            return []

    def _find(self, key: str, sequence: int) -> Path | None:
        prefix = f"{sequence:010d}-"
        for path in self._entries(self._dir(key)):
            if path.name.startswith(prefix):
                return path
        return None

    def load(self, key: str, sequence: int) -> np.ndarray | None:
        """Return the set of filter ``key`` at ``sequence``, or None."""
        path = self._find(key, sequence)
        if path is None:
            return None
        try:
            data = path.read_bytes()
        except OSError:  # pruned meanwhile
            return None
        keys = np.frombuffer(data, syncproto.KEY) if len(data) % 16 == 0 else None
        if keys is None or syncproto.digest(keys) != path.stem.split("-", 1)[1]:
            return None  # damaged: the agent pulls in full
        return keys

    def store(self, key: str, sequence: int, keys: np.ndarray, digest: str) -> None:
        """Remember the set of filter ``key`` at ``sequence`` (once).

        The history is a cache: when the disk refuses (full, removed under
        us), the set is not kept and a later delta from it is a 410.
        """
        try:
            self._store(key, sequence, keys, digest)
        except OSError as ex:
            log.warning("sync history: cannot keep sequence %d: %s", sequence, ex)

    def _store(self, key: str, sequence: int, keys: np.ndarray, digest: str) -> None:
        folder = self._dir(key)
        if self._find(key, sequence) is not None:
            return
        fresh = not folder.is_dir()
        folder.mkdir(parents=True, exist_ok=True)
        if fresh:
            self._write(folder / "filter", key.encode())
        target = folder / f"{sequence:010d}-{digest}{_SUFFIX}"
        same = [p for p in self._entries(folder) if p.stem.endswith(digest)]
        try:
            if same:
                tmp = folder / f".tmp-{os.getpid()}-{target.name}"
                os.link(same[-1], tmp)
                os.replace(tmp, target)
            else:
                self._write(target, np.ascontiguousarray(keys).tobytes())
        except FileNotFoundError:  # the linked file was pruned meanwhile
            self._write(target, np.ascontiguousarray(keys).tobytes())
        self._prune(folder)

    def _write(self, path: Path, data: bytes) -> None:
        tmp = path.with_name(f".tmp-{os.getpid()}-{path.name}")
        tmp.write_bytes(data)
        os.replace(tmp, path)

    def _prune(self, folder: Path) -> None:
        cutoff = time.time() - STALE_SECONDS
        leftovers = [p for p in folder.glob(".tmp-*") if _mtime(p) < cutoff]
        for old in [*self._entries(folder)[: -self.keep], *leftovers]:
            with contextlib.suppress(OSError):
                old.unlink()
        os.utime(folder)  # the most recently served filters stay
        try:
            folders = [p for p in self.root.iterdir() if p.is_dir()]
        except OSError:
            return
        if len(folders) <= self.max_filters:
            return
        folders.sort(key=_mtime)
        for unused in folders[: len(folders) - self.max_filters]:
            shutil.rmtree(unused, ignore_errors=True)


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0
