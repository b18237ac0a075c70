"""How a read replica asks its primary: token-authenticated GETs.

:class:`PrimaryClient` answers JSON documents (200, or None for a 304) and
streams generation files into place while hashing them. Every refusal
raises :class:`~sikker.errors.ServerRefusedError` with the primary's own
message, and no answer :class:`~sikker.errors.ServerUnreachableError`;
redirects are never followed (they could carry the token elsewhere).
"""

import hashlib
import http.client
import os
from pathlib import Path
from typing import Any, BinaryIO
from urllib.parse import quote, urlencode

import orjson

from sikker import __version__
from sikker.core.primary import Primary
from sikker.errors import (
    ReplicaDigestError,
    ReplicaProtocolError,
    ServerUnreachableError,
)
from sikker.sync_http import refusal

USER_AGENT = f"sikker-replica/{__version__}"
CHUNK = 1 << 20
#: Largest JSON document taken from the primary (state, account directory).
MAX_DOCUMENT = 256 * 1024 * 1024


class PrimaryClient:
    """GETs to one primary with one replica token."""

    def __init__(self, primary: Primary, token: str, timeout: float) -> None:
        self.primary = primary
        self.token = token
        self.timeout = timeout

    def _open(
        self, path: str, params: dict[str, str] | None, etag: str | None
    ) -> tuple[http.client.HTTPConnection, http.client.HTTPResponse]:
        target = self.primary.prefix + quote(path)
        if params:
            target += "?" + urlencode(params)
        headers = {
            "Authorization": f"Bearer {self.token}",
            "User-Agent": USER_AGENT,
            "Accept": "application/json, application/octet-stream",
        }
        if etag:
            headers["If-None-Match"] = f'"{etag}"'
        conn = self.primary.connect(self.timeout)
        try:
            conn.request("GET", target, headers=headers)
            return conn, conn.getresponse()
        except (OSError, http.client.HTTPException) as ex:
            conn.close()
            raise self._unreachable(ex) from None

    def _unreachable(self, ex: BaseException) -> ServerUnreachableError:
        reason = str(ex) or type(ex).__name__
        return ServerUnreachableError(f"cannot reach {self.primary.display}: {reason}")

    def document(
        self,
        path: str,
        etag: str | None = None,
        params: dict[str, str] | None = None,
    ) -> tuple[dict[str, Any] | None, str | None]:
        """Return ``(document, etag)``; the document is None for a 304.

        Raises:
            ServerRefusedError, ServerUnreachableError, ReplicaProtocolError.
        """
        conn, answer = self._open(path, params, etag)
        try:
            body = self._read(answer, MAX_DOCUMENT)
        finally:
            conn.close()
        tag = (answer.getheader("ETag") or "").strip('"') or None
        if answer.status == 304:
            return None, tag or etag
        self._check(answer, body)
        try:
            doc = orjson.loads(body)
        except orjson.JSONDecodeError as ex:
            raise ReplicaProtocolError(
                f"{path}: the answer is not JSON: {ex}"
            ) from None
        if not isinstance(doc, dict):
            raise ReplicaProtocolError(f"{path}: the answer is not a JSON object")
        return doc, tag

    def download(
        self, generation: str, name: str, dest: Path, expected: dict[str, Any]
    ) -> int:
        """Write one generation file to ``dest``, checking its size and SHA-256.

        Returns the bytes received. Raises:
            ReplicaDigestError: the bytes are not the manifest's.
            ServerRefusedError, ServerUnreachableError.
        """
        conn, answer = self._open(
            f"/v1/replica/files/{generation}", {"path": name}, None
        )
        try:
            if answer.status != 200:
                self._check(answer, self._read(answer, 1 << 16))
            dest.parent.mkdir(parents=True, exist_ok=True)
            with open(dest, "wb") as fh:
                size, digest = self._copy(answer, fh, int(expected["size"]))
                fh.flush()
                os.fsync(fh.fileno())
        finally:
            conn.close()
        if size != expected["size"] or digest != expected["sha256"]:
            raise ReplicaDigestError(
                f"{generation}/{name} from {self.primary.display} does not match "
                f"its manifest (expected {expected['size']} bytes, SHA-256 "
                f"{expected['sha256']}; got {size} bytes, {digest}); nothing was "
                "published"
            )
        return size

    def _copy(
        self, answer: http.client.HTTPResponse, fh: BinaryIO, limit: int
    ) -> tuple[int, str]:
        """Copy at most ``limit + 1`` bytes of the answer; return size and SHA-256."""
        digest = hashlib.sha256()
        size = 0
        try:
            while size <= limit:
                chunk = answer.read(min(CHUNK, limit + 1 - size))
                if not chunk:
                    break
                digest.update(chunk)
                fh.write(chunk)
                size += len(chunk)
        except (OSError, http.client.HTTPException) as ex:
            raise self._unreachable(ex) from None
        return size, digest.hexdigest()

    def _read(self, answer: http.client.HTTPResponse, limit: int) -> bytes:
        try:
            body = answer.read(limit + 1)
        except (OSError, http.client.HTTPException) as ex:
            raise self._unreachable(ex) from None
        if len(body) > limit:
            raise ReplicaProtocolError(f"the answer is larger than {limit} bytes")
        return body

    @staticmethod
    def _check(answer: http.client.HTTPResponse, body: bytes) -> None:
        """Raise the primary's refusal for any status but 200."""
        if answer.status != 200:
            raise refusal(answer.status, body)
