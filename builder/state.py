"""The builder's own durable state: evidence per IP, open sessions, intel.

An LMDB environment at ``<data_dir>/state`` that only the builder writes.
Every batch of events is applied in ONE write transaction together with the
event-log cursor, so after a crash the state and the cursor agree and the
next run resumes exactly after the last applied event.

Tables: ``ips`` (ip16 -> Evidence JSON), ``sessions`` (sensor/session ->
session JSON), ``usernames`` and ``emails`` (intel JSON), ``dirty`` (kind
byte + key -> the event sequence of its last change, so a generation can
hold exactly what changed since its base), ``meta``.
"""

import struct
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import lmdb
import orjson

from sikker.builder import stats
from sikker.builder.evidence import Evidence
from sikker.core.storage import reserve_lock_file

IPS, SESSIONS, USERNAMES, EMAILS, DIRTY, META = (
    b"ips",
    b"sessions",
    b"usernames",
    b"emails",
    b"dirty",
    b"meta",
)
TABLES = (IPS, SESSIONS, USERNAMES, EMAILS, DIRTY, META)
#: Kinds of keys in the ``dirty`` table.
IP_KIND, USERNAME_KIND, EMAIL_KIND = b"i", b"u", b"e"
_SEQ = struct.Struct(">Q")
#: The ``meta`` key of the activity statistics.
STATS = "stats"
#: Reader slots (py-lmdb's default): the builder and its compaction child.
MAX_READERS = 126
_GROWTH = 2


@dataclass
class Changes:
    """Everything one batch of events changed, committed atomically."""

    cursor: int
    evidence: dict[bytes, Evidence] = field(default_factory=dict)
    sessions: dict[bytes, dict[str, Any] | None] = field(
        default_factory=dict
    )  # None = drop
    usernames: dict[str, dict[str, Any]] = field(default_factory=dict)
    emails: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: New sessions per (UTC day number, protocol), for the statistics.
    day_sessions: dict[tuple[int, str], int] = field(default_factory=dict)
    #: New sanitised examples per primitive id, for the statistics.
    examples: dict[str, list[str]] = field(default_factory=dict)


