"""The Jinja2 environment of the site's templates, and its filters."""

import time
from typing import Any

import jinja2

from sikker.server.web.assets import Assets

#: Where an ATT&CK technique id is described.
MITRE = "https://attack.mitre.org/techniques/{}/"


def mitre_url(technique: str) -> str:
    """Return the ATT&CK page of a technique id (``T1098.004``)."""
    return MITRE.format(technique.replace(".", "/"))


def number(value: Any) -> str:
    """Return an integer with thousands separators (``12,345``)."""
    try:
        return f"{int(value):,}"
    except (TypeError, ValueError):
        return str(value)


def when(value: Any) -> str:
    """Return a time (epoch seconds or ISO 8601) as ``2026-11-20 10:00 UTC``."""
    if value is None or value == "" or value == 0:
        return "-"
    if isinstance(value, int | float):
        return time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(value))
    text = str(value)
    return f"{text[:10]} {text[11:16]} UTC" if len(text) >= 16 else text


def environment(assets: Assets) -> jinja2.Environment:
    """Return the environment: autoescaped HTML, strict about undefined names."""
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("sikker.server.web", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["num"] = number
    env.filters["when"] = when
    env.globals["static"] = assets.url
    env.globals["mitre_url"] = mitre_url
    return env
