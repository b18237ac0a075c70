"""sikker-update loads lists from a real sikker server into the real tools.

Each firewall test makes a network namespace and runs a sikker server
inside it, on its 127.0.0.1, so the script's curl, ipset, nft and nginx all
act inside the namespace and the host's firewall never changes. Needs root,
curl, ip, ipset, nft, nginx and Suricata (scripts/setup --test installs
them); missing ones skip, except in CI, where they fail.
"""

import os
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from sikker.core.layout import current_path
from sikker.core.snapshot import Snapshot
from tests.factories import api_key, build
from tests.lists import write
from tests.test_nginx import LISTED, SERVER, UNLISTED, config, status
from tests.test_suricata import setup_files, suricata
from tests.tools import ROOT, in_ns, need_tool, netns, run, sikker_server

SCRIPT = ROOT / "integrations" / "update" / "sikker-update"


@dataclass
class Site:
    """A sikker data directory, an API key and the script's config file."""

    data: Path
    key: str
    conf: Path

    def settings(self, url: str, **more: str) -> None:
        """Write the config file: the server, the key and ``more`` settings."""
        lines = [f"SIKKER_URL={url}", f"SIKKER_KEY={self.key}"]
        lines += [f"{name}='{value}'" for name, value in more.items()]
        self.conf.write_text("\n".join(lines) + "\n")

    def expected(self, **params: str) -> set[str]:
        """Return the addresses of the blacklist ``params`` select."""
        with Snapshot.open(current_path(self.data)) as snapshot:
            path = write(snapshot, "plaintext", self.data / "expected.txt", **params)
        return set(path.read_text().split())


@pytest.fixture
def site(tmp_path: Path) -> Site:
    need_tool("curl")
    data = tmp_path / "data"
    build(data)
    return Site(data, api_key(data), tmp_path / "update.conf")


def update(
    site: Site, target: str, ns: str | None = None, check: bool = True, **env: str
) -> subprocess.CompletedProcess:
    """Run ``sikker-update TARGET`` (inside ``ns``) with the site's config."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("SIKKER_")}
    env = {**clean, "SIKKER_CONFIG": str(site.conf), **env}
    if ns:
        return in_ns(ns, "sh", str(SCRIPT), target, env=env, check=check)
    return run("sh", str(SCRIPT), target, env=env, check=check)


@pytest.fixture
def served(site: Site) -> Iterator[tuple[str, str]]:
    """A namespace with the site's sikker server in it: (namespace, URL)."""
    with netns() as ns, sikker_server(site.data, ns) as url:
        yield ns, url


def ipset_members(ns: str, name: str) -> set[str]:
    out = in_ns(ns, need_tool("ipset"), "list", name).stdout
    return set(out.split("Members:\n", 1)[1].split())


def test_ipset_update_creates_fills_and_swaps_the_sets(
    site: Site, served: tuple[str, str]
) -> None:
    ns, url = served
    ipset = need_tool("ipset")
    site.settings(url, SIKKER_QUERY="scoreMinimum=0")
    in_ns(ns, ipset, "create", "sikker4", "hash:ip", "family", "inet")
    in_ns(ns, ipset, "add", "sikker4", "192.0.2.99")  # yesterday's list
    update(site, "ipset", ns)
    everything = site.expected(scoreMinimum="0")
    assert ipset_members(ns, "sikker4") | ipset_members(ns, "sikker6") == everything
    assert "192.0.2.99" not in ipset_members(ns, "sikker4")
    site.settings(url, SIKKER_QUERY="scoreMinimum=95")  # a shorter list
    result = update(site, "ipset", ns)
    fewer = site.expected(scoreMinimum="95")
    assert fewer < everything
    assert ipset_members(ns, "sikker4") | ipset_members(ns, "sikker6") == fewer
    assert in_ns(ns, ipset, "list", "-n").stdout.split() == ["sikker4", "sikker6"]
    assert "sikker4: " in result.stderr


def test_a_failed_download_leaves_the_loaded_list_alone(
    site: Site, served: tuple[str, str]
) -> None:
    ns, url = served
    site.settings(url, SIKKER_QUERY="scoreMinimum=0")
    update(site, "ipset", ns)
    before = ipset_members(ns, "sikker4")
    site.key = "sk_live_wrong"
    site.settings(url, SIKKER_QUERY="scoreMinimum=95")
    failed = update(site, "ipset", ns, check=False)
    assert failed.returncode != 0 and "could not download" in failed.stderr
    assert ipset_members(ns, "sikker4") == before
    bad = update(site, "ipset", ns, check=False, SIKKER_QUERY="limit=nope")
    assert bad.returncode != 0 and ipset_members(ns, "sikker4") == before


