"""What ``sikker sync`` remembers between passes, in its state directory.

::

    <state_dir>/lock        held (flock) by the pass running now
    <state_dir>/state.json  server, filter, sequence, SHA-256, what was applied
    <state_dir>/set.bin     the set itself: sorted 16-byte storage-form addresses

Both files are replaced atomically (temporary file, fsync, rename), set first.
:meth:`StateDir.load` checks the set against the digest in ``state.json``; a
state that does not match (a crash between the two renames, a damaged file)
is dropped, and the next pass pulls in full.
"""

import fcntl
import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, fields
from pathlib import Path

import numpy as np
import orjson

from sikker.core import syncproto
from sikker.errors import SyncStateError

STATE_FILE = "state.json"
SET_FILE = "set.bin"
LOCK_FILE = "lock"


@dataclass
class SyncState:
    """The set an agent holds, and where it came from."""

    server: str
    #: The filter the agent asks for (its query parameters, canonical).
    request: str
    #: The filter the server answered with (``X-Sync-Filter``).
    filter: str
    sequence: int
    digest: str
    #: ``<target>:<sha256>`` of the set last applied (after the allow-list).
    applied: str = ""
    keys: np.ndarray = field(default_factory=syncproto.empty, repr=False)


def write_atomic(path: Path, chunks: Iterable[bytes], mode: int = 0o644) -> None:
    """Write ``path`` through a temporary file, fsync and rename."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        with open(tmp, "wb") as fh:
            for chunk in chunks:
                fh.write(chunk)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    fd = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class StateDir:
    """The agent's state directory."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    @contextmanager
    def lock(self) -> Iterator[None]:
        """Hold the directory for one pass; fail at once if another holds it.

        Raises:
            SyncStateError: the directory cannot be created, or is in use.
        """
        try:
            self.path.mkdir(parents=True, exist_ok=True)
            fh = open(self.path / LOCK_FILE, "a+")  # noqa: SIM115 - held below
        except OSError as ex:
            raise SyncStateError(
                f"cannot use the state directory {self.path}: {ex.strerror}; "
                "pass --state-dir DIR"
            ) from None
        with fh:
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise SyncStateError(
                    f"another sikker sync is running with {self.path} "
                    f"(it holds {self.path / LOCK_FILE})"
                ) from None
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    def load(self) -> SyncState | None:
        """Return the saved state, or None (none yet, or not trustworthy)."""
        try:
            meta = orjson.loads((self.path / STATE_FILE).read_bytes())
            data = (self.path / SET_FILE).read_bytes()
            state = SyncState(**meta)
        except (OSError, orjson.JSONDecodeError, TypeError):
            return None
        if len(data) % 16 or not isinstance(state.sequence, int):
            return None
        state.keys = np.frombuffer(data, syncproto.KEY)
        if syncproto.digest(state.keys) != state.digest:
            return None
        return state

    def save(self, state: SyncState) -> None:
        """Replace the saved state (the set first, then ``state.json``).

        Raises:
            SyncStateError: a file cannot be written.
        """
        meta = {f.name: getattr(state, f.name) for f in fields(state)}
        del meta["keys"]
        try:
            write_atomic(self.path / SET_FILE, [state.keys.tobytes()], 0o600)
            write_atomic(
                self.path / STATE_FILE,
                [orjson.dumps(meta, option=orjson.OPT_INDENT_2)],
                0o600,
            )
        except OSError as ex:
            raise SyncStateError(
                f"cannot save the sync state in {self.path}: {ex}"
            ) from None

    def remember(self, name: str, chunks: Iterable[bytes]) -> Path:
        """Keep a copy of what was last sent to the target; return its path."""
        path = self.path / name
        write_atomic(path, chunks, 0o600)
        return path
