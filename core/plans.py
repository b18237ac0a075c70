"""Plans: the daily quotas, alert limits and request caps of each tier.

Read from a TOML file: the shipped ``core/data/plans.toml`` unless the
setting ``plans_path`` names another one (same layout; every plan must give
every field). Accounts name their plan by id, so a changed plan applies to
every account on it at the next server start, and ``sikker admin user
set-plan`` moves one account at its next request.
"""

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

from sikker.errors import PlanError, UnknownAccountError

SHIPPED = Path(__file__).resolve().parent / "data" / "plans.toml"
#: Endpoint families with a daily quota.
FAMILIES = ("lookups", "reports", "blacklist", "taxii")
#: Alert kinds (counts) and the largest range an account may watch.
ALERTS = ("ip", "range", "username", "email", "range_prefix_v4", "range_prefix_v6")
#: The most one request may ask for.
CAPS = ("bulk_check_ips", "bulk_report_rows", "blacklist_limit")
_SECTIONS = {"quotas": FAMILIES, "alerts": ALERTS, "caps": CAPS}


@dataclass(frozen=True)
class Plan:
    """One tier: ``quotas[family]`` per UTC day, ``alerts`` and ``caps``."""

    id: str
    name: str
    quotas: Mapping[str, int]
    alerts: Mapping[str, int]
    caps: Mapping[str, int]

    def public(self) -> dict[str, Any]:
        """Return the plan as JSON-ready data."""
        return {
            "id": self.id,
            "name": self.name,
            "quotas": dict(self.quotas),
            "alerts": dict(self.alerts),
            "caps": dict(self.caps),
        }


@dataclass(frozen=True)
class Plans:
    """Every plan of the file, by id, and the one new accounts get."""

    plans: Mapping[str, Plan]
    default: str
    source: str

    def get(self, plan_id: str) -> Plan:
        """Return the plan ``plan_id``; raise UnknownAccountError if none."""
        try:
            return self.plans[plan_id]
        except KeyError:
            raise UnknownAccountError(
                f"no plan {plan_id!r}; plans: {', '.join(self.plans)}"
            ) from None

    def resolve(self, plan_id: str) -> Plan:
        """Return ``plan_id``'s plan, or the default one if it was removed."""
        return self.plans.get(plan_id) or self.plans[self.default]


def load_plans(path: str | Path | None = None) -> Plans:
    """Read and validate a plans file (default: the shipped one).

    Raises:
        PlanError: the file is missing, not TOML, or a plan lacks a field.
    """
    source = Path(path) if path else SHIPPED
    try:
        data = tomllib.loads(source.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise PlanError(f"plans file {source} does not exist") from None
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as ex:
        raise PlanError(f"{source}: {ex}") from None
    unknown = set(data) - {"default", "plans"}
    if unknown:
        raise PlanError(f"{source}: unknown top-level keys {sorted(unknown)}")
    tables = data.get("plans")
    if not isinstance(tables, dict) or not tables:
        raise PlanError(f"{source}: no [plans.<id>] tables")
    plans = {pid: _plan(source, pid, table) for pid, table in tables.items()}
    default = data.get("default", next(iter(plans)))
    if default not in plans:
        raise PlanError(f"{source}: default plan {default!r} is not defined")
    return Plans(MappingProxyType(plans), default, str(source))


def _plan(source: Path, pid: str, table: Any) -> Plan:
    where = f"{source}: plans.{pid}"
    if not isinstance(table, dict):
        raise PlanError(f"{where} must be a table")
    if not pid.replace("_", "").replace("-", "").isalnum() or len(pid) > 32:
        raise PlanError(f"{where}: ids are up to 32 letters, digits, '-' or '_'")
    extra = set(table) - {"name", *_SECTIONS}
    if extra:
        raise PlanError(f"{where}: unknown keys {sorted(extra)}")
    name = table.get("name", pid)
    if not isinstance(name, str):
        raise PlanError(f"{where}.name must be a string")
    sections = {}
    for section, fields in _SECTIONS.items():
        values = table.get(section)
        if not isinstance(values, dict):
            raise PlanError(f"{where}.{section} is missing")
        wrong = set(values) ^ set(fields)
        if wrong:
            raise PlanError(
                f"{where}.{section} must give exactly {', '.join(fields)} "
                f"(wrong: {', '.join(sorted(wrong))})"
            )
        for field, value in values.items():
            if type(value) is not int or value < 0:
                raise PlanError(f"{where}.{section}.{field} must be an integer >= 0")
        sections[section] = MappingProxyType({f: values[f] for f in fields})
    return Plan(pid, name, sections["quotas"], sections["alerts"], sections["caps"])
