"""Both twins of the shared atomic words: the same API, exact under contention."""

import ast
import importlib
import inspect
import multiprocessing
import os
import re
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

import sikker.core.atomics
from sikker.core import atomics_py, twins
from sikker.errors import ExtensionMissingError
from tests.conftest import twin

WORDS = 64
METHODS = ["add", "buffer", "cas", "charge", "close", "load", "read", "store", "write"]


@pytest.fixture(params=["pure", "cython"])
def atomics(request: pytest.FixtureRequest) -> ModuleType:
    """Each twin of the atomics in turn."""
    return twin("atomics", request.param)


def _file(path: Path, words: int = WORDS) -> int:
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    os.ftruncate(fd, words * 8)
    return fd


@pytest.fixture
def words(atomics: ModuleType, tmp_path: Path) -> Iterator[object]:
    fd = _file(tmp_path / "words")
    shared = atomics.SharedWords(fd, WORDS * 8)
    os.close(fd)  # the mapping keeps working without the descriptor
    yield shared
    shared.close()


def counter(period: int, count: int) -> int:
    return period << atomics_py.COUNT_BITS | count


# -- plain word operations -----------------------------------------------------------


def test_store_load_add_and_cas_act_on_64_bit_words(words) -> None:  # type: ignore[no-untyped-def]
    words.store(3, 41)
    assert words.add(3, 1) == 42 and words.load(3) == 42
    assert words.load(2) == words.load(4) == 0  # neighbours untouched
    assert words.cas(3, 41, 7) is False and words.load(3) == 42
    assert words.cas(3, 42, 7) is True and words.load(3) == 7
    words.store(5, -1)
    assert words.load(5) == atomics_py.WORD_MASK
    assert words.add(5, 1) == 0  # wraps modulo 2**64


def test_words_outside_the_mapping_are_index_errors(words) -> None:  # type: ignore[no-untyped-def]
    for call in (
        lambda: words.load(WORDS),
        lambda: words.store(-1, 0),
        lambda: words.add(WORDS + 5, 1),
        lambda: words.read(WORDS * 8 - 4, 8),
        lambda: words.write(WORDS * 8, b"x"),
    ):
        with pytest.raises(IndexError):
            call()


def test_a_size_that_is_not_whole_words_or_too_long_is_refused(
    atomics: ModuleType, tmp_path: Path
) -> None:
    fd = _file(tmp_path / "w", 4)
    try:
        for size in (0, 12, 64):
            with pytest.raises(ValueError):
                atomics.SharedWords(fd, size)
    finally:
        os.close(fd)


def test_closed_words_refuse_work_and_close_twice(words) -> None:  # type: ignore[no-untyped-def]
    words.close()
    words.close()
    with pytest.raises(ValueError):
        words.load(0)


def test_bytes_round_trip_and_the_buffer_is_read_only(words) -> None:  # type: ignore[no-untyped-def]
    words.write(16, b"label\0")
    assert words.read(16, 6) == b"label\0"
    view = words.buffer()
    try:
        assert view.readonly and bytes(view[16:21]) == b"label"
    finally:
        view.release()


def test_words_are_shared_with_other_mappings_of_the_file(
    atomics: ModuleType, tmp_path: Path
) -> None:
    fd = _file(tmp_path / "w")
    a, b = atomics.SharedWords(fd, WORDS * 8), atomics.SharedWords(fd, WORDS * 8)
    os.close(fd)
    a.store(1, 99)
    b.add(1, 1)
    assert a.load(1) == 100 and (tmp_path / "w").read_bytes()[8:16] == bytes(
        [100, 0, 0, 0, 0, 0, 0, 0]
    )
    a.close()
    b.close()


# -- charge ------------------------------------------------------------------------


def test_charge_admits_up_to_the_limit_and_counts_nothing_beyond(words) -> None:  # type: ignore[no-untyped-def]
    words.store(0, 7)  # the tag word
    words.store(1, counter(100, 0))
    assert words.charge(1, 0, 7, 100, 3, 5, False) == (3, 3)
    assert words.charge(1, 0, 7, 100, 3, 5, False) == (0, 3)  # 6 > 5: nothing
    assert words.charge(1, 0, 7, 100, 2, 5, False) == (2, 5)
    assert words.charge(1, 0, 7, 100, 1, 5, False) == (0, 5)
    assert words.load(1) == counter(100, 5)


def test_a_partial_charge_grants_what_is_left(words) -> None:  # type: ignore[no-untyped-def]
    words.store(0, 7)
    words.store(1, counter(100, 8))
    assert words.charge(1, 0, 7, 100, 5, 10, True) == (2, 10)
    assert words.charge(1, 0, 7, 100, 5, 10, True) == (0, 10)


def test_a_new_period_starts_from_zero_and_an_older_one_never_rewinds(words) -> None:  # type: ignore[no-untyped-def]
    words.store(0, 7)
    words.store(1, counter(100, 5))
    assert words.charge(1, 0, 7, 101, 1, 5, False) == (1, 1)
    assert words.load(1) == counter(101, 1)
    # a caller whose clock is a period behind charges the current period
    assert words.charge(1, 0, 7, 100, 1, 5, False) == (1, 2)
    assert words.load(1) == counter(101, 2)


def test_charge_refuses_a_counter_that_changed_owner_or_stays_locked(words) -> None:  # type: ignore[no-untyped-def]
    words.store(0, 8)
    words.store(1, counter(100, 0))
    assert words.charge(1, 0, 7, 100, 1, 5, False) == (-1, 0)
    words.store(0, 7)
    words.store(1, atomics_py.LOCKED)
    assert words.charge(1, 0, 7, 100, 1, 5, False) == (-1, 0)


