"""Pick the compiled twin of a pure-Python module, or the module itself.

Every Cython module ``sikker.ext.NAME`` has a pure-Python twin
``sikker.core.NAME_py`` with the same API. ``sikker.core.NAME`` re-exports
whichever :func:`select` returns.

Environment switches:

* ``SIKKER_PURE=1`` always selects the pure twin (for tests and debugging).
* ``SIKKER_REQUIRE_EXTENSION=1`` makes a missing compiled twin fatal, so CI
  can never pass on the slow path by accident.
"""

import importlib
import os
from types import ModuleType

from sikker.errors import ExtensionMissingError


def truthy(value: str | None) -> bool:
    """Return True for the usual spellings of an enabled flag."""
    return (value or "").strip().lower() in {"1", "true", "yes", "on", "y"}


def compiled(name: str) -> ModuleType | None:
    """Return the compiled ``sikker.ext.<name>`` module, or None if absent.

    Raises:
        ExtensionMissingError: the module is absent and
            ``SIKKER_REQUIRE_EXTENSION`` is set.
    """
    try:
        return importlib.import_module(f"sikker.ext.{name}")
    except ImportError as ex:
        if truthy(os.environ.get("SIKKER_REQUIRE_EXTENSION")):
            raise ExtensionMissingError(
                f"sikker.ext.{name} is required (SIKKER_REQUIRE_EXTENSION is set) "
                f"but cannot be imported: {ex}. Reinstall with a C compiler: "
                "pip install -e ."
            ) from ex
        return None


def select(name: str) -> ModuleType:
    """Return the module to use for ``name``: compiled unless SIKKER_PURE."""
    pure = importlib.import_module(f"sikker.core.{name}_py")
    if truthy(os.environ.get("SIKKER_PURE")):
        return pure
    return compiled(name) or pure
