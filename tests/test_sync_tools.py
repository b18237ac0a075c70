"""``sikker sync`` with the real tools: ipset, nft and nginx in a namespace.

Every firewall change happens inside a network namespace the test creates
(``ip netns add``); the agent reaches it with ``--ipset-command "ip netns
exec NS ipset"`` (the same for nft and nginx). Needs root, ``ip``, ``ipset``,
``nft`` and ``nginx`` (scripts/setup --test installs them); skipped with the
reason without them, except in CI. The last test runs the whole chain: a
gunicorn server, ``sikker build --follow``, sensor events and a removal
request changing the evidence, and the agent (one pass at a time, then in a
loop) bringing the kernel's ipset to the server's list each time.
"""

import signal
import stat
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest

from sikker.errors import SyncApplyError
from sikker.sync_agent import SyncAgent
from sikker.sync_state import StateDir
from sikker.sync_targets import IpsetTarget, NftTarget, NginxTarget
from tests.factories import RECORDS
from tests.test_gunicorn import get
from tests.test_incremental import PERSISTENCE, session
from tests.test_live import CLI, live, post  # noqa: F401 - live is a fixture
from tests.test_nginx import LISTED, UNLISTED, config, status
from tests.test_sync import CHANGED, AppTransport, Server, listed
from tests.tools import in_ns, need_tool, netns, run


@pytest.fixture
def ns() -> Iterator[str]:
    with netns() as name:
        yield name


def ipset_members(ns: str, name: str) -> set[str]:
    out = in_ns(ns, need_tool("ipset"), "list", name).stdout
    return set(out.split("Members:\n", 1)[1].split())


def kernel(ns: str) -> set[str]:
    return ipset_members(ns, "sikker4") | ipset_members(ns, "sikker6")


def ns_command(ns: str, tool: str) -> list[str]:
    return [need_tool("ip"), "netns", "exec", ns, need_tool(tool)]


def ipset_agent(server: Server, ns: str, tmp_path: Path) -> SyncAgent:
    state = StateDir(tmp_path / "state")
    target = IpsetTarget("sikker", ns_command(ns, "ipset"), state)
    return SyncAgent(AppTransport(server), target, state, {})


def test_ipset_sets_are_created_swapped_and_repaired(ns: str, tmp_path: Path) -> None:
    server = Server(tmp_path / "data")
    agent = ipset_agent(server, ns, tmp_path)
    assert agent.run_once().applied
    assert kernel(ns) == set(listed(RECORDS, 50))
    header = in_ns(ns, need_tool("ipset"), "list", "-t", "sikker6").stdout
    assert "family inet6" in header
    server.publish(CHANGED)
    assert agent.run_once().mode == "delta"
    assert kernel(ns) == set(listed(CHANGED, 50))
    names = in_ns(ns, need_tool("ipset"), "list", "-n").stdout.split()
    assert sorted(names) == ["sikker4", "sikker6"]  # no -tmp set left behind
    in_ns(ns, need_tool("ipset"), "flush", "sikker4")  # an operator's mistake
    repaired = agent.run_once()
    assert repaired.mode == "not_modified" and repaired.applied
    assert kernel(ns) == set(listed(CHANGED, 50))


def test_ipset_swaps_in_place_of_sets_the_iptables_rules_use(
    ns: str, tmp_path: Path
) -> None:
    iptables = need_tool("iptables")
    ipset = need_tool("ipset")
    in_ns(ns, ipset, "create", "sikker4", "hash:ip", "family", "inet")
    rule = ("-I", "INPUT", "-m", "set", "--match-set", "sikker4", "src", "-j", "DROP")
    in_ns(ns, iptables, *rule)
    server = Server(tmp_path / "data")
    ipset_agent(server, ns, tmp_path).run_once()
    assert in_ns(ns, ipset, "test", "sikker4", "203.0.113.10").returncode == 0
    saved = in_ns(ns, iptables, "-S", "INPUT").stdout
    assert "--match-set sikker4 src -j DROP" in saved  # the rule still points at it


