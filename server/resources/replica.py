"""What a primary serves its read replicas (docs/replication.md).

* ``GET /v1/replica/state``: the sequence readers see, the generations it is
  made of (base first, then the overlay on it) with their manifests, and
  the tags of what else replicas copy (accounts, web sessions, the event
  log's last sequence); ``ETag`` covers it all, so an unchanged primary
  costs a 304.
* ``GET /v1/replica/files/{generation}?path=NAME``: one file of a published
  generation, streamed; its SHA-256 (from the manifest) is the ``ETag``.

The account, session and report feeds are in :mod:`.replica_feeds`. Every
route needs a replica token (``Authorization: Bearer skr_...``, see
``sikker replica add``); nothing else opens them.
"""

import hashlib
import re
from pathlib import Path
from typing import Any, NoReturn

import falcon
import orjson

from sikker.core.eventlog import EventLog
from sikker.core.handles import shared
from sikker.core.layout import EVENTS_DIR, SNAPSHOTS
from sikker.core.manifest import Manifest
from sikker.core.replica_tokens import ReplicaRegistry
from sikker.core.store import SnapshotStore
from sikker.errors import SnapshotError
from sikker.server.accounts import AccountService
from sikker.server.params import single_params
from sikker.server.web.sessions import SessionStore

_CHALLENGE = 'Bearer realm="sikker replicas"'
_GENERATION = re.compile(r"[0-9]{10}")
SEQUENCE = "X-Snapshot-Sequence"


class ReplicaAuth:
    """Checks the replica token of a request (401 without a valid one)."""

    def __init__(self, data_dir: Path) -> None:
        self.registry = ReplicaRegistry(data_dir)

    def require(self, req: falcon.Request) -> str:
        """Return the calling replica's name, or raise a 401."""
        header = req.get_header("Authorization") or ""
        scheme, _, token = header.strip().partition(" ")
        name = None
        if scheme.lower() == "bearer" and token.strip():
            name = self.registry.authenticate(token.strip())
        if name is None:
            raise falcon.HTTPUnauthorized(
                title="unauthorized",
                description="send a replica token as 'Authorization: Bearer "
                "<token>' (create one on the primary with `sikker replica add NAME`)",
                challenges=[_CHALLENGE],
            )
        return name


def no_params(req: falcon.Request, allowed: frozenset[str] = frozenset()) -> dict:
    params = single_params(req)
    unknown = sorted(set(params) - allowed)
    if unknown:
        raise falcon.HTTPBadRequest(
            title="invalid parameter",
            description=f"unknown parameter {unknown[0][:60]!r}",
        )
    return params


def matches(req: falcon.Request, tag: str) -> bool:
    return any(str(t) in ("*", tag) for t in req.if_none_match or ())


def accounts_tag(service: AccountService) -> str:
    """Return the tag of the account directory: the secret's fingerprint and
    the store's change counter (a new data directory never reuses one)."""
    store = service.store()
    fingerprint = hashlib.sha256(store.secret).hexdigest()[:16]
    return f"{fingerprint}.{store.generation()}"


class ReplicaSource:
    """What a primary replicates besides generations, and its change tags."""

    def __init__(
        self, data_dir: Path, store: SnapshotStore, service: AccountService
    ) -> None:
        self.data_dir = Path(data_dir)
        self.store = store
        self.service = service

    def sessions(self) -> SessionStore:
        """Return this process's web session store."""
        return shared(SessionStore, self.data_dir)

    def events(self) -> EventLog | None:
        """Return this process's event log (None before the first event)."""
        path = self.data_dir / EVENTS_DIR
        return shared(EventLog, path) if path.is_dir() else None

    def tags(self) -> dict[str, Any]:
        """Return the accounts, sessions and event log tags of the state."""
        log = self.events()
        return {
            "accounts": accounts_tag(self.service),
            "sessions": str(self.sessions().version()),
            "events": log.last_sequence() if log is not None else 0,
        }


class ReplicaResource:
    """A replication route: the token checked, an ETag and 304 for documents."""

    def __init__(self, auth: ReplicaAuth, source: ReplicaSource) -> None:
        self.auth = auth
        self.source = source

    def check(self, req: falcon.Request) -> None:
        """Refuse a request without a replica token (401) or with parameters."""
        self.auth.require(req)
        no_params(req)

    @staticmethod
    def unchanged(req: falcon.Request, resp: falcon.Response, tag: str) -> bool:
        """Set the ETag (read before the data: never newer than it) and answer
        304 when ``If-None-Match`` holds it; return whether it did."""
        resp.etag = f'"{tag}"'
        resp.cache_control = ["private", "no-cache"]
        if matches(req, tag):
            resp.status = falcon.HTTP_304
            return True
        return False


class ReplicaStateResource(ReplicaResource):
    """``GET /v1/replica/state``: the generations readers see now."""

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        """Answer the chain and its manifests, or 304 when the tag matches."""
        self.check(req)
        # checked now: a replica woken by a notice of a new snapshot must not
        # get the previous one for up to snapshot_check_interval (and then
        # wait a whole replica_poll_seconds)
        snapshot = self.source.store.current(fresh=True)
        tags = self.source.tags()
        resp.set_header(SEQUENCE, str(snapshot.sequence))
        tag = ".".join(map(str, [snapshot.sequence, *tags.values()]))
        if self.unchanged(req, resp, tag):
            return
        resp.media = {
            "sequence": snapshot.sequence,
            "generations": [
                {
                    "name": layer.path.name,
                    "manifest": orjson.loads(layer.manifest.to_json()),
                }
                for layer in snapshot.layers
            ],
            **tags,
        }


class ReplicaFileResource:
    """``GET /v1/replica/files/{generation}?path=NAME``: one generation file."""

    def __init__(self, auth: ReplicaAuth, data_dir: Path) -> None:
        self.auth = auth
        self.root = Path(data_dir) / SNAPSHOTS

    def on_get(
        self, req: falcon.Request, resp: falcon.Response, generation: str
    ) -> None:
        """Stream the file (304 when ``If-None-Match`` holds its SHA-256)."""
        self.auth.require(req)
        name = no_params(req, frozenset({"path"})).get("path")
        if not name:
            raise falcon.HTTPBadRequest(
                title="invalid parameter",
                description="path is required: a file of the generation's manifest "
                "(e.g. lmdb/data.mdb)",
            )
        directory = self.root / generation
        expected = self._manifest(generation, directory).files.get(name)
        if expected is None:
            self._missing(generation, f"has no file {name[:100]!r}")
        resp.etag = f'"{expected["sha256"]}"'
        resp.cache_control = ["private", "max-age=31536000", "immutable"]
        if matches(req, expected["sha256"]):
            resp.status = falcon.HTTP_304
            return
        resp.content_type = "application/octet-stream"
        try:
            stream = open(directory / name, "rb")  # noqa: SIM115 (Falcon closes it)
        except OSError:
            self._missing(generation, "was pruned")
        resp.set_stream(stream, int(expected["size"]))

    def _manifest(self, generation: str, directory: Path) -> Manifest:
        if not _GENERATION.fullmatch(generation) or not directory.is_dir():
            self._missing(generation[:40], "is not here")
        try:
            return Manifest.load(directory)
        except SnapshotError:
            self._missing(generation, "was pruned")

    @staticmethod
    def _missing(generation: str, what: str) -> NoReturn:
        raise falcon.HTTPNotFound(
            title="not found",
            description=f"generation {generation!r} {what} (generations are pruned "
            "as new ones are published): ask GET /v1/replica/state again",
        )
