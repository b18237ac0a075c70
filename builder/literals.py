"""Required literals of a regular expression: a cheap pre-filter for matching.

:func:`analyse` reads a pattern's parse tree (the stdlib's own parser, so the
result follows exactly what :mod:`re` compiles) and returns *needles*: a set
of literal strings such that every match of the pattern contains at least one
of them. Testing ``needle in value`` is far cheaper than a regex search, so a
matcher only runs the regexes whose needles occur in the value.

It is only an optimisation: when the parser's internals are not what this
module expects, or a pattern has no useful literal, :func:`analyse` returns
``None`` needles and the caller simply always runs the regex.
"""

import dataclasses
import importlib
import re
from typing import Any

try:  # private modules: the analysis is skipped when they change shape
    _parser: Any = importlib.import_module("re._parser")
    _c: Any = importlib.import_module("re._constants")
    _REPEATS = tuple(
        getattr(_c, name)
        for name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT")
        if hasattr(_c, name)
    )
    _ATOMIC = getattr(_c, "ATOMIC_GROUP", None)
except (ImportError, AttributeError):  # pragma: no cover - other Python versions
    _parser = None

#: Leading needles this long are preferred to longer needles found later in
#: the pattern: the search then starts where a match may start.
LEADING_ENOUGH = 3

Needles = frozenset[str]


@dataclasses.dataclass(frozen=True)
class Analysis:
    """What a pattern needs, for pre-filtering.

    Attributes:
        needles: Every match contains one of these (``None``: unknown).
        ignorecase: The needles are lower-case and must be looked for in the
            lower-cased value; only sound for ASCII values.
        leading: Every match *starts* with one of the needles, so a search
            may begin at the first needle found.
        literal: The whole pattern is exactly one literal needle: finding
            it is the match (no regex needed).
    """

    needles: Needles | None
    ignorecase: bool = False
    leading: bool = False
    literal: bool = False


def analyse(pattern: str) -> Analysis:
    """Return the needles of a regex pattern (``needles`` None when unknown)."""
    if _parser is None:
        return Analysis(None)
    try:
        tree = _parser.parse(pattern)
        icase = bool(tree.state.flags & re.IGNORECASE)
        items = list(tree.data)
        literal = _whole_literal(items, icase)
        if literal is not None:
            return Analysis(frozenset([literal]), icase, True, True)
        required = _required(items, icase)
        leading = _leading(items, icase)
    except Exception:  # pragma: no cover - parser internals changed
        return Analysis(None)
    if leading is not None and _strength(leading) >= min(
        _strength(required), LEADING_ENOUGH
    ):
        return Analysis(_minimal(leading, prefix=True), icase, leading=True)
    if required is None:
        return Analysis(None)
    return Analysis(_minimal(required), icase)


def _strength(needles: Needles | None) -> int:
    """Return the length of the shortest needle (0 for none): its selectivity."""
    return min(map(len, needles)) if needles else 0


def _minimal(needles: Needles, prefix: bool = False) -> Needles:
    """Drop needles that contain another needle (the shorter one suffices).

    With ``prefix``, only needles that start with another one are dropped, so
    the first needle found is still where a match may start.
    """
    if prefix:
        return frozenset(
            n for n in needles if not any(o != n and n.startswith(o) for o in needles)
        )
    return frozenset(n for n in needles if not any(o != n and o in n for o in needles))


def _char(code: int, icase: bool) -> str | None:
    """Return a literal's text, or None when it cannot be a needle."""
    if not icase:
        return chr(code)
    # Unicode case folding maps some ASCII letters to other scripts (the
    # Kelvin sign matches 'k'): only ASCII needles against ASCII values.
    return chr(code).lower() if code < 128 else None


def _whole_literal(items: list[Any], icase: bool) -> str | None:
    chars = []
    for op, av in items:
        text = _char(av, icase) if op is _c.LITERAL else None
        if text is None:
            return None
        chars.append(text)
    return "".join(chars) or None


def _best(candidates: list[Needles]) -> Needles | None:
    if not candidates:
        return None
    return max(candidates, key=lambda s: (min(map(len, s)), -len(s)))


def _same_case(av: Any, icase: bool) -> bool:
    """Return whether a group keeps the enclosing case sensitivity.

    Needles of one pattern share one case mode; a group that switches it
    (``(?i:...)``, ``(?-i:...)``) is not looked into.
    """
    add, remove = av[1], av[2]
    scoped = (icase or bool(add & re.IGNORECASE)) and not remove & re.IGNORECASE
    return scoped == icase


def _required(items: list[Any], icase: bool) -> Needles | None:
    """Return the most selective set one of which every match contains."""
    candidates: list[Needles] = []
    run: list[str] = []
    for op, av in items:
        text = _char(av, icase) if op is _c.LITERAL else None
        if text is not None:
            run.append(text)
            continue
        if op is _c.AT:  # zero width: the literals around it are adjacent
            continue
        if run:
            candidates.append(frozenset(["".join(run)]))
            run = []
        found = _required_in(op, av, icase)
        if found:
            candidates.append(found)
    if run:
        candidates.append(frozenset(["".join(run)]))
    return _best(candidates)


def _required_in(op: Any, av: Any, icase: bool) -> Needles | None:
    if op is _c.SUBPATTERN:
        return _required(list(av[3]), icase) if _same_case(av, icase) else None
    if op is _c.BRANCH:
        parts = [_required(list(branch), icase) for branch in av[1]]
        if all(parts):
            return frozenset().union(*parts)  # type: ignore[arg-type]
        return None
    if op in _REPEATS and av[0] >= 1:
        return _required(list(av[2]), icase)
    if _ATOMIC is not None and op is _ATOMIC:
        return _required(list(av), icase)
    return None


def _leading(items: list[Any], icase: bool) -> Needles | None:
    """Return a set one of which every match starts with."""
    run: list[str] = []
    for op, av in items:
        text = _char(av, icase) if op is _c.LITERAL else None
        if text is not None:
            run.append(text)
            continue
        if run:
            break
        if op is _c.AT:  # zero width, e.g. \b before the first literal
            continue
        if op is _c.SUBPATTERN:
            if not _same_case(av, icase):
                return None
            return _leading(list(av[3]), icase)
        if op is _c.BRANCH:
            parts = [_leading(list(branch), icase) for branch in av[1]]
            if all(parts):
                return frozenset().union(*parts)  # type: ignore[arg-type]
            return None
        if op in _REPEATS and av[0] >= 1:
            return _leading(list(av[2]), icase)
        return None
    return frozenset(["".join(run)]) if run else None
