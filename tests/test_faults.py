"""Faults: killed builders and servers, full and read-only disks, stale readers.

The quick versions of issue 7's fault runs; ``benchmarks/run.py faults``
runs the full sizes with the same code (``benchmarks/faults_*.py``).
"""

from pathlib import Path

import pytest

from benchmarks.faults_publish import run_publish_faults
from tests.factories import build


@pytest.mark.slow
def test_builders_killed_at_random_points_never_serve_a_torn_snapshot(
    tmp_path: Path,
) -> None:
    build(tmp_path)
    faults = run_publish_faults(tmp_path, attempts=15, ips=10_000, max_delay=0.6)
    assert faults.problems == []
    assert faults.killed == faults.attempts == 15
    assert faults.torn == 0 and faults.reads > 1000
    # the reader was served generations of killed builders, each one whole
    assert faults.verified > 10
    assert faults.leftovers > 0  # some kills did leave a half-written build
