"""STIX 2.1 content of a snapshot: one indicator per listed IP, and its context.

Every id is deterministic (UUIDv5 in :data:`NAMESPACE`), so publishing an IP
again makes a new *version* of the same indicator (a later ``modified``),
never a duplicate. What each field holds is documented in docs/taxii.md:

- ``identity``: the producer (``created_by_ref`` of everything else);
- ``marking-definition``: TLP:WHITE (TLP:CLEAR), marking every object;
- ``attack-pattern``: one per catalog behavior, with its MITRE ATT&CK
  techniques as external references and their tactics as kill chain phases;
- ``indicator``: one per IP, ``[ipv4-addr:value = '...']``, ``confidence`` =
  confidenceLevel, valid from first seen, ``modified`` = its version time;
- ``relationship``: indicator ``indicates`` attack-pattern, per behavior seen.
"""

import uuid
import weakref
from typing import Any

from sikker.core import attack, ipcore
from sikker.core.present import iso
from sikker.core.records import Record
from sikker.core.snapshot import Snapshot
from sikker.core.vocab import CATEGORIES, PROTOCOLS

#: The namespace of every sikker STIX id (never change it: ids would change).
NAMESPACE = uuid.UUID("8b0c6f0e-51f1-4c1e-9d0a-5a4c1f3b7e21")
SPEC_VERSION = "2.1"
MEDIA_TYPE = "application/stix+json;version=2.1"

#: TLP:WHITE as STIX 2.1 defines it (TLP 1.0; TLP 2.0 renamed it TLP:CLEAR).
TLP_WHITE: dict[str, Any] = {
    "type": "marking-definition",
    "spec_version": SPEC_VERSION,
    "id": "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9",
    "created": "2017-01-20T00:00:00.000Z",
    "definition_type": "tlp",
    "name": "TLP:WHITE",
    "definition": {"tlp": "white"},
}
#: ``created``, ``modified`` and date added of the identity and attack patterns.
EPOCH = 1_735_689_600  # 2025-01-01T00:00:00Z

#: ATT&CK tactics in kill chain order (phases are listed in this order).
TACTICS = (
    "reconnaissance",
    "resource-development",
    "initial-access",
    "execution",
    "persistence",
    "privilege-escalation",
    "defense-evasion",
    "credential-access",
    "discovery",
    "lateral-movement",
    "collection",
    "command-and-control",
    "exfiltration",
    "impact",
)
_TACTIC_ORDER = {name: i for i, name in enumerate(TACTICS)}

#: Object types in the static part of a collection, and per IP.
STATIC_TYPES = frozenset({"marking-definition", "identity", "attack-pattern"})
IP_TYPES = frozenset({"indicator", "relationship"})


def stix_time(epoch: int) -> str:
    """Return epoch seconds as a STIX timestamp (millisecond precision)."""
    return f"{iso(epoch) or '1970-01-01T00:00:00Z'}"[:-1] + ".000Z"


def stix_id(kind: str, name: str) -> str:
    """Return the deterministic id of a ``kind`` object named ``name``."""
    return f"{kind}--{uuid.uuid5(NAMESPACE, name)}"


def indicator_id(ip: str) -> str:
    """Return the indicator id of an address (given in canonical form)."""
    return stix_id("indicator", ip)


def relationship_id(ip: str, behavior: str) -> str:
    """Return the id of "indicator of ``ip`` indicates ``behavior``"."""
    return stix_id("relationship", f"{ip} indicates {behavior}")


def attack_pattern_id(behavior: str) -> str:
    """Return the attack-pattern id of a catalog behavior."""
    return stix_id("attack-pattern", f"behavior:{behavior}")


def version_time(record: Record) -> int:
    """Return when an IP's current evidence last changed (0 when unknown)."""
    return max(record.last_seen, record.last_reported, record.first_seen)


def object_version(obj: dict[str, Any]) -> str:
    """Return an object's version: ``modified``, else ``created``."""
    return str(obj.get("modified") or obj["created"])


