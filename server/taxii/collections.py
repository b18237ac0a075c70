"""The collections: all indicators, high-confidence ones, one per protocol.

Every collection is read-only (``can_write: false``) and holds the static
objects (marking, producer identity, attack patterns) plus the indicators
and relationships of the IPs it selects. ``sikker-threat-intel`` is the id
SikkerAPI clients ask for by default. Collection ids are readable slugs
rather than UUIDs, as on SikkerAPI (see docs/taxii.md).
"""

from dataclasses import dataclass
from typing import Any

from sikker.core.stix import MEDIA_TYPE
from sikker.core.stix_feed import Selector
from sikker.core.vocab import PROTOCOLS

DEFAULT = "sikker-threat-intel"
HIGH_CONFIDENCE = "sikker-high-confidence"
#: Confidence an IP needs to be in the high-confidence collection.
HIGH_CONFIDENCE_MINIMUM = 75


@dataclass(frozen=True)
class Collection:
    """One TAXII collection and the IPs it selects."""

    id: str
    title: str
    description: str
    selector: Selector

    def resource(self) -> dict[str, Any]:
        """Return the TAXII collection resource."""
        return {
            "id": self.id,
            "title": self.title,
            "description": self.description,
            "can_read": True,
            "can_write": False,
            "media_types": [MEDIA_TYPE],
        }


def _collections() -> dict[str, Collection]:
    items = [
        Collection(
            DEFAULT,
            "sikker threat intelligence",
            "Every listed IP as a STIX indicator (confidence = confidenceLevel), "
            "with the ATT&CK-mapped behaviors it showed.",
            Selector(),
        ),
        Collection(
            HIGH_CONFIDENCE,
            "sikker high-confidence indicators",
            f"IPs with a confidence of {HIGH_CONFIDENCE_MINIMUM} or more: "
            "safe to block automatically.",
            Selector(score_minimum=HIGH_CONFIDENCE_MINIMUM),
        ),
    ]
    for pid, name in enumerate(PROTOCOLS):
        items.append(
            Collection(
                f"sikker-{name}",
                f"sikker {name} attackers",
                f"IPs seen on {name} honeypots.",
                Selector(protocol=pid),
            )
        )
    return {c.id: c for c in items}


COLLECTIONS: dict[str, Collection] = _collections()
