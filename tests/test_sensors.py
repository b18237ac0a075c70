"""Sensor tokens: the registry and ``sikker sensor add|list|remove``."""

import stat
from pathlib import Path

import orjson
import pytest

from sikker.core.sensors import TOKEN_PREFIX, SensorRegistry
from sikker.errors import SensorError, UnknownSensorError
from tests.factories import run_cli as run


def test_a_new_token_authenticates_its_sensor_only(tmp_path: Path) -> None:
    registry = SensorRegistry(tmp_path)
    _, token_a = registry.add("fra-1")
    _, token_b = registry.add("nyc-1")
    assert token_a.startswith(TOKEN_PREFIX) and len(token_a) > 40
    assert registry.authenticate(token_a) == "fra-1"
    assert registry.authenticate(token_b) == "nyc-1"
    assert registry.authenticate(token_a + "x") is None
    assert registry.authenticate("no-prefix") is None
    assert registry.authenticate("") is None


def test_the_registry_keeps_digests_not_tokens_in_a_private_file(
    tmp_path: Path,
) -> None:
    registry = SensorRegistry(tmp_path)
    sensor, token = registry.add("fra-1")
    text = registry.path.read_text()
    assert token not in text and sensor.sha256 in text
    assert stat.S_IMODE(registry.path.stat().st_mode) == 0o600
    assert sensor.public() == {
        "name": "fra-1",
        "created": sensor.created,
        "token": token[:10] + "...",
    }


def test_removal_revokes_the_token_for_other_readers_too(tmp_path: Path) -> None:
    server_view = SensorRegistry(tmp_path)
    _, token = SensorRegistry(tmp_path).add("fra-1")
    assert server_view.authenticate(token) == "fra-1"
    SensorRegistry(tmp_path).remove("fra-1")
    assert server_view.authenticate(token) is None


def test_registry_errors_are_clear(tmp_path: Path) -> None:
    registry = SensorRegistry(tmp_path)
    registry.add("fra-1")
    with pytest.raises(SensorError, match="already exists"):
        registry.add("fra-1")
    with pytest.raises(UnknownSensorError, match="no sensor named 'nyc-1'"):
        registry.remove("nyc-1")
    for bad in ("", "-dash", "has space", "x" * 65, "ünï"):
        with pytest.raises(SensorError, match="invalid sensor name"):
            registry.add(bad)


def test_sensor_commands_add_list_and_remove(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, tmp_path, "sensor", "add", "fra-1")
    token = out.strip()
    assert code == 0 and token.startswith(TOKEN_PREFIX)
    assert "shown only once" in err
    assert SensorRegistry(tmp_path).authenticate(token) == "fra-1"

    code, out, _ = run(capsys, tmp_path, "sensor", "list")
    assert code == 0 and "fra-1" in out and token[:10] + "..." in out
    assert token not in out

    code, out, _ = run(capsys, tmp_path, "sensor", "list", "--json")
    assert orjson.loads(out)["sensors"][0]["name"] == "fra-1"

    code, out, _ = run(capsys, tmp_path, "sensor", "add", "nyc-1", "--json")
    assert orjson.loads(out)["token"].startswith(TOKEN_PREFIX)

    code, out, _ = run(capsys, tmp_path, "sensor", "remove", "fra-1")
    assert code == 0 and "removed" in out
    assert SensorRegistry(tmp_path).authenticate(token) is None


def test_sensor_command_errors_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(capsys, tmp_path, "sensor", "remove", "ghost")
    assert code == 2 and "no sensor named 'ghost'" in err
    code, _, err = run(capsys, tmp_path, "sensor", "add", "bad name")
    assert code == 2 and "invalid sensor name" in err
    code, out, _ = run(capsys, tmp_path, "sensor", "list")
    assert code == 0 and "no sensors registered" in out
