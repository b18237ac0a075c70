"""``GET /v1/key/blacklist``: filtered lists, best first, streamed.

The blacklist quota counts IPs returned: ``limit`` is capped to what is
left of it today (and to the plan's ``blacklist_limit``); only when nothing
is left does the request get a 429.
"""

import time
from dataclasses import replace

import falcon
import orjson

from sikker.core.config import Config
from sikker.core.filters import PARAMS, BlacklistQuery
from sikker.core.format_base import Export, FormatOptions
from sikker.core.formats import FORMAT_PARAMS, from_params
from sikker.core.present import blacklist_payload
from sikker.core.snapshot import Selection
from sikker.core.store import SnapshotStore
from sikker.errors import InvalidFilterError
from sikker.server.params import flag, single_params

_KNOWN = {*PARAMS, *FORMAT_PARAMS, "plaintext", "key"}


class BlacklistResource:
    """Intersect the snapshot's bitmaps and render the matching rows."""

    def __init__(self, store: SnapshotStore, config: Config) -> None:
        self.store = store
        self.config = config

    @staticmethod
    def _within_quota(req: falcon.Request, query: BlacklistQuery) -> BlacklistQuery:
        """Cap ``limit`` to the plan's cap and to the IPs left in today's quota."""
        left = req.context.remaining("blacklist")
        if left == 0:
            req.context.charge("blacklist")  # raises the 429
        cap = req.context.principal.plan.caps["blacklist_limit"]
        limit = min(query.limit, left, cap)
        return query if limit == query.limit else replace(query, limit=limit)

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        """Answer in the requested ``format`` (JSON by default), streamed."""
        self.answer(req, resp, single_params(req))

    def answer(
        self, req: falcon.Request, resp: falcon.Response, params: dict[str, str]
    ) -> None:
        """Answer the blacklist of ``params`` (the web export tool calls this
        with the quota of a signed-in account on ``req.context``)."""
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
        fmt = from_params(params, flag(req, "plaintext"))
        options = FormatOptions.from_params(params)
        snapshot = self.store.current()
        query = self._within_quota(req, query)
        rows = snapshot.blacklist(query)
        granted = req.context.charge_upto("blacklist", len(rows))
        if granted < len(rows):  # other requests used the quota meanwhile
            rows = Selection(rows.layer[:granted], rows.rows[:granted])
        resp.set_header("X-Snapshot-Sequence", str(snapshot.sequence))
        resp.set_header("X-Result-Count", str(len(rows)))
        resp.set_header("X-Generated-At", str(int(time.time() * 1000)))
        if fmt.render is None:
            resp.content_type = falcon.MEDIA_JSON
            resp.data = orjson.dumps(blacklist_payload(snapshot, query, rows))
        else:
            resp.content_type = fmt.content_type
            resp.stream = fmt.render(Export(snapshot, rows, query, options))
