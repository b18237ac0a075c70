"""Compact answers of many addresses, rendered in one call, equal the reference."""

from types import ModuleType
from unittest import mock

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from sikker.core import bulk
from sikker.core.bulk import compact, compact_json, with_results
from sikker.core.ipcore import to_ip16
from sikker.core.records import HEADER
from sikker.core.snapshot import Snapshot
from tests.conftest import twin

UNLISTED = ["10.0.0.1", "::1", "::ffff:1.2.3.4", "2001:db8::1", "0.0.0.0", "45.1.2.3"]


@pytest.fixture(scope="module")
def snapshot(demo_3000: Snapshot) -> Snapshot:
    return demo_3000


def rendered(
    render: ModuleType, snapshot: Snapshot, keys: list[bytes], ignore: bool
) -> bytes:
    with mock.patch.object(bulk, "render", render):
        snapshot.derived.pop("compact_json", None)
        return compact_json(snapshot, keys, snapshot.lookup_many(keys), ignore)


@pytest.mark.parametrize("ignore", [False, True])
def test_every_listed_and_unlisted_address_renders_as_the_reference(
    render: ModuleType, snapshot: Snapshot, ignore: bool
) -> None:
    listed = snapshot.ip_texts(snapshot.everything())
    keys = [to_ip16(ip) for ip in [*listed, *UNLISTED]]
    values = snapshot.lookup_many(keys)
    assert sum(value is not None for value in values) == len(listed) > 2000
    got = rendered(render, snapshot, keys, ignore)
    assert got == orjson.dumps(compact(snapshot, keys, values, ignore))


def test_nothing_to_answer_is_an_empty_array(
    render: ModuleType, snapshot: Snapshot
) -> None:
    assert rendered(render, snapshot, [], False) == b"[]"


@given(
    header=st.tuples(
        *(st.integers(0, 255) for _ in range(3)),
        *(st.just(0) for _ in range(6)),
        *(st.integers(0, 2**32 - 1) for _ in range(10)),
    ),
    ignore=st.booleans(),
)
@pytest.mark.parametrize("which", ["pure", "cython"])
def test_any_record_header_renders_as_the_reference(
    snapshot: Snapshot, which: str, header: tuple[int, ...], ignore: bool
) -> None:
    render = twin("render", which)
    record = HEADER.pack(*header)
    keys, values = [to_ip16("192.0.2.9")], [record]
    countries = [orjson.dumps(code or None) for code in snapshot.countries]
    severities = [orjson.dumps(name) for name in bulk._SEVERITY]
    try:
        expected = orjson.dumps(compact(snapshot, keys, values, ignore))
    except IndexError:
        with pytest.raises(IndexError):
            render.render_compact(keys, values, countries, severities, ignore)
        return
    got = render.render_compact(keys, values, countries, severities, ignore)
    assert got == expected


@pytest.mark.parametrize(
    ("keys", "values", "error"),
    [
        ([b"\0" * 16], [], ValueError),  # lengths differ
        ([b"\0" * 15], [None], ValueError),
        (["1.2.3.4"], [None], TypeError),
        ([b"\0" * 16], [b"\0" * (HEADER.size - 1)], ValueError),
        ([b"\0" * 16], [bytearray(HEADER.size)], TypeError),
        ([b"\0" * 16], [HEADER.pack(0, 0, 9, *[0] * 16)], IndexError),
    ],
)
def test_malformed_input_raises_the_same_error_in_both_twins(
    render: ModuleType,
    keys: list,
    values: list,
    error: type,  # type: ignore[type-arg]
) -> None:
    with pytest.raises(error):
        render.render_compact(keys, values, [b'"US"'], [b"null", b'"low"'], False)


def test_results_go_between_the_head_and_the_tail_as_orjson_writes_them() -> None:
    doc = with_results({"queried": 2, "found": 1}, b"[1,2]", {"invalid": [], "s": 3})
    assert orjson.loads(doc) == {
        "queried": 2,
        "found": 1,
        "results": [1, 2],
        "invalid": [],
        "s": 3,
    }
    assert doc == orjson.dumps(orjson.loads(doc))
