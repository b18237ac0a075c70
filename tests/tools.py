"""Helpers of the real-tool tests: tool lookup, network namespaces, a receiver.

A test that needs a tool (or root) skips with the reason when it is missing,
except in CI (``CI=true``), where ``scripts/setup --test`` installs every tool
and a missing one fails the test instead.
"""

import http.server
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from sikker.core.twins import truthy
from tests.factories import api_key, build

ROOT = Path(__file__).resolve().parent.parent


def _unavailable(reason: str) -> None:
    if truthy(os.environ.get("CI")):
        pytest.fail(f"{reason} (CI=true: scripts/setup --test provides it)")
    pytest.skip(reason)


def need_tool(name: str) -> str:
    """Return the path of a command, or skip (fail in CI) when it is missing."""
    path = shutil.which(name) or next(
        (
            str(Path(d) / name)
            for d in ("/usr/sbin", "/sbin")
            if (Path(d) / name).is_file()
        ),
        None,
    )
    if path is None:
        _unavailable(f"{name} is not installed (Debian: scripts/setup --test)")
    assert path is not None
    return path


def need_root() -> None:
    """Skip (fail in CI) unless running as root."""
    if os.geteuid() != 0:
        _unavailable("needs root (network namespaces, firewall sets)")


def run(*args: str, check: bool = True, **kwargs: Any) -> subprocess.CompletedProcess:
    """Run a command with text output captured; by default assert it succeeded."""
    result = subprocess.run(args, capture_output=True, text=True, timeout=120, **kwargs)
    if check:
        assert result.returncode == 0, (
            f"{' '.join(args)} exited {result.returncode}:\n"
            f"{result.stdout}\n{result.stderr}"
        )
    return result


@contextmanager
def netns() -> Iterator[str]:
    """Create a network namespace with loopback up; yield its name."""
    need_root()
    ip = need_tool("ip")
    name = f"sikker-test-{uuid.uuid4().hex[:8]}"
    run(ip, "netns", "add", name)
    try:
        run(ip, "netns", "exec", name, ip, "link", "set", "lo", "up")
        yield name
    finally:
        run(ip, "netns", "delete", name, check=False)


def in_ns(ns: str, *args: str, check: bool = True, **kwargs: Any):  # type: ignore[no-untyped-def]
    """Run a command inside network namespace ``ns``."""
    return run(need_tool("ip"), "netns", "exec", ns, *args, check=check, **kwargs)


_HEALTHY = (
    "import sys, urllib.request\n"
    "try:\n"
    "    urllib.request.urlopen(sys.argv[1] + '/healthz', timeout=2)\n"
    "except Exception:\n"
    "    sys.exit(1)\n"
)


@contextmanager
def sikker_server(data: Path, ns: str | None = None) -> Iterator[str]:
    """Run `sikker serve` on ``data`` (inside netns ``ns`` when given) on
    127.0.0.1; yield its base URL once it answers /healthz."""
    port = 8080 if ns else _free_port()
    base = f"http://127.0.0.1:{port}"
    prefix = [need_tool("ip"), "netns", "exec", ns] if ns else []
    log = (data / "server.log").open("w")
    env = {**os.environ, "SIKKER_SNAPSHOT_CHECK_INTERVAL": "0", "SIKKER_ACCESS_LOG": ""}
    proc = subprocess.Popen(
        [*prefix, sys.executable, "-m", "sikker.cli", "--data-dir", str(data),
         "serve", "--bind", f"127.0.0.1:{port}", "--workers", "1"],
        env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        probe = [*prefix, sys.executable, "-c", _HEALTHY, base]
        while subprocess.run(probe, capture_output=True).returncode != 0:
            assert proc.poll() is None, (data / "server.log").read_text()
            assert time.monotonic() < deadline, "sikker did not become healthy"
            time.sleep(0.2)
        yield base
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
        log.close()


@contextmanager
def sikker_site(data: Path) -> Iterator[tuple[str, str]]:
    """Publish the factory records in ``data``, make an API key and serve
    them with :func:`sikker_server`; yield (base URL, key)."""
    build(data)
    key = api_key(data)
    with sikker_server(data) as base:
        yield base, key


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Receiver:
    """What a loopback receiver has been sent."""

    url: str
    requests: list[dict[str, Any]] = field(default_factory=list)
    arrived: threading.Event = field(default_factory=threading.Event)


@contextmanager
def receiver(status: int = 200) -> Iterator[Receiver]:
    """Serve POSTs on 127.0.0.1 like ``/v1/key/report``; record each one."""
    got = Receiver(url="")

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            got.requests.append(
                {
                    "path": self.path,
                    "headers": dict(self.headers),
                    "body": json.loads(body or b"null"),
                }
            )
            answer = {"success": status < 400}
            if status >= 400:
                answer["error"] = "refused by the test receiver"
            data = json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
            got.arrived.set()

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    got.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    try:
        yield got
    finally:
        server.shutdown()
        server.server_close()
