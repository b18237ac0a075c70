"""Per-client budgets of the free web features (lookups, export previews).

Web lookups need no API key and count against no quota, so they are
limited per client address instead: a small shared
:class:`~sikker.core.quota.QuotaTable` (``<data_dir>/web_limits.bin``)
whose period is one minute, counted by every worker at once, as failed
logins are (server/login.py). The client is the address seen through the
trusted proxies (server/client.py), stored only as a hash.
"""

import hashlib
from pathlib import Path

from sikker.core.handles import shared
from sikker.core.quota import QuotaTable
from sikker.errors import RateLimitedError
from sikker.server.auth import retry_after

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
    """Count requests per client and family; refuse those over the budget."""

    def __init__(self, data_dir: Path) -> None:
        self.path = Path(data_dir) / LIMITS_FILE

    def table(self) -> QuotaTable:
        """Return this process's view of the shared table."""
        return shared(_table, self.path)

    def hit(
        self, address: str, family: str, per_minute: int, now: float | None = None
    ) -> int:
        """Count one request; return what is left this minute.

        Raises:
            RateLimitedError: the client used its budget (a 429 with
                ``Retry-After``).
        """
        table = self.table()
        charge = table.charge(client_label(address), family, 1, per_minute, now)
        if not charge.allowed:
            at = table.clock() if now is None else now
            wait = retry_after(charge.reset_epoch, at)
            raise RateLimitedError(
                f"too many {family} requests from your address; try again in {wait} s",
                wait,
            )
        return charge.remaining
