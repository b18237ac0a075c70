"""Daily quota counters shared by every process of a host, exact and cheap.

A :class:`QuotaTable` is a memory-mapped file of fixed slots (an
open-addressing hash table) that every gunicorn worker and thread maps. A
slot counts one (owner, family) pair -- an account and ``lookups``, say --
in one 64-bit word ``period << 36 | count`` (:mod:`sikker.core.atomics`),
where the period is the UTC day number. :meth:`QuotaTable.charge` checks
the limit and adds in one atomic step, so concurrent requests can never be
admitted beyond the limit, and the first charge of a new UTC day starts
from zero without any reset job.

File layout (little-endian 64-bit words)::

    header  4096 bytes: magic, slots, period seconds, twin mode, last flush (ms)
    slot i  64 bytes at 4096 + 64 * i (one cache line):
            word 0  tag: 8 bytes of BLAKE2b(label), 0 = never used
            word 1  counter: period << 36 | count (all ones while assigned)
            48 bytes label: b"family\\0owner", zero padded

A slot is assigned once per (owner, family) under a short file lock; a
process remembers where its slots are, so a charge is one atomic operation
on shared memory. Slots idle for two periods are reused.

Durability: the table is a shared file mapping, so a killed worker (or a
killed server) loses nothing. A :class:`Flusher` copies the counts to LMDB
every ``interval`` seconds (and on a clean shutdown); when the last process
of a table has gone, the next one to open it rebuilds it from the file and
that copy (the larger count wins). A power loss may therefore forget at
most the counts of the last ``interval`` seconds.
"""

import fcntl
import hashlib
import logging
import os
import threading
import time
import weakref
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import NamedTuple

import numpy as np

from sikker.core.atomics import COUNT_BITS, COUNT_MASK, LOCKED, SharedWords
from sikker.errors import QuotaTableError

log = logging.getLogger("sikker.quota")

MAGIC = int.from_bytes(b"SKQUOTA1", "little")
HEADER_BYTES = 4096
SLOT_BYTES = 64
LABEL_BYTES = SLOT_BYTES - 16
DAY = 86_400
_HEADER_WORDS = HEADER_BYTES // 8
_SLOT_WORDS = SLOT_BYTES // 8
_H_MAGIC, _H_SLOTS, _H_PERIOD, _H_MODE, _H_FLUSHED = range(5)
_MODES = {"cpu": 1, "lockf": 2}
#: Attempts to charge before a slot that keeps moving is an error.
_RETRIES = 4

#: (family, owner, period, count): one persisted counter.
Usage = tuple[str, str, int, int]


class Charge(NamedTuple):
    """The outcome of one charge against a daily limit."""

    allowed: bool
    used: int
    remaining: int
    reset_epoch: int


def label_of(owner: str, family: str) -> bytes:
    """Return the slot label of (owner, family); raise ValueError if too long."""
    label = f"{family}\0{owner}".encode()
    if len(label) > LABEL_BYTES or "\0" in owner or "\0" in family:
        raise ValueError(f"quota label {label!r} is invalid or too long")
    return label


def tag_of(label: bytes) -> int:
    """Return the nonzero 64-bit tag of a label."""
    tag = int.from_bytes(hashlib.blake2b(label, digest_size=8).digest(), "little")
    return tag or 1


