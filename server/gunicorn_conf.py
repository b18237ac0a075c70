"""gunicorn config file: ``gunicorn -c python:sikker.server.gunicorn_conf ...``.

Run ``gunicorn -c python:sikker.server.gunicorn_conf 'sikker.server.app:get_app()'``;
every option comes from sikker's settings (config file and SIKKER_* variables).
"""

from sikker.core.config import load_config
from sikker.server.gunicorn_options import options

globals().update(options(load_config()))
