"""Blacklist filters: parsed once from query parameters, validated, typed."""

from collections.abc import Mapping
from dataclasses import dataclass

from sikker.core.vocab import (
    PROTOCOLS,
    SEVERITIES,
    country_code,
    protocol_id,
    severity_level,
)
from sikker.errors import InvalidFilterError

DEFAULT_SCORE_MINIMUM = 50
DEFAULT_LIMIT = 10_000
MAX_LIMIT = 10_000_000

PARAMS = (
    "scoreMinimum",
    "onlyCountries",
    "exceptCountries",
    "onlyAsn",
    "exceptAsn",
    "ipVersion",
    "protocols",
    "minSeverity",
    "limit",
)


@dataclass(frozen=True)
class BlacklistQuery:
    """Which rows of a snapshot a blacklist holds, in row (confidence) order."""

    score_minimum: int = DEFAULT_SCORE_MINIMUM
    only_countries: tuple[str, ...] = ()
    except_countries: tuple[str, ...] = ()
    only_asn: tuple[int, ...] = ()
    except_asn: tuple[int, ...] = ()
    ip_version: int | None = None  # 4, 6 or None for mixed
    protocols: tuple[int, ...] = ()  # any of these protocol ids
    min_severity: int = 0  # severity level 1-4, 0 = no filter
    limit: int = DEFAULT_LIMIT

    @classmethod
    def from_params(
        cls, params: Mapping[str, str], max_limit: int = MAX_LIMIT
    ) -> "BlacklistQuery":
        """Parse SikkerAPI-style query parameters (camelCase, comma lists).

        Raises:
            InvalidFilterError: naming the parameter and what is wrong with it.
        """
        get = params.get
        return cls(
            score_minimum=_integer(
                get("scoreMinimum"), "scoreMinimum", DEFAULT_SCORE_MINIMUM, 0, 100
            ),
            only_countries=_listed(get("onlyCountries"), "onlyCountries", country_code),
            except_countries=_listed(
                get("exceptCountries"), "exceptCountries", country_code
            ),
            only_asn=_listed(get("onlyAsn"), "onlyAsn", _asn),
            except_asn=_listed(get("exceptAsn"), "exceptAsn", _asn),
            ip_version=_ip_version(get("ipVersion")),
            protocols=_listed(get("protocols"), "protocols", protocol_id),
            min_severity=severity_level(get("minSeverity") or "", "minSeverity")
            if get("minSeverity")
            else 0,
            limit=_integer(
                get("limit"), "limit", min(DEFAULT_LIMIT, max_limit), 1, max_limit
            ),
        )

    def as_params(self) -> dict[str, str]:
        """Return the query as canonical query parameters (for links, cron lines)."""
        out = {"scoreMinimum": str(self.score_minimum), "limit": str(self.limit)}
        pairs = {
            "onlyCountries": ",".join(self.only_countries),
            "exceptCountries": ",".join(self.except_countries),
            "onlyAsn": ",".join(f"AS{a}" for a in self.only_asn),
            "exceptAsn": ",".join(f"AS{a}" for a in self.except_asn),
            "ipVersion": str(self.ip_version or ""),
            "protocols": ",".join(PROTOCOLS[p] for p in self.protocols),
            "minSeverity": SEVERITIES[self.min_severity - 1]
            if self.min_severity
            else "",
        }
        out.update({k: v for k, v in pairs.items() if v})
        return out


def _integer(value: str | None, name: str, default: int, low: int, high: int) -> int:
    if value is None or value == "":
        return default
    try:
        number = int(value.strip())
    except ValueError:
        raise InvalidFilterError(name, f"expected an integer, got {value!r}") from None
    if not low <= number <= high:
        raise InvalidFilterError(
            name, f"must be between {low} and {high}, got {number}"
        )
    return number


def _listed(value: str | None, name: str, convert) -> tuple:  # type: ignore[no-untyped-def]
    if not value:
        return ()
    items = [item for item in (part.strip() for part in value.split(",")) if item]
    return tuple(dict.fromkeys(convert(item, name) for item in items))


def _asn(text: str, name: str) -> int:
    digits = text[2:] if text[:2].upper() == "AS" else text
    if not digits.isascii() or not digits.isdigit() or not 0 < int(digits) < 2**32:
        raise InvalidFilterError(
            name, f"{text!r} is not an AS number (e.g. AS4134 or 4134)"
        )
    return int(digits)


def _ip_version(value: str | None) -> int | None:
    if value is None or value.strip().lower() in ("", "mixed"):
        return None
    if value.strip() in ("4", "6"):
        return int(value)
    raise InvalidFilterError("ipVersion", f"expected 4, 6 or mixed, got {value!r}")
