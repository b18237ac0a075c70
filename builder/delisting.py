"""Keep delisted addresses out of published generations, for a while.

An approved removal request delists an address until a given time (see
:mod:`sikker.core.removals`). Before each publish the builder calls
:meth:`Delisting.sync`: a newly delisted address gets its evidence copied
into the builder's state if only a snapshot held it (so nothing is lost
when it disappears from the next base); an address whose period ended is
marked changed, so the next overlay publishes it again, freshly scored.
:meth:`hidden` lists what overlays must hide and :meth:`drop` takes it out
of tables (full bases included).
"""

import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from sikker.builder.evidence import Evidence
from sikker.builder.state import Changes, State
from sikker.core.handles import shared
from sikker.core.records import RecordTable
from sikker.core.removals import RemovalStore

_META = "delisted"


class Delisting:
    """The addresses a builder hides, kept in step with the removal store."""

    def __init__(
        self, data_dir: Path, state: State, clock: Callable[[], float] = time.time
    ) -> None:
        self.data_dir = Path(data_dir)
        self.state = state
        self.clock = clock
        stored = state.meta(_META) or {}
        self._applied: dict[bytes, int] = {
            bytes.fromhex(ip): until for ip, until in stored.items()
        }

    def sync(self, seed: Callable[[bytes], Evidence | None]) -> list[bytes]:
        """Apply new delistings and ended ones; return the addresses affected.

        ``seed`` returns the published evidence of an address the state
        does not hold (imported or demo data).
        """
        store = shared(RemovalStore, self.data_dir)
        active = store.delisted(self.clock())
        new = [ip for ip in active if ip not in self._applied]
        ended = [ip for ip in self._applied if ip not in active]
        if not new and not ended and active == self._applied:
            return []
        kept = {}
        for ip16 in new:
            if self.state.evidence(ip16) is None:
                evidence = seed(ip16)
                if evidence is not None:
                    kept[ip16] = evidence
        if kept:
            self.state.commit(Changes(cursor=self.state.cursor(), evidence=kept))
        if ended:
            self.state.mark_changed(ended, after=self.state.cursor())
        self._applied = dict(active)
        self.state.set_meta(_META, {ip.hex(): until for ip, until in active.items()})
        return new + ended

    def hidden(self) -> np.ndarray:
        """Return the delisted addresses as an (N, 16) uint8 array."""
        data = b"".join(sorted(self._applied))
        return np.frombuffer(data, np.uint8).reshape(-1, 16)

    def drop(self, table: RecordTable) -> RecordTable:
        """Return ``table`` without its delisted addresses."""
        if not self._applied or not len(table):
            return table
        ips = np.ascontiguousarray(table.ip)
        candidates = np.flatnonzero(np.isin(_hash(ips), _hash(self.hidden())))
        gone = [int(i) for i in candidates if bytes(ips[i]) in self._applied]
        if not gone:
            return table
        return table.take(np.delete(np.arange(len(table)), gone))


def _hash(ips: np.ndarray) -> np.ndarray:
    """Return a 64-bit hash of each (N, 16) address (collisions are checked)."""
    halves = ips.view(np.uint64).reshape(-1, 2)
    return halves[:, 0] ^ (halves[:, 1] * np.uint64(0x9E3779B97F4A7C15))
