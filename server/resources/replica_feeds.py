"""What read replicas copy from a primary besides generations.

* ``GET /v1/replica/accounts``: every account (no password hashes), every
  API key (HMAC digests only) and the server secret the digests are keyed
  with, so replicas authenticate keys themselves.
* ``GET /v1/replica/sessions``: the web sign-ins (SHA-256 of each session
  token, never a token), so replica pages know who is signed in.
* ``GET /v1/replica/reports?after=N``: community reports the event log holds
  after sequence N, a bounded stretch at a time, for the replicas' report
  listings (the web lookup page).

The tags in ``/v1/replica/state`` tell a replica when to ask.
"""

import falcon
import orjson

from sikker.server.resources.replica import (
    ReplicaResource,
    accounts_tag,
    no_params,
)

#: Event log entries one reports answer scans at most.
SCAN = 10_000


def _json(resp: falcon.Response, doc: object) -> None:
    resp.content_type = falcon.MEDIA_JSON
    resp.data = orjson.dumps(doc)


class ReplicaAccountsResource(ReplicaResource):
    """``GET /v1/replica/accounts``: the account directory replicas mirror."""

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        """Answer every account and key (304 when the tag matches)."""
        self.check(req)
        tag = accounts_tag(self.source.service)
        if self.unchanged(req, resp, tag):
            return
        store = self.source.service.store()
        directory = store.export_directory()
        _json(resp, {"tag": tag, "secret": store.secret.hex(), **directory})


class ReplicaSessionsResource(ReplicaResource):
    """``GET /v1/replica/sessions``: the web sign-ins replicas mirror."""

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        """Answer every stored session (304 when the tag matches)."""
        self.check(req)
        sessions = self.source.sessions()
        tag = str(sessions.version())
        if self.unchanged(req, resp, tag):
            return
        rows = [{"key": key, **row} for key, row in sessions.export()]
        _json(resp, {"tag": tag, "sessions": rows})


class ReplicaReportsResource(ReplicaResource):
    """``GET /v1/replica/reports?after=N``: reports logged after sequence N."""

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        """Answer the reports among the next SCAN log entries after ``after``."""
        self.auth.require(req)
        text = no_params(req, frozenset({"after"})).get("after", "0")
        if not text.isascii() or not text.isdigit() or len(text) > 19:
            raise falcon.HTTPBadRequest(
                title="invalid parameter",
                description="after: expected an event log sequence (0 or more)",
            )
        after = int(text)
        log = self.source.events()
        reports, scanned = [], after
        if log is not None:
            for sequence, event in log.read(after, SCAN):
                scanned = sequence
                if isinstance(event, dict) and event.get("event") == "report":
                    reports.append({"sequence": sequence, "event": event})
        last = log.last_sequence() if log is not None else 0
        resp.cache_control = ["private", "no-cache"]
        _json(resp, {"after": after, "next": scanned, "last": last, "reports": reports})
