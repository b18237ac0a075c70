"""The report's PNG plots: each of our figures drawn beside its baseline.

Latency distributions are CDFs on a log scale; throughput is drawn against
the number of connections; single figures are pairs of bars. Every title
states the ratio (baseline / ours for times, ours / baseline for rates), so
a plot read alone still says how far apart the two are.
"""

from collections.abc import Callable
from pathlib import Path

import matplotlib
import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

from benchmarks.samples import Plot

matplotlib.use("Agg")  # no display: files only
import matplotlib.pyplot as plt

OURS = "#1f6f8b"
OTHERS = ("#d1495b", "#edae49", "#66a182", "#8d6a9f")
DPI = 100

#: (title, ours key, ours label, baseline key, baseline label, unit, ratio key)
BARS = (
    ("Parse an address", "parse_cython_ns", "sikker (Cython)",
     "parse_ipaddress_ns", "ipaddress", "ns", "cython_vs_ipaddress"),
    ("Render a blacklist line", "render_cython_ns", "sikker render_ips",
     "render_ipaddress_ns", "ipaddress + join", "ns", "render_vs_ipaddress"),
    ("Filtered blacklist, plaintext", "blacklist_ms", "sikker",
     "blacklist_sqlite_ms", "SQLite", "ms", "blacklist_vs_sqlite"),
    ("Ingest: match events", "engine_sample_events_per_s", "engine, no caches",
     "naive_events_per_s", "naive matcher", "events/s", "engine_vs_naive"),
    ("Memory of 3 more workers", "memory_added_mb", "sikker (shared mmap)",
     "memory_private_copies_mb", "3 private copies", "MB", "memory_vs_private_copies"),
    ("Keyed checks over HTTP", "check_rps", "sikker",
     "floor_rps", "Falcon floor", "req/s", "check_vs_falcon_floor"),
)  # fmt: skip


def _lookup(plot: Plot, figures: dict[str, float]) -> Figure:
    fig, ax = plt.subplots(figsize=(8, 4.5))
    colors = iter((OURS, *OTHERS))
    for label, (xs, ys) in plot.series.items():
        p50 = float(np.interp(0.5, ys, xs))
        ax.plot(xs, ys, label=f"{label} (p50 {p50:.2f} us)", color=next(colors))
    ax.set_xscale("log")
    ax.set_xlabel("latency per lookup (us, log scale)")
    ax.set_ylabel("share of lookups at or below")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(loc="lower right")
    ips = figures.get("lookup_ips", 0)
    ax.set_title(
        f"In-process lookup on {ips:,.0f} IPs: SQLite p50 / ours = "
        f"{figures.get('lookup_vs_sqlite', 0):.1f}x, maxminddb p50 / ours = "
        f"{figures.get('lookup_vs_maxminddb', 0):.1f}x",
        fontsize=10,
    )
    return fig


def _throughput(plot: Plot, figures: dict[str, float]) -> Figure:
    fig, ax = plt.subplots(figsize=(8, 4.5))
    ours_x, ours_y = plot.series["sikker"]
    for (label, (xs, ys)), color in zip(
        plot.series.items(), (OURS, *OTHERS), strict=False
    ):
        ax.plot(xs, ys, marker="o", label=label, color=color)
    floor = next(ys for label, (_, ys) in plot.series.items() if label != "sikker")
    for x, y, ratio in zip(ours_x, ours_y, ours_y / floor, strict=True):
        ax.annotate(f"{ratio:.2f}", (x, y), textcoords="offset points", xytext=(0, -14),
                    ha="center", fontsize=8, color=OURS)  # fmt: skip
    ax.set_xscale("log", base=2)
    ax.set_xticks(ours_x, [f"{x:.0f}" for x in ours_x])
    ax.set_ylim(bottom=0)
    ax.set_xlabel("concurrent connections (wrk)")
    ax.set_ylabel("requests per second")
    ax.grid(True, alpha=0.3)
    ax.legend(loc="lower right")
    ax.set_title(
        f"Keyed checks vs the Falcon floor, {figures.get('http_workers', 0):.0f} "
        "workers (labels: ours / floor)",
        fontsize=10,
    )
    return fig


