"""The address a request comes from, seen through trusted proxies.

Behind nginx every request comes from 127.0.0.1, so the client is the last
``X-Forwarded-For`` hop that is not itself a trusted proxy (the setting
``trusted_proxies``). From any other peer the header is ignored: anyone can
write it.
"""

import falcon

from sikker.core.canonical import canonical_text as _canonical


def parse_proxies(setting: str) -> frozenset[str]:
    """Return the canonical addresses of a comma-separated proxy list."""
    out = set()
    for item in setting.split(","):
        canonical = _canonical(item.strip())
        if canonical:
            out.add(canonical)
    return frozenset(out)


def client_address(req: falcon.Request, trusted: frozenset[str]) -> str:
    """Return the canonical address of the client (``""`` when unknown)."""
    peer = _canonical(req.remote_addr or "")
    if peer is None:
        return ""
    if peer not in trusted:
        return peer
    hops = [h.strip() for h in (req.get_header("X-Forwarded-For") or "").split(",")]
    for hop in reversed(hops):
        canonical = _canonical(hop)
        if canonical is None:
            break
        if canonical not in trusted:
            return canonical
    return peer
