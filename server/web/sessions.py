"""Signed-in browsers: server-side sessions in ``<data_dir>/web``.

A session is a random token in a cookie; the store keeps only its SHA-256
(so a copy of the store signs nobody in) with the account and the expiry.
Signing out deletes the row, so a stolen cookie dies with the session.
Expired rows are dropped when they are met and, a few at a time, whenever
a session is created.
"""

import hashlib
import os
import secrets
import threading
import time
from pathlib import Path
from typing import Any

import lmdb
import orjson

from sikker.core import lmdb_tx

WEB_DIR = "web"
MAP_SIZE = 1 << 26
#: Expired sessions dropped at most per new session.
PURGE_BATCH = 100
_TABLE = b"sessions"


def _key(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


class SessionStore:
    """The sessions of one data directory (open it after any fork)."""

    def __init__(self, data_dir: Path, map_size: int = MAP_SIZE) -> None:
        path = Path(data_dir) / WEB_DIR
        path.mkdir(parents=True, exist_ok=True)
        os.chmod(path, 0o700)
        self._env = lmdb.open(str(path), map_size=map_size, max_dbs=1)
        self._db = self._env.open_db(_TABLE)
        self._env.reader_check()
        self._lock = threading.Lock()
        self._pid = os.getpid()

    def close(self) -> None:
        """Close the environment (in the process that opened it)."""
        if os.getpid() == self._pid:
            self._env.close()

    def _write(self, work: Any) -> Any:
        return lmdb_tx.write(self._env, self._lock, work, self._db)

    def create(self, account_id: str, lifetime: float, now: float | None = None) -> str:
        """Start a session of ``account_id``; return its token (the cookie value)."""
        at = time.time() if now is None else now
        token = secrets.token_urlsafe(32)
        row = orjson.dumps(
            {"account": account_id, "created": int(at), "expires": int(at + lifetime)}
        )

        def work(txn: Any) -> None:
            stale = [
                key
                for key, value in txn.cursor()
                if orjson.loads(value)["expires"] <= at
            ][:PURGE_BATCH]
            for key in stale:
                txn.delete(key)
            txn.put(_key(token), row)

        self._write(work)
        return token

    def account_of(self, token: str, now: float | None = None) -> str | None:
        """Return the account of a live session token, None if unknown or expired."""
        if not token or len(token) > 128:
            return None
        with self._env.begin(db=self._db) as txn:
            raw = txn.get(_key(token))
        if raw is None:
            return None
        row = orjson.loads(raw)
        if row["expires"] <= (time.time() if now is None else now):
            self.delete(token)
            return None
        return str(row["account"])

    def delete(self, token: str) -> None:
        """End a session (nothing happens for an unknown token)."""
        if token and len(token) <= 128:
            self._write(lambda txn: txn.delete(_key(token)))

    # -- read replicas: a copy of the primary's sessions ------------------------

    def version(self) -> int:
        """Return a number that changes with every change to the sessions."""
        return int(self._env.info()["last_txnid"])

    def export(self) -> list[tuple[str, dict[str, Any]]]:
        """Return every stored session: (hex SHA-256 of its token, its row)."""
        with self._env.begin(db=self._db) as txn:
            return [(bytes(k).hex(), orjson.loads(v)) for k, v in txn.cursor()]

    def replace_all(self, rows: list[tuple[bytes, dict[str, Any]]]) -> None:
        """Make the stored sessions exactly ``rows`` (a read replica's mirror)."""

        def work(txn: Any) -> None:
            txn.drop(self._db, delete=False)
            for key, row in rows:
                txn.put(key, orjson.dumps(row))

        self._write(work)

    def count(self) -> int:
        """Return how many sessions are stored (live or not yet purged)."""
        with self._env.begin(db=self._db) as txn:
            return int(txn.stat(self._db)["entries"])
