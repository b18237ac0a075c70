"""Run one harness under atheris (libFuzzer): ``python -m fuzz.main TARGET ARGS``.

``ARGS`` are libFuzzer's: corpus folders, ``-max_total_time=N``,
``-runs=N``, ``-artifact_prefix=DIR/``. sikker's Python modules and the
harnesses are instrumented for coverage as they are imported; the compiled
twin, the standard library and third-party modules run as they are.
"""

import sys

import atheris

with atheris.instrument_imports(include=["sikker", "fuzz"]):
    from fuzz.targets import TARGETS


def main(argv: list[str]) -> None:
    """Fuzz the target named by ``argv[1]`` until libFuzzer stops."""
    if len(argv) < 2 or argv[1] not in TARGETS:
        sys.exit(f"usage: python -m fuzz.main {{{','.join(TARGETS)}}} [libFuzzer args]")
    atheris.Setup([argv[0], *argv[2:]], TARGETS[argv[1]])
    atheris.Fuzz()


if __name__ == "__main__":
    main(sys.argv)
