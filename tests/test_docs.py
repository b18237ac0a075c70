"""The docs cover every setting, endpoint and CLI command (datasette-style)."""

import argparse
import re
from pathlib import Path

import falcon.inspect
import pytest

from sikker.cli import build_parser
from sikker.core.config import SETTINGS, load_config
from sikker.server.app import create_app

DOCS = Path(__file__).resolve().parent.parent / "docs"
README = DOCS.parent / "README.md"


@pytest.mark.parametrize("setting", SETTINGS, ids=lambda s: s.name)
def test_every_setting_is_documented(setting) -> None:  # type: ignore[no-untyped-def]
    text = (DOCS / "settings.md").read_text()
    assert f"| `{setting.name}` |" in text
    assert f"`{setting.env}`" in text


def _routes() -> list[tuple[str, str]]:
    app = create_app(load_config(environ={}))
    return [
        (method.method, route.path)
        for route in falcon.inspect.inspect_routes(app)
        for method in route.methods
        if not method.internal
    ]


@pytest.mark.parametrize(("method", "path"), _routes())
def test_every_endpoint_is_documented(method: str, path: str) -> None:
    assert f"`{method} {path}`" in (DOCS / "api.md").read_text()
    assert f"`{path}`" in README.read_text()


def _commands() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(sub.choices)


@pytest.mark.parametrize("name", sorted(_commands()))
def test_every_cli_command_and_option_is_documented(name: str) -> None:
    text = (DOCS / "cli.md").read_text()
    section = re.search(rf"^## `sikker {name}.*?(?=^## |\Z)", text, re.M | re.S)
    assert section, f"docs/cli.md has no section for sikker {name}"
    for action in _commands()[name]._actions:
        for option in action.option_strings:
            if option not in ("-h", "--help", "--json"):
                assert option in section.group(0), f"{option} of sikker {name}"


def test_every_catalog_field_and_action_is_documented() -> None:
    from sikker.builder.catalog import ACTIONS, FIELDS

    text = (DOCS / "catalog.md").read_text()
    for name in (*FIELDS, *ACTIONS):  # in the first cell of a table row
        assert re.search(rf"^\|[^|\n]*`{name}`[^|\n]*\|", text, re.M), name