class StixMapper:
    """Turns one snapshot's records into STIX objects (see the module doc)."""

    def __init__(self, snapshot: Snapshot, producer: str = "sikker") -> None:
        self.snapshot = snapshot
        #: Date added of the static objects: before any evidence, so that a
        #: full walk meets them before the relationships that refer to them.
        self.static_time = EPOCH
        #: Version time of records that carry no time at all.
        self.fallback_time = (snapshot.base or snapshot.top).manifest.created_at
        self.identity = _identity(producer)
        self.marking = TLP_WHITE["id"]
        self._common = {
            "created_by_ref": self.identity["id"],
            "object_marking_refs": [self.marking],
        }
        behaviors = snapshot.catalog["behaviors"]
        self._refs = [_technique_refs(b.get("mitre", ())) for b in behaviors]
        self.attack_patterns = [
            self._attack_pattern(b, refs)
            for b, refs in zip(behaviors, self._refs, strict=True)
        ]

    def static_objects(self) -> list[dict[str, Any]]:
        """Return the marking, the producer identity and every attack pattern."""
        return [TLP_WHITE, self.identity, *self.attack_patterns]

    def ip_objects(self, ip: str, record: Record) -> list[dict[str, Any]]:
        """Return the indicator of ``ip`` and its relationships."""
        details = record.details()
        version = version_time(record) or self.fallback_time
        first = record.first_seen or version
        created, modified = stix_time(first), stix_time(version)
        indicator = self._indicator(ip, record, details, created, modified)
        out = [indicator]
        behaviors = self.snapshot.catalog["behaviors"]
        for index, _count in details.behaviors:
            behavior = behaviors[index]
            out.append(
                {
                    "type": "relationship",
                    "spec_version": SPEC_VERSION,
                    "id": relationship_id(ip, behavior["id"]),
                    "created": created,
                    "modified": modified,
                    "relationship_type": "indicates",
                    "source_ref": indicator["id"],
                    "target_ref": self.attack_patterns[index]["id"],
                    **self._common,
                }
            )
        return out

    def _indicator(
        self, ip: str, record: Record, details: Any, created: str, modified: str
    ) -> dict[str, Any]:
        behaviors = self.snapshot.catalog["behaviors"]
        seen = [behaviors[i] for i, _ in details.behaviors]
        refs = _merge_refs(self._refs[i] for i, _ in details.behaviors)
        labels = [b["id"] for b in seen] + [
            CATEGORIES[c - 1].replace("_", "-") for c, _ in details.categories
        ]
        version = 6 if ":" in ip else 4
        indicator: dict[str, Any] = {
            "type": "indicator",
            "spec_version": SPEC_VERSION,
            "id": indicator_id(ip),
            "created": created,
            "modified": modified,
            "name": ip,
            "description": self._describe(record, details, seen),
            "indicator_types": ["benign" if record.benign_source else
                                "malicious-activity"],
            "pattern": f"[ipv{version}-addr:value = '{ip}']",
            "pattern_type": "stix",
            "pattern_version": SPEC_VERSION,
            "valid_from": created,
            "confidence": int(record.score),
            **self._common,
        }  # fmt: skip
        if labels:
            indicator["labels"] = list(dict.fromkeys(labels))
        phases = _phases(refs)
        if phases:
            indicator["kill_chain_phases"] = phases
        if refs:
            indicator["external_references"] = [r.ref for r in refs]
        return indicator

    def _describe(self, record: Record, details: Any, seen: list[dict]) -> str:
        parts = []
        if record.sessions:
            protocols = ", ".join(PROTOCOLS[p] for p, _, _ in details.protocols)
            parts.append(
                f"{record.sessions} honeypot sessions ({protocols}) "
                f"seen {_day(record.first_seen)} to {_day(record.last_seen)}."
            )
        if seen:
            parts.append(
                "Behaviors: "
                + "; ".join(f"{b.get('name', b['id'])} ({b['severity']})" for b in seen)
                + "."
            )
        if record.reports:
            parts.append(
                f"{record.reports} community reports from {record.reporters} reporters."
            )
        if record.benign_source:
            source = self.snapshot.benign_sources[record.benign_source - 1]
            parts.append(
                f"Known-benign source {source['name']}: confidence discounted "
                f"from {record.raw_score} to {record.score}."
            )
        return f"Confidence {record.score}/100. " + " ".join(parts)

    def _attack_pattern(
        self, behavior: dict[str, Any], refs: list["_Ref"]
    ) -> dict[str, Any]:
        protocols = ", ".join(behavior.get("protocols", ()))
        pattern: dict[str, Any] = {
            "type": "attack-pattern",
            "spec_version": SPEC_VERSION,
            "id": attack_pattern_id(behavior["id"]),
            "created": stix_time(EPOCH),
            "modified": stix_time(EPOCH),
            "name": behavior.get("name", behavior["id"]),
            "description": f"{behavior.get('description', '')} "
            f"(sikker behavior {behavior['id']}, severity {behavior['severity']}"
            + (f", {protocols})" if protocols else ")"),
            "external_references": [
                {"source_name": "sikker", "external_id": behavior["id"]},
                *(r.ref for r in refs),
            ],
            **self._common,
        }
        phases = _phases(refs)
        if phases:
            pattern["kill_chain_phases"] = phases
        return pattern


