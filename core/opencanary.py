"""OpenCanary JSON log lines to generic sensor events.

Every OpenCanary line has an integer ``logtype``, a ``logdata`` object (keys
mostly upper-case), ``src_host``, ``dst_port`` (-1 when unknown), ``node_id``
and ``utc_time`` (``YYYY-MM-DD HH:MM:SS.ffffff``, UTC). The protocol comes
from the logtype, else from the honeypot port. Internal messages and modules
outside sikker's 16 protocols (TFTP, NTP, VNC, SNMP, RDP, git, ...) are
skipped and counted. OpenCanary has no session ids, so events get the derived
session of their sensor, source, protocol and port (docs/events.md).
"""

from collections import Counter
from collections.abc import Callable, Mapping
from typing import Any

import orjson

from sikker.core.events import normalize
from sikker.errors import InvalidEventError

#: Well-known ports of sikker's protocols (for port scans and unknown logtypes).
PORT_PROTOCOLS: dict[int, str] = {
    21: "ftp",
    22: "ssh",
    23: "telnet",
    25: "smtp",
    80: "http",
    110: "imap",
    139: "smb",
    143: "imap",
    443: "http",
    445: "smb",
    465: "smtp",
    554: "rtsp",
    587: "smtp",
    993: "imap",
    1433: "mssql",
    2222: "ssh",
    2323: "telnet",
    2375: "docker",
    2376: "docker",
    3306: "mysql",
    5060: "sip",
    5432: "postgresql",
    6379: "redis",
    8080: "http",
    8443: "http",
    8554: "rtsp",
    9200: "elasticsearch",
    27017: "mongodb",
}

#: OpenCanary's port-scan logtypes and the ``detail`` of their ``port_scan`` action.
PORT_SCANS: dict[int, str] = {
    5001: "syn",
    5002: "nmap_os",
    5003: "nmap_null",
    5004: "nmap_xmas",
    5005: "nmap_fin",
}

_Fields = dict[str, Any]


def _login(protocol: str) -> Callable[[dict[str, Any]], tuple[str, _Fields]]:
    def convert(data: dict[str, Any]) -> tuple[str, _Fields]:
        return protocol, {
            "event": "login_failed",
            "username": data.get("USERNAME"),
            "password": data.get("PASSWORD"),
        }

    return convert


def _http_get(data: dict[str, Any]) -> tuple[str, _Fields]:
    headers = {
        name: data[key]
        for name, key in (("host", "HOSTNAME"), ("user-agent", "USERAGENT"))
        if data.get(key) is not None
    }
    return "http", {
        "event": "request",
        "method": "GET",
        "path": data.get("PATH"),
        "headers": headers,
    }


def _ssh_version(data: dict[str, Any]) -> tuple[str, _Fields]:
    return "ssh", {"event": "connect", "client_version": data.get("REMOTEVERSION")}


def _smb_file_open(data: dict[str, Any]) -> tuple[str, _Fields]:
    share = str(data.get("SHARENAME") or "")
    path = str(data.get("FILENAME") or "").lstrip("/\\")
    return "smb", {
        "event": "action",
        "action": "smb_file_open",
        "detail": f"{share}/{path}" if path else share,
    }


def _sip(data: dict[str, Any]) -> tuple[str, _Fields]:
    headers = data.get("HEADERS")
    return "sip", {
        "event": "request",
        "headers": headers if isinstance(headers, Mapping) else None,
    }


def _redis(data: dict[str, Any]) -> tuple[str, _Fields]:
    line = f"{data.get('CMD') or ''} {data.get('ARGS') or ''}".strip()
    return "redis", {"event": "query", "query": line}


def _mongodb(data: dict[str, Any]) -> tuple[str, _Fields] | None:
    action = str(data.get("ACTION", ""))
    if action == "mongodb.connection":
        return "mongodb", {"event": "connect"}
    if action == "mongodb.auth_attempt":
        return "mongodb", {"event": "login_failed", "username": data.get("USERNAME")}
    if action == "mongodb.command":
        text = orjson.dumps({str(data.get("COMMAND", "")): data.get("QUERY")})
        return "mongodb", {"event": "query", "query": text.decode()}
    if action == "mongodb.disconnect":
        return "mongodb", {"event": "close"}
    return None


#: Logtypes sikker maps, each to (protocol, fields) or None (skipped).
LOGTYPES: dict[int, Callable[[dict[str, Any]], tuple[str, _Fields] | None]] = {
    2000: _login("ftp"),
    3000: _http_get,
    3001: _login("http"),
    4000: lambda data: ("ssh", {"event": "connect"}),
    4001: _ssh_version,
    4002: _login("ssh"),
    5000: _smb_file_open,
    6001: _login("telnet"),
    7001: _login("http"),  # HTTP proxy authentication
    8001: _login("mysql"),
    9001: _login("mssql"),
    9002: _login("mssql"),  # Windows authentication
    15001: _sip,
    17001: _redis,
    20001: _mongodb,
}
#: Logtypes skipped on purpose: internal messages and out-of-scope protocols.
SKIPPED = frozenset(
    {1000, 1001, 1002, 1003, 1004, 1005, 1006}
    | {10001, 11001, 12001, 13001, 14001, 16001, 18003, 18004, 18005}
)


def _logtype(obj: Mapping[str, Any]) -> int:
    value = obj.get("logtype")
    if isinstance(value, str) and value.isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidEventError("logtype", "must be an integer OpenCanary logtype")
    return value


def _port(value: Any) -> int | None:
    if isinstance(value, str) and value.isdigit():
        value = int(value)
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 65535:
        return value
    return None


class OpenCanaryAdapter:
    """Turns OpenCanary log objects into normalised events."""

    def __init__(self, accept_private: bool = False, sensor: str | None = None) -> None:
        self.accept_private = accept_private
        self.sensor = sensor
        self.skipped: Counter[str] = Counter()

    def _convert(self, logtype: int, data: dict[str, Any], port: int | None) -> Any:
        if logtype in LOGTYPES:
            return LOGTYPES[logtype](data)
        protocol = PORT_PROTOCOLS.get(port) if port is not None else None
        if protocol is None or logtype in SKIPPED:
            return None
        if logtype in PORT_SCANS:
            return protocol, {
                "event": "action",
                "action": "port_scan",
                "detail": PORT_SCANS[logtype],
            }
        return protocol, {"event": "connect"}  # TCP banners, user modules, new types

    def feed(self, obj: Mapping[str, Any]) -> dict[str, Any] | None:
        """Return the normalised event of one OpenCanary object, or None if skipped.

        Raises:
            InvalidEventError: The object is not a usable OpenCanary event.
        """
        logtype = _logtype(obj)
        raw = obj.get("logdata")
        data = (
            {str(k).upper(): v for k, v in raw.items()}
            if isinstance(raw, Mapping)
            else {}
        )
        port = _port(obj.get("dst_port"))
        converted = self._convert(logtype, data, port)
        if converted is None:
            self.skipped[f"opencanary.{logtype}"] += 1
            return None
        protocol, fields = converted
        ts = obj.get("utc_time") or obj.get("local_time")
        if ts is None:
            raise InvalidEventError("utc_time", "is required in an OpenCanary event")
        if not obj.get("src_host"):
            raise InvalidEventError("src_host", "is required in an OpenCanary event")
        generic = {
            **fields,
            "ts": ts,
            "sensor": obj.get("node_id"),
            "src_ip": obj["src_host"],
            "protocol": protocol,
            "dst_port": port,
        }
        return normalize(generic, self.accept_private, self.sensor)
