"""gunicorn settings derived from sikker's settings (used by both entry points).

The app is never preloaded, so each worker builds it, and opens the
snapshot, after fork.
"""

import logging
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
    }


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
