"""Evidence fields of a normalised event: what the catalog's primitives inspect.

:func:`extract` maps one normalised sensor event (see
:mod:`sikker.core.events`) to ``(field, value)`` pairs, where each field is
one of :data:`sikker.builder.catalog.FIELDS`. A field may appear several times
(every HTTP header, every SMTP recipient). docs/catalog.md has the table.

Session-level actions (``connect_only``) are not derived here: they need the
whole session and are the engine's job (:mod:`sikker.builder.engine`).
"""

from collections.abc import Callable, Collection, Iterable
from typing import Any

import orjson

Pairs = list[tuple[str, str]]

#: Event types that carry no payload: a session of only these is connect-only.
QUIET_EVENTS = frozenset({"connect", "close", "action"})

#: ``action`` events that carry a protocol-specific field: the action names
#: the field (as docs/events.md suggests: ``ftp_command`` with the command as
#: ``detail``), and the event's ``detail`` is the value.
ACTION_FIELD_NAMES = frozenset(
    {"ftp_command", "smtp_command", "imap_command", "smb_command", "smb_share"}
)
#: Other action names sensors use for those fields: (protocol or "*", action).
ACTION_ALIASES: dict[tuple[str, str], str] = {
    ("ftp", "command"): "ftp_command",
    ("smtp", "command"): "smtp_command",
    ("imap", "command"): "imap_command",
    ("smb", "command"): "smb_command",
    ("smb", "rpc"): "smb_command",
    ("smb", "negotiate"): "smb_command",
    ("*", "smb_share_connect"): "smb_share",
    ("*", "smb_tree_connect"): "smb_share",
    ("*", "smb_file_open"): "smb_share",  # OpenCanary: detail is share/path
}
#: ``action`` values a sensor may assert itself, copied to the action field.
SENSOR_ACTIONS = frozenset({"relay_attempt"})

#: Where a ``query`` goes, by protocol.
QUERY_FIELDS: dict[str, str] = {
    "mysql": "sql_query",
    "postgresql": "sql_query",
    "mssql": "sql_query",
    "redis": "redis_command",
}
#: Protocols whose requests are HTTP requests with the generic http_* fields.
HTTP_LIKE = frozenset({"http", "elasticsearch"})

_NO_DOMAINS: frozenset[str] = frozenset()


def extract(
    event: dict[str, Any],
    protocol: str | None = None,
    local_domains: Collection[str] = _NO_DOMAINS,
    wanted: Collection[str] | None = None,
) -> Pairs:
    """Return the ``(field, value)`` evidence pairs of one normalised event.

    Args:
        event: A normalised event (``event``, ``protocol`` and its fields).
        protocol: The session's protocol; the event's own by default.
        local_domains: Mail domains the sensors accept mail for (lower case);
            recipients elsewhere make an SMTP ``relay_attempt``.
        wanted: When given, fields that are costly to assemble
            (``http_request``) are only built if listed here.
    """
    handler = HANDLERS.get(event.get("event", ""))
    if handler is None:
        return []
    return handler(event, protocol or event.get("protocol", ""), local_domains, wanted)


def is_payload(event: dict[str, Any], pairs: Pairs) -> bool:
    """Return whether an event is more than a bare connection.

    Logins, commands, requests, queries, transfers, e-mail, forwards and
    password changes are; ``connect`` and ``close`` are not; an ``action``
    event is when it carried evidence (a mapped protocol command).
    """
    kind = event.get("event")
    if kind not in QUIET_EVENTS:
        return True
    return kind == "action" and bool(pairs)


def _connect(event: dict[str, Any], protocol: str, *_: Any) -> Pairs:
    pairs = [("action", "connect")]
    version = event.get("client_version")
    if version is not None:
        pairs.append(("client_version", version))
    return pairs


def _login(event: dict[str, Any], protocol: str, *_: Any) -> Pairs:
    pairs = [("action", event["event"])]
    username, password = event.get("username"), event.get("password")
    if username is not None:
        pairs.append(("username", username))
    if password is not None:
        pairs.append(("password", password))
        if username is not None:
            pairs.append(("credential", f"{username}:{password}"))
    return pairs


def _command(event: dict[str, Any], protocol: str, *_: Any) -> Pairs:
    command = event.get("command")
    if command is None:
        return [("action", "command")]
    return [("action", "command"), ("command", command)]


def _request(
    event: dict[str, Any],
    protocol: str,
    domains: Collection[str],
    wanted: Collection[str] | None,
) -> Pairs:
    method, path = event.get("method"), event.get("path")
    headers: dict[str, str] = event.get("headers") or {}
    body = event.get("body")
    agent = headers.get("user-agent")
    if protocol == "rtsp":
        return _some(("rtsp_method", method), ("rtsp_path", _url_path(path)))
    if protocol == "sip":
        return _some(
            ("sip_method", method), ("sip_uri", path), ("sip_user_agent", agent)
        )
    pairs = _some(("http_method", method), ("http_user_agent", agent))
    pairs.extend(("http_header", f"{name}: {value}") for name, value in headers.items())
    if protocol == "docker":
        pairs.extend(_some(("docker_api_path", path), ("docker_api_body", body)))
        return pairs
    pairs.extend(_some(("http_path", path), ("http_body", body)))
    if wanted is None or "http_request" in wanted:
        pairs.append(("http_request", http_request(method, path, headers, body)))
    return pairs


