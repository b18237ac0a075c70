"""API keys: created and shown once, stored as an HMAC, sent two ways, revoked."""

import hashlib
import hmac
from collections.abc import Iterator
from pathlib import Path

import pytest

from sikker.core import apikeys
from sikker.core.accounts import MAX_KEYS, AccountStore
from sikker.errors import AuthError, KeyRevokedError
from sikker.server.app import SikkerApp
from tests.factories import FAST_KDF, PASSWORD, basic, bearer, build
from tests.keyed import client, close, keyed_app, new_key

EMAIL = "alice@example.com"
LOGIN = basic(EMAIL, PASSWORD)
CHECK = "/v1/key/check/203.0.113.10"


@pytest.fixture
def app(tmp_path: Path) -> Iterator[SikkerApp]:
    build(tmp_path)
    app = keyed_app(tmp_path)
    app.keyed.service.store().add_user(EMAIL, PASSWORD)
    yield app
    close(app)


def create(app: SikkerApp, name: str | None = None) -> dict:  # type: ignore[type-arg]
    body = {} if name is None else {"name": name}
    resp = client(app).simulate_post("/v1/account/keys", json=body, headers=LOGIN)
    assert resp.status_code == 201, resp.text
    return resp.json  # type: ignore[no-any-return]


def test_an_account_holds_several_keys_each_shown_once(app: SikkerApp) -> None:
    made = [create(app, name) for name in ("laptop", "firewall", "ci")]
    for key in made:
        assert key["key"].startswith(f"sk_live_{key['id']}_")
        assert key["prefix"] == f"sk_live_{key['id']}_..."
        assert apikeys.key_id_of(key["key"]) == key["id"]
    listed = client(app).simulate_get("/v1/account/keys", headers=LOGIN)
    assert listed.status_code == 200
    assert sorted(k["name"] for k in listed.json["keys"]) == [
        "ci",
        "firewall",
        "laptop",
    ]
    assert all("key" not in k and "digest" not in k for k in listed.json["keys"])
    for key in made:
        assert key["key"] not in listed.text
        assert (
            client(app).simulate_get(CHECK, headers=bearer(key["key"])).status_code
            == 200
        )


def test_keys_are_stored_only_as_an_hmac_under_the_server_secret(
    app: SikkerApp, tmp_path: Path
) -> None:
    made = create(app)
    store = app.keyed.service.store()
    secret = bytes.fromhex((tmp_path / "secret").read_text().strip())
    assert store.secret == secret
    expected = hmac.new(secret, made["key"].encode(), hashlib.sha256).hexdigest()
    assert store.key(made["id"]).digest == expected
    client(app).simulate_get(CHECK, headers=bearer(made["key"]))  # counted, cached
    app.keyed.service.flush()
    secret_part = made["key"].split("_")[3].encode()
    for path in tmp_path.rglob("*"):
        if path.is_file():
            content = path.read_bytes()
            assert made["key"].encode() not in content, path
            assert secret_part not in content, path


