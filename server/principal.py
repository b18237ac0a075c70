"""Who is calling, and what it costs: the auth middleware's request context.

The accounts middleware (``server/auth.py``) sets ``req.context.principal``
(``account_id``, ``key_id``, ``plan``) on every ``/v1/key/...`` request and
``req.context.charge(family, amount)``, which counts against the key's daily
quota of that family and raises a 429 when it is exhausted. Resources use
these helpers so that they also run where no middleware is installed
(anonymous reads are then free, and writes that need an owner are refused).
"""

from typing import Any

import falcon

_CHALLENGE = 'Bearer realm="sikker"'


def principal(req: falcon.Request) -> Any | None:
    """Return the caller's principal, or None for an anonymous request."""
    return getattr(req.context, "principal", None)


def require_principal(req: falcon.Request) -> Any:
    """Return the caller's principal, or answer 401 when there is none."""
    found = principal(req)
    if found is None:
        raise falcon.HTTPUnauthorized(
            title="unauthorized",
            description="this endpoint needs an API key: send "
            "'Authorization: Bearer <key>' (or ?key=<key>)",
            challenges=[_CHALLENGE],
        )
    return found


def charge(req: falcon.Request, family: str, amount: int = 1) -> None:
    """Charge ``amount`` to the caller's daily quota of ``family`` (may 429)."""
    if amount <= 0:
        return
    charger = getattr(req.context, "charge", None)
    if charger is not None:
        charger(family, amount)


def plan_cap(req: falcon.Request, name: str, default: int) -> int:
    """Return the caller's plan cap ``name`` (e.g. ``bulk_check_ips``), at most
    ``default``; ``default`` for anonymous callers."""
    caps = getattr(getattr(principal(req), "plan", None), "caps", None) or {}
    value = caps.get(name)
    return default if value is None else min(int(value), default)
