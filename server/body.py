"""Read a request body without ever holding more than its cap."""

import falcon


def read_body(req: falcon.Request, cap: int, setting: str) -> bytes:
    """Return the body, or answer 413 when it is larger than ``cap`` bytes.

    ``setting`` names the setting that sets the cap, for the error message.
    """
    too_large = falcon.HTTPContentTooLarge(
        title="payload too large",
        description=f"the body is larger than {cap} bytes (setting {setting}); "
        "split it into smaller requests",
    )
    length = req.content_length
    if length is not None and length > cap:
        raise too_large
    data = req.bounded_stream.read(cap + 1)
    if len(data) > cap:
        raise too_large
    return data


def media_type(req: falcon.Request) -> str:
    """Return the request's media type, lower-cased, without parameters."""
    return (req.content_type or "").split(";")[0].strip().lower()
