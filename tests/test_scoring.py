"""The confidence model: its properties, and the worked examples of docs/scoring.md."""

import re
from dataclasses import fields
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from sikker.builder import scoring
from sikker.builder.benign import BenignIndex, apply_discount
from sikker.core import scoring as model
from sikker.core.scoring import Evidence, components, explain, raw_scores

DOC = Path(__file__).resolve().parent.parent / "docs" / "scoring.md"
SCALAR = ("sessions", "events", "protocols", "behavior_matches", "primitives")

counts = st.integers(0, 1_000_000)
small = st.integers(0, 20)
evidence = st.fixed_dictionaries(
    {
        "sessions": counts,
        "events": counts,
        "protocols": st.integers(0, 16),
        "severity_counts": st.tuples(small, small, small, small),
        "behavior_matches": counts,
        "primitives": st.integers(0, 200),
        "reports": counts,
        "reporters": counts,
    }
)


def points(ev: Evidence) -> np.ndarray:
    """Return the unrounded score (curve + floor)."""
    part = components(ev)
    return part["curve"] + part["floor"]


def grown(values: dict, name: str, by: int, level: int = 0) -> dict:
    """Return ``values`` with one evidence dimension raised by ``by``."""
    out = dict(values)
    if name == "severity_counts":
        sev = list(out[name])
        sev[level] += by
        out[name] = tuple(sev)
    else:
        out[name] = out[name] + by
    return out


DIMENSIONS = [f.name for f in fields(Evidence)]


@pytest.mark.parametrize("name", DIMENSIONS)
@given(values=evidence, by=st.integers(1, 10_000), level=st.integers(0, 3))
def test_more_evidence_never_lowers_the_score(name, values, by, level):
    before = Evidence.one(**values)
    after = Evidence.one(**grown(values, name, by, level))
    assert points(after)[0] >= points(before)[0] - 1e-9
    assert raw_scores(after)[0] >= raw_scores(before)[0]


@given(values=evidence)
def test_scores_stay_within_0_to_100(values):
    assert 0 <= raw_scores(Evidence.one(**values))[0] <= 100


def test_saturation_reaches_100_and_keeps_rank_order():
    top = 2**32 - 1
    huge = Evidence.one(top, top, 16, (top, top, top, top), top, top, top, top)
    assert raw_scores(huge)[0] == 100
    rng = np.random.default_rng(7)
    n = 50_000
    ev = Evidence(
        sessions=rng.integers(0, 10**6, n),
        events=rng.integers(0, 10**7, n),
        protocols=rng.integers(0, 17, n),
        severity_counts=rng.integers(0, 4, (n, 4)) * (rng.random((n, 4)) < 0.2),
        behavior_matches=rng.integers(0, 10**4, n),
        primitives=rng.integers(0, 30, n),
        reports=rng.integers(0, 1000, n),
        reporters=rng.integers(0, 100, n),
    )
    part = components(ev)
    evidence_points = sum(
        part[name] for name in model.COMPONENTS if name not in ("curve", "floor")
    )
    order = np.argsort(evidence_points, kind="stable")
    assert (np.diff(part["curve"][order]) >= 0).all()
    assert (
        np.diff(raw_scores(ev)[order].astype(int)[~(ev.severity_counts[order, 3] > 0)])
        >= 0
    ).all()


def test_empty_evidence_scores_zero():
    assert raw_scores(Evidence.one())[0] == 0
    empty = Evidence.one().rows(0, 0)
    assert raw_scores(empty).shape == (0,)


@pytest.mark.parametrize("reporters", [2, 3, 5, 10, 50])
@given(values=evidence)
def test_one_reporters_10000_reports_score_below_distinct_reporters(reporters, values):
    loud = Evidence.one(**{**values, "reports": 10_000, "reporters": 1})
    many = Evidence.one(**{**values, "reports": reporters, "reporters": reporters})
    assert points(loud)[0] < points(many)[0] or points(loud)[0] == 100.0
    assert raw_scores(loud)[0] <= raw_scores(many)[0]


