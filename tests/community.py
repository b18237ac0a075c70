"""A test deployment for the community features: snapshot, app, API keys."""

from pathlib import Path
from typing import Any

import falcon.testing

from sikker.builder.incremental import IncrementalBuilder
from sikker.builder.publish import Publisher
from sikker.core.config import load_config
from sikker.core.eventlog import EventLog
from sikker.core.handles import shared
from sikker.core.layout import EVENTS_DIR
from sikker.server.app import SikkerApp, create_app
from tests.factories import api_key, bearer, build


class Env:
    """A data directory with the factory snapshot, an app and API keys."""

    def __init__(self, data: Path, snapshot: bool = True, **settings: Any) -> None:
        self.data = data
        if snapshot:
            build(data)
        overrides = {"data_dir": str(data), "snapshot_check_interval": 0, **settings}
        self.config = load_config(overrides=overrides, environ={})
        self.app: SikkerApp = create_app(self.config)
        self.key = self.new_key("tester@example.com")
        self.client = falcon.testing.TestClient(self.app, headers=bearer(self.key))

    @property
    def accounts(self) -> Any:
        """Return the app's account store (LMDB: one handle per process)."""
        return self.app.keyed.service.store()

    def new_key(self, email: str, plan: str = "business") -> str:
        """Return a new API key of ``email``'s account (created if new)."""
        return api_key(self.data, email, plan, store=self.accounts)

    def account_id(self, email: str = "tester@example.com") -> str:
        """Return the id of ``email``'s account."""
        return str(self.accounts.user(email).id)

    def as_(self, key: str) -> falcon.testing.TestClient:
        """Return a client that sends ``key``."""
        return falcon.testing.TestClient(self.app, headers=bearer(key))

    def events(self) -> list[dict[str, Any]]:
        """Return every event in the log."""
        return [event for _, event in shared(EventLog, self.data / EVENTS_DIR).read()]

    def builder(self, **settings: Any) -> IncrementalBuilder:
        """Return a builder of this data directory (the caller closes it)."""
        config = load_config(
            overrides={"data_dir": str(self.data), **settings}, environ={}
        )
        log = shared(EventLog, self.data / EVENTS_DIR)
        return IncrementalBuilder(self.data, config, log=log)

    def step(self, builder: IncrementalBuilder | None = None) -> None:
        """Fold pending events (and delistings) into a published generation."""
        own = builder is None
        builder = builder or self.builder()
        try:
            with Publisher(self.data) as publisher:
                builder.step(publisher)
        finally:
            if own:
                builder.close()
