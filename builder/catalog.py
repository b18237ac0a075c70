"""The editorial catalog: primitives (atomic indicators) and behaviors.

The catalog is data, not code: ``builder/data/catalog.toml`` ships the starter
catalog and operators may load their own file. It holds two kinds of entry:

* ``[[primitive]]``: one atomic indicator. It inspects one ``field`` of a
  session's evidence (see :data:`FIELDS`) on one of its ``protocols``, with
  one ``match`` kind: ``regex`` (Python :mod:`re`, searched anywhere in the
  value), ``contains``, ``equals``, ``prefix`` or ``glob`` (:mod:`fnmatch`,
  whole value). Matching is case-sensitive; regexes may say ``(?i)``. A
  primitive matches a session when at least ``min_count`` (default 1) of the
  session's values of that field match.
* ``[[behavior]]``: a named composition of primitives with a severity and
  MITRE ATT&CK technique ids. It matches a session on one of its protocols
  when every primitive of ``all`` matches and, if ``any`` is given, at least
  one primitive of ``any`` matches.

Inside a snapshot, behaviors and primitives are referred to by their index in
file order (see :meth:`Catalog.to_snapshot`).
"""

import dataclasses
import re
import tomllib
from fnmatch import translate
from importlib import resources
from pathlib import Path
from typing import Any

from sikker.core.vocab import PROTOCOLS, SEVERITIES, SEVERITY_LEVELS
from sikker.errors import CatalogError

#: How a primitive compares its pattern with a field value.
MATCH_KINDS: tuple[str, ...] = ("regex", "contains", "equals", "prefix", "glob")

#: Evidence fields a primitive may inspect, with what they hold.
FIELDS: dict[str, str] = {
    "action": "a normalised session event, one of ACTIONS",
    "command": "a shell command line (ssh, telnet)",
    "username": "a login user name",
    "password": "a login password",
    "credential": "user name and password joined by a colon",
    "client_version": "the client's protocol banner (e.g. SSH-2.0-Go)",
    "forward_target": "host:port of a tunnel request (SSH direct-tcpip)",
    "download_url": "a URL the client made the sensor fetch",
    "upload_filename": "the name of a file the client uploaded",
    "http_method": "an HTTP request method (http, docker, elasticsearch)",
    "http_path": "an HTTP request target: path and query",
    "http_header": "one HTTP request header, as 'Name: value'",
    "http_user_agent": "the HTTP User-Agent header value",
    "http_body": "an HTTP request body",
    "http_request": "the whole HTTP request: request line, headers and body",
    "sql_query": "a SQL statement (mysql, postgresql, mssql)",
    "smtp_command": "an SMTP command line",
    "smtp_sender": "an SMTP MAIL FROM address",
    "smtp_recipient": "an SMTP RCPT TO address",
    "smtp_body": "the message text after DATA",
    "redis_command": "a Redis command with its arguments, space separated",
    "mongodb_command": "a MongoDB command name (e.g. listDatabases)",
    "mongodb_document": "a document inserted into MongoDB, as JSON",
    "docker_api_path": "a Docker Engine API request path and query",
    "docker_api_body": "a Docker Engine API request body (JSON)",
    "ftp_command": "an FTP command line",
    "imap_command": "an IMAP command line, with its tag",
    "smb_share": "an SMB tree-connect path (e.g. \\\\host\\IPC$)",
    "smb_command": "an SMB command or RPC operation name",
    "rtsp_method": "an RTSP request method",
    "rtsp_path": "an RTSP request path",
    "sip_method": "a SIP request method",
    "sip_uri": "a SIP request URI",
    "sip_user_agent": "the SIP User-Agent header value",
}

#: Values of the ``action`` field (normalised session events).
ACTIONS: tuple[str, ...] = (
    "connect",
    "connect_only",
    "login_failed",
    "login_success",
    "command",
    "file_download",
    "file_upload",
    "password_change",
    "tcpip_forward",
    "relay_attempt",
)