class QuotaTable:
    """The shared counters of one file (see the module docstring).

    Args:
        path: The table file (created when missing, mode 0600).
        slots: Slots of a new table; an existing one keeps its own size
            until every process has closed it.
        period: Seconds per counting period (86,400: UTC days).
        restore: Returns persisted counters of periods >= its argument,
            merged in when the table is rebuilt.
        clock: Epoch seconds (injectable for tests).
    """

    def __init__(
        self,
        path: str | Path,
        slots: int = 65_536,
        period: int = DAY,
        restore: Callable[[int], Iterable[Usage]] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if slots < 16 or period < 1:
            raise QuotaTableError("a quota table needs >= 16 slots and period >= 1")
        self.path = Path(path)
        self.period = period
        self.clock = clock
        self._thread_lock = threading.RLock()
        # (owner, family) -> (counter word, tag word, tag)
        self._cache: dict[tuple[str, str], tuple[int, int, int]] = {}
        self._pid = os.getpid()
        self._forked = False
        _OPEN_TABLES.add(self)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._alloc_fd = _open(self.path.with_name(self.path.name + ".lock"))
        self._users_fd = _open(self.path.with_name(self.path.name + ".users"))
        try:
            with self._allocating():
                self.words = self._open(slots, restore)
        except BaseException:
            os.close(self._alloc_fd)
            os.close(self._users_fd)
            raise
        self.slots = self.words.load(_H_SLOTS)
        self._mode_checked = False

    # -- opening ---------------------------------------------------------------------

    @contextmanager
    def _allocating(self) -> Iterator[None]:
        with self._thread_lock:
            fcntl.flock(self._alloc_fd, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(self._alloc_fd, fcntl.LOCK_UN)

    def _open(
        self, slots: int, restore: Callable[[int], Iterable[Usage]] | None
    ) -> SharedWords:
        try:
            fcntl.flock(self._users_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            alone = True
        except BlockingIOError:
            alone = False
        if alone:
            self._rebuild(slots, restore)
        fcntl.flock(self._users_fd, fcntl.LOCK_SH)
        words = _map(self.path)
        if words is None:
            raise QuotaTableError(f"{self.path} is not a quota table")
        if words.load(_H_PERIOD) != self.period:
            words.close()
            raise QuotaTableError(
                f"{self.path} counts periods of another length; stop every "
                "process using it first"
            )
        return words

    def _rebuild(
        self, slots: int, restore: Callable[[int], Iterable[Usage]] | None
    ) -> None:
        """Write a fresh table holding the live counts (we are its only user)."""
        since = self._period(None) - 1
        live: dict[tuple[str, str], tuple[int, int]] = {}
        old = _map(self.path)
        if old is not None:
            if old.load(_H_PERIOD) == self.period:
                for family, owner, period, count in _entries(old, since):
                    live[(owner, family)] = (period, count)
            old.close()
        for family, owner, period, count in restore(since) if restore else ():
            if period >= since and (period, count) > live.get((owner, family), (0, 0)):
                live[(owner, family)] = (period, count)
        slots = max(slots, 2 * len(live))
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        fd = os.open(tmp, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            os.ftruncate(fd, HEADER_BYTES + slots * SLOT_BYTES)
            words = SharedWords(fd, HEADER_BYTES + slots * SLOT_BYTES)
        finally:
            os.close(fd)
        try:
            for index, value in ((_H_SLOTS, slots), (_H_PERIOD, self.period)):
                words.store(index, value)
            self.words, self.slots = words, slots
            for (owner, family), (period, count) in live.items():
                index, _ = self._assign(label_of(owner, family), period)
                words.store(_counter(index), period << COUNT_BITS | count)
            words.store(_H_MAGIC, MAGIC)
        finally:
            words.close()
        os.replace(tmp, self.path)

    # -- slots -----------------------------------------------------------------------

    def _period(self, now: float | None) -> int:
        return int((self.clock() if now is None else now) // self.period)

    def _probe(self, tag: int) -> Iterator[int]:
        home = tag % self.slots
        for step in range(self.slots):
            yield (home + step) % self.slots

    def _label(self, index: int) -> bytes:
        return self.words.read(HEADER_BYTES + index * SLOT_BYTES + 16, LABEL_BYTES)

    def _find(self, label: bytes, tag: int) -> int | None:
        """Return the slot of ``label`` without locking, or None."""
        padded = label.ljust(LABEL_BYTES, b"\0")
        for index in self._probe(tag):
            found = self.words.load(_tag(index))
            if found == 0:
                return None
            if found == tag and self._label(index) == padded:
                return index
        return None

    def _assign(self, label: bytes, period: int) -> tuple[int, int]:
        """Return (slot, tag) of ``label``, assigning a slot (hold the lock)."""
        tag = tag_of(label)
        padded = label.ljust(LABEL_BYTES, b"\0")
        while True:
            reusable = None
            for index in self._probe(tag):
                found = self.words.load(_tag(index))
                word = self.words.load(_counter(index))
                if found == tag and self._label(index) == padded:
                    if word == LOCKED:  # its assigner died half-way
                        self.words.store(_counter(index), period << COUNT_BITS)
                    return index, tag
                idle = word == LOCKED or (word >> COUNT_BITS) + 1 < period
                if reusable is None and (found == 0 or idle):
                    reusable = (index, word)
                if found == 0:
                    break
            if reusable is None:
                raise QuotaTableError(
                    f"the quota table {self.path} is full ({self.slots} slots); "
                    "raise the setting quota_slots and restart"
                )
            index, word = reusable
            if word == LOCKED or self.words.cas(_counter(index), word, LOCKED):
                offset = HEADER_BYTES + index * SLOT_BYTES + 16
                self.words.write(offset, padded)
                self.words.store(_tag(index), tag)
                self.words.store(_counter(index), period << COUNT_BITS)
                return index, tag
            # its owner charged it meanwhile: it is not idle any more

    def _slot(self, owner: str, family: str, period: int) -> tuple[int, int, int]:
        """Return (counter word, tag word, tag) of (owner, family), cached."""
        key = (owner, family)
        entry = self._cache.get(key)
        if entry is None:
            label = label_of(owner, family)
            tag = tag_of(label)
            index = self._find(label, tag)
            if index is None:
                with self._allocating():
                    index, tag = self._assign(label, period)
            entry = self._cache[key] = (_counter(index), _tag(index), tag)
        return entry

    # -- counting --------------------------------------------------------------------

    def _check_mode(self) -> None:
        mode = _MODES[SharedWords.MODE]
        if not self._mode_checked:
            self.words.cas(_H_MODE, 0, mode)
            if self.words.load(_H_MODE) != mode:
                raise QuotaTableError(
                    f"{self.path} is being updated by processes running the other "
                    "atomics twin (compiled vs SIKKER_PURE); run one kind only"
                )
            self._mode_checked = True

    def count(
        self,
        owner: str,
        family: str,
        amount: int,
        limit: int,
        partial: bool = False,
        now: float | None = None,
    ) -> tuple[int, int, int]:
        """Count ``amount`` (or, with ``partial``, what fits) in one atomic step.

        The lean form of :meth:`charge` and :meth:`charge_upto`.

        Returns:
            ``(granted, used, period)``: the units counted, the period's
            count afterwards and the period number.
        """
        # PERF: on every keyed request; no system call once the slot is known.
        if self._forked:
            self._check_open()
        if not self._mode_checked:
            self._check_mode()
        period = int((self.clock() if now is None else now) // self.period)
        key = (owner, family)
        for _ in range(_RETRIES):
            counter, tag_word, tag = self._cache.get(key) or self._slot(
                owner, family, period
            )
            granted, used = self.words.charge(
                counter, tag_word, tag, period, amount, limit, partial
            )
            if granted >= 0:
                return granted, used, period
            self._cache.pop(key, None)
        raise QuotaTableError(f"the quota slot of {owner!r}/{family} keeps moving")

    def charge(
        self,
        owner: str,
        family: str,
        amount: int,
        limit: int,
        now: float | None = None,
    ) -> Charge:
        """Count ``amount`` units if the period's total stays within ``limit``.

        Check and count are one atomic step across processes: nothing is
        counted when ``amount`` does not fit, and nothing is ever admitted
        beyond ``limit``.

        Returns:
            ``(allowed, used, remaining, reset_epoch)``: whether it was
            counted, the period's count afterwards, what is left, and when the
            period ends (epoch seconds; the next 00:00 UTC for days).
        """
        granted, used, period = self.count(owner, family, amount, limit, False, now)
        reset = (period + 1) * self.period
        return Charge(granted == amount, used, max(limit - used, 0), reset)

    def charge_upto(
        self,
        owner: str,
        family: str,
        amount: int,
        limit: int,
        now: float | None = None,
    ) -> tuple[int, Charge]:
        """Count as much of ``amount`` as fits within ``limit``.

        Returns:
            ``(granted, charge)``: the units counted (0 when none were left)
            and the :class:`Charge` after counting them.
        """
        granted, used, period = self.count(owner, family, amount, limit, True, now)
        reset = (period + 1) * self.period
        allowed = granted > 0 or amount == 0
        return granted, Charge(allowed, used, max(limit - used, 0), reset)

    def used(self, owner: str, family: str, now: float | None = None) -> int:
        """Return the current period's count of (owner, family), 0 if none."""
        self._check_open()
        period = self._period(now)
        entry = self._cache.get((owner, family))
        if entry is None or self.words.load(entry[1]) != entry[2]:
            label = label_of(owner, family)
            tag = tag_of(label)
            index = self._find(label, tag)
            if index is None:
                return 0
            entry = self._cache[(owner, family)] = (_counter(index), _tag(index), tag)
        word = self.words.load(entry[0])
        if word == LOCKED or word >> COUNT_BITS < period:
            return 0
        return int(word & COUNT_MASK)

    def current_period(self, now: float | None = None) -> int:
        """Return the number of the current period (the UTC day number)."""
        return self._period(now)

    def reset_epoch(self, now: float | None = None) -> int:
        """Return when the current period ends (epoch seconds)."""
        return (self._period(now) + 1) * self.period

    def entries(self, since: int) -> list[Usage]:
        """Return every nonzero counter of periods >= ``since``."""
        self._check_open()
        return list(_entries(self.words, since))

    # -- lifecycle -------------------------------------------------------------------

    def _check_open(self) -> None:
        if self._forked or os.getpid() != self._pid:
            raise QuotaTableError("the quota table was opened in another process")

    def close(self) -> None:
        """Unmap the table and release its locks (idempotent)."""
        if self._pid != os.getpid() or self._users_fd < 0:
            return
        self.words.close()
        os.close(self._users_fd)
        os.close(self._alloc_fd)
        self._users_fd = self._alloc_fd = -1


#: Every table of this process, so that a forked child knows it must not use them.
_OPEN_TABLES: "weakref.WeakSet[QuotaTable]" = weakref.WeakSet()


def _forked() -> None:
    for table in list(_OPEN_TABLES):
        table._forked = True


os.register_at_fork(after_in_child=_forked)


def _open(path: Path) -> int:
    return os.open(path, os.O_RDWR | os.O_CREAT, 0o600)


def _tag(index: int) -> int:
    return _HEADER_WORDS + index * _SLOT_WORDS


def _counter(index: int) -> int:
    return _HEADER_WORDS + index * _SLOT_WORDS + 1


def _map(path: Path) -> SharedWords | None:
    """Map an existing, well-formed table file, or return None."""
    try:
        fd = os.open(path, os.O_RDWR)
    except FileNotFoundError:
        return None
    try:
        size = os.fstat(fd).st_size
        if size < HEADER_BYTES:
            return None
        header = SharedWords(fd, HEADER_BYTES)
        magic, slots = header.load(_H_MAGIC), header.load(_H_SLOTS)
        header.close()
        if magic != MAGIC or size != HEADER_BYTES + slots * SLOT_BYTES:
            return None
        return SharedWords(fd, size)
    finally:
        os.close(fd)


def _entries(words: SharedWords, since: int) -> Iterator[Usage]:
    """Yield (family, owner, period, count) of the live counters of a table."""
    slots = words.load(_H_SLOTS)
    since = max(since, 0)
    view = words.buffer()
    try:
        table = np.frombuffer(
            view, dtype="<u8", count=slots * _SLOT_WORDS, offset=HEADER_BYTES
        ).reshape(slots, _SLOT_WORDS)
        counters = table[:, 1].copy()
        live = np.flatnonzero(
            (counters != LOCKED)
            & (counters >> np.uint64(COUNT_BITS) >= since)
            & (counters & np.uint64(COUNT_MASK) > 0)
        )
        labels = table[live, 2:].tobytes()
        tags = table[live, 0].tolist()
        del table
    finally:
        view.release()
    for n, index in enumerate(live.tolist()):
        word = int(counters[index])
        label = labels[n * LABEL_BYTES : (n + 1) * LABEL_BYTES].rstrip(b"\0")
        if tag_of(label) != tags[n] or b"\0" not in label:
            continue  # being reassigned at this moment
        family, owner = label.decode().split("\0", 1)
        yield family, owner, word >> COUNT_BITS, word & COUNT_MASK


class Flusher:
    """Copy a table's counters to durable storage every ``interval`` seconds.

    Every process runs one; the processes of a table share the schedule
    through the table header, so one of them flushes per interval. A power
    loss can thus forget at most ``interval`` seconds of counts (plus the
    commit time of the flush itself).
    """

    def __init__(
        self,
        table: QuotaTable,
        sink: Callable[[list[Usage]], None],
        interval: float,
    ) -> None:
        self.table = table
        self.sink = sink
        self.interval = interval
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Start the background thread (a daemon)."""
        self._thread = threading.Thread(
            target=self._run, name="sikker-quota-flush", daemon=True
        )
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.interval / 4):
            try:
                self.maybe_flush()
            except Exception:  # keep counting; the next tick tries again
                log.exception("cannot persist the quota counters")

    def maybe_flush(self) -> bool:
        """Flush if no process of the table did for 3/4 of an interval."""
        words = self.table.words
        now = int(time.time() * 1000)
        last = words.load(_H_FLUSHED)
        due = now - last >= self.interval * 750 or now < last
        if due and words.cas(_H_FLUSHED, last, now):
            self.flush()
            return True
        return False

    def flush(self) -> int:
        """Persist the live counters now; return how many."""
        with self._lock:
            entries = self.table.entries(self.table.current_period() - 1)
            if entries:
                self.sink(entries)
            return len(entries)

    def stop(self) -> None:
        """Stop the thread, then flush once more (a clean shutdown)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self.flush()
