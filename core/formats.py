"""Blacklist formats by name: what ``format=`` and ``sikker blacklist --format`` accept.

Every format but ``json`` is streamed as byte chunks by :func:`render`.
docs/integrations.md says what to do with each.
"""

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass

from sikker.core import format_firewall, format_lists, format_tables
from sikker.core.format_base import Export
from sikker.core.format_names import FORMAT_NAMES
from sikker.errors import InvalidFilterError

TEXT = "text/plain; charset=utf-8"
#: Query parameters of the formats, beside the filters (core.filters.PARAMS).
FORMAT_PARAMS = ("format", "setName", "tableName")


@dataclass(frozen=True)
class Format:
    """One blacklist format."""

    name: str
    content_type: str
    render: Callable[[Export], Iterator[bytes]] | None  # None: the JSON document
    summary: str


FORMATS: dict[str, Format] = {
    f.name: f
    for f in (
        Format("json", "application/json", None, "JSON {meta, data} (the default)"),
        Format("plaintext", TEXT, format_lists.plaintext, "one address a line"),
        Format(
            "csv", "text/csv; charset=utf-8", format_tables.csv, "CSV with a header row"
        ),
        Format("ipset", TEXT, format_firewall.ipset, "ipset restore input"),
        Format("nftables", TEXT, format_firewall.nftables, "nft -f file"),
        Format("nginx-deny", TEXT, format_lists.nginx_deny, "nginx deny include"),
        Format("nginx-geo", TEXT, format_lists.nginx_geo, "nginx geo map include"),
        Format("csf", TEXT, format_lists.csf, "CSF blocklist"),
        Format("suricata", TEXT, format_tables.suricata, "Suricata reputation file"),
        Format(
            "suricata-categories",
            TEXT,
            format_tables.suricata_categories,
            "Suricata reputation categories file",
        ),
        Format("counts", TEXT, format_lists.counts, "address<TAB>sessions"),
    )
}

assert tuple(FORMATS) == FORMAT_NAMES, "core/format_names.py is out of date"


def format_named(name: str | None, plaintext: bool = False) -> Format:
    """Return the format a request names (``format``, or ``plaintext=true``).

    Raises:
        InvalidFilterError: naming ``format``: unknown, or it contradicts
            ``plaintext=true``.
    """
    if not name:
        return FORMATS["plaintext" if plaintext else "json"]
    found = FORMATS.get(name.strip().lower())
    if found is None:
        raise InvalidFilterError(
            "format", f"unknown format {name!r}; known: {', '.join(FORMATS)}"
        )
    if plaintext and found.name != "plaintext":
        raise InvalidFilterError(
            "format", f"format={found.name} contradicts plaintext=true"
        )
    return found


def from_params(params: Mapping[str, str], plaintext: bool = False) -> Format:
    """Return the format named by query parameters."""
    return format_named(params.get("format"), plaintext)
