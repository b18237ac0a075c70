"""Removal (delisting) requests and the addresses delisted for a while.

Anyone may ask for an address to be removed (``POST /v1/removal-requests``,
rate-limited per client address); an administrator approves or rejects
(``sikker admin removal``). An approved address is delisted for N days: the
builder hides it from every published generation and publishes it again
when the period ends. Its evidence and reports are kept.

``<data_dir>/removals`` is an LMDB environment (server workers write
requests, the admin CLI decisions, the builder reads). Tables:

* ``requests``: request id -> the request JSON;
* ``clients``: client address -> recent request times (rate limiting);
* ``delisted``: ip16 -> ``{"until", "request"}``.
"""

import os
import re
import secrets
import threading
import time
from pathlib import Path
from typing import Any

import lmdb
import orjson

from sikker.core import ipcore, lmdb_tx
from sikker.core.canonical import canonical_ip
from sikker.core.redact import strip_controls
from sikker.errors import (
    InvalidAddressError,
    InvalidRemovalRequestError,
    RateLimitedError,
    RemovalStoreError,
    UnknownRemovalRequestError,
)

REMOVALS_DIR = "removals"
STATUSES = ("pending", "approved", "rejected")
MAX_EMAIL = 254
MAX_REASON = 2000
HOUR = 3600
DAY = 86_400
_EMAIL = re.compile(r"[^@\s]{1,64}@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,63}")
_TABLES = (b"requests", b"clients", b"delisted")
MAP_SIZE = 1 << 28


def parse_request(obj: Any) -> dict[str, str]:
    """Return the validated ``ip``, ``email`` and ``reason`` of a request.

    Raises:
        InvalidRemovalRequestError: a field is missing or bad.
    """
    if not isinstance(obj, dict):
        raise InvalidRemovalRequestError("request", "must be a JSON object")
    ip = obj.get("ip")
    if not isinstance(ip, str) or not ip.strip():
        raise InvalidRemovalRequestError("ip", "is required")
    try:
        version, value = canonical_ip(ip.strip())
    except InvalidAddressError as ex:
        raise InvalidRemovalRequestError("ip", f"{ip[:64]!r}: {ex.reason}") from None
    text = ipcore.format_ip(version, value)
    reason = ipcore.classify(version, value)
    if reason is not None:
        raise InvalidRemovalRequestError(
            "ip", f"{text} is not a public address ({reason}); it is never listed"
        )
    email = obj.get("email")
    if not isinstance(email, str) or not _EMAIL.fullmatch(email.strip()):
        raise InvalidRemovalRequestError(
            "email", "is required: an address we can answer you at"
        )
    if len(email.strip()) > MAX_EMAIL:
        raise InvalidRemovalRequestError("email", f"longer than {MAX_EMAIL} characters")
    why = obj.get("reason")
    if not isinstance(why, str) or not strip_controls(why).strip():
        raise InvalidRemovalRequestError(
            "reason", "is required: say why the address should not be listed"
        )
    why = strip_controls(why).strip()
    if len(why) > MAX_REASON:
        raise InvalidRemovalRequestError(
            "reason", f"longer than {MAX_REASON} characters ({len(why)})"
        )
    return {"ip": text, "email": email.strip(), "reason": why}


