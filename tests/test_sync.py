"""The appliance sync protocol: full pulls, deltas, digests, 304, 410, quota.

The server side runs in-process (Falcon's test client); the agent talks to it
through a transport that calls the same app, and applies to a target that
records what it was given. tests/test_sync_tools.py drives real ipset, nft
and nginx.
"""

import hashlib
import ipaddress
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import falcon.testing
import numpy as np
import orjson
import pytest

from sikker.builder.publish import Publisher
from sikker.cli import main
from sikker.core import syncproto
from sikker.core.accounts import AccountStore
from sikker.core.config import load_config
from sikker.core.plans import load_plans
from sikker.errors import (
    ServerRefusedError,
    SyncApplyError,
    SyncDigestError,
    SyncStateError,
)
from sikker.server.app import SikkerApp, create_app
from sikker.server.sync_history import SYNC_DIR
from sikker.sync_agent import SyncAgent
from sikker.sync_allow import AllowList
from sikker.sync_http import HttpTransport, Reply, checked
from sikker.sync_state import SET_FILE, STATE_FILE, StateDir
from tests.contract import Contract
from tests.factories import FAST_KDF, RECORDS, api_key, bearer, table
from tests.loopback import wsgi_server

SNAPSHOT = "/v1/key/sync/snapshot"
DELTA = "/v1/key/sync/delta"


def ip16(text: str) -> bytes:
    """The storage form, by the standard library (an oracle for ipcore)."""
    address = ipaddress.ip_address(text)
    if address.version == 4:
        return bytes(10) + b"\xff\xff" + address.packed
    return address.packed


def oracle_digest(addresses: list[str]) -> str:
    return hashlib.sha256(b"".join(sorted(ip16(a) for a in addresses))).hexdigest()


def listed(records: list[dict[str, Any]], minimum: int) -> list[str]:
    return [r["ip"] for r in records if r["score"] >= minimum]


class Server:
    """A data directory served in-process; ``publish`` adds a sequence."""

    def __init__(self, data: Path, keep: int = 3, **settings: Any) -> None:
        self.data = data
        self.keep = keep
        self.sequence = self.publish(RECORDS)
        self.key = api_key(data)
        overrides = {"data_dir": str(data), "snapshot_check_interval": 0}
        config = load_config(overrides={**overrides, **settings}, environ={})
        self.app: SikkerApp = create_app(config)
        self.client = falcon.testing.TestClient(self.app, headers=bearer(self.key))
        self.contract = Contract(self.app)

    def forget(self) -> None:
        """Empty the workers' in-memory sets (as a restart would)."""
        self.app._router.find(DELTA)[0].sets._cache.clear()

    def publish(self, records: list[dict[str, Any]]) -> int:
        with Publisher(self.data, keep=self.keep) as publisher:
            self.sequence = publisher.publish(table(records)).sequence
        return self.sequence

    def get(
        self, path: str, etag: str | None = None, **params: str
    ) -> falcon.testing.Result:
        headers = {"If-None-Match": etag} if etag else {}
        result = self.client.simulate_get(path, params=params, headers=headers)
        self.contract.check("GET", path, result)
        return result


class AppTransport:
    """The agent's transport, answered by the in-process app."""

    base = "http://sikker.test"

    def __init__(self, server: Server) -> None:
        self.server = server
        self.bodies: list[bytes] = []
        self.tamper = False

    def get(self, path: str, params: dict[str, str], etag: str | None) -> Reply:
        result = self.server.get(path, etag, **params)
        body = result.content
        if self.tamper and path == SNAPSHOT:
            body = body.replace(b"203.0.113.10\n", b"203.0.113.99\n")
        self.bodies.append(body)
        headers = {k.lower(): v for k, v in result.headers.items()}
        return checked(Reply(result.status_code, headers, body))


@dataclass
class RecordingTarget:
    """Holds what it was given; ``flush()`` empties it as an operator would."""

    name: str = "memory"
    keys: np.ndarray | None = None
    applies: int = 0
    refuse: bool = False

    def in_place(self, keys: np.ndarray) -> bool:
        return self.keys is not None and np.array_equal(self.keys, keys)

    def apply(self, keys: np.ndarray) -> None:
        if self.refuse:
            raise SyncApplyError("the target refused the set")
        self.keys = keys.copy()
        self.applies += 1

    def addresses(self) -> set[str]:
        assert self.keys is not None
        return set(b"".join(syncproto.render(self.keys)).decode().split())


