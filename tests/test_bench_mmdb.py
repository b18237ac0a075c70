"""The benchmarks' .mmdb writer: maxminddb reads back exactly what was written."""

import ipaddress
import random
from pathlib import Path

import maxminddb
import numpy as np
import pytest

from benchmarks.mmdb import MAP, UINT32, DataSection, control, encode, uint, write_mmdb
from sikker.core import ipcore


def _addresses(rnd: random.Random, count: int) -> list[str]:
    """Random IPv4 and IPv6 addresses, dense neighbours and extremes included."""
    out = {"0.0.0.1", "255.255.255.255", "1.2.3.4", "1.2.3.5", "1::1", "ffff::ffff"}
    while len(out) < count:
        if rnd.random() < 0.7:
            out.add(str(ipaddress.IPv4Address(rnd.getrandbits(32))))
        else:
            out.add(str(ipaddress.IPv6Address(rnd.getrandbits(128) | 1 << 127)))
    return sorted(out)


def _write(tmp_path: Path, addresses: list[str]) -> Path:
    data = tmp_path / "data.bin"
    offsets = []
    with data.open("wb") as out:
        section = DataSection(out, ["n", "ip"])
        for n, ip in enumerate(addresses):
            offsets.append(
                section.add(
                    control(MAP, 2)
                    + section.pointers["n"].to_bytes(2, "big")
                    + uint(UINT32, n)
                    + encode("ip")
                    + encode(ip)
                )
            )
    keys = np.frombuffer(b"".join(map(ipcore.to_ip16, addresses)), np.uint8)
    path = tmp_path / "test.mmdb"
    write_mmdb(
        path,
        keys.reshape(-1, 16),
        np.array(offsets),
        data,
        {"database_type": "sikker-test", "description": {"en": "test"}},
    )
    return path


@pytest.mark.parametrize("mode", [maxminddb.MODE_AUTO, maxminddb.MODE_MEMORY])
def test_maxminddb_reads_back_every_written_record(tmp_path: Path, mode: int) -> None:
    addresses = _addresses(random.Random(4), 3000)
    path = _write(tmp_path, addresses)
    with maxminddb.open_database(str(path), mode) as reader:
        assert reader.metadata().database_type == "sikker-test"
        assert reader.metadata().ip_version == 6
        for n, ip in enumerate(addresses):
            assert reader.get(ip) == {"n": n, "ip": ip}


def test_addresses_that_were_not_written_are_not_found(tmp_path: Path) -> None:
    rnd = random.Random(5)
    addresses = _addresses(rnd, 500)
    path = _write(tmp_path, addresses)
    written = set(addresses)
    with maxminddb.open_database(str(path)) as reader:
        for _ in range(2000):
            ip = str(ipaddress.IPv4Address(rnd.getrandbits(32)))
            if ip not in written:
                assert reader.get(ip) is None
        assert reader.get("1.2.3.6") is None
        assert reader.get("::2") is None


def test_control_bytes_follow_the_size_encoding() -> None:
    assert control(MAP, 13) == bytes([0xED])
    assert control(2, 28) == bytes([0x5C])
    assert control(2, 29) == bytes([0x5D, 0])
    assert control(2, 285) == bytes([0x5E, 0, 0])
    assert control(2, 65_821) == bytes([0x5F, 0, 0, 0])
    assert control(11, 3) == bytes([0x03, 4])  # extended type: array
