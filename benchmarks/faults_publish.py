"""Fault: ``kill -9`` the builder at random points while a reader reads.

A forked builder process publishes full snapshots in a loop (through the real
:class:`~sikker.builder.publish.Publisher`, one held open like
``sikker build --follow`` does) and is SIGKILLed either after a random
delay or at a chosen point of publication (the test's own wrappers, installed
in the builder process only: no hook in the product). Meanwhile a reader
process reads through :class:`~sikker.core.store.SnapshotStore` as a server
worker does, and re-hashes every generation it is served against its
manifest. A read is torn when it fails or when a file of a generation it
used does not match the manifest's SHA-256.

After every kill the next builder must take the lock and publish again;
leftovers of the killed one (``snapshots/.tmp-*``) must be gone then.

The reader runs as ``python -m benchmarks.faults_publish DATA_DIR``.
"""

import os
import random
import signal
import subprocess
import sys
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from sikker.builder import publish as publish_module
from sikker.builder import writer
from sikker.core.filters import BlacklistQuery
from sikker.core.layout import SNAPSHOTS, TMP_PREFIX, current_path, snapshot_dirname
from sikker.core.manifest import Manifest
from sikker.core.snapshot import Snapshot
from sikker.core.store import SnapshotStore
from sikker.errors import BuildError, SikkerError, SnapshotCorruptError

ROOT = Path(__file__).resolve().parent.parent
#: Where a builder may be killed: (module, function, before or after it runs).
KILL_POINTS: tuple[tuple[str, str, str], ...] = (
    ("writer", "_write_records", "before"),
    ("writer", "_write_records", "after"),
    ("writer", "_write_bitmaps", "after"),
    ("writer", "_write_file", "before"),
    ("writer", "_write_file", "after"),
    ("publish", "_freeze", "after"),
    ("publish", "fsync_dir", "before"),
    ("publish", "fsync_dir", "after"),
    ("os", "rename", "before"),
    ("os", "rename", "after"),
    ("publish", "point_current", "before"),
    ("publish", "point_current", "after"),
    ("publish", "prune", "before"),
)
_MODULES: dict[str, Any] = {"writer": writer, "publish": publish_module, "os": os}


@dataclass
class PublishFaults:
    """What a run of builder kills found."""

    attempts: int = 0
    killed: int = 0
    publications: int = 0  # completed by killed builders
    reads: int = 0
    torn: int = 0
    generations: int = 0  # distinct generations the reader was served
    verified: int = 0  # of those, re-hashed and whole
    unverified: int = 0  # pruned before the reader could re-hash them
    leftovers: int = 0  # kills that left a .tmp directory behind
    problems: list[str] = field(default_factory=list)

    def figures(self) -> dict[str, float]:
        """Return the run's figures for the benchmark report."""
        return {
            "faults_publish_attempts": float(self.attempts),
            "faults_publish_torn_reads": float(self.torn),
            "faults_publish_reads": float(self.reads),
            "faults_publish_generations": float(self.generations),
        }


# -- the builder role ----------------------------------------------------------------


def arm(point: tuple[str, str, str], nth: int) -> None:
    """SIGKILL this process at the ``nth`` call of a kill point."""
    module_name, name, when = point
    module = _MODULES[module_name]
    original = getattr(module, name)
    calls = 0

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        nonlocal calls
        calls += 1
        if when == "before" and calls == nth:
            os.kill(os.getpid(), signal.SIGKILL)
        result = original(*args, **kwargs)
        if when == "after" and calls == nth:
            os.kill(os.getpid(), signal.SIGKILL)
        return result

    setattr(module, name, wrapper)


