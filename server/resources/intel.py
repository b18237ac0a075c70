"""``GET /v1/key/username/{username}`` and ``GET /v1/key/email/{email}``."""

import falcon
import orjson

from sikker.core.store import SnapshotStore


class IntelResource:
    """What honeypots saw of one username (logins) or email (SMTP recipient).

    ``kind`` is ``"username"`` or ``"email"``; the answer names the value,
    its total (``totalSessions`` / ``totalMessages``), per-protocol counts and
    first/last seen (epoch ms). 404 when no sensor has seen it.
    """

    TOTALS = {"username": "totalSessions", "email": "totalMessages"}

    def __init__(self, store: SnapshotStore, kind: str) -> None:
        self.store = store
        self.kind = kind

    def on_get(self, req: falcon.Request, resp: falcon.Response, **params: str) -> None:
        """Answer the intel of the path's ``{username}`` or ``{email}``."""
        value = params[self.kind]
        snapshot = self.store.current()
        lookup = snapshot.username if self.kind == "username" else snapshot.email
        intel = lookup(value)
        req.context.charge("lookups")
        if intel is None:
            raise falcon.HTTPNotFound(
                title="not found",
                description=f"{self.kind} {value!r} is not in the attack database",
            )
        protocols = dict(sorted(intel["protocols"].items(), key=lambda kv: -kv[1]))
        resp.data = orjson.dumps(
            {
                self.kind: value.lower(),
                self.TOTALS[self.kind]: intel["total"],
                "protocols": protocols,
                # SikkerAPI clients expect this one as a JSON-encoded string.
                "protocolCounts": orjson.dumps(protocols).decode(),
                "firstSeenAt": intel["first"] * 1000,
                "lastSeenAt": intel["last"] * 1000,
            }
        )
        resp.content_type = falcon.MEDIA_JSON
