"""``GET /healthz``: is a snapshot loaded, which one, and how old."""

import time
from collections.abc import Callable
from typing import Any

import falcon

from sikker.core.store import SnapshotStore


class HealthResource:
    """Report liveness and the served snapshot (503 until one exists).

    ``replica`` (on a read replica) adds its sync status.
    """

    def __init__(
        self,
        store: SnapshotStore,
        replica: Callable[[], dict[str, Any]] | None = None,
    ) -> None:
        self.store = store
        self.replica = replica

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        """Answer 200 with the snapshot's sequence, size and age."""
        snapshot = self.store.current()
        manifest = snapshot.manifest
        resp.media = {
            "status": "ok",
            "snapshot": {
                "sequence": manifest.sequence,
                "ips": manifest.counts["ips"],
                "createdAt": manifest.created_at,
                "ageSeconds": max(0, int(time.time()) - manifest.created_at),
            },
            "mode": "primary" if self.replica is None else "replica",
            **(self.replica() if self.replica is not None else {}),
        }
