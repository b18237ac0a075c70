"""The confidence model: evidence in, a 0-100 raw score out, vectorised.

Every IP's score is recomputed from all of its evidence (there is no time
decay). Sensor evidence is summed from four components, community evidence
from one, a cross-source agreement bonus rewards IPs that both kinds of
evidence name, and a saturation curve maps the unbounded sum to 0-100. A
critical behavior floors the result. docs/scoring.md states the formula and
works through examples; its numbers are checked against this module.

The model lives in ``sikker.core`` so that the server can explain a stored
record's score; the builder imports it as :mod:`sikker.builder.scoring`.
"""

from dataclasses import dataclass, fields
from typing import Any

import numpy as np

# -- constants (docs/scoring.md explains each choice) ----------------------------

#: Points per natural-log unit of sessions: SESSION_WEIGHT * ln(1 + sessions).
SESSION_WEIGHT = 4.0
#: Points per natural-log unit of events (commands, login attempts, requests).
EVENT_WEIGHT = 0.5
#: Points for touching more than one protocol: PROTOCOL_WEIGHT * sqrt(protocols - 1).
PROTOCOL_WEIGHT = 6.0
#: Points of the first distinct behavior at each severity: low, medium, high,
#: critical. n distinct behaviors at one severity give points * sqrt(n).
SEVERITY_POINTS = (2.0, 5.0, 16.0, 40.0)
#: Repetition adds REPEAT_WEIGHT of the most severe behavior's points per
#: tenfold of behavior matches (log10 of all matches), ...
REPEAT_WEIGHT = 0.15
#: ... up to this share of them (reached at 10,000 matches).
REPEAT_CAP = 0.6
#: Points per sqrt of distinct primitives (command patterns, URLs, credentials).
PATTERN_WEIGHT = 2.0
#: Points per sqrt of distinct community reporters.
REPORTER_WEIGHT = 10.0
#: Report volume adds at most this share to the reporters' points: the share is
#: x / (1 + x) with x = log10(reports per reporter). Below sqrt(2) - 1 = 0.414,
#: one reporter's volume never outweighs a second reporter.
VOLUME_BONUS = 0.25
#: Agreement bonus: this share of the weaker of sensor and community points.
AGREEMENT_WEIGHT = 0.5
#: Saturation curve: score = 100 * (1 - exp(-points / CURVE_SCALE)).
CURVE_SCALE = 35.0
#: Lowest score of an IP with at least one critical behavior.
CRITICAL_FLOOR = 80
#: Rows scored per step (bounds the temporary arrays of a 10M-IP build).
CHUNK = 1 << 20

#: The named parts of a score, in the order :func:`explain` lists them.
COMPONENTS = (
    "volume",
    "diversity",
    "severity",
    "patterns",
    "community",
    "agreement",
    "curve",
    "floor",
)


@dataclass
class Evidence:
    """Evidence about N IPs as numpy columns (all of length N).

    ``severity_counts`` is (N, 4): distinct behaviors seen per severity, low
    to critical. ``behavior_matches`` sums every behavior's match count.
    """

    sessions: np.ndarray
    events: np.ndarray
    protocols: np.ndarray  # distinct protocols
    severity_counts: np.ndarray  # (N, 4)
    behavior_matches: np.ndarray
    primitives: np.ndarray  # distinct primitives
    reports: np.ndarray
    reporters: np.ndarray  # distinct reporters

    def __len__(self) -> int:
        return len(self.sessions)

    @classmethod
    def one(
        cls,
        sessions: int = 0,
        events: int = 0,
        protocols: int = 0,
        severity_counts: tuple[int, int, int, int] = (0, 0, 0, 0),
        behavior_matches: int = 0,
        primitives: int = 0,
        reports: int = 0,
        reporters: int = 0,
    ) -> "Evidence":
        """Return the evidence of a single IP from plain numbers."""
        return cls(
            sessions=np.array([sessions], np.float64),
            events=np.array([events], np.float64),
            protocols=np.array([protocols], np.float64),
            severity_counts=np.array([severity_counts], np.float64),
            behavior_matches=np.array([behavior_matches], np.float64),
            primitives=np.array([primitives], np.float64),
            reports=np.array([reports], np.float64),
            reporters=np.array([reporters], np.float64),
        )

    def rows(self, start: int, stop: int) -> "Evidence":
        """Return the evidence of rows ``start:stop``."""
        return Evidence(
            **{f.name: getattr(self, f.name)[start:stop] for f in fields(self)}
        )


