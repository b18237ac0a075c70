"""One pass of ``sikker sync``: pull what changed, verify, apply, remember.

A pass holds the state directory's lock, then:

1. with a saved state, asks ``/v1/key/sync/delta?from=<sequence>`` with
   ``If-None-Match: "<sha256>"``: a 304 means the set is current (only the
   sequence moves on); a delta is applied to the saved set and the SHA-256 of
   the result must equal ``X-Sync-SHA256``. A 410, a digest that differs, a
   changed filter or a malformed delta fall back to a full pull;
2. otherwise (first run, no usable state, ``--full``) pulls
   ``/v1/key/sync/snapshot`` and checks its SHA-256 the same way;
3. leaves the allow-listed addresses out and applies the result to the
   target, unless the target already holds it;
4. only then saves the new state, so a pass that fails changes nothing and
   the next one starts from the same place.
"""

from dataclasses import dataclass
from typing import Any

import numpy as np

from sikker.core import syncproto
from sikker.errors import SyncDigestError, SyncProtocolError
from sikker.sync_allow import AllowList
from sikker.sync_http import Reply, Transport
from sikker.sync_state import StateDir, SyncState
from sikker.sync_targets import Target

SNAPSHOT_PATH = "/v1/key/sync/snapshot"
DELTA_PATH = "/v1/key/sync/delta"


@dataclass
class Pulled:
    """What a pass got from the server."""

    mode: str  # "full", "delta" or "not_modified"
    sequence: int
    filter: str
    keys: np.ndarray
    digest: str
    received: int  # body bytes
    added: int = 0
    removed: int = 0
    since: int | None = None


@dataclass
class PassResult:
    """What one pass did (``--json`` prints it)."""

    mode: str
    sequence: int
    count: int
    digest: str
    received: int
    added: int
    removed: int
    since: int | None
    allow_listed: int
    applied: bool
    target: str
    fallback: str | None = None

    def as_json(self) -> dict[str, Any]:
        """Return the result with camelCase names."""
        return {
            "mode": self.mode,
            "sequence": self.sequence,
            "from": self.since,
            "count": self.count,
            "sha256": self.digest,
            "added": self.added,
            "removed": self.removed,
            "bytesReceived": self.received,
            "allowListed": self.allow_listed,
            "applied": self.applied,
            "target": self.target,
            "fallback": self.fallback,
        }

    def line(self) -> str:
        """Return the one-line summary printed for a person."""
        if self.mode == "delta":
            how = f"delta from {self.since}: +{self.added} -{self.removed}"
        elif self.mode == "full":
            how = "full list"
        else:
            how = "not modified"
        fallback = f" (after: {self.fallback})" if self.fallback else ""
        allowed = f", {self.allow_listed} allow-listed" if self.allow_listed else ""
        done = "updated" if self.applied else "already in place"
        return (
            f"sequence {self.sequence}: {how}{fallback}; {self.count:,} addresses"
            f"{allowed}; {self.received:,} bytes; {self.target} {done}"
        )


def _number(reply: Reply, name: str) -> int:
    value = reply.header(name) or ""
    if not value.isascii() or not value.isdigit():
        raise SyncProtocolError(f"the answer's {name} header is {value!r}")
    return int(value)


def _text(reply: Reply, name: str) -> str:
    value = reply.header(name)
    if not value:
        raise SyncProtocolError(f"the answer has no {name} header")
    return value


