"""Where the client commands find their server: flags, environment, a file.

Each of ``url``, ``key`` and ``timeout`` is taken from the first place that
gives it: the command's ``--url`` / ``--key`` / ``--timeout``, then the
``SIKKER_URL`` / ``SIKKER_KEY`` environment variables (an empty one counts
as unset), then the client config file. The file is ``SIKKER_CLIENT_CONFIG``
when set (it must exist), else ``$XDG_CONFIG_HOME/sikker/client.toml``
(``~/.config/sikker/client.toml``), read only when it exists::

    url = "https://sikker.example.net"
    key = "sk_live_..."
    timeout = 60
"""

import os
import string
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sikker.core.urls import split_http_url
from sikker.errors import ConfigError

#: Seconds to wait for the server when nothing sets ``timeout``.
DEFAULT_TIMEOUT = 60.0
MAX_TIMEOUT = 3600.0
FILE_KEYS = ("url", "key", "timeout")
_KEY_CHARS = frozenset(string.ascii_letters + string.digits + "_-.~+/=")


@dataclass(frozen=True)
class ClientSettings:
    """A server URL and key, with where each came from (for messages)."""

    url: str | None = None
    key: str | None = None
    timeout: float = DEFAULT_TIMEOUT
    sources: dict[str, str] = field(default_factory=dict)

    def source(self, name: str) -> str:
        """Return where ``name`` was set (``SIKKER_KEY``, a file, ``--key``)."""
        return self.sources.get(name, "nowhere")


def default_path(environ: Mapping[str, str]) -> Path:
    """Return the client config file used when SIKKER_CLIENT_CONFIG is unset."""
    base = environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "sikker" / "client.toml"


def resolve(
    url: str | None = None,
    key: str | None = None,
    timeout: float | None = None,
    environ: Mapping[str, str] | None = None,
) -> ClientSettings:
    """Return the settings of flags ``url``/``key``/``timeout`` (None: unset).

    Raises:
        ConfigError: a bad URL, key or timeout, or an unreadable config file.
    """
    environ = os.environ if environ is None else environ
    path, values = _read_file(environ)
    found: dict[str, Any] = {}
    sources: dict[str, str] = {}
    layers = (
        ("--", {"url": url, "key": key, "timeout": timeout}),
        ("", {"url": environ.get("SIKKER_URL"), "key": environ.get("SIKKER_KEY")}),
        (str(path), values),
    )
    for origin, layer in layers:
        for name, value in layer.items():
            if name not in found and value not in (None, ""):
                found[name] = value
                sources[name] = _origin(origin, name)
    return ClientSettings(
        url=_url(found.get("url"), sources.get("url", "")),
        key=_key(found.get("key"), sources.get("key", "")),
        timeout=_timeout(found.get("timeout"), sources.get("timeout", "")),
        sources=sources,
    )


def _origin(origin: str, name: str) -> str:
    if origin == "--":
        return f"--{name}"
    return f"SIKKER_{name.upper()}" if origin == "" else origin


def _read_file(environ: Mapping[str, str]) -> tuple[Path, dict[str, Any]]:
    explicit = environ.get("SIKKER_CLIENT_CONFIG")
    path = Path(explicit) if explicit else default_path(environ)
    try:
        with path.open("rb") as stream:
            values = tomllib.load(stream)
    except FileNotFoundError:
        if explicit:
            raise ConfigError(
                f"{path}: no such client config file (SIKKER_CLIENT_CONFIG)"
            ) from None
        return path, {}
    except (OSError, UnicodeDecodeError) as ex:
        raise ConfigError(f"{path}: cannot read the client config: {ex}") from None
    except tomllib.TOMLDecodeError as ex:
        raise ConfigError(f"{path}: invalid TOML: {ex}") from None
    unknown = sorted(set(values) - set(FILE_KEYS))
    if unknown:
        raise ConfigError(
            f"{path}: unknown client setting {unknown[0]!r}; "
            f"known: {', '.join(FILE_KEYS)}"
        )
    for name in ("url", "key"):
        if name in values and not isinstance(values[name], str):
            raise ConfigError(f"{path}: {name} must be a string")
    return path, values


def _url(value: Any, source: str) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    parts = split_http_url(
        text, source, "https://sikker.example.net or http://127.0.0.1:8080"
    )
    if parts.query or parts.fragment or parts.username or parts.password:
        raise ConfigError(
            f"{source}: {text!r}: give the server's base URL, without a query, "
            "fragment or user name (the key goes in --key, SIKKER_KEY or the file)"
        )
    return text.rstrip("/")


def _key(value: Any, source: str) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    if not set(text) <= _KEY_CHARS:
        raise ConfigError(
            f"{source}: the API key holds spaces or characters no key has "
            "(expected sk_live_...)"
        )
    return text


def _timeout(value: Any, source: str) -> float:
    if value is None:
        return DEFAULT_TIMEOUT
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigError(f"{source}: timeout must be a number of seconds")
    if not 0 < value <= MAX_TIMEOUT:
        raise ConfigError(
            f"{source}: timeout must be more than 0 and at most {MAX_TIMEOUT:g} s"
        )
    return float(value)
