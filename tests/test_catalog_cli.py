"""``sikker catalog``: readable tables, --json, filters and --check."""

from pathlib import Path

import orjson
import pytest

from sikker.builder.catalog import load_catalog
from sikker.cli import main

CATALOG = load_catalog()
COUNTS = f"{len(CATALOG.behaviors)} behaviors and {len(CATALOG.primitives)} primitives"


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["catalog", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_catalog_lists_behaviors_and_primitives_as_tables(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, _ = run(capsys)
    assert code == 0
    counts = f"{len(CATALOG.behaviors)} behaviors, {len(CATALOG.primitives)} primitives"
    assert out.startswith(f"{counts} (the shipped catalog)")
    lines = out.splitlines()
    assert lines[2].split() == ["ID", "SEVERITY", "PROTOCOLS", "MITRE", "NAME"]
    row = next(line for line in lines if line.startswith("ssh-key-persistence-chattr"))
    assert row.split()[1:4] == ["critical", "ssh,telnet", "T1098.004,T1222.002"]
    assert any(line.split()[:2] == ["auth-failure-burst", "all"] for line in lines)


def test_catalog_json_is_the_snapshot_form(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--json")
    assert code == 0
    assert orjson.loads(out) == CATALOG.to_snapshot()


def test_catalog_filters_by_protocol_and_severity(
    capsys: pytest.CaptureFixture[str],
) -> None:
    _, out, _ = run(capsys, "--json", "--protocol", "redis", "--severity", "very_high")
    body = orjson.loads(out)
    assert body["behaviors"]
    for behavior in body["behaviors"]:
        assert "redis" in behavior["protocols"]
        assert behavior["severity"] == "critical"
    used = {p for b in body["behaviors"] for p in b["all"] + b["any"]}
    assert {p["id"] for p in body["primitives"]} <= used
    assert all("redis" in p["protocols"] for p in body["primitives"])


def test_check_accepts_a_valid_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "mine.toml"
    path.write_text(
        (Path(__file__).parent.parent / "builder/data/catalog.toml").read_text()
    )
    code, out, _ = run(capsys, "--check", str(path))
    assert code == 0
    assert out.strip() == f"{path}: valid, {COUNTS}"
    code, out, _ = run(capsys, "--check", str(path), "--json")
    assert orjson.loads(out) == {
        "file": str(path),
        "valid": True,
        "behaviors": len(CATALOG.behaviors),
        "primitives": len(CATALOG.primitives),
    }


def test_check_names_the_bad_entry_and_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(
        '[[primitive]]\nid = "cmd-x"\ndescription = "x"\nprotocols = ["ssh"]\n'
        'field = "command"\nmatch = "regex"\npattern = "uname(["\n'
    )
    code, out, err = run(capsys, "--check", str(path))
    assert code == 2
    assert out == ""
    assert err.startswith("sikker catalog: error: ")
    assert "primitive 'cmd-x': field 'pattern': invalid regex" in err
