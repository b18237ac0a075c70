"""The TAXII 2.1 endpoints: discovery, API root, collections, objects.

Discovery, the API root and the collection documents are public (as on
SikkerAPI); objects, manifests and versions need an API key and charge the
``taxii`` quota one unit per object returned. Every collection is read-only:
adding or deleting objects is a 403 (after a 415 for a body that is not
TAXII JSON).
"""

from collections.abc import Callable
from typing import Any

import falcon
import orjson

from sikker.core.config import Config
from sikker.core.stix import mapper, object_version, stix_time
from sikker.core.stix_feed import Entry, Feed, Page, Position
from sikker.core.store import SnapshotStore
from sikker.errors import InvalidAddressError
from sikker.server import principal
from sikker.server.taxii import params
from sikker.server.taxii.collections import COLLECTIONS, Collection
from sikker.server.taxii.media import MEDIA_TYPE, taxii_content_type

API_ROOT = "/taxii2/api/"
PRODUCER = "sikker"

Authenticate = Callable[[falcon.Request, falcon.Response], Any]


def _send(resp: falcon.Response, document: dict[str, Any]) -> None:
    resp.content_type = MEDIA_TYPE
    resp.data = orjson.dumps(document)


class DiscoveryResource:
    """``GET /taxii2/``: the server and its one API root."""

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        """Answer the discovery document."""
        _send(
            resp,
            {
                "title": "sikker TAXII server",
                "description": "TAXII 2.1 feed of sikker IP reputation: one STIX "
                "indicator per listed IP, with ATT&CK-mapped behaviors.",
                "default": API_ROOT,
                "api_roots": [API_ROOT],
            },
        )


class ApiRootResource:
    """``GET /taxii2/api/``: what the API root supports."""

    def __init__(self, config: Config) -> None:
        self.config = config

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        """Answer the API root document."""
        _send(
            resp,
            {
                "title": "sikker",
                "description": "Read-only collections of IP indicators.",
                "versions": [MEDIA_TYPE],
                "max_content_length": int(self.config.max_body_bytes),
            },
        )


class CollectionsResource:
    """``GET .../collections/``: every collection."""

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        """Answer the list of collections."""
        _send(resp, {"collections": [c.resource() for c in COLLECTIONS.values()]})


def _collection(collection_id: str) -> Collection:
    found = COLLECTIONS.get(collection_id)
    if found is None:
        raise falcon.HTTPNotFound(
            title="not found",
            description=f"no collection {collection_id!r}; "
            f"collections: {', '.join(COLLECTIONS)}",
        )
    return found


class CollectionResource:
    """``GET .../collections/{id}/``: one collection."""

    def on_get(
        self, req: falcon.Request, resp: falcon.Response, collection_id: str
    ) -> None:
        """Answer the collection document."""
        _send(resp, _collection(collection_id).resource())


class _Keyed:
    """Shared by the endpoints that serve objects: key, quota, feed, paging."""

    def __init__(
        self, store: SnapshotStore, config: Config, authenticate: Authenticate | None
    ) -> None:
        self.store = store
        self.config = config
        self.authenticate = authenticate

    def _begin(
        self, req: falcon.Request, resp: falcon.Response, collection_id: str
    ) -> tuple[Collection, params.Query, Feed, int]:
        """Authenticate, parse, and return what a request reads from."""
        collection = _collection(collection_id)
        if self.authenticate is not None:
            self.authenticate(req, resp)
        query = params.parse(req, collection.id, int(self.config.taxii_max_page_size))
        snapshot = self.store.current()
        resp.set_header("X-Snapshot-Sequence", str(snapshot.sequence))
        limit = _affordable(req, query.limit)
        return collection, query, Feed(snapshot, mapper(snapshot, PRODUCER)), limit

    def _page(
        self, req: falcon.Request, resp: falcon.Response, collection_id: str
    ) -> tuple[Page, params.Query, Collection, int]:
        collection, query, feed, limit = self._begin(req, resp, collection_id)
        start = query.start
        if query.offset and start is None:  # SikkerAPI CLI paging: skip objects
            skipped = feed.page(
                collection.selector, query.filters, None, query.added_after,
                query.offset,
            )  # fmt: skip
            if not skipped.more:
                return Page([], False, None), query, collection, feed.snapshot.sequence
            start = skipped.next
        page = feed.page(
            collection.selector, query.filters, start, query.added_after, limit
        )
        return page, query, collection, feed.snapshot.sequence

    def _envelope(
        self,
        req: falcon.Request,
        resp: falcon.Response,
        page: Page,
        query: params.Query,
        collection: Collection,
        sequence: int,
        item: Callable[[Entry], Any],
        field: str = "objects",
    ) -> None:
        principal.charge(req, "taxii", len(page.entries))
        document: dict[str, Any] = {"more": page.more}
        if page.more and page.next is not None:
            document["next"] = query.token(collection.id, sequence, page.next)
        if page.entries:
            document[field] = [item(entry) for entry in page.entries]
            _date_headers(resp, page.entries)
        _send(resp, document)


