"""A routed path must be UTF-8 once percent-decoded; anything else is a 400.

Falcon decodes a path's percent-escapes as UTF-8 and puts U+FFFD in place of
bytes that are not UTF-8, so ``/v1/key/username/%ff`` would look up the name
"\ufffd", the same as ``/v1/key/username/%ef%bf%bd``. ``Utf8Paths`` refuses
such a path instead (400 ``invalid_encoding``). It runs after routing, so a
path that no route serves stays a 404, and before any body is read.

Under PEP 3333 ``PATH_INFO`` holds the percent-decoded bytes, one character
each; a server that hands over decoded text instead (falcon.testing already
replaces bad bytes) is left alone.
"""

from typing import Any

import falcon

#: The error's title, hence its code (``invalid_encoding``).
TITLE = "invalid encoding"


def undecodable(path_info: str) -> int | None:
    """Return the offset of the first byte that is not UTF-8, or None."""
    if path_info.isascii():
        return None
    try:
        data = path_info.encode("latin-1")
    except UnicodeEncodeError:  # already text, not bytes tunnelled as latin-1
        return None
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as ex:
        return ex.start
    return None


class Utf8Paths:
    """Falcon middleware: see the module docstring."""

    def process_resource(
        self,
        req: falcon.Request,
        resp: falcon.Response,
        resource: object,
        params: dict[str, Any],
    ) -> None:
        """Refuse a routed request whose path is not UTF-8."""
        path = req.env.get("PATH_INFO", "")
        if resource is None or path.isascii():  # PERF: nearly every path
            return
        offset = undecodable(path)
        if offset is not None:
            raise falcon.HTTPBadRequest(
                title=TITLE,
                description=f"the path is not UTF-8 once percent-decoded (byte "
                f"{offset}); percent-encode non-ASCII characters as UTF-8",
            )
