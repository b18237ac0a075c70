"""Benchmark suites; each module exposes ``run(quick, say) -> dict``."""
