"""Community reports: validate one, and turn it into an event-log entry.

A report names an address, a category (name or id 1-16), optionally a
protocol (one of the 16) and a comment. It is refused, with the reason,
when the address is not public, when it lies inside the reporter's own
ranges (or is the reporter's own address), or when a field is bad. Accepted
reports become ``report`` events (docs/events.md); the builder folds them,
counting one reporter's repeats of an address within 15 minutes once.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sikker.core import ipcore
from sikker.core.canonical import canonical_ip
from sikker.core.events import PROTOCOL_ALIASES
from sikker.core.vocab import CATEGORIES, PROTOCOLS
from sikker.errors import InvalidAddressError, InvalidReportError

#: Longest comment accepted (characters), as SikkerAPI.
MAX_COMMENT = 1000
#: Longest protocol value accepted (characters).
MAX_PROTOCOL = 32
_CATEGORY_IDS = {name: i + 1 for i, name in enumerate(CATEGORIES)}


@dataclass(frozen=True)
class Report:
    """A validated report."""

    ip: str  # canonical text; IPv4-mapped IPv6 becomes IPv4
    category: str  # a name of vocab.CATEGORIES
    protocol: str | None
    comment: str | None

    def event(self, reporter: str, ts_ms: int) -> dict[str, Any]:
        """Return the event-log entry of this report by ``reporter``."""
        event: dict[str, Any] = {
            "event": "report",
            "ts": ts_ms,
            "src_ip": self.ip,
            "reporter": reporter,
            "category": self.category,
        }
        if self.protocol:
            event["protocol"] = self.protocol
        if self.comment:
            event["comment"] = self.comment
        return event

    def public(self) -> dict[str, Any]:
        """Return the report as the API echoes it to its reporter."""
        return {
            "ip": self.ip,
            "category": self.category,
            "categoryId": _CATEGORY_IDS[self.category],
            "protocol": self.protocol,
            "comment": self.comment,
        }


class Networks:
    """A set of CIDR networks an address can be tested against."""

    def __init__(self, cidrs: Iterable[str] = (), skip_invalid: bool = False) -> None:
        """Parse ``cidrs``; with ``skip_invalid`` unparsable ones are left out.

        Raises:
            InvalidAddressError: a network is not valid (unless skipped).
        """
        self._networks: list[tuple[int, int, int]] = []  # (version, first, last)
        for cidr in cidrs:
            try:
                version, network, prefix = ipcore.parse_cidr(str(cidr), strict=False)
            except InvalidAddressError:
                if skip_invalid:
                    continue
                raise
            bits = 32 if version == 4 else 128
            last = network | ((1 << (bits - prefix)) - 1)
            self._networks.append((version, network, last))

    def __len__(self) -> int:
        return len(self._networks)

    def contains(self, version: int, value: int) -> bool:
        """Return True when the address lies in one of the networks."""
        return any(
            v == version and first <= value <= last for v, first, last in self._networks
        )


def canonical_address(text: Any, field: str = "ip") -> tuple[int, int]:
    """Return ``(version, value)`` of an address; IPv4-mapped becomes IPv4.

    Raises:
        InvalidReportError: ``text`` is not an address.
    """
    if not isinstance(text, str):
        raise InvalidReportError(field, f"must be a string, got {_kind(text)}")
    try:
        return canonical_ip(text.strip())
    except InvalidAddressError as ex:
        raise InvalidReportError(field, f"{text[:64]!r}: {ex.reason}") from None


def parse_category(value: Any) -> str:
    """Return the category name of a name (any case) or an id 1-16."""
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, int) and not isinstance(value, bool):
        if 1 <= value <= len(CATEGORIES):
            return CATEGORIES[value - 1]
        raise InvalidReportError(
            "category", f"id {value} is out of range 1-{len(CATEGORIES)}"
        )
    if isinstance(value, str):
        name = value.strip().lower().replace("-", "_").replace(" ", "_")
        if name in _CATEGORY_IDS:
            return name
        raise InvalidReportError(
            "category",
            f"unknown category {value[:40]!r}; expected an id 1-16 or one of "
            f"{', '.join(CATEGORIES)}",
        )
    if value is None:
        raise InvalidReportError("category", "is required")
    raise InvalidReportError("category", f"must be a name or an id, got {_kind(value)}")


def parse_protocol(value: Any) -> str | None:
    """Return the protocol of a report (None when absent or empty)."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise InvalidReportError("protocol", f"must be a string, got {_kind(value)}")
    if len(value) > MAX_PROTOCOL:
        raise InvalidReportError(
            "protocol", f"longer than {MAX_PROTOCOL} characters ({len(value)})"
        )
    name = value.strip().lower()
    name = PROTOCOL_ALIASES.get(name, name)
    if name not in PROTOCOLS:
        raise InvalidReportError(
            "protocol",
            f"unknown protocol {value!r}; expected one of {', '.join(PROTOCOLS)}",
        )
    return name


def parse_comment(value: Any) -> str | None:
    """Return the comment of a report (None when absent or blank)."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidReportError("comment", f"must be a string, got {_kind(value)}")
    text = value.strip()
    if len(text) > MAX_COMMENT:
        raise InvalidReportError(
            "comment",
            f"longer than {MAX_COMMENT} characters ({len(text)}); shorten it "
            "(and leave out log dumps and personal data)",
        )
    return text or None


class ReportRules:
    """Validates reports of one reporter.

    ``own`` holds the reporter's own networks and ``client`` the address the
    request came from; reports of either are refused.
    """

    def __init__(self, own: Networks | None = None, client: str | None = None) -> None:
        self.own = own or Networks()
        self.client = _client(client)

    def parse(self, obj: Any) -> Report:
        """Return the validated report of a JSON object (or CSV row dict).

        Raises:
            InvalidReportError: a field is missing or bad; it names the field.
        """
        if not isinstance(obj, Mapping):
            raise InvalidReportError("report", f"must be an object, got {_kind(obj)}")
        if obj.get("ip") in (None, ""):
            raise InvalidReportError("ip", "is required")
        version, value = canonical_address(obj["ip"])
        text = ipcore.format_ip(version, value)
        reason = ipcore.classify(version, value)
        if reason is not None:
            raise InvalidReportError(
                "ip", f"{text} is not a public address ({reason}); it cannot be listed"
            )
        if (version, value) == self.client:
            raise InvalidReportError(
                "ip", f"{text} is the address this request comes from"
            )
        if self.own.contains(version, value):
            raise InvalidReportError(
                "ip", f"{text} is inside your own allow-listed ranges"
            )
        return Report(
            ip=text,
            category=parse_category(obj.get("category")),
            protocol=parse_protocol(obj.get("protocol")),
            comment=parse_comment(obj.get("comment")),
        )


def _client(text: str | None) -> tuple[int, int] | None:
    if not text:
        return None
    try:
        return canonical_address(text)
    except InvalidReportError:
        return None


def _kind(value: Any) -> str:
    return "null" if value is None else type(value).__name__
