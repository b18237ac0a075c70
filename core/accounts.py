"""Accounts, their API keys and report allow-lists, in LMDB.

The store is an LMDB environment at ``<data_dir>/accounts`` shared by the
server workers and the ``sikker admin`` command (open it in the process
that uses it, after any fork, like the event log). Tables:

* ``users``: account id -> account (email, scrypt password hash, plan id,
  created, disabled, report allow-list);
* ``emails``: lowercased email -> account id;
* ``keys``: public key id -> key (account, HMAC-SHA256 digest, name,
  created, revoked); ``account_keys`` indexes them by account;
* ``usage``: (UTC day, family, account) -> count, the durable copy of the
  shared quota counters (:mod:`sikker.core.quota`).

A key's plaintext is returned once by :meth:`AccountStore.create_key` and
never stored: only its HMAC under the server secret
(:mod:`sikker.core.apikeys`). Every change that affects authentication
(plan, disabling, revocation) bumps a shared generation counter
(``<data_dir>/accounts/generation``) so that servers drop their key caches
at their next request.
"""

import os
import re
import struct
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any, TypeVar

import lmdb
import orjson

from sikker.core import apikeys, lmdb_tx, passwords
from sikker.core.atomics import SharedWords
from sikker.core.ipcore import format_ip, parse_cidr
from sikker.core.plans import Plans, load_plans
from sikker.core.quota import Usage
from sikker.errors import (
    AccountDisabledError,
    AccountError,
    AccountExistsError,
    AuthError,
    InvalidAddressError,
    KeyRevokedError,
    UnknownAccountError,
)

ACCOUNTS_DIR = "accounts"
GENERATION_FILE = "generation"
#: Active (unrevoked) keys one account may hold.
MAX_KEYS = 10
#: CIDRs in one account's report allow-list.
MAX_RANGES = 100
#: The tables a read replica copies from its primary (not ``usage``).
DIRECTORY_TABLES = ("users", "emails", "keys", "account_keys")
#: Days of usage history kept in the ``usage`` table.
USAGE_DAYS = 62
INITIAL_MAP_SIZE = 1 << 30
MAX_READERS = 1024
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s.]+")
_USAGE_KEY = struct.Struct(">I")
_COUNT = struct.Struct(">Q")
#: Compared against when a key id is unknown (no digest equals it in practice).
_NO_DIGEST = bytes(32)
_T = TypeVar("_T")


@dataclass(frozen=True)
class Account:
    """One account (the password hash never leaves the store's callers)."""

    id: str
    email: str
    plan: str
    created: int
    disabled: bool
    password: str
    ranges: tuple[str, ...] = ()

    def public(self) -> dict[str, Any]:
        """Return what may be shown: everything but the password hash."""
        return {
            "id": self.id,
            "email": self.email,
            "plan": self.plan,
            "created": self.created,
            "disabled": self.disabled,
            "allowedRanges": list(self.ranges),
        }


@dataclass(frozen=True)
class ApiKey:
    """One API key: its public id and the HMAC digest of its plaintext."""

    id: str
    account: str
    digest: str
    created: int
    revoked: int | None = None
    name: str = ""

    def public(self) -> dict[str, Any]:
        """Return what may be shown: the id and prefix, never the digest."""
        return {
            "id": self.id,
            "prefix": apikeys.display(self.id),
            "name": self.name,
            "created": self.created,
            "revoked": self.revoked,
        }


def normalize_email(email: str) -> str:
    """Return the lowercased address, or raise AccountError if it is not one."""
    text = email.strip().lower() if isinstance(email, str) else ""
    if len(text) > 254 or not _EMAIL.fullmatch(text):
        raise AccountError(f"{str(email)[:80]!r} is not an email address")
    return text


def normalize_range(cidr: str) -> str:
    """Return a CIDR in canonical form (host bits cleared), or raise AccountError."""
    try:
        version, value, prefix = parse_cidr(cidr.strip(), strict=False)
    except (InvalidAddressError, TypeError, AttributeError) as ex:
        raise AccountError(f"{str(cidr)[:80]!r} is not a CIDR range: {ex}") from None
    return f"{format_ip(version, value)}/{prefix}"