class Builder:
    """A builder forked from this process, publishing until it is killed.

    It publishes ``tables`` in turn through one held Publisher (as
    ``sikker build --follow`` does), ``count`` times (0: until killed),
    writing "published SEQ" lines to a pipe. Forked, not started afresh, so
    a kill costs no interpreter start; the child opens nothing of ours and
    leaves with ``os._exit``.
    """

    def __init__(
        self,
        data: Path,
        tables: list[Any],
        point: int = -1,
        nth: int = 0,
        count: int = 0,
    ) -> None:
        read, write = os.pipe()
        self.pid = os.fork()
        if self.pid == 0:  # the builder
            os.close(read)
            os._exit(_publish_loop(data, tables, point, nth, count, write))
        os.close(write)
        self._out = os.fdopen(read)

    def kill(self) -> None:
        """SIGKILL the builder."""
        os.kill(self.pid, signal.SIGKILL)

    def wait(self, seconds: float = 120) -> tuple[int | None, str]:
        """Return its exit code (-9 when killed; None: still alive, killed now)
        and what it wrote."""
        deadline = time.monotonic() + seconds
        code = None
        while code is None and time.monotonic() < deadline:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                code = os.waitstatus_to_exitcode(status)
            else:
                time.sleep(0.01)
        if code is None:
            self.kill()
            os.waitpid(self.pid, 0)
        with self._out:
            return code, self._out.read()


def _publish_loop(
    data: Path, tables: list[Any], point: int, nth: int, count: int, fd: int
) -> int:
    """The builder's life: arm the kill point, then publish (exit status)."""
    try:
        with os.fdopen(fd, "w", buffering=1) as out:
            if point >= 0:
                arm(KILL_POINTS[point], nth)
            with publish_module.Publisher(data) as publisher:
                for turn in range(count or 1 << 30):
                    manifest = publisher.publish(tables[turn % len(tables)])
                    out.write(f"published {manifest.sequence}\n")
        return 0
    except BaseException:  # a builder that fails, rather than dies, is a finding
        traceback.print_exc()
        return 1


# -- the reader role -----------------------------------------------------------------


def _read(snapshot: Snapshot) -> None:
    """Read like a worker: a blacklist, then a lookup of each address in it."""
    selection = snapshot.blacklist(BlacklistQuery(score_minimum=0, limit=200))
    texts = snapshot.ip_texts(selection)
    if len(texts) != min(200, snapshot.count):
        raise SnapshotCorruptError(f"blacklist of {len(texts)} rows")
    for text in texts[::10]:
        if snapshot.lookup(text) is None:
            raise SnapshotCorruptError(f"{text} is listed but cannot be looked up")


def _verify(path: Path) -> str:
    """Return "ok", "pruned" or what does not match the manifest."""
    try:
        Manifest.load(path).verify(path)
    except SnapshotCorruptError as ex:
        return "pruned" if not path.exists() else str(ex)
    return "ok"


def reader_main(data: Path) -> None:
    """Read until stdin closes, then print one JSON line of what was seen."""
    stop = threading.Event()

    def wait_for_eof() -> None:
        sys.stdin.read()
        stop.set()

    threading.Thread(target=wait_for_eof, daemon=True).start()
    store = SnapshotStore(data, check_interval=0)
    seen: dict[int, str] = {}
    reads = torn = 0
    problems: list[str] = []
    print("ready", flush=True)
    while not stop.is_set():
        try:
            snapshot = store.current()
            _read(snapshot)
        except (SikkerError, OSError) as ex:
            torn += 1
            problems.append(f"read failed: {type(ex).__name__}: {ex}"[:300])
            continue
        reads += 1
        for generation in snapshot.layers:
            if generation.sequence not in seen:
                seen[generation.sequence] = _verify(generation.path)
        if any(seen[g.sequence] not in ("ok", "pruned") for g in snapshot.layers):
            torn += 1
    problems += [f"{s}: {v}" for s, v in seen.items() if v not in ("ok", "pruned")]
    print(
        orjson.dumps(
            {
                "reads": reads,
                "torn": torn,
                "generations": len(seen),
                "verified": sum(v == "ok" for v in seen.values()),
                "unverified": sum(v == "pruned" for v in seen.values()),
                "problems": problems[:20],
            }
        ).decode(),
        flush=True,
    )


