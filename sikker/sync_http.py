"""How ``sikker sync`` asks the server: conditional GETs that keep 304 and 410.

:class:`HttpTransport` answers a :class:`Reply` for 200, 304 and 410 (the
protocol's own answers) and raises the client's typed errors for the rest:
:class:`~sikker.errors.ServerRefusedError` with the server's message,
:class:`~sikker.errors.ServerUnreachableError` when nothing answers. It never
follows a redirect (that could carry the key elsewhere).
"""

import http.client
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import urlencode

import orjson

from sikker import __version__
from sikker.client import no_redirect_opener
from sikker.errors import ServerRefusedError, ServerUnreachableError

#: The statuses the sync protocol answers with (the rest are errors).
PROTOCOL_STATUSES = (200, 304, 410)
USER_AGENT = f"sikker-sync/{__version__}"


@dataclass(frozen=True)
class Reply:
    """One answer: status, headers (lower-case names) and body."""

    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""

    def header(self, name: str) -> str | None:
        """Return a header's value (None when absent)."""
        return self.headers.get(name.lower())


class Transport(Protocol):
    """Sends the agent's GETs (HTTP, or a test client)."""

    base: str

    def get(self, path: str, params: Mapping[str, str], etag: str | None) -> Reply:
        """GET ``path`` with ``If-None-Match: etag`` when given."""
        ...


class HttpTransport:
    """GETs to one server with one key."""

    def __init__(self, base: str, key: str, timeout: float) -> None:
        self.base = base.rstrip("/")
        self.key = key
        self.timeout = timeout
        self._opener = no_redirect_opener()

    def get(self, path: str, params: Mapping[str, str], etag: str | None) -> Reply:
        """Return the answer to one GET (200, 304 or 410).

        Raises:
            ServerRefusedError: any other status, with the server's message.
            ServerUnreachableError: no (complete) answer.
        """
        url = f"{self.base}{path}?{urlencode(dict(params))}"
        headers = {
            "Authorization": f"Bearer {self.key}",
            "User-Agent": USER_AGENT,
            "Accept": "text/plain, application/json",
        }
        if etag:
            headers["If-None-Match"] = etag
        request = urllib.request.Request(url, headers=headers)
        try:
            with self._opener.open(request, timeout=self.timeout) as resp:
                return Reply(resp.status, _lower(resp.headers), resp.read())
        except urllib.error.HTTPError as ex:
            with ex:
                try:
                    body = ex.read()
                except (OSError, http.client.HTTPException):
                    body = b""
                reply = Reply(ex.code, _lower(ex.headers), body)
            return checked(reply)
        except (urllib.error.URLError, OSError, http.client.HTTPException) as ex:
            reason = getattr(ex, "reason", ex)
            raise ServerUnreachableError(
                f"cannot reach {self.base}: {reason or type(ex).__name__}"
            ) from None


def _lower(headers: Any) -> dict[str, str]:
    return {name.lower(): value for name, value in headers.items()}


def checked(reply: Reply) -> Reply:
    """Return a protocol answer (200, 304, 410); raise for any other.

    Raises:
        ServerRefusedError: with the server's own message and code.
    """
    if reply.status in PROTOCOL_STATUSES:
        return reply
    raise refusal(reply.status, reply.body, reply.header("Retry-After"))


def refusal(
    status: int, body: bytes, retry_after: str | None = None
) -> ServerRefusedError:
    """Return the error of a refused request, with the server's own message
    and code when its body is sikker's JSON error (and the wait of a 429)."""
    message, code = f"HTTP {status}", None
    try:
        doc = orjson.loads(body)
    except orjson.JSONDecodeError:
        doc = None
    if isinstance(doc, dict) and isinstance(doc.get("error"), str):
        message = f"{doc['error']} (HTTP {status})"
        code = doc.get("code") if isinstance(doc.get("code"), str) else None
    if status == 429 and retry_after:
        message += f"; retry in {retry_after} s"
    return ServerRefusedError(status, message, code)
