"""Activity statistics of a demo snapshot (see :mod:`sikker.builder.stats`).

A demo snapshot has records but no event history, so its landscape would be
empty until sensors post. These statistics follow from the demo records
themselves: each IP's sessions on a protocol are spread evenly over the
days between its first and last sighting, and the usernames tried are the
common ones, in a Zipf-like order, as many attempts as the login protocols'
sessions suggest. No examples are invented: those come from real evidence.
"""

from typing import Any

import numpy as np

from sikker.builder.stats import day_name
from sikker.core.records import RecordTable
from sikker.core.vocab import PROTOCOLS

#: Days of activity a demo snapshot describes (ending at ``now``).
DEMO_DAYS = 30
_DAY = 86_400
#: Usernames brute-forcers try most, most common first.
USERNAMES = (
    "root", "admin", "user", "test", "ubuntu", "oracle", "postgres", "guest",
    "pi", "support", "git", "ftpuser", "mysql", "deploy", "administrator",
    "debian", "centos", "hadoop", "test1", "www-data", "minecraft", "steam",
    "jenkins", "ec2-user", "solana", "sol", "odoo", "docker", "nagios", "tomcat",
)  # fmt: skip
#: Protocols whose sessions are login attempts.
LOGINS = ("ssh", "telnet", "ftp", "mysql", "postgresql", "mssql", "imap", "smtp")
#: Login attempts per session on those protocols.
ATTEMPTS = 3


def demo_stats(table: RecordTable, now: int) -> dict[str, Any]:
    """Return the ``stats`` document of a demo table seen at ``now``."""
    last_day = now // _DAY
    first_day = last_day - DEMO_DAYS + 1
    column = table.protocols
    owners = np.repeat(np.arange(len(table)), column.lengths())
    start = table.first_seen[owners].astype(np.int64) // _DAY
    stop = table.last_seen[owners].astype(np.int64) // _DAY
    start = np.minimum(start, stop)
    rate = column.values["sessions"] / (stop - start + 1)
    # Spread each (IP, protocol) evenly over its days: a difference array.
    steps = np.zeros((len(PROTOCOLS), DEMO_DAYS + 1))
    ids = column.ids.astype(np.int64)
    np.add.at(steps, (ids, np.clip(start - first_day, 0, DEMO_DAYS)), rate)
    np.add.at(steps, (ids, np.clip(stop - first_day + 1, 0, DEMO_DAYS)), -rate)
    daily = np.rint(np.cumsum(steps, axis=1)[:, :DEMO_DAYS]).astype(np.int64)
    days = {
        day_name(first_day + d): {
            PROTOCOLS[p]: int(daily[p, d]) for p in range(len(PROTOCOLS)) if daily[p, d]
        }
        for d in range(DEMO_DAYS)
    }
    logins = np.isin(ids, [PROTOCOLS.index(p) for p in LOGINS])
    attempts = int(column.values["sessions"][logins].sum()) * ATTEMPTS
    weights = 1 / np.arange(1, len(USERNAMES) + 1) ** 1.1
    tried = np.floor(attempts * weights / weights.sum()).astype(np.int64)
    return {
        "days": {d: c for d, c in days.items() if c},
        "usernames": {u: int(n) for u, n in zip(USERNAMES, tried, strict=True) if n},
        "examples": {},
    }