# -- the driver ----------------------------------------------------------------------


def _start_reader(data: Path) -> "subprocess.Popen[str]":
    proc = subprocess.Popen(
        [sys.executable, "-m", "benchmarks.faults_publish", str(data)],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline().strip()
    if line != "ready":
        proc.kill()
        raise RuntimeError(f"the reader did not start: {line!r}")
    return proc


def _lock_is_free(data: Path) -> bool:
    try:
        with publish_module.build_lock(data):
            return True
    except BuildError:
        return False


def _leftovers(data: Path) -> list[Path]:
    return list((data / SNAPSHOTS).glob(f"{TMP_PREFIX}*"))


def _attempt(
    data: Path,
    rng: random.Random,
    tables: list[Any],
    max_delay: float,
    faults: PublishFaults,
) -> None:
    """Start a builder, kill it at a random point, check what it left."""
    point = -1
    if rng.random() < 0.5:
        point, nth = rng.randrange(len(KILL_POINTS)), rng.randint(1, 4)
        builder = Builder(data, tables, point, nth)
    else:
        builder = Builder(data, tables)
        time.sleep(rng.uniform(0, max_delay))
        builder.kill()
    code, out = builder.wait()
    if code is None:
        faults.problems.append(f"builder armed at {KILL_POINTS[point]} never died")
    faults.attempts += 1
    faults.killed += code == -signal.SIGKILL
    faults.publications += out.count("published")
    faults.leftovers += bool(_leftovers(data))
    if not _lock_is_free(data):
        faults.problems.append("build.lock still held after the builder died")
    try:
        whole = _verify(current_path(data))
    except SikkerError as ex:
        whole = str(ex)
    if whole != "ok":
        faults.problems.append(f"CURRENT is not whole after a kill: {whole}")


def run_publish_faults(
    data: Path,
    attempts: int,
    ips: int = 20_000,
    seed: int = 1,
    max_delay: float = 1.5,
    say: Callable[[str], None] = lambda line: None,
) -> PublishFaults:
    """Kill ``attempts`` builders at random points under a reading reader.

    ``data`` must hold a published snapshot. A last builder runs without a
    kill point and must publish and leave no leftovers.
    """
    from sikker.builder import demo

    rng = random.Random(seed)
    tables = [demo.generate(ips, seed=seed), demo.generate(ips // 2, seed=seed + 1)]
    faults = PublishFaults()
    reader = _start_reader(data)
    try:
        for n in range(attempts):
            _attempt(data, rng, tables, max_delay, faults)
            if (n + 1) % 10 == 0:
                say(f"   {n + 1}/{attempts} builders killed")
        _final_publication(data, tables, faults)
    finally:
        out, _ = reader.communicate("", timeout=120)
    seen = orjson.loads(out.strip().splitlines()[-1])
    faults.reads, faults.torn = seen["reads"], seen["torn"]
    faults.generations, faults.verified = seen["generations"], seen["verified"]
    faults.unverified = seen["unverified"]
    faults.problems += seen["problems"]
    return faults


def _final_publication(data: Path, tables: list[Any], faults: PublishFaults) -> None:
    """A builder after the last kill must publish and clean every leftover."""
    code, out = Builder(data, tables, count=1).wait()
    published = [int(line.split()[1]) for line in out.splitlines() if line]
    if code != 0 or len(published) != 1:
        faults.problems.append(f"the last builder did not publish: {out!r}")
    elif current_path(data).name != snapshot_dirname(published[0]):
        faults.problems.append("CURRENT does not name the last publication")
    if _leftovers(data):
        faults.problems.append(f"leftovers after a publication: {_leftovers(data)}")


if __name__ == "__main__":
    reader_main(Path(sys.argv[1]))