class SyncAgent:
    """Keeps one target in step with one filter of one server."""

    def __init__(
        self,
        transport: Transport,
        target: Target,
        state_dir: StateDir,
        params: dict[str, str],
        allow: AllowList | None = None,
    ) -> None:
        self.transport = transport
        self.target = target
        self.state_dir = state_dir
        self.params = dict(params)
        self.request = syncproto.filter_key(self.params)
        self.allow = allow or AllowList()

    def run_once(self, full: bool = False) -> PassResult:
        """Run one pass (see the module docstring); return what it did.

        Raises:
            SyncError: the state directory is busy, a full list fails its
                SHA-256, the target refused the set.
            ClientError: the server refused or did not answer.
        """
        with self.state_dir.lock():
            state = self.state_dir.load()
            if state is not None and (
                state.server != self.transport.base or state.request != self.request
            ):
                state = None  # another server or filter: start over
            pulled, fallback = None, None
            if state is not None and not full:
                pulled, fallback = self._delta(state)
            if pulled is None:
                pulled = self._full(None if full else state)
            return self._apply(state, pulled, fallback)

    def _delta(self, state: SyncState) -> tuple[Pulled | None, str | None]:
        params = {**self.params, "from": str(state.sequence)}
        reply = self.transport.get(DELTA_PATH, params, syncproto.etag(state.digest))
        if reply.status == 410:
            return None, f"the server has no delta from sequence {state.sequence}"
        try:
            sequence = _number(reply, syncproto.SEQUENCE)
            answered = _text(reply, syncproto.FILTER)
            if reply.status == 304:
                keys, digest = state.keys, state.digest
                pulled = Pulled("not_modified", sequence, answered, keys, digest, 0)
                return pulled, None
            added, removed = syncproto.parse_delta(reply.body)
            expected = _text(reply, syncproto.SHA256)
            since = _number(reply, syncproto.FROM)
        except SyncProtocolError as ex:
            return None, f"unusable delta: {ex}"
        if answered != state.filter or since != state.sequence:
            return None, "the server answered for another filter or sequence"
        keys = syncproto.apply_delta(state.keys, added, removed)
        digest = syncproto.digest(keys)
        if digest != expected:
            return None, "the SHA-256 after the delta differs from the server's"
        size = len(reply.body)
        return Pulled(
            "delta", sequence, answered, keys, digest, size,
            len(added), len(removed), since,
        ), None  # fmt: skip

    def _full(self, state: SyncState | None) -> Pulled:
        """Pull the whole set (``If-None-Match`` with ``state``'s digest)."""
        etag = syncproto.etag(state.digest) if state is not None else None
        reply = self.transport.get(SNAPSHOT_PATH, self.params, etag)
        if reply.status != 200 and (reply.status != 304 or state is None):
            raise SyncProtocolError(f"the server answered a full pull {reply.status}")
        sequence = _number(reply, syncproto.SEQUENCE)
        answered = _text(reply, syncproto.FILTER)
        if reply.status == 304 and state is not None:
            keys, digest = state.keys, state.digest
            return Pulled("not_modified", sequence, answered, keys, digest, 0)
        keys = syncproto.parse_full(reply.body)
        expected = _text(reply, syncproto.SHA256)
        digest = syncproto.digest(keys)
        if digest != expected:
            raise SyncDigestError(
                f"the full list's SHA-256 is {digest}, the server announced "
                f"{expected}; nothing was applied (try again)"
            )
        return Pulled("full", sequence, answered, keys, digest, len(reply.body))

    def _apply(
        self, state: SyncState | None, pulled: Pulled, fallback: str | None
    ) -> PassResult:
        blocked, allowed = self.allow.without(pulled.keys)
        applied_tag = f"{self.target.name}:{syncproto.digest(blocked)}"
        unchanged = state is not None and state.applied == applied_tag
        changed = not (unchanged and self.target.in_place(blocked))
        if changed:
            self.target.apply(blocked)
        self.state_dir.save(
            SyncState(
                server=self.transport.base,
                request=self.request,
                filter=pulled.filter,
                sequence=pulled.sequence,
                digest=pulled.digest,
                applied=applied_tag,
                keys=pulled.keys,
            )
        )
        return PassResult(
            mode=pulled.mode,
            sequence=pulled.sequence,
            count=len(pulled.keys),
            digest=pulled.digest,
            received=pulled.received,
            added=pulled.added,
            removed=pulled.removed,
            since=pulled.since,
            allow_listed=allowed,
            applied=changed,
            target=self.target.name,
            fallback=fallback,
        )
