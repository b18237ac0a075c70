"""Watch alerts: ``/v1/key/{ip,range,username,email}-alerts[/{id}]`` and
``GET /v1/key/alerts/matches``.

Each kind has its own collection: ``POST`` creates (``{"ip"|"cidr"|
"username"|"email", "label", "webhookUrl"}``, 201), ``GET`` lists the
caller's alerts (``{"alerts": [...]}``) and ``DELETE .../{id}`` removes one.
Only the owner sees an alert: any other id is a 404. Plans limit how many
alerts of each kind an account keeps and how wide a range may be. Matches
are found by the builder as evidence arrives; they are POSTed to the
alert's webhook and listed by ``GET /v1/key/alerts/matches?since=<id>``.
"""

from typing import Any

import falcon
import orjson

from sikker.core.alerts import (
    AlertStore,
    parse_label,
    parse_value,
    validate_webhook_url,
)
from sikker.core.config import Config
from sikker.core.handles import shared
from sikker.errors import InvalidAlertError, InvalidFilterError
from sikker.server.body import media_type, read_body
from sikker.server.principal import require_principal

#: The JSON field naming the watched value, per kind.
FIELDS = {"ip": "ip", "range": "cidr", "username": "username", "email": "email"}
#: Body cap of an alert definition.
MAX_BODY = 16 * 1024
#: Matches one poll returns at most, and by default.
MAX_MATCHES, DEFAULT_MATCHES = 1000, 100


class Alerts:
    """What the alert resources share: the store and settings."""

    def __init__(self, config: Config) -> None:
        self.config = config

    def store(self) -> AlertStore:
        """Return this process's alert store."""
        return shared(AlertStore, self.config.data_path)


def _limits(principal: Any) -> dict[str, int]:
    return dict(getattr(getattr(principal, "plan", None), "alerts", None) or {})


class AlertsResource:
    """``GET`` and ``POST /v1/key/{kind}-alerts``."""

    def __init__(self, alerts: Alerts, kind: str) -> None:
        self.alerts = alerts
        self.kind = kind

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        """Answer the caller's alerts of this kind, oldest first."""
        principal = require_principal(req)
        found = self.alerts.store().alerts(principal.account_id, self.kind)
        resp.content_type = falcon.MEDIA_JSON
        resp.data = orjson.dumps({"alerts": [a.public() for a in found]})

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        """Create an alert; 201 with it (and its webhook secret, once)."""
        principal = require_principal(req)
        doc = _document(req)
        limits = _limits(principal)
        widest = {
            version: limits[name]
            for version, name in ((4, "range_prefix_v4"), (6, "range_prefix_v6"))
            if name in limits
        }
        value = parse_value(self.kind, doc.get(FIELDS[self.kind]), widest)
        alert = self.alerts.store().create(
            principal.account_id,
            self.kind,
            value,
            parse_label(doc.get("label")),
            validate_webhook_url(
                doc.get("webhookUrl"), bool(self.alerts.config.webhook_allow_private)
            ),
            limits.get(self.kind),
        )
        body = alert.public()
        if alert.secret:
            body["webhookSecret"] = alert.secret  # shown once: signs deliveries
        resp.status = 201
        resp.content_type = falcon.MEDIA_JSON
        resp.location = f"{req.path}/{alert.id}"
        resp.data = orjson.dumps(body)


class AlertResource:
    """``GET`` and ``DELETE /v1/key/{kind}-alerts/{alert_id}``."""

    def __init__(self, alerts: Alerts, kind: str) -> None:
        self.alerts = alerts
        self.kind = kind

    def on_get(self, req: falcon.Request, resp: falcon.Response, alert_id: str) -> None:
        """Answer one of the caller's alerts (404 for anyone else's)."""
        principal = require_principal(req)
        alert = self.alerts.store().get(principal.account_id, alert_id)
        if alert.kind != self.kind:
            raise falcon.HTTPNotFound(
                title="not found", description=f"no {self.kind} alert {alert_id!r}"
            )
        resp.content_type = falcon.MEDIA_JSON
        resp.data = orjson.dumps(alert.public())

    def on_delete(
        self, req: falcon.Request, resp: falcon.Response, alert_id: str
    ) -> None:
        """Delete one of the caller's alerts (its past matches stay listed)."""
        principal = require_principal(req)
        alert = self.alerts.store().delete(principal.account_id, self.kind, alert_id)
        resp.content_type = falcon.MEDIA_JSON
        resp.data = orjson.dumps({"success": True, "id": alert.id, "deleted": True})


class MatchesResource:
    """``GET /v1/key/alerts/matches?since=<id>&limit=<n>``: poll for matches."""

    def __init__(self, alerts: Alerts) -> None:
        self.alerts = alerts

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        """Answer the caller's matches after ``since``, oldest first."""
        principal = require_principal(req)
        since = _integer(req, "since", 0, 0, 2**63 - 1)
        limit = _integer(req, "limit", DEFAULT_MATCHES, 1, MAX_MATCHES)
        found = self.alerts.store().matches(principal.account_id, since, limit)
        resp.content_type = falcon.MEDIA_JSON
        resp.data = orjson.dumps(
            {"matches": found, "next": found[-1]["id"] if found else since}
        )


def _document(req: falcon.Request) -> dict[str, Any]:
    kind = media_type(req)
    if kind not in ("application/json", ""):
        raise falcon.HTTPUnsupportedMediaType(
            title="unsupported media type",
            description=f"Content-Type {kind!r} is not accepted; send application/json",
        )
    body = read_body(req, MAX_BODY, "the alert size limit")
    try:
        doc = orjson.loads(body or b"{}")
    except orjson.JSONDecodeError as ex:
        raise InvalidAlertError("body", f"invalid JSON: {ex}") from None
    if not isinstance(doc, dict):
        raise InvalidAlertError("body", "must be a JSON object")
    return doc


def _integer(req: falcon.Request, name: str, default: int, low: int, high: int) -> int:
    value = req.get_param(name)
    if value is None:
        return default
    if not value.isdigit() or not low <= int(value) <= high:
        raise InvalidFilterError(name, f"must be an integer {low}-{high}")
    return int(value)
