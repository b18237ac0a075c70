"""``GET /openapi.json``: the OpenAPI 3.1 document of this server."""

import falcon
import orjson

from sikker.core.config import Config
from sikker.server.openapi import build


class OpenApiResource:
    """Serve the document, built once from the server's settings."""

    def __init__(self, config: Config) -> None:
        self.body = orjson.dumps(build(config))

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        """Answer the document."""
        resp.data = self.body
        resp.content_type = falcon.MEDIA_JSON
        resp.cache_control = ["public", "max-age=300"]
