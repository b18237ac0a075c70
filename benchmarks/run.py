"""Run a benchmark suite and print its figures.

Usage: ``python benchmarks/run.py SUITE [--quick] [--json] [--report PATH]``

Each suite lives in ``benchmarks/suites/<name>.py`` and exposes
``run(quick: bool, say: Callable[[str], None]) -> dict[str, float]``. Figures
are printed as they are measured; with ``--json`` the last stdout line is one
JSON object of every named figure. Ratios are always ``baseline / ours`` on the
same inputs in the same run, so larger is better and machine noise cancels.
``all`` runs every suite in one run, each in a fresh process (so one
suite's heap, caches and open snapshots never slow the next: the 10M-IP
build leaves gigabytes behind), goes on past a failing suite, and writes
``benchmarks/REPORT.md`` with PNG plots in ``benchmarks/report/``.
"""

import argparse
import importlib
import json
import pickle
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

SUITES = (
    "parse", "lookup", "blacklist", "build", "ingest", "http", "memory", "redis",
    "faults", "cluster",
)  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    """Run the requested suites; return the process exit code."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("suite", choices=(*SUITES, "all"))
    parser.add_argument(
        "--quick", action="store_true", help="small inputs, <60 s per suite"
    )
    parser.add_argument(
        "--json", action="store_true", help="last line: JSON of all figures"
    )
    parser.add_argument(
        "--report",
        type=Path,
        default=HERE / "REPORT.md",
        help="where `all` writes its Markdown report (plots go beside it)",
    )
    parser.add_argument(
        "--no-report", action="store_true", help="`all` without writing a report"
    )
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        return _child(args.suite, args.quick, args.child)

    def say(line: str) -> None:
        print(line, flush=True)

    say(
        f"# sikker benchmarks on {platform.node()} ({platform.machine()}), "
        f"Python {platform.python_version()}, {time.strftime('%Y-%m-%d %H:%M:%S')}"
    )
    figures: dict[str, float] = {}
    suites: list[tuple[str, float, str]] = []
    if args.suite != "all":
        module = importlib.import_module(f"benchmarks.suites.{args.suite}")
        say(f"## {args.suite}{' (quick)' if args.quick else ''}")
        started = time.perf_counter()
        figures.update(module.run(args.quick, say))
        say(f"   ({time.perf_counter() - started:.1f} s)")
    else:
        suites = run_all(args.quick, figures, say)
        if not args.no_report:
            _report(args.report, figures, suites, args.quick)
            say(f"# report: {args.report}")
    if args.json:
        print(json.dumps(figures, sort_keys=True))
    return 1 if any(status != "ok" for *_, status in suites) else 0


def run_all(
    quick: bool, figures: dict[str, float], say: Callable[[str], None]
) -> list[tuple[str, float, str]]:
    """Run every suite; return (name, seconds, "ok" or the error) of each."""
    from benchmarks import samples

    suites = []
    with tempfile.TemporaryDirectory() as tmp:
        for name in SUITES:
            say(f"## {name}{' (quick)' if quick else ''}")
            started = time.perf_counter()
            result = Path(tmp) / f"{name}.pickle"
            command = [sys.executable, __file__, name, "--child", str(result)]
            if quick:
                command.append("--quick")
            code = subprocess.run(command).returncode
            if code == 0:
                suite_figures, plots = pickle.loads(result.read_bytes())
                figures.update(suite_figures)
                samples.restore(plots)
                status = "ok"
            else:  # its traceback is above; run the other suites
                status = f"failed: exit status {code}"
                say(f"   {status}")
            seconds = time.perf_counter() - started
            say(f"   ({seconds:.1f} s)")
            suites.append((name, seconds, status))
    return suites


def _child(suite: str, quick: bool, result: Path) -> int:
    """Run one suite of ``all``; write its figures and plots to ``result``."""
    from benchmarks import samples

    module = importlib.import_module(f"benchmarks.suites.{suite}")
    figures = module.run(quick, lambda line: print(line, flush=True))
    result.write_bytes(pickle.dumps((figures, samples.kept())))
    return 0


def _report(
    path: Path,
    figures: dict[str, float],
    suites: list[tuple[str, float, str]],
    quick: bool,
) -> None:
    from benchmarks.machine import describe
    from benchmarks.plots import draw
    from benchmarks.report import write_report
    from benchmarks.samples import kept

    plots = draw(kept(), figures, path.parent / "report")
    write_report(path, figures, describe(), plots, suites, quick)


if __name__ == "__main__":
    sys.exit(main())
