"""Accounts: registering, logging in, passwords, the operator's credentials."""

import logging
import os
import stat
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import orjson
import pytest

from sikker.core import accounts as accounts_module
from sikker.core import passwords
from sikker.core.accounts import AccountStore, normalize_email
from sikker.core.admin import ADMIN_EMAIL, credentials_path, ensure_admin
from sikker.core.config import load_config
from sikker.errors import AccountError, AccountExistsError, UnknownAccountError
from sikker.server.app import SikkerApp
from sikker.server.gunicorn_options import options
from tests.factories import FAST_KDF, PASSWORD, basic, bearer, build
from tests.keyed import client, close, keyed_app

EMAIL = "alice@example.com"


@pytest.fixture
def app(tmp_path: Path) -> Iterator[SikkerApp]:
    build(tmp_path)
    app = keyed_app(tmp_path)
    yield app
    close(app)


def register(app: SikkerApp, email: str = EMAIL, password: str = PASSWORD, **kw):  # type: ignore[no-untyped-def]
    body = orjson.dumps({"email": email, "password": password})
    return client(app).simulate_post(
        "/v1/account", body=body, headers={"Content-Type": "application/json"}, **kw
    )


# -- registering ---------------------------------------------------------------------


def test_registering_creates_an_account_on_the_default_plan(app: SikkerApp) -> None:
    resp = register(app, "Alice@Example.com")
    assert resp.status_code == 201 and resp.headers["Location"] == "/v1/account"
    assert resp.json["email"] == EMAIL and resp.json["plan"]["id"] == "free"
    assert "password" not in resp.json and PASSWORD not in resp.text
    stored = app.keyed.service.store().user(EMAIL)
    assert stored.id == resp.json["id"] and not stored.disabled


def test_an_email_registers_once_whatever_its_case(app: SikkerApp) -> None:
    assert register(app).status_code == 201
    resp = register(app, "ALICE@example.COM")
    assert resp.status_code == 409 and resp.json["code"] == "account_exists"


@pytest.mark.parametrize(
    ("email", "password"),
    [
        ("not-an-email", PASSWORD),
        (EMAIL, "short"),
        (EMAIL, "x" * 1025),
        ("a@b", PASSWORD),
    ],
)
def test_bad_emails_and_passwords_are_400s(
    app: SikkerApp, email: str, password: str
) -> None:
    resp = register(app, email, password)
    assert resp.status_code == 400 and resp.json["code"] == "invalid_request"


def test_registration_can_be_closed(tmp_path: Path) -> None:
    app = keyed_app(tmp_path, allow_registration=False)
    resp = register(app)
    assert resp.status_code == 403 and resp.json["status"] == 403
    close(app)


def test_one_address_registers_a_limited_number_of_accounts(tmp_path: Path) -> None:
    app = keyed_app(tmp_path, login_max_failures=2)
    assert register(app, "a1@example.com").status_code == 201
    assert register(app, "a2@example.com").status_code == 201
    resp = register(app, "a3@example.com")
    assert resp.status_code == 429 and int(resp.headers["Retry-After"]) >= 1
    other = register(app, "a3@example.com", remote_addr="198.51.100.9")
    assert other.status_code == 201
    close(app)


# -- logging in ----------------------------------------------------------------------


def test_logging_in_with_basic_credentials_shows_the_account(app: SikkerApp) -> None:
    register(app)
    resp = client(app).simulate_get("/v1/account", headers=basic(EMAIL, PASSWORD))
    assert resp.status_code == 200
    assert (
        resp.json["email"] == EMAIL and resp.json["plan"]["quotas"]["lookups"] == 1000
    )


def test_a_wrong_password_and_an_unknown_email_look_the_same(app: SikkerApp) -> None:
    register(app)
    wrong = client(app).simulate_get(
        "/v1/account", headers=basic(EMAIL, "wrong password")
    )
    unknown = client(app).simulate_get(
        "/v1/account", headers=basic("bob@example.com", PASSWORD)
    )
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json == unknown.json
    assert wrong.headers["WWW-Authenticate"] == unknown.headers["WWW-Authenticate"]
    assert wrong.headers["WWW-Authenticate"].startswith("Basic")


