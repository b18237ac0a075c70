"""The blacklist renderer twins: the same lines, rows and errors."""

import ipaddress
import time
from types import ModuleType

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from sikker.core import ipcore_py
from tests.conftest import twin

ADDRESSES = [
    "203.0.113.7",
    "2001:db8::1",
    "127.0.0.1",
    "10.1.2.3",
    "8.8.8.8",
    "::1",
    "fe80::1",
    "2a00:1450:4001::1",
    "100.64.0.1",
    "::ffff:192.168.1.1",
    "64:ff9b::a00:1",
    "2002:c000:204::1",
    "224.0.0.1",
    "0.0.0.0",
    "255.255.255.255",
    "198.18.0.1",
]


def column(addresses: list[str]) -> bytes:
    return b"".join(ipcore_py.to_ip16(a) for a in addresses)


def u32(values: list[int]) -> np.ndarray:
    return np.array(values, dtype=np.uint32)


def test_both_twins_have_the_same_api() -> None:
    pure, compiled = twin("render", "pure"), twin("render", "cython")
    assert pure.__all__ == compiled.__all__
    for name in ("DECIMAL", "ISO_TIME", "LOOKUP", "MAX_CELLS", "UNBLOCKABLE"):
        assert getattr(pure, name) == getattr(compiled, name), name


def test_lines_interleave_pieces_address_and_cells(render: ModuleType) -> None:
    col = column(["203.0.113.7", "2001:db8::1"])
    rows = u32([1, 0])
    cells = [
        (render.DECIMAL, u32([0, 4294967295]), ()),
        (render.ISO_TIME, u32([1763632800, 0]), ()),
        (render.LOOKUP, u32([2, 0]), (b"a", b"", b"ccc")),
    ]
    out = render.render_lines(col, rows, (b"<", b"|", b",", b",", b">\n"), cells)
    assert out == (
        b"<2001:db8::1|0,2025-11-20T10:00:00Z,ccc>\n<203.0.113.7|4294967295,,a>\n"
    )


def test_lines_without_cells_match_the_ip_cores_render_ips(render: ModuleType) -> None:
    col = column(ADDRESSES)
    rows = u32(list(range(len(ADDRESSES)))[::-1])
    expected = ipcore_py.render_ips(col, rows, b"deny ", b";\n")
    assert render.render_lines(col, rows, (b"deny ", b";\n")) == expected


def test_no_rows_render_nothing(render: ModuleType) -> None:
    assert render.render_lines(column(["8.8.8.8"]), u32([]), (b"", b"\n")) == b""
    assert render.keep_rows(column(["8.8.8.8"]), u32([])).tolist() == []


@pytest.mark.parametrize("epoch", [1, 86_399, 951_782_400, 1_795_168_800, 2**32 - 1])
def test_iso_times_agree_with_the_c_library(render: ModuleType, epoch: int) -> None:
    out = render.render_lines(
        column(["8.8.8.8"]),
        u32([0]),
        (b"", b" ", b""),
        [(render.ISO_TIME, u32([epoch]), ())],
    )
    assert (
        out
        == b"8.8.8.8 "
        + time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch)).encode()
    )


def test_keep_rows_splits_families_and_drops_unblockable_addresses(
    render: ModuleType,
) -> None:
    col = column(ADDRESSES)
    rows = u32(list(range(len(ADDRESSES))))
    v4 = render.keep_rows(col, rows, 4)
    v6 = render.keep_rows(col, rows, 6)
    assert (v4 ^ v6).all()
    assert [a for a, k in zip(ADDRESSES, v4, strict=True) if k] == [
        a for a in ADDRESSES if ("." in a and ":" not in a) or a.startswith("::ffff:")
    ]
    safe = render.keep_rows(col, rows, 0, True)
    kept = [a for a, k in zip(ADDRESSES, safe, strict=True) if k]
    assert kept == [
        "203.0.113.7",  # documentation ranges may be blocked
        "2001:db8::1",
        "8.8.8.8",
        "2a00:1450:4001::1",
        "2002:c000:204::1",  # 6to4 of 192.0.2.4, judged by that address
        "198.18.0.1",  # benchmarking too
    ]


