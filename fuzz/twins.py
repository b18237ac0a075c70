"""Run code under each twin of the IP core, so harnesses can compare them."""

from collections.abc import Iterator
from contextlib import contextmanager
from types import ModuleType

from sikker.core import canonical, events, ipcore, ipcore_py
from sikker.core.twins import compiled

#: The functions ``sikker.core.ipcore`` re-exports from its twin.
NAMES = tuple(name for name in ipcore.__all__ if name != "IMPLEMENTATION")


def implementations() -> list[ModuleType]:
    """Return the pure twin and, when it is built, the compiled one."""
    ext = compiled("ipcore")
    return [ipcore_py] if ext is None else [ipcore_py, ext]


def _clear_caches() -> None:
    """Forget answers a twin gave (modules cache parsed addresses)."""
    events._source.cache_clear()
    canonical.canonical_text.cache_clear()


@contextmanager
def using(impl: ModuleType) -> Iterator[None]:
    """Make ``sikker.core.ipcore`` re-export ``impl`` while the block runs."""
    saved = {name: getattr(ipcore, name) for name in NAMES}
    _clear_caches()
    for name in NAMES:
        setattr(ipcore, name, getattr(impl, name))
    try:
        yield
    finally:
        for name, value in saved.items():
            setattr(ipcore, name, value)
        _clear_caches()