@given(reports=st.integers(1, 2**32 - 1))
def test_one_reporter_alone_stays_below_the_listing_bands(reports):
    alone = Evidence.one(reports=reports, reporters=1)
    assert raw_scores(alone)[0] < 35  # "below 35: benign scanners or very new IPs"


@given(values=evidence)
def test_agreement_bonus_is_bounded_by_the_weaker_signal(values):
    part = components(Evidence.one(**values))
    sensor = part["volume"] + part["diversity"] + part["severity"] + part["patterns"]
    weaker = min(sensor[0], part["community"][0])
    assert 0.0 <= part["agreement"][0] <= weaker + 1e-9
    if values["reports"] == 0 and values["reporters"] == 0:
        assert part["agreement"][0] == 0.0


def test_one_stray_report_adds_little_to_a_high_sensor_score():
    sensor = {
        "sessions": 500,
        "events": 9000,
        "protocols": 2,
        "severity_counts": (2, 2, 1, 0),
        "behavior_matches": 900,
        "primitives": 6,
    }
    alone = raw_scores(Evidence.one(**sensor))[0]
    stray = raw_scores(Evidence.one(**sensor, reports=1, reporters=1))[0]
    assert alone >= 80 and 0 < stray - alone <= 10


@given(values=evidence, critical=st.integers(1, 20))
def test_critical_behaviors_floor_the_score(values, critical):
    sev = (*values["severity_counts"][:3], critical)
    ev = Evidence.one(**{**values, "severity_counts": sev})
    assert raw_scores(ev)[0] >= scoring.CRITICAL_FLOOR


@given(values=evidence)
def test_the_floor_only_applies_to_critical_behaviors(values):
    sev = (*values["severity_counts"][:3], 0)
    part = components(Evidence.one(**{**values, "severity_counts": sev}))
    assert part["floor"][0] == 0.0


def test_a_lone_critical_probe_is_lifted_by_the_floor():
    ev = Evidence.one(1, 1, 1, (0, 0, 0, 1), 1, 1)
    part = components(ev)
    assert part["curve"][0] < scoring.CRITICAL_FLOOR
    assert raw_scores(ev)[0] == scoring.CRITICAL_FLOOR


@given(values=evidence)
def test_explain_names_every_component_and_adds_up(values):
    ev = Evidence.one(**values)
    shown = {item["name"]: item["points"] for item in explain(ev)}
    assert list(shown) == [*model.COMPONENTS, "score"]
    assert shown["score"] == raw_scores(ev)[0]
    evidence_points = sum(
        shown[n] for n in model.COMPONENTS if n not in ("curve", "floor")
    )
    curve = 100 * (1 - np.exp(-evidence_points / model.CURVE_SCALE))
    assert abs(curve - shown["curve"]) < 0.05
    assert all(isinstance(item["formula"], str) for item in explain(ev))


def test_explain_picks_the_requested_row():
    ev = Evidence(
        sessions=np.array([1, 100]),
        events=np.array([1, 100]),
        protocols=np.array([1, 2]),
        severity_counts=np.zeros((2, 4), np.int64),
        behavior_matches=np.zeros(2),
        primitives=np.zeros(2),
        reports=np.zeros(2),
        reporters=np.zeros(2),
    )
    assert explain(ev, 1)[-1]["points"] == raw_scores(ev)[1]
    assert explain(ev, 0)[-1]["points"] == raw_scores(ev)[0]


def test_scoring_in_chunks_gives_the_same_scores(monkeypatch):
    rng = np.random.default_rng(3)
    n = 1_000
    ev = Evidence(
        sessions=rng.integers(0, 10**5, n),
        events=rng.integers(0, 10**6, n),
        protocols=rng.integers(1, 17, n),
        severity_counts=rng.integers(0, 3, (n, 4)),
        behavior_matches=rng.integers(0, 10**4, n),
        primitives=rng.integers(0, 20, n),
        reports=rng.integers(0, 100, n),
        reporters=rng.integers(0, 20, n),
    )
    whole = raw_scores(ev)
    monkeypatch.setattr(model, "CHUNK", 7)
    assert np.array_equal(raw_scores(ev), whole)
    assert whole.dtype == np.uint8


