"""Counters on Redis that keep a request answerable when Redis is down.

:class:`SharedQuota` counts on a :class:`~sikker.core.quota_redis.RedisQuota`
and holds the host's own :class:`~sikker.core.quota.QuotaTable` for when
Redis cannot answer (refused, timed out, out of memory...). Then, per the
setting ``redis_failure``:

* ``open``: the request counts in the local table, as a single node does;
  every host admits up to the limit on its own until Redis returns.
* ``closed``: the request fails with
  :class:`~sikker.errors.SharedStateUnavailableError` (a 503 with
  ``Retry-After``).

The first failure of an outage logs one warning per process; the node then
leaves Redis alone for ``retry_seconds`` (no timeout per request), tries
again with the next request, and logs once more when Redis answers again.

:class:`Quota` is what the server asks of any quota backend (the local
table, or this class), so the code that charges never knows which it has.
"""

import logging
import math
import threading
import time
from collections.abc import Callable
from typing import Any, Protocol

import redis

from sikker.core.quota import QuotaTable
from sikker.core.quota_redis import RedisQuota
from sikker.core.redis_client import RedisSettings, client
from sikker.errors import SharedStateUnavailableError

log = logging.getLogger("sikker.quota")


class Quota(Protocol):
    """The counting interface the server uses (QuotaTable or SharedQuota)."""

    period: int
    clock: Callable[[], float]

    def count(
        self,
        owner: str,
        family: str,
        amount: int,
        limit: int,
        partial: bool = False,
        now: float | None = None,
    ) -> tuple[int, int, int]: ...

    def used(self, owner: str, family: str, now: float | None = None) -> int: ...

    def reset_epoch(self, now: float | None = None) -> int: ...

    def close(self) -> None: ...


class SharedQuota:
    """Count on Redis; fall back to ``local`` (or refuse) while it is down.

    Args:
        remote: The counters on Redis.
        local: This host's table of the same period (owned: closed with us).
        fail_open: Count locally while Redis is down (else refuse).
        retry_seconds: Seconds a failure keeps requests off Redis.
        monotonic: Seconds of a steady clock (injectable for tests).
    """

    def __init__(
        self,
        remote: RedisQuota,
        local: QuotaTable,
        fail_open: bool = True,
        retry_seconds: float = 5.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        if remote.period != local.period:
            raise ValueError("the Redis and local counters must count equal periods")
        self.remote = remote
        self.local = local
        self.period = local.period
        self.clock = local.clock
        self.fail_open = fail_open
        self.retry_seconds = retry_seconds
        self.monotonic = monotonic
        #: Steady-clock second until which requests skip Redis (0: Redis is up).
        self.down_until = 0.0
        self._outage = False
        self._lock = threading.Lock()

    # -- failures ----------------------------------------------------------------

    def _skip_remote(self) -> bool:
        return bool(self.down_until) and self.monotonic() < self.down_until

    def _failed(self, ex: Exception) -> None:
        with self._lock:
            self.down_until = self.monotonic() + self.retry_seconds
            if self._outage:
                return
            self._outage = True
        then = "counting on this host" if self.fail_open else "refusing requests (503)"
        log.warning(
            "Redis (shared quotas of %r) is unreachable: %s; %s until it answers "
            "again (retrying every %g s; setting redis_failure)",
            self.remote.prefix,
            ex,
            then,
            self.retry_seconds,
        )

    def _recovered(self) -> None:
        with self._lock:
            if not self._outage:
                return
            self._outage = False
            self.down_until = 0.0
        log.warning(
            "Redis (shared quotas of %r) answers again; counting on Redis",
            self.remote.prefix,
        )

    def _fallback(self) -> QuotaTable:
        if self.fail_open:
            return self.local
        wait = max(math.ceil(self.down_until - self.monotonic()), 1)
        raise SharedStateUnavailableError(
            f"quotas cannot be counted: the shared quota store (Redis) is "
            f"unreachable; try again in {wait} s",
            wait,
        )

    # -- counting ----------------------------------------------------------------

    def _call(self, method: str, *args: Any) -> Any:
        """Run ``method`` on Redis, or on the fallback when Redis is down."""
        if self.down_until and self._skip_remote():
            return getattr(self._fallback(), method)(*args)
        try:
            result = getattr(self.remote, method)(*args)
        except redis.RedisError as ex:
            self._failed(ex)
            return getattr(self._fallback(), method)(*args)
        if self._outage:
            self._recovered()
        return result

    def count(
        self,
        owner: str,
        family: str,
        amount: int,
        limit: int,
        partial: bool = False,
        now: float | None = None,
    ) -> tuple[int, int, int]:
        """Count as :meth:`QuotaTable.count <sikker.core.quota.QuotaTable.count>`.

        Raises:
            SharedStateUnavailableError: Redis is down and we fail closed.
        """
        result: tuple[int, int, int] = self._call(
            "count", owner, family, amount, limit, partial, now
        )
        return result

    def used(self, owner: str, family: str, now: float | None = None) -> int:
        """Return the current period's count of (owner, family), 0 if none."""
        return int(self._call("used", owner, family, now))

    def current_period(self, now: float | None = None) -> int:
        """Return the number of the current period (the UTC day number)."""
        return self.local.current_period(now)

    def reset_epoch(self, now: float | None = None) -> int:
        """Return when the current period ends (epoch seconds)."""
        return self.local.reset_epoch(now)

    def close(self) -> None:
        """Close the local table (the Redis client belongs to the process)."""
        self.local.close()


def shared_counters(
    settings: RedisSettings, namespace: str, local: QuotaTable
) -> Quota:
    """Return counters of ``namespace`` on the Redis of ``settings`` (this
    process's client) that fall back to ``local`` as the settings say."""
    remote = RedisQuota(
        client(settings), namespace, local.period, settings.prefix, local.clock
    )
    return SharedQuota(remote, local, settings.fail_open, settings.retry_seconds)
