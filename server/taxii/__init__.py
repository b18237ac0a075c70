"""TAXII 2.1 server: read-only collections of STIX 2.1 IP indicators.

:func:`install` adds the media-type middleware and the routes, under the
API root ``/taxii2/api/`` and again under SikkerAPI's shorter paths
(``/taxii2/collections/...``). See docs/taxii.md.
"""

from typing import Any

import falcon

from sikker.core.config import Config
from sikker.core.stix_order import IndexBuilding
from sikker.core.store import SnapshotStore
from sikker.server.errors import respond
from sikker.server.taxii.media import TaxiiMedia
from sikker.server.taxii.resources import (
    ApiRootResource,
    Authenticate,
    CollectionResource,
    CollectionsResource,
    DiscoveryResource,
    ManifestResource,
    ObjectResource,
    ObjectsResource,
    VersionsResource,
)

#: Where the collections live: the API root, and SikkerAPI's shorter form.
ROOTS = ("/taxii2/api", "/taxii2")


def install(
    app: falcon.App,
    store: SnapshotStore,
    config: Config,
    authenticate: Authenticate | None = None,
) -> None:
    """Add the TAXII routes; ``authenticate`` guards the object endpoints.

    Without ``authenticate`` (no accounts installed) objects are served to
    anyone and nothing is charged.
    """
    app.add_middleware(TaxiiMedia())
    app.add_error_handler(IndexBuilding, _index_building)
    app.add_route("/taxii2", DiscoveryResource())
    app.add_route("/taxii2/api", ApiRootResource(config))
    collections = CollectionsResource()
    collection = CollectionResource()
    objects = ObjectsResource(store, config, authenticate)
    one = ObjectResource(store, config, authenticate)
    versions = VersionsResource(store, config, authenticate)
    manifest = ManifestResource(store, config, authenticate)
    for root in ROOTS:
        base = f"{root}/collections"
        app.add_route(base, collections)
        app.add_route(base + "/{collection_id}", collection)
        app.add_route(base + "/{collection_id}/objects", objects)
        app.add_route(base + "/{collection_id}/objects/{object_id}", one)
        app.add_route(base + "/{collection_id}/objects/{object_id}/versions", versions)
        app.add_route(base + "/{collection_id}/manifest", manifest)


#: Seconds a client is asked to wait while a large index is built.
RETRY_AFTER = 5


def _index_building(
    req: falcon.Request, resp: falcon.Response, ex: IndexBuilding, params: Any
) -> None:
    respond(resp, 503, "index_building", str(ex))
    resp.set_header("Retry-After", str(RETRY_AFTER))