#: Snapshot records store catalog indexes as uint16.
MAX_ENTRIES = 65535

_SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
_MITRE = re.compile(r"T\d{4}(?:\.\d{3})?")
_PRIMITIVE_KEYS = ("id", "description", "protocols", "field", "match", "pattern")
_BEHAVIOR_KEYS = ("id", "name", "description", "severity", "protocols", "mitre")


@dataclasses.dataclass(frozen=True)
class Primitive:
    """An atomic indicator: one field, one match rule, one pattern."""

    id: str
    description: str
    protocols: tuple[str, ...]
    field: str
    match: str
    pattern: str
    min_count: int = 1

    def to_dict(self) -> dict[str, Any]:
        """Return the primitive as a plain JSON-able dict."""
        return {
            "id": self.id,
            "description": self.description,
            "protocols": list(self.protocols),
            "field": self.field,
            "match": self.match,
            "pattern": self.pattern,
            "min_count": self.min_count,
        }


@dataclasses.dataclass(frozen=True)
class Behavior:
    """A named AND/OR composition of primitives with severity and ATT&CK ids."""

    id: str
    name: str
    description: str
    severity: str
    protocols: tuple[str, ...]
    mitre: tuple[str, ...]
    all_of: tuple[str, ...] = ()
    any_of: tuple[str, ...] = ()

    @property
    def level(self) -> int:
        """Return the severity level, 1 (low) to 4 (critical)."""
        return SEVERITY_LEVELS[self.severity]

    @property
    def primitive_ids(self) -> tuple[str, ...]:
        """Return every referenced primitive id, ``all`` first."""
        return self.all_of + self.any_of

    def to_dict(self) -> dict[str, Any]:
        """Return the behavior as a plain JSON-able dict."""
        return {
            "id": self.id,
            "name": self.name,
            "description": self.description,
            "severity": self.severity,
            "protocols": list(self.protocols),
            "mitre": list(self.mitre),
            "all": list(self.all_of),
            "any": list(self.any_of),
        }


@dataclasses.dataclass
class Catalog:
    """A validated catalog; entries keep file order (their snapshot index)."""

    primitives: list[Primitive]
    behaviors: list[Behavior]
    _primitive_ix: dict[str, int] = dataclasses.field(init=False, repr=False)
    _behavior_ix: dict[str, int] = dataclasses.field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._primitive_ix = {p.id: i for i, p in enumerate(self.primitives)}
        self._behavior_ix = {b.id: i for i, b in enumerate(self.behaviors)}

    def primitive(self, primitive_id: str) -> Primitive:
        """Return the primitive with this id (KeyError if unknown)."""
        return self.primitives[self.primitive_index(primitive_id)]

    def behavior(self, behavior_id: str) -> Behavior:
        """Return the behavior with this id (KeyError if unknown)."""
        return self.behaviors[self.behavior_index(behavior_id)]

    def primitive_index(self, primitive_id: str) -> int:
        """Return the snapshot index of a primitive id (KeyError if unknown)."""
        try:
            return self._primitive_ix[primitive_id]
        except KeyError:
            raise KeyError(f"unknown primitive {primitive_id!r}") from None

    def behavior_index(self, behavior_id: str) -> int:
        """Return the snapshot index of a behavior id (KeyError if unknown)."""
        try:
            return self._behavior_ix[behavior_id]
        except KeyError:
            raise KeyError(f"unknown behavior {behavior_id!r}") from None

    def to_snapshot(self) -> dict[str, list[dict[str, Any]]]:
        """Return ``{"behaviors": [...], "primitives": [...]}`` as plain dicts."""
        return {
            "behaviors": [b.to_dict() for b in self.behaviors],
            "primitives": [p.to_dict() for p in self.primitives],
        }


