"""ipset and nftables load sikker's lists, inside a network namespace.

Each test creates its own namespace (``ip netns add``), so sets, tables and
rules never touch the host's firewall. Needs root, ``ip``, ``ipset`` and
``nft`` (scripts/setup --test installs them); skipped without them, except
in CI.
"""

import json
from pathlib import Path

import pytest

from sikker.core.snapshot import Snapshot
from tests import lists
from tests.lists import write
from tests.tools import in_ns, need_tool, netns

small = lists.small
large = lists.large


def ipset_members(ns: str, name: str) -> set[str]:
    out = in_ns(ns, need_tool("ipset"), "list", name).stdout
    return set(out.split("Members:\n", 1)[1].split())


def test_ipset_restores_and_swaps_the_sets(small: Snapshot, tmp_path: Path) -> None:
    ipset = need_tool("ipset")
    path = write(small, "ipset", tmp_path / "sikker.ipset")
    with netns() as ns:
        in_ns(ns, ipset, "create", "sikker4", "hash:ip", "family", "inet")
        in_ns(ns, ipset, "create", "sikker6", "hash:ip", "family", "inet6")
        in_ns(ns, ipset, "add", "sikker4", "192.0.2.99")  # yesterday's list
        in_ns(ns, ipset, "restore", "-file", str(path))
        for version in (4, 6):
            in_ns(ns, ipset, "swap", f"sikker{version}-tmp", f"sikker{version}")
            in_ns(ns, ipset, "destroy", f"sikker{version}-tmp")
        expected = set(small.ip_texts(small.everything()))
        members = ipset_members(ns, "sikker4") | ipset_members(ns, "sikker6")
        assert members == expected
        assert in_ns(ns, ipset, "test", "sikker4", "203.0.113.10").returncode == 0
        assert in_ns(ns, ipset, "test", "sikker6", "2001:db8::7").returncode == 0
        missing = in_ns(ns, ipset, "test", "sikker4", "192.0.2.99", check=False)
        assert missing.returncode != 0  # replaced by the swap


@pytest.mark.slow
def test_ipset_loads_100000_addresses_in_sets_sized_for_them(
    large: Snapshot, tmp_path: Path
) -> None:
    ipset = need_tool("ipset")
    path = write(large, "ipset", tmp_path / "large.ipset", setName="big")
    with netns() as ns:
        in_ns(ns, ipset, "restore", "-file", str(path))
        header = in_ns(ns, ipset, "list", "-t", "big4-tmp").stdout
        assert "maxelem 131072" in header and "Number of entries: 90000" in header
        header = in_ns(ns, ipset, "list", "-t", "big6-tmp").stdout
        assert "family inet6" in header and "Number of entries: 10000" in header


def test_nft_checks_loads_and_reloads_the_file(small: Snapshot, tmp_path: Path) -> None:
    nft = need_tool("nft")
    path = write(small, "nftables", tmp_path / "sikker.nft")
    with netns() as ns:
        in_ns(ns, nft, "-c", "-f", str(path))
        in_ns(ns, nft, "-f", str(path))
        in_ns(ns, nft, "-f", str(path))  # loading again replaces, never doubles
        for ip in small.ip_texts(small.everything()):
            name = "sikker6" if ":" in ip else "sikker4"
            in_ns(ns, nft, "get", "element", "inet", "sikker", name, f"{{ {ip} }}")
        missing = ("get", "element", "inet", "sikker", "sikker4", "{ 192.0.2.99 }")
        assert in_ns(ns, nft, *missing, check=False).returncode != 0
        chain = in_ns(ns, nft, "list", "chain", "inet", "sikker", "input").stdout
        assert chain.count("ip saddr @sikker4 drop") == 1
        assert chain.count("ip6 saddr @sikker6 drop") == 1
        fewer = write(small, "nftables", tmp_path / "fewer.nft", scoreMinimum="95")
        in_ns(ns, nft, "-f", str(fewer))
        kept = ("get", "element", "inet", "sikker", "sikker4", "{ 203.0.113.10 }")
        gone = ("get", "element", "inet", "sikker", "sikker4", "{ 198.51.100.20 }")
        assert in_ns(ns, nft, *kept, check=False).returncode == 0
        assert in_ns(ns, nft, *gone, check=False).returncode != 0


def test_nft_rules_drop_traffic_from_listed_addresses(
    small: Snapshot, tmp_path: Path
) -> None:
    nft, ip = need_tool("nft"), need_tool("ip")
    path = write(small, "nftables", tmp_path / "sikker.nft")
    with netns() as ns:
        for address in ("203.0.113.10/32", "198.51.100.1/32"):
            in_ns(ns, ip, "addr", "add", address, "dev", "lo")
        in_ns(ns, nft, "-f", str(path))
        probe = (
            "import socket, sys\n"
            "srv = socket.create_server(('198.51.100.1', 0))\n"
            "port = srv.getsockname()[1]\n"
            "for source in sys.argv[1:]:\n"
            "    c = socket.socket(); c.settimeout(1); c.bind((source, 0))\n"
            "    try:\n"
            "        c.connect(('198.51.100.1', port)); print(source, 'open')\n"
            "    except OSError:\n"
            "        print(source, 'dropped')\n"
        )
        out = in_ns(
            ns, "python3", "-c", probe, "198.51.100.1", "203.0.113.10"
        ).stdout.split("\n")
        assert out[:2] == ["198.51.100.1 open", "203.0.113.10 dropped"]


@pytest.mark.slow
def test_nft_loads_100000_addresses(large: Snapshot, tmp_path: Path) -> None:
    nft = need_tool("nft")
    path = write(large, "nftables", tmp_path / "large.nft")
    with netns() as ns:
        in_ns(ns, nft, "-c", "-f", str(path))
        in_ns(ns, nft, "-f", str(path))
        for version, count in ((4, 90_000), (6, 10_000)):
            listed = in_ns(
                ns, nft, "-j", "list", "set", "inet", "sikker", f"sikker{version}"
            )
            found = json.loads(listed.stdout)["nftables"][1]["set"]["elem"]
            assert len(found) == count


def test_nft_refuses_a_broken_file(tmp_path: Path) -> None:
    # the check is real: a bad element fails, so a pass above means something
    nft = need_tool("nft")
    bad = tmp_path / "bad.nft"
    bad.write_text(
        "table inet t {\n\tset s {\n\t\ttype ipv4_addr\n\t\tflags interval\n\t}\n}\n"
        "add element inet t s { 203.0.113.0/33 }\n"
    )
    with netns() as ns:
        result = in_ns(ns, nft, "-c", "-f", str(bad), check=False)
        assert result.returncode != 0
