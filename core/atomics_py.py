"""Atomic 64-bit words in a file shared by processes: the pure-Python twin.

Same API as the compiled :mod:`sikker.ext.atomics`; import either through
:mod:`sikker.core.atomics`. Every operation on a word holds an exclusive
``fcntl.lockf`` lock on that word's eight bytes (other processes) and a
per-file lock of this process (other threads: POSIX record locks are owned
by the process, so its threads do not exclude each other). Processes must
agree on the twin: CPU atomics and lockf locks do not exclude each other,
which is why :class:`SharedWords` names its :attr:`~SharedWords.MODE`.
"""

import contextlib
import fcntl
import mmap
import os
import struct
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Final

from sikker.core.storage import reserve

__all__ = ["COUNT_BITS", "COUNT_MASK", "LOCKED", "WORD_MASK", "SharedWords"]

WORD_MASK: Final = (1 << 64) - 1
"""Every word holds an unsigned 64-bit value."""
COUNT_BITS: Final = 36
"""A counter word is ``period << COUNT_BITS | count``."""
COUNT_MASK: Final = (1 << COUNT_BITS) - 1
"""The count of a counter word (its low 36 bits)."""
LOCKED: Final = WORD_MASK
"""A counter word being (re)assigned; :meth:`SharedWords.charge` waits."""
_SPINS = 2000
_WORD = struct.Struct("<Q")

#: One lock per (device, inode) of this process (see the module docstring).
_FILE_LOCKS: dict[tuple[int, int], threading.RLock] = {}
_REGISTRY = threading.Lock()


def _reset_after_fork() -> None:
    global _REGISTRY
    _FILE_LOCKS.clear()
    _REGISTRY = threading.Lock()


os.register_at_fork(after_in_child=_reset_after_fork)


def _file_lock(fd: int) -> threading.RLock:
    st = os.fstat(fd)
    with _REGISTRY:
        return _FILE_LOCKS.setdefault((st.st_dev, st.st_ino), threading.RLock())


