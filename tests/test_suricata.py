"""Suricata loads sikker's IP reputation files and alerts on listed sources.

``suricata -T`` exits 0 even when reputation lines are bad (it only logs
``Error: reputation: bad line``), so its output is searched too. A replay of
a hand-made pcap then shows the rules firing: ``iprep`` matches a listed
IPv4 and IPv6 source and its per-protocol category, and not an unlisted
one. Needs ``suricata`` (Debian bookworm-backports; scripts/setup --test).
"""

import ipaddress
import re
import shutil
import struct
from pathlib import Path

import pytest

from sikker.core.snapshot import Snapshot
from tests import lists
from tests.lists import large_snapshot, write
from tests.tools import ROOT, need_tool, run

#: The rules sikker ships (served at /integrations/suricata/sikker.rules).
RULES = ROOT / "integrations" / "suricata" / "sikker.rules"
_REPUTATION_TROUBLE = re.compile(r"^(E|W|Error|Warning)\b.*reputation", re.M | re.I)

small = lists.small


def setup_files(snapshot: Snapshot, tmp: Path, **params: str) -> Path:
    """Write the categories, the list, rules and suricata.yaml; return the yaml."""
    iprep = tmp / "iprep"
    iprep.mkdir()
    (tmp / "log").mkdir()
    write(snapshot, "suricata-categories", iprep / "categories.txt")
    write(snapshot, "suricata", iprep / "sikker.list", **params)
    shutil.copy(RULES, tmp / "sikker.rules")
    conf = tmp / "suricata.yaml"
    conf.write_text(
        f"""%YAML 1.1
---
vars:
  address-groups:
    HOME_NET: "[10.0.0.0/8,2001:db8:ffff::/48]"
    EXTERNAL_NET: "any"
  port-groups:
    SSH_PORTS: "22"
default-log-dir: {tmp}/log
reputation-categories-file: {iprep}/categories.txt
default-reputation-path: {iprep}
reputation-files:
  - sikker.list
host:
  memcap: 256mb
  hash-size: 65536
classification-file: /etc/suricata/classification.config
reference-config-file: /etc/suricata/reference.config
outputs:
  - fast:
      enabled: yes
      filename: fast.log
logging:
  default-log-level: info
  outputs:
    - console:
        enabled: yes
"""
    )
    return conf


def suricata(conf: Path, *args: str) -> str:
    """Run Suricata on ``conf``; assert success and clean reputation loading."""
    result = run(
        need_tool("suricata"), "-c", str(conf), "-S", str(conf.parent / "sikker.rules"),
        "-l", str(conf.parent / "log"), *args, check=False,
    )  # fmt: skip
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "Loading reputation file" in output, output
    assert not _REPUTATION_TROUBLE.search(output), output
    return output


def test_suricata_loads_the_categories_and_the_list(
    small: Snapshot, tmp_path: Path
) -> None:
    output = suricata(setup_files(small, tmp_path), "-T")
    rules = [r for r in RULES.read_text().splitlines() if r.startswith("alert ")]
    assert len(rules) == 17  # any protocol, then one per protocol
    assert f"{len(rules)} rules successfully loaded, 0 rules failed" in output


def test_the_reputation_check_catches_bad_lines(
    small: Snapshot, tmp_path: Path
) -> None:
    # the check bites: Suricata passes -T but logs the bad lines
    conf = setup_files(small, tmp_path)
    with (tmp_path / "iprep" / "sikker.list").open("a") as fh:
        fh.write("203.0.113.99,1,200\n203.0.113.98,61,5\n")
    rules = str(tmp_path / "sikker.rules")
    result = run(
        need_tool("suricata"), "-T", "-c", str(conf), "-S", rules,
        "-l", str(tmp_path / "log"), check=False,
    )  # fmt: skip
    assert result.returncode == 0
    assert _REPUTATION_TROUBLE.search(result.stdout + result.stderr)


