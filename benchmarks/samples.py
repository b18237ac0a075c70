"""What the suites keep for the report's plots besides their figures.

A suite calls :func:`keep_distribution` with raw latency samples, or
:func:`keep_curve` with (x, y) points, under a plot name; ``run.py all``
gathers what each suite's process kept (:func:`restore`) and hands
:func:`kept` to the report writer. Suites run alone keep too; nothing
reads it then.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np


@dataclass
class Plot:
    """The series of one figure: label -> (x, y) values.

    A distribution's x are its sorted samples and y the share at or below.
    """

    kind: str  # "distribution" or "curve"
    series: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)


_KEPT: dict[str, Plot] = {}


def _plot(name: str, kind: str) -> Plot:
    plot = _KEPT.setdefault(name, Plot(kind))
    if plot.kind != kind:
        raise ValueError(f"plot {name!r} is a {plot.kind}, not a {kind}")
    return plot


def keep_distribution(name: str, label: str, samples_us: np.ndarray) -> None:
    """Keep latency samples (microseconds) of ``label`` for plot ``name``."""
    values = np.sort(np.asarray(samples_us, np.float64))
    share = np.arange(1, len(values) + 1) / len(values)
    _plot(name, "distribution").series[label] = (values, share)


def keep_curve(name: str, label: str, xs: Sequence[float], ys: Sequence[float]) -> None:
    """Keep the points of ``label``'s curve for plot ``name``."""
    _plot(name, "curve").series[label] = (np.asarray(xs, float), np.asarray(ys, float))


def kept() -> dict[str, Plot]:
    """Return every plot kept so far, by name."""
    return dict(_KEPT)


def restore(plots: dict[str, Plot]) -> None:
    """Add the plots another process kept (``run.py all`` runs suites apart)."""
    for name, plot in plots.items():
        _plot(name, plot.kind).series.update(plot.series)