def http_request(
    method: str | None, path: str | None, headers: dict[str, str], body: str | None
) -> str:
    """Return the whole request as text: request line, headers, blank, body.

    The request line is ``METHOD path`` (the normalised event has no HTTP
    version); lines end with CRLF; header names are lower case.
    """
    line = " ".join(part for part in (method, path) if part)
    lines = [line, *(f"{name}: {value}" for name, value in headers.items())]
    return "\r\n".join(lines) + "\r\n\r\n" + (body or "")


def _url_path(path: str | None) -> str | None:
    """Return the path of an absolute URL: ``rtsp://host:554/live`` -> ``/live``."""
    if path is None or "://" not in path[:10]:
        return path
    rest = path.split("://", 1)[1]
    slash = rest.find("/")
    return rest[slash:] if slash >= 0 else "/"


def _query(event: dict[str, Any], protocol: str, *_: Any) -> Pairs:
    query = event.get("query")
    if query is None:
        return []
    if protocol == "mongodb":
        return _mongodb(query)
    field = QUERY_FIELDS.get(protocol)
    return [(field, query)] if field else []


def _mongodb(query: str) -> Pairs:
    """Return the command name and inserted documents of a MongoDB command.

    The query is the command document as JSON; its first key names the
    command (``{"listDatabases": 1}``). Each document of an ``insert`` is a
    ``mongodb_document`` (compact JSON). Text that is not a JSON object is
    taken as a bare command name (its first word).
    """
    try:
        doc = orjson.loads(query)
    except orjson.JSONDecodeError:
        doc = None
    if not isinstance(doc, dict) or not doc:
        word = query.strip().split(None, 1)
        return [("mongodb_command", word[0])] if word else []
    name = next(iter(doc))
    pairs = [("mongodb_command", name)]
    documents = doc.get("documents")
    if name == "insert" and isinstance(documents, list):
        pairs.extend(("mongodb_document", _json(d)) for d in documents)
    return pairs


def _json(value: Any) -> str:
    try:
        return orjson.dumps(value).decode()
    except TypeError:  # pragma: no cover - JSON text always round-trips
        return str(value)


def _download(event: dict[str, Any], protocol: str, *_: Any) -> Pairs:
    return [("action", "file_download"), *_some(("download_url", event.get("url")))]


def _upload(event: dict[str, Any], protocol: str, *_: Any) -> Pairs:
    filename = event.get("filename")
    return [("action", "file_upload"), *_some(("upload_filename", filename))]


def _email(
    event: dict[str, Any], protocol: str, domains: Collection[str], *_: Any
) -> Pairs:
    sender, body = event.get("sender"), event.get("body")
    recipients: list[str] = event.get("recipients") or []
    pairs = _some(("smtp_sender", sender))
    pairs.extend(("smtp_recipient", r) for r in recipients)
    pairs.extend(_some(("smtp_body", body)))
    if protocol != "smtp":
        return pairs
    if sender is not None:
        pairs.append(("smtp_command", f"MAIL FROM:<{sender}>"))
    pairs.extend(("smtp_command", f"RCPT TO:<{r}>") for r in recipients)
    if body is not None:
        pairs.append(("smtp_command", "DATA"))
    if is_relay(recipients, domains):
        pairs.append(("action", "relay_attempt"))
    return pairs


def is_relay(recipients: Iterable[str], local_domains: Collection[str]) -> bool:
    """Return whether any recipient is in a domain the sensor does not serve.

    A recipient without a domain (``postmaster``) is local. With no
    ``local_domains`` (a honeypot serves no real mail domain) every address
    with a domain is a relay attempt.
    """
    for recipient in recipients:
        address = recipient.strip()
        if "<" in address:
            address = address[address.rfind("<") + 1 :]
        _, at, domain = address.rpartition("@")
        domain = domain.strip().rstrip(">. ").lower()
        if at and domain and domain not in local_domains:
            return True
    return False


def _forward(event: dict[str, Any], protocol: str, *_: Any) -> Pairs:
    return [
        ("action", "tcpip_forward"),
        *_some(("forward_target", event.get("target"))),
    ]


def _password_change(event: dict[str, Any], protocol: str, *_: Any) -> Pairs:
    return [("action", "password_change")]


def _action(event: dict[str, Any], protocol: str, *_: Any) -> Pairs:
    action = event.get("action") or ""
    if action in SENSOR_ACTIONS:
        return [("action", action)]
    if action in ACTION_FIELD_NAMES:
        field: str | None = action
    else:
        field = ACTION_ALIASES.get((protocol, action)) or ACTION_ALIASES.get(
            ("*", action)
        )
    detail = event.get("detail")
    if field is None or detail is None:
        return []
    if action == "smb_file_open":
        detail = detail.split("/", 1)[0]
    return [(field, detail)]


def _some(*pairs: tuple[str, str | None]) -> Pairs:
    return [(field, value) for field, value in pairs if value is not None]


#: The extractor of each event type: ``(event, protocol, local_domains,
#: wanted) -> pairs``.
HANDLERS: dict[str, Callable[..., Pairs]] = {
    "connect": _connect,
    "login_failed": _login,
    "login_success": _login,
    "command": _command,
    "request": _request,
    "query": _query,
    "file_download": _download,
    "file_upload": _upload,
    "email": _email,
    "tcpip_forward": _forward,
    "password_change": _password_change,
    "action": _action,
}
