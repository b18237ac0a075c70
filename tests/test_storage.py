"""A full or read-only disk becomes a typed error, never a SIGBUS or a 500."""

import errno
import os
from pathlib import Path

import falcon
import falcon.testing
import lmdb
import pytest

from sikker.core import storage
from sikker.core.storage import reserve, reserve_lock_file, storage_error
from sikker.errors import StorageFullError, StorageReadOnlyError
from sikker.server.errors import install


@pytest.mark.parametrize(
    ("error", "kind"),
    [
        (OSError(errno.ENOSPC, "No space left on device"), StorageFullError),
        (OSError(errno.EDQUOT, "Disk quota exceeded"), StorageFullError),
        (OSError(errno.EROFS, "Read-only file system"), StorageReadOnlyError),
        (PermissionError(errno.EACCES, "Permission denied"), StorageReadOnlyError),
        (lmdb.Error("mdb_txn_commit: No space left on device"), StorageFullError),
        (lmdb.Error("mdb_env_open: Read-only file system"), StorageReadOnlyError),
        (lmdb.DiskError("mdb_put", 28), StorageFullError),
    ],
)
def test_full_and_read_only_disks_are_named(
    tmp_path: Path, error: Exception, kind: type
) -> None:
    found = storage_error(error, tmp_path, "cannot append to the event log")
    assert type(found) is kind and isinstance(found, OSError)
    assert str(found).startswith("cannot append to the event log: ")
    assert str(tmp_path) in str(found)


def test_other_failures_are_left_to_the_caller(tmp_path: Path) -> None:
    assert storage_error(ValueError("bad"), tmp_path, "x") is None
    assert storage_error(lmdb.CorruptedError("mdb_get", -30796), tmp_path, "x") is None
    assert storage_error(OSError(errno.EIO, "I/O error"), tmp_path, "x") is None


def test_a_write_cut_short_on_a_nearly_full_disk_is_a_full_disk(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(storage, "disk_state", lambda path: "full")
    cut = lmdb.Error("mdb_txn_commit: Input/output error")  # LMDB's short write
    assert isinstance(storage_error(cut, tmp_path, "x"), StorageFullError)


def test_reserve_allocates_every_block_of_a_sparse_file(tmp_path: Path) -> None:
    fd = os.open(tmp_path / "words", os.O_RDWR | os.O_CREAT)
    try:
        os.ftruncate(fd, 1 << 20)
        reserve(fd, 1 << 20)
        assert os.fstat(fd).st_blocks * 512 >= 1 << 20
    finally:
        os.close(fd)


def test_a_lock_file_is_sized_when_new_and_never_resized(tmp_path: Path) -> None:
    reserve_lock_file(tmp_path, 1024)
    size = (tmp_path / "lock.mdb").stat().st_size
    assert size >= 1024 * 64
    env = lmdb.open(str(tmp_path), max_readers=1024)
    assert env.max_readers() >= 1024  # LMDB keeps the file it found
    env.close()
    reserve_lock_file(tmp_path, 4096)
    assert (tmp_path / "lock.mdb").stat().st_size == size


def _raising(error: Exception) -> falcon.App:
    class Failing:
        def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
            raise error

    app = falcon.App()
    install(app)
    app.add_route("/x", Failing())
    return app


@pytest.mark.parametrize(
    ("error", "status", "code"),
    [
        (StorageFullError("disk full"), 507, "insufficient_storage"),
        (OSError(errno.EROFS, "Read-only file system", "/d/a"), 503,
         "storage_read_only"),
        (lmdb.Error("mdb_txn_commit: No space left on device"), 507,
         "insufficient_storage"),
        (OSError(errno.EROFS, "Read-only file system"), 500, "internal_error"),
        (lmdb.CorruptedError("mdb_get", -30796), 500, "internal_error"),
    ],
)  # fmt: skip
def test_the_server_answers_disk_trouble_in_the_error_shape(
    error: Exception, status: int, code: str
) -> None:
    resp = falcon.testing.TestClient(_raising(error)).simulate_get("/x")
    assert resp.status_code == status
    assert resp.json["code"] == code and resp.json["status"] == status
    if status != 500:
        assert resp.headers["Retry-After"] == "60"
        assert "/d/a" not in resp.json["error"]  # paths stay in the server log
