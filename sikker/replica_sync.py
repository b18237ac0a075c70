"""One pass of a read replica: bring the local snapshot in step with its primary.

A pass (docs/replication.md):

1. asks ``GET /v1/replica/state`` with ``If-None-Match`` of the state it
   holds: a 304 means it is in step and costs nothing more;
2. otherwise takes the primary's chain (its base, then the overlay on it)
   and pulls each generation it does not hold with exactly that manifest:
   every file into ``snapshots/.tmp-*``, its size and SHA-256 checked
   against the manifest as it arrives. A new overlay on the base it holds
   is a small *delta* pull; a new base (the first sync, a compaction, a gap
   after the primary was rebuilt) is a *full* pull;
3. installs each pulled generation and points CURRENT at the top one with
   the builder's own steps (:meth:`Publisher.install
   <sikker.builder.publish.Publisher.install>`, ``point_current``,
   ``prune``), so readers switch at their next request and never see a
   partial generation;
4. copies the primary's accounts and keys, web sign-ins and community
   reports when their tags moved (:mod:`sikker.replica_copies`).

A failed pass leaves CURRENT as it was and deletes what it staged; after a
file that did not match its manifest, the next pass is full (generations
held locally are hashed again before they are reused).
"""

import re
import shutil
import time
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from sikker.builder.publish import Publisher, point_current, prune
from sikker.core.layout import (
    MANIFEST,
    SNAPSHOTS,
    TMP_PREFIX,
    current_path,
    snapshot_dirname,
)
from sikker.core.manifest import Manifest
from sikker.core.replica_status import ReplicaStatus, load_status
from sikker.errors import (
    ReplicaDigestError,
    ReplicaProtocolError,
    SikkerError,
    SnapshotCorruptError,
    SnapshotError,
)
from sikker.replica_copies import Copies
from sikker.replica_http import PrimaryClient

STATE_PATH = "/v1/replica/state"
_HEX64 = re.compile(r"[0-9a-f]{64}")
_FILE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,99}")


@dataclass(frozen=True)
class RemoteGeneration:
    """One generation of the primary's chain."""

    name: str
    manifest: Manifest

    @property
    def sequence(self) -> int:
        """Return the generation's sequence number."""
        return self.manifest.sequence


@dataclass(frozen=True)
class RemoteState:
    """What the primary's readers see: its chain, base first."""

    sequence: int
    generations: tuple[RemoteGeneration, ...]
    accounts: str  # tag of the account directory
    sessions: str  # tag of the web sessions
    events: int  # the primary's last event log sequence

    @classmethod
    def parse(cls, doc: dict[str, Any]) -> "RemoteState":
        """Check the primary's state document.

        Raises:
            ReplicaProtocolError: it is not a chain this replica can install.
        """
        items = doc.get("generations")
        if not isinstance(items, list) or len(items) not in (1, 2):
            raise ReplicaProtocolError("the state lists no base and overlay")
        generations = tuple(_generation(item) for item in items)
        bases = [g.manifest.base for g in generations]
        if bases[0] is not None or (
            len(generations) == 2 and bases[1] != generations[0].sequence
        ):
            raise ReplicaProtocolError("the state's generations are not a base chain")
        sequence, accounts = doc.get("sequence"), doc.get("accounts")
        sessions, events = doc.get("sessions"), doc.get("events")
        if sequence != generations[-1].sequence or not isinstance(accounts, str):
            raise ReplicaProtocolError("the state's sequence or accounts tag is bad")
        if not isinstance(sessions, str) or type(events) is not int or events < 0:
            raise ReplicaProtocolError("the state's sessions or events tag is bad")
        return cls(sequence, generations, accounts, sessions, events)


