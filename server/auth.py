"""API keys and daily quotas on every keyed path (``/v1/key/...``).

:class:`KeyAuth` is Falcon middleware: for each request routed under one of
its prefixes it takes the key from ``Authorization: Bearer <key>`` (or
``?key=<key>`` for tools that cannot send headers, such as CSF, or HTTP
Basic credentials whose password is the key, for TAXII clients), answers
401 for a missing, unknown or revoked key and 403 for a disabled account,
and gives the resource two things on ``req.context``:

* ``principal``: a :class:`Principal` (``account_id``, ``key_id``,
  ``plan``, ``email``);
* ``charge(family, amount=1)``: counts ``amount`` against the account's
  daily quota of ``family`` (``lookups``, ``reports``, ``blacklist``,
  ``taxii``), sets ``X-RateLimit-Limit/Remaining/Reset`` (plus
  ``X-Report-*`` or ``X-TAXII-*``) and raises
  :class:`~sikker.errors.QuotaExceededError` (a 429 with ``Retry-After``)
  when it does not fit. ``charge_upto(family, amount)`` counts what fits
  and returns it; ``remaining(family)`` tells what is left.

Quotas count per account, all its keys together, per UTC day (so extra
keys never multiply a plan's quotas). A key lookup (an LMDB read and an
HMAC) of a well-formed key is cached per worker for up to
``auth_cache_seconds``; every change to accounts or keys bumps a shared
generation counter that empties the caches at their next request, so
revocations and plan changes apply at once.
"""

import base64
import binascii
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import falcon

from sikker.core.accounts import AccountStore
from sikker.core.apikeys import KEY_LENGTH
from sikker.core.plans import FAMILIES, Plan
from sikker.errors import AuthError, QuotaExceededError
from sikker.server.accounts import AccountService

#: How each family is named in a 429 message ("Daily lookup quota exceeded").
NOUNS = {"lookups": "lookup", "reports": "report", "blacklist": "blacklist"}
NOUNS["taxii"] = "TAXII"
#: Headers the SikkerAPI CLI reads for some families, beside X-RateLimit-*.
ALIASES = {"reports": "X-Report", "taxii": "X-TAXII"}
#: Keys (and unknown keys) a worker remembers.
CACHE_SIZE = 10_000
_NO_KEY = (
    "this endpoint needs an API key: send 'Authorization: Bearer <key>' (or ?key=<key>,"
    " or HTTP Basic with the key as the password)"
)


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: the account, the key it used and the account's plan."""

    account_id: str
    key_id: str
    plan: Plan
    email: str


def rate_limit_headers(limit: int, used: int, reset: int) -> list[tuple[str, str]]:
    """Return the ``X-RateLimit-Limit/Remaining/Reset`` headers of a charge.

    Named as Falcon sends them (lower case), so a response built without
    Falcon (:mod:`sikker.server.check_lane`) carries the very same headers.
    """
    return [
        ("x-ratelimit-limit", str(limit)),
        ("x-ratelimit-remaining", str(limit - used if used < limit else 0)),
        ("x-ratelimit-reset", str(reset)),
    ]


