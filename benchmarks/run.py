"""Run a benchmark suite and print its figures.

Usage: ``python benchmarks/run.py SUITE [--quick] [--json]``

Each suite lives in ``benchmarks/suites/<name>.py`` and exposes
``run(quick: bool, say: Callable[[str], None]) -> dict[str, float]``. Figures
are printed as they are measured; with ``--json`` the last stdout line is one
JSON object of every named figure. Ratios are always ``baseline / ours`` on the
same inputs in the same run, so larger is better and machine noise cancels.
"""

import argparse
import importlib
import json
import platform
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

SUITES = ("parse", "lookup", "blacklist", "build", "ingest", "http")


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
    args = parser.parse_args(argv)

    def say(line: str) -> None:
        print(line, flush=True)

    say(
        f"# sikker benchmarks on {platform.node()} ({platform.machine()}), "
        f"Python {platform.python_version()}, {time.strftime('%Y-%m-%d %H:%M:%S')}"
    )
    figures: dict[str, float] = {}
    for name in SUITES if args.suite == "all" else (args.suite,):
        module = importlib.import_module(f"benchmarks.suites.{name}")
        say(f"## {name}{' (quick)' if args.quick else ''}")
        started = time.perf_counter()
        figures.update(module.run(args.quick, say))
        say(f"   ({time.perf_counter() - started:.1f} s)")
    if args.json:
        print(json.dumps(figures, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