class State:
    """The builder's LMDB state (one writer: the builder process)."""

    def __init__(self, path: Path, map_size: int = 1 << 30) -> None:
        path.mkdir(parents=True, exist_ok=True)
        reserve_lock_file(path, MAX_READERS)  # a full disk: ENOSPC, not SIGBUS
        self._env = lmdb.open(
            str(path), map_size=map_size, max_dbs=len(TABLES), max_readers=MAX_READERS
        )
        self._dbs = {name: self._env.open_db(name) for name in TABLES}

    def close(self) -> None:
        """Close the environment."""
        self._env.close()

    # -- reads -----------------------------------------------------------------

    def _get(self, table: bytes, key: bytes) -> bytes | None:
        with self._env.begin(db=self._dbs[table]) as txn:
            return txn.get(key)

    def cursor(self) -> int:
        """Return the sequence of the last event applied (0 = none)."""
        value = self._get(META, b"cursor")
        return _SEQ.unpack(value)[0] if value else 0

    def meta(self, key: str) -> Any:
        """Return a JSON value stored in ``meta`` (None if absent)."""
        value = self._get(META, key.encode())
        return orjson.loads(value) if value else None

    def set_meta(self, key: str, value: Any) -> None:
        """Store a JSON value in ``meta``."""
        with self._env.begin(write=True, db=self._dbs[META]) as txn:
            txn.put(key.encode(), orjson.dumps(value))

    def stats(self) -> dict[str, Any]:
        """Return the activity statistics document (builder/stats.py)."""
        return dict(self.meta(STATS) or {})

    def evidence(self, ip16: bytes) -> Evidence | None:
        """Return the stored evidence of an address."""
        value = self._get(IPS, ip16)
        return Evidence.from_json(value) if value else None

    def session(self, key: bytes) -> dict[str, Any] | None:
        """Return an open session's stored state."""
        value = self._get(SESSIONS, key)
        return orjson.loads(value) if value else None

    def intel(self, table: bytes, key: str) -> dict[str, Any] | None:
        """Return a username's or an email address's stored intel."""
        value = self._get(table, key.encode())
        return orjson.loads(value) if value else None

    def all_evidence(self) -> Iterator[tuple[bytes, Evidence]]:
        """Yield ``(ip16, evidence)`` for every IP the builder has evidence of."""
        with self._env.begin(db=self._dbs[IPS]) as txn:
            for key, value in txn.cursor():
                yield key, Evidence.from_json(value)

    def all_intel(self, table: bytes) -> Iterator[tuple[str, dict[str, Any]]]:
        """Yield every username (or email) with its intel."""
        with self._env.begin(db=self._dbs[table]) as txn:
            for key, value in txn.cursor():
                yield key.decode("utf-8"), orjson.loads(value)

    def sessions(self) -> Iterator[tuple[bytes, dict[str, Any]]]:
        """Yield every open session."""
        with self._env.begin(db=self._dbs[SESSIONS]) as txn:
            for key, value in txn.cursor():
                yield key, orjson.loads(value)

    def changed_since(self, cursor: int, kind: bytes) -> list[bytes]:
        """Return keys of ``kind`` whose last change is after event ``cursor``."""
        found = []
        with self._env.begin(db=self._dbs[DIRTY]) as txn:
            c = txn.cursor()
            if c.set_range(kind):
                for key, value in c:
                    if key[:1] != kind:
                        break
                    if _SEQ.unpack(value)[0] > cursor:
                        found.append(key[1:])
        return found

    # -- writes ----------------------------------------------------------------

    def commit(self, changes: Changes) -> None:
        """Apply a batch's changes and advance the cursor, atomically."""
        while True:
            try:
                self._commit(changes)
                return
            except lmdb.MapFullError:
                self._env.set_mapsize(self._env.info()["map_size"] * _GROWTH)

    def _commit(self, changes: Changes) -> None:
        mark = _SEQ.pack(changes.cursor)
        dbs = self._dbs
        with self._env.begin(write=True) as txn:
            for ip16, evidence in changes.evidence.items():
                txn.put(ip16, evidence.to_json(), db=dbs[IPS])
                txn.put(IP_KIND + ip16, mark, db=dbs[DIRTY])
            for key, session in changes.sessions.items():
                if session is None:
                    txn.delete(key, db=dbs[SESSIONS])
                else:
                    txn.put(key, orjson.dumps(session), db=dbs[SESSIONS])
            for table, kind, values in (
                (USERNAMES, USERNAME_KIND, changes.usernames),
                (EMAILS, EMAIL_KIND, changes.emails),
            ):
                for name, intel in values.items():
                    txn.put(name.encode(), orjson.dumps(intel), db=dbs[table])
                    txn.put(kind + name.encode(), mark, db=dbs[DIRTY])
            self._merge_stats(txn, changes)
            txn.put(b"cursor", mark, db=dbs[META])

    def _merge_stats(self, txn: Any, changes: Changes) -> None:
        if not (changes.day_sessions or changes.usernames or changes.examples):
            return
        raw = txn.get(STATS.encode(), db=self._dbs[META])
        merged = stats.merge(
            orjson.loads(raw) if raw else None,
            changes.day_sessions,
            {name: int(i.get("total", 0)) for name, i in changes.usernames.items()},
            changes.examples,
        )
        txn.put(STATS.encode(), orjson.dumps(merged), db=self._dbs[META])

    def mark_changed(self, addresses: list[bytes], after: int) -> None:
        """Mark addresses as changed after event ``after`` (no new evidence).

        The next generation holds them again, freshly scored (a delisting
        that ended, for example).
        """
        mark = _SEQ.pack(after + 1)
        with self._env.begin(write=True, db=self._dbs[DIRTY]) as txn:
            for ip16 in addresses:
                txn.put(IP_KIND + ip16, mark)

    def forget_changes(self, upto: int) -> None:
        """Drop dirty marks of changes at or before event ``upto`` (compacted)."""
        with self._env.begin(write=True, db=self._dbs[DIRTY]) as txn:
            stale = [k for k, v in txn.cursor() if _SEQ.unpack(v)[0] <= upto]
            for key in stale:
                txn.delete(key)