class AccountStore:
    """The accounts of one data directory (see the module docstring).

    Args:
        data_dir: The data directory.
        plans: Valid plan ids (default: the shipped plans file).
        kdf: scrypt cost of new password hashes.
    """

    def __init__(
        self,
        data_dir: str | Path,
        plans: Plans | None = None,
        kdf: passwords.ScryptParams = passwords.DEFAULT_PARAMS,
    ) -> None:
        self.data_dir = Path(data_dir)
        self.path = self.data_dir / ACCOUNTS_DIR
        self.plans = plans or load_plans()
        self.kdf = kdf
        self._pid = os.getpid()
        self._lock = threading.Lock()
        self._dummy_hash: str | None = None
        self.path.mkdir(parents=True, exist_ok=True)
        os.chmod(self.path, 0o700)
        self._secret_stamp = apikeys.secret_stamp(self.data_dir)  # before reading
        self.secret = apikeys.load_secret(self.data_dir)
        self._env: lmdb.Environment | None = lmdb.open(
            str(self.path),
            map_size=INITIAL_MAP_SIZE,
            max_dbs=8,
            max_readers=MAX_READERS,
            sync=True,
            metasync=True,
            readahead=False,
            mode=0o600,
        )
        self._env.reader_check()
        self._db = {
            name: self._env.open_db(name.encode())
            for name in ("users", "emails", "keys", "account_keys", "usage")
        }
        self._generation = _generation_words(self.path / GENERATION_FILE)

    # -- plumbing --------------------------------------------------------------------

    def _check(self) -> lmdb.Environment:
        if os.getpid() != self._pid:
            raise AccountError("the account store was opened in another process")
        if self._env is None:
            raise AccountError("the account store is closed")
        return self._env

    def _read(self, func: Callable[[Any], _T]) -> _T:
        with lmdb_tx.begin_read(self._check()) as txn:
            return func(txn)

    def _write(self, func: Callable[[Any], _T], bump: bool = True) -> _T:
        result = lmdb_tx.write(self._check(), self._lock, func)
        if bump:
            self._generation.add(0, 1)
        return result

    def generation(self) -> int:
        """Return the shared counter bumped by every change (cache validation)."""
        return int(self._generation.load(0))

    def close(self) -> None:
        """Close the environment (idempotent)."""
        if self._env is not None and os.getpid() == self._pid:
            self._env.close()
            self._generation.close()
        self._env = None

    def __enter__(self) -> "AccountStore":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _get_account(self, txn: Any, account_id: str) -> Account | None:
        raw = txn.get(account_id.encode(), db=self._db["users"])
        if raw is None:
            return None
        data = orjson.loads(raw)
        data["ranges"] = tuple(data.get("ranges", ()))
        return Account(**data)

    def _put_account(self, txn: Any, account: Account) -> None:
        txn.put(
            account.id.encode(), orjson.dumps(asdict(account)), db=self._db["users"]
        )

    def _id_of(self, txn: Any, email: str) -> str:
        raw = txn.get(normalize_email(email).encode(), db=self._db["emails"])
        if raw is None:
            raise UnknownAccountError(f"no account with email {email.strip()!r}")
        return bytes(raw).decode()

    def _get_key(self, txn: Any, key_id: str) -> ApiKey | None:
        raw = txn.get(key_id.encode(), db=self._db["keys"])
        return None if raw is None else ApiKey(**orjson.loads(raw))

    def _put_key(self, txn: Any, key: ApiKey) -> None:
        txn.put(key.id.encode(), orjson.dumps(asdict(key)), db=self._db["keys"])

    # -- accounts --------------------------------------------------------------------

    def add_user(self, email: str, password: str, plan: str | None = None) -> Account:
        """Create an account; the password is hashed with scrypt.

        Raises:
            AccountError: bad email or password. UnknownAccountError: no
            such plan. AccountExistsError: the email is taken.
        """
        email = normalize_email(email)
        plan = self.plans.get(plan or self.plans.default).id
        hashed = passwords.hash_password(password, self.kdf)
        account = Account(
            id="acct_" + apikeys.new_key_id(),
            email=email,
            plan=plan,
            created=int(time.time()),
            disabled=False,
            password=hashed,
        )

        def write(txn: Any) -> Account:
            if not txn.put(
                email.encode(),
                account.id.encode(),
                db=self._db["emails"],
                overwrite=False,
            ):
                raise AccountExistsError(f"an account with email {email} exists")
            self._put_account(txn, account)
            return account

        return self._write(write)

    def user(self, email: str) -> Account:
        """Return the account of an email address.

        Raises:
            UnknownAccountError: no account has it.
        """

        def read(txn: Any) -> Account:
            account = self._get_account(txn, self._id_of(txn, email))
            if account is None:
                raise UnknownAccountError(f"no account with email {email!r}")
            return account

        return self._read(read)

    def account(self, account_id: str) -> Account:
        """Return an account by id; raise UnknownAccountError if none."""
        found = self._read(lambda txn: self._get_account(txn, account_id))
        if found is None:
            raise UnknownAccountError(f"no account {account_id!r}")
        return found

    def users(self) -> list[Account]:
        """Return every account, by email."""

        def read(txn: Any) -> list[Account]:
            cursor = txn.cursor(db=self._db["emails"])
            found = (self._get_account(txn, bytes(v).decode()) for _, v in cursor)
            return [a for a in found if a is not None]

        return self._read(read)

    def _update(self, email: str, change: Callable[[Account], Account]) -> Account:
        def write(txn: Any) -> Account:
            account = self._get_account(txn, self._id_of(txn, email))
            if account is None:
                raise UnknownAccountError(f"no account with email {email!r}")
            account = change(account)
            self._put_account(txn, account)
            return account

        return self._write(write)

    def set_plan(self, email: str, plan: str) -> Account:
        """Move an account to another plan (servers apply it at once)."""
        plan_id = self.plans.get(plan).id
        return self._update(email, lambda a: replace(a, plan=plan_id))

    def set_disabled(self, email: str, disabled: bool) -> Account:
        """Disable (or enable again) an account and every key it holds."""
        return self._update(email, lambda a: replace(a, disabled=disabled))

    def set_password(self, email: str, password: str) -> Account:
        """Replace an account's password."""
        hashed = passwords.hash_password(password, self.kdf)
        return self._update(email, lambda a: replace(a, password=hashed))

    def login(self, email: str, password: str) -> Account | None:
        """Return the account if the password matches, else None.

        An unknown email costs one hash too, so timing does not tell which
        addresses have accounts. A disabled account is returned as well;
        the caller decides.
        """
        if self._dummy_hash is None:  # before the lookup: the same for everyone
            self._dummy_hash = passwords.hash_password("x" * 16, self.kdf)
        try:
            account: Account | None = self.user(email)
        except AccountError:
            account = None
        if account is None:
            passwords.verify_password(password, self._dummy_hash)
            return None
        if passwords.verify_password(password, account.password):
            return account
        return None

    # -- API keys --------------------------------------------------------------------

    def create_key(self, account_id: str, name: str = "") -> tuple[ApiKey, str]:
        """Create a key; return it and its plaintext (shown only this once).

        Raises:
            UnknownAccountError: no such account. AccountError: the account
            already holds MAX_KEYS active keys, or the name is too long.
        """
        if len(name) > 64:
            raise AccountError("a key name is at most 64 characters")

        def write(txn: Any) -> tuple[ApiKey, str]:
            if self._get_account(txn, account_id) is None:
                raise UnknownAccountError(f"no account {account_id!r}")
            active = [k for k in self._account_keys(txn, account_id) if not k.revoked]
            if len(active) >= MAX_KEYS:
                raise AccountError(
                    f"an account holds at most {MAX_KEYS} active keys; revoke one"
                )
            key_id = apikeys.new_key_id()
            while txn.get(key_id.encode(), db=self._db["keys"]) is not None:
                key_id = apikeys.new_key_id()
            plaintext = apikeys.new_key(key_id)
            digest = apikeys.digest(self.secret, plaintext).hex()
            key = ApiKey(key_id, account_id, digest, int(time.time()), None, name)
            self._put_key(txn, key)
            txn.put(_key_index(account_id, key_id), b"", db=self._db["account_keys"])
            return key, plaintext

        return self._write(write)

    def _account_keys(self, txn: Any, account_id: str) -> list[ApiKey]:
        prefix = f"{account_id}\0".encode()
        cursor = txn.cursor(db=self._db["account_keys"])
        found = []
        if cursor.set_range(prefix):
            for index in cursor.iternext(values=False):
                if not bytes(index).startswith(prefix):
                    break
                key = self._get_key(txn, bytes(index)[len(prefix) :].decode())
                if key is not None:
                    found.append(key)
        return sorted(found, key=lambda k: (k.created, k.id))

    def keys(self, account_id: str) -> list[ApiKey]:
        """Return an account's keys (revoked ones too), oldest first."""
        return self._read(lambda txn: self._account_keys(txn, account_id))

    def key(self, key_id: str) -> ApiKey:
        """Return a key by id; raise UnknownAccountError if none."""
        found = self._read(lambda txn: self._get_key(txn, key_id))
        if found is None:
            raise UnknownAccountError(f"no API key {key_id!r}")
        return found

    def revoke_key(self, key_id: str, account_id: str | None = None) -> ApiKey:
        """Revoke a key (of ``account_id`` when given); servers refuse it at once.

        Raises:
            UnknownAccountError: no such key (of that account).
        """

        def write(txn: Any) -> ApiKey:
            key = self._get_key(txn, key_id)
            if key is None or (account_id is not None and key.account != account_id):
                raise UnknownAccountError(f"no API key {key_id!r}")
            if key.revoked is None:
                key = replace(key, revoked=int(time.time()))
                self._put_key(txn, key)
            return key

        return self._write(write)

    def authenticate(self, key: str) -> tuple[Account, ApiKey]:
        """Return the account and key of a plaintext key.

        The HMAC is computed whether or not the key id exists, so the time
        taken does not tell which ids do.

        Raises:
            AuthError: malformed or unknown key (401).
            KeyRevokedError: the key was revoked (401).
            AccountDisabledError: its account is disabled (403).
        """
        key_id = apikeys.key_id_of(key)
        if key_id is None:
            raise AuthError(
                "invalid API key: expected sk_live_... as issued by this server"
            )

        def read(txn: Any) -> tuple[Account | None, ApiKey | None]:
            found = self._get_key(txn, key_id)
            owner = None if found is None else self._get_account(txn, found.account)
            return owner, found

        account, found = self._read(read)
        stored = bytes.fromhex(found.digest) if found is not None else _NO_DIGEST
        if not apikeys.matches(self._fresh_secret(), key, stored) or found is None:
            raise AuthError("unknown API key")
        if found.revoked is not None:
            raise KeyRevokedError(f"API key {key_id} was revoked")
        if account is None:
            raise AuthError("unknown API key")
        if account.disabled:
            raise AccountDisabledError("the account of this API key is disabled")
        return account, found

    def _fresh_secret(self) -> bytes:
        """Return the server secret, re-read once its file was replaced (a
        read replica takes its primary's; a ``stat`` per uncached lookup)."""
        stamp = apikeys.secret_stamp(self.data_dir)
        if stamp != self._secret_stamp:
            self._secret_stamp = stamp
            self.secret = apikeys.load_secret(self.data_dir)
        return self.secret

    # -- read replicas ---------------------------------------------------------------

    def export_directory(self) -> dict[str, list[dict[str, Any]]]:
        """Return every account (its password hash left out) and every key.

        What a read replica mirrors (``GET /v1/replica/accounts``); quota
        usage stays with each node.
        """

        def read(txn: Any) -> dict[str, list[dict[str, Any]]]:
            accounts = []
            for _, raw in txn.cursor(db=self._db["users"]):
                account = orjson.loads(raw)
                account["password"] = ""
                accounts.append(account)
            keys = [orjson.loads(raw) for _, raw in txn.cursor(db=self._db["keys"])]
            return {"accounts": accounts, "keys": keys}

        return self._read(read)

    def replace_directory(self, accounts: list[Account], keys: list[ApiKey]) -> None:
        """Make the accounts and keys exactly these, in one transaction.

        A read replica's copy of its primary's; servers drop their key
        caches at their next request.
        """

        def write(txn: Any) -> None:
            for name in DIRECTORY_TABLES:
                txn.drop(self._db[name], delete=False)
            for account in accounts:
                self._put_account(txn, account)
                txn.put(
                    account.email.encode(), account.id.encode(), db=self._db["emails"]
                )
            for key in keys:
                self._put_key(txn, key)
                txn.put(
                    _key_index(key.account, key.id), b"", db=self._db["account_keys"]
                )

        self._write(write)

    # -- report allow-list -----------------------------------------------------------

    def allowed_ranges(self, account_id: str) -> list[str]:
        """Return the account's own CIDR ranges (reports of them are refused)."""
        return list(self.account(account_id).ranges)

    def set_allowed_ranges(self, account_id: str, cidrs: Iterable[str]) -> list[str]:
        """Replace an account's own ranges; return them normalized."""
        ranges = tuple(dict.fromkeys(normalize_range(c) for c in cidrs))
        if len(ranges) > MAX_RANGES:
            raise AccountError(f"an account lists at most {MAX_RANGES} ranges")

        def write(txn: Any) -> list[str]:
            account = self._get_account(txn, account_id)
            if account is None:
                raise UnknownAccountError(f"no account {account_id!r}")
            self._put_account(txn, replace(account, ranges=ranges))
            return list(ranges)

        return self._write(write)

    # -- durable quota counts --------------------------------------------------------

    def save_usage(self, entries: Iterable[Usage]) -> None:
        """Store quota counts (a larger stored count wins); prune old days."""
        rows = sorted(
            (_usage_key(period, family, owner), period, count)
            for family, owner, period, count in entries
        )
        if not rows:
            return
        newest = max(period for _, period, _ in rows)
        cutoff = _USAGE_KEY.pack(max(newest - USAGE_DAYS, 0))

        def write(txn: Any) -> None:
            db = self._db["usage"]
            for key, _, count in rows:
                old = txn.get(key, db=db)
                if old is None or _COUNT.unpack(old)[0] < count:
                    txn.put(key, _COUNT.pack(count), db=db)
            cursor = txn.cursor(db=db)
            while cursor.first() and bytes(cursor.key()) < cutoff:
                cursor.delete()

        self._write(write, bump=False)

    def load_usage(self, since: int) -> list[Usage]:
        """Return the stored counts of days >= ``since``."""

        def read(txn: Any) -> list[Usage]:
            cursor = txn.cursor(db=self._db["usage"])
            found: list[Usage] = []
            if cursor.set_range(_USAGE_KEY.pack(max(since, 0))):
                for key, value in cursor:
                    key = bytes(key)
                    family, owner = key[4:].decode().split("\0", 1)
                    period = _USAGE_KEY.unpack(key[:4])[0]
                    found.append((family, owner, period, _COUNT.unpack(value)[0]))
            return found

        return self._read(read)


def _key_index(account_id: str, key_id: str) -> bytes:
    return f"{account_id}\0{key_id}".encode()


def _usage_key(period: int, family: str, owner: str) -> bytes:
    return _USAGE_KEY.pack(period) + f"{family}\0{owner}".encode()


def _generation_words(path: Path) -> SharedWords:
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        if os.fstat(fd).st_size < 8:
            os.ftruncate(fd, 8)
        return SharedWords(fd, 8)
    finally:
        os.close(fd)
