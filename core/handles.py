"""One open handle per LMDB environment per process.

LMDB must not open one environment twice in a process (closing either
breaks the other's locks), yet a server worker's resources and a builder's
parts share stores: :func:`shared` hands every caller in the process the
same handle. A forked child starts with none, since an environment must
never cross a ``fork()``.
"""

import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")

_OPEN: dict[tuple[Any, Path], Any] = {}
_LOCK = threading.Lock()
os.register_at_fork(after_in_child=_OPEN.clear)


def shared(opener: Callable[[Path], T], path: Path) -> T:
    """Return this process's handle ``opener(path)``, opening it on first use."""
    key = (opener, Path(path).resolve())
    handle = _OPEN.get(key)
    if handle is None:
        with _LOCK:
            handle = _OPEN.get(key)
            if handle is None:
                handle = _OPEN[key] = opener(key[1])
    return handle
