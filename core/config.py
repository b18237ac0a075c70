"""Settings: one registry, one optional TOML file, environment overrides.

Precedence (highest first): explicit overrides (CLI flags), ``SIKKER_<NAME>``
environment variables, the TOML file (``--config``, ``SIKKER_CONFIG`` or
``./sikker.toml``), then the defaults below. docs/settings.md documents every
setting; a test keeps the two in step.
"""

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sikker.errors import ConfigError


@dataclass(frozen=True)
class Setting:
    """One configurable value."""

    name: str
    default: Any
    help: str

    @property
    def env(self) -> str:
        """Return the environment variable that overrides this setting."""
        return f"SIKKER_{self.name.upper()}"

    def coerce(self, value: Any, origin: str) -> Any:
        """Convert ``value`` to this setting's type or raise ConfigError."""
        kind = type(self.default)
        try:
            if kind is bool and isinstance(value, str):
                lowered = value.strip().lower()
                if lowered not in {"1", "0", "true", "false", "yes", "no", "on", "off"}:
                    raise ValueError(value)
                return lowered in {"1", "true", "yes", "on"}
            if kind is bool and not isinstance(value, bool):
                raise ValueError(value)
            if kind in (int, float) and isinstance(value, bool):
                raise ValueError(value)
            return kind(value)
        except (TypeError, ValueError):
            raise ConfigError(
                f"{origin}: setting {self.name!r} expects {kind.__name__}, "
                f"got {value!r}"
            ) from None


SETTINGS: tuple[Setting, ...] = (
    Setting(
        "data_dir", "data", "Directory holding snapshots (and later the event log)."
    ),
    Setting("bind", "127.0.0.1:8080", "Address gunicorn listens on (host:port)."),
    Setting("workers", 2, "Number of gunicorn worker processes."),
    Setting("threads", 1, "Threads per worker (>1 selects gunicorn's gthread worker)."),
    Setting("timeout", 30, "Seconds before gunicorn restarts a silent worker."),
    Setting(
        "snapshot_check_interval",
        1.0,
        "Seconds between checks for a newly published snapshot (0 = every request).",
    ),
    Setting("keep_snapshots", 3, "Published snapshots kept on disk after a build."),
    Setting(
        "blacklist_default_limit", 10_000, "Blacklist entries returned without ?limit."
    ),
    Setting(
        "blacklist_max_limit", 10_000_000, "Largest ?limit a blacklist request may ask."
    ),
    Setting("catalog_path", "", "Threat catalog TOML file ('' = the shipped catalog)."),
    Setting(
        "plans_path",
        "",
        "Plans TOML file: quotas, alert limits, caps ('' = the shipped plans).",
    ),
    Setting(
        "allow_registration",
        True,
        "Let anyone create an account with POST /v1/account.",
    ),
    Setting(
        "auth_cache_seconds",
        5.0,
        "Seconds a worker may reuse an API key lookup (changes apply sooner).",
    ),
    Setting(
        "quota_slots",
        65_536,
        "Counters in the shared quota table (4 per account active in 2 days).",
    ),
    Setting(
        "quota_persist_interval",
        2.0,
        "Seconds between copies of the quota counters to LMDB.",
    ),
    Setting(
        "login_max_failures",
        10,
        "Failed logins (or registrations) per client address per login_window.",
    ),
    Setting("login_window", 300, "Seconds over which login_max_failures counts."),
    Setting(
        "redis_url",
        "",
        "Redis URL shared by several nodes: quotas, limits, notices ('' = none).",
    ),
    Setting(
        "redis_failure",
        "open",
        "While Redis is down: open (count on this host) or closed (answer 503).",
    ),
    Setting(
        "redis_timeout",
        0.1,
        "Seconds a Redis connection or command may take before Redis counts as down.",
    ),
    Setting(
        "redis_retry_seconds",
        5.0,
        "Seconds a node leaves Redis alone after a failure before trying again.",
    ),
    Setting(
        "redis_prefix", "sikker:", "Prefix of every Redis key and channel sikker uses."
    ),
    Setting(
        "build_batch_events",
        50_000,
        "Events the builder folds into one state commit and generation.",
    ),
    Setting(
        "follow_interval",
        0.5,
        "Seconds `sikker build --follow` waits when no new events arrived.",
    ),
    Setting(
        "overlay_max_ips",
        200_000,
        "Changed IPs an overlay may hold before the builder compacts a new base.",
    ),
    Setting(
        "session_timeout",
        3600,
        "Seconds without events after which the builder forgets an open session.",
    ),
    Setting(
        "geoip_country_db",
        "",
        "GeoLite2/GeoIP2/DB-IP Country or City .mmdb file ('' = no countries).",
    ),
    Setting("geoip_asn_db", "", "GeoLite2/DB-IP ASN .mmdb file ('' = no ASNs)."),
    Setting(
        "accept_private_sources",
        False,
        "Accept sensor events from non-public source addresses (labs, tests).",
    ),
    Setting(
        "sensor_max_body_bytes",
        16 * 1024 * 1024,
        "Largest request body POST /v1/sensor/events accepts (413 beyond).",
    ),
    Setting(
        "max_body_bytes",
        3 * 1024 * 1024,
        "Largest request body any other endpoint accepts (413 beyond).",
    ),
    Setting(
        "metrics_allow",
        "127.0.0.0/8,::1/128",
        "Client networks (comma-separated CIDRs) that may read GET /metrics.",
    ),
    Setting(
        "bulk_max_body_bytes",
        16 * 1024 * 1024,
        "Largest body of a bulk check or a bulk report (413 beyond).",
    ),
    Setting(
        "report_csv_max_bytes",
        2 * 1024 * 1024,
        "Largest CSV file a bulk report accepts (413 beyond).",
    ),
    Setting(
        "trusted_proxies",
        "127.0.0.1,::1",
        "Proxies (comma-separated) whose X-Forwarded-For names the client.",
    ),
    Setting(
        "alert_repeat_seconds",
        3600,
        "Seconds before one address or name matches the same alert again.",
    ),
    Setting("webhook_timeout", 5.0, "Seconds a webhook delivery waits for an answer."),
    Setting(
        "webhook_max_attempts", 8, "Attempts per webhook delivery before it fails."
    ),
    Setting(
        "webhook_retry_seconds",
        10.0,
        "Seconds before a webhook's first retry; doubles per attempt (at most 1 h).",
    ),
    Setting(
        "webhook_poll_interval",
        1.0,
        "Seconds the webhook deliverer waits when no delivery is due.",
    ),
    Setting(
        "webhook_allow_private",
        False,
        "Allow webhooks to private, loopback and local hosts (labs, tests).",
    ),
    Setting("removal_days", 30, "Days an approved removal request delists an address."),
    Setting(
        "removal_requests_per_hour",
        5,
        "Removal requests one client address may send per hour (429 beyond).",
    ),
    Setting(
        "web_lookups_per_minute",
        30,
        "Free web lookups (/lookup) one client address may make per minute.",
    ),
    Setting(
        "web_previews_per_minute",
        120,
        "Export-tool previews (/export/preview) one client address may ask per minute.",
    ),
    Setting(
        "web_session_hours", 336.0, "Hours a web sign-in lasts (sign out ends it)."
    ),
    Setting(
        "admin_emails",
        "",
        "Accounts (comma-separated e-mails) that review removal requests on the web.",
    ),
    Setting(
        "demo_ips", 100_000, "IPs generated by `sikker demo` when --ips is not given."
    ),
    Setting(
        "taxii_max_page_size",
        1000,
        "Most objects one TAXII page holds (the default and the cap of ?limit).",
    ),
    Setting(
        "sync_history",
        32,
        "Sets of one filter the sync endpoints keep to answer deltas from.",
    ),
    Setting(
        "sync_history_filters",
        64,
        "Filters whose sets the sync endpoints keep (least recently served go).",
    ),
    Setting(
        "replica_of",
        "",
        "URL of the primary this server is a read replica of ('' = not a replica).",
    ),
    Setting(
        "replica_token",
        "",
        "Token a replica sends its primary (`sikker replica add` on the primary).",
    ),
    Setting(
        "replica_poll_seconds",
        1.0,
        "Seconds between a replica's checks for a new snapshot on its primary.",
    ),
    Setting(
        "replica_writes",
        "forward",
        "What a replica does with writes: forward (to the primary) or reject (403).",
    ),
    Setting(
        "replica_timeout",
        10.0,
        "Seconds a replica waits for its primary (sync and forwarded requests).",
    ),
    Setting("log_level", "info", "gunicorn log level (debug, info, warning, error)."),
    Setting("access_log", "-", "gunicorn access log file ('-' = stderr, '' = off)."),
)
_BY_NAME = {s.name: s for s in SETTINGS}


