"""Snapshots and list files for the real-tool tests."""

from pathlib import Path

import pytest

from sikker.core.filters import BlacklistQuery
from sikker.core.format_base import Export, FormatOptions
from sikker.core.formats import FORMATS
from sikker.core.layout import current_path
from sikker.core.snapshot import Snapshot
from tests.factories import RECORDS, build

#: Addresses in the large snapshot: a tenth IPv6, the rest IPv4.
MANY = 100_000
_BUILT: dict[str, Snapshot] = {}


def write(snapshot: Snapshot, name: str, path: Path, **params: str) -> Path:
    """Write one format of the snapshot's whole blacklist to ``path``."""
    query = BlacklistQuery.from_params(
        {"scoreMinimum": "0", "limit": "10000000", **params}
    )
    export = Export(
        snapshot, snapshot.blacklist(query), query, FormatOptions.from_params(params)
    )
    render = FORMATS[name].render
    assert render is not None
    with path.open("wb") as fh:
        for chunk in render(export):
            fh.write(chunk)
    return path


def small_snapshot(factory: pytest.TempPathFactory) -> Snapshot:
    """The factory RECORDS (TEST-NET addresses, one IPv6), built once a session."""
    if "small" not in _BUILT:
        data = factory.mktemp("small")
        build(data)
        _BUILT["small"] = Snapshot.open(current_path(data))
    return _BUILT["small"]


def large_snapshot(factory: pytest.TempPathFactory) -> Snapshot:
    """MANY distinct public addresses, built once a session."""
    if "large" not in _BUILT:
        data = factory.mktemp("large")
        records = [
            {
                **RECORDS[3],
                "ip": f"2001:db8:{i >> 16:x}:{i & 0xFFFF:x}::1"
                if i % 10 == 0
                else f"{11 + (i >> 16)}.{(i >> 8) & 255}.{i & 255}.7",
                "score": 50 + i % 50,
            }
            for i in range(MANY)
        ]
        build(data, records)
        _BUILT["large"] = Snapshot.open(current_path(data))
    return _BUILT["large"]


@pytest.fixture(scope="session")
def small(tmp_path_factory: pytest.TempPathFactory) -> Snapshot:
    """The small snapshot (use in a module as ``small = lists.small``)."""
    return small_snapshot(tmp_path_factory)


@pytest.fixture(scope="session")
def large(tmp_path_factory: pytest.TempPathFactory) -> Snapshot:
    """The large snapshot (use in a module as ``large = lists.large``)."""
    return large_snapshot(tmp_path_factory)
