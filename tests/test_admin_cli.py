"""``sikker admin user|key|plan``: accounts, keys and plans from the shell."""

import argparse
import io
import re
from pathlib import Path

import orjson
import pytest

from sikker.cli import build_parser
from sikker.core import apikeys
from sikker.core.accounts import AccountStore
from tests.factories import FAST_KDF, build, run_cli
from tests.test_gunicorn import get, serving

EMAIL = "ops@example.com"
DOCS = Path(__file__).resolve().parent.parent / "docs" / "cli.md"
Capsys = pytest.CaptureFixture[str]


def admin(capsys: Capsys, data: Path, *args: str) -> tuple[int, str, str]:
    return run_cli(capsys, data, "admin", *args)


def admin_json(capsys: Capsys, data: Path, *args: str) -> dict:  # type: ignore[type-arg]
    code, out, err = admin(capsys, data, *args, "--json")
    assert code == 0, err
    return orjson.loads(out)  # type: ignore[no-any-return]


def test_create_an_account_with_a_key_both_shown_once(
    capsys: Capsys, tmp_path: Path
) -> None:
    code, out, err = admin(capsys, tmp_path, "user", "create", EMAIL, "--key")
    assert code == 0 and err == ""
    key = re.search(r"sk_live_\S+", out)
    assert key and apikeys.key_id_of(key.group(0))
    assert "password: " in out and "shown once" in out
    with AccountStore(tmp_path, kdf=FAST_KDF) as store:
        account, api_key = store.authenticate(key.group(0))
        assert account.email == EMAIL and account.plan == "free"
    code, out, _ = admin(capsys, tmp_path, "key", "list", EMAIL)
    assert api_key.id in out and key.group(0) not in out


def test_create_reads_the_password_from_stdin_and_takes_a_plan(
    capsys: Capsys, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("a long enough password\n"))
    made = admin_json(
        capsys, tmp_path, "user", "create", EMAIL, "--plan", "researcher",
        "--password-stdin",
    )  # fmt: skip
    assert made["plan"] == "researcher" and "password" not in made
    with AccountStore(tmp_path, kdf=FAST_KDF) as store:
        assert store.login(EMAIL, "a long enough password") is not None


def test_list_show_and_filter_accounts(capsys: Capsys, tmp_path: Path) -> None:
    admin(capsys, tmp_path, "user", "create", EMAIL, "--key")
    admin(capsys, tmp_path, "user", "create", "b@example.com", "--plan", "business")
    users = admin_json(capsys, tmp_path, "user", "list")["users"]
    assert [(u["email"], u["plan"], u["activeKeys"]) for u in users] == [
        ("b@example.com", "business", 0),
        (EMAIL, "free", 1),
    ]
    assert all("password" not in u for u in users)
    only = admin_json(capsys, tmp_path, "user", "list", "--plan", "business")
    assert [u["email"] for u in only["users"]] == ["b@example.com"]
    shown = admin_json(capsys, tmp_path, "user", "show", EMAIL)
    assert shown["email"] == EMAIL and len(shown["keys"]) == 1
    assert shown["usage"]["lookups"] == {"used": 0, "limit": 1000, "remaining": 1000}
    code, out, _ = admin(capsys, tmp_path, "user", "show", EMAIL)
    assert code == 0 and "lookups" in out and "1,000" in out


def test_set_plan_disable_enable_and_set_password(
    capsys: Capsys, tmp_path: Path
) -> None:
    admin(capsys, tmp_path, "user", "create", EMAIL)
    code, out, _ = admin(capsys, tmp_path, "user", "set-plan", EMAIL, "contributor")
    assert code == 0 and "free -> contributor" in out
    assert admin_json(capsys, tmp_path, "user", "disable", EMAIL)["disabled"] is True
    assert admin_json(capsys, tmp_path, "user", "enable", EMAIL)["disabled"] is False
    changed = admin_json(capsys, tmp_path, "user", "set-password", EMAIL)
    with AccountStore(tmp_path, kdf=FAST_KDF) as store:
        assert store.user(EMAIL).plan == "contributor"
        assert store.login(EMAIL, changed["password"]) is not None


def test_own_ranges_are_shown_replaced_and_cleared(
    capsys: Capsys, tmp_path: Path
) -> None:
    admin(capsys, tmp_path, "user", "create", EMAIL)
    set_ = admin_json(
        capsys, tmp_path, "user", "ranges", EMAIL, "198.51.100.7/24", "2001:db8::/32"
    )
    assert set_["allowedRanges"] == ["198.51.100.0/24", "2001:db8::/32"]
    assert admin_json(capsys, tmp_path, "user", "ranges", EMAIL) == set_
    cleared = admin_json(capsys, tmp_path, "user", "ranges", EMAIL, "--clear")
    assert cleared["allowedRanges"] == []