class Config:
    """Resolved settings; read them as attributes (``config.data_dir``)."""

    def __init__(self, values: Mapping[str, Any], source: str | None = None) -> None:
        self._values = dict(values)
        self.source = source

    def __getattr__(self, name: str) -> Any:
        try:
            return self._values[name]
        except KeyError:
            raise AttributeError(name) from None

    def as_dict(self) -> dict[str, Any]:
        """Return every setting and its resolved value."""
        return dict(self._values)

    @property
    def data_path(self) -> Path:
        """Return ``data_dir`` as an absolute path."""
        return Path(self.data_dir).expanduser().resolve()


def load_config(
    path: str | Path | None = None,
    overrides: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
) -> Config:
    """Resolve every setting (see the module docstring for precedence)."""
    environ = os.environ if environ is None else environ
    values = {s.name: s.default for s in SETTINGS}
    source = path or environ.get("SIKKER_CONFIG")
    if source is None and Path("sikker.toml").is_file():
        source = "sikker.toml"
    if source:
        for name, value in _read_file(Path(source)).items():
            values[name] = _BY_NAME[name].coerce(value, str(source))
    for setting in SETTINGS:
        if setting.env in environ:
            values[setting.name] = setting.coerce(environ[setting.env], setting.env)
    for name, value in (overrides or {}).items():
        if value is not None:
            values[name] = _known(name, "override").coerce(value, f"--{name}")
    return Config(values, str(source) if source else None)


def _read_file(path: Path) -> dict[str, Any]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"configuration file {path} does not exist") from None
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as ex:
        raise ConfigError(f"{path}: {ex}") from None
    for name in data:
        _known(name, str(path))
    return data


def _known(name: str, origin: str) -> Setting:
    try:
        return _BY_NAME[name]
    except KeyError:
        raise ConfigError(
            f"{origin}: unknown setting {name!r}; known settings: {', '.join(_BY_NAME)}"
        ) from None