def _generation(item: Any) -> RemoteGeneration:
    if not isinstance(item, dict) or not isinstance(item.get("name"), str):
        raise ReplicaProtocolError("a generation of the state has no name")
    try:
        manifest = Manifest.from_dict(item.get("manifest"), item["name"][:20])
    except SnapshotCorruptError as ex:
        raise ReplicaProtocolError(f"a manifest of the state is bad: {ex}") from None
    if type(manifest.sequence) is not int or manifest.sequence < 1:
        raise ReplicaProtocolError("a manifest of the state has a bad sequence")
    if item["name"] != snapshot_dirname(manifest.sequence):
        raise ReplicaProtocolError("a generation's name is not its sequence")
    if manifest.base is not None and type(manifest.base) is not int:
        raise ReplicaProtocolError("a manifest of the state has a bad base")
    if not isinstance(manifest.files, dict):
        raise ReplicaProtocolError("a manifest of the state has no file list")
    for name, entry in manifest.files.items():
        _check_file(name, entry)
    return RemoteGeneration(item["name"], manifest)


def _check_file(name: Any, entry: Any) -> None:
    """Refuse a file name that could leave the directory, or a bad digest."""
    parts = PurePosixPath(name).parts if isinstance(name, str) else ()
    if not parts or len(parts) > 2 or not all(_FILE.fullmatch(p) for p in parts):
        raise ReplicaProtocolError(f"a manifest names a bad file {str(name)[:60]!r}")
    if name == MANIFEST or not isinstance(entry, dict):
        raise ReplicaProtocolError(f"a manifest's entry for {name!r} is bad")
    size, sha256 = entry.get("size"), entry.get("sha256")
    if type(size) is not int or size < 0 or not isinstance(sha256, str):
        raise ReplicaProtocolError(f"a manifest's entry for {name!r} is bad")
    if not _HEX64.fullmatch(sha256):
        raise ReplicaProtocolError(f"a manifest's SHA-256 of {name!r} is bad")


@dataclass
class PassResult:
    """What one pass did (``--json`` prints it)."""

    mode: str  # "not_modified", "current", "delta" or "full"
    sequence: int | None
    pulled: list[str] = field(default_factory=list)
    received: int = 0
    copied: list[str] = field(default_factory=list)  # accounts, sessions, reports

    def as_json(self) -> dict[str, Any]:
        """Return the result with camelCase names."""
        return {
            "mode": self.mode,
            "sequence": self.sequence,
            "pulled": self.pulled,
            "bytesReceived": self.received,
            "copied": self.copied,
        }

    def line(self) -> str:
        """Return the one-line summary printed for a person."""
        if self.mode == "not_modified":
            how = "not modified"
        elif self.mode == "current":
            how = "already held"
        else:
            how = f"{self.mode} pull of {', '.join(self.pulled)}"
        copied = f"; {', '.join(self.copied)} copied" if self.copied else ""
        return (
            f"sequence {self.sequence}: {how}; {self.received:,} bytes received{copied}"
        )


