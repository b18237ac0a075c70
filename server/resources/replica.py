"""What a primary serves its read replicas (docs/replication.md).

* ``GET /v1/replica/state``: the sequence readers see, the generations it is
  made of (base first, then the overlay on it) with their manifests, and a
  tag of the account directory; ``ETag`` covers both, so an unchanged
  primary costs a 304.
* ``GET /v1/replica/files/{generation}?path=NAME``: one file of a published
  generation, streamed; its SHA-256 (from the manifest) is the ``ETag``.
* ``GET /v1/replica/accounts``: every account (no password hashes), every
  API key (HMAC digests only) and the server secret the digests are keyed
  with, so replicas authenticate keys themselves.

Every route needs a replica token (``Authorization: Bearer skr_...``, see
``sikker replica add``); nothing else opens them.
"""

import hashlib
import re
from pathlib import Path
from typing import NoReturn

import falcon
import orjson

from sikker.core.layout import SNAPSHOTS
from sikker.core.manifest import Manifest
from sikker.core.replica_tokens import ReplicaRegistry
from sikker.core.store import SnapshotStore
from sikker.errors import SnapshotError
from sikker.server.accounts import AccountService
from sikker.server.params import single_params

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


def _no_params(req: falcon.Request, allowed: frozenset[str] = frozenset()) -> dict:
    params = single_params(req)
    unknown = sorted(set(params) - allowed)
    if unknown:
        raise falcon.HTTPBadRequest(
            title="invalid parameter",
            description=f"unknown parameter {unknown[0][:60]!r}",
        )
    return params


def _matches(req: falcon.Request, tag: str) -> bool:
    return any(str(t) in ("*", tag) for t in req.if_none_match or ())


def accounts_tag(service: AccountService) -> str:
    """Return the tag of the account directory: the secret's fingerprint and
    the store's change counter (a new data directory never reuses one)."""
    store = service.store()
    fingerprint = hashlib.sha256(store.secret).hexdigest()[:16]
    return f"{fingerprint}.{store.generation()}"


class ReplicaStateResource:
    """``GET /v1/replica/state``: the generations readers see now."""

    def __init__(
        self, auth: ReplicaAuth, store: SnapshotStore, service: AccountService
    ) -> None:
        self.auth = auth
        self.store = store
        self.service = service

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        """Answer the chain and its manifests, or 304 when the tag matches."""
        self.auth.require(req)
        _no_params(req)
        snapshot = self.store.current()
        accounts = accounts_tag(self.service)
        tag = f"{snapshot.sequence}.{accounts}"
        resp.etag = f'"{tag}"'
        resp.cache_control = ["private", "no-cache"]
        resp.set_header(SEQUENCE, str(snapshot.sequence))
        if _matches(req, tag):
            resp.status = falcon.HTTP_304
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
            "accounts": accounts,
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
        name = _no_params(req, frozenset({"path"})).get("path")
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
        if _matches(req, expected["sha256"]):
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


class ReplicaAccountsResource:
    """``GET /v1/replica/accounts``: the account directory replicas mirror."""

    def __init__(self, auth: ReplicaAuth, service: AccountService) -> None:
        self.auth = auth
        self.service = service

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        """Answer every account and key (304 when the tag matches)."""
        self.auth.require(req)
        _no_params(req)
        tag = accounts_tag(self.service)  # before reading: never newer than the data
        resp.etag = f'"{tag}"'
        resp.cache_control = ["private", "no-cache"]
        if _matches(req, tag):
            resp.status = falcon.HTTP_304
            return
        store = self.service.store()
        directory = store.export_directory()
        resp.data = orjson.dumps(
            {"tag": tag, "secret": store.secret.hex(), **directory}
        )
        resp.content_type = falcon.MEDIA_JSON
