"""What a call did: its value, or the documented error it raised."""

from collections.abc import Callable
from typing import Any

#: ("ok", value) or ("error", class name, message).
Outcome = tuple[Any, ...]


def outcome(call: Callable[[], Any], *allowed: type[BaseException]) -> Outcome:
    """Return what ``call()`` did; any exception not in ``allowed`` propagates."""
    try:
        return ("ok", call())
    except allowed as ex:
        return ("error", type(ex).__name__, str(ex))


def agree(label: str, outcomes: list[Outcome]) -> Outcome:
    """Return the one outcome every implementation gave; assert there is one."""
    first = outcomes[0]
    for other in outcomes[1:]:
        assert other == first, f"{label}: the twins disagree: {first!r} != {other!r}"
    return first
