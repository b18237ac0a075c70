"""The generic sensor event schema: validate one event and normalise it.

A sensor event is a JSON object. :func:`normalize` turns it into a plain dict
with the keys ``ts``, ``sensor``, ``session``, ``src_ip``, ``protocol`` and
``event``, plus the optional fields of its event type (:data:`EVENT_TYPES`).
Unknown fields are dropped, strings are capped (:data:`SHORT_CAP`,
:data:`LONG_CAP`) and every problem raises :class:`InvalidEventError` naming
the field. docs/events.md is the reference.
"""

import hashlib
import math
import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from sikker.core import ipcore
from sikker.core.vocab import PROTOCOLS
from sikker.errors import InvalidAddressError, InvalidEventError

#: Event types and their optional fields, in output order.
EVENT_TYPES: dict[str, tuple[str, ...]] = {
    "connect": ("dst_port", "client_version"),
    "login_failed": ("username", "password", "fingerprint"),
    "login_success": ("username", "password", "fingerprint"),
    "command": ("command",),
    "request": ("method", "path", "headers", "body"),
    "query": ("query",),
    "file_download": ("url", "sha256"),
    "file_upload": ("filename", "sha256"),
    "email": ("sender", "recipients", "subject", "body"),
    "tcpip_forward": ("target",),
    "password_change": ("username",),
    "action": ("action", "detail"),
    "close": ("duration_ms",),
}
#: Fields an event type cannot do without.
REQUIRED: dict[str, tuple[str, ...]] = {
    "command": ("command",),
    "query": ("query",),
    "tcpip_forward": ("target",),
    "action": ("action",),
}
#: Event types that need at least one of these fields.
ONE_OF: dict[str, tuple[str, ...]] = {
    "file_download": ("url", "sha256"),
    "file_upload": ("filename", "sha256"),
}
#: Event types that only make sense on some protocols.
PROTOCOLS_OF: dict[str, frozenset[str]] = {
    "request": frozenset({"http", "docker", "elasticsearch", "rtsp", "sip"}),
    "query": frozenset({"mysql", "postgresql", "mssql", "redis", "mongodb"}),
    "email": frozenset({"smtp", "imap"}),
}
#: Other spellings of protocol names sensors use.
PROTOCOL_ALIASES: dict[str, str] = {
    "postgres": "postgresql",
    "pgsql": "postgresql",
    "mongo": "mongodb",
    "elastic": "elasticsearch",
    "https": "http",
    "sqlserver": "mssql",
    "tds": "mssql",
}

#: Bytes (UTF-8) kept of short text fields (names, credentials, URLs' hosts...).
SHORT_CAP = 1024
#: Bytes (UTF-8) kept of long text fields (commands, bodies, queries, ...).
LONG_CAP = 8192
#: Longest sensor name or session id (characters); longer ones are rejected.
ID_CAP = 128
#: Headers kept per request, and bytes kept of each header name and value.
MAX_HEADERS, HEADER_NAME_CAP, HEADER_VALUE_CAP = 64, 256, 4096
#: Recipients kept per email.
MAX_RECIPIENTS = 100
#: Accepted timestamps: 2000-01-01 up to (excluding) 2100-01-01 UTC, in ms.
TS_MIN, TS_MAX = 946_684_800_000, 4_102_444_800_000
#: Numbers below this are epoch seconds, at or above it epoch milliseconds.
_MS_THRESHOLD = 100_000_000_000

_ACTION = re.compile(r"[a-z0-9][a-z0-9_.:-]{0,63}")
_SHA256 = re.compile(r"[0-9a-f]{64}")
_NUMBER = re.compile(r"\d{1,15}(\.\d+)?")
_PROTOCOL_SET = frozenset(PROTOCOLS)
_LONG_FIELDS = frozenset({"command", "body", "query", "detail", "path", "url"})


def cap_text(text: str, limit: int) -> str:
    """Return ``text`` cut to at most ``limit`` UTF-8 bytes (whole characters)."""
    if len(text) * 4 <= limit:
        return text
    data = text.encode("utf-8", "surrogatepass")
    if len(data) <= limit:
        return text
    return data[:limit].decode("utf-8", "ignore")


def _text(field: str, value: Any, limit: int) -> str:
    if isinstance(value, str):
        return cap_text(value, limit)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    raise InvalidEventError(field, f"must be a string, got {_kind(value)}")


def _kind(value: Any) -> str:
    return "null" if value is None else type(value).__name__