def test_charge_refuses_out_of_range_arguments(words) -> None:  # type: ignore[no-untyped-def]
    for args in ((-1, 5), (1, -5)):
        with pytest.raises(ValueError):
            words.charge(1, 0, 7, 100, *args, False)
    with pytest.raises(ValueError):
        words.charge(1, 0, 7, 1 << 28, 1, 5, False)  # the period does not fit


def test_threads_never_charge_beyond_the_limit(words) -> None:  # type: ignore[no-untyped-def]
    words.store(0, 7)
    granted: list[int] = []

    def hammer() -> None:
        mine = sum(words.charge(1, 0, 7, 100, 1, 500, False)[0] for _ in range(300))
        granted.append(mine)

    threads = [threading.Thread(target=hammer) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(granted) == 500 and words.load(1) == counter(100, 500)


def _charge_in_child(which: str, path: str, rounds: int, queue) -> None:  # type: ignore[no-untyped-def]
    module = twin("atomics", which)
    fd = os.open(path, os.O_RDWR)
    words = module.SharedWords(fd, WORDS * 8)
    os.close(fd)
    granted = sum(words.charge(1, 0, 7, 100, 2, 1001, True)[0] for _ in range(rounds))
    words.close()
    queue.put(granted)


def test_processes_never_charge_beyond_the_limit(
    atomics: ModuleType, tmp_path: Path
) -> None:
    which = "pure" if atomics is atomics_py else "cython"
    path = tmp_path / "w"
    os.close(_file(path))
    setup = atomics.SharedWords(os.open(path, os.O_RDWR), WORDS * 8)
    setup.store(0, 7)
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    children = [
        ctx.Process(target=_charge_in_child, args=(which, str(path), 300, queue))
        for _ in range(4)
    ]
    for child in children:
        child.start()
    results = [queue.get(timeout=60) for _ in children]
    for child in children:
        child.join(timeout=60)
    # 4 x 300 x 2 = 2,400 asked; exactly 1,001 fit (the last grant partial)
    assert sum(results) == 1001 and setup.load(1) == counter(100, 1001)
    setup.close()


# -- the twins and the selector ------------------------------------------------------


def test_compiled_twin_is_selected_when_importable() -> None:
    if twins.truthy(os.environ.get("SIKKER_PURE")):
        assert sikker.core.atomics.IMPLEMENTATION == "pure"
        assert sikker.core.atomics.SharedWords.MODE == "lockf"
        return
    try:
        compiled = importlib.import_module("sikker.ext.atomics")
    except ImportError:
        if twins.truthy(os.environ.get("SIKKER_REQUIRE_EXTENSION")):
            pytest.fail(
                "SIKKER_REQUIRE_EXTENSION is set but sikker.ext.atomics is missing"
            )
        assert sikker.core.atomics.IMPLEMENTATION == "pure"
        return
    assert sikker.core.atomics.IMPLEMENTATION == "cython"
    assert sikker.core.atomics.SharedWords is compiled.SharedWords
    assert sikker.core.atomics.SharedWords.MODE == "cpu"


def test_a_missing_compiled_twin_is_fatal_when_required(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "sikker.ext.atomics", None)  # import fails
    monkeypatch.delenv("SIKKER_PURE", raising=False)
    monkeypatch.setenv("SIKKER_REQUIRE_EXTENSION", "1")
    with pytest.raises(ExtensionMissingError, match=r"sikker\.ext\.atomics"):
        twins.select("atomics")
    monkeypatch.setenv("SIKKER_REQUIRE_EXTENSION", "0")
    assert twins.select("atomics") is atomics_py  # otherwise: the slow path


def test_twins_export_the_same_names_and_constants(atomics: ModuleType) -> None:
    assert sorted(atomics.__all__) == sorted(atomics_py.__all__)
    for name in ("COUNT_BITS", "COUNT_MASK", "LOCKED", "WORD_MASK"):
        assert getattr(atomics, name) == getattr(atomics_py, name)
    assert sorted(sikker.core.atomics.__all__) == sorted(
        ["IMPLEMENTATION", *atomics_py.__all__]
    )


def _doc(func: object) -> str:
    doc = inspect.getdoc(func) or ""
    name = getattr(func, "__name__", "")
    if re.match(rf"(\w+\.)?{name}\(", doc):  # Cython's embedded signature
        doc = doc.split("\n", 1)[1].lstrip("\n")
    return doc


@pytest.mark.parametrize("name", METHODS)
def test_twins_have_the_same_methods_and_docstrings(
    atomics: ModuleType, name: str
) -> None:
    reference = getattr(atomics_py.SharedWords, name)
    method = getattr(atomics.SharedWords, name)
    assert _doc(method) == _doc(reference)
    theirs = list(inspect.signature(reference).parameters)
    assert list(inspect.signature(method).parameters) == theirs


def test_type_stub_matches_the_pure_twin() -> None:
    stub = Path(atomics_py.__file__).resolve().parent.parent / "ext" / "atomics.pyi"
    tree = ast.parse(stub.read_text())
    cls = next(n for n in tree.body if isinstance(n, ast.ClassDef))
    methods = {
        n.name: ast.get_docstring(n)
        for n in cls.body
        if isinstance(n, ast.FunctionDef) and not n.name.startswith("_")
    }
    assert sorted(set(methods) - {"size"}) == METHODS
    for name, doc in methods.items():
        if name != "size":
            assert doc == _doc(getattr(atomics_py.SharedWords, name))
