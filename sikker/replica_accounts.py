"""A read replica's copy of its primary's accounts and API keys.

``GET /v1/replica/accounts`` answers every account (password hashes left
out), every key (public id, owner, HMAC digest, revocation) and the server
secret the digests are keyed with. :func:`mirror` checks the document,
stores the secret and replaces the local account directory in one
transaction; the replica's workers drop their key caches at their next
request and so authenticate keys made on the primary without asking it.
"""

import re
from pathlib import Path
from typing import Any

from sikker.core.accounts import Account, AccountStore, ApiKey
from sikker.core.apikeys import store_secret
from sikker.errors import ReplicaProtocolError

_HEX = re.compile(r"[0-9a-f]{32,128}")
_ACCOUNT = {"id": str, "email": str, "plan": str, "created": int, "disabled": bool}
_KEY = {"id": str, "account": str, "digest": str, "created": int, "name": str}


def _checked(item: Any, fields: dict[str, type], what: str) -> dict[str, Any]:
    if not isinstance(item, dict):
        raise ReplicaProtocolError(f"an entry of {what} is not an object")
    for name, kind in fields.items():
        value = item.get(name)
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise ReplicaProtocolError(f"an entry of {what} has a bad {name!r}")
    return item


def parse(doc: dict[str, Any]) -> tuple[bytes, list[Account], list[ApiKey]]:
    """Return the secret, accounts and keys of an account directory document.

    Raises:
        ReplicaProtocolError: a field is missing or of the wrong type.
    """
    secret = doc.get("secret")
    if not isinstance(secret, str) or not _HEX.fullmatch(secret):
        raise ReplicaProtocolError("the account directory has no valid secret")
    entries = doc.get("accounts"), doc.get("keys")
    if not all(isinstance(e, list) for e in entries):
        raise ReplicaProtocolError("the account directory lacks accounts or keys")
    accounts = []
    for item in doc["accounts"]:
        data = _checked(item, _ACCOUNT, "accounts")
        ranges = data.get("ranges") or []
        if not isinstance(ranges, list) or not all(isinstance(r, str) for r in ranges):
            raise ReplicaProtocolError("an entry of accounts has bad 'ranges'")
        accounts.append(
            Account(
                data["id"], data["email"], data["plan"], data["created"],
                data["disabled"], "", tuple(ranges),
            )
        )  # fmt: skip
    keys = []
    for item in doc["keys"]:
        data = _checked(item, _KEY, "keys")
        revoked = data.get("revoked")
        if revoked is not None and (type(revoked) is not int):
            raise ReplicaProtocolError("an entry of keys has a bad 'revoked'")
        if not _HEX.fullmatch(data["digest"]):
            raise ReplicaProtocolError("an entry of keys has a bad 'digest'")
        keys.append(
            ApiKey(
                data["id"], data["account"], data["digest"], data["created"],
                revoked, data["name"],
            )
        )  # fmt: skip
    return bytes.fromhex(secret), accounts, keys


def mirror(data_dir: Path, store: AccountStore, doc: dict[str, Any]) -> int:
    """Make the local accounts a copy of ``doc``; return how many keys it holds.

    Raises:
        ReplicaProtocolError: the document is malformed (nothing changed).
    """
    secret, accounts, keys = parse(doc)
    store_secret(data_dir, secret)
    store.replace_directory(accounts, keys)
    return len(keys)
