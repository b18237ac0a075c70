# cython: language_level=3, binding=True, embedsignature=True
"""Atomic 64-bit words in a file shared by processes: the compiled twin.

Same API as the pure-Python reference ``sikker.core.atomics_py``; import
either through :mod:`sikker.core.atomics`. The file is mapped shared and
every word operation is one GCC/Clang ``__atomic`` builtin (sequentially
consistent) on the mapped memory, so processes and threads need no lock.
"""

import mmap
import os

from sikker.core.storage import reserve

from cpython.buffer cimport PyBUF_WRITABLE
from cpython.buffer cimport PyBuffer_Release
from cpython.buffer cimport PyObject_GetBuffer
from libc.stdint cimport uint64_t

cdef extern from *:
    """
    #include <sched.h>
    #include <stdint.h>
    static inline uint64_t sk_load(uint64_t *p) {
        return __atomic_load_n(p, __ATOMIC_SEQ_CST);
    }
    static inline void sk_store(uint64_t *p, uint64_t v) {
        __atomic_store_n(p, v, __ATOMIC_SEQ_CST);
    }
    static inline uint64_t sk_add(uint64_t *p, uint64_t v) {
        return __atomic_add_fetch(p, v, __ATOMIC_SEQ_CST);
    }
    static inline int sk_cas(uint64_t *p, uint64_t *expected, uint64_t desired) {
        return __atomic_compare_exchange_n(
            p, expected, desired, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
    }
    """
    uint64_t sk_load(uint64_t *p) noexcept nogil
    void sk_store(uint64_t *p, uint64_t v) noexcept nogil
    uint64_t sk_add(uint64_t *p, uint64_t v) noexcept nogil
    bint sk_cas(uint64_t *p, uint64_t *expected, uint64_t desired) noexcept nogil
    int sched_yield() noexcept nogil

__all__ = ["COUNT_BITS", "COUNT_MASK", "LOCKED", "WORD_MASK", "SharedWords"]

WORD_MASK = (1 << 64) - 1
COUNT_BITS = 36
COUNT_MASK = (1 << COUNT_BITS) - 1
LOCKED = WORD_MASK

cdef enum:
    _BITS = 36
    _SPINS = 2000

cdef uint64_t _MASK = (<uint64_t>1 << _BITS) - 1
cdef uint64_t _LOCKED = <uint64_t>0xFFFFFFFFFFFFFFFF


cdef class SharedWords:
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

    MODE = "cpu"

    cdef object _map
    cdef Py_buffer _view
    cdef bint _held
    cdef uint64_t *_base
    cdef Py_ssize_t _words

    def __cinit__(self):
        self._held = False
        self._base = NULL
        self._words = 0

    def __init__(self, int fd, Py_ssize_t size):
        if size <= 0 or size % 8:
            raise ValueError(f"size must be a positive multiple of 8, got {size}")
        if os.fstat(fd).st_size < size:
            raise ValueError(f"the file is shorter than {size} bytes")
        reserve(fd, size)  # a page the disk cannot hold would be a SIGBUS
        self._map = mmap.mmap(fd, size)
        PyObject_GetBuffer(self._map, &self._view, PyBUF_WRITABLE)
        self._held = True
        self._base = <uint64_t *>self._view.buf
        self._words = size // 8

    def __dealloc__(self):
        if self._held:
            PyBuffer_Release(&self._view)
            self._held = False

    @property
    def size(self):
        """Return the mapped size in bytes."""
        return self._words * 8

    cdef inline uint64_t *_at(self, Py_ssize_t index) except NULL:
        if self._base == NULL:
            raise ValueError("the shared words are closed")
        if index < 0 or index >= self._words:
            raise IndexError(f"word {index} is outside 0..{self._words - 1}")
        return self._base + index

    def load(self, Py_ssize_t index):
        """Return the value of word ``index``."""
        return sk_load(self._at(index))

    def store(self, Py_ssize_t index, value):
        """Set word ``index`` to ``value`` (taken modulo 2**64)."""
        sk_store(self._at(index), <uint64_t>(value & WORD_MASK))

    def add(self, Py_ssize_t index, delta):
        """Add ``delta`` (modulo 2**64) to word ``index``; return the new value."""
        return sk_add(self._at(index), <uint64_t>(delta & WORD_MASK))

    def cas(self, Py_ssize_t index, expected, desired):
        """Set word ``index`` to ``desired`` if it holds ``expected``."""
        cdef uint64_t old = <uint64_t>(expected & WORD_MASK)
        return sk_cas(self._at(index), &old, <uint64_t>(desired & WORD_MASK))

    def charge(
        self,
        Py_ssize_t index,
        Py_ssize_t tag_index,
        tag,
        long long period,
        long long amount,
        long long limit,
        bint partial,
    ):
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
        if amount < 0 or limit < 0 or period < 0 or period >= (1 << (64 - _BITS)):
            raise ValueError("amount, limit and period must be in range")
        cdef uint64_t *word = self._at(index)
        cdef uint64_t *owner = self._at(tag_index)
        cdef uint64_t want = <uint64_t>(tag & WORD_MASK)
        cdef uint64_t old, count, slot_period, granted, now = <uint64_t>period
        cdef uint64_t need = <uint64_t>amount, cap = <uint64_t>limit
        cdef int spins = 0
        while spins < _SPINS:
            old = sk_load(word)
            if old == _LOCKED:
                spins += 1
                sched_yield()
                continue
            if sk_load(owner) != want:
                return -1, 0
            slot_period = old >> _BITS
            count = old & _MASK
            if slot_period < now:
                count = 0
                slot_period = now
            if count + need <= cap:
                granted = need
            elif partial and cap > count:
                granted = cap - count
            else:
                granted = 0
            if granted == 0 or count + granted > _MASK:
                return 0, count
            if sk_cas(word, &old, (slot_period << _BITS) | (count + granted)):
                return granted, count + granted
        return -1, 0

    def read(self, Py_ssize_t offset, Py_ssize_t length):
        """Return ``length`` bytes at byte ``offset`` (not atomic)."""
        if self._base == NULL:
            raise ValueError("the shared words are closed")
        if offset < 0 or length < 0 or offset + length > self._words * 8:
            raise IndexError("the byte range is outside the mapping")
        return self._map[offset : offset + length]

    def write(self, Py_ssize_t offset, bytes data):
        """Copy ``data`` to byte ``offset`` (not atomic)."""
        if self._base == NULL:
            raise ValueError("the shared words are closed")
        if offset < 0 or offset + len(data) > self._words * 8:
            raise IndexError("the byte range is outside the mapping")
        self._map[offset : offset + len(data)] = data

    def buffer(self):
        """Return a read-only view of the mapping (for bulk scans)."""
        if self._base == NULL:
            raise ValueError("the shared words are closed")
        return memoryview(self._map).toreadonly()

    def close(self):
        """Unmap the file and close its descriptor (idempotent)."""
        if self._held:
            PyBuffer_Release(&self._view)
            self._held = False
        self._base = NULL
        if self._map is not None:
            try:
                self._map.close()
            except BufferError:  # a view is still alive; the GC unmaps it
                pass
            self._map = None
