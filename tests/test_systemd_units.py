"""The shipped systemd units (integrations/systemd/) load and name real commands.

``systemd-analyze verify`` loads each unit as systemd would (sections,
directives and their values, an absolute ExecStart that exists), with the
shipped ``/opt/sikker/.venv/bin/sikker`` replaced by this checkout's
``sikker``; sikker's own argument parser reads each ExecStart, so a unit
never names a command or option that does not exist.
"""

import configparser
import shlex
import shutil
import sys
from pathlib import Path

import pytest

from sikker.cli import build_parser
from tests.tools import ROOT, need_tool, run

FOLDER = ROOT / "integrations" / "systemd"
UNITS = sorted(FOLDER.glob("*.service"))
SHIPPED = "/opt/sikker/.venv/bin/sikker"


def installed_sikker() -> str:
    """Return this environment's ``sikker`` executable."""
    beside = Path(sys.executable).parent / "sikker"
    found = str(beside) if beside.is_file() else shutil.which("sikker")
    assert found, "the sikker entry point is not installed"
    return found


def verify(unit: Path, tmp: Path, text: str | None = None) -> tuple[int, str]:
    """Run ``systemd-analyze verify`` on a copy of ``unit``; return (code, output)."""
    tool = need_tool("systemd-analyze")
    copy = tmp / unit.name
    copy.write_text((text or unit.read_text()).replace(SHIPPED, installed_sikker()))
    result = run(tool, "verify", str(copy), check=False)
    return result.returncode, result.stdout + result.stderr


def service(unit: Path) -> configparser.SectionProxy:
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read_string(unit.read_text())
    return parser["Service"]


def test_the_primary_builder_and_replica_units_ship() -> None:
    names = {unit.name for unit in UNITS}
    assert names == {
        "sikker.service",
        "sikker-builder.service",
        "sikker-replica.service",
    }


@pytest.mark.parametrize("unit", UNITS, ids=[u.name for u in UNITS])
def test_systemd_accepts_the_unit(unit: Path, tmp_path: Path) -> None:
    code, output = verify(unit, tmp_path)
    assert code == 0, output
    assert unit.name not in output, output


def test_systemd_refuses_a_broken_unit(tmp_path: Path) -> None:
    # the check bites: a relative command and an unknown KillMode
    unit = FOLDER / "sikker.service"
    text = unit.read_text().replace(SHIPPED, "sikker").replace("=mixed", "=sometimes")
    code, output = verify(unit, tmp_path, text)
    assert code != 0 and "sikker.service" in output


@pytest.mark.parametrize("unit", UNITS, ids=[u.name for u in UNITS])
def test_each_unit_runs_a_sikker_command_that_exists(unit: Path) -> None:
    argv = shlex.split(service(unit)["ExecStart"])
    assert argv[0] == SHIPPED
    args = build_parser().parse_args(argv[1:])  # exits 2 on an unknown option
    assert args.command in {"serve", "build"}
    if unit.name == "sikker-builder.service":
        assert args.follow
    assert bool(getattr(args, "replica_of", None)) == ("replica" in unit.name)


@pytest.mark.parametrize("unit", UNITS, ids=[u.name for u in UNITS])
def test_each_unit_restarts_and_may_write_only_the_data_directory(unit: Path) -> None:
    section = service(unit)
    assert section["Restart"] == "always"
    assert section["ProtectSystem"] == "strict"
    assert section["ReadWritePaths"] == "/var/lib/sikker"
    if "build" not in unit.name:  # gunicorn drains its workers on TERM
        assert section["KillMode"] == "mixed"