def test_nft_sets_are_refilled_in_one_transaction(ns: str, tmp_path: Path) -> None:
    nft = ns_command(ns, "nft")
    server = Server(tmp_path / "data")
    state = StateDir(tmp_path / "state")
    target = NftTarget("sikker", "sikker", nft, state)
    agent = SyncAgent(AppTransport(server), target, state, {})
    agent.run_once()

    def member(address: str) -> bool:
        name = "sikker6" if ":" in address else "sikker4"
        element = ("get", "element", "inet", "sikker", name, f"{{ {address} }}")
        return run(*nft, *element, check=False).returncode == 0

    assert all(member(a) for a in listed(RECORDS, 50))
    server.publish(CHANGED)
    agent.run_once()
    assert member("203.0.113.77") and not member("198.51.100.20")
    chain = run(*nft, "list", "chain", "inet", "sikker", "input").stdout
    assert chain.count("ip saddr @sikker4 drop") == 1  # reloads never double rules


STUB_NGINX = """#!{python}
import sys, pathlib
here = pathlib.Path(__file__).parent
with open(here / "calls", "a") as log:
    log.write(" ".join(sys.argv[1:]) + "\\n")
if "-t" in sys.argv and (here / "broken").exists():
    print("nginx: [emerg] invalid value", file=sys.stderr)
    sys.exit(1)
"""


def test_nginx_reloads_only_when_the_include_changed_and_keeps_a_good_one(
    tmp_path: Path,
) -> None:
    stub = tmp_path / "nginx"
    stub.write_text(STUB_NGINX.format(python=sys.executable))
    stub.chmod(stub.stat().st_mode | stat.S_IXUSR)
    include = tmp_path / "sikker-deny.conf"
    server = Server(tmp_path / "data")
    state = StateDir(tmp_path / "state")
    target = NginxTarget(include, "deny", [str(stub)])
    agent = SyncAgent(AppTransport(server), target, state, {})
    agent.run_once()
    agent.run_once()  # nothing changed: no test, no reload
    calls = (tmp_path / "calls").read_text().splitlines()
    assert calls == ["-t -q", "-s reload"]
    assert "deny 203.0.113.10;" in include.read_text()
    good = include.read_bytes()
    (tmp_path / "broken").touch()
    server.publish(CHANGED)
    with pytest.raises(SyncApplyError, match="emerg"):
        agent.run_once()
    assert include.read_bytes() == good  # the previous include is back
    state_now = state.load()
    assert state_now is not None and state_now.sequence == 1


