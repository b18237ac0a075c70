"""Add the appliance sync routes to the app (one call from create_app)."""

import falcon

from sikker.core.config import Config
from sikker.core.store import SnapshotStore
from sikker.server.resources.sync import SyncDeltaResource, SyncSnapshotResource
from sikker.server.sync_history import SYNC_DIR, SyncHistory
from sikker.server.sync_sets import SyncSets


def install(app: falcon.App, config: Config, store: SnapshotStore) -> None:
    """Add ``/v1/key/sync/snapshot`` and ``/v1/key/sync/delta``."""
    history = SyncHistory(
        store.data_dir / SYNC_DIR,
        int(config.sync_history),
        int(config.sync_history_filters),
    )
    sets = SyncSets(store, history)
    app.add_route("/v1/key/sync/snapshot", SyncSnapshotResource(sets, config))
    app.add_route("/v1/key/sync/delta", SyncDeltaResource(sets, config))
