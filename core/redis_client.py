"""The Redis settings of a node and one connection pool per process.

Several nodes share quota counters, rate limits and snapshot notices
through one Redis server when ``redis_url`` is set (docs/operations.md,
"Shared quotas on Redis"). This module validates those settings and hands
out clients with short timeouts and no automatic retries: a counting
command that timed out may have run, so retrying it could count twice.
A forked child never reuses its parent's clients: :func:`client` forgets
them at ``fork()`` and opens a new pool on first use.
"""

import os
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sikker.errors import ConfigError

if TYPE_CHECKING:  # redis is imported when first used: it takes ~0.1 s
    import redis

#: What a node does while Redis is unreachable (setting ``redis_failure``).
FAILURE_MODES = ("open", "closed")


@dataclass(frozen=True)
class RedisSettings:
    """How a node reaches Redis and what it does when Redis is down."""

    url: str
    prefix: str = "sikker:"
    failure: str = "open"
    timeout: float = 0.1
    retry_seconds: float = 5.0

    @property
    def fail_open(self) -> bool:
        """Return True when requests count on this host while Redis is down."""
        return self.failure == "open"

    @classmethod
    def from_config(cls, config: Any) -> "RedisSettings | None":
        """Return the settings of ``config``, or None when ``redis_url`` is empty.

        Raises:
            ConfigError: a setting is invalid (nothing connects yet).
        """
        url = str(config.redis_url).strip()
        if not url:
            return None
        settings = cls(
            url,
            str(config.redis_prefix),
            str(config.redis_failure).strip().lower(),
            float(config.redis_timeout),
            float(config.redis_retry_seconds),
        )
        settings.validate()
        return settings

    def validate(self) -> None:
        """Raise ConfigError unless every value is usable."""
        if self.failure not in FAILURE_MODES:
            raise ConfigError(
                f"setting 'redis_failure' must be one of {', '.join(FAILURE_MODES)}, "
                f"got {self.failure!r}"
            )
        if not 0 < self.timeout <= 60:
            raise ConfigError("setting 'redis_timeout' must be > 0 and <= 60 seconds")
        if self.retry_seconds < 0:
            raise ConfigError("setting 'redis_retry_seconds' must be >= 0")
        import redis

        try:
            redis.ConnectionPool.from_url(self.url)
        except ValueError as ex:
            raise ConfigError(f"setting 'redis_url': {ex}") from None


def connect(
    settings: RedisSettings, read_timeout: float | None = None
) -> "redis.Redis":
    """Return a new client of ``settings.url`` (no connection is made yet).

    Connecting and every command time out after ``settings.timeout``
    seconds (reads after ``read_timeout`` when given: a subscriber waits
    longer); failed commands are never retried by the client.
    """
    import redis
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    return redis.Redis.from_url(
        settings.url,
        socket_timeout=read_timeout or settings.timeout,
        socket_connect_timeout=settings.timeout,
        retry=Retry(NoBackoff(), 0),
        client_name="sikker",
    )


_CLIENTS: dict[RedisSettings, "redis.Redis"] = {}
_LOCK = threading.Lock()
os.register_at_fork(after_in_child=_CLIENTS.clear)


def client(settings: RedisSettings) -> "redis.Redis":
    """Return this process's shared client of ``settings`` (thread-safe)."""
    found = _CLIENTS.get(settings)
    if found is None:
        with _LOCK:
            found = _CLIENTS.get(settings)
            if found is None:
                found = _CLIENTS[settings] = connect(settings)
    return found
