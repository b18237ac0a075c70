"""Fault runs at the issue's sizes (issue 7, item 4).

* ``kill -9`` the builder at random points during 100 publications while a
  reader reads: torn reads must be 0 (every generation re-hashed against its
  manifest);
* ``SIGKILL`` the whole server (master and workers) during 10,000
  acknowledged reports: lost reports must be 0 after restart;
* graceful reloads (``SIGHUP``) under load, with sync workers on fresh
  connections and gthread workers on kept-alive ones: dropped requests
  must be 0.

``--quick`` runs the sizes of ``tests/test_faults.py``. The same code runs
both (``benchmarks/faults_*.py``). A run with any fault raises, so ``all``
reports the suite as failed.
"""

import tempfile
from collections.abc import Callable
from pathlib import Path

from benchmarks.faults_publish import run_publish_faults
from benchmarks.faults_reload import run_reload_faults
from benchmarks.faults_reports import run_report_faults
from sikker.builder import demo
from sikker.builder.publish import publish


def _data_dir(root: Path, name: str) -> Path:
    """Return a data directory under ``root`` with a small demo snapshot."""
    data = root / name / "data"
    publish(demo.generate(2_000, seed=3), data)
    return data


def run(quick: bool, say: Callable[[str], None]) -> dict[str, float]:
    """Run the three fault runs; return their figures."""
    attempts, reports, kills, reloads = (
        (20, 2_000, 2, 3) if quick else (100, 10_000, 5, 10)
    )
    figures: dict[str, float] = {}
    problems: list[str] = []
    with tempfile.TemporaryDirectory(prefix="sikker-faults-") as tmp:
        root = Path(tmp)
        published = run_publish_faults(_data_dir(root, "publish"), attempts, say=say)
        say(
            f"   builder kill -9: torn reads {published.torn}/{published.reads:,} "
            f"over {published.generations} generations (re-hashed: "
            f"{published.verified}); {published.attempts} builders killed, "
            f"{published.publications} publications completed between kills, "
            f"{published.leftovers} kills left a half-written build"
        )
        figures.update(published.figures())
        problems += published.problems
        reported = run_report_faults(
            _data_dir(root, "reports"), reports, kills, say=say
        )
        say(
            f"   server kill -9: lost {reported.lost + reported.unlisted}/"
            f"{reported.acknowledged:,} acknowledged reports after {reported.kills} "
            f"kills ({reported.failed_requests:,} requests cut, none acknowledged)"
        )
        figures.update(reported.figures())
        problems += reported.problems
        for threads, keepalive, name in ((1, False, "sync"), (4, True, "gthread")):
            reload = run_reload_faults(
                _data_dir(root, f"reload-{name}"), reloads, threads=threads,
                keepalive=keepalive,
            )  # fmt: skip
            say(
                f"   reload ({name} workers): dropped {reload.dropped}/"
                f"{reload.requests:,} requests over {reload.reloads} reloads "
                f"({reload.workers_started} new workers)"
            )
            figures.update({f"{k}_{name}": v for k, v in reload.figures().items()})
            problems += [f"{name}: {p} x{n}" for p, n in reload.problems.items()]
    faults = (
        figures["faults_publish_torn_reads"]
        + figures["faults_reports_lost"]
        + figures["faults_reload_dropped_sync"]
        + figures["faults_reload_dropped_gthread"]
    )
    if faults or problems:
        raise AssertionError(f"{faults:.0f} faults; {problems[:10]}")
    return figures