@pytest.fixture
def server(tmp_path: Path) -> Server:
    return Server(tmp_path / "data")


def agent_for(
    server: Server,
    tmp_path: Path,
    target: RecordingTarget | None = None,
    allow: AllowList | None = None,
    **params: str,
) -> tuple[SyncAgent, AppTransport, RecordingTarget]:
    transport, target = AppTransport(server), target or RecordingTarget()
    state = StateDir(tmp_path / "state")
    agent = SyncAgent(transport, target, state, dict(params), allow)
    return agent, transport, target


DROPPED = [r for r in RECORDS if r["ip"] != "198.51.100.20"]
CHANGED = [*DROPPED, {**RECORDS[0], "ip": "203.0.113.77", "score": 88}]


# -- the wire format ---------------------------------------------------------------


def test_digest_is_the_sha256_of_the_sorted_storage_form_whatever_the_spelling() -> (
    None
):
    spelled = b"2001:db8::7\n::ffff:203.0.113.10\n192.0.2.1\n"
    keys = syncproto.parse_full(spelled)
    assert syncproto.digest(keys) == oracle_digest(
        ["2001:db8::7", "203.0.113.10", "192.0.2.1"]
    )
    assert b"".join(syncproto.render(keys)) == (
        b"192.0.2.1\n203.0.113.10\n2001:db8::7\n"
    )


def test_applying_the_diff_of_two_sets_gives_the_second_set() -> None:
    rng = np.random.default_rng(7)
    for _ in range(20):
        a = syncproto.keys_of(rng.integers(0, 4, (rng.integers(0, 40), 16), np.uint8))
        b = syncproto.keys_of(rng.integers(0, 4, (rng.integers(0, 40), 16), np.uint8))
        added, removed = syncproto.diff(a, b)
        assert np.array_equal(syncproto.apply_delta(a, added, removed), b)
        lines = b"".join(syncproto.render_delta(added, removed))
        parsed = syncproto.parse_delta(lines)
        assert all(
            np.array_equal(x, y) for x, y in zip(parsed, (added, removed), strict=True)
        )


@pytest.mark.parametrize(
    "body",
    [b"203.0.113.10", b"203.0.113.10\nnot-an-ip\n", b"\xff\n", b"example.com\n"],
)
def test_malformed_full_lists_are_refused(body: bytes) -> None:
    with pytest.raises(ValueError, match=r"line|cut short"):
        syncproto.parse_full(body)


def test_delta_lines_must_start_with_a_sign() -> None:
    with pytest.raises(ValueError, match="neither"):
        syncproto.parse_delta(b"+203.0.113.10\n203.0.113.11\n")


# -- the endpoints -----------------------------------------------------------------


def test_snapshot_sends_the_filtered_set_with_its_digest_as_a_strong_etag(
    server: Server,
) -> None:
    result = server.get(SNAPSHOT, scoreMinimum="50")
    expected = listed(RECORDS, 50)
    assert result.status_code == 200
    assert result.text.split() == sorted(expected, key=ip16)
    digest = oracle_digest(expected)
    assert result.headers["ETag"] == f'"{digest}"'
    assert result.headers["X-Sync-SHA256"] == digest
    assert result.headers["X-Sync-Count"] == str(len(expected))
    assert result.headers["X-Snapshot-Sequence"] == str(server.sequence)
    assert result.headers["X-Sync-Filter"] == "limit=10000&scoreMinimum=50"


def test_if_none_match_with_the_current_digest_is_a_304_that_charges_nothing(
    server: Server,
) -> None:
    etag = server.get(SNAPSHOT).headers["ETag"]
    used = server.get("/v1/key/status").json["quotas"]["blacklist"]["used"]
    for path, params in ((SNAPSHOT, {}), (DELTA, {"from": "1"})):
        result = server.get(path, etag, **params)
        assert result.status_code == 304 and result.content == b""
        assert result.headers["ETag"] == etag
        assert result.headers["X-Snapshot-Sequence"] == str(server.sequence)
    weak_and_other = f'"0000", W/{etag}'
    assert server.get(SNAPSHOT, weak_and_other).status_code == 304
    assert server.get(SNAPSHOT, '"0000"').status_code == 200
    after = server.get("/v1/key/status").json["quotas"]["blacklist"]["used"]
    assert after == used + len(listed(RECORDS, 50))  # only the last 200


