"""TAXII query parameters: ``added_after``, ``limit``, ``next``, ``match[...]``.

``next`` is an opaque token: the position of the next object (its group's
date added and address, and its index in the group), the snapshot sequence
it was cut from, the collection and a digest of the filters. A token used
with other filters or another collection is refused (400), like medallion
does; a token from an older snapshot continues at the same position.
"""

import base64
import binascii
import hashlib
from dataclasses import dataclass
from datetime import datetime

import falcon
import orjson

from sikker.core.stix import stix_time
from sikker.core.stix_feed import ObjectFilter, Position
from sikker.errors import InvalidFilterError

MATCH_FIELDS = ("type", "id", "version", "spec_version")
KNOWN = {"added_after", "limit", "next", "offset", "key"} | {
    f"match[{name}]" for name in MATCH_FIELDS
}
_TOKEN_VERSION = 1


@dataclass(frozen=True)
class Query:
    """A parsed TAXII request."""

    filters: ObjectFilter
    added_after: int | None
    limit: int
    start: Position | None
    offset: int
    digest: str

    def token(self, collection: str, sequence: int, at: Position) -> str:
        """Return the ``next`` token of position ``at``."""
        raw = orjson.dumps(
            [_TOKEN_VERSION, collection, self.digest, sequence,
             at.added, at.ip16.hex(), at.item]
        )  # fmt: skip
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def parse(req: falcon.Request, collection: str, max_limit: int) -> Query:
    """Parse and check the query parameters of a TAXII request.

    Raises:
        InvalidFilterError: naming the parameter at fault.
    """
    params = {name: _values(req, name) for name in req.params}
    unknown = sorted(set(params) - KNOWN)
    if unknown:
        raise InvalidFilterError(
            unknown[0], f"unknown parameter; known: {', '.join(sorted(KNOWN))}"
        )
    filters = ObjectFilter(
        types=_set(params, "match[type]"),
        ids=_set(params, "match[id]"),
        versions=_versions(params.get("match[version]")),
        spec_versions=_set(params, "match[spec_version]"),
    )
    added_after = _timestamp(_single(params, "added_after"), "added_after")
    digest = _digest(filters)
    return Query(
        filters=filters,
        added_after=added_after,
        limit=_limit(_single(params, "limit"), max_limit),
        start=_position(_single(params, "next"), collection, digest),
        offset=_offset(_single(params, "offset")),
        digest=digest,
    )


def sequence_of(token: str) -> int | None:
    """Return the snapshot sequence a ``next`` token was cut from."""
    try:
        return int(_decode(token)[3])
    except (ValueError, IndexError, TypeError):
        return None


def _values(req: falcon.Request, name: str) -> list[str]:
    value = req.params[name]
    return value if isinstance(value, list) else [value]


def _single(params: dict[str, list[str]], name: str) -> str | None:
    values = params.get(name)
    if not values:
        return None
    if len(values) > 1:
        raise InvalidFilterError(name, "given more than once")
    return values[0]


def _set(params: dict[str, list[str]], name: str) -> frozenset[str] | None:
    values = params.get(name)
    if values is None:
        return None
    items = {item.strip() for value in values for item in value.split(",")}
    items.discard("")
    if not items:
        raise InvalidFilterError(name, "expected a comma-separated list of values")
    return frozenset(items)


def _versions(values: list[str] | None) -> frozenset[str] | None:
    if values is None:
        return None
    out = set()
    for value in values:
        for item in (v.strip() for v in value.split(",")):
            if item in ("first", "last", "all"):
                out.add(item)
            elif item:
                out.add(_normal_time(item, "match[version]"))
    if not out:
        raise InvalidFilterError("match[version]", "expected first, last, all or times")
    return frozenset(out)


def _parse_time(text: str, name: str) -> datetime:
    try:
        when = datetime.fromisoformat(text.strip().replace(" ", "+"))
    except ValueError:
        raise InvalidFilterError(
            name, f"expected an RFC 3339 timestamp (2026-01-31T12:00:00Z), got {text!r}"
        ) from None
    if when.tzinfo is None:
        raise InvalidFilterError(name, f"the timestamp {text!r} needs a time zone (Z)")
    return when


def _normal_time(text: str, name: str) -> str:
    """Return a timestamp as the served versions spell it (or as given)."""
    when = _parse_time(text, name)
    if when.microsecond:
        return text  # served versions are whole seconds: matches none
    return stix_time(int(when.timestamp()))


def _timestamp(text: str | None, name: str) -> int | None:
    """Return the whole epoch seconds of a timestamp (rounded down)."""
    if text is None:
        return None
    return int(_parse_time(text, name).timestamp() // 1)


def _limit(text: str | None, max_limit: int) -> int:
    if text is None:
        return max_limit
    return min(_integer(text, "limit", 1), max_limit)


def _offset(text: str | None) -> int:
    return 0 if text is None else _integer(text, "offset", 0)


def _integer(text: str, name: str, low: int) -> int:
    try:
        number = int(text)
    except ValueError:
        raise InvalidFilterError(name, f"expected an integer, got {text!r}") from None
    if number < low:
        raise InvalidFilterError(name, f"must be {low} or more, got {number}")
    return number


def _digest(filters: ObjectFilter) -> str:
    """Fingerprint the match filters a ``next`` token is bound to.

    ``added_after`` is left out: a token's position already lies past it and
    a page starts after both, so clients that drop ``added_after`` when they
    follow ``next`` (Elastic's TAXII integration) keep paging.
    """
    parts = [
        sorted(getattr(filters, name) or [])
        for name in ("types", "ids", "versions", "spec_versions")
    ]
    raw = orjson.dumps(parts)
    return hashlib.sha256(raw).hexdigest()[:16]


def _decode(token: str) -> list:
    padded = token + "=" * (-len(token) % 4)
    return list(orjson.loads(base64.urlsafe_b64decode(padded.encode("ascii"))))


def _position(token: str | None, collection: str, digest: str) -> Position | None:
    if token is None:
        return None
    bad = InvalidFilterError("next", "not a 'next' value this server gave out")
    try:
        version, owner, their_digest, _, added, ip16, index = _decode(token)
        position = Position(int(added), bytes.fromhex(ip16), int(index))
    except (ValueError, TypeError, UnicodeEncodeError, binascii.Error):
        raise bad from None
    if version != _TOKEN_VERSION:
        raise bad
    if owner != collection or their_digest != digest:
        raise InvalidFilterError(
            "next", "'next' belongs to another collection or other filters"
        )
    return position
