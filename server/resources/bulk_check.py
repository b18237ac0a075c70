"""``POST /v1/key/bulk-check-inline`` and ``GET /v1/key/check-block``.

Both answer one compact result per address (see :mod:`sikker.core.bulk`)
and charge the ``lookups`` quota: one per distinct valid address for a bulk
check, one per network for a block check.
"""

from typing import Any

import falcon
import orjson

from sikker.core import ipcore
from sikker.core.bulk import MAX_ADDRESSES, compact_json, parse_lines, with_results
from sikker.core.config import Config
from sikker.core.store import SnapshotStore
from sikker.errors import InvalidFilterError
from sikker.server.body import media_type, read_body
from sikker.server.errors import error_body
from sikker.server.params import flag, single_params
from sikker.server.principal import charge, plan_cap

TEXT_TYPES = frozenset({"", "text/plain", "text/csv", "application/octet-stream"})
_BLOCK_PARAMS = {"network", "ignoreWhitelist", "key"}


class BulkCheckResource:
    """Check up to 10,000 addresses posted one per line."""

    max_body_setting = "bulk_max_body_bytes"

    def __init__(self, store: SnapshotStore, config: Config) -> None:
        self.store = store
        self.config = config

    @property
    def max_body_bytes(self) -> int:
        """Return this endpoint's body cap (setting ``bulk_max_body_bytes``)."""
        return int(self.config.bulk_max_body_bytes)

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        """Answer ``{queried, found, results, invalid}``."""
        ignore = flag(req, "ignoreWhitelist")
        text = self._text(
            req, read_body(req, self.max_body_bytes, "bulk_max_body_bytes")
        )
        parsed = parse_lines(text, plan_cap(req, "bulk_check_ips", MAX_ADDRESSES))
        resp.content_type = falcon.MEDIA_JSON
        if not parsed.keys:
            code = "no_valid_addresses" if parsed.invalid else "empty_body"
            message = (
                f"no valid address: line {parsed.invalid[0]['line']}: "
                f"{parsed.invalid[0]['error']}"
                if parsed.invalid
                else "the body holds no addresses; send one address per line"
            )
            resp.status = 400
            resp.data = error_body(400, code, message, invalid=parsed.invalid)
            return
        snapshot = self.store.current()
        charge(req, "lookups", len(parsed.keys))
        values = snapshot.lookup_many(parsed.keys)
        resp.set_header("X-Snapshot-Sequence", str(snapshot.sequence))
        resp.data = with_results(
            {
                "queried": len(values),
                "found": sum(value is not None for value in values),
            },
            compact_json(snapshot, parsed.keys, values, ignore),
            {"invalid": parsed.invalid, "snapshot": snapshot.sequence},
        )

    def _text(self, req: falcon.Request, body: bytes) -> str:
        kind = media_type(req)
        if kind == "application/json":
            return "\n".join(_json_addresses(body))
        if kind not in TEXT_TYPES:
            raise falcon.HTTPUnsupportedMediaType(
                title="unsupported media type",
                description=f"Content-Type {kind!r} is not accepted; send text/plain "
                '(one address per line) or application/json {"ips": [...]}',
            )
        return body.decode("utf-8", "replace")


def _json_addresses(body: bytes) -> list[str]:
    try:
        doc = orjson.loads(body)
    except orjson.JSONDecodeError as ex:
        raise InvalidFilterError("body", f"invalid JSON: {ex}") from None
    ips = doc.get("ips") if isinstance(doc, dict) else doc
    if not isinstance(ips, list) or not all(isinstance(ip, str) for ip in ips):
        raise InvalidFilterError(
            "ips", 'expected {"ips": ["203.0.113.7", ...]}, a list of strings'
        )
    return [ip.replace("\n", " ") for ip in ips]


class CheckBlockResource:
    """Every listed address inside one network (at most /16 IPv4, /48 IPv6)."""

    def __init__(self, store: SnapshotStore) -> None:
        self.store = store

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        """Answer the network's bounds and its listed addresses."""
        params = single_params(req)
        unknown = sorted(set(params) - _BLOCK_PARAMS)
        if unknown:
            raise InvalidFilterError(
                unknown[0], "unknown parameter; known: network, ignoreWhitelist"
            )
        network = params.get("network", "").strip()
        if not network:
            raise InvalidFilterError("network", "is required, e.g. 203.0.113.0/24")
        ignore = flag(req, "ignoreWhitelist")
        snapshot = self.store.current()
        pairs = snapshot.lookup_block(network, strict=False)
        charge(req, "lookups")
        keys = [ipcore.to_ip16(address) for address, _ in pairs]
        values = [bytes(record.buf) for _, record in pairs]
        resp.set_header("X-Snapshot-Sequence", str(snapshot.sequence))
        resp.content_type = falcon.MEDIA_JSON
        resp.data = with_results(
            {**_bounds(network), "listed": len(keys)},
            compact_json(snapshot, keys, values, ignore),
            {"snapshot": snapshot.sequence},
        )


def _bounds(network: str) -> dict[str, Any]:
    version, first, prefix = ipcore.parse_cidr(network, strict=False)
    bits = 32 if version == 4 else 128
    last = first | ((1 << (bits - prefix)) - 1)
    address = ipcore.format_ip(version, first)
    return {
        "network": f"{address}/{prefix}",
        "networkAddress": address,
        "prefixLength": prefix,
        "minAddress": address,
        "maxAddress": ipcore.format_ip(version, last),
        "numPossibleHosts": 1 << (bits - prefix),
    }