def parse_ts(value: Any, field: str = "ts") -> int:
    """Return epoch milliseconds (UTC) from ISO 8601 text or an epoch number.

    Numbers (or numeric strings) below 10^11 are seconds, others milliseconds.
    ISO 8601 text without an offset is UTC.
    """
    if type(value) is str and "-" in value[4:5]:
        try:  # PERF: the common case (extended ISO 8601 from a sensor) first
            moment = datetime.fromisoformat(value)
        except ValueError:
            pass
        else:
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=UTC)
            return _checked_ms(round(moment.timestamp() * 1000), field)
    if isinstance(value, str) and _NUMBER.fullmatch(value.strip()):
        value = float(value)
    if isinstance(value, bool) or value is None:
        raise InvalidEventError(field, f"must be a timestamp, got {_kind(value)}")
    if isinstance(value, int | float):
        if not math.isfinite(value):
            raise InvalidEventError(field, "must be a finite number")
        ms_float = value * 1000 if value < _MS_THRESHOLD else value
        if not math.isfinite(ms_float):  # -1e307 seconds: no such millisecond
            raise InvalidEventError(field, "must be between 2000-01-01 and 2100-01-01")
        ms = round(ms_float)
    elif isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.strip())
        except ValueError:
            raise InvalidEventError(
                field, f"{value[:64]!r} is not an ISO 8601 time or an epoch number"
            ) from None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        ms = round(moment.timestamp() * 1000)
    else:
        raise InvalidEventError(field, f"must be a timestamp, got {_kind(value)}")
    return _checked_ms(ms, field)


def _checked_ms(ms: int, field: str) -> int:
    if not TS_MIN <= ms < TS_MAX:
        raise InvalidEventError(field, "must be between 2000-01-01 and 2100-01-01")
    return ms


def parse_source(value: Any, accept_private: bool = False) -> str:
    """Return the canonical text of a public source address.

    IPv4-mapped IPv6 (``::ffff:a.b.c.d``) becomes IPv4. Non-public addresses
    are rejected unless ``accept_private``.
    """
    if not isinstance(value, str):
        raise InvalidEventError("src_ip", f"must be a string, got {_kind(value)}")
    return _source(value, accept_private)


# PERF: a session's events repeat its source address; errors are not cached.
@lru_cache(maxsize=1 << 16)
def _source(value: str, accept_private: bool) -> str:
    try:
        version, number = ipcore.parse_ip(value.strip())
    except InvalidAddressError as ex:
        raise InvalidEventError("src_ip", f"{value[:64]!r}: {ex.reason}") from None
    if version == 6 and number >> 32 == 0xFFFF:
        version, number = 4, number & 0xFFFFFFFF
    text = ipcore.format_ip(version, number)
    reason = ipcore.classify(version, number)
    if reason is not None and not accept_private:
        raise InvalidEventError(
            "src_ip",
            f"{text} is not a public address ({reason}); only public sources "
            "are accepted unless the setting accept_private_sources is on",
        )
    return text


def parse_protocol(value: Any) -> str:
    """Return a protocol of :data:`PROTOCOLS` (case-insensitive, aliases)."""
    if not isinstance(value, str):
        raise InvalidEventError("protocol", f"must be a string, got {_kind(value)}")
    if value in _PROTOCOL_SET:
        return value
    name = value.strip().lower()
    name = PROTOCOL_ALIASES.get(name, name)
    if name not in PROTOCOLS:
        raise InvalidEventError(
            "protocol",
            f"unknown protocol {value[:32]!r}; expected one of {', '.join(PROTOCOLS)}",
        )
    return name


def _identifier(field: str, value: Any) -> str:
    if type(value) is str and 0 < len(value) <= ID_CAP and value == value.strip():
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        raise InvalidEventError(field, f"must be a string, got {_kind(value)}")
    text = value.strip()
    if not text:
        raise InvalidEventError(field, "must not be empty")
    if len(text) > ID_CAP:
        raise InvalidEventError(field, f"longer than {ID_CAP} characters")
    return text


def parse_port(value: Any, field: str = "dst_port") -> int:
    """Return a port number 0-65535 (ints or digit strings)."""
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidEventError(field, f"must be an integer, got {_kind(value)}")
    if not 0 <= value <= 65535:
        raise InvalidEventError(field, f"port {value} is out of range 0-65535")
    return value


def derive_session(sensor: str, src_ip: str, protocol: str, dst_port: Any) -> str:
    """Return the stable session id of events that carry none."""
    port = "" if dst_port is None else str(dst_port)
    key = f"{sensor}\x1f{src_ip}\x1f{protocol}\x1f{port}".encode()
    return "auto-" + hashlib.sha256(key).hexdigest()[:20]


# -- optional fields ------------------------------------------------------------------


def _duration(field: str, value: Any) -> int:
    if isinstance(value, str) and _NUMBER.fullmatch(value.strip()):
        value = float(value)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidEventError(field, f"must be a number, got {_kind(value)}")
    if not math.isfinite(value) or value < 0:
        raise InvalidEventError(field, "must be a non-negative number")
    return round(value)


