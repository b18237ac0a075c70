"""The shipped gunicorn setup: no control socket, bad HTTP never a 5xx."""

import socket
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest

from sikker.core.config import load_config
from sikker.server.gunicorn_options import options
from tests.factories import build
from tests.test_gunicorn import get, serving


@pytest.fixture
def hardened(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A real server whose HOME and XDG_RUNTIME_DIR are empty directories."""
    home, runtime = tmp_path / "home", tmp_path / "run"
    home.mkdir()
    runtime.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(runtime))
    build(tmp_path / "data")
    with serving(
        tmp_path / "data", max_body_bytes="4096", sensor_max_body_bytes="4096"
    ) as base:
        yield base


def raw(base: str, request: bytes) -> bytes:
    """Send raw bytes to the server and return everything it answers."""
    host, port = base.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(request)
        sock.shutdown(socket.SHUT_WR)  # nothing more is coming
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def status_of(answer: bytes) -> int:
    return int(answer.split(b" ", 2)[1])


def test_the_shipped_options_disable_the_control_socket() -> None:
    assert options(load_config(environ={}))["control_socket_disable"] is True


@pytest.mark.slow
def test_a_running_server_opens_no_control_socket(
    hardened: str, tmp_path: Path
) -> None:
    assert get(f"{hardened}/healthz")[0] == 200
    left = [p for p in tmp_path.rglob("*") if p.is_socket() or p.name.endswith(".ctl")]
    assert left == []


@pytest.mark.slow
@pytest.mark.parametrize(
    "request_bytes",
    [
        b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
        b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Bad: a\x01b\r\n\r\n",
        b"GET /healthz HTTP/1.1\r\n" + b"X-A: b\r\n" * 200 + b"Host: x\r\n\r\n",
        b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 9000 + b"\r\n\r\n",
        b"POST /v1/sensor/events HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        b"POST /v1/sensor/events HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
        b"Content-Length: 7\r\n\r\nabcde",
        b"POST /v1/sensor/events HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n",
        b"GET /\xff\xfe HTTP/1.1\r\nHost: x\r\n\r\n",
        b"BREW /healthz HTTP/1.1\r\nHost: x\r\n\r\n",
        b"GET /healthz HTTP/9.9\r\nHost: x\r\n\r\n",
        b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + b"\x00" * 64,
    ],
    ids=[
        "long-request-line",
        "control-char-header",
        "too-many-headers",
        "huge-header",
        "cl-and-te",
        "two-content-lengths",
        "negative-length",
        "non-utf8-path",
        "unknown-method",
        "bad-version",
        "tls-handshake",
    ],
)
def test_malformed_http_is_refused_without_a_5xx_or_traceback(
    hardened: str, request_bytes: bytes
) -> None:
    answer = raw(hardened, request_bytes)
    if answer:  # gunicorn may also just close the connection
        assert 400 <= status_of(answer) < 500, answer[:300]
        assert b"Traceback" not in answer and b'File "' not in answer
    assert get(f"{hardened}/healthz")[0] == 200


@pytest.mark.slow
def test_a_chunked_body_over_the_cap_is_413_in_the_error_shape(hardened: str) -> None:
    chunk = b"a" * 1000
    body = b"".join(b"%x\r\n%s\r\n" % (len(chunk), chunk) for _ in range(10))
    answer = raw(
        hardened,
        b"POST /v1/sensor/events HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
        b"Authorization: Bearer nope\r\nContent-Type: application/json\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n" + body + b"0\r\n\r\n",
    )
    assert status_of(answer) == 413, answer[:300]
    error = orjson.loads(answer.split(b"\r\n\r\n", 1)[1])
    assert (error["status"], error["code"]) == (413, "payload_too_large")
