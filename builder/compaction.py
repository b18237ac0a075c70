"""Compact base + overlay into a new base in a child process.

Rewriting ten million records takes about a minute, so the follow loop does
not wait for it: a spawned child writes the visible snapshot of generation S
as a new base into a staging directory while the loop keeps publishing
overlays. When the child is done, the loop installs the new base (without
pointing CURRENT at it), publishes an overlay on it with everything that
changed after S, and only then moves CURRENT: readers go from the old
(base, overlay) pair to the new one without ever missing a change.
"""

import multiprocessing
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sikker.builder.conform import conform
from sikker.builder.state import EMAILS, USERNAMES, State
from sikker.builder.unpack import table_from_snapshot
from sikker.builder.writer import Intel, write_snapshot
from sikker.core.layout import MANIFEST, STATE_DIR
from sikker.core.manifest import Manifest
from sikker.core.snapshot import Snapshot

#: Placeholder sequence of a staged base; the real one is set when installed.
STAGED = 0


@dataclass
class Job:
    """A base being written by a child process."""

    process: multiprocessing.process.BaseProcess
    staging: Path
    source: int  # the generation whose visible records the base holds
    cursor: int  # the event cursor that generation reflects

    def done(self) -> bool:
        """Return True once the child has exited."""
        return not self.process.is_alive()

    def succeeded(self) -> bool:
        """Return True if the child exited cleanly."""
        return self.process.exitcode == 0


def start(
    data_dir: Path,
    source: Snapshot,
    staging: Path,
    cursor: int,
    catalog: dict[str, Any],
    benign_sources: list[dict[str, Any]],
) -> Job:
    """Start writing ``source``'s visible records as a base into ``staging``."""
    context = multiprocessing.get_context("spawn")  # never fork LMDB handles
    process = context.Process(
        target=_write_base,
        args=(str(data_dir), str(source.path), str(staging), catalog, benign_sources),
        name="sikker-compaction",
        daemon=True,
    )
    process.start()
    return Job(process, staging, source.sequence, cursor)


def install(job: Job, sequence: int) -> Manifest:
    """Give a finished staged base its final sequence number."""
    manifest = Manifest.load(job.staging)
    manifest.sequence = sequence
    with open(job.staging / MANIFEST, "wb") as fh:
        fh.write(manifest.to_json())
        fh.flush()
        os.fsync(fh.fileno())
    return manifest


def _write_base(
    data_dir: str,
    source: str,
    staging: str,
    catalog: dict[str, Any],
    benign_sources: list[dict[str, Any]],
) -> None:
    """Child process: write the visible records of ``source`` as a base."""
    snapshot = Snapshot.open(Path(source))
    table = conform(table_from_snapshot(snapshot), catalog, benign_sources)
    state = State(Path(data_dir) / STATE_DIR)
    try:
        intel = Intel(dict(state.all_intel(USERNAMES)), dict(state.all_intel(EMAILS)))
    finally:
        state.close()
    write_snapshot(table, Path(staging), STAGED, intel=intel)
