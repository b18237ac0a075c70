"""The ``sikker`` command: readable output, --json, exit codes, clear errors."""

from pathlib import Path

import orjson
import pytest

from sikker.cli import main
from tests.factories import RECORDS, build
from tests.factories import run_cli as run


@pytest.fixture
def data(tmp_path: Path) -> Path:
    build(tmp_path)
    return tmp_path


def test_check_prints_a_readable_summary(
    data: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, data, "check", "203.0.113.10")
    assert code == 0
    assert "203.0.113.10: confidence 97/100" in out
    assert "CN China - AS4134 CHINANET" in out
    assert "critical: SSH authorized_keys persistence x3 [T1098.004]" in out


def test_check_json_is_the_api_response(
    data: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, data, "check", "198.51.100.20", "--json")
    body = orjson.loads(out)
    assert code == 0 and body["confidenceLevel"] == 91 and body["found"] is True


@pytest.mark.parametrize(
    ("ip", "threshold", "expected"),
    [
        ("203.0.113.10", "50", 1),
        ("203.0.113.10", "98", 0),
        ("8.8.8.8", "1", 0),
    ],
)
def test_fail_above_exits_1_at_or_over_the_threshold(
    data: Path,
    capsys: pytest.CaptureFixture[str],
    ip: str,
    threshold: str,
    expected: int,
) -> None:
    assert run(capsys, data, "check", ip, "--fail-above", threshold)[0] == expected


def test_a_bad_ip_is_a_clear_error_on_stderr(
    data: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, data, "check", "300.1.1.1")
    assert code == 2 and out == ""
    assert err.startswith("sikker check: error: '300.1.1.1'")


def test_blacklist_without_limit_shows_ten_rows_and_a_hint(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    many = [
        {"ip": f"198.18.0.{i}", "score": 60 + i % 30, "country": "DE"}
        for i in range(1, 30)
    ]
    build(tmp_path, many)
    code, out, _ = run(capsys, tmp_path, "blacklist")
    lines = out.splitlines()
    assert code == 0 and len(lines) == 11
    assert "first 10 shown" in lines[-1]


def test_blacklist_plaintext_and_filters(
    data: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(
        capsys,
        data,
        "blacklist",
        "--plaintext",
        "--score-min",
        "90",
        "--ip-version",
        "4",
    )
    assert code == 0 and out == "203.0.113.10\n198.51.100.20\n"


def test_blacklist_json_matches_the_api_shape(
    data: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(
        capsys, data, "blacklist", "--json", "--min-severity", "very_high"
    )
    body = orjson.loads(out)
    assert code == 0
    assert body["meta"]["count"] == 1 and body["data"][0]["ip"] == "203.0.113.10"


def test_blacklist_bad_filter_names_the_parameter(
    data: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(capsys, data, "blacklist", "--only-countries", "ZZ")
    assert code == 2 and "onlyCountries" in err and "ZZ" in err


def test_info_verify_checks_every_file(
    data: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, data, "info", "--verify", "--json")
    info = orjson.loads(out)
    assert (
        code == 0 and info["verified"] is True and info["counts"]["ips"] == len(RECORDS)
    )


def test_commands_without_a_snapshot_say_what_to_do(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(capsys, tmp_path, "check", "1.2.3.4")
    assert code == 2 and "run `sikker build`" in err


def test_build_from_records_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    source = tmp_path / "records.ndjson"
    plain = [
        {k: v for k, v in r.items() if k not in ("behaviors", "primitives")}
        for r in RECORDS
    ]
    source.write_text("\n".join(orjson.dumps(r).decode() for r in plain) + "\n")
    code, out, _ = run(
        capsys,
        tmp_path / "data",
        "build",
        "--records",
        str(source),
        "--quiet",
        "--json",
    )
    assert code == 0 and orjson.loads(out)["ips"] == len(RECORDS)


def test_build_reports_the_line_of_a_bad_record(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "records.ndjson"
    source.write_text(
        '{"ip": "1.2.3.4", "score": 5}\n{"ip": "1.2.3.5", "score": 500}\n'
    )
    code, _, err = run(
        capsys, tmp_path / "data", "build", "--records", str(source), "--quiet"
    )
    assert code == 2 and "record 2: score must be an integer 0-100" in err


def test_a_bad_config_file_is_reported(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "sikker.toml"
    config.write_text('workers = "many"\n')
    code = main(["--config", str(config), "info"])
    assert code == 2
    assert "setting 'workers' expects int" in capsys.readouterr().err