class SharedWords:
    """A file of 64-bit words that processes and threads update atomically.

    Args:
        fd: A file open for reading and writing, at least ``size`` bytes.
        size: Bytes to map from the start of the file; a multiple of 8.

    Raises:
        ValueError: ``size`` is not a positive multiple of 8 or the file
            is shorter.
        OSError: the disk cannot hold the file's blocks (``ENOSPC``); they
            are allocated before mapping, so a write never faults.
    """

    MODE = "lockf"
    """How words are made atomic: ``"cpu"`` (compiled) or ``"lockf"``."""

    def __init__(self, fd: int, size: int) -> None:
        if size <= 0 or size % 8:
            raise ValueError(f"size must be a positive multiple of 8, got {size}")
        if os.fstat(fd).st_size < size:
            raise ValueError(f"the file is shorter than {size} bytes")
        reserve(fd, size)  # a page the disk cannot hold would be a SIGBUS
        self._fd = os.dup(fd)
        self._lock = _file_lock(self._fd)
        self._map: mmap.mmap | None = mmap.mmap(self._fd, size)
        self._words = size // 8

    @property
    def size(self) -> int:
        """Return the mapped size in bytes."""
        return self._words * 8

    def _mapped(self) -> mmap.mmap:
        if self._map is None:
            raise ValueError("the shared words are closed")
        return self._map

    def _check(self, index: int) -> int:
        if not 0 <= index < self._words:
            raise IndexError(f"word {index} is outside 0..{self._words - 1}")
        return index * 8

    @contextmanager
    def _locked(self, index: int) -> Iterator[tuple[mmap.mmap, int]]:
        offset = self._check(index)
        with self._lock:
            mm = self._mapped()
            fcntl.lockf(self._fd, fcntl.LOCK_EX, 8, offset, os.SEEK_SET)
            try:
                yield mm, offset
            finally:
                fcntl.lockf(self._fd, fcntl.LOCK_UN, 8, offset, os.SEEK_SET)

    def load(self, index: int) -> int:
        """Return the value of word ``index``."""
        with self._locked(index) as (mm, offset):
            return int(_WORD.unpack_from(mm, offset)[0])

    def store(self, index: int, value: int) -> None:
        """Set word ``index`` to ``value`` (taken modulo 2**64)."""
        with self._locked(index) as (mm, offset):
            _WORD.pack_into(mm, offset, value & WORD_MASK)

    def add(self, index: int, delta: int) -> int:
        """Add ``delta`` (modulo 2**64) to word ``index``; return the new value."""
        with self._locked(index) as (mm, offset):
            value = (_WORD.unpack_from(mm, offset)[0] + delta) & WORD_MASK
            _WORD.pack_into(mm, offset, value)
            return value

    def cas(self, index: int, expected: int, desired: int) -> bool:
        """Set word ``index`` to ``desired`` if it holds ``expected``."""
        with self._locked(index) as (mm, offset):
            if _WORD.unpack_from(mm, offset)[0] != expected & WORD_MASK:
                return False
            _WORD.pack_into(mm, offset, desired & WORD_MASK)
            return True

    def charge(
        self,
        index: int,
        tag_index: int,
        tag: int,
        period: int,
        amount: int,
        limit: int,
        partial: bool,
    ) -> tuple[int, int]:
        """Add up to ``amount`` to a counter word without passing ``limit``.

        The counter word is ``period << COUNT_BITS | count``; a word of an
        earlier period counts as zero, a later one is charged as it is. The
        read, the check and the write are one atomic step, so concurrent
        charges never admit more than ``limit`` in a period.

        Args:
            index: The counter word.
            tag_index: The word that must hold ``tag`` for the counter to be
                the caller's (checked on every attempt).
            tag: The expected owner tag.
            period: The current period (for example the UTC day number).
            amount: Units to add.
            limit: The most the period's count may reach.
            partial: Grant what is left when ``amount`` does not fit
                (otherwise grant nothing).

        Returns:
            ``(granted, used)``: the units added and the count after the
            charge; ``(-1, 0)`` when ``tag_index`` no longer holds ``tag`` or
            the counter stays :data:`LOCKED` (look the counter up again).
        """
        if amount < 0 or limit < 0 or not 0 <= period < 1 << (64 - COUNT_BITS):
            raise ValueError("amount, limit and period must be in range")
        for _ in range(_SPINS):
            with self._locked(index) as (mm, offset):
                word = _WORD.unpack_from(mm, offset)[0]
                if word != LOCKED:
                    if self.load(tag_index) != tag & WORD_MASK:
                        return -1, 0
                    slot_period, count = word >> COUNT_BITS, word & COUNT_MASK
                    if slot_period < period:
                        count = 0
                    else:
                        period = slot_period
                    if count + amount <= limit:
                        granted = amount
                    elif partial:
                        granted = max(limit - count, 0)
                    else:
                        granted = 0
                    if granted and count + granted <= COUNT_MASK:
                        count += granted
                        _WORD.pack_into(mm, offset, period << COUNT_BITS | count)
                        return granted, count
                    return 0, count
            time.sleep(0)
        return -1, 0

    def read(self, offset: int, length: int) -> bytes:
        """Return ``length`` bytes at byte ``offset`` (not atomic)."""
        mm = self._mapped()
        if offset < 0 or length < 0 or offset + length > self.size:
            raise IndexError("the byte range is outside the mapping")
        return mm[offset : offset + length]

    def write(self, offset: int, data: bytes) -> None:
        """Copy ``data`` to byte ``offset`` (not atomic)."""
        mm = self._mapped()
        if offset < 0 or offset + len(data) > self.size:
            raise IndexError("the byte range is outside the mapping")
        mm[offset : offset + len(data)] = data

    def buffer(self) -> memoryview:
        """Return a read-only view of the mapping (for bulk scans)."""
        return memoryview(self._mapped()).toreadonly()

    def close(self) -> None:
        """Unmap the file and close its descriptor (idempotent)."""
        with self._lock:
            if self._map is not None:
                with contextlib.suppress(BufferError):  # a live view: the GC unmaps
                    self._map.close()
                self._map = None
                os.close(self._fd)
