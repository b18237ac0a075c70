"""Where and with what a benchmark run ran: machine, versions, commit, date."""

import os
import platform
import shutil
import sqlite3
import subprocess
import time
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
#: Distributions whose versions a report names.
LIBRARIES = (
    "falcon", "gunicorn", "lmdb", "pyroaring", "numpy", "orjson", "maxminddb",
    "Cython", "matplotlib", "locust",
)  # fmt: skip


def _cpuinfo(field: str) -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            name, _, value = line.partition(":")
            if name.strip() == field:
                return value.strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _ram_gb() -> float:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) * 1024 / 1e9
    except OSError:
        pass
    return 0.0


def _output(argv: list[str]) -> str:
    try:
        done = subprocess.run(
            argv, capture_output=True, text=True, cwd=ROOT, timeout=10, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return (done.stdout or done.stderr).strip()


def _commit() -> str:
    commit = _output(["git", "rev-parse", "--short=12", "HEAD"]) or "unknown"
    status = ["git", "status", "--porcelain", "--untracked-files=no", "--", "."]
    # the report and plots being written are not changes to what was measured
    if _output([*status, ":!benchmarks/REPORT.md", ":!benchmarks/report"]):
        commit += " (with uncommitted changes)"
    return commit


def _version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "not installed"


def describe() -> dict[str, str]:
    """Return the run's context as label -> text, in display order."""
    from sikker import __version__
    from sikker.core import ipcore

    wrk = shutil.which("wrk")
    info = {
        "Date": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "Commit": _commit(),
        "sikker": f"{__version__} (IP core: {ipcore.IMPLEMENTATION})",
        "CPU": f"{_cpuinfo('model name')}, {os.cpu_count()} logical cores",
        "RAM": f"{_ram_gb():.1f} GB",
        "OS": f"{platform.system()} {platform.release()} ({platform.machine()})",
        "Python": f"{platform.python_implementation()} {platform.python_version()}",
        "SQLite": sqlite3.sqlite_version,
        "wrk": _output([wrk, "-v"]).split(" Copyright")[0] if wrk else "not installed",
        "Load average": "{:.2f} {:.2f} {:.2f} (1, 5, 15 min, at the end)".format(
            *os.getloadavg()
        ),
    }
    info["Libraries"] = ", ".join(f"{n} {_version(n)}" for n in LIBRARIES)
    return info
