"""The account store and quota tables a worker opens for itself, after fork.

:class:`AccountService` opens, lazily and once per process, the LMDB account
store, the shared quota table (with its :class:`~sikker.core.quota.Flusher`
thread) and the failed-login table, and closes them -- flushing the quota
counters a last time -- when the process exits cleanly. With ``redis_url``
set, the counters live on Redis, shared by every node, and the host's
tables only count while Redis is down (:mod:`sikker.core.quota_shared`).
"""

import atexit
import os
import threading
import time
import weakref
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from sikker.core.accounts import AccountStore
from sikker.core.admin import ensure_admin
from sikker.core.config import Config
from sikker.core.plans import Plans, load_plans
from sikker.core.quota import DAY, Flusher, QuotaTable
from sikker.core.redis_client import RedisSettings

if TYPE_CHECKING:
    from sikker.core.quota_shared import Quota

QUOTA_FILE = "quota.bin"
LOGIN_FILE = "logins.bin"
LOGIN_SLOTS = 4096


def bootstrap(config: Config) -> tuple[Path, bool]:
    """Create the server secret and the operator's credentials if missing.

    Opens and closes its own account store: call it before forking workers.
    Returns the credentials file and whether it was created now.
    """
    plans = load_plans(config.plans_path or None)
    with AccountStore(config.data_path, plans) as store:
        return ensure_admin(store)


#: Every service of this process (a forked child must reopen their handles).
_SERVICES: "weakref.WeakSet[AccountService]" = weakref.WeakSet()


def _after_fork() -> None:
    for service in list(_SERVICES):
        service._handles = None


os.register_at_fork(after_in_child=_after_fork)


class AccountService:
    """Per-process handles on the accounts of ``config.data_dir``.

    Args:
        config: The settings (``data_dir``, ``plans_path``, ``quota_*``,
            ``login_*``, ``redis_*``).
        clock: Epoch seconds; tests inject a fake one.

    Raises:
        ConfigError: a ``redis_*`` setting is invalid.
    """

    def __init__(self, config: Config, clock: Callable[[], float] = time.time) -> None:
        self.config = config
        self.clock = clock
        self.plans: Plans = load_plans(config.plans_path or None)
        self.redis = RedisSettings.from_config(config)
        self._lock = threading.Lock()
        self._pid = 0
        self._store: AccountStore | None = None
        self._quota: Quota | None = None
        self._logins: Quota | None = None
        self._flusher: Flusher | None = None
        # (store, quota) of this process; None until opened and after a fork
        self._handles: tuple[AccountStore, Quota] | None = None
        _SERVICES.add(self)

    def _open(self) -> None:
        with self._lock:
            if self._pid == os.getpid():
                return
            data = self.config.data_path
            store = AccountStore(data, self.plans)
            quota = QuotaTable(
                data / QUOTA_FILE,
                slots=self.config.quota_slots,
                period=DAY,
                restore=store.load_usage,
                clock=self._now,
            )
            logins = QuotaTable(
                data / LOGIN_FILE,
                slots=LOGIN_SLOTS,
                period=max(int(self.config.login_window), 1),
                clock=self._now,
            )
            flusher = Flusher(
                quota, store.save_usage, self.config.quota_persist_interval
            )
            flusher.start()
            self._store = store
            self._quota = self.counters("quota", quota)
            self._logins = self.counters("login", logins)
            self._handles = (store, self._quota)
            self._flusher = flusher
            self._pid = os.getpid()
            atexit.register(self.close)

    def _now(self) -> float:
        return self.clock()

    def counters(self, namespace: str, local: QuotaTable) -> "Quota":
        """Return ``local``, or with ``redis_url`` set, counters of ``namespace``
        on Redis that fall back to ``local`` (per ``redis_failure``)."""
        if self.redis is None:
            return local
        from sikker.core.quota_shared import shared_counters  # imports redis

        return shared_counters(self.redis, namespace, local)

    def store(self) -> AccountStore:
        """Return this process's account store."""
        if self._pid != os.getpid():
            self._open()
        assert self._store is not None
        return self._store

    def quota(self) -> "Quota":
        """Return this process's view of the shared daily quota counters."""
        if self._pid != os.getpid():
            self._open()
        assert self._quota is not None
        return self._quota

    def handles(self) -> "tuple[AccountStore, Quota]":
        """Return this process's account store and quota table.

        PERF: on every keyed request, so no system call: a fork forgets the
        handles (``_after_fork``) and the next call opens them again.
        """
        handles = self._handles
        if handles is None:
            self._open()
            handles = self._handles
            assert handles is not None
        return handles

    def logins(self) -> "Quota":
        """Return this process's view of the failed-login counters."""
        if self._pid != os.getpid():
            self._open()
        assert self._logins is not None
        return self._logins

    def allowed_ranges(self, account_id: str) -> list[str]:
        """Return an account's own CIDR ranges (its reports of them are refused)."""
        return self.store().allowed_ranges(account_id)

    def flush(self) -> None:
        """Copy the quota counters to LMDB now."""
        if self._flusher is not None and self._pid == os.getpid():
            self._flusher.flush()

    def close(self) -> None:
        """Flush the counters a last time and close everything (idempotent)."""
        with self._lock:
            if self._pid != os.getpid():
                return
            if self._flusher is not None:
                self._flusher.stop()
            for table in (self._quota, self._logins):
                if table is not None:
                    table.close()
            if self._store is not None:
                self._store.close()
            self._store = self._quota = self._logins = None
            self._handles = None
            self._flusher = None
            self._pid = 0
