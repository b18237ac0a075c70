"""Shared fixtures: both twins of every compiled module, hypothesis profiles."""

import importlib
import os
from types import ModuleType

import pytest
from hypothesis import HealthCheck, settings

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