def test_delta_lists_removed_then_added_addresses(server: Server) -> None:
    before = server.get(SNAPSHOT)
    server.publish(CHANGED)
    result = server.get(DELTA, before.headers["ETag"], **{"from": "1"})
    assert result.status_code == 200
    assert result.text == "-198.51.100.20\n+203.0.113.77\n"
    assert result.headers["X-Sync-From"] == "1"
    assert result.headers["X-Snapshot-Sequence"] == "2"
    assert result.headers["X-Sync-SHA256"] == oracle_digest(listed(CHANGED, 50))
    assert result.headers["X-Result-Count"] == "2"


def test_a_delta_of_nothing_is_an_empty_200_without_if_none_match(
    server: Server,
) -> None:
    result = server.get(DELTA, **{"from": str(server.sequence)})
    assert result.status_code == 200 and result.content == b""


@pytest.mark.parametrize("since", ["7", "0"])
def test_a_delta_from_a_sequence_the_server_never_had_is_410_full_required(
    server: Server, since: str
) -> None:
    result = server.get(DELTA, **{"from": since})
    assert result.status_code == 410
    assert result.json["code"] == syncproto.FULL_REQUIRED


def test_history_serves_deltas_from_snapshots_already_pruned(tmp_path: Path) -> None:
    server = Server(tmp_path / "data", keep=1)
    server.get(SNAPSHOT)  # the history keeps sequence 1's set
    server.publish(DROPPED)
    server.publish(CHANGED)
    assert not (tmp_path / "data/snapshots/0000000001").exists()
    result = server.get(DELTA, **{"from": "1"})
    assert result.status_code == 200
    assert result.text == "-198.51.100.20\n+203.0.113.77\n"
    # another filter was never served at 1, and sequence 1 is gone: 410
    assert server.get(DELTA, **{"from": "1", "scoreMinimum": "90"}).status_code == 410


def test_history_keeps_only_the_newest_sets_of_a_filter(tmp_path: Path) -> None:
    server = Server(tmp_path / "data", keep=1, sync_history=2)
    for records in (DROPPED, CHANGED, RECORDS):
        server.get(SNAPSHOT)
        server.publish(records)
    server.get(SNAPSHOT)
    kept = sorted(p.name[:10] for p in (tmp_path / "data" / SYNC_DIR).rglob("*.set"))
    assert kept == ["0000000003", "0000000004"]
    server.forget()
    assert server.get(DELTA, **{"from": "2"}).status_code == 410
    assert server.get(DELTA, **{"from": "3"}).status_code == 200


def test_history_keeps_the_most_recently_served_filters(tmp_path: Path) -> None:
    server = Server(tmp_path / "data", sync_history_filters=1)
    server.get(SNAPSHOT, scoreMinimum="90")
    server.get(SNAPSHOT, scoreMinimum="50")
    (kept,) = (tmp_path / "data" / SYNC_DIR).iterdir()
    assert (kept / "filter").read_text() == "limit=10000&scoreMinimum=50"


def test_a_damaged_history_file_is_never_used_for_a_delta(tmp_path: Path) -> None:
    server = Server(tmp_path / "data", keep=1)
    server.get(SNAPSHOT)
    server.publish(CHANGED)
    (stored,) = (tmp_path / "data" / SYNC_DIR).rglob("0000000001-*.set")
    stored.write_bytes(stored.read_bytes()[:-16])
    server.forget()
    assert server.get(DELTA, **{"from": "1"}).status_code == 410


def test_a_history_the_disk_refuses_still_serves_full_lists(tmp_path: Path) -> None:
    server = Server(tmp_path / "data", keep=1)
    (tmp_path / "data" / SYNC_DIR).write_text("not a directory")
    assert server.get(SNAPSHOT).status_code == 200
    server.publish(CHANGED)
    server.forget()
    assert server.get(DELTA, **{"from": "1"}).status_code == 410


