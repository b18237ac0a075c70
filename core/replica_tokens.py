"""Replica tokens: which read replicas may pull a primary's snapshots.

Kept exactly like sensor tokens (:mod:`sikker.core.sensors`): the registry is
``<data_dir>/replicas.json`` (mode 0600, replaced atomically under an flock)
holding each replica's name and the SHA-256 of its token, never the token.
Tokens are ``skr_`` + 43 URL-safe characters (256 random bits), compared in
constant time. ``sikker replica add NAME`` on the primary issues one.
"""

from sikker.core.sensors import SensorRegistry
from sikker.errors import ReplicaTokenError, UnknownReplicaError

TOKEN_PREFIX = "skr_"


class ReplicaRegistry(SensorRegistry):
    """The replicas of one data directory (``sikker replica add|list|remove``)."""

    FILE = "replicas.json"
    LOCK = "replicas.lock"
    PREFIX = TOKEN_PREFIX
    KIND = "replica"
    ERROR = ReplicaTokenError
    UNKNOWN = UnknownReplicaError
