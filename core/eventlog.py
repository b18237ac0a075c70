"""The durable event log: every accepted event, in order, before the ack.

An LMDB environment (``<data_dir>/events``) holding one table: a big-endian
uint64 sequence number (1, 2, 3, ...) -> the event as orjson. :meth:`EventLog.append`
writes a batch in ONE write transaction and returns only after LMDB's commit
has synced the data file and the meta page, so an acknowledged event
survives a killed process and a power loss. LMDB serialises writers, so
several processes (gunicorn workers, ``sikker ingest``) may append at once
and still get unique, gap-free sequences.

Rules (docs/operations.md): open the log in the process that uses it, never
before a fork; the environment refuses to be used from another process. A
full or read-only disk is a StorageFullError or StorageReadOnlyError; the
log keeps everything it acknowledged before.
"""

import os
import struct
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import lmdb
import orjson

from sikker.core.storage import reserve_lock_file, storage_error
from sikker.errors import EventLogError

_KEY = struct.Struct(">Q")
#: Address space reserved at first (sparse: the file only grows with data).
INITIAL_MAP_SIZE = 1 << 34  # 16 GiB
#: Reader slots in the lock file (workers x threads + builder + tools).
MAX_READERS = 1024
#: Entries read per read transaction (keeps transactions short).
READ_CHUNK = 1024


def encode_key(sequence: int) -> bytes:
    """Return the 8-byte big-endian key of a sequence number."""
    return _KEY.pack(sequence)


def decode_key(key: bytes) -> int:
    """Return the sequence number of an 8-byte key."""
    return int(_KEY.unpack(key)[0])


class EventLog:
    """Append-only, durable, multi-process event log on LMDB."""

    def __init__(self, path: str | Path, map_size: int = INITIAL_MAP_SIZE) -> None:
        self.path = Path(path)
        self._env: Any = None
        try:
            self.path.mkdir(parents=True, exist_ok=True)
            reserve_lock_file(self.path, MAX_READERS)
            self._env = lmdb.open(
                str(self.path),
                map_size=map_size,
                max_readers=MAX_READERS,
                max_dbs=0,
                sync=True,
                metasync=True,
                readahead=False,
                max_spare_txns=0,
            )
        except (OSError, lmdb.Error) as ex:
            what = "cannot open the event log"
            raise storage_error(ex, self.path, what) or EventLogError(
                f"{what} at {self.path}: {ex}"
            ) from ex
        self._pid = os.getpid()
        self._lock = threading.Lock()
        self._env.reader_check()

    def _check(self) -> lmdb.Environment:
        if self._env is None:
            raise EventLogError("the event log is closed")
        if os.getpid() != self._pid:
            raise EventLogError(
                "the event log was opened in another process; open it after fork"
            )
        return self._env

    def close(self) -> None:
        """Close the environment (idempotent)."""
        if self._env is not None and os.getpid() == self._pid:
            self._env.close()
        self._env = None

    def __enter__(self) -> "EventLog":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- writes --------------------------------------------------------------------

    def append(self, events: Sequence[Any]) -> tuple[int, int]:
        """Append events durably; return (first, last) sequence numbers.

        All events go in one transaction that is synced to disk before this
        returns. An empty batch returns ``(0, 0)`` and writes nothing. Each
        append first frees the reader slots of killed processes: a process
        killed inside a read transaction would otherwise keep every page
        freed after it from being reused, and the file would grow with
        every append until some process opened the log again.
        """
        if not events:
            return (0, 0)
        values = [orjson.dumps(event) for event in events]
        with self._lock:
            env = self._check()
            env.reader_check()  # about 0.1 us when no slot is stale
            while True:
                try:
                    return self._write(env, values)
                except lmdb.MapFullError:
                    env.set_mapsize(env.info()["map_size"] * 2)
                except lmdb.MapResizedError:
                    env.set_mapsize(0)  # another process grew the map
                except lmdb.Error as ex:
                    what = "cannot append to the event log"
                    raise storage_error(ex, self.path, what) or EventLogError(
                        f"cannot append to {self.path}: {ex}"
                    ) from ex

    def _write(self, env: lmdb.Environment, values: list[bytes]) -> tuple[int, int]:
        with env.begin(write=True) as txn:
            cursor = txn.cursor()
            last = decode_key(cursor.key()) if cursor.last() else 0
            for offset, value in enumerate(values, 1):
                cursor.put(encode_key(last + offset), value, append=True)
        return last + 1, last + len(values)

    # -- reads ---------------------------------------------------------------------

    def _retry(self, env: lmdb.Environment, read: Any) -> Any:
        try:
            return read()
        except lmdb.MapResizedError:
            env.set_mapsize(0)
            return read()

    def last_sequence(self) -> int:
        """Return the sequence of the newest event (0 when empty)."""
        env = self._check()

        def read() -> int:
            with env.begin() as txn:
                cursor = txn.cursor()
                return decode_key(cursor.key()) if cursor.last() else 0

        return int(self._retry(env, read))

    def _chunk(self, after: int, count: int) -> list[tuple[int, bytes]]:
        env = self._check()

        def read() -> list[tuple[int, bytes]]:
            with env.begin() as txn:
                cursor = txn.cursor()
                if not cursor.set_range(encode_key(after + 1)):
                    return []
                items = []
                for key, value in cursor:
                    items.append((decode_key(key), bytes(value)))
                    if len(items) == count:
                        break
                return items

        return list(self._retry(env, read))

    def read(
        self, after: int = 0, limit: int | None = None
    ) -> Iterator[tuple[int, dict[str, Any]]]:
        """Yield ``(sequence, event)`` after ``after``, oldest first.

        Reads in short transactions of :data:`READ_CHUNK` entries, so a slow
        consumer never pins old pages.
        """
        remaining = limit
        while remaining is None or remaining > 0:
            count = READ_CHUNK if remaining is None else min(READ_CHUNK, remaining)
            items = self._chunk(after, count)
            for sequence, value in items:
                yield sequence, orjson.loads(value)
            if len(items) < count:
                return
            after = items[-1][0]
            if remaining is not None:
                remaining -= len(items)