@pytest.mark.parametrize(
    ("params", "parameter"),
    [
        ({}, "from"),
        ({"from": "-1"}, "from"),
        ({"from": "9" * 30}, "from"),
        ({"from": "1", "format": "ipset"}, "format"),
        ({"from": "1", "scoreMinimum": "101"}, "scoreMinimum"),
    ],
)
def test_bad_delta_parameters_are_400_naming_the_parameter(
    server: Server, params: dict[str, str], parameter: str
) -> None:
    result = server.get(DELTA, **params)
    assert result.status_code == 400 and result.json["parameter"] == parameter


TINY_PLANS = """
default = "tiny"
[plans.tiny]
quotas = { lookups = 40, reports = 10, blacklist = 5, taxii = 10 }
alerts = { ip = 1, range = 1, username = 1, email = 1, range_prefix_v4 = 24, range_prefix_v6 = 48 }
caps = { bulk_check_ips = 10, bulk_report_rows = 10, blacklist_limit = 3 }
"""  # noqa: E501


def test_the_plan_caps_the_set_and_a_set_beyond_the_quota_left_is_a_429(
    tmp_path: Path,
) -> None:
    plans = tmp_path / "plans.toml"
    plans.write_text(TINY_PLANS)
    server = Server(tmp_path / "data", plans_path=str(plans))
    store = AccountStore(server.data, plans=load_plans(plans), kdf=FAST_KDF)
    try:
        key = api_key(server.data, "tiny@example.com", plan="tiny", store=store)
    finally:
        store.close()
    server.client = falcon.testing.TestClient(server.app, headers=bearer(key))
    first = server.get(SNAPSHOT, scoreMinimum="0")
    assert first.status_code == 200
    assert first.headers["X-Sync-Filter"] == "limit=3&scoreMinimum=0"
    assert len(first.text.split()) == 3
    assert first.headers["X-RateLimit-Remaining"] == "2"
    again = server.get(SNAPSHOT, scoreMinimum="0")
    assert again.status_code == 429  # 3 more lines do not fit in 2
    assert server.get(
        SNAPSHOT, first.headers["ETag"], scoreMinimum="0"
    ).status_code == (304)


# -- the agent -----------------------------------------------------------------------


def test_the_first_pass_pulls_the_full_list_and_applies_it(
    server: Server, tmp_path: Path
) -> None:
    agent, _, target = agent_for(server, tmp_path)
    result = agent.run_once()
    assert result.mode == "full" and result.applied
    assert target.addresses() == set(listed(RECORDS, 50))
    assert result.digest == oracle_digest(listed(RECORDS, 50))


def test_later_passes_pull_deltas_and_the_target_converges(
    server: Server, tmp_path: Path
) -> None:
    agent, transport, target = agent_for(server, tmp_path, scoreMinimum="50")
    full = agent.run_once()
    server.publish(CHANGED)
    delta = agent.run_once()
    assert (delta.mode, delta.since, delta.sequence) == ("delta", 1, 2)
    assert (delta.added, delta.removed) == (1, 1)
    assert target.addresses() == set(listed(CHANGED, 50))
    assert delta.received < full.received
    assert transport.bodies[-1] == b"-198.51.100.20\n+203.0.113.77\n"


def test_an_unchanged_set_is_a_304_and_the_target_is_left_alone(
    server: Server, tmp_path: Path
) -> None:
    agent, transport, target = agent_for(server, tmp_path)
    agent.run_once()
    low = [*RECORDS, {**RECORDS[0], "ip": "203.0.113.78", "score": 20}]
    server.publish(low)  # a new sequence; the score >= 50 list is the same
    result = agent.run_once()
    assert (result.mode, result.sequence, result.applied) == ("not_modified", 2, False)
    assert target.applies == 1 and transport.bodies[-1] == b""
    server.publish(CHANGED)
    assert agent.run_once().since == 2  # the 304 moved the agent on
    forced = agent.run_once(full=True)
    assert forced.mode == "full" and forced.received > 0 and not forced.applied


