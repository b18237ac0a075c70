"""A throwaway ``redis-server`` on loopback for tests and benchmarks.

It listens on 127.0.0.1 at a free port, keeps its files in a temporary
directory and persists nothing (no RDB snapshots, no AOF). It can be
stopped and started again on the same port, to play a Redis outage.
"""

import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import redis


def free_port() -> int:
    """Return a loopback port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class RedisServer:
    """One ``redis-server`` process (see the module docstring)."""

    def __init__(self, directory: Path, binary: str = "redis-server") -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.binary = shutil.which(binary) or binary
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, seconds: float = 10) -> None:
        """Start the server and wait until it answers PING."""
        argv = [self.binary, "--bind", "127.0.0.1", "--port", str(self.port),
                "--save", "", "--appendonly", "no", "--dir", str(self.directory),
                "--logfile", str(self.directory / "redis.log")]  # fmt: skip
        self.proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL)
        client = redis.Redis(host="127.0.0.1", port=self.port, socket_timeout=1)
        deadline = time.monotonic() + seconds
        try:
            while True:
                try:
                    client.ping()
                    return
                except redis.ConnectionError:
                    if self.proc.poll() is not None or time.monotonic() > deadline:
                        log = self.directory / "redis.log"
                        text = log.read_text() if log.exists() else ""
                        raise RuntimeError(
                            f"redis-server did not start: {text[-800:]}"
                        ) from None
                    time.sleep(0.02)
        finally:
            client.close()

    def stop(self, sig: int = signal.SIGKILL) -> None:
        """Stop the server (killed by default: an outage, not a shutdown)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(sig)
            self.proc.wait(timeout=10)
        self.proc = None

    def client(self) -> redis.Redis:
        """Return a new client of this server."""
        return redis.Redis(host="127.0.0.1", port=self.port, socket_timeout=5)


@contextmanager
def redis_server(directory: Path) -> Iterator[RedisServer]:
    """Run a :class:`RedisServer` in ``directory`` for the ``with`` block."""
    server = RedisServer(directory)
    server.start()
    try:
        yield server
    finally:
        server.stop()
