"""The sets the sync endpoints serve: now, and at an earlier sequence.

:meth:`SyncSets.current` selects a filter's blacklist in the current snapshot
as a sorted set of storage-form addresses (see :mod:`sikker.core.syncproto`),
remembers it in the :class:`~sikker.server.sync_history.SyncHistory` and
keeps the last few in memory, so agents polling one filter cost one
selection per published sequence. :meth:`SyncSets.at` finds the set of an
earlier sequence: from the history, else from that snapshot if it is still
on disk; None when neither has it (the agent then pulls in full).
"""

import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sikker.core import syncproto
from sikker.core.filters import BlacklistQuery
from sikker.core.layout import SNAPSHOTS, snapshot_dirname
from sikker.core.snapshot import Snapshot
from sikker.core.store import SnapshotStore
from sikker.errors import SnapshotError
from sikker.server.sync_history import SyncHistory

#: Sets a worker keeps in memory (the newest of each busy filter).
CACHED_SETS = 8


@dataclass(frozen=True)
class SyncedSet:
    """A filter's set at one sequence."""

    sequence: int
    keys: np.ndarray
    digest: str


def selected_keys(snapshot: Snapshot, query: BlacklistQuery) -> np.ndarray:
    """Return the addresses ``query`` selects in ``snapshot``, as a sorted set."""
    selection = snapshot.blacklist(query)
    parts = []
    for index, layer in enumerate(snapshot.layers):
        rows = selection.rows[selection.layer == index]
        if len(rows):
            parts.append(np.frombuffer(layer.ips, syncproto.KEY)[rows])
    if not parts:
        return syncproto.empty()
    return np.unique(np.concatenate(parts))


class SyncSets:
    """Current and earlier sets per filter, for the sync resources."""

    def __init__(self, store: SnapshotStore, history: SyncHistory) -> None:
        self.store = store
        self.history = history
        self._cache: OrderedDict[tuple[str, int], SyncedSet] = OrderedDict()
        self._lock = threading.Lock()

    def current(self, query: BlacklistQuery, key: str) -> SyncedSet:
        """Return the set of filter ``key`` (``query``) in the current snapshot.

        Raises:
            NoSnapshotError: nothing is published yet.
        """
        snapshot = self.store.current()
        found = self._cached(key, snapshot.sequence)
        if found is not None:
            return found
        keys = selected_keys(snapshot, query)
        found = SyncedSet(snapshot.sequence, keys, syncproto.digest(keys))
        self.history.store(key, found.sequence, keys, found.digest)
        with self._lock:
            self._cache[(key, found.sequence)] = found
            while len(self._cache) > CACHED_SETS:
                self._cache.popitem(last=False)
        return found

    def _cached(self, key: str, sequence: int) -> SyncedSet | None:
        with self._lock:
            found = self._cache.get((key, sequence))
            if found is not None:
                self._cache.move_to_end((key, sequence))
            return found

    def at(self, query: BlacklistQuery, key: str, sequence: int) -> np.ndarray | None:
        """Return the set of filter ``key`` at an earlier ``sequence``, or None."""
        cached = self._cached(key, sequence)
        if cached is not None:
            return cached.keys
        keys = self.history.load(key, sequence)
        if keys is not None:
            return keys
        path = Path(self.store.data_dir) / SNAPSHOTS / snapshot_dirname(sequence)
        if not path.is_dir():
            return None
        try:
            return selected_keys(Snapshot.open(path), query)
        except (SnapshotError, OSError):  # pruned or damaged meanwhile
            return None
