"""Wire read replication into the app (two calls from create_app).

:func:`install_writes` (before the key authentication): on a read replica,
the :class:`~sikker.server.forward.ReplicaWrites` middleware. :func:`install`
(after it): the routes every server offers its own replicas, ``/v1/replica/``
(docs/replication.md).
"""

import falcon

from sikker.core.config import Config
from sikker.core.primary import Primary, write_mode
from sikker.core.store import SnapshotStore
from sikker.server.accounts import AccountService
from sikker.server.forward import ReplicaWrites
from sikker.server.resources.replica import (
    ReplicaAuth,
    ReplicaFileResource,
    ReplicaSource,
    ReplicaStateResource,
)
from sikker.server.resources.replica_feeds import (
    ReplicaAccountsResource,
    ReplicaReportsResource,
    ReplicaSessionsResource,
)


def install_writes(app: falcon.App, config: Config) -> None:
    """On a replica, forward or refuse what only the primary answers.

    Raises:
        ConfigError: ``replica_of`` or ``replica_writes`` is invalid.
    """
    if not config.replica_of:
        return
    primary = Primary.parse(config.replica_of)
    mode = write_mode(config.replica_writes)
    app.add_middleware(ReplicaWrites(primary, mode, float(config.replica_timeout)))


def install(
    app: falcon.App, config: Config, store: SnapshotStore, service: AccountService
) -> None:
    """Add ``/v1/replica/state``, ``/v1/replica/files/{generation}`` and the
    account, session and report feeds."""
    auth = ReplicaAuth(config.data_path)
    source = ReplicaSource(config.data_path, store, service)
    app.add_route("/v1/replica/state", ReplicaStateResource(auth, source))
    app.add_route(
        "/v1/replica/files/{generation}", ReplicaFileResource(auth, config.data_path)
    )
    app.add_route("/v1/replica/accounts", ReplicaAccountsResource(auth, source))
    app.add_route("/v1/replica/sessions", ReplicaSessionsResource(auth, source))
    app.add_route("/v1/replica/reports", ReplicaReportsResource(auth, source))
