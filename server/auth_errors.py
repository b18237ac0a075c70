"""The JSON errors of accounts, API keys and quotas (401, 403, 404, 409, 429).

Failed-login throttling raises a ``RateLimitedError`` (server/errors.py
answers it: 429 ``rate_limited`` with ``Retry-After``).

Same shape as every other error (:mod:`sikker.server.errors`):
``{"error", "code", "status", ...}``. A 429 for a quota adds ``family``,
``limit``, ``used`` and ``resetAt`` (epoch seconds) and the header
``Retry-After`` (seconds to 00:00 UTC).
"""

import time

import falcon

from sikker.errors import (
    AccountError,
    AccountExistsError,
    AuthError,
    QuotaExceededError,
    QuotaTableError,
    SharedStateUnavailableError,
    UnknownAccountError,
)
from sikker.server.auth import retry_after
from sikker.server.errors import log, respond


def _auth(
    req: falcon.Request, resp: falcon.Response, ex: AuthError, params: dict
) -> None:
    respond(resp, ex.status, ex.code, str(ex))
    if ex.status == 401:
        resp.set_header("WWW-Authenticate", ex.challenge)


def _quota(
    req: falcon.Request, resp: falcon.Response, ex: QuotaExceededError, params: dict
) -> None:
    meter = req.context.get("meter")
    now = meter.now if meter is not None else time.time()
    respond(
        resp,
        429,
        "quota_exceeded",
        str(ex),
        family=ex.family,
        limit=ex.limit,
        used=ex.used,
        resetAt=ex.reset_epoch,
    )
    resp.set_header("Retry-After", str(retry_after(ex.reset_epoch, now)))


def _account(
    req: falcon.Request, resp: falcon.Response, ex: AccountError, params: dict
) -> None:
    if isinstance(ex, AccountExistsError):
        respond(resp, 409, "account_exists", str(ex))
    elif isinstance(ex, UnknownAccountError):
        respond(resp, 404, "not_found", str(ex))
    else:
        respond(resp, 400, "invalid_request", str(ex))


def _table(
    req: falcon.Request, resp: falcon.Response, ex: QuotaTableError, params: dict
) -> None:
    log.error("quota table unavailable: %s", ex)
    respond(
        resp, 503, "quota_unavailable", "quotas cannot be counted; see the server log"
    )
    resp.set_header("Retry-After", "10")


def _shared_state(
    req: falcon.Request,
    resp: falcon.Response,
    ex: SharedStateUnavailableError,
    params: dict,
) -> None:
    # logged once per outage where it was detected (core/quota_shared.py)
    respond(resp, 503, "quota_unavailable", str(ex), retryAfter=ex.retry_after)
    resp.set_header("Retry-After", str(ex.retry_after))


def install(app: falcon.App) -> None:
    """Register the handlers of the account, key and quota errors."""
    app.add_error_handler(AuthError, _auth)
    app.add_error_handler(QuotaExceededError, _quota)
    app.add_error_handler(AccountError, _account)
    app.add_error_handler(QuotaTableError, _table)
    app.add_error_handler(SharedStateUnavailableError, _shared_state)