def test_inconsistent_report_counts_are_tolerated():
    # More reporters than reports, or reports without a known reporter.
    assert (
        raw_scores(Evidence.one(reports=1, reporters=3))[0]
        == raw_scores(Evidence.one(reports=3, reporters=3))[0]
    )
    assert (
        raw_scores(Evidence.one(reports=4, reporters=0))[0]
        == raw_scores(Evidence.one(reports=4, reporters=1))[0]
    )


def test_the_builder_module_is_the_model():
    assert scoring.raw_scores is raw_scores and scoring.Evidence is Evidence


# -- docs/scoring.md ---------------------------------------------------------------

_EVIDENCE = re.compile(r"^Evidence: `([^`]+)`$", re.M)
_ROW = re.compile(
    r"^\| \*{0,2}([a-z ]+?)\*{0,2}(?: \([^)]*\))? \| \*{0,2}([\d.]+)\*{0,2} \|$"
)


def doc_examples() -> list[tuple[dict[str, str], dict[str, str]]]:
    """Return each worked example's evidence and its table of points."""
    text = DOC.read_text()
    out = []
    for match in _EVIDENCE.finditer(text):
        given_values = dict(pair.split("=", 1) for pair in match.group(1).split())
        rows: dict[str, str] = {}
        for line in text[match.end() :].lstrip("\n").splitlines():
            if not line.startswith("|"):
                break
            row = _ROW.match(line)
            if row:
                rows[row.group(1)] = row.group(2)
        out.append((given_values, rows))
    return out


def test_the_docs_work_through_at_least_four_examples():
    examples = doc_examples()
    assert len(examples) >= 4
    assert any(values["benign"] != "-" for values, _ in examples)
    assert any(int(values["critical"]) > 0 for values, _ in examples)


@pytest.mark.parametrize("index", range(len(doc_examples())))
def test_worked_example_matches_the_code(index):
    values, rows = doc_examples()[index]
    ev = Evidence.one(
        **{name: int(values[name]) for name in (*SCALAR, "reports", "reporters")},
        severity_counts=tuple(
            int(values[s]) for s in ("low", "medium", "high", "critical")
        ),
    )
    for item in explain(ev)[:-1]:
        assert rows[item["name"]] == f"{item['points']:.2f}", item["name"]
    raw = int(raw_scores(ev)[0])
    assert rows["raw score"] == str(raw)
    sources = BenignIndex.load().sources
    names = [s["name"] for s in sources]
    sid = 0 if values["benign"] == "-" else names.index(values["benign"]) + 1
    final = apply_discount(np.array([raw]), np.array([sid]), sources)[0]
    assert rows["score"] == str(final)


def test_the_docs_list_every_constant_with_its_value():
    text = DOC.read_text()
    for name in (
        "SESSION_WEIGHT",
        "EVENT_WEIGHT",
        "PROTOCOL_WEIGHT",
        "SEVERITY_POINTS",
        "REPEAT_WEIGHT",
        "REPEAT_CAP",
        "PATTERN_WEIGHT",
        "REPORTER_WEIGHT",
        "VOLUME_BONUS",
        "AGREEMENT_WEIGHT",
        "CURVE_SCALE",
        "CRITICAL_FLOOR",
    ):
        value = getattr(model, name)
        shown = (
            ", ".join(f"{v:g}" for v in value)
            if isinstance(value, tuple)
            else f"{value:g}"
        )
        assert f"| `{name}` | {shown} |" in text, name


def test_the_docs_list_every_benign_source():
    text = DOC.read_text()
    for source in BenignIndex.load().sources:
        row = (
            f"| {source['name']} | {source['prefix_count']} | {source['date']} "
            f"| {source['discount']:g} |"
        )
        assert row in text, row
