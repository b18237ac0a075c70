"""Timing helpers shared by the suites."""

import time
from collections.abc import Callable


def best_of(run: Callable[[], object], repeat: int) -> float:
    """Return the fastest of ``repeat`` runs of ``run``, in seconds."""
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - started)
    return best
