"""``GET /v1/key/blacklist``: filtered lists, best first, streamed."""

import time

import falcon
import orjson

from sikker.core.config import Config
from sikker.core.filters import PARAMS, BlacklistQuery
from sikker.core.present import blacklist_payload
from sikker.core.store import SnapshotStore
from sikker.errors import InvalidFilterError
from sikker.server.params import flag, single_params

_KNOWN = {*PARAMS, "plaintext", "key"}


class BlacklistResource:
    """Intersect the snapshot's bitmaps and render the matching rows."""

    def __init__(self, store: SnapshotStore, config: Config) -> None:
        self.store = store
        self.config = config

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        """Answer plaintext (``plaintext=true``) or JSON."""
        params = single_params(req)
        unknown = sorted(set(params) - _KNOWN)
        if unknown:
            raise InvalidFilterError(
                unknown[0],
                f"unknown parameter; known: {', '.join(sorted(_KNOWN - {'key'}))}",
            )
        if "limit" not in params:
            params["limit"] = str(self.config.blacklist_default_limit)
        query = BlacklistQuery.from_params(
            params, max_limit=self.config.blacklist_max_limit
        )
        plaintext = flag(req, "plaintext")
        snapshot = self.store.current()
        rows = snapshot.blacklist(query)
        resp.set_header("X-Snapshot-Sequence", str(snapshot.sequence))
        resp.set_header("X-Result-Count", str(len(rows)))
        resp.set_header("X-Generated-At", str(int(time.time() * 1000)))
        if plaintext:
            resp.content_type = falcon.MEDIA_TEXT
            resp.stream = snapshot.render_plaintext(rows)
        else:
            resp.content_type = falcon.MEDIA_JSON
            resp.data = orjson.dumps(blacklist_payload(snapshot, query, rows))