def _sha256(field: str, value: Any) -> str:
    text = _text(field, value, 128).strip().lower()
    if not _SHA256.fullmatch(text):
        raise InvalidEventError(field, "must be 64 hexadecimal digits (SHA-256)")
    return text


def _action(field: str, value: Any) -> str:
    text = _text(field, value, 128).strip().lower()
    if not _ACTION.fullmatch(text):
        raise InvalidEventError(
            field, "must be 1-64 characters of a-z, 0-9, '_', '.', ':' or '-'"
        )
    return text


def _headers(field: str, value: Any) -> dict[str, str]:
    if not isinstance(value, Mapping):
        raise InvalidEventError(field, f"must be an object, got {_kind(value)}")
    headers: dict[str, str] = {}
    for name, item in value.items():
        if len(headers) == MAX_HEADERS:
            break
        if isinstance(item, list):  # repeated headers (SIP, some HTTP loggers)
            item = ", ".join(str(v) for v in item)
        key = cap_text(str(name), HEADER_NAME_CAP).strip().lower()
        if key:
            headers[key] = _text(f"{field}.{key}", item, HEADER_VALUE_CAP)
    return headers


def _recipients(field: str, value: Any) -> list[str]:
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list):
        raise InvalidEventError(field, f"must be a list of strings, got {_kind(value)}")
    return [_text(field, item, SHORT_CAP) for item in items[:MAX_RECIPIENTS]]


def _target(field: str, value: Any) -> str:
    text = _text(field, value, SHORT_CAP).strip()
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit() or int(port) > 65535:
        raise InvalidEventError(field, f"{text[:64]!r} is not 'host:port'")
    return text


def _plain(field: str, value: Any) -> str:
    return _text(field, value, LONG_CAP if field in _LONG_FIELDS else SHORT_CAP)


_FIELDS: dict[str, Callable[[str, Any], Any]] = {
    "dst_port": lambda f, v: parse_port(v, f),
    "duration_ms": _duration,
    "sha256": _sha256,
    "action": _action,
    "headers": _headers,
    "recipients": _recipients,
    "target": _target,
    "method": lambda f, v: _text(f, v, 32).strip().upper(),
}


def normalize(
    obj: Any, accept_private: bool = False, sensor: str | None = None
) -> dict[str, Any]:
    """Validate a generic event and return its normalised form.

    Args:
        obj: The decoded JSON object.
        accept_private: Accept non-public ``src_ip`` (the setting
            ``accept_private_sources``).
        sensor: Record the event under this sensor name, whatever it says.

    Raises:
        InvalidEventError: A field is missing or wrong; it names the field.
    """
    if not isinstance(obj, Mapping):
        raise InvalidEventError("event", f"must be a JSON object, got {_kind(obj)}")
    kind = obj.get("event")
    if not isinstance(kind, str) or kind not in EVENT_TYPES:
        what = repr(kind)[:40] if kind is not None else "missing"
        raise InvalidEventError(
            "event", f"{what}; expected one of {', '.join(EVENT_TYPES)}"
        )
    for name in ("ts", "src_ip", "protocol"):
        if obj.get(name) is None:
            raise InvalidEventError(name, "is required")
    ts = parse_ts(obj["ts"])
    src_ip = parse_source(obj["src_ip"], accept_private)
    protocol = parse_protocol(obj["protocol"])
    allowed = PROTOCOLS_OF.get(kind)
    if allowed is not None and protocol not in allowed:
        raise InvalidEventError(
            "protocol",
            f"{kind!r} events are for {', '.join(sorted(allowed))}, not {protocol}",
        )
    if sensor is None:
        if obj.get("sensor") is None:
            raise InvalidEventError("sensor", "is required")
        sensor = obj["sensor"]
    name = _identifier("sensor", sensor)
    session = obj.get("session")
    if session is None or session == "":
        session = derive_session(name, src_ip, protocol, obj.get("dst_port"))
    event: dict[str, Any] = {
        "ts": ts,
        "sensor": name,
        "session": _identifier("session", session),
        "src_ip": src_ip,
        "protocol": protocol,
        "event": kind,
    }
    for field in EVENT_TYPES[kind]:
        value = obj.get(field)
        if value is not None:
            event[field] = _FIELDS.get(field, _plain)(field, value)
    for field in REQUIRED.get(kind, ()):
        if not event.get(field):
            raise InvalidEventError(field, f"is required for {kind!r} events")
    choices = ONE_OF.get(kind)
    if choices and not any(event.get(f) for f in choices):
        raise InvalidEventError(
            choices[0], f"{kind!r} events need {' or '.join(choices)}"
        )
    return event
