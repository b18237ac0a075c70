"""``GET /v1/key/username/{username}`` and ``GET /v1/key/email/{email}``."""

from typing import Any

import falcon
import orjson

from sikker.core.store import SnapshotStore


def _intel_payload(intel: dict[str, Any]) -> dict[str, Any]:
    protocols = dict(sorted(intel["protocols"].items(), key=lambda kv: -kv[1]))
    return {
        "protocols": protocols,
        # SikkerAPI clients expect this one as a JSON-encoded string.
        "protocolCounts": orjson.dumps(protocols).decode(),
        "firstSeenAt": intel["first"] * 1000,
        "lastSeenAt": intel["last"] * 1000,
    }


class UsernameResource:
    """Login attempts with a username, per protocol, as honeypots saw them."""

    def __init__(self, store: SnapshotStore) -> None:
        self.store = store

    def on_get(self, req: falcon.Request, resp: falcon.Response, username: str) -> None:
        """Answer the username's intel; 404 when no sensor saw it."""
        snapshot = self.store.current()
        intel = snapshot.username(username)
        if intel is None:
            raise falcon.HTTPNotFound(
                title="not found",
                description=f"username {username!r} is not in the attack database",
            )
        resp.data = orjson.dumps(
            {
                "username": username.lower(),
                "totalSessions": intel["total"],
                **_intel_payload(intel),
            }
        )
        resp.content_type = falcon.MEDIA_JSON


class EmailResource:
    """Messages honeypots received for an SMTP recipient address."""

    def __init__(self, store: SnapshotStore) -> None:
        self.store = store

    def on_get(self, req: falcon.Request, resp: falcon.Response, email: str) -> None:
        """Answer the recipient's intel; 404 when no sensor saw it."""
        snapshot = self.store.current()
        intel = snapshot.email(email)
        if intel is None:
            raise falcon.HTTPNotFound(
                title="not found",
                description=f"email address {email!r} is not in the attack database",
            )
        resp.data = orjson.dumps(
            {
                "email": email.lower(),
                "totalMessages": intel["total"],
                **_intel_payload(intel),
            }
        )
        resp.content_type = falcon.MEDIA_JSON
