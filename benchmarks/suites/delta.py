"""Incremental publish: 10,000 changed IPs into an N-IP snapshot.

The real code path of ``sikker build --follow``: the builder's state holds
new evidence for 10,000 IPs of the base (as if their events had just been
applied); one ``publish`` loads that evidence, scores it, and writes and
publishes the overlay generation (tombstones, bitmaps, columns, checksums,
fsyncs, the CURRENT swap). The base is hard-linked from the benchmark cache,
so the cached snapshot is never modified.
"""

import os
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from benchmarks.data import CACHE, demo_snapshot, scale
from sikker.builder.incremental import IncrementalBuilder
from sikker.builder.publish import Publisher
from sikker.builder.state import Changes
from sikker.core import ipcore
from sikker.core.config import load_config
from sikker.core.layout import CURRENT, SNAPSHOTS
from sikker.core.snapshot import Selection

CHANGED = 10_000


def _linked_copy(snapshot: Path, into: Path) -> None:
    """Give ``into`` the cached base generation (hard links) as CURRENT."""
    (into / SNAPSHOTS).mkdir(parents=True)
    shutil.copytree(snapshot, into / SNAPSHOTS / snapshot.name, copy_function=os.link)
    (into / CURRENT).write_text(f"{SNAPSHOTS}/{snapshot.name}\n")


def run(quick: bool, say: Callable[[str], None]) -> dict[str, float]:
    """Time publishing an overlay of CHANGED IPs on the cached demo base."""
    n = scale(quick)
    base_path = demo_snapshot(n, say)
    with tempfile.TemporaryDirectory(prefix="delta-", dir=CACHE) as tmp:
        data = Path(tmp)
        _linked_copy(base_path, data)
        config = load_config(environ={}, overrides={"data_dir": str(data)})
        builder = IncrementalBuilder(data, config)
        try:
            # The linked base shares inodes with the cache: open it only here.
            with builder.store.current() as base:
                rows = np.random.default_rng(3).choice(
                    base.count, CHANGED, replace=False
                )
                chosen = Selection(np.zeros(CHANGED, np.uint8), rows.astype(np.uint32))
                changes = Changes(cursor=1)
                for ip in base.ip_texts(chosen):
                    seed = builder._seed(ipcore.to_ip16(ip))
                    assert seed is not None
                    seed.add_session("ssh")
                    seed.add_event("ssh")
                    changes.evidence[ipcore.to_ip16(ip)] = seed
            builder.commit(changes)  # what a step does after folding events
            timings = []
            with Publisher(data) as publisher:
                for _ in range(3):
                    started = time.perf_counter()
                    manifest = builder.publish(publisher, list(changes.evidence))
                    timings.append(time.perf_counter() - started)
                    assert manifest.rows == CHANGED and manifest.base is not None
        finally:
            builder.close()
    best = min(timings)
    say(
        f"   overlay of {CHANGED:,} changed IPs on a {n:,}-IP base: best {best:.3f} s "
        f"(runs: {', '.join(f'{t:.3f}' for t in timings)})"
    )
    return {"delta_publish_s": best, "delta_changed_ips": float(CHANGED)}