class ReplicaSync:
    """Keeps one data directory a read replica of one primary."""

    def __init__(
        self,
        data_dir: Path,
        client: PrimaryClient,
        plans_path: str = "",
    ) -> None:
        self.data_dir = Path(data_dir)
        self.root = self.data_dir / SNAPSHOTS
        self.client = client
        self.plans_path = plans_path
        self.status = ReplicaStatus(client.primary.display)
        self.copies = Copies(self.data_dir, client, plans_path)
        self._state_tag: str | None = None
        self._full_next = False
        self._resume()

    def _resume(self) -> None:
        """Start from the tags a previous loop saved, if they still hold."""
        before = load_status(self.data_dir)
        if before is None or before.primary != self.status.primary:
            return
        if before.sequence is not None and before.sequence == held_sequence(
            self.data_dir
        ):
            self._state_tag = before.state_tag
            self.status.primary_sequence = before.primary_sequence
        self.copies.resume(before)

    def close(self) -> None:
        """Close the stores the passes opened (accounts, sessions, reports)."""
        self.copies.close()

    def run_once(self, publisher: Publisher, full: bool = False) -> PassResult:
        """Run one pass (see the module docstring) and save the status.

        Raises:
            SikkerError: the primary refused or did not answer, a file did not
                match its manifest, the state was malformed.
            OSError: the data directory cannot be written.
        """
        started = time.time()
        self.status.last_attempt = started
        try:
            result = self._pass(publisher, full or self._full_next, started)
        except (SikkerError, OSError) as ex:
            self.status.failures += 1
            self.status.last_error = str(ex)
            if isinstance(ex, ReplicaDigestError | SnapshotError):
                self._full_next, self._state_tag = True, None
            self._save()
            raise
        self._full_next = False
        self.status.passes += 1
        self.status.last_error = None
        self.status.last_success = time.time()
        self.status.in_step_at = started
        self.status.sequence = held_sequence(self.data_dir)
        self.status.primary_sequence = result.sequence
        self.status.bytes += result.received
        self.status.full_pulls += result.mode == "full"
        self.status.state_tag = self._state_tag
        self.copies.save(self.status)
        self._save()
        return result

    def _save(self) -> None:
        with suppress(OSError):  # the status is for monitoring; the pass stands
            self.status.save(self.data_dir)

    def _pass(self, publisher: Publisher, full: bool, started: float) -> PassResult:
        etag = None if full else self._state_tag
        doc, tag = self.client.document(STATE_PATH, etag)
        if doc is None:
            return PassResult("not_modified", self.status.primary_sequence)
        state = RemoteState.parse(doc)
        result = PassResult("current", state.sequence)
        for generation in state.generations:
            if self._holds(generation, verify=full):
                continue
            result.received += self._pull(publisher, generation)
            result.pulled.append(generation.name)
            is_base = generation.manifest.base is None
            result.mode = "full" if is_base or result.mode == "full" else "delta"
        top = self.root / state.generations[-1].name
        if self._current() != top:
            point_current(self.data_dir, top)
        prune(self.data_dir, publisher.keep, publisher.pinned)
        result.copied = self.copies.update(state.accounts, state.sessions, state.events)
        self._state_tag = tag
        return result

    def _current(self) -> Path | None:
        try:
            return current_path(self.data_dir)
        except SnapshotError:
            return None

    def _holds(self, generation: RemoteGeneration, verify: bool) -> bool:
        """Return True if the generation is held with the same manifest."""
        local = self.root / generation.name
        try:
            manifest = Manifest.load(local)
        except SnapshotError:
            return False
        same = manifest.files == generation.manifest.files and (
            manifest.base == generation.manifest.base
        )
        if same and verify:
            try:
                manifest.verify(local)
            except SnapshotCorruptError:
                return False
        return same

    def _pull(self, publisher: Publisher, generation: RemoteGeneration) -> int:
        """Pull, check and install one generation; return the bytes received."""
        staged = publisher.staging(generation.sequence)
        shutil.rmtree(staged, ignore_errors=True)
        staged.mkdir(parents=True)
        received = 0
        try:
            for name, expected in sorted(generation.manifest.files.items()):
                received += self.client.download(
                    generation.name, name, staged / name, expected
                )
            (staged / MANIFEST).write_bytes(generation.manifest.to_json())
            Manifest.load(staged).verify(staged)  # what readers will open
            self._set_aside(self.root / generation.name)
            publisher.install(staged, generation.sequence)
        except BaseException:
            shutil.rmtree(staged, ignore_errors=True)
            raise
        return received

    def _set_aside(self, final: Path) -> None:
        """Move a stale local copy of a generation out of the way, then drop it.

        Readers that have it open keep their mappings; new readers find the
        replacement once it is renamed into place.
        """
        if not final.exists():
            return
        stale = self.root / f"{TMP_PREFIX}stale-{final.name}-{time.time_ns()}"
        final.rename(stale)
        shutil.rmtree(stale, ignore_errors=True)


def held_sequence(data_dir: Path) -> int | None:
    """Return the sequence a data directory serves (None: nothing yet)."""
    try:
        return int(current_path(data_dir).name)
    except (SnapshotError, ValueError):
        return None
