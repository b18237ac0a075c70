"""``GET /v1/key/sync/snapshot`` and ``GET /v1/key/sync/delta``: appliance sync.

An agent pulls a filter's whole set once (``snapshot``), then what changed
since the sequence it holds (``delta?from=A``), and checks the SHA-256 of the
set it ends with against ``X-Sync-SHA256``. Both answers carry the set's
digest as a strong ``ETag``; ``If-None-Match`` with the digest the agent holds
is a 304 (nothing sent, the sequence header still moves it on). A delta the
server cannot compute (``A`` unknown or in the future) is a 410 with code
``full_required``. The blacklist quota counts the address lines sent; a set
or delta larger than what is left of it is a 429, never a truncated list.
"""

from dataclasses import replace

import falcon

from sikker.core import syncproto
from sikker.core.config import Config
from sikker.core.filters import PARAMS, BlacklistQuery
from sikker.errors import InvalidFilterError
from sikker.server.params import single_params
from sikker.server.principal import charge, plan_cap
from sikker.server.sync_sets import SyncedSet, SyncSets

FROM = "from"
#: Largest sequence number ``from`` may name.
MAX_SEQUENCE = 2**63 - 1


class _SyncResource:
    """What both endpoints share: the filter, the headers, the 304."""

    extra: frozenset[str] = frozenset()

    def __init__(self, sets: SyncSets, config: Config) -> None:
        self.sets = sets
        self.config = config

    def _filter(
        self, req: falcon.Request, params: dict[str, str]
    ) -> tuple[BlacklistQuery, str]:
        """Return the query (limit capped by the plan) and its canonical text."""
        known = {*PARAMS, "key", *self.extra}
        unknown = sorted(set(params) - known)
        if unknown:
            raise InvalidFilterError(
                unknown[0],
                f"unknown parameter; known: {', '.join(sorted(known - {'key'}))}",
            )
        if not params.get("limit"):
            params["limit"] = str(self.config.blacklist_default_limit)
        query = BlacklistQuery.from_params(
            params, max_limit=self.config.blacklist_max_limit
        )
        cap = plan_cap(req, "blacklist_limit", query.limit)
        if cap < query.limit:
            query = replace(query, limit=cap)
        return query, syncproto.filter_key(query.as_params())

    @staticmethod
    def _describe(resp: falcon.Response, now: SyncedSet, key: str) -> None:
        resp.set_header("ETag", syncproto.etag(now.digest))
        resp.set_header("Cache-Control", "private, no-cache")
        resp.set_header(syncproto.SEQUENCE, str(now.sequence))
        resp.set_header(syncproto.SHA256, now.digest)
        resp.set_header(syncproto.COUNT, str(len(now.keys)))
        resp.set_header(syncproto.FILTER, key)

    @staticmethod
    def _not_modified(req: falcon.Request, now: SyncedSet) -> bool:
        """Return True when the caller already holds the current set."""
        tags = req.if_none_match or []
        return any(str(tag) in ("*", now.digest) for tag in tags)

    @staticmethod
    def _send(req: falcon.Request, resp: falcon.Response, lines: int) -> None:
        charge(req, "blacklist", lines)  # 429 when the lines do not all fit
        resp.content_type = syncproto.MEDIA_TYPE
        resp.set_header("X-Result-Count", str(lines))


class SyncSnapshotResource(_SyncResource):
    """The whole set of a filter: one address a line, sorted."""

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        """Answer the current set, or 304 when ``If-None-Match`` holds it."""
        query, key = self._filter(req, single_params(req))
        now = self.sets.current(query, key)
        self._describe(resp, now, key)
        if self._not_modified(req, now):
            resp.status = falcon.HTTP_304
            return
        self._send(req, resp, len(now.keys))
        resp.stream = syncproto.render(now.keys)


class SyncDeltaResource(_SyncResource):
    """What changed in a filter's set since sequence ``from``."""

    extra = frozenset({FROM})

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        """Answer ``-``/``+`` lines, 304, or 410 when ``from`` is unknown."""
        params = single_params(req)
        since = _sequence(params.get(FROM))
        query, key = self._filter(req, params)
        now = self.sets.current(query, key)
        self._describe(resp, now, key)
        if self._not_modified(req, now):
            resp.status = falcon.HTTP_304
            return
        old = self.sets.at(query, key, since) if since <= now.sequence else None
        if old is None:
            raise falcon.HTTPGone(
                title=syncproto.FULL_REQUIRED,
                description=f"no delta from sequence {since} for this filter "
                f"(the server is at {now.sequence} and keeps the last "
                f"{self.sets.history.keep} sets of a filter); pull "
                "/v1/key/sync/snapshot",
            )
        added, removed = syncproto.diff(old, now.keys)
        resp.set_header(syncproto.FROM, str(since))
        self._send(req, resp, len(added) + len(removed))
        resp.stream = syncproto.render_delta(added, removed)


def _sequence(value: str | None) -> int:
    if value is None or value == "":
        raise InvalidFilterError(FROM, "required: the sequence the agent holds")
    text = value.strip()
    if not (text.isascii() and text.isdigit() and len(text) <= 19) or (
        int(text) > MAX_SEQUENCE
    ):
        raise InvalidFilterError(FROM, f"expected a sequence number, got {value!r}")
    return int(text)
