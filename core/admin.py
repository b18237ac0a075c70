"""The operator's account, created with its credentials on the first start.

The first time a server starts on a data directory (and whenever
``sikker admin user ...`` needs it), :func:`ensure_admin` creates the
account ``admin@sikker.local`` on the plan with the largest lookup quota,
with a random password and one API key, and writes them to
``<data_dir>/admin-credentials.json`` with mode 0600. They are written
nowhere else and never logged. Delete the file to rotate them: the next
start gives the account a new password and a new key, and revokes its
previous one.
"""

import fcntl
import logging
import os
import time
from pathlib import Path
from typing import Any

import orjson

from sikker.core.accounts import ACCOUNTS_DIR, AccountStore
from sikker.core.passwords import generate_password
from sikker.errors import AccountError

ADMIN_FILE = "admin-credentials.json"
ADMIN_EMAIL = "admin@sikker.local"
KEY_NAME = "admin"
_LOCK_FILE = "admin.lock"

log = logging.getLogger("sikker.accounts")


def credentials_path(data_dir: str | Path) -> Path:
    """Return where the operator's credentials live."""
    return Path(data_dir) / ADMIN_FILE


def read_credentials(data_dir: str | Path) -> dict[str, Any]:
    """Return the stored credentials (``email``, ``password``, ``key``, ...).

    Raises:
        AccountError: the file is missing or unreadable.
    """
    path = credentials_path(data_dir)
    try:
        data = orjson.loads(path.read_bytes())
    except FileNotFoundError:
        raise AccountError(
            f"{path} does not exist yet; `sikker serve` creates it on first start"
        ) from None
    except (OSError, orjson.JSONDecodeError) as ex:
        raise AccountError(f"{path} cannot be read: {ex}") from None
    if not isinstance(data, dict) or not isinstance(data.get("key"), str):
        raise AccountError(f"{path} is not a credentials file; delete it to renew")
    return data


def ensure_admin(store: AccountStore) -> tuple[Path, bool]:
    """Create the operator's account and credentials file unless it exists.

    Safe to call from several processes at once (a file lock serialises
    them). Returns the file's path and whether it was written now.
    """
    path = credentials_path(store.data_dir)
    if path.exists():
        return path, False
    lock = os.open(
        store.data_dir / ACCOUNTS_DIR / _LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o600
    )
    try:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if path.exists():
            return path, False
        _write(path, _credentials(store))
    finally:
        os.close(lock)
    log.info("wrote the operator's account credentials to %s (mode 0600)", path)
    return path, True


def _credentials(store: AccountStore) -> dict[str, Any]:
    plans = store.plans.plans.values()
    plan = max(plans, key=lambda p: p.quotas["lookups"]).id
    password = generate_password()
    try:
        account = store.set_password(ADMIN_EMAIL, password)  # the file was deleted
    except LookupError:
        account = store.add_user(ADMIN_EMAIL, password, plan)
    for old in store.keys(account.id):
        if old.name == KEY_NAME and old.revoked is None:
            store.revoke_key(old.id)
    key, plaintext = store.create_key(account.id, KEY_NAME)
    return {
        "email": ADMIN_EMAIL,
        "password": password,
        "key": plaintext,
        "keyId": key.id,
        "plan": account.plan,
        "created": int(time.time()),
    }


def _write(path: Path, data: dict[str, Any]) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, orjson.dumps(data, option=orjson.OPT_INDENT_2) + b"\n")
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)
