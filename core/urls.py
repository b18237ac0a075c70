"""Base URLs of sikker servers in settings: ``http(s)://host[:port][/prefix]``."""

from urllib.parse import SplitResult, urlsplit

from sikker.errors import ConfigError


def split_http_url(url: str, source: str, example: str) -> SplitResult:
    """Return the parts of an http(s) URL with a host and a valid port.

    Raises:
        ConfigError: naming ``source`` (the setting or file) and showing
            ``example`` when ``url`` is not such a URL.
    """
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError as ex:
        raise ConfigError(f"{source}: {url[:200]!r} is not a URL: {ex}") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(
            f"{source}: {url[:200]!r} is not an http(s) URL with a host, "
            f"such as {example}"
        )
    return parts
