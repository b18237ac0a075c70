"""Follow a data directory's CURRENT pointer and hand out open snapshots."""

import threading
import time
from pathlib import Path

from sikker.core.layout import current_path, current_token
from sikker.core.snapshot import Snapshot


class SnapshotStore:
    """The current snapshot of a data directory, reopened when it changes.

    ``current()`` checks the CURRENT pointer at most every ``check_interval``
    seconds (0 = on every call, a ``stat``). A request keeps the Snapshot it
    got for its whole duration, so it never mixes two sequences; the old one
    is closed when the last reference to it goes away.
    """

    def __init__(self, data_dir: Path, check_interval: float = 1.0) -> None:
        self.data_dir = Path(data_dir)
        self.check_interval = check_interval
        self._snapshot: Snapshot | None = None
        self._token: tuple[int, int, int] | None = None
        self._checked = 0.0
        self._lock = threading.Lock()

    def current(self, fresh: bool = False) -> Snapshot:
        """Return the current snapshot, opening a newer one if published.

        ``fresh`` checks CURRENT now, whatever ``check_interval`` says (for
        answers that must name the newest sequence, such as a replica's).

        Raises:
            NoSnapshotError: nothing has been published yet.
        """
        snapshot = self._snapshot
        now = time.monotonic()
        recent = now - self._checked < self.check_interval
        if snapshot is not None and recent and not fresh:
            return snapshot
        with self._lock:
            self._checked = now
            token = current_token(self.data_dir)
            if self._snapshot is None or token != self._token:
                path = current_path(self.data_dir)
                if self._snapshot is None or path != self._snapshot.path:
                    self._snapshot = Snapshot.open(path)
                self._token = token
            return self._snapshot

    def close(self) -> None:
        """Drop the open snapshot (it closes when no request uses it)."""
        with self._lock:
            self._snapshot = None
            self._token = None