@pytest.mark.slow
def test_suricata_loads_a_list_of_100000_addresses(
    tmp_path_factory: pytest.TempPathFactory, tmp_path: Path
) -> None:
    suricata(setup_files(large_snapshot(tmp_path_factory), tmp_path), "-T")


# -- replay --------------------------------------------------------------------------


def _checksum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def _syn(source: str, destination: str, port: int) -> bytes:
    """Return an Ethernet frame with a TCP SYN from source to destination:port."""
    src, dst = ipaddress.ip_address(source), ipaddress.ip_address(destination)
    tcp = struct.pack("!HHIIBBHHH", 40000, port, 1, 0, 5 << 4, 0x02, 65535, 0, 0)
    if src.version == 4:
        pseudo = src.packed + dst.packed + struct.pack("!BBH", 0, 6, len(tcp))
        tcp = tcp[:16] + struct.pack("!H", _checksum(pseudo + tcp)) + tcp[18:]
        header = struct.pack(
            "!BBHHHBBH4s4s",
            0x45,
            0,
            20 + len(tcp),
            1,
            0,
            64,
            6,
            0,
            src.packed,
            dst.packed,
        )
        header = header[:10] + struct.pack("!H", _checksum(header)) + header[12:]
        ethertype = 0x0800
    else:
        pseudo = src.packed + dst.packed + struct.pack("!I3xB", len(tcp), 6)
        tcp = tcp[:16] + struct.pack("!H", _checksum(pseudo + tcp)) + tcp[18:]
        header = struct.pack(
            "!IHBB16s16s", 6 << 28, len(tcp), 6, 64, src.packed, dst.packed
        )
        ethertype = 0x86DD
    ether = b"\x02\0\0\0\0\x01" + b"\x02\0\0\0\0\x02" + struct.pack("!H", ethertype)
    return ether + header + tcp


def pcap(path: Path, frames: list[bytes]) -> Path:
    """Write a classic pcap file (Ethernet link type) of ``frames``."""
    out = [struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1)]
    for i, frame in enumerate(frames):
        out.append(struct.pack("<IIII", 1_795_400_000 + i, 0, len(frame), len(frame)))
        out.append(frame)
    path.write_bytes(b"".join(out))
    return path


def test_replayed_traffic_from_listed_sources_alerts(
    small: Snapshot, tmp_path: Path
) -> None:
    conf = setup_files(small, tmp_path)
    frames = pcap(
        tmp_path / "traffic.pcap",
        [
            _syn("203.0.113.10", "10.0.0.1", 22),  # listed, seen on ssh, 97
            _syn("2001:db8::7", "2001:db8:ffff::1", 22),  # listed, ssh, 91 -> 116
            _syn("198.51.100.20", "10.0.0.1", 6379),  # listed, redis
            _syn("192.0.2.44", "10.0.0.1", 22),  # listed, 60 < 75, sip only
            _syn("192.0.2.200", "10.0.0.1", 22),  # not listed
        ],
    )
    suricata(conf, "-r", str(frames), "-k", "none")
    alerts = (tmp_path / "log" / "fast.log").read_text()
    fired = {
        (sid, str(ipaddress.ip_address(source.rsplit(":", 1)[0])))
        for sid, source in re.findall(r"\[1:(\d+):1\].*\{TCP\} (\S+) ->", alerts)
    }
    sid = dict(re.findall(r"iprep:src,([\w-]+),.*sid:(\d+);", RULES.read_text()))
    assert fired == {
        (sid["sikker"], "203.0.113.10"),  # confidence >= 75
        (sid["sikker-ssh"], "203.0.113.10"),
        (sid["sikker"], "2001:db8::7"),
        (sid["sikker-ssh"], "2001:db8::7"),
        (sid["sikker"], "198.51.100.20"),
        (sid["sikker-redis"], "198.51.100.20"),
    }, alerts
