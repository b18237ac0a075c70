"""A small HTTP client of the sikker API (standard library only).

:class:`Client` sends the key as ``Authorization: Bearer``, waits at most
``timeout`` seconds for each read, never follows a redirect (one could carry
the key to another host) and turns every failure into a typed error:
:class:`~sikker.errors.ServerUnreachableError` (no answer),
:class:`~sikker.errors.ServerRefusedError` (an HTTP error, with the server's
own message) or :class:`~sikker.errors.BadAnswerError`. Proxies follow the
usual ``https_proxy`` / ``no_proxy`` variables; ``SSL_CERT_FILE`` names a
private CA.
"""

import http.client
import socket
import ssl
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from email.message import Message
from typing import Any, BinaryIO
from urllib.parse import urlencode

import orjson

from sikker import __version__
from sikker.client_config import ClientSettings
from sikker.errors import BadAnswerError, ServerRefusedError, ServerUnreachableError

JSON = "application/json"
TAXII = "application/taxii+json;version=2.1"
USER_AGENT = f"sikker-cli/{__version__}"
#: Bytes of an error answer read at most (a message, not a document).
ERROR_BYTES = 64 * 1024
CHUNK = 64 * 1024
#: A body this large may be cut off by the server's size limit.
LARGE = 1024 * 1024


@dataclass(frozen=True)
class Answer:
    """A successful HTTP answer."""

    status: int
    headers: Message
    body: bytes

    def json(self) -> Any:
        """Return the body as JSON.

        Raises:
            BadAnswerError: the body is not JSON.
        """
        try:
            return orjson.loads(self.body)
        except orjson.JSONDecodeError:
            raise BadAnswerError(
                f"the server answered HTTP {self.status} with a body that is not "
                f"JSON ({self.headers.get('Content-Type') or 'no Content-Type'}); "
                "is the URL a sikker server?"
            ) from None


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None  # urllib then raises the 3xx as an HTTPError


def no_redirect_opener() -> urllib.request.OpenerDirector:
    """Return a urllib opener that never follows a redirect (it could carry
    the key to another host); a 3xx is raised as an ``HTTPError``."""
    return urllib.request.build_opener(_NoRedirect)