def load_catalog(path: str | Path | None = None) -> Catalog:
    """Load and validate a catalog file; the shipped one when ``path`` is None.

    Raises:
        CatalogError: the file cannot be read, is not TOML, or is invalid;
            the message names the bad entry and field.
    """
    if path is None:
        source = "catalog.toml"
        data = resources.files("sikker.builder").joinpath("data/catalog.toml")
        return parse_catalog(data.read_text(encoding="utf-8"), source)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as ex:
        raise CatalogError(f"{path}: cannot read the catalog: {ex}") from None
    return parse_catalog(text, str(path))


def parse_catalog(text: str, source: str = "<catalog>") -> Catalog:
    """Parse and validate catalog TOML text; ``source`` names it in errors."""
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as ex:
        raise CatalogError(f"{source}: invalid TOML: {ex}") from None
    unknown = sorted(set(doc) - {"primitive", "behavior"})
    if unknown:
        raise CatalogError(
            f"{source}: unknown top-level key {unknown[0]!r}; "
            "expected [[primitive]] and [[behavior]] tables"
        )
    primitives = [_primitive(e) for e in _entries(doc, "primitive", source)]
    behaviors = [_behavior(e) for e in _entries(doc, "behavior", source)]
    _check_unique(primitives, behaviors, source)
    catalog = Catalog(primitives, behaviors)
    for behavior in behaviors:
        _check_references(behavior, catalog, source)
    return catalog


class _Entry:
    """One raw table of the file, with typed getters whose errors name it."""

    def __init__(self, source: str, kind: str, number: int, raw: dict[str, Any]):
        self.raw = raw
        ident = raw.get("id")
        label = repr(ident) if isinstance(ident, str) and ident else f"#{number}"
        self.where = f"{source}: {kind} {label}"

    def error(self, key: str, message: str) -> CatalogError:
        """Return an error naming this entry and ``key``."""
        return CatalogError(f"{self.where}: field {key!r}: {message}")

    def check_keys(self, allowed: tuple[str, ...]) -> None:
        """Reject keys the entry kind does not have (typos)."""
        for key in self.raw:
            if key not in allowed:
                raise self.error(key, f"unknown field; expected {', '.join(allowed)}")

    def text(self, key: str) -> str:
        """Return a required non-empty string."""
        if key not in self.raw:
            raise self.error(key, "missing field")
        value = self.raw[key]
        if not isinstance(value, str) or not value.strip():
            raise self.error(key, "must be a non-empty string")
        return value

    def slug(self, key: str) -> str:
        """Return a required lower-case slug (letters, digits, dashes)."""
        value = self.text(key)
        if not _SLUG.fullmatch(value):
            raise self.error(key, f"{value!r} is not a slug like 'ssh-brute-force'")
        return value

    def choice(self, key: str, options: tuple[str, ...] | dict[str, str]) -> str:
        """Return a required string that is one of ``options``."""
        value = self.text(key)
        if value not in options:
            raise self.error(
                key, f"unknown {key} {value!r}; expected one of {', '.join(options)}"
            )
        return value

    def strings(self, key: str, required: bool = True) -> tuple[str, ...]:
        """Return a list of non-empty strings (empty tuple when optional)."""
        if key not in self.raw:
            if required:
                raise self.error(key, "missing field")
            return ()
        value = self.raw[key]
        if not isinstance(value, list) or not all(
            isinstance(v, str) and v for v in value
        ):
            raise self.error(key, "must be a list of non-empty strings")
        if len(set(value)) != len(value):
            raise self.error(key, "lists an item twice")
        return tuple(value)

    def protocols(self) -> tuple[str, ...]:
        """Return the required, non-empty list of known protocols."""
        values = self.strings("protocols")
        if not values:
            raise self.error("protocols", "needs at least one protocol")
        for name in values:
            if name not in PROTOCOLS:
                expected = ", ".join(PROTOCOLS)
                raise self.error(
                    "protocols",
                    f"unknown protocol {name!r}; expected one of {expected}",
                )
        return values

    def count(self, key: str) -> int:
        """Return an optional positive integer (default 1)."""
        value = self.raw.get(key, 1)
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise self.error(key, "must be a positive integer")
        return value


