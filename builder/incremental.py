"""Follow the event log and publish what changed, within seconds.

Each step reads the events after the state's cursor, folds them into the
evidence state (one atomic commit with the cursor), and publishes a new
generation: an overlay holding every IP changed since the current base, or,
when there is no snapshot yet or the overlay has grown past
``overlay_max_ips``, a full base (the visible snapshot with the changes
applied), after which the overlay starts empty again.
"""

import os
import shutil
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from sikker.builder import compaction, stats
from sikker.builder.aggregate import Aggregator
from sikker.builder.alert_matcher import AlertMatcher
from sikker.builder.benign import BenignIndex
from sikker.builder.catalog import Catalog, load_catalog
from sikker.builder.conform import conform
from sikker.builder.delisting import Delisting
from sikker.builder.engine import Engine
from sikker.builder.evidence import Evidence
from sikker.builder.geo import Geo
from sikker.builder.progress import NullProgress, Progress
from sikker.builder.publish import Publisher, next_sequence
from sikker.builder.state import (
    EMAIL_KIND,
    EMAILS,
    IP_KIND,
    STATS,
    USERNAME_KIND,
    USERNAMES,
    Changes,
    State,
)
from sikker.builder.tabulate import Scorer
from sikker.builder.unpack import table_from_snapshot
from sikker.builder.writer import Delta, Intel, Overlay
from sikker.core.config import Config
from sikker.core.eventlog import EventLog
from sikker.core.generation import Generation, open_generation
from sikker.core.landscape import snapshot_stats
from sikker.core.layout import EVENTS_DIR, STATE_DIR, TMP_PREFIX
from sikker.core.manifest import Manifest
from sikker.core.records import Record, RecordTable
from sikker.core.snapshot import Snapshot
from sikker.core.store import SnapshotStore
from sikker.errors import BuildError, NoSnapshotError


@dataclass
class StepResult:
    """What one step did."""

    events: int
    manifest: Manifest | None


