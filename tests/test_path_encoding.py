"""A path that is not UTF-8 once percent-decoded is a 400, never a lookup."""

import falcon
import falcon.testing
import orjson
import pytest

from sikker.core.config import load_config
from sikker.server import errors
from sikker.server.openapi import build as build_document
from sikker.server.path_encoding import Utf8Paths, undecodable


class Names:
    """Echo a path parameter, as a lookup by name would use it."""

    def on_get(self, req: falcon.Request, resp: falcon.Response, name: str) -> None:
        resp.media = {"name": name}


def tiny_app() -> falcon.App:
    app = falcon.App(middleware=[Utf8Paths()])
    errors.install(app)
    app.add_route("/names/{name}", Names())
    return app


def wsgi_get(app: falcon.App, path: bytes) -> tuple[int, dict]:
    """GET a path as a WSGI server hands it over: bytes tunnelled as latin-1.

    (falcon.testing would decode the escapes itself, bad bytes and all.)
    """
    environ = falcon.testing.create_environ(path="/")
    environ["PATH_INFO"] = path.decode("latin-1")
    start = falcon.testing.StartResponseMock()
    body = b"".join(app(environ, start))
    return int(start.status.split()[0]), orjson.loads(body)


@pytest.mark.parametrize(
    "path",
    [b"/names/\xff\xfe", b"/names/a\xc0\xaf", b"/names/\xed\xa0\x80", b"/names/\xc3"],
)
def test_a_routed_path_that_is_not_utf8_is_a_400_in_the_error_shape(
    path: bytes,
) -> None:
    status, body = wsgi_get(tiny_app(), path)
    assert (status, body["code"], body["status"]) == (400, "invalid_encoding", 400)
    assert "not UTF-8" in body["error"]


def test_an_unrouted_path_that_is_not_utf8_stays_a_404() -> None:
    assert wsgi_get(tiny_app(), b"/nowhere/\xff")[0] == 404


def test_a_utf8_path_reaches_the_resource_as_written() -> None:
    assert wsgi_get(tiny_app(), "/names/rødgrød".encode()) == (
        200,
        {"name": "rødgrød"},
    )


@pytest.mark.parametrize(
    ("path_info", "offset"),
    [
        ("/ascii/only", None),
        ("/caf\xc3\xa9", None),  # café, tunnelled as latin-1
        ("/\xff", 1),
        ("/ok/\xc3", 4),  # a truncated sequence
        ("/already/text/é€", None),  # not latin-1: a server that decoded it
    ],
)
def test_undecodable_finds_the_first_bad_byte(
    path_info: str, offset: int | None
) -> None:
    assert undecodable(path_info) == offset


def test_every_operation_with_a_path_parameter_documents_the_400() -> None:
    document = build_document(load_config(environ={}))
    missing = [
        f"{method.upper()} {path}"
        for path, item in document["paths"].items()
        if "{" in path
        for method, operation in item.items()
        if method in {"get", "post", "put", "patch", "delete"}
        and "invalid_encoding"
        not in operation["responses"].get("400", {}).get("description", "")
    ]
    assert missing == []
