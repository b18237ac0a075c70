"""``sikker ingest``: log files into the event log, with readable reports."""

import io
import sys
from pathlib import Path

import orjson
import pytest

from sikker.core.eventlog import EventLog
from sikker.core.layout import EVENTS_DIR
from tests.factories import run_cli as run

DATA = Path(__file__).resolve().parent / "data"
ATTACKER = "45.155.205.7"


@pytest.fixture
def lab(monkeypatch: pytest.MonkeyPatch) -> None:
    """Accept the samples' 127.0.0.1 sources."""
    monkeypatch.setenv("SIKKER_ACCEPT_PRIVATE_SOURCES", "1")


def stored(data: Path) -> list[dict]:
    with EventLog(data / EVENTS_DIR) as log:
        return [event for _, event in log.read()]


def test_ingesting_the_cowrie_sample_appends_every_event(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], lab: None
) -> None:
    code, out, _ = run(
        capsys, tmp_path, "ingest", str(DATA / "cowrie-sample.json"), "--quiet"
    )
    assert code == 0
    assert "45 events accepted (sequences 1-45), 0 lines rejected, 5 skipped" in out
    assert "cowrie.log.closed 2" in out
    assert len(stored(tmp_path)) == 45


def test_malformed_lines_are_listed_with_numbers_and_the_rest_kept(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = {
        "ts": 1795351569,
        "sensor": "s",
        "src_ip": ATTACKER,
        "protocol": "ftp",
        "event": "login_failed",
    }
    log = tmp_path / "mixed.json"
    log.write_bytes(
        b"\n".join(
            [
                orjson.dumps(good),
                b"garbage",
                orjson.dumps({**good, "protocol": "gopher"}),
                orjson.dumps(good),
            ]
        )
    )
    code, out, err = run(capsys, tmp_path / "data", "ingest", str(log))
    assert code == 0
    assert "2 events accepted (sequences 1-2), 2 lines rejected" in out
    assert "  line 2: line: invalid JSON" in out
    assert "  line 3: protocol: unknown protocol 'gopher'" in out
    assert "ingesting" in err  # progress on stderr
    assert len(stored(tmp_path / "data")) == 2


def test_json_output_for_scripts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], lab: None
) -> None:
    code, out, _ = run(
        capsys,
        tmp_path,
        "ingest",
        str(DATA / "opencanary-sample.json"),
        "--json",
        "--quiet",
        "--sensor",
        "canary-lab",
    )
    result = orjson.loads(out)
    assert code == 0
    assert (result["accepted"], result["rejected"], result["skipped"]) == (7, 0, 5)
    assert (result["firstSequence"], result["lastSequence"]) == (1, 7)
    assert result["skippedEvents"] == {"opencanary.1001": 5}
    assert {e["sensor"] for e in stored(tmp_path)} == {"canary-lab"}


def test_stdin_is_read_with_dash(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    lab: None,
) -> None:
    raw = (DATA / "cowrie-sample.json").read_bytes()
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(raw)))
    code, out, _ = run(capsys, tmp_path, "ingest", "-", "--format", "cowrie")
    assert code == 0 and "45 events accepted" in out


def test_an_unusable_file_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("not json\nneither\n")
    code, out, err = run(capsys, tmp_path, "ingest", str(bad), "--quiet")
    assert code == 2
    assert "0 events accepted, 2 lines rejected" in out
    assert "no usable events" in err
    code, _, err = run(capsys, tmp_path, "ingest", str(tmp_path / "missing.json"))
    assert code == 2 and "cannot read" in err


def test_private_sources_are_rejected_without_the_setting(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(
        capsys, tmp_path, "ingest", str(DATA / "cowrie-sample.json"), "--quiet"
    )
    assert code == 2
    assert "is not a public address (loopback)" in out
