"""Daily quota counters on Redis, exact across every node that shares it.

:class:`RedisQuota` counts what :class:`~sikker.core.quota.QuotaTable`
counts, with the same limit semantics (partial grants included), but in
one Redis server, so any number of hosts admit at most the limit between
them. A charge is one round trip: a Lua script (``EVALSHA``, loaded again
after a ``NOSCRIPT`` answer) reads the count, checks the limit, adds with
``INCRBY`` and, on the first charge of a period, sets ``EXPIREAT`` to the
end of the period (the next 00:00 UTC for days), all in one atomic step.

Key layout: ``<prefix><namespace>:<period>:<owner>:<family>``, e.g.
``sikker:quota:20000:acc_1a2b:lookups`` for day 20000 (the UTC day number,
epoch seconds // 86,400). A key holds the period's count as a Redis
integer and disappears at the end of its period, so nothing resets at
midnight and no stale key outlives its day.
"""

import time
from collections.abc import Callable

import redis

from sikker.core.atomics import COUNT_MASK
from sikker.core.quota import DAY

#: KEYS[1] the counter; ARGV amount, limit, partial (0/1), expiry epoch, cap.
#: Returns {granted, count after}. Mirrors SharedWords.charge (core/atomics).
CHARGE_SCRIPT = """
local count = tonumber(redis.call('GET', KEYS[1]) or '0')
local amount, limit = tonumber(ARGV[1]), tonumber(ARGV[2])
local granted = 0
if count + amount <= limit then
  granted = amount
elseif ARGV[3] == '1' then
  granted = math.max(limit - count, 0)
end
if granted > 0 and count + granted <= tonumber(ARGV[5]) then
  count = redis.call('INCRBY', KEYS[1], granted)
  if count == granted then
    redis.call('EXPIREAT', KEYS[1], ARGV[4])
  end
  return {granted, count}
end
return {0, count}
"""


class RedisQuota:
    """Counters of one namespace (``quota``, ``login``, ``web``) on Redis.

    The counting methods raise :class:`redis.RedisError` when Redis cannot
    answer; :class:`~sikker.core.quota_shared.SharedQuota` decides what a
    request gets then.

    Args:
        client: A Redis client (see :mod:`sikker.core.redis_client`).
        namespace: Keeps this family of counters apart from others.
        period: Seconds per counting period (86,400: UTC days).
        prefix: Prepended to every key (setting ``redis_prefix``).
        clock: Epoch seconds (injectable for tests).
    """

    def __init__(
        self,
        client: redis.Redis,
        namespace: str,
        period: int = DAY,
        prefix: str = "sikker:",
        clock: Callable[[], float] = time.time,
    ) -> None:
        if period < 1:
            raise ValueError("a quota period is at least one second")
        self.client = client
        self.period = period
        self.clock = clock
        self.prefix = f"{prefix}{namespace}:"
        self._script = client.register_script(CHARGE_SCRIPT)

    def key(self, owner: str, family: str, period: int) -> str:
        """Return the Redis key of (owner, family) in ``period``."""
        return f"{self.prefix}{period}:{owner}:{family}"

    def current_period(self, now: float | None = None) -> int:
        """Return the number of the current period (the UTC day number)."""
        return int((self.clock() if now is None else now) // self.period)

    def reset_epoch(self, now: float | None = None) -> int:
        """Return when the current period ends (epoch seconds)."""
        return (self.current_period(now) + 1) * self.period

    def count(
        self,
        owner: str,
        family: str,
        amount: int,
        limit: int,
        partial: bool = False,
        now: float | None = None,
    ) -> tuple[int, int, int]:
        """Count ``amount`` (or, with ``partial``, what fits) in one round trip.

        Returns:
            ``(granted, used, period)`` exactly as
            :meth:`QuotaTable.count <sikker.core.quota.QuotaTable.count>`.
        """
        if amount < 0 or limit < 0:
            raise ValueError("amount and limit must be >= 0")
        period = self.current_period(now)
        granted, used = self._script(
            keys=(self.key(owner, family, period),),
            args=(amount, limit, int(partial), (period + 1) * self.period, COUNT_MASK),
        )
        return int(granted), int(used), period

    def used(self, owner: str, family: str, now: float | None = None) -> int:
        """Return the current period's count of (owner, family), 0 if none."""
        value = self.client.get(self.key(owner, family, self.current_period(now)))
        return int(value) if value is not None else 0

    def close(self) -> None:
        """Nothing to release: the client's pool belongs to the process."""
