"""The benchmark report: figures beside baselines, targets, plots, context."""

from pathlib import Path

import numpy as np
import pytest

from benchmarks import samples
from benchmarks.machine import describe
from benchmarks.report import write_report

pytest.importorskip("matplotlib")


@pytest.fixture
def figures() -> dict[str, float]:
    return {
        "lookup_ips": 1000.0,
        "lookup_p50_us": 2.0,
        "sqlite_p50_us": 16.0,
        "maxminddb_p50_us": 5.0,
        "lookup_vs_sqlite": 8.0,
        "lookup_vs_maxminddb": 2.5,
        "check_rps": 900.0,
        "floor_rps": 1000.0,
        "check_vs_falcon_floor": 0.9,
        "memory_added_mb": 400.0,
    }


def _write(tmp_path: Path, figures: dict[str, float]) -> str:
    from benchmarks.plots import draw

    rng = np.random.default_rng(1)
    for label in ("sikker", "SQLite"):
        samples.keep_distribution("lookup", label, rng.exponential(5, 1000))
    samples.keep_curve("http_throughput", "sikker", [1, 2, 4], [100, 180, 200])
    samples.keep_curve("http_throughput", "Falcon floor", [1, 2, 4], [110, 200, 230])
    report = tmp_path / "REPORT.md"
    plots = draw(samples.kept(), figures, tmp_path / "report")
    suites = [("lookup", 12.0, "ok"), ("http", 30.0, "failed: RuntimeError: no wrk")]
    write_report(report, figures, describe(), plots, suites, quick=True)
    return report.read_text()


def test_each_figure_sits_beside_its_baseline_with_the_ratio(
    tmp_path: Path, figures: dict[str, float]
) -> None:
    text = _write(tmp_path, figures)
    assert (
        "| Lookup p50 (in process) | 2.00 us | SQLite, same records | 16.0 us" in text
    )
    assert "**8.00x**" in text and "**2.50x**" in text and "**0.90x**" in text


def test_targets_say_which_hold(tmp_path: Path, figures: dict[str, float]) -> None:
    text = _write(tmp_path, figures)
    assert "(`lookup_p50_us`) | 2.00 | <= 5.00 | yes |" in text
    assert "(`memory_added_mb`) | 400.0 | <= 300.0 | **no** |" in text


def test_plots_are_written_and_linked_beside_the_report(
    tmp_path: Path, figures: dict[str, float]
) -> None:
    text = _write(tmp_path, figures)
    for name in ("lookup", "http_throughput", "baselines"):
        png = tmp_path / "report" / f"{name}.png"
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert f"](report/{name}.png)" in text


def test_the_report_names_machine_versions_and_failed_suites(
    tmp_path: Path, figures: dict[str, float]
) -> None:
    text = _write(tmp_path, figures)
    for label in ("| CPU |", "| RAM |", "| Python |", "| Commit |", "| Date |"):
        assert label in text
    assert "falcon " in text and "numpy " in text
    assert "| http | 30 | failed: RuntimeError: no wrk |" in text


def test_plots_kept_in_another_process_are_restored_beside_ours() -> None:
    plot = samples.Plot("curve", {"remote": (np.array([1.0]), np.array([2.0]))})
    samples.keep_curve("restored_curve", "local", [1], [3])
    samples.restore({"restored_curve": plot})
    assert set(samples.kept()["restored_curve"].series) == {"local", "remote"}


def test_all_runs_each_suite_in_its_own_process(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from benchmarks import run

    monkeypatch.setattr(run, "SUITES", ("parse",))
    figures: dict[str, float] = {}
    lines: list[str] = []
    suites = run.run_all(True, figures, lines.append)
    assert [(name, status) for name, _, status in suites] == [("parse", "ok")]
    assert "cython_vs_ipaddress" in figures  # the child's figures came back
