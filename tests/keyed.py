"""Apps with accounts for tests: small plans, a settable clock, direct store access."""

from pathlib import Path
from typing import Any

import falcon.testing

from sikker.core.config import load_config
from sikker.server.app import SikkerApp, create_app
from tests.factories import FAST_KDF, PASSWORD

#: Plans with quotas small enough to use up in a test.
SMALL_PLANS = """
default = "tiny"

[plans.tiny]
name = "Tiny"
quotas = { lookups = 3, reports = 2, blacklist = 4, taxii = 5 }
alerts.ip = 2
alerts.range = 1
alerts.username = 1
alerts.email = 1
alerts.range_prefix_v4 = 28
alerts.range_prefix_v6 = 64
caps = { bulk_check_ips = 10, bulk_report_rows = 10, blacklist_limit = 10 }

[plans.big]
name = "Big"
quotas = { lookups = 30, reports = 20, blacklist = 40, taxii = 50 }
alerts.ip = 20
alerts.range = 10
alerts.username = 10
alerts.email = 10
alerts.range_prefix_v4 = 16
alerts.range_prefix_v6 = 48
caps = { bulk_check_ips = 100, bulk_report_rows = 100, blacklist_limit = 100 }
"""


class Clock:
    """A settable clock (epoch seconds)."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def write_plans(data: Path, text: str = SMALL_PLANS) -> Path:
    """Write a plans file beside the data directory; return its path."""
    path = data.parent / f"{data.name}-plans.toml"
    path.write_text(text)
    return path


def keyed_app(data: Path, **settings: Any) -> SikkerApp:
    """Return an app on ``data`` whose account store hashes passwords cheaply."""
    config = load_config(
        overrides={"data_dir": str(data), "snapshot_check_interval": 0, **settings},
        environ={},
    )
    app = create_app(config)
    store = app.keyed.service.store()
    store.kdf = FAST_KDF  # new hashes only; stored ones carry their own cost
    return app


def client(app: SikkerApp, **headers: str) -> falcon.testing.TestClient:
    """Return a test client of ``app``."""
    return falcon.testing.TestClient(app, headers=headers or None)


def new_key(app: SikkerApp, email: str, plan: str | None = None) -> str:
    """Create ``email``'s account (if new) in the app's store; return a new key."""
    store = app.keyed.service.store()
    try:
        account = store.user(email)
    except LookupError:
        account = store.add_user(email, PASSWORD, plan)
    return store.create_key(account.id)[1]


def close(app: SikkerApp) -> None:
    """Flush and close the app's account store and quota tables (a restart)."""
    app.keyed.service.close()
