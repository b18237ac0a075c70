"""The HTTP benchmark's parts: the Falcon floor app and the wrk driver."""

import os
import shutil
import sys
from pathlib import Path

import falcon.testing
import pytest

from benchmarks.floor_app import floor_app
from benchmarks.servers import running, serving_dir
from benchmarks.wrk import run_wrk
from sikker.core.layout import current_path
from tests.factories import build


def test_the_floor_answers_the_fixed_body_on_the_check_template() -> None:
    client = falcon.testing.TestClient(floor_app(b'{"ip":"x"}'))
    resp = client.simulate_get("/v1/key/check/203.0.113.10")
    assert resp.status_code == 200 and resp.content == b'{"ip":"x"}'
    assert resp.headers["Content-Type"] == "application/json"


def test_a_serving_dir_links_the_snapshot_and_keeps_writes_apart(
    tmp_path: Path,
) -> None:
    build(tmp_path / "cache")
    (tmp_path / "run").mkdir()
    data = serving_dir(current_path(tmp_path / "cache"), tmp_path / "run")
    assert current_path(data).resolve() == current_path(tmp_path / "cache").resolve()
    (data / "written").write_text("x")
    assert not (tmp_path / "cache" / "written").exists()


def _wrk_or_skip() -> None:
    if shutil.which("wrk") is None:
        if os.environ.get("CI"):
            pytest.fail("wrk is missing; scripts/setup --test installs it")
        pytest.skip("wrk is not installed (scripts/setup --test installs it)")


@pytest.mark.slow
def test_wrk_drives_the_floor_under_sikkers_gunicorn_settings(tmp_path: Path) -> None:
    _wrk_or_skip()
    body = tmp_path / "body.json"
    body.write_bytes(b'{"ip":"203.0.113.10"}')
    argv = [sys.executable, "-m", "benchmarks.floor_app", "--workers", "1",
            "--body", str(body)]  # fmt: skip
    with running(argv, tmp_path / "floor.log") as base:
        figures = run_wrk(base, ["/v1/key/check/1.2.3.4", "/healthz"], 1, 2)
    assert figures["requests"] > 50 and figures["rps"] > 50
    assert figures["socket_errors"] == figures["status_errors"] == 0
    assert 0 < figures["p50_us"] <= figures["p99_us"]
