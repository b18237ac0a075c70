"""Where a read replica's primary is, and how to open a connection to it.

``replica_of`` is an ``http://`` or ``https://`` URL, optionally with a path
prefix when the primary is served below one (``https://intel.example.net/sikker``).
Credentials never go in the URL (the token is the setting ``replica_token``),
so :attr:`Primary.display` is safe to show in health checks and logs. HTTPS
connections verify the certificate against the system's CA store
(``SSL_CERT_FILE`` points OpenSSL at another bundle).
"""

import http.client
import ssl
from dataclasses import dataclass

from sikker.core.urls import split_http_url
from sikker.errors import ConfigError

WRITE_MODES = ("forward", "reject")


@dataclass(frozen=True)
class Primary:
    """The primary a replica follows: scheme, host, port and path prefix."""

    scheme: str
    host: str
    port: int
    prefix: str

    @classmethod
    def parse(cls, url: str, setting: str = "replica_of") -> "Primary":
        """Return the primary named by ``url``.

        Raises:
            ConfigError: not an http(s) URL with a host, or it holds
                credentials, a query or a fragment.
        """
        parts = split_http_url(url.strip(), setting, "http://10.0.0.5:8080")
        if parts.username is not None or parts.password is not None:
            raise ConfigError(
                f"{setting}: the URL must not hold credentials; put the replica "
                "token in the setting replica_token"
            )
        if parts.query or parts.fragment:
            raise ConfigError(f"{setting}: the URL must not have a query or fragment")
        default = 443 if parts.scheme == "https" else 80
        prefix = parts.path.rstrip("/")
        assert parts.hostname is not None  # split_http_url checked it
        return cls(parts.scheme, parts.hostname, parts.port or default, prefix)

    @property
    def display(self) -> str:
        """Return the URL as configured, without credentials (safe to show)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        default = 443 if self.scheme == "https" else 80
        port = "" if self.port == default else f":{self.port}"
        return f"{self.scheme}://{host}{port}{self.prefix}"

    def connect(self, timeout: float) -> http.client.HTTPConnection:
        """Return a new (not yet connected) connection to the primary."""
        if self.scheme == "https":
            return http.client.HTTPSConnection(
                self.host, self.port, timeout=timeout,
                context=ssl.create_default_context(),
            )  # fmt: skip
        return http.client.HTTPConnection(self.host, self.port, timeout=timeout)


def write_mode(value: str) -> str:
    """Return the setting ``replica_writes`` checked.

    Raises:
        ConfigError: it is neither ``forward`` nor ``reject``.
    """
    if value not in WRITE_MODES:
        raise ConfigError(
            f"replica_writes: expected forward or reject, got {value[:80]!r}"
        )
    return value