class Client:
    """Requests to one sikker server with one key."""

    JSON = JSON
    TAXII = TAXII

    def __init__(self, settings: ClientSettings) -> None:
        if settings.url is None:
            raise ValueError("a Client needs a URL")
        self.settings = settings
        self.base = settings.url
        self._opener = no_redirect_opener()

    def request(
        self,
        method: str,
        path: str,
        params: Mapping[str, Any] | None = None,
        body: bytes | None = None,
        content_type: str = JSON,
        accept: str = JSON,
    ) -> Answer:
        """Send a request; return the answer (2xx) or raise a typed error."""
        with self._open(method, path, params, body, content_type, accept) as resp:
            data = b"".join(self._chunks(resp))
            return Answer(resp.status, resp.headers, data)

    def get(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        """GET ``path``; return its JSON."""
        return self.request("GET", path, params).json()

    def send_json(self, method: str, path: str, document: Any) -> Any:
        """Send ``document`` as JSON with ``method``; return the answer's JSON."""
        return self.request(method, path, body=orjson.dumps(document)).json()

    def stream(
        self, path: str, params: Mapping[str, Any] | None, out: BinaryIO
    ) -> None:
        """GET ``path`` and copy the body to ``out`` as it arrives."""
        with self._open("GET", path, params, None, JSON, "*/*") as resp:
            for chunk in self._chunks(resp):
                out.write(chunk)  # outside the read guard: EPIPE is the reader's
        out.flush()

    def _open(
        self,
        method: str,
        path: str,
        params: Mapping[str, Any] | None,
        body: bytes | None,
        content_type: str,
        accept: str,
    ) -> http.client.HTTPResponse:
        query = {k: v for k, v in (params or {}).items() if v is not None}
        url = self.base + path + (f"?{urlencode(query, doseq=True)}" if query else "")
        headers = {"Accept": accept, "User-Agent": USER_AGENT}
        if self.settings.key:
            headers["Authorization"] = f"Bearer {self.settings.key}"
        if body is not None:
            headers["Content-Type"] = content_type
        req = urllib.request.Request(url, body, headers, method=method)
        try:
            resp: http.client.HTTPResponse = self._opener.open(
                req, timeout=self.settings.timeout
            )
        except urllib.error.HTTPError as ex:
            try:
                refused = self._refused(ex)
            finally:
                ex.close()
            raise refused from None
        except (urllib.error.URLError, OSError, http.client.HTTPException) as ex:
            raise self._unreachable(ex, len(body or b"")) from None
        return resp

    def _chunks(self, resp: http.client.HTTPResponse) -> Iterator[bytes]:
        while True:
            try:
                chunk = resp.read(CHUNK)
            except (OSError, http.client.HTTPException) as ex:
                raise self._unreachable(ex) from None
            if not chunk:
                return
            yield chunk

    def _unreachable(self, ex: BaseException, sent: int = 0) -> ServerUnreachableError:
        reason = getattr(ex, "reason", ex)
        if sent > LARGE and isinstance(reason, BrokenPipeError | ConnectionResetError):
            return ServerUnreachableError(
                f"{self.base} closed the connection while receiving "
                f"{sent / 2**20:,.1f} MiB: the body is probably larger than the "
                "server accepts (bulk_max_body_bytes, 16 MiB by default); "
                "split the file"
            )
        if isinstance(reason, TimeoutError | socket.timeout):
            why = f"no answer within {self.settings.timeout:g} s (--timeout)"
        elif isinstance(reason, ConnectionRefusedError):
            why = "connection refused (is the server running, on that port?)"
        elif isinstance(reason, socket.gaierror):
            why = f"unknown host ({reason.strerror})"
        elif isinstance(reason, ssl.SSLError):
            why = f"TLS failed: {reason} (SSL_CERT_FILE names a private CA)"
        elif isinstance(reason, http.client.HTTPException | ConnectionError):
            why = f"the connection broke ({type(reason).__name__}: {reason})"
        else:
            why = str(reason) or type(reason).__name__
        return ServerUnreachableError(f"cannot reach {self.base}: {why}")

    def _refused(self, ex: urllib.error.HTTPError) -> ServerRefusedError:
        status = ex.code
        if 300 <= status < 400:
            where = ex.headers.get("Location") or "elsewhere"
            return ServerRefusedError(
                status,
                f"the server redirects {self.base} to {where} (HTTP {status}); "
                "set the URL it names (--url, SIKKER_URL or the client config)",
            )
        try:
            body = ex.read(ERROR_BYTES)
        except (OSError, http.client.HTTPException):
            body = b""
        message, code = _message(body)
        if message is None:
            message = f"HTTP {status} {ex.reason}".rstrip()
            if code is None and body[:1] not in (b"", b"<"):
                message += f": {_printable(body[:200].decode('utf-8', 'replace'))}"
        else:
            message = f"{message} (HTTP {status}{f' {code}' if code else ''})"
        if status == 429 and ex.headers.get("Retry-After", "").isdigit():
            message += f"; retry in {_duration(int(ex.headers['Retry-After']))}"
        if status == 401:
            message += f"; check the API key (from {self.settings.source('key')})"
        return ServerRefusedError(status, message, code)


def _message(body: bytes) -> tuple[str | None, str | None]:
    """Return the message and code of a sikker or TAXII error document."""
    try:
        doc = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None, None
    if not isinstance(doc, dict):
        return None, None
    text = doc.get("error") or doc.get("description") or doc.get("title")
    code = doc.get("code") or doc.get("error_code")
    return (
        _printable(str(text)) if text else None,
        _printable(str(code)) if code else None,
    )


def _printable(text: str) -> str:
    """Return ``text`` without control characters (it goes to a terminal)."""
    return "".join(ch if ch.isprintable() else " " for ch in text).strip()


def _duration(seconds: int) -> str:
    hours, rest = divmod(seconds, 3600)
    return f"{hours}h {rest // 60}m" if hours else f"{rest // 60}m {rest % 60}s"
