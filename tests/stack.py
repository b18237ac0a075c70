"""The production shape on loopback: ``sikker serve`` behind the shipped nginx site.

:func:`gunicorn` runs the real server on a free 127.0.0.1 port with its
error log in a file (so a test can read it, and a chatty log never fills a
pipe). :func:`nginx` runs nginx with ``integrations/nginx/sikker-proxy.conf``
included as shipped, but for its two addresses, which point at free loopback
ports. :func:`raw` talks HTTP/1.1 over a plain socket, so a test can send
what no HTTP client would.
"""

import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from benchmarks.cluster import nginx_conf
from tests.test_gunicorn import free_port, wait_healthy
from tests.tools import ROOT, need_tool

SITE = ROOT / "integrations" / "nginx" / "sikker-proxy.conf"
SHIPPED_UPSTREAM = "server 127.0.0.1:8080;"
SHIPPED_LISTEN = "listen 80;"


@contextmanager
def gunicorn(data: Path, log: Path, **settings: str) -> Iterator[int]:
    """Run ``sikker serve`` (2 workers) on a free loopback port; yield the port."""
    port = free_port()
    env = dict(
        os.environ,
        SIKKER_SNAPSHOT_CHECK_INTERVAL="0",
        SIKKER_ACCESS_LOG="",
        **{f"SIKKER_{name.upper()}": value for name, value in settings.items()},
    )
    with log.open("w") as errors:
        proc = subprocess.Popen(
            [sys.executable, "-m", "sikker.cli", "--data-dir", str(data), "serve",
             "--bind", f"127.0.0.1:{port}", "--workers", "2"],
            env=env, stderr=errors,
        )  # fmt: skip
        try:
            wait_healthy(f"http://127.0.0.1:{port}", proc)
            yield port
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=30)


def site(upstream: int, listen: int, **overrides: str) -> str:
    """Return the shipped site with its two addresses (and ``overrides``) replaced.

    ``overrides`` maps a directive to its new value, e.g.
    ``client_header_timeout="2s"``.
    """
    text = SITE.read_text()
    assert SHIPPED_UPSTREAM in text and SHIPPED_LISTEN in text
    text = text.replace(SHIPPED_UPSTREAM, f"server 127.0.0.1:{upstream};")
    text = text.replace(SHIPPED_LISTEN, f"listen 127.0.0.1:{listen};")
    for directive, value in overrides.items():
        lines = [
            line for line in text.splitlines() if line.strip().startswith(directive)
        ]
        assert len(lines) == 1, directive
        text = text.replace(lines[0], f"    {directive} {value};")
    return text


@contextmanager
def nginx(tmp: Path, upstream: int, **overrides: str) -> Iterator[int]:
    """Run nginx with the shipped site in front of ``upstream``; yield its port."""
    binary = need_tool("nginx")
    tmp.mkdir(parents=True, exist_ok=True)
    port = free_port()
    (tmp / "site.conf").write_text(site(upstream, port, **overrides))
    conf = nginx_conf(tmp, f"include {tmp}/site.conf;")
    proc = subprocess.Popen(
        [binary, "-c", str(conf)], stderr=subprocess.PIPE, text=True
    )
    try:
        wait_healthy(f"http://127.0.0.1:{port}", proc)
        yield port
    finally:
        proc.send_signal(signal.SIGQUIT)  # graceful: finish what is in flight
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def raw(port: int, request: bytes, timeout: float = 20) -> bytes:
    """Send ``request`` to 127.0.0.1:``port``; return all it answers until close."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        try:
            sock.sendall(request)
            sock.shutdown(socket.SHUT_WR)
        except (BrokenPipeError, ConnectionResetError):
            pass  # answered and closed before it read everything: read the answer
        chunks = []
        try:
            while chunk := sock.recv(65536):
                chunks.append(chunk)
        except ConnectionResetError:
            pass
    return b"".join(chunks)


def answer(data: bytes) -> tuple[int, dict[str, str], bytes]:
    """Split a raw HTTP/1.1 answer into (status, headers, body); dechunk the body."""
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    if headers.get("transfer-encoding") == "chunked":
        body = _dechunk(body)
    return status, headers, body


def _dechunk(body: bytes) -> bytes:
    out = []
    while body:
        size_line, _, rest = body.partition(b"\r\n")
        size = int(size_line.split(b";")[0], 16)
        if size == 0:
            break
        out.append(rest[:size])
        body = rest[size + 2 :]
    return b"".join(out)
