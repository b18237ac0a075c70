"""Locust traffic mixes against a sikker server (see docs/benchmarks.md)."""