class RemovalStore:
    """The removal requests and delisted addresses of a data directory."""

    def __init__(self, data_dir: Path, map_size: int = MAP_SIZE) -> None:
        path = Path(data_dir) / REMOVALS_DIR
        try:
            path.mkdir(parents=True, exist_ok=True)
            os.chmod(path, 0o700)  # requests hold e-mail addresses
            self._env = lmdb.open(
                str(path), map_size=map_size, max_dbs=len(_TABLES), max_readers=1024
            )
            self._dbs = {name: self._env.open_db(name) for name in _TABLES}
        except (OSError, lmdb.Error) as ex:
            raise RemovalStoreError(f"cannot open {path}: {ex}") from ex
        self._env.reader_check()
        self._lock = threading.Lock()
        self._pid = os.getpid()

    def close(self) -> None:
        """Close the environment (in the process that opened it)."""
        if os.getpid() == self._pid:
            self._env.close()

    def _write(self, work: Any) -> Any:
        try:
            return lmdb_tx.write(self._env, self._lock, work)
        except lmdb.Error as ex:
            raise RemovalStoreError(f"removal store write failed: {ex}") from ex

    def _read(self) -> Any:
        return lmdb_tx.begin_read(self._env)

    # -- requests ---------------------------------------------------------------------

    def create(
        self,
        fields: dict[str, str],
        client: str,
        per_hour: int,
        now: float | None = None,
    ) -> dict[str, Any]:
        """Store a pending request from ``client``.

        Raises:
            RateLimitedError: ``client`` sent ``per_hour`` requests in the
                last hour.
        """
        at = int(time.time() if now is None else now)
        request: dict[str, Any] = {
            "id": "rr_" + secrets.token_hex(8),
            **fields,
            "client": client,
            "status": "pending",
            "createdAt": at,
            "decidedAt": None,
            "until": None,
            "note": None,
        }

        def work(txn: Any) -> dict[str, Any]:
            key = client.encode() or b"-"
            raw = txn.get(key, db=self._dbs[b"clients"])
            recent = [t for t in (orjson.loads(raw) if raw else []) if t > at - HOUR]
            if len(recent) >= per_hour:
                wait = max(min(recent) + HOUR - at, 1)
                raise RateLimitedError(
                    f"at most {per_hour} removal requests per hour from one address; "
                    f"try again in {wait} s",
                    wait,
                )
            recent.append(at)
            txn.put(key, orjson.dumps(recent), db=self._dbs[b"clients"])
            txn.put(
                request["id"].encode(), orjson.dumps(request), db=self._dbs[b"requests"]
            )
            return request

        return dict(self._write(work))

    def get(self, request_id: str) -> dict[str, Any]:
        """Return one request.

        Raises:
            UnknownRemovalRequestError: no request has that id.
        """
        with self._read() as txn:
            raw = txn.get(request_id.encode(), db=self._dbs[b"requests"])
        if raw is None:
            raise UnknownRemovalRequestError(f"no removal request {request_id!r}")
        return dict(orjson.loads(raw))

    def requests(self, status: str | None = None) -> list[dict[str, Any]]:
        """Return the requests (of one status), newest first."""
        with self._read() as txn:
            found = [
                orjson.loads(value)
                for _, value in txn.cursor(db=self._dbs[b"requests"])
            ]
        found = [r for r in found if status is None or r["status"] == status]
        return sorted(found, key=lambda r: (-r["createdAt"], r["id"]))

    def approve(
        self,
        request_id: str,
        days: int,
        note: str | None = None,
        now: float | None = None,
    ) -> dict[str, Any]:
        """Delist the request's address for ``days`` days from now.

        Raises:
            UnknownRemovalRequestError: no request has that id.
        """
        if days < 1:
            raise InvalidRemovalRequestError("days", "must be at least 1")
        at = int(time.time() if now is None else now)

        def work(txn: Any) -> dict[str, Any]:
            request = self._load(txn, request_id)
            request.update(status="approved", decidedAt=at, until=at + days * DAY)
            request["note"] = note
            ip16 = ipcore.to_ip16(request["ip"])
            txn.put(
                ip16,
                orjson.dumps({"until": request["until"], "request": request_id}),
                db=self._dbs[b"delisted"],
            )
            self._save(txn, request)
            return request

        return dict(self._write(work))

    def reject(
        self, request_id: str, note: str | None = None, now: float | None = None
    ) -> dict[str, Any]:
        """Reject a pending request; the address stays listed.

        Raises:
            UnknownRemovalRequestError: no request has that id.
            InvalidRemovalRequestError: the request was already approved.
        """
        at = int(time.time() if now is None else now)

        def work(txn: Any) -> dict[str, Any]:
            request = self._load(txn, request_id)
            if request["status"] == "approved":
                raise InvalidRemovalRequestError(
                    "status", f"{request_id} was approved (until {request['until']})"
                )
            request.update(status="rejected", decidedAt=at, note=note)
            self._save(txn, request)
            return request

        return dict(self._write(work))

    def delisted(self, now: float | None = None) -> dict[bytes, int]:
        """Return ``{ip16: until}`` of every address delisted at ``now``."""
        at = time.time() if now is None else now
        with self._read() as txn:
            out = {}
            for key, value in txn.cursor(db=self._dbs[b"delisted"]):
                until = int(orjson.loads(value)["until"])
                if until > at:
                    out[bytes(key)] = until
            return out

    def _load(self, txn: Any, request_id: str) -> dict[str, Any]:
        raw = txn.get(request_id.encode(), db=self._dbs[b"requests"])
        if raw is None:
            raise UnknownRemovalRequestError(f"no removal request {request_id!r}")
        return dict(orjson.loads(raw))

    def _save(self, txn: Any, request: dict[str, Any]) -> None:
        txn.put(
            request["id"].encode(), orjson.dumps(request), db=self._dbs[b"requests"]
        )
