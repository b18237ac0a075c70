"""Build the optional Cython extensions in ``ext/`` (everything else is in pyproject).

Environment knobs:

* ``SIKKER_DISABLE_CYTHON=1``: build a pure-Python install (the twins in
  ``sikker.core`` are used at run time).
* ``SIKKER_REQUIRE_EXTENSION=1``: a failed or skipped build is fatal instead of
  falling back to the pure-Python twins (CI sets it).
* ``SIKKER_ANNOTATE=1``: write Cython's HTML annotation next to each ``.pyx``.
"""

import os
import sys
from pathlib import Path

from setuptools import setup
from setuptools.command.build_ext import build_ext

HERE = Path(__file__).parent
REQUIRE = bool(os.environ.get("SIKKER_REQUIRE_EXTENSION"))
DISABLE = bool(os.environ.get("SIKKER_DISABLE_CYTHON"))

BANNER = """
**********************************************************************
WARNING: the sikker Cython extensions could not be built ({reason}).
sikker will run on its pure-Python twins, which are much slower.
Install a C compiler and the Python headers (Debian: build-essential
python3-dev) and reinstall, or set SIKKER_REQUIRE_EXTENSION=1 to make
this fatal.
**********************************************************************
"""


class OptionalBuildExt(build_ext):
    """Build extensions; fall back loudly unless they are required."""

    def run(self) -> None:
        try:
            super().run()
        except Exception as ex:  # compiler missing, headers missing, ...
            self._fallback(ex)

    def build_extension(self, ext) -> None:  # type: ignore[no-untyped-def]
        try:
            super().build_extension(ext)
        except Exception as ex:
            self._fallback(ex)

    def _fallback(self, ex: Exception) -> None:
        if REQUIRE:
            raise RuntimeError(
                "SIKKER_REQUIRE_EXTENSION is set but the Cython extensions failed "
                f"to build: {ex}. Install a C compiler and python3-dev."
            ) from ex
        sys.stderr.write(BANNER.format(reason=ex))


def extensions() -> list:
    if DISABLE:
        if REQUIRE:
            raise RuntimeError(
                "SIKKER_DISABLE_CYTHON and SIKKER_REQUIRE_EXTENSION are both set."
            )
        return []
    try:
        from Cython.Build import cythonize
    except ImportError as ex:
        if REQUIRE:
            raise RuntimeError(
                "please install Cython>=3.1 to build the sikker extensions "
                "(or set SIKKER_DISABLE_CYTHON=1)"
            ) from ex
        sys.stderr.write(BANNER.format(reason="Cython is not installed"))
        return []
    from setuptools import Extension

    modules = [
        Extension(
            f"sikker.ext.{pyx.stem}",
            [str(pyx.relative_to(HERE))],
            extra_compile_args=["-O3"],
            optional=not REQUIRE,
        )
        for pyx in sorted((HERE / "ext").glob("*.pyx"))
    ]
    return cythonize(
        modules,
        compiler_directives={
            "language_level": "3",
            "binding": True,
            "embedsignature": True,
        },
        annotate=bool(os.environ.get("SIKKER_ANNOTATE")),
    )


setup(ext_modules=extensions(), cmdclass={"build_ext": OptionalBuildExt})