def _entries(doc: dict[str, Any], kind: str, source: str) -> list[_Entry]:
    tables = doc.get(kind, [])
    if not isinstance(tables, list) or not all(isinstance(t, dict) for t in tables):
        raise CatalogError(f"{source}: {kind!r} must be an array of tables [[{kind}]]")
    if len(tables) > MAX_ENTRIES:
        raise CatalogError(f"{source}: more than {MAX_ENTRIES} {kind} entries")
    return [_Entry(source, kind, i + 1, t) for i, t in enumerate(tables)]


def _primitive(entry: _Entry) -> Primitive:
    entry.check_keys((*_PRIMITIVE_KEYS, "min_count"))
    primitive_id = entry.slug("id")
    description = entry.text("description")
    protocols = entry.protocols()
    field = entry.choice("field", FIELDS)
    match = entry.choice("match", MATCH_KINDS)
    pattern = entry.text("pattern")
    _check_pattern(entry, field, match, pattern)
    return Primitive(
        id=primitive_id,
        description=description,
        protocols=protocols,
        field=field,
        match=match,
        pattern=pattern,
        min_count=entry.count("min_count"),
    )


def _check_pattern(entry: _Entry, field: str, match: str, pattern: str) -> None:
    if match in ("regex", "glob"):
        try:
            re.compile(pattern if match == "regex" else translate(pattern))
        except re.error as ex:
            raise entry.error("pattern", f"invalid {match}: {ex}") from None
    if field == "action" and match == "equals" and pattern not in ACTIONS:
        raise entry.error(
            "pattern",
            f"unknown action {pattern!r}; expected one of {', '.join(ACTIONS)}",
        )


def _behavior(entry: _Entry) -> Behavior:
    entry.check_keys((*_BEHAVIOR_KEYS, "all", "any"))
    behavior_id = entry.slug("id")
    name = entry.text("name")
    description = entry.text("description")
    severity = entry.choice("severity", SEVERITIES)
    protocols = entry.protocols()
    mitre = entry.strings("mitre")
    for technique in mitre:
        if not _MITRE.fullmatch(technique):
            raise entry.error(
                "mitre", f"{technique!r} is not an ATT&CK technique id like T1098.004"
            )
    all_of = entry.strings("all", required=False)
    any_of = entry.strings("any", required=False)
    if not all_of and not any_of:
        raise entry.error("all", "a behavior needs `all` and/or `any` primitive ids")
    return Behavior(
        id=behavior_id,
        name=name,
        description=description,
        severity=severity,
        protocols=protocols,
        mitre=mitre,
        all_of=all_of,
        any_of=any_of,
    )


def _check_unique(
    primitives: list[Primitive], behaviors: list[Behavior], source: str
) -> None:
    for kind, entries in (("primitive", primitives), ("behavior", behaviors)):
        seen: set[str] = set()
        for entry in entries:
            if entry.id in seen:
                raise CatalogError(f"{source}: {kind} {entry.id!r}: duplicate id")
            seen.add(entry.id)


def _check_references(behavior: Behavior, catalog: Catalog, source: str) -> None:
    where = f"{source}: behavior {behavior.id!r}"
    for key, ids in (("all", behavior.all_of), ("any", behavior.any_of)):
        for primitive_id in ids:
            try:
                primitive = catalog.primitive(primitive_id)
            except KeyError:
                raise CatalogError(
                    f"{where}: field {key!r}: unknown primitive {primitive_id!r}"
                ) from None
            if not set(primitive.protocols) & set(behavior.protocols):
                raise CatalogError(
                    f"{where}: field {key!r}: primitive {primitive_id!r} applies "
                    "to none of the behavior's protocols"
                )
    if len(set(behavior.primitive_ids)) != len(behavior.primitive_ids):
        raise CatalogError(f"{where}: field 'any': a primitive is in both all and any")
