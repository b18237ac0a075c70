"""orjson-backed JSON media handlers for Falcon."""

import falcon
import orjson
from falcon import media


def json_handlers() -> dict[str, media.BaseHandler]:
    """Return media handlers that use orjson for application/json."""
    handler = media.JSONHandler(
        dumps=lambda obj: orjson.dumps(obj).decode(), loads=orjson.loads
    )
    return {falcon.MEDIA_JSON: handler}
