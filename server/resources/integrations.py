"""``GET /integrations`` and ``GET /integrations/{tool}/{name}``: the scripts.

The files of :mod:`sikker.integrations` (fail2ban action, report script,
update script, Suricata rules), read once at start and served as text to
anyone: they hold no secrets. Only the listed files exist; any other path
is a 404, so no request can reach another file.
"""

import falcon
import orjson

from sikker import integrations
from sikker.server.errors import respond

#: Served scripts are text, never something a browser should run or sniff.
TEXT = "text/plain; charset=utf-8"


class IntegrationFilesResource:
    """Serve the index and each file."""

    def __init__(self) -> None:
        self.files = integrations.load()
        self.index = orjson.dumps(
            {
                "files": [
                    {
                        "path": f.path,
                        "url": f"/integrations/{f.path}",
                        "description": f.description,
                        "bytes": len(f.data),
                        "sha256": f.sha256,
                    }
                    for f in self.files.values()
                ]
            }
        )

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        """Answer the list of files with their URLs, sizes and SHA-256."""
        resp.content_type = falcon.MEDIA_JSON
        resp.data = self.index
        resp.cache_control = ["public", "max-age=300"]

    def on_get_file(
        self, req: falcon.Request, resp: falcon.Response, tool: str, name: str
    ) -> None:
        """Answer one file as UTF-8 text (304 when the client's copy is current),
        or a 404 naming the index."""
        found = self.files.get(f"{tool}/{name}")
        if found is None:
            respond(
                resp,
                404,
                "not_found",
                f"no integration file {tool}/{name}; the files are listed at "
                "/integrations",
            )
            return
        resp.cache_control = ["public", "max-age=300"]
        resp.etag = f'"{found.sha256}"'
        resp.set_header("X-Content-Type-Options", "nosniff")
        if found.sha256 in (req.if_none_match or ()):
            resp.status = falcon.HTTP_304
            return
        resp.content_type = TEXT
        resp.data = found.data
