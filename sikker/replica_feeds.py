"""A read replica's copies of its primary's web sign-ins and report listings.

``GET /v1/replica/sessions`` answers every stored web session (the SHA-256
of its token, the account, created, expires); :func:`mirror_sessions`
replaces the replica's session store with them, so replica pages know who
is signed in and a sign-out on the primary ends the session here too.
``GET /v1/replica/reports?after=N`` answers the community reports the event
log holds after sequence N; :func:`index_reports` adds them to the replica's
report index exactly as the primary's server did when it took them.
"""

import re
from itertools import groupby
from typing import Any

from sikker.core.report_index import ReportIndex
from sikker.errors import ReplicaProtocolError
from sikker.server.web.sessions import SessionStore

_DIGEST = re.compile(r"[0-9a-f]{64}")


def _int(value: Any) -> int | None:
    """Return ``value`` if it is an int of 0 or more, else None."""
    return value if type(value) is int and value >= 0 else None


def mirror_sessions(store: SessionStore, doc: dict[str, Any]) -> int:
    """Make the replica's sessions those of ``doc``; return how many.

    Raises:
        ReplicaProtocolError: the document is malformed (nothing changed).
    """
    rows = doc.get("sessions")
    if not isinstance(rows, list):
        raise ReplicaProtocolError("the sessions answer lists no sessions")
    kept = []
    for row in rows:
        if not isinstance(row, dict) or not _DIGEST.fullmatch(str(row.get("key"))):
            raise ReplicaProtocolError("a session has no valid key")
        account, created, expires = (
            row.get(k) for k in ("account", "created", "expires")
        )
        times = _int(created), _int(expires)
        if not isinstance(account, str) or None in times:
            raise ReplicaProtocolError("a session has a bad account or time")
        value = {"account": account, "created": created, "expires": expires}
        kept.append((bytes.fromhex(row["key"]), value))
    store.replace_all(kept)
    return len(kept)


def index_reports(index: ReportIndex, doc: dict[str, Any], after: int) -> int:
    """Index the reports of one answer to ``?after=after``; return the new cursor.

    Raises:
        ReplicaProtocolError: the answer is malformed (nothing was indexed).
    """
    cursor, reports = _int(doc.get("next")), doc.get("reports")
    if cursor is None or cursor < after or not isinstance(reports, list):
        raise ReplicaProtocolError("the reports answer has no valid cursor")
    found: list[tuple[int, dict[str, Any]]] = []
    for item in reports:
        item = item if isinstance(item, dict) else {}
        sequence, event = _int(item.get("sequence")), item.get("event")
        if sequence is None or not after < sequence <= cursor:
            raise ReplicaProtocolError("a report has a sequence outside the answer")
        if not isinstance(event, dict) or not all(
            isinstance(event.get(k), str) for k in ("src_ip", "reporter")
        ):
            raise ReplicaProtocolError("a report lacks its address or reporter")
        found.append((sequence, event))
    found.sort(key=lambda pair: pair[0])
    # The index takes runs of consecutive sequences (sensor events sit between).
    for _, run in groupby(enumerate(found), key=lambda x: x[1][0] - x[0]):
        pairs = [pair for _, pair in run]
        index.add(pairs[0][0], [event for _, event in pairs])
    return cursor