class _Ref:
    """One ATT&CK technique a behavior maps to."""

    __slots__ = ("ref", "tactics")

    def __init__(self, tid: str) -> None:
        technique = attack.technique(tid)
        tid = tid.strip().upper()
        self.tactics: tuple[str, ...] = technique.tactics if technique else ()
        url = attack.Technique(tid, "", ()).url
        self.ref: dict[str, str] = {
            "source_name": attack.SOURCE,
            "external_id": tid,
            "url": url,
        }
        if technique:
            self.ref["description"] = technique.name


def _technique_refs(ids: Any) -> list[_Ref]:
    return [_Ref(tid) for tid in ids]


def _merge_refs(groups: Any) -> list[_Ref]:
    """Return the distinct techniques of several behaviors, in order."""
    seen: dict[str, _Ref] = {}
    for refs in groups:
        for ref in refs:
            seen.setdefault(ref.ref["external_id"], ref)
    return list(seen.values())


def _phases(refs: list[_Ref]) -> list[dict[str, str]]:
    tactics = {t for ref in refs for t in ref.tactics}
    return [
        {"kill_chain_name": attack.KILL_CHAIN, "phase_name": name}
        for name in sorted(tactics, key=lambda t: (_TACTIC_ORDER.get(t, 99), t))
    ]


def _identity(producer: str) -> dict[str, Any]:
    return {
        "type": "identity",
        "spec_version": SPEC_VERSION,
        "id": stix_id("identity", f"producer:{producer}"),
        "created": stix_time(EPOCH),
        "modified": stix_time(EPOCH),
        "name": producer,
        "description": "IP reputation from honeypot evidence and community "
        "reports, published by a sikker server.",
        "identity_class": "organization",
        "object_marking_refs": [TLP_WHITE["id"]],
    }


def _day(epoch: int) -> str:
    return (iso(epoch) or "unknown")[:10]


_MAPPERS: "weakref.WeakKeyDictionary[Snapshot, dict[str, StixMapper]]" = (
    weakref.WeakKeyDictionary()
)


def mapper(snapshot: Snapshot, producer: str = "sikker") -> StixMapper:
    """Return the (cached) mapper of a snapshot."""
    by_producer = _MAPPERS.setdefault(snapshot, {})
    found = by_producer.get(producer)
    if found is None:
        found = by_producer.setdefault(producer, StixMapper(snapshot, producer))
    return found


def canonical_ip(text: str) -> str:
    """Return an address in canonical text form (raises InvalidAddressError)."""
    return ipcore.format_ip(*ipcore.parse_ip(text))