def test_a_digest_mismatch_after_a_delta_falls_back_to_a_full_pull(
    server: Server, tmp_path: Path
) -> None:
    agent, _, target = agent_for(server, tmp_path)
    agent.run_once()
    state_dir = StateDir(tmp_path / "state")
    state = state_dir.load()
    assert state is not None
    state.keys = syncproto.keys_of(ip16("192.0.2.200"))  # a set the server never sent
    state.digest = syncproto.digest(state.keys)
    state_dir.save(state)
    server.publish(CHANGED)
    result = agent.run_once()
    assert result.mode == "full" and "SHA-256" in (result.fallback or "")
    assert target.addresses() == set(listed(CHANGED, 50))


def test_a_gap_the_server_cannot_bridge_falls_back_to_a_full_pull(
    tmp_path: Path,
) -> None:
    server = Server(tmp_path / "data", keep=1)
    agent, _, target = agent_for(server, tmp_path)
    agent.run_once()
    for path in (tmp_path / "data" / SYNC_DIR).rglob("*.set"):
        path.unlink()  # the history is lost (a new server, a wiped disk)
    server.forget()
    server.publish(DROPPED)
    server.publish(CHANGED)
    result = agent.run_once()
    assert result.mode == "full" and "no delta" in (result.fallback or "")
    assert target.addresses() == set(listed(CHANGED, 50))


def test_a_full_list_that_fails_its_digest_is_never_applied(
    server: Server, tmp_path: Path
) -> None:
    agent, transport, target = agent_for(server, tmp_path)
    transport.tamper = True
    with pytest.raises(SyncDigestError):
        agent.run_once()
    assert target.keys is None
    assert not (tmp_path / "state" / STATE_FILE).exists()


def test_allow_listed_networks_are_never_applied_but_the_set_is_verified(
    server: Server, tmp_path: Path
) -> None:
    allow = AllowList(["203.0.113.0/28", "2001:db8::/32"])
    agent, _, target = agent_for(server, tmp_path, allow=allow)
    result = agent.run_once()
    assert result.allow_listed == 2
    kept = set(listed(RECORDS, 50)) - {"203.0.113.10", "2001:db8::7"}
    assert target.addresses() == kept
    assert result.digest == oracle_digest(listed(RECORDS, 50))  # the server's set


def test_loopback_is_always_allowed() -> None:
    keys = syncproto.parse_full(b"127.0.0.1\n::1\n203.0.113.10\n")
    kept, left_out = AllowList().without(keys)
    assert (b"".join(syncproto.render(kept)), left_out) == (b"203.0.113.10\n", 2)


def test_a_bad_allow_list_entry_names_the_option(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="--allow"):
        AllowList(["10.0.0.0/33"])
    listing = tmp_path / "allow.txt"
    listing.write_text("# office\n198.51.100.0/24  # vpn\n\n")
    assert "198.51.100.0/24" in AllowList.read([], [listing]).cidrs


def test_a_failed_apply_leaves_the_state_for_the_next_pass(
    server: Server, tmp_path: Path
) -> None:
    target = RecordingTarget()
    agent, _, _ = agent_for(server, tmp_path, target)
    agent.run_once()
    server.publish(CHANGED)
    target.refuse = True
    with pytest.raises(SyncApplyError):
        agent.run_once()
    state = StateDir(tmp_path / "state").load()
    assert state is not None and state.sequence == 1
    target.refuse = False
    result = agent.run_once()
    assert (result.mode, result.since) == ("delta", 1)
    assert target.addresses() == set(listed(CHANGED, 50))


def test_a_flushed_target_is_refilled_even_when_nothing_changed(
    server: Server, tmp_path: Path
) -> None:
    agent, _, target = agent_for(server, tmp_path)
    agent.run_once()
    target.keys = syncproto.empty()  # someone ran `ipset flush`
    result = agent.run_once()
    assert result.mode == "not_modified" and result.applied
    assert target.addresses() == set(listed(RECORDS, 50))


def test_a_new_filter_or_server_starts_over_with_a_full_pull(
    server: Server, tmp_path: Path
) -> None:
    agent, _, _ = agent_for(server, tmp_path)
    agent.run_once()
    other, _, target = agent_for(server, tmp_path, scoreMinimum="90")
    result = other.run_once()
    assert result.mode == "full" and result.fallback is None
    assert target.addresses() == set(listed(RECORDS, 90))


