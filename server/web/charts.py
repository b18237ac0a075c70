"""Geometry of the site's charts, drawn as inline SVG by the templates.

Pure functions: numbers in, coordinates out. Bars are SVG shapes in a
fixed coordinate box stretched to the width of the page (so a chart fits a
phone), while every label and value is HTML text beside them (so it stays
readable at any width). The export tool's script redraws its histogram with
the same geometry (static/site.js).
"""

from collections.abc import Mapping, Sequence
from typing import Any

#: Coordinate box of the line chart (stretched to fit; strokes do not scale).
LINE_W, LINE_H = 600, 200


def _pct(value: int, top: int) -> float:
    return round(100 * value / top, 2) if top else 0.0


def hbars(items: Sequence[tuple[Any, ...]]) -> dict[str, Any]:
    """Return a horizontal bar chart of ``(label, value[, href])`` items."""
    top = max((int(item[1]) for item in items), default=0)
    rows = [
        {
            "label": str(item[0]),
            "value": int(item[1]),
            "href": item[2] if len(item) > 2 else None,
            "pct": _pct(int(item[1]), top),
        }
        for item in items
    ]
    return {"rows": rows}


def histogram(buckets: Sequence[dict[str, int]], threshold: int = 0) -> dict[str, Any]:
    """Return the bars of a score histogram; a bucket is selected when its top
    reaches ``threshold`` (it holds IPs a blacklist with that minimum keeps)."""
    top = max((b["count"] for b in buckets), default=0)
    return {
        "bars": [
            {
                "h": _pct(b["count"], top),
                "count": b["count"],
                "label": f"{b['from']}-{b['to']}",
                "selected": b["to"] >= threshold,
            }
            for b in buckets
        ]
    }


def lines(days: Sequence[str], series: Mapping[str, Sequence[int]]) -> dict[str, Any]:
    """Return polylines of daily counts, one per series, on shared axes."""
    peak = max((max(v, default=0) for v in series.values()), default=0) or 1
    step = LINE_W / max(len(days) - 1, 1)
    out = []
    for index, (name, values) in enumerate(series.items()):
        points = " ".join(
            f"{round(i * step, 1)},{round(LINE_H - LINE_H * v / peak, 1)}"
            for i, v in enumerate(values)
        )
        out.append({"name": name, "points": points, "total": sum(values), "n": index})
    return {
        "width": LINE_W,
        "height": LINE_H,
        "series": out,
        "peak": peak,
        "grid": [round(LINE_H * f, 1) for f in (0, 0.5, 1)],
        "first": days[0] if days else "",
        "last": days[-1] if days else "",
        "days": len(days),
    }