class Meter:
    """Charges one request's quotas and writes the rate-limit headers."""

    __slots__ = ("charged", "now", "principal", "quota", "resp")

    def __init__(
        self, principal: Principal, resp: falcon.Response, quota: Any, now: float
    ) -> None:
        self.principal = principal
        self.resp = resp
        self.quota = quota
        self.now = now
        self.charged = False

    def _limit(self, family: str) -> int:
        limit = self.principal.plan.quotas.get(family)
        if limit is None:
            raise ValueError(
                f"unknown quota family {family!r}; families: {', '.join(FAMILIES)}"
            )
        return limit

    def _count(self, family: str, amount: int, partial: bool) -> int:
        """Count (all or, with ``partial``, part of) ``amount``; set the headers.

        Returns the units counted.
        """
        limit = self._limit(family)
        quota = self.quota
        granted, used, period = quota.count(
            self.principal.account_id, family, amount, limit, partial, self.now
        )
        reset = (period + 1) * quota.period
        headers = rate_limit_headers(limit, used, reset)
        self.resp.set_headers(headers)
        alias = ALIASES.get(family)
        if alias:
            self.resp.set_header(f"{alias}-Limit", headers[0][1])
            self.resp.set_header(f"{alias}-Remaining", headers[1][1])
        self.charged = True
        if granted == amount if not partial else granted > 0 or amount == 0:
            return int(granted)
        raise QuotaExceededError(
            f"Daily {NOUNS.get(family, family)} quota exceeded",
            family,
            limit,
            used,
            reset,
        )

    def charge(self, family: str, amount: int = 1) -> None:
        """Count ``amount`` units of ``family``; raise a 429 when they do not fit."""
        self._count(family, amount, False)

    def charge_upto(self, family: str, amount: int) -> int:
        """Count as much of ``amount`` as is left; raise a 429 when nothing is."""
        return self._count(family, amount, True)

    def remaining(self, family: str) -> int:
        """Return what is left of today's ``family`` quota (nothing is counted)."""
        limit = self._limit(family)
        used = self.quota.used(self.principal.account_id, family, self.now)
        return max(limit - used, 0)

    def peek_headers(self, family: str = "lookups") -> None:
        """Set the rate-limit headers of ``family`` without counting anything."""
        limit = self._limit(family)
        used = self.quota.used(self.principal.account_id, family, self.now)
        reset = self.quota.reset_epoch(self.now)
        self.resp.set_headers(rate_limit_headers(limit, used, reset))
        self.charged = True


