"""``POST /v1/removal-requests``: ask for an address to be delisted.

Public (no API key): whoever runs an address may ask, with an e-mail
address to answer and a reason. Requests are rate-limited per client
address (setting ``removal_requests_per_hour``). Administrators decide with
``sikker admin removal list|approve|reject``; an approved address
disappears from checks and blacklists for the approved number of days.
"""

from urllib.parse import parse_qsl

import falcon
import orjson

from sikker.core.config import Config
from sikker.core.handles import shared
from sikker.core.present import iso
from sikker.core.removals import RemovalStore, parse_request
from sikker.errors import InvalidRemovalRequestError
from sikker.server.body import media_type, read_body
from sikker.server.client import client_address, parse_proxies

#: Body cap of a removal request.
MAX_BODY = 16 * 1024


class RemovalRequestsResource:
    """Accept removal requests from anyone, a few per hour per address."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.trusted = parse_proxies(config.trusted_proxies)

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        """Store a pending request; 201 with its id."""
        body = read_body(req, MAX_BODY, "the removal request size limit")
        kind = media_type(req)
        if kind == "application/x-www-form-urlencoded":
            doc = dict(parse_qsl(body.decode("utf-8", "replace")))
        elif kind in ("application/json", ""):
            try:
                doc = orjson.loads(body or b"null")
            except orjson.JSONDecodeError as ex:
                raise InvalidRemovalRequestError(
                    "body", f"invalid JSON: {ex}"
                ) from None
        else:
            raise falcon.HTTPUnsupportedMediaType(
                title="unsupported media type",
                description=f"Content-Type {kind!r} is not accepted; send "
                "application/json",
            )
        fields = parse_request(doc)
        store = shared(RemovalStore, self.config.data_path)
        request = store.create(
            fields,
            client_address(req, self.trusted),
            int(self.config.removal_requests_per_hour),
        )
        resp.status = 201
        resp.content_type = falcon.MEDIA_JSON
        resp.data = orjson.dumps(
            {
                "id": request["id"],
                "status": request["status"],
                "ip": request["ip"],
                "createdAt": iso(request["createdAt"]),
                "message": "received; an administrator will review it and answer "
                "by e-mail",
            }
        )
