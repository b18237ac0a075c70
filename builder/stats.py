"""Activity statistics the builder records beside the evidence.

What the web site's landscape and catalog pages chart, and what no record
holds:

* ``days``: new honeypot sessions per UTC day and protocol,
  ``{"2026-11-20": {"ssh": 12, ...}}``, the last :data:`DAYS` days;
* ``usernames``: the :data:`TOP_USERNAMES` usernames tried most, with their
  login attempts. Attempts only grow, so a name outside the top can only
  enter it in a batch that changes it: merging each batch's changed names
  keeps the top exact. Counts seeded from an imported or demo snapshot
  (``seedUsernames``) stay under the builder's own;
* ``examples``: up to :data:`EXAMPLES` values per primitive that matched
  it (a command, a URL, a query), sanitised like community comments
  (:func:`sikker.core.redact.redact`) and cut to :data:`EXAMPLE_CHARS`.

The state keeps the document in its ``meta`` table, updated in the same
transaction as the evidence; every generation carries a copy under ``stats``
(docs/snapshot-format.md).
"""

import time
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

from sikker.core.redact import redact

DAYS = 90
TOP_USERNAMES = 100
EXAMPLES = 3
EXAMPLE_CHARS = 200
#: Username counts of the snapshot the statistics were seeded from.
SEED = "seedUsernames"
_DAY = 86_400


def day_name(day: int) -> str:
    """Return the ISO date of a UTC day number (days since 1970-01-01)."""
    return time.strftime("%Y-%m-%d", time.gmtime(day * _DAY))


def sanitise(value: str) -> str:
    """Return a matched value fit to show anyone: redacted, one line, short."""
    return " ".join(redact(value, limit=EXAMPLE_CHARS * 2).split())[:EXAMPLE_CHARS]


def merge(
    stats: Mapping[str, Any] | None,
    sessions: Mapping[tuple[int, str], int],
    usernames: Mapping[str, int],
    examples: Mapping[str, Iterable[str]],
) -> dict[str, Any]:
    """Return ``stats`` with one batch added.

    Args:
        stats: The document so far (None: empty).
        sessions: New sessions per (UTC day number, protocol).
        usernames: The builder's login attempts now counted for each changed
            username (its total, not this batch's).
        examples: New sanitised values per primitive id.
    """
    old = dict(stats or {})
    days: dict[str, dict[str, int]] = {
        d: dict(c) for d, c in old.get("days", {}).items()
    }
    for (day, protocol), n in sorted(sessions.items()):
        counts = days.setdefault(day_name(day), {})
        counts[protocol] = counts.get(protocol, 0) + int(n)
    kept = sorted(days)[-DAYS:]
    seed = old.get(SEED, {})
    tried = Counter(old.get("usernames", {}))
    for name, total in usernames.items():
        tried[name] = seed.get(name, 0) + total
    top = dict(sorted(tried.items(), key=lambda i: (-i[1], i[0]))[:TOP_USERNAMES])
    seen: dict[str, list[str]] = {
        p: list(v) for p, v in old.get("examples", {}).items()
    }
    for primitive, values in examples.items():
        mine = seen.setdefault(primitive, [])
        for value in values:
            if len(mine) < EXAMPLES and value and value not in mine:
                mine.append(value)
    out = {"days": {d: days[d] for d in kept}, "usernames": top, "examples": seen}
    if seed:
        out[SEED] = seed
    return out


def seeded(stats: Mapping[str, Any]) -> dict[str, Any]:
    """Return a published snapshot's statistics as the start of the builder's.

    The snapshot's username counts stay a constant part of each name's
    count (``seedUsernames``): the builder's own counts add to them.
    """
    out = merge(stats, {}, {}, {})
    if out["usernames"]:
        out[SEED] = {**out.get(SEED, {}), **out["usernames"]}
    return out


def example_counts(stats: Mapping[str, Any] | None) -> dict[str, int]:
    """Return how many examples each primitive already has."""
    return {p: len(v) for p, v in (stats or {}).get("examples", {}).items()}
