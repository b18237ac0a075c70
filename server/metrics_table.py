"""Request counters shared by every gunicorn worker, exact and lock-free.

One fixed table of 64-bit words in a memory-mapped file that each worker
maps and adds to atomically (:mod:`sikker.core.atomics`, the same primitive
as the quota counters), so a scrape of any worker sees the counts of all of
them. Per route template (plus ``UNMATCHED`` for paths no route serves):

    5 words   requests by status class (1xx .. 5xx)
    N+1 words latency histogram: requests per bucket of ``BUCKETS`` (+Inf last)
    1 word    total latency in microseconds

then one word per quota family: requests refused with a 429 for it.

The layout follows from the route templates and families, so the file is
named after a hash of them (``<data_dir>/metrics/requests-<hash>.words``);
a server with other routes counts in another file. Counts survive restarts
(Prometheus treats any decrease as a reset anyway); delete the directory to
start from zero.
"""

import hashlib
import os
import threading
from bisect import bisect_left
from dataclasses import dataclass
from pathlib import Path

from sikker.core.atomics import SharedWords

METRICS_DIR = "metrics"
#: Label of requests that matched no route (404s).
UNMATCHED = "(unmatched)"
STATUS_CLASSES = ("1xx", "2xx", "3xx", "4xx", "5xx")
#: Upper bounds (seconds) of the latency histogram buckets.
BUCKETS = (
    0.0005,
    0.001,
    0.0025,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
    10.0,
)
_HEADER_WORDS = 2  # magic, layout hash
_MAGIC = int.from_bytes(b"SKMETRC1", "little")
_PER_ROUTE = len(STATUS_CLASSES) + len(BUCKETS) + 1 + 1
_FIRST_BUCKET = len(STATUS_CLASSES)
#: Status // 100 -> its class's word (below 100 counts as 1xx, 600+ as 5xx).
_CLASS_OF = (0, 0, 1, 2, 3, 4, 4, 4, 4, 4)
#: Forks this process descends from: a table mapped before a fork maps again.
_FORKS = [0]
os.register_at_fork(after_in_child=lambda: _FORKS.__setitem__(0, _FORKS[0] + 1))


@dataclass(frozen=True)
class RouteCounts:
    """What the table holds for one route template."""

    by_class: dict[str, int]
    buckets: list[int]  # per bucket, not cumulative; +Inf last
    sum_seconds: float

    @property
    def count(self) -> int:
        """Return the requests counted."""
        return sum(self.buckets)


@dataclass(frozen=True)
class Counts:
    """A read of the whole table."""

    routes: dict[str, RouteCounts]
    rejections: dict[str, int]


class MetricsTable:
    """The shared counters of one server (one data directory and route set).

    Args:
        directory: Where the counter file lives (created if missing).
        routes: Every route template the app serves.
        families: Quota families whose 429s are counted.
    """

    def __init__(
        self, directory: Path, routes: list[str], families: tuple[str, ...]
    ) -> None:
        self.routes = [*sorted(set(routes)), UNMATCHED]
        self.families = tuple(families)
        self._family_index = {family: i for i, family in enumerate(self.families)}
        self._bases: dict[str | None, int] = {
            route: _HEADER_WORDS + i * _PER_ROUTE for i, route in enumerate(self.routes)
        }
        self._unmatched = self._bases[UNMATCHED]
        layout = "\n".join([*self.routes, "", *self.families, "", repr(BUCKETS)])
        self.layout_hash = hashlib.blake2b(layout.encode(), digest_size=8).digest()
        self.path = directory / f"requests-{self.layout_hash.hex()}.words"
        self._words_needed = (
            _HEADER_WORDS + len(self.routes) * _PER_ROUTE + len(self.families)
        )
        self._lock = threading.Lock()
        self._words: SharedWords | None = None
        self._pid = 0
        self._forks = -1

    def _open(self) -> SharedWords:
        """Map the file in this process (again after a fork)."""
        words = self._words
        if words is not None and self._forks == _FORKS[0]:  # PERF: no getpid()
            return words
        with self._lock:
            if self._words is None or self._pid != os.getpid():
                self.path.parent.mkdir(parents=True, exist_ok=True)
                size = self._words_needed * 8
                fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
                try:
                    if os.fstat(fd).st_size < size:
                        os.ftruncate(fd, size)  # zero-filled; same size for all
                    self._words = SharedWords(fd, size)
                finally:
                    os.close(fd)
                self._words.store(0, _MAGIC)
                self._words.store(1, int.from_bytes(self.layout_hash, "little"))
                self._pid = os.getpid()
                self._forks = _FORKS[0]
            return self._words

    def observe(self, route: str | None, status: int, seconds: float) -> None:
        """Count one answered request of ``route`` (None: no route matched)."""
        words = self._open()
        base = self._bases.get(route) or self._unmatched  # PERF: no helper call
        words.add(base + (_CLASS_OF[status // 100] if 0 <= status < 1000 else 4), 1)
        bucket = bisect_left(BUCKETS, seconds)  # the first bound >= seconds
        words.add(base + _FIRST_BUCKET + bucket, 1)
        words.add(base + _PER_ROUTE - 1, int(seconds * 1_000_000) if seconds > 0 else 0)

    def rejected(self, family: str) -> None:
        """Count one request refused because ``family``'s quota is used up."""
        index = self._family_index.get(family)
        if index is None:
            return
        offset = _HEADER_WORDS + len(self.routes) * _PER_ROUTE + index
        self._open().add(offset, 1)

    def read(self) -> Counts:
        """Return every counter (each word read atomically)."""
        words = self._open()
        routes = {}
        for i, route in enumerate(self.routes):
            base = _HEADER_WORDS + i * _PER_ROUTE
            values = [words.load(base + j) for j in range(_PER_ROUTE)]
            classes = len(STATUS_CLASSES)
            routes[route] = RouteCounts(
                by_class=dict(zip(STATUS_CLASSES, values[:classes], strict=True)),
                buckets=values[classes:-1],
                sum_seconds=values[-1] / 1_000_000,
            )
        start = _HEADER_WORDS + len(self.routes) * _PER_ROUTE
        rejections = {
            family: words.load(start + i) for i, family in enumerate(self.families)
        }
        return Counts(routes, rejections)

    def close(self) -> None:
        """Unmap the file in this process."""
        with self._lock:
            if self._words is not None and self._pid == os.getpid():
                self._words.close()
            self._words = None