def _nines(percentiles: np.ndarray) -> np.ndarray:
    """Map percentiles to "nines" (50 -> 0.3, 90 -> 1, 99 -> 2, 99.9 -> 3)."""
    return np.asarray(-np.log10(1 - percentiles / 100))


def _latency(plot: Plot, figures: dict[str, float]) -> Figure:
    fig, ax = plt.subplots(figsize=(8, 4.5))
    for (label, (xs, ys)), color in zip(
        plot.series.items(), (OURS, *OTHERS), strict=False
    ):
        ax.plot(_nines(xs), ys / 1000, marker="o", label=label, color=color)
    ticks = np.array([50, 90, 99, 99.9])
    ax.set_xticks(_nines(ticks), [f"{t:g}" for t in ticks])
    ax.set_yscale("log")
    ax.yaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    ax.yaxis.set_minor_formatter(NullFormatter())
    ax.set_xlabel("percentile")
    ax.set_ylabel("latency (ms, log scale)")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(loc="upper left")
    ratio = figures.get("floor_p50_ms", 0) / max(figures.get("check_p50_ms", 0), 1e-9)
    ax.set_title(
        f"HTTP latency over one connection: floor p50 / sikker p50 = {ratio:.2f}",
        fontsize=10,
    )
    return fig


def _label(value: float) -> str:
    return f"{value:,.0f}" if value >= 10 else f"{value:.2f}"


def _bars(figures: dict[str, float]) -> Figure | None:
    rows = [b for b in BARS if all(k in figures for k in (b[1], b[3], b[6]))]
    if not rows:
        return None
    cols = min(3, len(rows))
    lines = (len(rows) + cols - 1) // cols
    fig, axes = plt.subplots(
        lines, cols, figsize=(4 * cols, 3.2 * lines), squeeze=False
    )
    for ax in axes.flat[len(rows) :]:
        ax.set_visible(False)
    for ax, (title, ours, ours_label, base, base_label, unit, ratio) in zip(
        axes.flat, rows, strict=False
    ):
        values = [figures[ours], figures[base]]
        bars = ax.bar([ours_label, base_label], values, color=[OURS, OTHERS[0]])
        ax.bar_label(bars, [_label(v) for v in values], fontsize=8)
        if max(values) > 20 * max(min(values), 1e-12):
            ax.set_yscale("log")
        ax.margins(y=0.2)
        ax.set_ylabel(f"{unit}{' (log scale)' if ax.get_yscale() == 'log' else ''}")
        ax.tick_params(axis="x", labelsize=8)
        ax.set_title(f"{title}\nratio {figures[ratio]:,.2f}", fontsize=9)
    fig.tight_layout()
    return fig


DRAWERS: dict[str, Callable[[Plot, dict[str, float]], Figure]] = {
    "lookup": _lookup,
    "http_throughput": _throughput,
    "http_latency": _latency,
}
CAPTIONS = {
    "lookup": "Lookup latency distribution (in process, same records in every store)",
    "http_throughput": "HTTP throughput vs concurrency",
    "http_latency": "HTTP latency percentiles",
    "baselines": "Each figure beside its baseline",
}


def draw(
    plots: dict[str, Plot], figures: dict[str, float], out: Path
) -> list[tuple[str, Path]]:
    """Write the PNGs into ``out``; return (caption, path) of each."""
    out.mkdir(parents=True, exist_ok=True)
    made = {name: DRAWERS[name](plot, figures) for name, plot in plots.items()}
    bars = _bars(figures)
    if bars is not None:
        made["baselines"] = bars
    written = []
    for name, fig in made.items():
        path = out / f"{name}.png"
        fig.savefig(path, dpi=DPI, bbox_inches="tight")
        plt.close(fig)
        written.append((CAPTIONS[name], path))
    return written
