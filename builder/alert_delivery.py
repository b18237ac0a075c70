"""Deliver alert matches to their webhooks, with retries and backoff.

The deliverer claims due deliveries from the alert store (a lease, so
several deliverers never send the same one at once), POSTs each match as
JSON, and records the outcome: done on a 2xx answer, otherwise retried
after ``webhook_retry_seconds`` doubling per attempt (at most an hour) until
``webhook_max_attempts``, then marked failed. It runs as a thread of
``sikker build --follow`` or as ``sikker alerts deliver``.

Each request goes to the address the host resolved to and was checked
against (no redirects are followed), so a webhook cannot be pointed at a
private address unless the setting ``webhook_allow_private`` is on.
"""

import http.client
import logging
import socket
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from sikker import __version__
from sikker.core.alerts import AlertStore, private_host
from sikker.core.config import Config

log = logging.getLogger("sikker.alerts")
#: Longest wait between two attempts (seconds).
MAX_BACKOFF = 3600.0
#: Deliveries claimed per round.
BATCH = 50

Sender = Callable[[str, bytes, dict[str, str]], str | None]


@dataclass
class Deliverer:
    """Sends due webhook deliveries of one alert store."""

    store: AlertStore
    timeout: float = 5.0
    max_attempts: int = 8
    retry_seconds: float = 10.0
    allow_private: bool = False
    clock: Callable[[], float] = time.time
    sender: Sender | None = None

    @classmethod
    def from_config(cls, store: AlertStore, config: Config) -> "Deliverer":
        """Return a deliverer with the settings' timeout, attempts and backoff."""
        return cls(
            store,
            timeout=float(config.webhook_timeout),
            max_attempts=int(config.webhook_max_attempts),
            retry_seconds=float(config.webhook_retry_seconds),
            allow_private=bool(config.webhook_allow_private),
        )

    def run_once(self) -> int:
        """Attempt every due delivery once; return how many were attempted."""
        items = self.store.claim(self.clock(), self.timeout + 5, BATCH)
        for item in items:
            headers = {
                "Content-Type": "application/json",
                "User-Agent": f"sikker/{__version__} (alert webhook)",
                "X-Sikker-Delivery": str(item["id"]),
                "X-Sikker-Attempt": str(item["attempts"] + 1),
            }
            if item["signature"]:
                headers["X-Sikker-Signature"] = item["signature"]
            send = self.sender or self.post
            error = send(item["url"], item["body"], headers)
            attempts = item["attempts"] + 1
            retry_at = None
            if error is not None and attempts < self.max_attempts:
                delay = min(self.retry_seconds * 2 ** (attempts - 1), MAX_BACKOFF)
                retry_at = self.clock() + delay
            if error is not None:
                log.warning(
                    "webhook %s for match %s failed (attempt %d): %s",
                    _host(item["url"]),
                    item["id"],
                    attempts,
                    error,
                )
            self.store.delivered(item["id"], error is None, error, retry_at)
        return len(items)

    def follow(self, stop: threading.Event, interval: float) -> None:
        """Deliver until ``stop`` is set, waiting ``interval`` when idle."""
        while not stop.is_set():
            try:
                busy = self.run_once()
            except Exception:
                log.exception("webhook delivery round failed")
                busy = 0
            if not busy:
                stop.wait(interval)

    def post(self, url: str, body: bytes, headers: dict[str, str]) -> str | None:
        """POST ``body`` to ``url``; return None on a 2xx answer, else why not."""
        parts = urlsplit(url)
        host = parts.hostname or ""
        https = parts.scheme.lower() == "https"
        port = parts.port or (443 if https else 80)
        try:
            address = self._resolve(host, port)
            connection = _connection(https, host, address, port, self.timeout)
            path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
            try:
                connection.request("POST", path, body, headers)
                response = connection.getresponse()
                response.read(64 * 1024)
            finally:
                connection.close()
        except (OSError, http.client.HTTPException, ValueError) as ex:
            return f"{type(ex).__name__}: {ex}"
        if 200 <= response.status < 300:
            return None
        return f"HTTP {response.status} {response.reason}"

    def _resolve(self, host: str, port: int) -> str:
        """Return the address to connect to, refusing private ones."""
        infos = socket.getaddrinfo(host.strip("[]"), port, type=socket.SOCK_STREAM)
        addresses = [str(info[4][0]) for info in infos]
        if not self.allow_private:
            for address in addresses:
                reason = private_host(address)
                if reason:
                    raise ValueError(
                        f"{host} resolves to {reason}; refused "
                        "(setting webhook_allow_private)"
                    )
        return addresses[0]


class _PinnedHTTP(http.client.HTTPConnection):
    """An HTTP connection to a given address, whatever the host resolves to."""

    def __init__(self, host: str, address: str, port: int, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self._address = address

    def connect(self) -> None:
        """Connect to the pinned address."""
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPS(http.client.HTTPSConnection):
    """An HTTPS connection to a given address, verified for the host name."""

    def __init__(self, host: str, address: str, port: int, timeout: float) -> None:
        super().__init__(
            host, port, timeout=timeout, context=ssl.create_default_context()
        )
        self._address = address

    def connect(self) -> None:
        """Connect to the pinned address and verify the host's certificate."""
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)  # type: ignore[attr-defined]


def _connection(https: bool, host: str, address: str, port: int, timeout: float) -> Any:
    cls = _PinnedHTTPS if https else _PinnedHTTP
    return cls(host, address, port, timeout)


def _host(url: str) -> str:
    return urlsplit(url).hostname or "?"
