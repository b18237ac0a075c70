"""The status code of a Falcon response, cheaply.

``Response.status_code`` normalises whatever ``status`` holds (an int, an
``HTTPStatus``, a status line) on every access; middleware reads it for
every request, and most answers carry Falcon's default ``"200 OK"``.
"""

import falcon


def status_code(resp: falcon.Response) -> int:
    """Return ``resp.status_code`` (PERF: without normalising the usual forms)."""
    status = resp.status
    if status.__class__ is int:
        return status
    if status == "200 OK":
        return 200
    return resp.status_code
