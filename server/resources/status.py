"""``GET /v1/key/status``: your plan, today's quotas and your alerts.

Shaped as SikkerAPI's status document::

    {"tier": {"id", "name"},
     "quotas": {"lookups": {"used", "limit", "remaining"}, "reports": ...,
                "blacklist": ..., "taxii": ...},
     "alerts": {"ipAlerts": {"current", "limit"}, "rangeAlerts": {...,
                "maxPrefixV4", "maxPrefixV6"}, "usernameAlerts": ...,
                "emailAlerts": ...},
     "resetAt": <epoch seconds of the next 00:00 UTC>}

Alert usage comes from :attr:`StatusResource.alert_counts`, a function of
the account id returning ``{"ip": n, "range": n, "username": n, "email": n}``;
it reports zeros until the alerts store sets it.
"""

from collections.abc import Callable, Mapping

import falcon
import orjson

from sikker.core.plans import FAMILIES
from sikker.server.accounts import AccountService

#: Alert kinds and their names in the status document.
ALERT_NAMES = {
    "ip": "ipAlerts",
    "range": "rangeAlerts",
    "username": "usernameAlerts",
    "email": "emailAlerts",
}


def no_alerts(account_id: str) -> Mapping[str, int]:
    """Return no alert usage (until an alert store is wired in)."""
    return {}


class StatusResource:
    """Report the caller's tier, quota usage and alert usage."""

    def __init__(self, service: AccountService) -> None:
        self.service = service
        self.alert_counts: Callable[[str], Mapping[str, int]] = no_alerts

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        """Answer the status of the key's account (nothing is charged)."""
        principal = req.context.principal
        plan = principal.plan
        quota = self.service.quota()
        now = req.context.meter.now
        quotas = {}
        for family in FAMILIES:
            limit = plan.quotas[family]
            used = quota.used(principal.account_id, family, now)
            quotas[family] = {
                "used": used,
                "limit": limit,
                "remaining": max(limit - used, 0),
            }
        counts = self.alert_counts(principal.account_id)
        alerts: dict[str, dict[str, int]] = {
            name: {"current": int(counts.get(kind, 0)), "limit": plan.alerts[kind]}
            for kind, name in ALERT_NAMES.items()
        }
        alerts["rangeAlerts"]["maxPrefixV4"] = plan.alerts["range_prefix_v4"]
        alerts["rangeAlerts"]["maxPrefixV6"] = plan.alerts["range_prefix_v6"]
        resp.content_type = falcon.MEDIA_JSON
        resp.data = orjson.dumps(
            {
                "tier": {"id": plan.id, "name": plan.name},
                "quotas": quotas,
                "alerts": alerts,
                "resetAt": quota.reset_epoch(now),
                "account": {"id": principal.account_id, "email": principal.email},
                "key": {"id": principal.key_id},
            }
        )