class IncrementalBuilder:
    """Turns the event log into published generations."""

    def __init__(
        self,
        data_dir: Path,
        config: Config,
        progress: Progress | None = None,
        log: EventLog | None = None,
    ) -> None:
        """Open the builder's state; ``log`` is an event log already open in
        this process (LMDB refuses a second handle), else one is opened."""
        self.data_dir = Path(data_dir)
        self.config = config
        self.progress = progress or NullProgress()
        self._own_log = log is None
        self.log = log or EventLog(self.data_dir / EVENTS_DIR)
        self.state = State(self.data_dir / STATE_DIR)
        self.catalog: Catalog = load_catalog(config.catalog_path or None)
        self.scorer = Scorer(
            self.catalog,
            BenignIndex.load(),
            Geo.open(config.geoip_country_db or None, config.geoip_asn_db or None),
        )
        self.store = SnapshotStore(self.data_dir, check_interval=0)
        # Evidence changed since the base, as committed (saves re-reading the
        # state for every overlay; bounded by overlay_max_ips).
        self._recent: dict[bytes, Evidence] = {}
        #: Compact in a child process instead of waiting (follow mode).
        self.background = False
        self._job: compaction.Job | None = None
        self.aggregator = Aggregator(
            self.state,
            Engine(self.catalog),
            seed=self._seed,
            session_timeout=config.session_timeout,
        )
        self._seed_stats()
        #: Addresses approved removal requests keep out of generations.
        self.delisting = Delisting(self.data_dir, self.state)
        #: Called with each step's changes once they are published.
        self.after_publish: list[Callable[[Changes], object]] = [
            AlertMatcher(self.data_dir, self._current, config.alert_repeat_seconds)
        ]

    def close(self) -> None:
        """Release the event log and the state."""
        if self._own_log:
            self.log.close()
        self.state.close()

    # -- steps -------------------------------------------------------------------

    def step(self, publisher: Publisher, max_events: int | None = None) -> StepResult:
        """Apply pending events (up to ``max_events``) and publish the result."""
        limit = max_events or self.config.build_batch_events
        delisted = self.delisting.sync(self._seed)
        entries = list(self.log.read(after=self.state.cursor(), limit=limit))
        if not entries and not delisted:
            return StepResult(0, None)
        changes = Changes(cursor=self.state.cursor())
        if entries:
            changes = self.aggregator.apply(entries)
            self.commit(changes)
        changed = list(dict.fromkeys([*changes.evidence, *delisted]))
        manifest = self.publish(publisher, changed)
        for hook in self.after_publish:
            hook(changes)
        return StepResult(len(entries), manifest)

    def commit(self, changes: Changes) -> None:
        """Commit a batch's changes to the state (and remember the evidence)."""
        self.state.commit(changes)
        self._recent.update(changes.evidence)

    def catch_up(self, publisher: Publisher) -> StepResult:
        """Apply every pending event, then publish once."""
        total = 0
        last = self.log.last_sequence()
        self.progress.stage("events", max(last - self.state.cursor(), 0))
        while True:
            entries = list(
                self.log.read(
                    after=self.state.cursor(), limit=self.config.build_batch_events
                )
            )
            if not entries:
                break
            self.commit(self.aggregator.apply(entries))
            total += len(entries)
            self.progress.advance(len(entries))
        self.progress.finish()
        return StepResult(total, None)

    def publish(
        self, publisher: Publisher, changed: list[bytes], full: bool = False
    ) -> Manifest:
        """Publish the state: an overlay, or a full base when due."""
        self.delisting.sync(self._seed)
        current = self._current()
        base_info = self.state.meta("base") or {}
        base = None if current is None else (current.base or current.top)
        if base is not None and not self._compatible(base):
            full = True  # the catalog or benign sources changed: rebase everything
        if base is not None and base_info.get("sequence") != base.sequence:
            base_info = {"sequence": base.sequence, "cursor": 0}  # built elsewhere
        since = base_info.get("cursor", 0)
        dirty = self.state.changed_since(since, IP_KIND)
        too_big = len(dirty) > self.config.overlay_max_ips
        if full or base is None or (too_big and not self.background):
            return self._publish_base(publisher, current, dirty)
        assert current is not None
        table = self._scored(dirty)
        manifest = publisher.publish(
            table,
            overlay=Overlay(base, removed=self.delisting.hidden()),
            delta=Delta(current.sequence, _ips(changed)),
            intel=self._intel(since),
        )
        self.state.set_meta("published", {"sequence": manifest.sequence})
        if too_big and self._job is None:
            self._start_compaction(publisher)
        return manifest

    # -- background compaction (follow mode) -------------------------------------

    def _start_compaction(self, publisher: Publisher) -> None:
        """Start rewriting the current snapshot as a base, in a child process."""
        source = self._current()
        assert source is not None
        publisher.pinned.add(source.sequence)
        self._job = compaction.start(
            self.data_dir,
            source,
            publisher.root / f"{TMP_PREFIX}compaction-{os.getpid()}",
            self.state.cursor(),
            self.scorer.catalog_snapshot,
            self.scorer.benign.snapshot_sources(),
        )
        self.progress.stage(f"compacting generation {source.sequence}", None)
        self.progress.finish()

    def _finish_compaction(self, publisher: Publisher) -> Manifest | None:
        """Install a finished base and layer the newer changes on it."""
        job, self._job = self._job, None
        assert job is not None
        publisher.pinned.discard(job.source)
        if not job.succeeded():
            shutil.rmtree(job.staging, ignore_errors=True)
            raise BuildError(
                f"compacting generation {job.source} failed "
                f"(exit status {job.process.exitcode}); see the builder's log"
            )
        current = self._current()
        assert current is not None
        sequence = next_sequence(self.data_dir)
        compaction.install(job, sequence)
        base = open_generation(publisher.install(job.staging, sequence))
        dirty = self.state.changed_since(job.cursor, IP_KIND)
        manifest = publisher.publish(
            self._scored(dirty),
            overlay=Overlay(base, removed=self.delisting.hidden()),
            delta=Delta(current.sequence, _ips([])),  # what readers see is unchanged
            intel=self._intel(job.cursor),
        )
        self.state.set_meta("base", {"sequence": sequence, "cursor": job.cursor})
        self.state.set_meta("published", {"sequence": manifest.sequence})
        self.state.forget_changes(job.cursor)
        still = set(dirty)
        self._recent = {ip: ev for ip, ev in self._recent.items() if ip in still}
        return manifest

    def _abandon_compaction(self) -> None:
        job, self._job = self._job, None
        if job is not None:
            job.process.terminate()
            job.process.join(timeout=30)
            shutil.rmtree(job.staging, ignore_errors=True)

    def _publish_base(
        self, publisher: Publisher, current: Snapshot | None, dirty: list[bytes]
    ) -> Manifest:
        """Publish everything as a new base (compaction of base + changes)."""
        cursor = self.state.cursor()
        if current is None:
            everything = self._all_evidence()
            if not everything:
                raise BuildError(
                    "nothing to build: the event log is empty; ingest events "
                    "(`sikker ingest`, POST /v1/sensor/events) or use --demo/--records"
                )
            table = self.scorer.table(everything)
        else:
            table = self._merged(current, dirty)
        table = self.delisting.drop(table)
        manifest = publisher.publish(table, self.progress, intel=self._intel(None))
        self.state.set_meta("base", {"sequence": manifest.sequence, "cursor": cursor})
        self.state.set_meta("published", {"sequence": manifest.sequence})
        self.state.forget_changes(cursor)
        self._recent.clear()
        return manifest

    def _merged(self, current: Snapshot, dirty: list[bytes]) -> RecordTable:
        """Return the visible records with the changed IPs freshly scored."""
        visible = conform(
            table_from_snapshot(current),
            self.scorer.catalog_snapshot,
            self.scorer.benign.snapshot_sources(),
        )
        if not dirty:
            return visible
        fresh = self._scored(dirty)
        changed = {bytes(ip) for ip in fresh.ip}
        keep = np.flatnonzero([bytes(ip) not in changed for ip in visible.ip])
        return RecordTable.concat([visible.take(keep), fresh])

    # -- helpers -----------------------------------------------------------------

    def _compatible(self, base: Generation) -> bool:
        return (
            base.catalog == self.scorer.catalog_snapshot
            and base.benign_sources == self.scorer.benign.snapshot_sources()
        )

    def _current(self) -> Snapshot | None:
        try:
            return self.store.current()
        except NoSnapshotError:
            return None

    def _seed(self, ip16: bytes) -> Evidence | None:
        """Return the evidence a published snapshot holds for an unknown IP."""
        current = self._current()
        if current is None:
            return None
        for layer in reversed(current.layers):
            buf = layer.get(ip16)
            if buf is not None:
                if not buf:
                    return None
                record = Record.decode(buf)
                country = current.countries[record.country]
                org = current.asn_orgs.get(str(record.asn))
                return Evidence.from_record(
                    record, current.catalog, [country, record.asn, org]
                )
        return None

    def _scored(self, ips: list[bytes]) -> RecordTable:
        recent, stored = self._recent, self.state.evidence
        items = [(ip16, recent.get(ip16) or stored(ip16) or Evidence()) for ip16 in ips]
        return self.delisting.drop(self.scorer.table(items))

    def _all_evidence(self) -> list[tuple[bytes, Evidence]]:
        return list(self.state.all_evidence())

    def _intel(self, since: int | None) -> Intel:
        """Return intel changed after event ``since`` (None: all of it), and
        the activity statistics (every generation carries all of them)."""
        if since is None:
            return Intel(
                dict(self.state.all_intel(USERNAMES)),
                dict(self.state.all_intel(EMAILS)),
                self._stats(),
            )
        return Intel(
            stats=self._stats(),
            usernames={
                name.decode(): self.state.intel(USERNAMES, name.decode()) or {}
                for name in self.state.changed_since(since, USERNAME_KIND)
            },
            emails={
                name.decode(): self.state.intel(EMAILS, name.decode()) or {}
                for name in self.state.changed_since(since, EMAIL_KIND)
            },
        )

    def _stats(self) -> dict[str, Any]:
        return self.state.stats()

    def _seed_stats(self) -> None:
        """Start the statistics from a published snapshot's (imported or demo
        data), once, as evidence starts from its records."""
        if self.state.meta(STATS) is None:
            current = self._current()
            found = snapshot_stats(current) if current is not None else {}
            self.state.set_meta(STATS, stats.seeded(found))

    # -- the loop ----------------------------------------------------------------

    def follow(
        self, publisher: Publisher, stop: threading.Event, interval: float
    ) -> None:
        """Publish new evidence as it arrives until ``stop`` is set.

        Compaction runs in a child process meanwhile (see
        :mod:`sikker.builder.compaction`).
        """
        self.background = True
        try:
            self._follow(publisher, stop, interval)
        finally:
            self._abandon_compaction()

    def _follow(
        self, publisher: Publisher, stop: threading.Event, interval: float
    ) -> None:
        last_expiry = 0.0
        while not stop.is_set():
            if self._job is not None and self._job.done():
                self._finish_compaction(publisher)
            result = self.step(publisher)
            now = time.time()
            if now - last_expiry > 60:
                self.state.commit(self.aggregator.expire(int(now)))
                last_expiry = now
            if result.manifest is not None:
                self.progress.stage(
                    f"seq {result.manifest.sequence}: {result.events} events", None
                )
                self.progress.finish()
            if not result.events:
                stop.wait(interval)


def _ips(addresses: list[bytes]) -> np.ndarray:
    return np.frombuffer(b"".join(addresses), np.uint8).reshape(-1, 16)
