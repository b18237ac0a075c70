"""Fuzz harnesses for sikker's parsers of untrusted input (docs/fuzzing.md).

Each harness takes raw bytes and either returns or raises ``AssertionError``
(a finding). Run them with atheris through ``fuzz/run``, or over their seeds
and random bytes with ``tests/test_fuzz.py``.
"""