def components(ev: Evidence) -> dict[str, np.ndarray]:
    """Return every component's points per IP (float64 arrays), see COMPONENTS.

    ``curve`` is the 0-100 score the curve gives; ``floor`` the points the
    critical floor adds on top of it.
    """
    f = np.float64
    sessions = np.asarray(ev.sessions, f)
    events = np.asarray(ev.events, f)
    protocols = np.asarray(ev.protocols, f)
    counts = np.asarray(ev.severity_counts, f).reshape(-1, 4)
    matches = np.asarray(ev.behavior_matches, f)
    reporters = np.asarray(ev.reporters, f)
    reports = np.maximum(np.asarray(ev.reports, f), reporters)
    reporters = np.where((reporters == 0) & (reports > 0), 1.0, reporters)

    volume = SESSION_WEIGHT * np.log1p(sessions) + EVENT_WEIGHT * np.log1p(events)
    diversity = PROTOCOL_WEIGHT * np.sqrt(np.maximum(protocols - 1.0, 0.0))
    points = np.array(SEVERITY_POINTS)
    seen = counts > 0
    # Points of the most severe behavior seen (0 when none): 3 - argmax of reversed.
    top = np.where(seen.any(axis=1), points[3 - np.argmax(seen[:, ::-1], axis=1)], 0.0)
    repeat = np.minimum(REPEAT_WEIGHT * np.log10(np.maximum(matches, 1.0)), REPEAT_CAP)
    severity = np.sqrt(counts) @ points + repeat * top
    patterns = PATTERN_WEIGHT * np.sqrt(np.asarray(ev.primitives, f))
    per_reporter = np.log10(np.maximum(reports / np.maximum(reporters, 1.0), 1.0))
    community = (
        REPORTER_WEIGHT
        * np.sqrt(reporters)
        * (1.0 + VOLUME_BONUS * per_reporter / (1.0 + per_reporter))
    )
    sensor = volume + diversity + severity + patterns
    agreement = AGREEMENT_WEIGHT * np.minimum(sensor, community)
    curve = 100.0 * -np.expm1(-(sensor + community + agreement) / CURVE_SCALE)
    floor = np.where(counts[:, 3] > 0, np.maximum(CRITICAL_FLOOR - curve, 0.0), 0.0)
    return {
        "volume": volume,
        "diversity": diversity,
        "severity": severity,
        "patterns": patterns,
        "community": community,
        "agreement": agreement,
        "curve": curve,
        "floor": floor,
    }


def raw_scores(ev: Evidence) -> np.ndarray:
    """Return the raw (undiscounted) 0-100 score of every IP as uint8."""
    n = len(ev)
    out = np.empty(n, np.uint8)
    for start in range(0, n, CHUNK):
        part = components(ev.rows(start, min(n, start + CHUNK)))
        out[start : start + CHUNK] = np.rint(part["curve"] + part["floor"])
    return out


_FORMULAS = {
    "volume": f"{SESSION_WEIGHT} * ln(1 + sessions) + {EVENT_WEIGHT} * ln(1 + events)",
    "diversity": f"{PROTOCOL_WEIGHT} * sqrt(protocols - 1)",
    "severity": (
        f"sum of {SEVERITY_POINTS} * sqrt(distinct behaviors per severity) "
        f"+ min({REPEAT_WEIGHT} * log10(matches), {REPEAT_CAP}) "
        "* points of the most severe one"
    ),
    "patterns": f"{PATTERN_WEIGHT} * sqrt(primitives)",
    "community": (
        f"{REPORTER_WEIGHT} * sqrt(reporters) * (1 + {VOLUME_BONUS} * x / (1 + x)), "
        "x = log10(reports per reporter)"
    ),
    "agreement": f"{AGREEMENT_WEIGHT} * min(sensor, community)",
    "curve": f"100 * (1 - exp(-(sensor + community + agreement) / {CURVE_SCALE}))",
    "floor": f"raises the score to {CRITICAL_FLOOR} after a critical behavior",
}


def explain(ev: Evidence, row: int = 0) -> list[dict[str, Any]]:
    """Return why one IP scores what it does: each component with its points.

    The list holds one ``{"name", "points", "formula"}`` dict per name in
    COMPONENTS (points rounded to 2 decimals), then ``{"name": "score",
    "points": <raw score>}``. The first six add up to the evidence points
    that the curve maps to 0-100; curve plus floor, rounded, is the score.
    """
    part = components(ev.rows(row, row + 1))
    out: list[dict[str, Any]] = [
        {
            "name": name,
            "points": round(float(part[name][0]), 2),
            "formula": _FORMULAS[name],
        }
        for name in COMPONENTS
    ]
    score = int(np.rint(part["curve"][0] + part["floor"][0]))
    out.append({"name": "score", "points": score, "formula": "rint(curve + floor)"})
    return out