def test_nftables_update_checks_then_loads_and_keeps_a_copy(
    site: Site, served: tuple[str, str], tmp_path: Path
) -> None:
    ns, url = served
    nft = need_tool("nft")
    copy = tmp_path / "sikker.nft"
    site.settings(url, SIKKER_QUERY="scoreMinimum=0", SIKKER_NFT_FILE=str(copy))
    for _ in range(2):  # a second load replaces, never doubles
        update(site, "nftables", ns)
    for ip in site.expected(scoreMinimum="0"):
        name = "sikker6" if ":" in ip else "sikker4"
        in_ns(ns, nft, "get", "element", "inet", "sikker", name, f"{{ {ip} }}")
    chain = in_ns(ns, nft, "list", "chain", "inet", "sikker", "input").stdout
    assert chain.count("ip saddr @sikker4 drop") == 1
    assert (
        copy.read_text().startswith("#") and "table inet sikker {" in copy.read_text()
    )


def test_nginx_update_reloads_only_when_the_list_changes(
    site: Site, served: tuple[str, str], tmp_path: Path
) -> None:
    ns, url = served
    nginx, ip = need_tool("nginx"), need_tool("ip")
    for address in (LISTED, UNLISTED):
        in_ns(ns, ip, "addr", "add", f"{address}/32", "dev", "lo")
    geo, deny = tmp_path / "sikker-geo.conf", tmp_path / "sikker-deny.conf"
    geo.write_text("")  # nothing listed yet
    deny.write_text("")
    conf = config(tmp_path, deny, geo, listen=f"{SERVER}:8088")
    site.settings(
        url,
        SIKKER_QUERY="scoreMinimum=70",
        SIKKER_NGINX_FILE=str(geo),
        SIKKER_NGINX=f"{nginx} -c {conf}",
    )
    proc = subprocess.Popen(
        [ip, "netns", "exec", ns, nginx, "-c", str(conf)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 10
        while status(ns, LISTED, 8088) != "200":  # not listed yet
            assert proc.poll() is None and time.monotonic() < deadline
            time.sleep(0.1)
        first = update(site, "nginx", ns)
        assert "nginx reloaded" in first.stderr
        while status(ns, LISTED, 8088) != "403":  # workers restart on reload
            assert time.monotonic() < deadline + 10, "the reload did not apply"
            time.sleep(0.1)
        assert status(ns, UNLISTED, 8088) == "200"
        again = update(site, "nginx", ns)
        assert "unchanged" in again.stderr and "reloaded" not in again.stderr
        # a list nginx refuses (deny lines inside a geo block) is rolled back
        kept = geo.read_text()
        site.settings(
            url,
            SIKKER_QUERY="scoreMinimum=0",
            SIKKER_NGINX_FILE=str(geo),
            SIKKER_NGINX_FORMAT="nginx-deny",
            SIKKER_NGINX=f"{nginx} -c {conf}",
        )
        refused = update(site, "nginx", ns, check=False)
        assert refused.returncode != 0 and "previous one is back" in refused.stderr
        assert geo.read_text() == kept
        assert status(ns, LISTED, 8088) == "403"
    finally:
        proc.terminate()
        proc.communicate(timeout=10)


def test_suricata_update_writes_files_suricata_loads(
    site: Site, tmp_path: Path
) -> None:
    need_tool("suricata")
    (tmp_path / "ids").mkdir()
    with Snapshot.open(current_path(site.data)) as snapshot:
        conf = setup_files(snapshot, tmp_path / "ids")  # suricata.yaml + rules
    iprep = tmp_path / "ids" / "iprep"
    (iprep / "sikker.list").unlink()
    with sikker_server(site.data) as url:
        site.settings(
            url, SIKKER_QUERY="scoreMinimum=0", SIKKER_SURICATA_DIR=str(iprep)
        )
        first = update(site, "suricata")
        again = update(site, "suricata")
    assert "updated (Suricata is not running)" in first.stderr
    assert "unchanged" in again.stderr
    lines = (iprep / "sikker.list").read_text().splitlines()
    listed = {line.split(",")[0] for line in lines if not line.startswith("#")}
    assert listed == site.expected(scoreMinimum="0")
    suricata(conf, "-T")
