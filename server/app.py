"""The Falcon application: ``create_app`` (injected) and ``get_app`` (env).

gunicorn loads ``sikker.server.app:get_app()``. Neither function opens a
snapshot: LMDB must be opened in each worker after fork, so the store opens
lazily on the first request (the gunicorn config warms it up per worker).
"""

from collections.abc import Callable, Iterable
from typing import Any

import falcon
from falcon import media

from sikker.core.config import Config, load_config
from sikker.core.store import SnapshotStore
from sikker.server import errors, taxii
from sikker.server.auth import KeyedRequest
from sikker.server.body_limit import BodyLimit
from sikker.server.check_lane import CheckLane
from sikker.server.community import install as install_community
from sikker.server.keyed import Keyed
from sikker.server.keyed import install as install_keyed
from sikker.server.media import json_handlers
from sikker.server.metrics import install as install_metrics
from sikker.server.metrics_middleware import RequestMetrics
from sikker.server.path_encoding import Utf8Paths
from sikker.server.replica_health import health_section
from sikker.server.replica_routes import install as install_replica
from sikker.server.replica_routes import install_writes as install_replica_writes
from sikker.server.resources.blacklist import BlacklistResource
from sikker.server.resources.check import CheckResource
from sikker.server.resources.health import HealthResource
from sikker.server.resources.integrations import IntegrationFilesResource
from sikker.server.resources.intel import IntelResource
from sikker.server.resources.openapi import OpenApiResource
from sikker.server.resources.sensor import SensorEventsResource
from sikker.server.router import CHECK_TEMPLATE, CheckFirstRouter
from sikker.server.sync_routes import install as install_sync
from sikker.server.web import install as install_web
from sikker.server.web.site import Site


class SikkerApp(falcon.App):
    """A Falcon app that also carries its snapshot store and settings.

    A plain keyed check is answered by :attr:`check_lane` before Falcon
    builds a request; everything else goes through Falcon.
    """

    store: SnapshotStore
    config: Config
    keyed: Keyed
    metrics: RequestMetrics
    web: Site
    check_lane: CheckLane | None = None

    def __call__(
        self, env: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        """Answer one WSGI request."""
        lane = self.check_lane
        if lane is not None:
            answer = lane(env, start_response)
            if answer is not None:
                return answer
        return super().__call__(env, start_response)


def create_app(config: Config, store: SnapshotStore | None = None) -> SikkerApp:
    """Return the WSGI app serving ``store`` (default: config.data_dir)."""
    store = store or SnapshotStore(config.data_path, config.snapshot_check_interval)
    app = SikkerApp(
        middleware=[Utf8Paths(), BodyLimit(config.max_body_bytes)],
        router=CheckFirstRouter(),
        request_type=KeyedRequest,
    )
    app.store = store
    app.config = config
    app.req_options.strip_url_path_trailing_slash = True
    app.resp_options.media_handlers.update(json_handlers())
    # JSON only: any other Content-Type on a JSON endpoint is a 415.
    app.req_options.media_handlers = media.Handlers(json_handlers())
    errors.install(app)
    app.metrics = install_metrics(app, config, store)  # first: it times and counts
    install_replica_writes(app, config)  # before keys: the primary checks those
    app.keyed = install_keyed(app, config)
    app.add_route(CHECK_TEMPLATE, CheckResource(store))
    app.add_route("/v1/key/blacklist", BlacklistResource(store, config))
    app.add_route("/v1/key/username/{username}", IntelResource(store, "username"))
    app.add_route("/v1/key/email/{email}", IntelResource(store, "email"))
    app.add_route("/v1/sensor/events", SensorEventsResource(config))
    app.add_route("/healthz", HealthResource(store, health_section(config)))
    app.add_route("/openapi.json", OpenApiResource(config))
    files = IntegrationFilesResource()
    app.add_route("/integrations", files)
    app.add_route("/integrations/{tool}/{name}", files, suffix="file")
    install_community(app, config, store)
    install_sync(app, config, store)
    install_replica(app, config, store, app.keyed.service)
    taxii.install(app, store, config, app.keyed.auth.authenticate)
    app.web = install_web(app, config, store)  # last: it uses the accounts
    app.check_lane = CheckLane(store, app.keyed.auth, app.metrics)
    return app


def get_app() -> SikkerApp:
    """Return the app configured from ``SIKKER_*`` and the config file."""
    return create_app(load_config())