class KeyAuth:
    """Falcon middleware: requests under ``prefixes`` need an API key.

    Reusable for any keyed path: give it the prefixes (``/taxii2/...``) or
    call :meth:`authenticate` from a ``falcon.before`` hook.
    """

    def __init__(
        self,
        service: AccountService,
        prefixes: tuple[str, ...] = ("/v1/key/",),
        cache_seconds: float = 5.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.service = service
        self.prefixes = prefixes
        self.cache_seconds = cache_seconds
        self.monotonic = monotonic
        # key -> (expires, generation, principal or None, error class, message)
        self._cache: dict[str, tuple[float, int, Principal | None, Any, str]] = {}

    # -- Falcon middleware -----------------------------------------------------------

    def process_resource(
        self,
        req: falcon.Request,
        resp: falcon.Response,
        resource: object,
        params: dict[str, Any],
    ) -> None:
        """Authenticate requests routed under one of the prefixes."""
        if resource is not None and req.path.startswith(self.prefixes):
            self.authenticate(req, resp)

    def process_response(
        self,
        req: falcon.Request,
        resp: falcon.Response,
        resource: object,
        req_succeeded: bool,
    ) -> None:
        """Give keyed responses that charged nothing the lookup quota headers."""
        meter = getattr(req.context, "meter", None)
        if meter is not None and not meter.charged:
            meter.peek_headers()

    # -- authentication --------------------------------------------------------------

    def authenticate(self, req: falcon.Request, resp: falcon.Response) -> Principal:
        """Set ``req.context.principal`` and the charging functions, or raise."""
        store, quota = self.service.handles()
        principal = self._principal(_key_of(req), store)
        attach(req, Meter(principal, resp, quota, self.service.clock()))
        return principal

    def principal(self, key: str) -> Principal:
        """Return the principal of a plaintext key (cached), or raise AuthError."""
        return self._principal(key, self.service.store())

    def cached(self, key: str, store: AccountStore) -> Principal | None:
        """Return the principal of a key this worker authenticated recently.

        None when the key is not in the cache, its entry expired or the
        accounts changed since, or the key was refused: :meth:`authenticate`
        then looks it up (or answers the error).
        """
        hit = self._fresh(key, store)
        return None if hit is None else hit[2]

    def _principal(self, key: str, store: AccountStore) -> Principal:
        hit = self._fresh(key, store) or self._lookup(
            key, store, self.monotonic(), store.generation()
        )
        if hit[2] is None:
            raise hit[3](hit[4])
        return hit[2]

    def _fresh(
        self, key: str, store: AccountStore
    ) -> tuple[float, int, Principal | None, Any, str] | None:
        """Return the cache entry of ``key`` unless it expired or accounts changed."""
        hit = self._cache.get(key)
        if hit is None or hit[0] < self.monotonic() or hit[1] != store.generation():
            return None
        return hit

    def _lookup(
        self, key: str, store: AccountStore, now: float, generation: int
    ) -> tuple[float, int, Principal | None, Any, str]:
        try:
            account, api_key = store.authenticate(key)
        except AuthError as ex:
            entry: tuple[float, int, Principal | None, Any, str] = (
                now + self.cache_seconds,
                generation,
                None,
                type(ex),
                str(ex),
            )
        else:
            plan = self.service.plans.resolve(account.plan)
            principal = Principal(account.id, api_key.id, plan, account.email)
            entry = (now + self.cache_seconds, generation, principal, None, "")
        if len(key) != KEY_LENGTH:
            return entry  # never cache arbitrary strings (memory)
        if len(self._cache) >= CACHE_SIZE:
            for old in list(self._cache)[: CACHE_SIZE // 10]:
                self._cache.pop(old, None)
        self._cache[key] = entry
        return entry


class KeyedContext(falcon.Context):
    """``req.context`` of sikker's app: keyed resources call these on it.

    They count against the :class:`Meter` that :func:`attach` gave the
    request. PERF: methods of the context class, so authenticating a
    request binds no functions to it.
    """

    meter: Meter

    def charge(self, family: str, amount: int = 1) -> None:
        """See :meth:`Meter.charge`."""
        self.meter.charge(family, amount)

    def charge_upto(self, family: str, amount: int) -> int:
        """See :meth:`Meter.charge_upto`."""
        return self.meter.charge_upto(family, amount)

    def remaining(self, family: str) -> int:
        """See :meth:`Meter.remaining`."""
        return self.meter.remaining(family)


class KeyedRequest(falcon.Request):
    """The request type of sikker's app (its context is a :class:`KeyedContext`)."""

    context_type = KeyedContext


def attach(req: falcon.Request, meter: Meter) -> None:
    """Give ``req.context`` the principal and the charging functions of a meter
    (the web site charges a signed-in account's quotas this way too)."""
    context = req.context
    context.principal = meter.principal
    context.meter = meter
    if not isinstance(context, KeyedContext):  # a request of another app type
        context.charge = meter.charge
        context.charge_upto = meter.charge_upto
        context.remaining = meter.remaining


def _key_of(req: falcon.Request) -> str:
    header = req.env.get("HTTP_AUTHORIZATION")  # PERF: req.get_header's value
    if header:
        if header.startswith("Bearer "):  # PERF: the usual form, checked first
            key = header[7:].strip()
            if key:
                return key
        scheme, _, value = header.strip().partition(" ")
        if scheme.lower() == "bearer" and value.strip():
            return value.strip()
        if scheme.lower() == "basic" and (password := _basic_password(value)):
            return password  # TAXII clients that only offer a user and password
        raise AuthError(_NO_KEY)
    key = req.get_param("key")
    if key:
        return key
    raise AuthError(_NO_KEY)


def _basic_password(value: str) -> str:
    """Return the password of HTTP Basic credentials (any user name), or ""."""
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return ""
    return decoded.partition(":")[2].strip()


def retry_after(reset_epoch: int, now: float) -> int:
    """Return whole seconds from ``now`` until ``reset_epoch`` (at least 1)."""
    return max(math.ceil(reset_epoch - now), 1)
