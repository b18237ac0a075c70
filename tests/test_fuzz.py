"""The fuzz harnesses (fuzz/) run in CI: seeds, random bytes, a short atheris run.

Each harness asserts that both IP core twins agree, that results are
deterministic and that only the documented typed errors are raised; see
docs/fuzzing.md. Here every seed (including the regression seeds of fixed
findings) must pass, hypothesis feeds random and spliced seed bytes to the
same functions, and, where atheris is installed, libFuzzer runs each
harness for a bounded number of inputs.
"""

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fuzz.targets import TARGETS, seeds

ROOT = Path(__file__).resolve().parent.parent
SEEDS = [(name, path) for name in TARGETS for path in seeds(name)]
#: Inputs per target in the bounded atheris run (the ingest harness is slowest).
RUNS = {"ipcore": 4000, "report_csv": 3000, "ingest": 800}


def test_every_target_has_seeds() -> None:
    assert {name for name, _ in SEEDS} == set(TARGETS)


@pytest.mark.parametrize(
    ("name", "path"), SEEDS, ids=[f"{n}/{p.name}" for n, p in SEEDS]
)
def test_every_seed_passes_its_harness(name: str, path: Path) -> None:
    TARGETS[name](path.read_bytes())


@st.composite
def spliced(draw: st.DrawFn, name: str) -> bytes:
    """A seed of ``name`` with a random slice replaced by random bytes."""
    seed = draw(st.sampled_from(seeds(name))).read_bytes()[:4096]
    start = draw(st.integers(0, len(seed)))
    end = draw(st.integers(start, len(seed)))
    return seed[:start] + draw(st.binary(max_size=64)) + seed[end:]


@pytest.mark.parametrize("name", sorted(TARGETS))
def test_random_and_spliced_bytes_never_break_a_harness(name: str) -> None:
    # No deadline: the machine may be busy; a slow input is not a finding here.
    @settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(data=st.one_of(st.binary(max_size=512), spliced(name)))
    def run(data: bytes) -> None:
        TARGETS[name](data)

    run()


@pytest.mark.slow
@pytest.mark.skipif(
    importlib.util.find_spec("atheris") is None, reason="atheris is not installed"
)
@pytest.mark.parametrize("name", sorted(TARGETS))
def test_a_bounded_atheris_run_finds_nothing(name: str, tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    done = subprocess.run(
        [sys.executable, "-m", "fuzz.main", name, str(corpus),
         str(ROOT / "fuzz" / "seeds" / name), f"-runs={RUNS[name]}",
         "-max_len=4096", "-max_total_time=120", "-seed=1",
         f"-artifact_prefix={tmp_path}/"],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    crashes = [p.name for p in tmp_path.iterdir() if p.name.startswith("crash-")]
    assert done.returncode == 0 and not crashes, done.stderr[-3000:]
    assert f"Done {RUNS[name]} runs" in done.stderr, done.stderr[-1000:]


def test_the_ip_harness_reports_twins_that_disagree(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from types import SimpleNamespace

    from fuzz import ip_target
    from sikker.core import ipcore_py

    lenient = SimpleNamespace(**vars(ipcore_py))
    lenient.parse_ip = lambda text: (4, 0)  # accepts anything
    monkeypatch.setattr(ip_target, "implementations", lambda: [ipcore_py, lenient])
    with pytest.raises(AssertionError, match="twins disagree"):
        ip_target.fuzz_ipcore(b"not an address")


def test_the_ip_harness_reports_a_parser_that_leaves_ipaddress(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from types import SimpleNamespace

    from fuzz import ip_target
    from sikker.core import ipcore_py

    octal = SimpleNamespace(**vars(ipcore_py))
    octal.parse_ip = lambda text: (4, 0x0A010101)  # reads 012.1.1.1 as 10.1.1.1
    monkeypatch.setattr(ip_target, "implementations", lambda: [octal])
    with pytest.raises(AssertionError, match="ipaddress refuses it"):
        ip_target.fuzz_ipcore(b"012.1.1.1")
