"""Transactions on an LMDB map that grows: writes that grow it when full, reads
that follow a map another process grew.

A store opens its environment with a modest map and lets it grow: a write
that hits ``MapFullError`` doubles the map and runs again, and one that
finds the map resized by another process adopts the new size
(``MapResizedError``). Writes of one process are serialised by the store's
lock, as LMDB allows one write transaction at a time.
"""

import threading
from collections.abc import Callable
from typing import Any, TypeVar

import lmdb

T = TypeVar("T")


def begin_read(env: lmdb.Environment) -> lmdb.Transaction:
    """Return a read transaction, adopting a map another process grew."""
    try:
        return env.begin()
    except lmdb.MapResizedError:
        env.set_mapsize(0)
        return env.begin()


def write(
    env: lmdb.Environment,
    lock: threading.Lock,
    work: Callable[[Any], T],
    db: Any = None,
) -> T:
    """Return ``work(txn)`` run in a write transaction (of ``db``), committed.

    Frees the reader slots of killed processes first (they would pin the
    pages every later write frees).
    """
    with lock:
        env.reader_check()
        while True:
            try:
                with env.begin(write=True, db=db) as txn:
                    return work(txn)
            except lmdb.MapFullError:
                env.set_mapsize(env.info()["map_size"] * 2)
            except lmdb.MapResizedError:
                env.set_mapsize(0)