def test_keys_are_compared_in_constant_time(
    app: SikkerApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    made = create(app)
    compared: list[tuple[bytes, bytes]] = []
    real = hmac.compare_digest

    def spy(a: bytes, b: bytes) -> bool:
        compared.append((a, b))
        return real(a, b)

    monkeypatch.setattr(apikeys.hmac, "compare_digest", spy)
    store = app.keyed.service.store()
    assert store.authenticate(made["key"])[1].id == made["id"]
    forged = apikeys.new_key(made["id"])  # the right id, another secret
    with pytest.raises(AuthError):
        store.authenticate(forged)
    with pytest.raises(AuthError):
        store.authenticate(apikeys.new_key("a" * 12))  # an id nobody holds
    assert len(compared) == 3  # every attempt, known id or not, ran the compare


def test_a_mistyped_key_is_refused_before_any_lookup(app: SikkerApp) -> None:
    key = create(app)["key"]
    typo = key[:-8] + ("A" if key[-8] != "A" else "B") + key[-7:]
    assert apikeys.key_id_of(typo) is None  # the checksum catches it
    resp = client(app).simulate_get(CHECK, headers=bearer(typo))
    assert resp.status_code == 401 and resp.json["code"] == "unauthorized"


def test_a_revoked_key_is_refused_at_once_and_the_others_keep_working(
    tmp_path: Path,
) -> None:
    build(tmp_path)
    app = keyed_app(tmp_path, auth_cache_seconds=3600)  # only the change counter
    app.keyed.service.store().add_user(EMAIL, PASSWORD)
    old, kept = create(app), create(app)
    assert (
        client(app).simulate_get(CHECK, headers=bearer(old["key"])).status_code == 200
    )
    resp = client(app).simulate_delete(f"/v1/account/keys/{old['id']}", headers=LOGIN)
    assert resp.status_code == 200 and resp.json["revoked"] is not None
    refused = client(app).simulate_get(CHECK, headers=bearer(old["key"]))
    assert refused.status_code == 401 and refused.json["code"] == "key_revoked"
    assert refused.headers["WWW-Authenticate"].startswith("Bearer")
    assert (
        client(app).simulate_get(CHECK, headers=bearer(kept["key"])).status_code == 200
    )
    close(app)


def test_nobody_revokes_another_accounts_key(app: SikkerApp) -> None:
    theirs = apikeys.key_id_of(new_key(app, "bob@example.com"))
    resp = client(app).simulate_delete(f"/v1/account/keys/{theirs}", headers=LOGIN)
    assert resp.status_code == 404 and resp.json["code"] == "not_found"
    bad = client(app).simulate_delete("/v1/account/keys/NOT-AN-ID", headers=LOGIN)
    assert bad.status_code == 400


def test_an_account_holds_a_limited_number_of_active_keys(app: SikkerApp) -> None:
    made = [create(app) for _ in range(MAX_KEYS)]
    resp = client(app).simulate_post("/v1/account/keys", json={}, headers=LOGIN)
    assert resp.status_code == 400 and "revoke" in resp.json["error"]
    client(app).simulate_delete(f"/v1/account/keys/{made[0]['id']}", headers=LOGIN)
    assert (
        client(app).simulate_post("/v1/account/keys", headers=LOGIN).status_code == 201
    )


def test_key_management_needs_the_password(app: SikkerApp) -> None:
    key = create(app)["key"]
    for resp in (
        client(app).simulate_get("/v1/account/keys"),
        client(app).simulate_post("/v1/account/keys", headers=bearer(key)),
        client(app).simulate_get(
            "/v1/account/keys", headers=basic(EMAIL, "wrong one!")
        ),
    ):
        assert resp.status_code == 401 and resp.json["code"] == "unauthorized"


# -- sending the key -----------------------------------------------------------------


def test_the_key_works_as_a_bearer_header_or_a_query_parameter(app: SikkerApp) -> None:
    key = create(app)["key"]
    assert client(app).simulate_get(CHECK, headers=bearer(key)).status_code == 200
    assert client(app).simulate_get(CHECK, params={"key": key}).status_code == 200
    lower = {"Authorization": f"bearer {key}"}
    assert client(app).simulate_get(CHECK, headers=lower).status_code == 200


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer "}, {"Authorization": "Basic YTpi"},
     {"Authorization": "Bearer sk_live_nope"},
     {"Authorization": "Bearer " + "x" * 5000}],
)  # fmt: skip
def test_missing_or_malformed_keys_are_401s(app: SikkerApp, headers: dict) -> None:  # type: ignore[type-arg]
    resp = client(app).simulate_get(CHECK, headers=headers)
    assert resp.status_code == 401 and resp.json["code"] == "unauthorized"
    assert resp.headers["WWW-Authenticate"].startswith('Bearer realm="sikker"')
    assert "X-RateLimit-Limit" not in resp.headers


def test_malformed_keys_are_not_remembered(app: SikkerApp) -> None:
    auth = app.keyed.auth
    for n in range(50):
        client(app).simulate_get(CHECK, headers={"Authorization": f"Bearer junk{n}"})
    assert not any(k.startswith("junk") for k in auth._cache)


def test_a_disabled_account_is_403_for_every_key(app: SikkerApp) -> None:
    keys = [create(app)["key"] for _ in range(2)]
    app.keyed.service.store().set_disabled(EMAIL, True)
    for key in keys:
        resp = client(app).simulate_get(CHECK, headers=bearer(key))
        assert resp.status_code == 403 and resp.json["code"] == "account_disabled"
    app.keyed.service.store().set_disabled(EMAIL, False)
    assert client(app).simulate_get(CHECK, headers=bearer(keys[0])).status_code == 200


def test_keys_and_revocations_survive_a_restart(tmp_path: Path) -> None:
    build(tmp_path)
    app = keyed_app(tmp_path)
    app.keyed.service.store().add_user(EMAIL, PASSWORD)
    kept, revoked = create(app), create(app)
    app.keyed.service.store().revoke_key(revoked["id"])
    close(app)
    again = keyed_app(tmp_path)
    assert (
        client(again).simulate_get(CHECK, headers=bearer(kept["key"])).status_code
        == 200
    )
    refused = client(again).simulate_get(CHECK, headers=bearer(revoked["key"]))
    assert refused.status_code == 401 and refused.json["code"] == "key_revoked"
    close(again)


def test_the_store_tells_revoked_from_unknown(tmp_path: Path) -> None:
    with AccountStore(tmp_path, kdf=FAST_KDF) as store:
        account = store.add_user(EMAIL, PASSWORD)
        key, plaintext = store.create_key(account.id, "x")
        store.revoke_key(key.id)
        with pytest.raises(KeyRevokedError):
            store.authenticate(plaintext)
        with pytest.raises(AuthError):
            store.authenticate(plaintext[:-1])


def test_the_secret_is_created_once_and_shared(tmp_path: Path) -> None:
    first = apikeys.load_secret(tmp_path)
    assert len(first) == 32 and apikeys.load_secret(tmp_path) == first
    assert (tmp_path / "secret").stat().st_mode & 0o777 == 0o600
