"""The Locust traffic mix (benchmarks/locust/) against a real server on loopback.

Short headless runs with a handful of users: the mix exercises every kind
of client, and the budgets decide the exit code (0 when they hold, 1 when
latency or failures break them), single-process and distributed.
"""

import importlib.util
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from benchmarks.keys import bench_keys
from sikker.builder import demo
from sikker.builder.progress import NullProgress
from sikker.builder.publish import publish
from tests.test_gunicorn import serving

RUN = Path(__file__).resolve().parent.parent / "benchmarks" / "locust" / "run"
#: The request names each kind of client reports under.
ENDPOINTS = (
    "/v1/key/check/[ip]",
    "/v1/key/report",
    "/v1/key/bulk-check-inline",
    "/v1/key/blacklist?format=",
    "/taxii2/api/collections/[id]/objects/",
)

pytestmark = pytest.mark.slow


def _locust_or_skip() -> None:
    if importlib.util.find_spec("locust") is None:
        if os.environ.get("CI"):
            pytest.fail("Locust is missing; scripts/setup --test installs it")
        pytest.skip("Locust is not installed (scripts/setup --bench installs it)")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """A 3,000-IP demo snapshot served on loopback; yield (URL, API keys)."""
    _locust_or_skip()
    data = tmp_path_factory.mktemp("locust") / "data"
    publish(demo.generate(3000, seed=5), data, NullProgress())
    plans = data.parent / "plans.toml"
    keys = bench_keys(data, plans, accounts=2, per_account=2)
    with serving(data, workers=1, plans_path=str(plans)) as base:
        yield base, ",".join(keys)


def _locust(
    base: str, keys: str, *extra: str, users: int = 5
) -> subprocess.CompletedProcess[str]:
    argv = [str(RUN), "--url", base, "--users", str(users)]
    argv += ["--spawn-rate", str(users), "--duration", "6s", *extra]
    env = dict(os.environ, SIKKER_BENCH_KEYS=keys)
    return subprocess.run(
        argv, env=env, capture_output=True, text=True, timeout=180, check=False
    )


def test_the_mix_runs_every_kind_of_client_within_its_budgets(
    server: tuple[str, str],
) -> None:
    done = _locust(*server, "--equal-weights", "--max-fail-ratio", "0")
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-3000:]
    assert "budgets met" in output
    for endpoint in ENDPOINTS:
        assert endpoint in output, f"no {endpoint} request in the run"


def test_an_impossible_latency_budget_fails_a_distributed_run(
    server: tuple[str, str],
) -> None:
    done = _locust(*server, "--workers", "2", "--max-p99-ms", "0", users=2)
    output = done.stdout + done.stderr
    assert done.returncode == 1, output[-3000:]
    assert "budget broken: p99" in output
    assert "2 workers connected" in output


def test_failed_requests_beyond_the_budget_fail_the_run(
    server: tuple[str, str],
) -> None:
    done = _locust(server[0], "sk_live_notakey_atall", "Integration", users=2)
    output = done.stdout + done.stderr
    assert done.returncode == 1, output[-3000:]
    assert "budget broken" in output and "of requests failed" in output
