"""Read the figures of a Locust run written with ``--csv PREFIX``."""

import csv
from pathlib import Path


def totals(prefix: Path) -> dict[str, float]:
    """Return requests, failures, requests/s and p99 (ms) of the whole run."""
    with Path(f"{prefix}_stats.csv").open() as rows:
        row = next(r for r in csv.DictReader(rows) if r["Name"] == "Aggregated")
    return {
        "requests": float(row["Request Count"]),
        "failures": float(row["Failure Count"]),
        "rps": float(row["Requests/s"]),
        "p99_ms": float(row["99%"]),
    }


def failed_reads(prefix: Path) -> list[dict[str, str]]:
    """Return the run's failures of GET requests (one row per kind of error)."""
    with Path(f"{prefix}_failures.csv").open() as rows:
        return [row for row in csv.DictReader(rows) if row["Method"] == "GET"]