def test_an_unknown_email_costs_one_password_hash_too(
    app: SikkerApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    register(app)
    store = app.keyed.service.store()
    calls: list[str] = []
    real = passwords.verify_password

    def counting(password: str, stored: str) -> bool:
        calls.append(stored.split("$")[1])  # the cost it ran at
        return real(password, stored)

    monkeypatch.setattr(accounts_module.passwords, "verify_password", counting)
    assert store.login(EMAIL, "wrong password") is None
    assert store.login("bob@example.com", "wrong password") is None
    assert store.login("not an email", "wrong password") is None
    assert store.login(EMAIL, PASSWORD) is not None
    assert calls == [calls[0]] * 4  # one hash each, at one cost


def test_failed_logins_are_limited_per_client_address(tmp_path: Path) -> None:
    app = keyed_app(tmp_path, login_max_failures=3)
    register(app)
    bad = basic(EMAIL, "wrong password")
    statuses = [
        client(app).simulate_get("/v1/account", headers=bad).status_code
        for _ in range(4)
    ]
    assert statuses == [401, 401, 401, 429]
    blocked = client(app).simulate_get("/v1/account", headers=basic(EMAIL, PASSWORD))
    assert blocked.status_code == 429 and blocked.json["code"] == "rate_limited"
    # behind the trusted proxy (127.0.0.1), another client is not blocked
    other = client(app).simulate_get(
        "/v1/account",
        headers={**basic(EMAIL, PASSWORD), "X-Forwarded-For": "198.51.100.7"},
    )
    assert other.status_code == 200
    close(app)


def test_a_disabled_account_cannot_log_in(app: SikkerApp) -> None:
    register(app)
    app.keyed.service.store().set_disabled(EMAIL, True)
    resp = client(app).simulate_get("/v1/account", headers=basic(EMAIL, PASSWORD))
    assert resp.status_code == 403 and resp.json["code"] == "account_disabled"


@pytest.mark.parametrize(
    "header",
    ["Bearer xyz", "Basic !!!", "Basic " + "YWxpY2U=", "Negotiate abc", ""],
)
def test_malformed_credentials_are_401s(app: SikkerApp, header: str) -> None:
    resp = client(app).simulate_get("/v1/account", headers={"Authorization": header})
    assert resp.status_code == 401 and resp.json["code"] == "unauthorized"


# -- passwords and storage -----------------------------------------------------------


def test_passwords_are_hashed_with_scrypt_at_a_modern_cost() -> None:
    stored = passwords.hash_password(PASSWORD)
    scheme, log_n, r, p, salt, key = stored.split("$")
    assert (scheme, int(log_n), int(r), int(p)) == ("scrypt", 15, 8, 1)
    assert (len(salt), len(key)) == (22, 43)  # 16 and 32 bytes, base64
    assert passwords.verify_password(PASSWORD, stored)
    assert not passwords.verify_password(PASSWORD + "x", stored)
    assert passwords.hash_password(PASSWORD) != stored  # a fresh salt each time


def test_broken_stored_hashes_never_verify() -> None:
    for stored in ("", "scrypt$x", "md5$1$2$3$4$5", "scrypt$4$8$1$!!$!!"):
        assert not passwords.verify_password(PASSWORD, stored)


def test_the_password_is_nowhere_in_the_account_files(tmp_path: Path) -> None:
    with AccountStore(tmp_path, kdf=FAST_KDF) as store:
        store.add_user(EMAIL, PASSWORD)
    for path in (tmp_path / "accounts").iterdir():
        assert PASSWORD.encode() not in path.read_bytes()


def test_emails_are_normalised_and_checked() -> None:
    assert normalize_email("  Bob@Example.ORG ") == "bob@example.org"
    for bad in ("bob", "bob@example", "a b@example.org", "x" * 250 + "@example.org"):
        with pytest.raises(AccountError):
            normalize_email(bad)


def test_store_errors_are_typed(tmp_path: Path) -> None:
    with AccountStore(tmp_path, kdf=FAST_KDF) as store:
        store.add_user(EMAIL, PASSWORD)
        with pytest.raises(AccountExistsError):
            store.add_user(EMAIL, PASSWORD)
        with pytest.raises(UnknownAccountError):
            store.user("bob@example.com")
        with pytest.raises(UnknownAccountError, match="no plan"):
            store.set_plan(EMAIL, "platinum")
        with pytest.raises(UnknownAccountError):
            store.add_user("bob@example.com", PASSWORD, "platinum")


def test_accounts_survive_a_restart(tmp_path: Path) -> None:
    app = keyed_app(tmp_path)
    register(app)
    app.keyed.service.store().set_plan(EMAIL, "researcher")
    close(app)
    again = keyed_app(tmp_path)
    resp = client(again).simulate_get("/v1/account", headers=basic(EMAIL, PASSWORD))
    assert resp.status_code == 200 and resp.json["plan"]["id"] == "researcher"
    close(again)


# -- secrets -------------------------------------------------------------------------


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_first_start_creates_the_secret_and_admin_credentials_privately(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    build(tmp_path)
    caplog.set_level(logging.DEBUG)
    config = load_config(overrides={"data_dir": str(tmp_path)}, environ={})
    server = SimpleNamespace(log=logging.getLogger("gunicorn.error"))
    options(config)["on_starting"](server)  # gunicorn's master, before forking
    secret = tmp_path / "secret"
    creds = credentials_path(tmp_path)
    assert _mode(secret) == _mode(creds) == 0o600
    assert _mode(tmp_path / "accounts") == 0o700
    data = orjson.loads(creds.read_bytes())
    assert data["email"] == ADMIN_EMAIL and data["plan"] == "business"
    logged = caplog.text + "".join(str(r.args) for r in caplog.records)
    for value in (secret.read_text().strip(), data["password"], data["key"]):
        assert value not in logged
    app = keyed_app(tmp_path)
    ok = client(app).simulate_get("/v1/key/status", headers=bearer(data["key"]))
    assert ok.status_code == 200 and ok.json["tier"]["id"] == "business"
    login = client(app).simulate_get(
        "/v1/account", headers=basic(ADMIN_EMAIL, data["password"])
    )
    assert login.status_code == 200
    close(app)


def test_later_starts_keep_the_credentials_and_deleting_them_rotates(
    tmp_path: Path,
) -> None:
    with AccountStore(tmp_path, kdf=FAST_KDF) as store:
        path, created = ensure_admin(store)
        first = orjson.loads(path.read_bytes())
        assert created and ensure_admin(store) == (path, False)
        assert orjson.loads(path.read_bytes()) == first
        secret = (tmp_path / "secret").read_bytes()
        path.unlink()
        path, created = ensure_admin(store)
        second = orjson.loads(path.read_bytes())
        assert created and second["key"] != first["key"]
        assert second["password"] != first["password"]
        keys = {k.id: k for k in store.keys(store.user(ADMIN_EMAIL).id)}
        assert keys[first["keyId"]].revoked is not None  # the old key is revoked
        assert keys[second["keyId"]].revoked is None
    assert (tmp_path / "secret").read_bytes() == secret  # the secret is kept


def test_a_damaged_secret_stops_the_store_with_advice(tmp_path: Path) -> None:
    (tmp_path / "secret").write_text("not hex\n")
    os.chmod(tmp_path / "secret", 0o600)
    with pytest.raises(Exception, match="server secret") as info:
        AccountStore(tmp_path, kdf=FAST_KDF)
    assert isinstance(info.value, ValueError)