@pytest.mark.parametrize(
    ("call", "error"),
    [
        (lambda r: r.render_lines(b"\0" * 15, u32([]), (b"", b"")), ValueError),
        (
            lambda r: r.render_lines(column(["8.8.8.8"]), u32([1]), (b"", b"")),
            IndexError,
        ),
        (
            lambda r: r.render_lines(
                column(["8.8.8.8"]), np.array([0], np.int64), (b"", b"")
            ),
            TypeError,
        ),
        (lambda r: r.render_lines(column(["8.8.8.8"]), u32([0]), (b"",)), ValueError),
        (lambda r: r.render_lines(column(["8.8.8.8"]), u32([0]), ("", "")), TypeError),
        (
            lambda r: r.render_lines(
                column(["8.8.8.8"]), u32([0]), (b"", b"", b""), [(9, u32([0]), ())]
            ),
            ValueError,
        ),
        (
            lambda r: r.render_lines(
                column(["8.8.8.8"]), u32([0]), (b"", b"", b""), [(0, u32([0, 1]), ())]
            ),
            ValueError,
        ),
        (
            lambda r: r.render_lines(
                column(["8.8.8.8"]), u32([0]), (b"", b"", b""), [(2, u32([1]), (b"x",))]
            ),
            IndexError,
        ),
        (
            lambda r: r.render_lines(
                column(["8.8.8.8"]), u32([0]), (b"", b"", b""), [(2, u32([0]), ("x",))]
            ),
            TypeError,
        ),
        (
            lambda r: r.render_lines(
                column(["8.8.8.8"]),
                u32([0]),
                (b"",) * 35,
                [(0, u32([0]), ())] * 33,
            ),
            ValueError,
        ),
        (lambda r: r.keep_rows(column(["8.8.8.8"]), u32([0]), 5), ValueError),
        (lambda r: r.keep_rows(column(["8.8.8.8"]), u32([3])), IndexError),
    ],
)
def test_both_twins_raise_the_same_errors(call, error) -> None:  # type: ignore[no-untyped-def]
    messages = []
    for which in ("pure", "cython"):
        with pytest.raises(error) as caught:
            call(twin("render", which))
        messages.append(str(caught.value))
    assert messages[0] == messages[1]


addresses = st.one_of(
    st.integers(0, 2**32 - 1).map(lambda v: str(ipaddress.IPv4Address(v))),
    st.integers(0, 2**128 - 1).map(lambda v: str(ipaddress.IPv6Address(v))),
    st.sampled_from(ADDRESSES),
)


@given(
    st.lists(addresses, min_size=1, max_size=40),
    st.data(),
)
def test_twins_render_and_filter_alike(ips: list[str], data: st.DataObject) -> None:
    pure, compiled = twin("render", "pure"), twin("render", "cython")
    col = column(ips)
    rows = u32(data.draw(st.lists(st.integers(0, len(ips) - 1), max_size=60)))
    n = len(rows)
    table = (b"", b"x", b"longer text")
    cells = [
        (
            0,
            u32(data.draw(st.lists(st.integers(0, 2**32 - 1), min_size=n, max_size=n))),
            (),
        ),
        (
            1,
            u32(data.draw(st.lists(st.integers(0, 2**32 - 1), min_size=n, max_size=n))),
            (),
        ),
        (2, u32(data.draw(st.lists(st.integers(0, 2), min_size=n, max_size=n))), table),
    ]
    pieces = (b"a", b"bb", b"", b";", b"\n")
    assert pure.render_lines(col, rows, pieces, cells) == compiled.render_lines(
        col, rows, pieces, cells
    )
    for version in (0, 4, 6):
        for safe in (False, True):
            expected = pure.keep_rows(col, rows, version, safe)
            assert (compiled.keep_rows(col, rows, version, safe) == expected).all()
