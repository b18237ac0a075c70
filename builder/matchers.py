"""One compiled matcher per (protocol, field): which primitives a value matches.

A :class:`FieldMatcher` holds the primitives of one evidence field on one
protocol and answers :meth:`FieldMatcher.match` with the catalog indexes of
those matching a value. It is built once and tests a value only as far as
needed:

* ``equals`` primitives are one dict lookup;
* ``contains`` primitives, and regexes (or globs) that are one plain literal,
  are a substring test;
* other regexes and globs have *needles* (:mod:`sikker.builder.literals`):
  a regex only runs when one of its needles occurs in the value, and when
  every match starts with a needle the search starts at the first one found;
* ``prefix`` primitives are ``str.startswith``.

Measured on shell commands against the shipped catalog, needles make a
command about 6x cheaper than searching every regex. Results are cached per
value (bounded), as honeypot traffic repeats the same values a great deal.
"""

import dataclasses
import re
from collections.abc import Sequence
from fnmatch import fnmatchcase, translate
from typing import Protocol

from sikker.builder.catalog import Primitive
from sikker.builder.literals import Analysis, analyse

#: Values cached per matcher before the cache is cleared.
CACHE_SIZE = 8192
#: Longer values are not cached (rarely repeated, costly to keep).
CACHE_MAX_LEN = 512


class ValueMatcher(Protocol):
    """What the engine needs of a matcher: the primitives a value matches."""

    def match(self, value: str) -> tuple[int, ...]:
        """Return the catalog indexes of the primitives ``value`` matches."""
        ...


Needles = list[tuple[str, tuple["_Test", ...], bool]]


@dataclasses.dataclass(frozen=True, eq=False, slots=True)
class _Test:
    """How to confirm one primitive once its needles were found."""

    index: int
    regex: re.Pattern[str] | None  # None: a contains primitive
    exact: bool  # finding a needle is the match
    anchored: bool  # glob: re.match on the whole value
    leading: bool  # search from the first needle found


def _table(needles: dict[str, list[_Test]]) -> Needles:
    """Return ``(needle, tests, any test leading)``, longest needles first."""
    return [
        (needle, tuple(tests), any(t.leading for t in tests))
        for needle, tests in sorted(needles.items(), key=lambda e: -len(e[0]))
    ]


class FieldMatcher:
    """Every primitive of one (protocol, field) group, compiled once."""

    def __init__(
        self,
        primitives: Sequence[tuple[int, Primitive]],
        cache_size: int = CACHE_SIZE,
    ) -> None:
        """Compile ``(catalog index, primitive)`` pairs of one field."""
        self.indexes = tuple(index for index, _ in primitives)
        self._equals: dict[str, tuple[int, ...]] = {}
        self._prefixes: list[tuple[str, int]] = []
        self._always: list[_Test] = []
        self._icase: list[_Test] = []  # regexes with lower-case needles
        needles: dict[str, list[_Test]] = {}
        lower: dict[str, list[_Test]] = {}
        for index, primitive in primitives:
            pattern = primitive.pattern
            if primitive.match == "equals":
                self._equals[pattern] = (*self._equals.get(pattern, ()), index)
            elif primitive.match == "prefix":
                self._prefixes.append((pattern, index))
            elif primitive.match == "contains":
                test = _Test(index, None, True, False, False)
                needles.setdefault(pattern, []).append(test)
            else:
                glob = primitive.match == "glob"
                regex = re.compile(translate(pattern) if glob else pattern)
                self._add_regex(index, regex, glob, needles, lower)
        self._needles = _table(needles)
        self._lower = _table(lower)
        self._cache: dict[str, tuple[int, ...]] = {}
        self._cache_size = cache_size

    def _add_regex(
        self,
        index: int,
        regex: re.Pattern[str],
        glob: bool,
        needles: dict[str, list[_Test]],
        lower: dict[str, list[_Test]],
    ) -> None:
        found: Analysis = analyse(regex.pattern)
        if found.needles is None:
            self._always.append(_Test(index, regex, False, glob, False))
            return
        test = _Test(
            index,
            regex,
            found.literal and not glob,
            glob,
            found.leading and not glob,
        )
        if found.ignorecase:
            self._icase.append(test)
        table = lower if found.ignorecase else needles
        for needle in found.needles:
            table.setdefault(needle, []).append(test)

    def match(self, value: str) -> tuple[int, ...]:
        """Return the catalog indexes of the primitives ``value`` matches."""
        cached = self._cache.get(value)
        if cached is not None:
            return cached
        result = self._match(value)
        if len(value) <= CACHE_MAX_LEN:
            if len(self._cache) >= self._cache_size:
                self._cache.clear()
            self._cache[value] = result
        return result

    def _match(self, value: str) -> tuple[int, ...]:
        found = list(self._equals.get(value, ()))
        for prefix, index in self._prefixes:
            if value.startswith(prefix):
                found.append(index)
        # Each candidate test, with where its search may start (-1: anywhere).
        starts: dict[_Test, int] = {}
        for needle, tests, leading in [e for e in self._needles if e[0] in value]:
            _first(starts, tests, value.find(needle) if leading else 0)
        if self._lower:
            if value.isascii():  # lower-casing ASCII keeps positions
                folded = value.lower()
                for needle, tests, leading in [
                    e for e in self._lower if e[0] in folded
                ]:
                    _first(starts, tests, folded.find(needle) if leading else 0)
            else:  # case folding beyond ASCII: let the regexes decide
                for test in self._icase:
                    starts[test] = -1
        for test in self._always:
            starts[test] = -1
        for test, at in starts.items():
            regex = test.regex
            if regex is None or (test.exact and at >= 0):
                found.append(test.index)
            elif test.anchored:
                if regex.match(value):
                    found.append(test.index)
            elif regex.search(value, at if test.leading and at > 0 else 0):
                found.append(test.index)
        if len(found) > 1:
            found.sort()
        return tuple(found)


def _first(starts: dict[_Test, int], tests: tuple[_Test, ...], at: int) -> None:
    """Record ``at`` as the start of each test unless it has an earlier one."""
    for test in tests:
        if at < starts.get(test, at + 1):
            starts[test] = at


class ReferenceMatcher:
    """The documented semantics, one primitive at a time: for tests and baselines.

    Same interface as :class:`FieldMatcher`, no needles and no cache: every
    primitive runs ``re.search``, ``in``, ``==``, ``startswith`` or
    :func:`fnmatch.fnmatchcase` on every value.
    """

    def __init__(
        self, primitives: Sequence[tuple[int, Primitive]], cache_size: int = 0
    ) -> None:
        """Keep ``(catalog index, primitive)`` pairs; ``cache_size`` is ignored."""
        self._tests = [
            (index, p.match, re.compile(p.pattern) if p.match == "regex" else None, p)
            for index, p in primitives
        ]

    def match(self, value: str) -> tuple[int, ...]:
        """Return the catalog indexes of the primitives ``value`` matches."""
        found = []
        for index, kind, regex, primitive in self._tests:
            pattern = primitive.pattern
            if regex is not None:
                hit = regex.search(value) is not None
            elif kind == "contains":
                hit = pattern in value
            elif kind == "equals":
                hit = value == pattern
            elif kind == "prefix":
                hit = value.startswith(pattern)
            else:
                hit = fnmatchcase(value, pattern)
            if hit:
                found.append(index)
        return tuple(sorted(found))
