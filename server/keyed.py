"""Wire accounts, API keys and quotas into the app (one call from create_app).

:func:`install` adds the :class:`~sikker.server.auth.KeyAuth` middleware for
``/v1/key/``, the error handlers, and the routes ``/v1/account``,
``/v1/account/keys``, ``/v1/account/keys/{key_id}`` and ``/v1/key/status``.
It returns a :class:`Keyed` whose parts other features use: the
:class:`~sikker.server.accounts.AccountService` (``allowed_ranges``), the
middleware (to protect more prefixes) and the status resource (to report
alert usage through ``status.alert_counts``).
"""

import time
from collections.abc import Callable
from dataclasses import dataclass

import falcon

from sikker.core.config import Config
from sikker.server import auth_errors
from sikker.server.accounts import AccountService
from sikker.server.auth import KeyAuth
from sikker.server.resources.account import (
    AccountKeyResource,
    AccountKeysResource,
    AccountResource,
)
from sikker.server.resources.status import StatusResource


@dataclass(frozen=True)
class Keyed:
    """What :func:`install` added to the app."""

    service: AccountService
    auth: KeyAuth
    status: StatusResource


def install(
    app: falcon.App, config: Config, clock: Callable[[], float] = time.time
) -> Keyed:
    """Protect ``/v1/key/`` with API keys and add the account routes."""
    service = AccountService(config, clock)
    auth = KeyAuth(service, cache_seconds=float(config.auth_cache_seconds))
    status = StatusResource(service)
    app.add_middleware(auth)
    auth_errors.install(app)
    app.add_route("/v1/account", AccountResource(service, config))
    app.add_route("/v1/account/keys", AccountKeysResource(service, config))
    app.add_route("/v1/account/keys/{key_id}", AccountKeyResource(service, config))
    app.add_route("/v1/key/status", status)
    return Keyed(service, auth, status)
