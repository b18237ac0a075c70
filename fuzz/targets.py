"""The fuzz targets by name: a function of raw bytes and its seed folder."""

from collections.abc import Callable
from pathlib import Path

from fuzz.csv_target import fuzz_report_csv
from fuzz.ingest_target import fuzz_ingest
from fuzz.ip_target import fuzz_ipcore

TARGETS: dict[str, Callable[[bytes], None]] = {
    "ipcore": fuzz_ipcore,
    "report_csv": fuzz_report_csv,
    "ingest": fuzz_ingest,
}
SEEDS = Path(__file__).resolve().parent / "seeds"


def seeds(name: str) -> list[Path]:
    """Return the seed files of a target, sorted by name."""
    return sorted(p for p in (SEEDS / name).iterdir() if p.is_file())
