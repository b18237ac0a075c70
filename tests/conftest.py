"""Shared fixtures: both twins of every compiled module, hypothesis profiles."""

import importlib
import os
from collections.abc import Iterator
from types import ModuleType

import pytest
from hypothesis import HealthCheck, settings

from sikker.builder import demo
from sikker.builder.publish import publish
from sikker.core.layout import current_path
from sikker.core.snapshot import Snapshot
from sikker.core.twins import truthy

settings.register_profile("dev", max_examples=200)
settings.register_profile(
    "ci", max_examples=1000, suppress_health_check=[HealthCheck.too_slow], deadline=None
)
settings.load_profile(
    os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev")
)


def twin(name: str, which: str) -> ModuleType:
    """Return the ``pure`` or ``cython`` twin of a core module.

    The compiled twin is skipped when absent, unless SIKKER_REQUIRE_EXTENSION
    is set (CI), where its absence fails the test.
    """
    if which == "pure":
        return importlib.import_module(f"sikker.core.{name}_py")
    try:
        return importlib.import_module(f"sikker.ext.{name}")
    except ImportError as ex:
        if truthy(os.environ.get("SIKKER_REQUIRE_EXTENSION")):
            pytest.fail(f"compiled twin sikker.ext.{name} is missing: {ex}")
        pytest.skip(f"compiled twin sikker.ext.{name} is not built")


@pytest.fixture(params=["pure", "cython"])
def ipcore(request: pytest.FixtureRequest) -> ModuleType:
    """Each twin of the IP core in turn."""
    return twin("ipcore", request.param)


@pytest.fixture(params=["pure", "cython"])
def render(request: pytest.FixtureRequest) -> ModuleType:
    """Each twin of the renderer in turn."""
    return twin("render", request.param)


@pytest.fixture(scope="session")
def demo_3000(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Snapshot]:
    """A published 3,000-IP demo snapshot (seed 11), open for the session."""
    data = tmp_path_factory.mktemp("demo")
    publish(demo.generate(3000, seed=11, now=1_800_000_000), data)
    with Snapshot.open(current_path(data)) as snapshot:
        yield snapshot


@pytest.fixture(autouse=True, scope="session")
def _no_client_settings(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Keep a developer's SIKKER_URL, SIKKER_KEY and client.toml out of tests."""
    with pytest.MonkeyPatch.context() as patch:
        for name in ("SIKKER_URL", "SIKKER_KEY", "SIKKER_CLIENT_CONFIG"):
            patch.delenv(name, raising=False)
        patch.setenv("XDG_CONFIG_HOME", str(tmp_path_factory.mktemp("xdg")))
        yield
