"""``/v1/account``: register, and manage your API keys with your password.

* ``POST /v1/account`` ``{"email", "password"}``: create an account on the
  default plan (201); 409 if the email is taken, 403 when the setting
  ``allow_registration`` is off.
* ``GET /v1/account``: your account and plan.
* ``GET|POST /v1/account/keys``, ``DELETE /v1/account/keys/{key_id}``: list,
  create (the key is in this one answer only) and revoke keys.

All but registration authenticate with HTTP Basic (email:password).
"""

from typing import Any

import falcon
import orjson

from sikker.core.apikeys import is_key_id
from sikker.core.config import Config
from sikker.errors import AccountError
from sikker.server.accounts import AccountService
from sikker.server.login import LoginGuard


def _body(req: falcon.Request, fields: dict[str, bool]) -> dict[str, str]:
    """Return the JSON object body; ``fields`` maps each name to required."""
    if not req.content_type and not req.content_length:
        doc: Any = {}  # no body at all; a declared JSON body must be JSON
    else:
        doc = req.get_media()
    if not isinstance(doc, dict):
        raise AccountError("the body must be a JSON object")
    unknown = sorted(set(doc) - set(fields))
    if unknown:
        raise AccountError(f"unknown field {unknown[0]!r}; fields: {', '.join(fields)}")
    for name, required in fields.items():
        if required and name not in doc:
            raise AccountError(f"{name}: missing")
        if name in doc and not isinstance(doc[name], str):
            raise AccountError(f"{name}: must be a string")
    return doc


def _json(resp: falcon.Response, data: Any, status: int = 200) -> None:
    resp.status = status
    resp.content_type = falcon.MEDIA_JSON
    resp.data = orjson.dumps(data)


class AccountResource:
    """``POST /v1/account`` (register) and ``GET /v1/account`` (Basic)."""

    def __init__(self, service: AccountService, config: Config) -> None:
        self.service = service
        self.guard = LoginGuard(service, config)
        self.open = bool(config.allow_registration)

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        """Create an account; 201 with the account."""
        if not self.open:
            raise falcon.HTTPForbidden(
                title="registration closed",
                description="this server does not take registrations; ask its "
                "operator for an account (sikker admin user create)",
            )
        body = _body(req, {"email": True, "password": True})
        self.guard.registering(req)
        account = self.service.store().add_user(body["email"], body["password"])
        plan = self.service.plans.resolve(account.plan)
        _json(resp, {**account.public(), "plan": plan.public()}, 201)
        resp.location = "/v1/account"

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        """Return your account and its plan."""
        account = self.guard.account(req)
        plan = self.service.plans.resolve(account.plan)
        _json(resp, {**account.public(), "plan": plan.public()})


class AccountKeysResource:
    """``GET /v1/account/keys`` (list) and ``POST`` (create)."""

    def __init__(self, service: AccountService, config: Config) -> None:
        self.service = service
        self.guard = LoginGuard(service, config)

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        """List your keys (ids and prefixes; never the keys themselves)."""
        account = self.guard.account(req)
        keys = self.service.store().keys(account.id)
        _json(resp, {"keys": [k.public() for k in keys]})

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        """Create a key; 201 with ``key``, shown in this answer only."""
        account = self.guard.account(req)
        body = _body(req, {"name": False})
        key, plaintext = self.service.store().create_key(
            account.id, body.get("name", "")
        )
        _json(resp, {**key.public(), "key": plaintext}, 201)


class AccountKeyResource:
    """``DELETE /v1/account/keys/{key_id}``: revoke one of your keys."""

    def __init__(self, service: AccountService, config: Config) -> None:
        self.service = service
        self.guard = LoginGuard(service, config)

    def on_delete(
        self, req: falcon.Request, resp: falcon.Response, key_id: str
    ) -> None:
        """Revoke the key; it stops working at the servers' next request."""
        account = self.guard.account(req)
        _body(req, {})  # none expected; a declared one must be an empty object
        if not is_key_id(key_id):
            raise AccountError(
                f"{key_id[:40]!r} is not a key id (12 characters: a-z, 2-7)"
            )
        key = self.service.store().revoke_key(key_id, account.id)
        _json(resp, key.public())
