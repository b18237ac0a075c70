"""Every request body is capped before a resource reads it.

Falcon sets no limit on a body (falconry/falcon#1164) and gunicorn has no
such setting, so ``BodyLimit`` runs before every responder of a method that
carries a body. A ``Content-Length`` above the cap is refused at once (413);
a chunked body is read up to the cap plus one byte and refused if more
arrives. What fits is handed on as an ordinary ``Content-Length`` body held
in memory, so resources and Falcon's media handlers read it as usual.

The cap is the setting ``max_body_bytes`` unless the resource declares its
own ``max_body_bytes`` (sensor posts take ``sensor_max_body_bytes``).
"""

import io
from typing import Any

import falcon

#: Methods whose requests may carry a body the app reads.
BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_READ_SIZE = 64 * 1024


def read_capped(stream: Any, cap: int) -> bytes:
    """Return the stream's bytes, reading at most ``cap + 1`` of them."""
    chunks = []
    size = 0
    while size <= cap:
        chunk = stream.read(min(_READ_SIZE, cap + 1 - size))
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)


def too_large(cap: int, setting: str) -> falcon.HTTPContentTooLarge:
    """Return the 413 error for a body above ``cap`` bytes."""
    return falcon.HTTPContentTooLarge(
        title="payload too large",
        description=f"the body is larger than {cap} bytes (setting {setting}); "
        "split it into smaller requests",
    )


class BodyLimit:
    """Falcon middleware: refuse bodies above the cap, buffer the rest."""

    def __init__(self, cap: int) -> None:
        self.cap = cap

    def process_resource(
        self,
        req: falcon.Request,
        resp: falcon.Response,
        resource: object,
        params: dict[str, Any],
    ) -> None:
        """Cap the body of a routed request before its responder runs."""
        if resource is None or req.method not in BODY_METHODS:
            return
        cap = int(getattr(resource, "max_body_bytes", None) or self.cap)
        setting = getattr(resource, "max_body_setting", "max_body_bytes")
        length = req.content_length  # 400 for a malformed header
        if length is not None:
            if length > cap:
                raise too_large(cap, setting)
            stream: Any = req.bounded_stream
        elif req.env.get("wsgi.input_terminated"):  # chunked; the server ends it
            stream = req.stream
        else:  # neither a length nor a server-terminated stream: no body
            return
        data = read_capped(stream, cap)
        if len(data) > cap:
            raise too_large(cap, setting)
        body = io.BytesIO(data)
        req.env["wsgi.input"] = req.stream = body
        req.env["CONTENT_LENGTH"] = str(len(data))
        req.env.pop("HTTP_TRANSFER_ENCODING", None)
        req._bounded_stream = None  # rebuilt over the buffered body on first use