def test_keys_are_created_listed_and_revoked(capsys: Capsys, tmp_path: Path) -> None:
    admin(capsys, tmp_path, "user", "create", EMAIL)
    first = admin_json(capsys, tmp_path, "key", "create", EMAIL, "--name", "fw")
    second = admin_json(capsys, tmp_path, "key", "create", EMAIL)
    assert first["name"] == "fw" and first["key"].startswith("sk_live_")
    revoked = admin_json(capsys, tmp_path, "key", "revoke", first["prefix"])
    assert revoked["id"] == first["id"] and revoked["revoked"] is not None
    active = admin_json(capsys, tmp_path, "key", "list", EMAIL)["keys"]
    assert [k["id"] for k in active] == [second["id"]]
    every = admin_json(capsys, tmp_path, "key", "list", EMAIL, "--all")["keys"]
    assert {k["id"] for k in every} == {first["id"], second["id"]}
    assert all("key" not in k for k in every)


def test_plans_are_listed_from_the_plans_file(capsys: Capsys, tmp_path: Path) -> None:
    listed = admin_json(capsys, tmp_path, "plan", "list")
    assert listed["default"] == "free"
    assert [p["id"] for p in listed["plans"]] == [
        "free", "contributor", "researcher", "business",
    ]  # fmt: skip
    code, out, _ = admin(capsys, tmp_path, "plan", "list")
    assert code == 0 and "lookups 100,000" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("user", "show", "nobody@example.com"), "no account"),
        (("user", "set-plan", EMAIL, "platinum"), "no plan 'platinum'"),
        (("user", "create", EMAIL), "exists"),
        (("user", "create", "not-an-email"), "not an email"),
        (("key", "revoke", "zzzzzzzzzzzz"), "no API key"),
        (("key", "revoke", "not a key"), "not a key id"),
        (("user", "ranges", EMAIL, "10.0.0.0/33"), "not a CIDR"),
    ],
)
def test_errors_go_to_stderr_with_a_nonzero_exit(
    capsys: Capsys, tmp_path: Path, args: tuple[str, ...], message: str
) -> None:
    admin(capsys, tmp_path, "user", "create", EMAIL)
    code, out, err = admin(capsys, tmp_path, *args)
    assert code == 2 and out == ""
    assert err.startswith("sikker admin: error:") and message in err


def test_a_short_password_on_stdin_is_refused(
    capsys: Capsys, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    code, _, err = admin(capsys, tmp_path, "user", "create", EMAIL, "--password-stdin")
    assert code == 2 and "password" in err


def _actions(parser: argparse.ArgumentParser, prefix: str) -> dict[str, list[str]]:
    """Return every leaf command under ``parser`` with its options."""
    found: dict[str, list[str]] = {}
    subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not subs:
        options = [o for a in parser._actions for o in a.option_strings]
        return {prefix: [o for o in options if o not in ("-h", "--help", "--json")]}
    for name, child in subs[0].choices.items():
        found.update(_actions(child, f"{prefix} {name}"))
    return found


def test_every_admin_action_and_option_is_documented() -> None:
    text = DOCS.read_text()
    sections = re.findall(r"^## `sikker admin.*?(?=^## |\Z)", text, re.M | re.S)
    assert sections, "docs/cli.md has no sikker admin section"
    documented = "".join(sections)
    top = next(
        a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction)
    )
    leaves = _actions(top.choices["admin"], "sikker admin")
    assert len(leaves) >= 14
    for command, options in leaves.items():
        assert f"`{command}" in documented, command
        for option in options:
            assert option in documented, f"{option} of {command}"


@pytest.mark.slow
def test_changes_apply_to_a_running_server_at_its_next_request(
    capsys: Capsys, tmp_path: Path
) -> None:
    build(tmp_path)
    made = admin_json(capsys, tmp_path, "user", "create", EMAIL, "--key")
    key = made["key"]["key"]
    check = "/v1/key/check/203.0.113.10"
    with serving(tmp_path, workers=2, auth_cache_seconds="3600") as base:
        for _ in range(4):  # both workers have cached the key
            assert get(f"{base}{check}", key)[0] == 200
        admin(capsys, tmp_path, "user", "set-plan", EMAIL, "business")
        for _ in range(4):
            status = orjson.loads(get(f"{base}/v1/key/status", key)[1])
            assert status["tier"]["id"] == "business"
        admin(capsys, tmp_path, "user", "disable", EMAIL)
        assert {get(f"{base}{check}", key)[0] for _ in range(4)} == {403}
        admin(capsys, tmp_path, "user", "enable", EMAIL)
        assert {get(f"{base}{check}", key)[0] for _ in range(4)} == {200}
        admin(capsys, tmp_path, "key", "revoke", made["key"]["id"])
        assert {get(f"{base}{check}", key)[0] for _ in range(4)} == {401}


def test_the_demo_prints_the_operators_ready_key(
    capsys: Capsys, tmp_path: Path
) -> None:
    from sikker.cli import _print_try
    from sikker.core.config import load_config

    build(tmp_path)
    config = load_config(overrides={"data_dir": str(tmp_path)}, environ={})
    _print_try(config)
    out = capsys.readouterr().out
    key = re.search(r"export SIKKER_KEY=(sk_live_\S+)", out)
    assert key and "Authorization: Bearer $SIKKER_KEY" in out
    _print_try(config)  # the same key every time
    assert f"SIKKER_KEY={key.group(1)}" in capsys.readouterr().out
    with AccountStore(tmp_path, kdf=FAST_KDF) as store:
        account, _ = store.authenticate(key.group(1))
        assert account.email == "admin@sikker.local" and account.plan == "business"
