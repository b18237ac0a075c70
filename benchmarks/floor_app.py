"""The HTTP benchmark's floor: a minimal Falcon app under sikker's gunicorn.

It answers ``GET /v1/key/check/{ip}`` with a fixed JSON body (the bytes of a
real check answer, read from ``--body``) and ``GET /healthz``, and runs with
the very gunicorn settings ``sikker serve`` uses (``gunicorn_options``), so
the difference from the real server is what a check costs beyond Falcon and
gunicorn themselves.

Usage: ``python -m benchmarks.floor_app --bind HOST:PORT --workers N --body FILE``
"""

import argparse
from pathlib import Path
from typing import Any

import falcon
from gunicorn.app.base import BaseApplication

from sikker.core.config import load_config
from sikker.server.gunicorn_options import options


class FixedBody:
    """Answer every GET with the same JSON bytes."""

    def __init__(self, body: bytes) -> None:
        self.body = body

    def on_get(self, req: falcon.Request, resp: falcon.Response, **params: str) -> None:
        """Answer the fixed body."""
        resp.data = self.body
        resp.content_type = falcon.MEDIA_JSON


def floor_app(body: bytes) -> falcon.App:
    """Return the minimal app: check (fixed body) and health."""
    app = falcon.App()
    app.add_route("/v1/key/check/{ip}", FixedBody(body))
    app.add_route("/healthz", FixedBody(b'{"status":"ok"}'))
    return app


class _Gunicorn(BaseApplication):
    def __init__(self, settings: dict[str, Any], body: bytes) -> None:
        self.settings = settings
        self.body = body
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.settings.items():
            self.cfg.set(key, value)

    def load(self) -> falcon.App:
        return floor_app(self.body)


def main(argv: list[str] | None = None) -> None:
    """Serve the floor app with sikker's gunicorn options until interrupted."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bind", required=True)
    parser.add_argument("--workers", type=int, required=True)
    parser.add_argument("--body", type=Path, required=True)
    args = parser.parse_args(argv)
    config = load_config(overrides={"bind": args.bind, "workers": args.workers})
    _Gunicorn(options(config), args.body.read_bytes()).run()


if __name__ == "__main__":
    main()