def test_real_nginx_denies_what_the_agent_synced(ns: str, tmp_path: Path) -> None:
    nginx, ip = need_tool("nginx"), need_tool("ip")
    deny, geo = tmp_path / "deny.conf", tmp_path / "geo.conf"
    deny.write_text("# nothing yet\n")
    geo.write_text("# nothing yet\n")
    conf = config(tmp_path, deny, geo, listen="198.51.100.1:8080")
    for address in (LISTED, UNLISTED):
        in_ns(ns, ip, "addr", "add", f"{address}/32", "dev", "lo")
    proc = subprocess.Popen(
        [ip, "netns", "exec", ns, nginx, "-c", str(conf)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 10
        while status(ns, UNLISTED, 8081) != "200":
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "nginx did not start"
            time.sleep(0.1)
        assert status(ns, LISTED, 8081) == "200"
        server = Server(tmp_path / "data")
        state = StateDir(tmp_path / "state")
        target = NginxTarget(deny, "deny", [*ns_command(ns, "nginx"), "-c", str(conf)])
        SyncAgent(AppTransport(server), target, state, {}).run_once()
        deadline = time.monotonic() + 10
        while status(ns, LISTED, 8081) != "403":  # the workers reload
            assert time.monotonic() < deadline, "nginx never denied the address"
            time.sleep(0.1)
    finally:
        proc.terminate()
        proc.communicate(timeout=10)


# -- the whole chain ------------------------------------------------------------------


def sync(base: str, key_file: Path, state: Path, ns: str, *extra: str) -> list[str]:
    return [
        *CLI, "sync", "--apply", "ipset", "--server", base,
        "--key-file", str(key_file), "--state-dir", str(state),
        "--ipset-command", " ".join(ns_command(ns, "ipset")),
        "--score-min", "80", "--json", *extra,
    ]  # fmt: skip


def one_pass(*argv: str) -> dict:
    done = subprocess.run(argv, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return orjson.loads(done.stdout)


def served(base: str, key: str) -> set[str]:
    url = f"{base}/v1/key/blacklist?plaintext=true&scoreMinimum=80&limit=10000"
    status_, body = get(url, key)
    assert status_ == 200
    return set(body.decode().split())


def wait_for(condition, what: str, seconds: float = 30) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"{what} did not happen in {seconds} s"
        time.sleep(0.2)


def ask_removal(base: str, request: dict) -> str:
    """POST a removal request (anonymous); return its id."""
    sent = urllib.request.Request(
        f"{base}/v1/removal-requests",
        data=orjson.dumps(request),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(sent, timeout=5) as resp:
        return str(orjson.loads(resp.read())["id"])


def found(base: str, key: str, ip: str) -> bool:
    return bool(orjson.loads(get(f"{base}/v1/key/check/{ip}", key)[1])["found"])


@pytest.mark.slow
def test_the_agent_keeps_the_kernel_ipset_in_step_with_changing_evidence(
    live,  # type: ignore[no-untyped-def]  # noqa: F811
    ns: str,
    tmp_path: Path,
) -> None:
    base, token, key = live
    key_file = tmp_path / "sikker.key"
    key_file.write_text(key + "\n")
    state = tmp_path / "agent"
    argv = sync(base, key_file, state, ns)

    first = one_pass(*argv)
    assert first["mode"] == "full" and first["count"] > 0
    assert kernel(ns) == served(base, key)

    attacker = "45.33.99.7"  # new evidence: a persistence session
    events = session(attacker, "sync-1", PERSISTENCE)
    post(f"{base}/v1/sensor/events", token, b"\n".join(map(orjson.dumps, events)))
    wait_for(lambda: found(base, key, attacker), "the new attacker's listing")
    second = one_pass(*argv)
    assert second["mode"] == "delta" and second["added"] >= 1
    assert attacker in kernel(ns) and kernel(ns) == served(base, key)

    delisted = sorted(kernel(ns) - {attacker})[0]  # an approved removal request
    request = {"ip": delisted, "email": "noc@example.net", "reason": "our NAT"}
    rr = ask_removal(base, request)
    run(*CLI, "--data-dir", str(tmp_path), "admin", "removal", "approve", rr)
    wait_for(lambda: not found(base, key, delisted), "the delisting")
    third = one_pass(*argv)
    assert third["mode"] == "delta" and third["removed"] >= 1
    assert delisted not in kernel(ns) and kernel(ns) == served(base, key)
    print(
        f"\nfull pull {first['bytesReceived']} bytes ({first['count']} addresses); "
        f"deltas {second['bytesReceived']} and {third['bytesReceived']} bytes"
    )

    loop = subprocess.Popen(
        [*argv, "--interval", "0.3"], stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    try:
        later = "45.33.99.8"
        events = session(later, "sync-2", PERSISTENCE)
        post(f"{base}/v1/sensor/events", token, b"\n".join(map(orjson.dumps, events)))
        wait_for(lambda: later in kernel(ns), "the loop's update of the kernel set")
        wait_for(lambda: kernel(ns) == served(base, key), "convergence")
    finally:
        loop.send_signal(signal.SIGTERM)
        out, err = loop.communicate(timeout=30)
    assert loop.returncode == 0, err
    modes = [orjson.loads(line)["mode"] for line in out.splitlines()]
    assert modes and "full" not in modes
