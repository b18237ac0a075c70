"""Recent community reports by address and by reporter, for listings.

The event log is the record of every report; this LMDB environment
(``<data_dir>/reports``) is an index beside it that the server writes right
after a report is committed to the log, so a reporter can list their own
reports and anyone can read the recent reports of an address. Tables:

* ``by_ip``: ip16 + event sequence (8 bytes, big-endian) -> the report JSON;
* ``by_reporter``: reporter + NUL + event sequence -> ip16.

A process killed between the log commit and the index commit leaves that
report out of listings only; scores come from the log.
"""

import os
import struct
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import lmdb
import orjson

from sikker.core import ipcore, lmdb_tx
from sikker.core.storage import reserve_lock_file
from sikker.errors import EventLogError

REPORTS_DIR = "reports"
_SEQ = struct.Struct(">Q")
_TABLES = (b"by_ip", b"by_reporter")
#: Address space reserved at first (sparse; doubles when full).
MAP_SIZE = 1 << 30
MAX_READERS = 1024


class ReportIndex:
    """Write and read the report index of a data directory."""

    def __init__(self, data_dir: Path, map_size: int = MAP_SIZE) -> None:
        path = Path(data_dir) / REPORTS_DIR
        try:
            path.mkdir(parents=True, exist_ok=True)
            reserve_lock_file(path, MAX_READERS)
            self._env = lmdb.open(
                str(path),
                map_size=map_size,
                max_dbs=len(_TABLES),
                max_readers=MAX_READERS,
            )
        except (OSError, lmdb.Error) as ex:
            raise EventLogError(f"cannot open the report index at {path}: {ex}") from ex
        self._by_ip, self._by_reporter = (self._env.open_db(t) for t in _TABLES)
        self._lock = threading.Lock()
        self._pid = os.getpid()
        self._env.reader_check()

    def close(self) -> None:
        """Close the environment."""
        if os.getpid() == self._pid:
            self._env.close()

    def add(self, first: int, events: Sequence[dict[str, Any]]) -> None:
        """Index ``events``, which the log stored as ``first``, ``first + 1``..."""
        rows = []
        for offset, event in enumerate(events):
            seq = _SEQ.pack(first + offset)
            ip16 = ipcore.to_ip16(event["src_ip"])
            kept = {k: v for k, v in event.items() if k not in ("event", "src_ip")}
            rows.append((ip16 + seq, orjson.dumps(kept), event["reporter"], ip16, seq))

        def put(txn: Any) -> None:
            for key, value, reporter, ip16, seq in rows:
                txn.put(key, value, db=self._by_ip)
                txn.put(_owner_key(reporter) + seq, ip16, db=self._by_reporter)

        lmdb_tx.write(self._env, self._lock, put)

    def of_address(self, ip16: bytes, limit: int) -> list[dict[str, Any]]:
        """Return the newest reports of an address, newest first."""
        with self._env.begin(db=self._by_ip) as txn:
            return _newest(txn.cursor(), ip16, limit, _decode_by_ip)

    def of_reporter(
        self, reporter: str, limit: int, ip16: bytes | None = None
    ) -> list[dict[str, Any]]:
        """Return a reporter's newest reports (of one address when given)."""
        out = []
        with self._env.begin() as txn:
            ips = txn.cursor(db=self._by_ip)
            prefix = _owner_key(reporter)
            for key, value in _backwards(txn.cursor(db=self._by_reporter), prefix):
                if ip16 is not None and value != ip16:
                    continue
                stored = ips.get(value + key[-8:])
                if stored is None:
                    continue
                report = orjson.loads(stored)
                report["ip"] = ipcore.from_ip16(value)
                report["sequence"] = _SEQ.unpack(key[-8:])[0]
                out.append(report)
                if len(out) >= limit:
                    break
        return out


def _owner_key(reporter: str) -> bytes:
    return reporter.encode("utf-8").replace(b"\0", b"") + b"\0"


def _backwards(cursor: Any, prefix: bytes) -> Any:
    """Yield ``(key, value)`` of keys starting with ``prefix``, last first."""
    end = prefix + b"\xff" * 8
    if cursor.set_range(end):
        if not cursor.prev():
            return
    elif not cursor.last():
        return
    while cursor.key().startswith(prefix):
        yield cursor.key(), cursor.value()
        if not cursor.prev():
            return


def _decode_by_ip(key: bytes, value: bytes) -> dict[str, Any]:
    report = orjson.loads(value)
    report["ip"] = ipcore.from_ip16(key[:16])
    report["sequence"] = _SEQ.unpack(key[16:])[0]
    return report


def _newest(
    cursor: Any, prefix: bytes, limit: int, decode: Any
) -> list[dict[str, Any]]:
    out = []
    for key, value in _backwards(cursor, prefix):
        out.append(decode(key, value))
        if len(out) >= limit:
            break
    return out
