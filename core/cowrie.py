"""Cowrie JSON log lines (``cowrie.json``) to generic sensor events.

Cowrie writes one JSON object per event, joined by a 12-hex ``session`` id.
Old versions put ``protocol`` and ``dst_port`` only on ``session.connect``, so
:class:`CowrieAdapter` keeps a bounded per-session cache (protocol,
honeypot port, client version, source address) filled by earlier events of
the same session. Operational and plugin events are skipped and counted,
never errors. docs/events.md lists the mapping.
"""

from collections import Counter, OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sikker.core.events import normalize
from sikker.errors import InvalidEventError

#: Sessions remembered for joining (least recently used ones are forgotten).
MAX_SESSIONS = 100_000
#: Honeypot ports that mean telnet when an old log does not say.
TELNET_PORTS = frozenset({23, 2223, 2323})

#: Event ids with nothing to score: operational, plugins, duplicates.
SKIPPED = frozenset(
    {
        "cowrie.client.size",
        "cowrie.session.params",
        "cowrie.command.success",  # repeats a cowrie.command.input
        "cowrie.log.open",
        "cowrie.log.closed",  # the tty log, not the session
        "cowrie.direct-tcpip.redirect",
        "cowrie.direct-tcpip.tunnel",
        "cowrie.direct-tcpip.ja4",
        "cowrie.direct-tcpip.ja4h",
        "cowrie.tunnelproxy-tcpip.data",
        "cowrie.telnet.option",
        "cowrie.telnet.error",
    }
)
#: Prefixes of plugin events (lookups and submissions about the attacker).
PLUGIN_PREFIXES = (
    "cowrie.reversedns.",
    "cowrie.virustotal.",
    "cowrie.greynoise.",
    "cowrie.urlhaus.",
    "cowrie.malwarebazaar.",
    "cowrie.abuseipdb.",
    "cowrie.proxy.",
    "cowrie.ttylog.",
)


@dataclass
class _Session:
    protocol: str | None = None
    dst_port: int | None = None
    client_version: str | None = None
    src_ip: str | None = None


def clean_version(value: Any) -> str | None:
    """Return an SSH client banner without old Cowrie's ``b'...'`` wrapping."""
    if not isinstance(value, str):
        return None
    text = value.strip()
    if len(text) >= 3 and text[0] == "b" and text[1] in "'\"" and text[-1] == text[1]:
        text = text[2:-1]
    return text or None


def _port(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int) and 0 <= value <= 65535:
        return value
    if isinstance(value, str) and value.isdigit() and int(value) <= 65535:
        return int(value)
    return None


def _duration_ms(obj: Mapping[str, Any]) -> Any:
    """Return ``duration_ms`` (3.0.10+) or ``duration`` seconds (float or text)."""
    if obj.get("duration_ms") is not None:
        return obj["duration_ms"]
    seconds = obj.get("duration")
    if seconds is None:
        return None
    try:
        return round(float(seconds) * 1000)
    except (TypeError, ValueError):
        raise InvalidEventError(
            "duration", f"{str(seconds)[:32]!r} is not a number of seconds"
        ) from None


def _target(obj: Mapping[str, Any]) -> str | None:
    host, port = obj.get("dst_ip"), obj.get("dst_port")
    if host is None or port is None:
        return None
    host = str(host)
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"{host}:{port}"


def _joined(*parts: Any) -> str:
    return " ".join(str(p) for p in parts if p is not None and p != "")


