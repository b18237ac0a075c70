"""gunicorn settings derived from sikker's settings (used by both entry points).

The app is never preloaded, so each worker builds it, and opens the
snapshot, after fork.
"""

import logging
from collections.abc import Callable
from typing import Any

from sikker.core.config import Config


def options(config: Config) -> dict[str, Any]:
    """Return gunicorn settings for a sikker configuration."""
    return {
        "bind": [config.bind],
        "workers": config.workers,
        "threads": config.threads,
        "worker_class": "gthread" if config.threads > 1 else "sync",
        "timeout": config.timeout,
        "graceful_timeout": 20,
        "preload_app": False,  # LMDB environments must never cross a fork
        "loglevel": config.log_level,
        "accesslog": config.access_log or None,
        "errorlog": "-",
        "control_socket_disable": True,
        "proc_name": "sikker",
        "post_worker_init": post_worker_init,
        "on_starting": first_start(config),
    }


def first_start(config: Config) -> Callable[[Any], None]:
    """Return the hook that creates the server secret and the operator's
    credentials on the first start (:func:`sikker.core.admin.ensure_admin`).

    It runs in the master before any worker is forked; the account store it
    opens is closed again, so no LMDB environment crosses the fork. A read
    replica skips it: its secret and accounts are its primary's.
    """

    def on_starting(server: Any) -> None:
        from sikker.server.accounts import bootstrap

        if config.replica_of:
            return

        try:
            path, created = bootstrap(config)
        except Exception as ex:  # the workers report it again, per request
            server.log.error("cannot prepare the accounts: %s", ex)
            return
        if created:  # where they are, never what they are
            server.log.info("wrote the operator's credentials to %s (mode 0600)", path)

    return on_starting


def post_worker_init(worker) -> None:  # type: ignore[no-untyped-def]
    """Open the current snapshot in the new worker so requests start warm."""
    store = getattr(worker.wsgi, "store", None)
    if store is None:
        return
    try:
        snapshot = store.current()
    except Exception as ex:  # no snapshot yet: requests answer 503 until one exists
        logging.getLogger("sikker.server").warning("worker %s: %s", worker.pid, ex)
    else:
        worker.log.info(
            "worker %s serving snapshot %s (%s IPs)",
            worker.pid,
            snapshot.sequence,
            snapshot.count,
        )
