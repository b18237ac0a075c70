"""Fixed vocabularies: protocols, severities, report categories, countries."""

from functools import cache
from importlib import resources

from sikker.errors import InvalidFilterError

#: The 16 honeypot protocols; a protocol's id is its index (bit in masks).
PROTOCOLS: tuple[str, ...] = (
    "ssh",
    "telnet",
    "http",
    "ftp",
    "smtp",
    "mysql",
    "postgresql",
    "mongodb",
    "redis",
    "docker",
    "elasticsearch",
    "mssql",
    "imap",
    "smb",
    "rtsp",
    "sip",
)
PROTOCOL_IDS: dict[str, int] = {name: i for i, name in enumerate(PROTOCOLS)}

#: Behavior severities, weakest first; level = index + 1 (0 means "none").
SEVERITIES: tuple[str, ...] = ("low", "medium", "high", "critical")
SEVERITY_LEVELS: dict[str, int] = {name: i + 1 for i, name in enumerate(SEVERITIES)}
#: SikkerAPI clients say ``very_high`` for our ``critical``.
SEVERITY_ALIASES: dict[str, str] = {"very_high": "critical"}

#: Community report categories; the id is the index + 1 (1-16).
CATEGORIES: tuple[str, ...] = (
    "brute_force",
    "port_scan",
    "ddos",
    "web_exploit",
    "sql_injection",
    "phishing",
    "spam",
    "bad_bot",
    "exploited_host",
    "malware",
    "dns_abuse",
    "open_proxy",
    "iot_targeted",
    "spoofing",
    "fraud",
    "other",
)


def protocol_id(name: str, field: str = "protocols") -> int:
    """Return the id of a protocol name (case-insensitive)."""
    try:
        return PROTOCOL_IDS[name.strip().lower()]
    except KeyError:
        raise InvalidFilterError(
            field, f"unknown protocol {name!r}; expected one of {', '.join(PROTOCOLS)}"
        ) from None


def severity_level(name: str, field: str = "minSeverity") -> int:
    """Return the level (1-4) of a severity name; accepts ``very_high``."""
    key = name.strip().lower()
    key = SEVERITY_ALIASES.get(key, key)
    try:
        return SEVERITY_LEVELS[key]
    except KeyError:
        raise InvalidFilterError(
            field,
            f"unknown severity {name!r}; expected one of {', '.join(SEVERITIES)}"
            " (very_high is accepted for critical)",
        ) from None


@cache
def countries() -> dict[str, str]:
    """Return ISO 3166-1 alpha-2 codes mapped to English short names."""
    text = (
        resources.files("sikker.core")
        .joinpath("data/countries.tsv")
        .read_text(encoding="utf-8")
    )
    table = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            code, name = line.split("\t", 1)
            table[code] = name
    return table


def country_code(code: str, field: str = "onlyCountries") -> str:
    """Validate and upper-case an ISO 3166-1 alpha-2 country code."""
    key = code.strip().upper()
    if key not in countries():
        raise InvalidFilterError(
            field, f"unknown country code {code!r} (ISO 3166-1 alpha-2)"
        )
    return key
