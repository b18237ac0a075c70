"""API key format, digests and the server secret.

A key is ``sk_live_<id>_<secret><check>``: ``id`` is 12 characters of
lowercase base32 (the public key id, used to look the key up, in lists and
logs), ``secret`` 32 base62 characters (190 random bits) and ``check`` a
6-character base62 CRC32 of everything before it, so typos and look-alikes
are refused before any lookup (as GitHub's token format does).

The server keeps only ``HMAC-SHA256(server secret, key)`` of a key. The
server secret is 32 random bytes in ``<data_dir>/secret`` (mode 0600),
created on first use and never logged; losing it invalidates every key.
"""

import hashlib
import hmac
import logging
import os
import re
import secrets
import zlib
from pathlib import Path

from sikker.errors import ConfigError

PREFIX = "sk_live_"
ID_CHARS = 12
SECRET_CHARS = 32
CHECK_CHARS = 6
SECRET_FILE = "secret"
_ID_ALPHABET = "abcdefghijklmnopqrstuvwxyz234567"
_B62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_KEY = re.compile(
    rf"{PREFIX}([a-z2-7]{{{ID_CHARS}}})_[0-9A-Za-z]{{{SECRET_CHARS + CHECK_CHARS}}}"
)
_ID = re.compile(rf"[a-z2-7]{{{ID_CHARS}}}")
KEY_LENGTH = len(PREFIX) + ID_CHARS + 1 + SECRET_CHARS + CHECK_CHARS

log = logging.getLogger("sikker.keys")


def _base62(value: int, width: int) -> str:
    out = []
    for _ in range(width):
        value, digit = divmod(value, 62)
        out.append(_B62[digit])
    return "".join(reversed(out))


def _check(body: str) -> str:
    return _base62(zlib.crc32(body.encode()), CHECK_CHARS)


def new_key_id() -> str:
    """Return a random public key id."""
    return "".join(secrets.choice(_ID_ALPHABET) for _ in range(ID_CHARS))


def new_key(key_id: str) -> str:
    """Return a fresh random key with the public id ``key_id``."""
    secret = "".join(secrets.choice(_B62) for _ in range(SECRET_CHARS))
    body = f"{PREFIX}{key_id}_{secret}"
    return body + _check(body)


def key_id_of(key: str) -> str | None:
    """Return the id of a well-formed key (checksum included), else None."""
    if len(key) != KEY_LENGTH:
        return None
    match = _KEY.fullmatch(key)
    if match is None or _check(key[:-CHECK_CHARS]) != key[-CHECK_CHARS:]:
        return None
    return match.group(1)


def is_key_id(text: str) -> bool:
    """Return True if ``text`` looks like a public key id."""
    return bool(_ID.fullmatch(text))


def display(key_id: str) -> str:
    """Return how a key is shown once its secret is gone: ``sk_live_<id>_...``."""
    return f"{PREFIX}{key_id}_..."


def digest(secret: bytes, key: str) -> bytes:
    """Return HMAC-SHA256 of the key under the server secret."""
    return hmac.new(secret, key.encode(), hashlib.sha256).digest()


def matches(secret: bytes, key: str, stored: bytes) -> bool:
    """Return True if ``key`` has the stored digest (constant-time compare)."""
    return hmac.compare_digest(digest(secret, key), stored)


def load_secret(data_dir: str | Path) -> bytes:
    """Return the server secret, creating ``<data_dir>/secret`` if needed.

    Creation is atomic (written to a temporary file, then hard-linked into
    place), so concurrent first starts agree on one secret.
    """
    path = Path(data_dir) / SECRET_FILE
    try:
        return _read_secret(path)
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{SECRET_FILE}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, secrets.token_hex(32).encode() + b"\n")
        os.fsync(fd)
    finally:
        os.close(fd)
    try:
        os.link(tmp, path)
        log.info("created the server secret %s (back it up)", path)
    except FileExistsError:
        pass
    finally:
        os.unlink(tmp)
    return _read_secret(path)


def secret_stamp(data_dir: str | Path) -> tuple[int, int, int] | None:
    """Return a cheap token that changes when the secret file is replaced."""
    try:
        st = os.stat(Path(data_dir) / SECRET_FILE)
    except FileNotFoundError:
        return None
    return (st.st_ino, st.st_mtime_ns, st.st_size)


def store_secret(data_dir: str | Path, secret: bytes) -> bool:
    """Make ``secret`` the server secret (a read replica takes its primary's).

    Replaces ``<data_dir>/secret`` atomically (mode 0600) unless it already
    holds it; returns whether it changed. Account stores re-read it.
    """
    path = Path(data_dir) / SECRET_FILE
    try:
        if _read_secret(path) == secret:
            return False
    except (FileNotFoundError, ConfigError):
        pass
    tmp = path.with_name(f".{SECRET_FILE}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, secret.hex().encode() + b"\n")
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
    return True


def _read_secret(path: Path) -> bytes:
    mode = os.stat(path).st_mode
    if mode & 0o077:
        log.warning("%s is readable by other users; chmod 600 it", path)
    try:
        secret = bytes.fromhex(path.read_text(encoding="ascii").strip())
    except (UnicodeDecodeError, ValueError):
        secret = b""
    if len(secret) < 16:
        raise ConfigError(
            f"{path} is not a server secret (64 hex digits); restore it from a "
            "backup, or delete it to make every API key invalid"
        )
    return secret
