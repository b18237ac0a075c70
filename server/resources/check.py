"""``GET /v1/key/check/{ip}``: the reputation of one address."""

import falcon
import orjson

from sikker.core.check_json import check_json
from sikker.core.present import check_payload, score_breakdown
from sikker.core.store import SnapshotStore
from sikker.server.params import flag


class CheckResource:
    """Look one IP up in the current snapshot."""

    def __init__(self, store: SnapshotStore) -> None:
        self.store = store

    def on_get(self, req: falcon.Request, resp: falcon.Response, ip: str) -> None:
        """Answer the check (one lookup); unknown IPs are ``found: false``."""
        ignore = explain = False
        if req.query_string:  # PERF: most checks have no parameters to parse
            ignore = flag(req, "ignoreWhitelist")
            explain = flag(req, "explain")
        snapshot = self.store.current()
        if explain:
            record = snapshot.lookup(ip)
            payload = check_payload(snapshot, ip, record, ignore)
            if record is not None:
                payload["scoreBreakdown"] = score_breakdown(snapshot, record)
            resp.data = orjson.dumps(payload)
        else:  # PERF: the same bytes, rendered without building a dict
            resp.data = check_json(snapshot, ip, ignore)
        req.context.charge("lookups")
        resp.content_type = falcon.MEDIA_JSON
        resp.set_header("X-Snapshot-Sequence", str(snapshot.sequence))
