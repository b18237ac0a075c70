"""Country and ASN of addresses from local MaxMind-format (.mmdb) databases.

Reads GeoLite2/GeoIP2 Country or City and GeoLite2-ASN files, the DB-IP
"lite" files (same layout) and IPinfo's lite files (``country_code``,
``asn`` as ``"AS123"``, ``as_name``). Nothing is downloaded: operators point
the ``geoip_country_db`` and ``geoip_asn_db`` settings at files they keep up
to date. Without a database the fields stay empty and nothing fails.

Lookups are vectorised over the input: addresses are sorted and every answer
covers the whole network the database returns it for (the prefix length of
``get_with_prefix_len``), so each database network is looked up once however
many of the input's addresses fall in it.
"""

import ipaddress
from bisect import bisect_right
from collections.abc import Callable, Hashable
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

import maxminddb
import numpy as np

from sikker.core.records import is_ipv4
from sikker.errors import GeoDatabaseError

T = TypeVar("T", bound=Hashable)

#: Distinct addresses walked per step (bounds the Python lists of a big build).
CHUNK = 1 << 20


def open_reader(path: str, kind: str) -> maxminddb.Reader:
    """Open one .mmdb file; ``kind`` ("country" or "ASN") names it in errors.

    Raises:
        GeoDatabaseError: the file is missing, unreadable, not an MMDB file,
            or an ASN database was given as the country database (or back).
    """
    if not Path(path).is_file():
        raise GeoDatabaseError(f"{path}: {kind} database not found")
    try:
        reader = maxminddb.open_database(path)
    except (OSError, ValueError, maxminddb.InvalidDatabaseError) as ex:
        raise GeoDatabaseError(
            f"{path}: not a readable MaxMind DB ({kind} database): {ex}"
        ) from None
    db_type = str(reader.metadata().database_type)
    if not _holds(db_type, kind):
        reader.close()
        raise GeoDatabaseError(
            f"{path}: database type {db_type!r} holds no {kind} data; "
            "are the country and ASN databases swapped?"
        )
    return reader


def _holds(db_type: str, kind: str) -> bool:
    """Return False when a database type plainly holds the other kind of data."""
    lowered = db_type.lower()
    has_asn = "asn" in lowered
    has_country = "country" in lowered or "city" in lowered
    if kind == "ASN":
        return has_asn or not has_country
    return has_country or not has_asn


def country_of(record: dict[str, Any]) -> str | None:
    """Return the ISO country code a database record holds, if any."""
    for key in ("country", "registered_country"):
        value = record.get(key)
        if isinstance(value, dict):
            value = value.get("iso_code")
        if _is_code(value):
            return str(value).upper()
    value = record.get("country_code")
    return str(value).upper() if _is_code(value) else None


def _is_code(value: object) -> bool:
    return isinstance(value, str) and len(value) == 2 and value.isascii()


def asn_of(record: dict[str, Any]) -> tuple[int, str] | None:
    """Return ``(asn, organisation)`` from a database record, if any."""
    number = record.get("autonomous_system_number")
    org = record.get("autonomous_system_organization")
    if number is None:
        number, org = record.get("asn"), record.get("as_name")
        if isinstance(number, str) and number[:2].upper() == "AS":
            number = number[2:]
    try:
        asn = int(number) if number is not None else 0
    except (TypeError, ValueError):
        return None
    if not 0 < asn < 1 << 32:
        return None
    return asn, str(org) if org else ""


