"""The check answer as bytes, rendered in one call (the keyed hot path).

:func:`~sikker.core.present.check_payload` builds the answer as a dict: it
is the reference, and what the CLI, the web site and ``explain=true`` use.
Building that dict and serialising it costs more than everything else a
check does, so ``GET /v1/key/check/{ip}`` writes the same bytes directly:
every piece of JSON that depends only on the snapshot (a behavior's fields,
a country's name, an AS organisation, ...) is serialised once per snapshot
into :class:`CheckFragments`, and :func:`sikker.core.render.render_check`
joins those pieces with the numbers and times of one stored record. The
result equals ``orjson.dumps(check_payload(...))`` byte for byte (tested
against the reference on every record of a snapshot, for both twins).
"""

from collections.abc import Callable
from typing import Any, NamedTuple

import orjson

from sikker.core import ipcore, render
from sikker.core.present import catalog_views, geolocation
from sikker.core.snapshot import Snapshot
from sikker.core.vocab import CATEGORIES, PROTOCOLS, SEVERITIES


class Computed(dict[Any, bytes]):
    """A dict that computes (and keeps) a missing entry with ``make``."""

    def __init__(self, make: Callable[[Any], bytes]) -> None:
        super().__init__()
        self.make = make

    def __missing__(self, key: Any) -> bytes:
        value = self[key] = self.make(key)
        return value


class CheckFragments(NamedTuple):
    """Serialised pieces of the check answers of one snapshot.

    Each piece ends where the renderer continues: with a comma after a
    complete member, or just before a number it writes.
    """

    #: Classification (None or a reason) -> ``"isPublic":..,"nonPublicReason":..,``
    publics: Computed
    #: Known-benign source index (0: none) -> ``"whitelist":...,``
    whitelists: list[bytes]
    #: Country index -> ``"geolocation":{"countryCode":..,"countryName":..,``
    countries: list[bytes]
    #: What an index beyond ``countries`` (no country) writes.
    no_country: bytes
    #: AS number (0: none) -> ``"asn":..,"asnOrg":..},``
    asns: Computed
    #: Severity level (0: none) -> ``"maxSeverity":..,``
    severities: list[bytes]
    #: Protocol id -> ``{"protocol":..,"sessions":``
    protocols: list[bytes]
    #: Behavior index -> ``{<its fields>,"count":``
    behaviors: list[bytes]
    #: Primitive index -> ``{<its fields>,"count":``
    primitives: list[bytes]
    #: Report category id - 1 -> ``"<name>":``
    categories: list[bytes]
    #: ``"snapshot":<sequence>}``
    tail: bytes


def _member(name: str, value: Any) -> bytes:
    """Return ``"name":<value>,`` as orjson writes it."""
    return orjson.dumps({name: value})[1:-1] + b","


def _open_object(fields: dict[str, Any], last: str) -> bytes:
    """Return ``{<fields>,"last":`` (an object left open before its last value)."""
    head = orjson.dumps(fields)[:-1]
    return head + (b"," if fields else b"") + orjson.dumps(last) + b":"


def _geolocation_head(snapshot: Snapshot, index: int) -> bytes:
    geo = geolocation(snapshot, index, 0)
    names = {"countryCode": geo["countryCode"], "countryName": geo["countryName"]}
    return b'"geolocation":' + orjson.dumps(names)[:-1] + b","


def _asn(snapshot: Snapshot, asn: int) -> bytes:
    geo = geolocation(snapshot, 0, asn)
    return orjson.dumps({"asn": geo["asn"], "asnOrg": geo["asnOrg"]})[1:] + b","


def _public(reason: str | None) -> bytes:
    return _member("isPublic", reason is None) + _member("nonPublicReason", reason)


def build_fragments(snapshot: Snapshot) -> CheckFragments:
    """Serialise the snapshot-wide pieces of check answers."""
    behaviors, primitives = catalog_views(snapshot)
    sources = snapshot.benign_sources
    return CheckFragments(
        publics=Computed(_public),
        whitelists=[_member("whitelist", None)]
        + [
            _member("whitelist", {"source": s["name"], "discount": s.get("discount")})
            for s in sources
        ],
        countries=[
            _geolocation_head(snapshot, i) for i in range(len(snapshot.countries))
        ],
        no_country=_geolocation_head(snapshot, len(snapshot.countries)),
        asns=Computed(lambda asn: _asn(snapshot, asn)),
        severities=[_member("maxSeverity", None)]
        + [_member("maxSeverity", name) for name in SEVERITIES],
        protocols=[_open_object({"protocol": name}, "sessions") for name in PROTOCOLS],
        behaviors=[_open_object(view, "count") for view in behaviors],
        primitives=[_open_object(view, "count") for view in primitives],
        categories=[orjson.dumps(name) + b":" for name in CATEGORIES],
        tail=b'"snapshot":' + str(snapshot.sequence).encode() + b"}",
    )


_DERIVED = "check_fragments"


def fragments_of(snapshot: Snapshot) -> CheckFragments:
    """Return the snapshot's fragments (built on first use, kept with it)."""
    fragments: CheckFragments = snapshot.derive(_DERIVED, build_fragments)
    return fragments


def check_json(snapshot: Snapshot, ip: str, ignore_whitelist: bool = False) -> bytes:
    """Return the check answer of ``ip`` as JSON bytes.

    Raises:
        InvalidAddressError: ``ip`` is not an IPv4/IPv6 address.
    """
    ip16 = ipcore.to_ip16(ip)
    return render.render_check(
        ip, ip16, snapshot.stored16(ip16), ignore_whitelist, fragments_of(snapshot)
    )