class ObjectsResource(_Keyed):
    """``GET .../collections/{id}/objects/``: a page of objects, oldest first."""

    def on_get(
        self, req: falcon.Request, resp: falcon.Response, collection_id: str
    ) -> None:
        """Answer an envelope of objects."""
        page, query, collection, sequence = self._page(req, resp, collection_id)
        self._envelope(req, resp, page, query, collection, sequence, lambda e: e.obj)

    def on_post(
        self, req: falcon.Request, resp: falcon.Response, collection_id: str
    ) -> None:
        """Refuse to add objects: 415 for a body not in TAXII JSON, else 403."""
        _collection(collection_id)
        if not taxii_content_type(req.content_type):
            raise falcon.HTTPUnsupportedMediaType(
                description=f"objects are posted as {MEDIA_TYPE} "
                f"(got {req.content_type!r})"
            )
        _read_only(collection_id)


class ManifestResource(_Keyed):
    """``GET .../collections/{id}/manifest/``: ids, versions and dates added."""

    def on_get(
        self, req: falcon.Request, resp: falcon.Response, collection_id: str
    ) -> None:
        """Answer a page of manifest records."""
        page, query, collection, sequence = self._page(req, resp, collection_id)
        self._envelope(req, resp, page, query, collection, sequence, _manifest_item)


class ObjectResource(_Keyed):
    """``GET .../objects/{object_id}/``: one object, by STIX id or by IP.

    Given an IP address (SikkerAPI's form), the answer holds that IP's
    indicator and its relationships.
    """

    def on_get(
        self,
        req: falcon.Request,
        resp: falcon.Response,
        collection_id: str,
        object_id: str,
    ) -> None:
        """Answer an envelope with the object (404 when it is not there)."""
        collection, query, feed, limit = self._begin(req, resp, collection_id)
        entries = _lookup(feed, collection, object_id)
        page = _paged(entries, query, limit)
        self._envelope(
            req, resp, page, query, collection, feed.snapshot.sequence,
            lambda e: e.obj,
        )  # fmt: skip

    def on_delete(
        self,
        req: falcon.Request,
        resp: falcon.Response,
        collection_id: str,
        object_id: str,
    ) -> None:
        """Refuse to delete: the collection is read-only."""
        _collection(collection_id)
        _read_only(collection_id)


class VersionsResource(_Keyed):
    """``GET .../objects/{object_id}/versions/``: the versions served."""

    def on_get(
        self,
        req: falcon.Request,
        resp: falcon.Response,
        collection_id: str,
        object_id: str,
    ) -> None:
        """Answer the versions of one object (only the current one is kept)."""
        collection, query, feed, limit = self._begin(req, resp, collection_id)
        entries = _lookup(feed, collection, object_id)[:1]
        page = _paged(entries, query, limit)
        self._envelope(
            req, resp, page, query, collection, feed.snapshot.sequence,
            lambda e: e.version, field="versions",
        )  # fmt: skip


def _lookup(feed: Feed, collection: Collection, object_id: str) -> list[Entry]:
    """Return the entries of an id or IP, or raise a 404."""
    if "--" in object_id:
        entry = feed.object(collection.selector, object_id)
        entries = [entry] if entry is not None else []
    else:
        try:
            entries = feed.ip_objects(collection.selector, object_id)
        except InvalidAddressError:
            raise falcon.HTTPNotFound(
                title="not found",
                description=f"{object_id!r} is neither a STIX id nor an IP address",
            ) from None
    if not entries:
        raise falcon.HTTPNotFound(
            title="not found",
            description=f"{object_id} is not in collection {collection.id}",
        )
    return entries


def _paged(entries: list[Entry], query: params.Query, limit: int) -> Page:
    """Apply filters, ``added_after``, ``next`` and ``limit`` to a few entries."""
    begin = query.start or Position(0, b"", 0)
    chosen = [
        e
        for e in entries
        if e.position >= begin
        and (query.added_after is None or e.added > query.added_after)
        and query.filters.accepts(e.obj, e.version)
        and not query.filters.nothing
    ][query.offset :]
    if len(chosen) > limit:
        return Page(chosen[:limit], True, chosen[limit].position)
    return Page(chosen, False, None)


def _manifest_item(entry: Entry) -> dict[str, Any]:
    return {
        "id": entry.obj["id"],
        "date_added": stix_time(entry.added),
        "version": object_version(entry.obj),
        "media_type": "application/stix+json;version=2.1",
    }


def _date_headers(resp: falcon.Response, entries: list[Entry]) -> None:
    resp.set_header("X-TAXII-Date-Added-First", stix_time(entries[0].added))
    resp.set_header("X-TAXII-Date-Added-Last", stix_time(entries[-1].added))


def _affordable(req: falcon.Request, limit: int) -> int:
    """Return ``limit`` cut to what is left of the caller's taxii quota."""
    remaining = getattr(req.context, "remaining", None)
    if remaining is None:
        return limit
    left = int(remaining("taxii"))
    if left <= 0:
        principal.charge(req, "taxii", 1)  # raises the 429
    return max(1, min(limit, left))


def _read_only(collection_id: str) -> None:
    raise falcon.HTTPForbidden(
        title="forbidden",
        description=f"collection {collection_id} is read-only (can_write: false)",
    )
