"""Password hashing with scrypt (stdlib), slow on purpose.

A stored hash is ``scrypt$<log2 N>$<r>$<p>$<salt>$<hash>`` (salt and hash
in unpadded URL-safe base64), so the cost can be raised later without
invalidating existing hashes. The default is N = 2**15, r = 8, p = 1: 32 MiB
of memory and tens of milliseconds per hash on a current CPU (about 150 ms
on a slow two-core VM), with a 16-byte random salt per password and a
32-byte derived key. :func:`verify_password` compares in constant time.
"""

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass

from sikker.errors import AccountError

#: Passwords shorter than this are refused; longer than MAX_LENGTH too.
MIN_LENGTH = 10
MAX_LENGTH = 1024
_SALT_BYTES = 16
_KEY_BYTES = 32


@dataclass(frozen=True)
class ScryptParams:
    """The scrypt cost: N = 2**log_n, block size r, parallelism p."""

    log_n: int = 15
    r: int = 8
    p: int = 1

    @property
    def maxmem(self) -> int:
        """Return the memory scrypt needs, plus slack."""
        return 128 * self.r * (2**self.log_n) * (self.p + 1) + (1 << 20)


DEFAULT_PARAMS = ScryptParams()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _derive(password: str, salt: bytes, params: ScryptParams) -> bytes:
    return hashlib.scrypt(
        password.encode("utf-8", "surrogatepass"),
        salt=salt,
        n=2**params.log_n,
        r=params.r,
        p=params.p,
        maxmem=params.maxmem,
        dklen=_KEY_BYTES,
    )


def check_password(password: str) -> str:
    """Return ``password`` if it is acceptable, else raise AccountError."""
    if not isinstance(password, str) or not MIN_LENGTH <= len(password) <= MAX_LENGTH:
        raise AccountError(
            f"the password must be {MIN_LENGTH} to {MAX_LENGTH} characters long"
        )
    return password


def hash_password(password: str, params: ScryptParams = DEFAULT_PARAMS) -> str:
    """Return the storable scrypt hash of an acceptable password."""
    check_password(password)
    salt = secrets.token_bytes(_SALT_BYTES)
    key = _derive(password, salt, params)
    return f"scrypt${params.log_n}${params.r}${params.p}${_b64(salt)}${_b64(key)}"


def verify_password(password: str, stored: str) -> bool:
    """Return True if ``password`` matches the stored hash."""
    try:
        scheme, log_n, r, p, salt, key = stored.split("$")
        params = ScryptParams(int(log_n), int(r), int(p))
        if scheme != "scrypt" or len(password) > MAX_LENGTH:
            return False
        derived = _derive(password, _unb64(salt), params)
        return hmac.compare_digest(derived, _unb64(key))
    except (ValueError, TypeError):
        return False


def generate_password() -> str:
    """Return a random password (about 130 bits, URL-safe characters)."""
    return secrets.token_urlsafe(22)