class Geo:
    """Country and ASN databases (either may be absent)."""

    def __init__(
        self,
        country: maxminddb.Reader | None = None,
        asn: maxminddb.Reader | None = None,
    ) -> None:
        self.country_reader = country
        self.asn_reader = asn

    @classmethod
    def open(cls, country_db: str | None, asn_db: str | None) -> "Geo":
        """Open the databases at these paths; None or "" leaves one out."""
        country = open_reader(country_db, "country") if country_db else None
        try:
            asn = open_reader(asn_db, "ASN") if asn_db else None
        except GeoDatabaseError:
            if country is not None:
                country.close()
            raise
        return cls(country, asn)

    @property
    def enabled(self) -> bool:
        """Return whether any database is open."""
        return self.country_reader is not None or self.asn_reader is not None

    def lookup(self, ip16: np.ndarray) -> tuple[np.ndarray, np.ndarray, dict[int, str]]:
        """Return (country codes ``S2``, ASNs ``uint32``, ASN -> organisation).

        ``ip16`` is an (N, 16) storage-form array. Unknown countries are
        ``b""`` and unknown ASNs 0.
        """
        ip16 = np.ascontiguousarray(ip16, np.uint8).reshape(-1, 16)
        country = np.zeros(len(ip16), "S2")
        asn = np.zeros(len(ip16), np.uint32)
        orgs: dict[int, str] = {}
        if self.country_reader is not None:
            ix, values = _resolve(self.country_reader, ip16, country_of)
            codes = np.array([b""] + [str(v).encode("ascii") for v in values], "S2")
            country = codes[ix + 1]
        if self.asn_reader is not None:
            ix, pairs = _resolve(self.asn_reader, ip16, asn_of)
            numbers = np.array([0] + [p[0] for p in pairs], np.uint32)
            asn = numbers[ix + 1]
            for number, org in pairs:
                if org:
                    orgs.setdefault(number, org)
        return country, asn, orgs

    def close(self) -> None:
        """Close the databases."""
        for reader in (self.country_reader, self.asn_reader):
            if reader is not None:
                reader.close()
        self.country_reader = self.asn_reader = None

    def __enter__(self) -> "Geo":
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def _resolve(
    reader: maxminddb.Reader,
    ip16: np.ndarray,
    extract: Callable[[dict[str, Any]], T | None],
) -> tuple[np.ndarray, list[T]]:
    """Return (value index per address, -1 for none; the distinct values)."""
    out = np.full(len(ip16), -1, np.int64)
    values: dict[T, int] = {}
    v4 = is_ipv4(ip16)
    if v4.any():
        addr = ip16[v4, 12:].copy().view(">u4").ravel()
        out[v4] = _walk(reader, addr, 32, extract, values)
    if (~v4).any() and reader.metadata().ip_version == 6:
        keys = ip16[~v4].copy().view("S16").ravel()
        out[~v4] = _walk(reader, keys, 128, extract, values)
    return out, list(values)


def _walk(
    reader: maxminddb.Reader,
    keys: np.ndarray,
    bits: int,
    extract: Callable[[dict[str, Any]], T | None],
    values: dict[T, int],
) -> np.ndarray:
    """Look up distinct keys network by network; return a value index per key.

    ``keys`` are IPv4 addresses as ``>u4`` (``bits`` 32) or IPv6 addresses
    as big-endian ``S16`` (``bits`` 128). ``values`` interns what ``extract``
    returns and grows as new values are found.
    """
    uniq, inverse = np.unique(keys, return_inverse=True)
    found = np.full(len(uniq), -1, np.int64)
    for lo in range(0, len(uniq), CHUNK):
        part = uniq[lo : lo + CHUNK]
        found[lo : lo + len(part)] = _walk_sorted(
            reader, _as_ints(part, bits), bits, extract, values
        )
    return found[inverse.ravel()]


def _walk_sorted(
    reader: maxminddb.Reader,
    ints: list[int],
    bits: int,
    extract: Callable[[dict[str, Any]], T | None],
    values: dict[T, int],
) -> np.ndarray:
    """Return the value index of each sorted address (see :func:`_walk`)."""
    make = ipaddress.IPv4Address if bits == 32 else ipaddress.IPv6Address
    get = reader.get_with_prefix_len
    starts: list[int] = []
    stops: list[int] = []
    found: list[int] = []
    i, n = 0, len(ints)
    while i < n:
        record, prefix_len = get(make(ints[i]))
        # Every later address up to the end of this network has the same answer.
        j = bisect_right(ints, ints[i] | ((1 << (bits - prefix_len)) - 1), i + 1)
        value = extract(record) if isinstance(record, dict) else None
        if value is not None:
            starts.append(i)
            stops.append(j)
            found.append(values.setdefault(value, len(values)))
        i = j
    out = np.full(n, -1, np.int64)
    first = np.array(starts, np.int64)
    lengths = np.array(stops, np.int64) - first
    rows = np.repeat(first - np.cumsum(lengths) + lengths, lengths)
    out[rows + np.arange(len(rows))] = np.repeat(np.array(found, np.int64), lengths)
    return out


def _as_ints(keys: np.ndarray, bits: int) -> list[int]:
    """Return sorted keys as Python ints."""
    if bits == 32:
        return [int(k) for k in keys.astype(np.uint32).tolist()]
    halves = keys.view(np.uint8).reshape(-1, 16).copy().view(">u8")
    return [hi << 64 | lo for hi, lo in halves.tolist()]
