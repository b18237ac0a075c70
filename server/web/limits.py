"""Per-client budgets of the free web features (lookups, export previews).

Web lookups need no API key and count against no quota, so they are
limited per client address instead: a small shared
:class:`~sikker.core.quota.QuotaTable` (``<data_dir>/web_limits.bin``)
whose period is one minute, counted by every worker at once, as failed
logins are (server/login.py). With ``redis_url`` set, every node counts
on Redis (namespace ``web``) and the table only counts while Redis is down
(:mod:`sikker.core.quota_shared`). The client is the address seen through
the trusted proxies (server/client.py), stored only as a hash.
"""

import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from sikker.core.handles import shared
from sikker.core.quota import QuotaTable
from sikker.errors import RateLimitedError
from sikker.server.auth import retry_after

if TYPE_CHECKING:
    from sikker.core.quota_shared import Quota

LIMITS_FILE = "web_limits.bin"
#: Seconds per counting period.
PERIOD = 60
#: Clients counted at once (64 bytes each; idle slots are reused).
SLOTS = 16_384


def _table(path: Path) -> QuotaTable:
    return QuotaTable(path, slots=SLOTS, period=PERIOD)


def client_label(address: str) -> str:
    """Return the label a client is counted under (a hash of its address)."""
    return hashlib.blake2b(address.encode(), digest_size=12).hexdigest()


class ClientLimiter:
    """Count requests per client and family; refuse those over the budget.

    Args:
        data_dir: Where the host's table lives.
        counters: Turns the host's table into the counters to use (e.g.
            :meth:`AccountService.counters
            <sikker.server.accounts.AccountService.counters>`: on Redis when
            configured); None counts in the table.
    """

    def __init__(
        self,
        data_dir: Path,
        counters: "Callable[[str, QuotaTable], Quota] | None" = None,
    ) -> None:
        self.path = Path(data_dir) / LIMITS_FILE
        self.counters = counters
        # (this process's table, the counters made of it)
        self._made: tuple[QuotaTable, Quota] | None = None

    def table(self) -> "Quota":
        """Return this process's counters (the shared table, or Redis)."""
        local = shared(_table, self.path)
        made = self._made
        if made is None or made[0] is not local:  # first use, or a fork
            made = self._made = (
                local,
                self.counters("web", local) if self.counters else local,
            )
        return made[1]

    def hit(
        self, address: str, family: str, per_minute: int, now: float | None = None
    ) -> int:
        """Count one request; return what is left this minute.

        Raises:
            RateLimitedError: the client used its budget (a 429 with
                ``Retry-After``).
        """
        table = self.table()
        granted, used, period = table.count(
            client_label(address), family, 1, per_minute, False, now
        )
        if not granted:
            at = table.clock() if now is None else now
            wait = retry_after((period + 1) * table.period, at)
            raise RateLimitedError(
                f"too many {family} requests from your address; try again in {wait} s",
                wait,
            )
        return max(per_minute - used, 0)
