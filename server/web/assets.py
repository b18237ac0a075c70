"""The site's static files (CSS, JavaScript, icon), served by sikker itself.

They ship inside the package (``server/web/static``) and are read once per
process. Pages link them as ``/static/<name>?v=<digest>``, so a browser may
keep them for a year and still fetches a changed file at once.
"""

import hashlib
from importlib import resources

import falcon

TYPES = {
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".svg": "image/svg+xml",
}


class Assets:
    """Every static file: name -> (bytes, content type, digest)."""

    def __init__(self) -> None:
        self.files: dict[str, tuple[bytes, str, str]] = {}
        folder = resources.files("sikker.server.web").joinpath("static")
        for entry in folder.iterdir():
            suffix = "." + entry.name.rpartition(".")[2]
            if entry.is_file() and suffix in TYPES:
                data = entry.read_bytes()
                digest = hashlib.sha256(data).hexdigest()[:12]
                self.files[entry.name] = (data, TYPES[suffix], digest)

    def url(self, name: str) -> str:
        """Return the versioned URL of a static file."""
        return f"/static/{name}?v={self.files[name][2]}"


class StaticResource:
    """``GET /static/{name}``: one static file, cacheable."""

    web_page = True

    def __init__(self, assets: Assets) -> None:
        self.assets = assets

    def on_get(self, req: falcon.Request, resp: falcon.Response, name: str) -> None:
        """Answer the file, or 304 when the browser's copy is current."""
        found = self.assets.files.get(name)
        if found is None:
            raise falcon.HTTPNotFound(
                title="not found", description=f"no static file {name[:60]!r}"
            )
        data, content_type, digest = found
        resp.etag = digest
        resp.cache_control = ["public", "max-age=31536000", "immutable"]
        resp.set_header("X-Content-Type-Options", "nosniff")
        if digest in (req.if_none_match or ()):
            resp.status = falcon.HTTP_304
            return
        resp.content_type = content_type
        resp.data = data
