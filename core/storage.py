"""Tell a full or read-only disk from other write failures, as typed errors.

A write into the data directory can fail because the disk is full or the
file system is read-only; callers turn such failures into
:class:`~sikker.errors.StorageFullError` or
:class:`~sikker.errors.StorageReadOnlyError` with a message that says what
to do, and keep their own error for anything else (a bug, a corrupt file).
LMDB reports a write cut short by a full disk as ``EIO``, so the disk's own
state (``statvfs``) is asked as well.

:func:`reserve` allocates a file's blocks before it is memory-mapped for
writing (and :func:`reserve_lock_file` an LMDB lock file's): a write to a
mapped page the file system cannot allocate is a ``SIGBUS`` that kills the
process, where ``posix_fallocate`` fails with a plain ``ENOSPC``.
"""

import errno
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import lmdb

from sikker.errors import StorageError, StorageFullError, StorageReadOnlyError

_FULL = frozenset({errno.ENOSPC, errno.EDQUOT})
_READ_ONLY = frozenset({errno.EROFS, errno.EACCES, errno.EPERM})
_KNOWN = (*_FULL, *_READ_ONLY, errno.EIO)
#: Free bytes below which a failed write is put down to a full disk.
NEARLY_FULL = 1 << 20
#: An LMDB lock file: a header, then one 64-byte slot per reader (generous).
LOCK_FILE, _LOCK_HEADER, _READER_BYTES = "lock.mdb", 4096, 64


def storage_error(
    ex: BaseException, path: Path | None, what: str
) -> StorageError | None:
    """Return the typed error of ``ex``, a failed write of ``what`` at ``path``.

    None when the disk is neither full nor read-only: the caller raises its
    own error then. Without a ``path`` only the error itself is judged.
    """
    if isinstance(ex, StorageError):
        return ex
    if not isinstance(ex, OSError | lmdb.Error):
        return None
    code = _errno(ex)
    state = disk_state(Path(path)) if path is not None else None
    reason = os.strerror(code) if code is not None else str(ex)
    if code in _FULL or (state == "full" and code in (None, errno.EIO)):
        return StorageFullError(
            f"{what}: the disk holding {path} is full ({reason}); free space, "
            "then retry"
        )
    if code in _READ_ONLY or state == "read-only":
        return StorageReadOnlyError(
            f"{what}: {path} is not writable ({reason}); make the data "
            "directory writable for this user, then retry"
        )
    return None


def disk_state(path: Path) -> str | None:
    """Return "read-only", "full" or None for the file system holding ``path``."""
    for candidate in (path, *path.parents):
        try:
            st = os.statvfs(candidate)
        except OSError:
            continue
        if st.f_flag & os.ST_RDONLY:
            return "read-only"
        if st.f_bavail * st.f_frsize < NEARLY_FULL:
            return "full"
        return None
    return None


def reserve(fd: int, size: int) -> None:
    """Allocate the first ``size`` bytes of a file before mapping it.

    Raises:
        OSError: ``ENOSPC`` when the disk cannot hold them.
    """
    try:
        os.posix_fallocate(fd, 0, size)
    except OSError as ex:
        if ex.errno not in (errno.EOPNOTSUPP, errno.EINVAL, errno.ENODEV):
            raise  # a file system without fallocate maps sparse files as before


def reserve_lock_file(env_dir: Path, max_readers: int) -> None:
    """Allocate an LMDB environment's lock file before LMDB maps it.

    LMDB sizes a new lock file with ``ftruncate`` and writes it through a
    shared mapping: on a full disk, a SIGBUS. A new file gets its whole
    size here (LMDB keeps a lock file that is large enough); an existing
    one only has its holes filled, never its size changed, since other
    processes map it at that size.

    Raises:
        OSError: the disk is full or read-only.
    """
    fd = os.open(Path(env_dir) / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        size = os.fstat(fd).st_size
        reserve(fd, size or _LOCK_HEADER + max_readers * _READER_BYTES)
    finally:
        os.close(fd)


def _errno(ex: OSError | lmdb.Error) -> int | None:
    """Return the errno behind an OS or LMDB error, when there is one."""
    if isinstance(ex, OSError):
        return ex.errno
    if isinstance(ex, lmdb.DiskError):
        return errno.ENOSPC
    if isinstance(ex, lmdb.ReadonlyError):
        return errno.EACCES
    text = str(ex)  # py-lmdb: "mdb_txn_commit: No space left on device"
    return next((code for code in _KNOWN if text.endswith(os.strerror(code))), None)


@contextmanager
def storage_errors(path: Path, what: str) -> Iterator[None]:
    """Raise a full or read-only disk met inside the block as a typed error."""
    try:
        yield
    except (OSError, lmdb.Error) as ex:
        error = storage_error(ex, path, what)
        if error is None or error is ex:
            raise
        raise error from ex