def _mapping(eventid: str, obj: Mapping[str, Any]) -> dict[str, Any] | None:  # noqa: C901
    """Return the generic event type and fields of one Cowrie event."""
    name = eventid.removeprefix("cowrie.")
    if name == "session.connect":
        return {"event": "connect", "dst_port": obj.get("dst_port")}
    if name == "client.version":
        return {"event": "connect", "client_version": clean_version(obj.get("version"))}
    if name in ("login.failed", "login.success"):
        return {
            "event": "login_" + name.split(".")[1],
            "username": obj.get("username"),
            "password": obj.get("password"),
            "fingerprint": obj.get("fingerprint"),
        }
    if name == "client.fingerprint":  # a public key offered; Cowrie refuses keys
        return {
            "event": "login_failed",
            "username": obj.get("username"),
            "fingerprint": obj.get("fingerprint"),
        }
    if name == "command.input":
        return {"event": "command", "command": obj.get("input")}
    if name == "command.failed":
        return {
            "event": "action",
            "action": "command_not_found",
            "detail": obj.get("input"),
        }
    if name == "command.chpasswd":
        return {"event": "password_change", "username": obj.get("username")}
    if name == "session.input":
        return {"event": "action", "action": "stdin", "detail": obj.get("input")}
    if name in ("session.file_download", "session.file_download.failed"):
        return {
            "event": "file_download",
            "url": obj.get("url"),
            "sha256": obj.get("shasum"),
        }
    if name == "session.file_upload":
        return {
            "event": "file_upload",
            "filename": obj.get("filename"),
            "sha256": obj.get("shasum"),
        }
    if name == "direct-tcpip.request":
        return {"event": "tcpip_forward", "target": _target(obj)}
    if name == "direct-tcpip.data":
        detail = _joined(_target(obj), obj.get("data"))
        return {"event": "action", "action": "tcpip_data", "detail": detail}
    if name == "client.kex":
        return {"event": "action", "action": "ssh_kex", "detail": obj.get("hassh")}
    if name == "client.var":
        detail = f"{obj.get('name', '')}={obj.get('value', '')}"
        return {"event": "action", "action": "env", "detail": detail}
    if name == "client.malformed_packet":
        return {"event": "action", "action": "malformed_packet"}
    if name in ("telnet.exploit_attempt", "telnet.exploit_success"):
        detail = _joined(obj.get("cve"), obj.get("name"), obj.get("value"))
        return {"event": "action", "action": name.replace(".", "_"), "detail": detail}
    if name == "session.closed":
        return {"event": "close", "duration_ms": _duration_ms(obj)}
    return None


def _guess_protocol(eventid: str, session: _Session) -> str:
    if eventid.startswith("cowrie.telnet."):
        return "telnet"
    if session.dst_port in TELNET_PORTS:
        return "telnet"
    return "ssh"


class CowrieAdapter:
    """Turns Cowrie events into normalised events, joining them by session."""

    def __init__(
        self,
        accept_private: bool = False,
        sensor: str | None = None,
        max_sessions: int = MAX_SESSIONS,
    ) -> None:
        self.accept_private = accept_private
        self.sensor = sensor
        self.max_sessions = max_sessions
        self.skipped: Counter[str] = Counter()
        self._sessions: OrderedDict[tuple[str, str], _Session] = OrderedDict()

    def _session(self, key: tuple[str, str]) -> _Session:
        session = self._sessions.get(key)
        if session is None:
            session = self._sessions[key] = _Session()
            if len(self._sessions) > self.max_sessions:
                self._sessions.popitem(last=False)
        else:
            self._sessions.move_to_end(key)
        return session

    def _remember(
        self, eventid: str, obj: Mapping[str, Any], session: _Session
    ) -> None:
        forward = eventid.startswith("cowrie.direct-tcpip.")
        if isinstance(obj.get("protocol"), str):
            session.protocol = obj["protocol"]
        if not forward:  # a forward's dst_* is the requested target
            port = _port(obj.get("dst_port"))
            if port is not None and (
                session.dst_port is None or eventid == "cowrie.session.connect"
            ):
                session.dst_port = port
            if session.src_ip is None and isinstance(obj.get("src_ip"), str):
                session.src_ip = obj["src_ip"]
        if eventid == "cowrie.client.version":
            session.client_version = clean_version(obj.get("version"))

    def feed(self, obj: Mapping[str, Any]) -> dict[str, Any] | None:
        """Return the normalised event of one Cowrie object, or None if skipped.

        Raises:
            InvalidEventError: The object is not a usable Cowrie event.
        """
        eventid = obj.get("eventid")
        if not isinstance(eventid, str) or not eventid:
            raise InvalidEventError("eventid", "is required in a Cowrie event")
        sensor = self.sensor or obj.get("sensor") or obj.get("uuid")
        key = (str(sensor), str(obj.get("session", "")))
        session = self._session(key)
        self._remember(eventid, obj, session)
        if eventid in SKIPPED or eventid.startswith(PLUGIN_PREFIXES):
            self.skipped[eventid] += 1
            return None
        fields = _mapping(eventid, obj)
        if fields is None:
            self.skipped[eventid] += 1
            return None
        if fields["event"] == "connect":
            if fields.get("dst_port") is None:
                fields["dst_port"] = session.dst_port
            if fields.get("client_version") is None:
                fields["client_version"] = session.client_version
        if obj.get("timestamp") is None:
            raise InvalidEventError("timestamp", "is required in a Cowrie event")
        src_ip = obj.get("src_ip")
        if eventid.startswith("cowrie.direct-tcpip.") and session.src_ip:
            src_ip = session.src_ip  # old Cowrie logged the forward's origin here
        generic = {
            **fields,
            "ts": obj.get("timestamp"),
            "sensor": sensor,
            "session": obj.get("session"),
            "src_ip": src_ip,
            "protocol": session.protocol or _guess_protocol(eventid, session),
        }
        return normalize(generic, self.accept_private, self.sensor)