def test_a_damaged_state_is_dropped_and_the_agent_pulls_in_full(
    server: Server, tmp_path: Path
) -> None:
    agent, _, _ = agent_for(server, tmp_path)
    agent.run_once()
    (tmp_path / "state" / SET_FILE).write_bytes(b"\x00" * 16)
    assert agent.run_once().mode == "full"


def test_one_pass_at_a_time_per_state_directory(server: Server, tmp_path: Path) -> None:
    agent, _, _ = agent_for(server, tmp_path)
    with StateDir(tmp_path / "state").lock(), pytest.raises(SyncStateError):
        agent.run_once()


def test_server_errors_reach_the_agent_in_the_servers_words(
    server: Server, tmp_path: Path
) -> None:
    agent, _, _ = agent_for(server, tmp_path, scoreMinimum="x")
    with pytest.raises(ServerRefusedError, match="scoreMinimum") as caught:
        agent.run_once()
    assert caught.value.http_status == 400


# -- over HTTP: the transport and the command ------------------------------------------


@pytest.fixture
def http(server: Server) -> Iterator[str]:
    """Serve the app on a loopback port from a thread; yield its base URL."""
    with wsgi_server(server.app) as url:
        yield url


def test_the_http_transport_keeps_304_and_410_and_raises_for_the_rest(
    server: Server, http: str
) -> None:
    transport = HttpTransport(http, server.key, timeout=10)
    full = transport.get(SNAPSHOT, {}, None)
    assert full.status == 200 and full.header("X-Sync-Count") == "4"
    etag = full.header("ETag")
    held = transport.get(DELTA, {"from": "1"}, etag)
    assert held.status == 304 and held.header("X-Snapshot-Sequence") == "1"
    assert transport.get(DELTA, {"from": "99"}, None).status == 410
    with pytest.raises(ServerRefusedError, match="scoreMinimum") as caught:
        transport.get(SNAPSHOT, {"scoreMinimum": "-1"}, None)
    assert caught.value.http_status == 400
    with pytest.raises(ServerRefusedError) as refused:
        HttpTransport(http, "sk_live_nope", timeout=10).get(SNAPSHOT, {}, None)
    assert refused.value.exit_status == 4


def test_sikker_sync_keeps_a_file_in_step_pass_after_pass(
    server: Server, http: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    key_file = tmp_path / "key"
    key_file.write_text(server.key + "\n")
    out = tmp_path / "blocklist.txt"
    argv = [
        "sync", "--apply", "file", "--output", str(out), "--server", http,
        "--key-file", str(key_file), "--state-dir", str(tmp_path / "state"),
        "--allow", "192.0.2.0/24",
    ]  # fmt: skip

    def sync(*extra: str) -> str:
        assert main([*argv, *extra]) == 0
        return capsys.readouterr().out

    first = orjson.loads(sync("--json"))
    assert (first["mode"], first["allowListed"], first["applied"]) == ("full", 1, True)
    assert out.read_text().split() == ["198.51.100.20", "203.0.113.10", "2001:db8::7"]
    inode = out.stat().st_ino
    server.publish(CHANGED)
    assert "delta from 1: +1 -1" in sync()
    assert "203.0.113.77" in out.read_text().split()
    assert "not modified" in sync() and "already in place" in sync()
    assert out.stat().st_ino != inode  # replaced by a rename, not rewritten
    stable = out.stat().st_ino
    sync()
    assert out.stat().st_ino == stable  # unchanged: not touched


def test_sikker_sync_says_what_is_missing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    state = ["--state-dir", str(tmp_path)]
    assert main(["sync", "--apply", "file", "--server", "http://127.0.0.1:9",
                 "--key", "k", *state]) == 2  # fmt: skip
    assert "--apply file needs --output FILE" in capsys.readouterr().err
    assert main(["sync", "--apply", "ipset", "--server", "http://127.0.0.1:9",
                 "--key", "k", "--set-name", "no way", *state]) == 2  # fmt: skip
    assert "--set-name" in capsys.readouterr().err
