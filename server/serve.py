"""Run the app under gunicorn from Python (what ``sikker serve`` calls)."""

from gunicorn.app.base import BaseApplication

from sikker.core.config import Config
from sikker.server.app import SikkerApp, create_app
from sikker.server.gunicorn_options import options


class _Gunicorn(BaseApplication):
    def __init__(self, config: Config) -> None:
        self.sikker_config = config
        super().__init__()

    def load_config(self) -> None:
        for key, value in options(self.sikker_config).items():
            self.cfg.set(key, value)

    def load(self) -> SikkerApp:
        return create_app(self.sikker_config)


def serve(config: Config) -> None:
    """Serve ``config.data_dir`` with gunicorn until interrupted."""
    _Gunicorn(config).run()
