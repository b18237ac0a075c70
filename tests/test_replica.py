"""Read replicas: a replica keeps in step with its primary and answers alike.

Most tests run a primary app in this process behind a loopback WSGI server
(so a test can corrupt what it sends) and drive one sync pass at a time;
the last ones run the real thing: ``sikker serve`` with ``sikker build
--follow`` as the primary and ``sikker serve --replica-of`` beside it.
"""

import os
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import falcon.inspect
import falcon.testing
import numpy as np
import orjson
import pytest

from benchmarks.redis_server import RedisServer
from sikker.builder.publish import Publisher
from sikker.builder.writer import Overlay
from sikker.core.config import load_config
from sikker.core.filters import BlacklistQuery
from sikker.core.handles import shared
from sikker.core.layout import SNAPSHOTS, TMP_PREFIX, current_path
from sikker.core.manifest import Manifest
from sikker.core.notices import SnapshotNotices
from sikker.core.primary import Primary
from sikker.core.replica_tokens import ReplicaRegistry
from sikker.core.sensors import SensorRegistry
from sikker.core.snapshot import Snapshot
from sikker.errors import (
    ConfigError,
    KeyRevokedError,
    ReplicaDigestError,
    ReplicaProtocolError,
    ServerRefusedError,
)
from sikker.replica_http import PrimaryClient
from sikker.replica_sync import PassResult, RemoteState, ReplicaSync, held_sequence
from sikker.server.app import SikkerApp, create_app
from sikker.server.forward import PRIMARY_ROUTES
from sikker.server.web.sessions import SessionStore
from tests.factories import PASSWORD, RECORDS, api_key, basic, bearer, table
from tests.loopback import wsgi_server
from tests.redis_support import own_redis, settings_of
from tests.test_gunicorn import get, serving
from tests.test_incremental import PERSISTENCE, session
from tests.test_live import CLI, live_server, post
from tests.test_overlay import NEW

__all__ = ["own_redis"]  # fixture

IPS = [r["ip"] for r in RECORDS] + [NEW["ip"], "8.8.4.4", "2001:db8::99"]


def app_for(data: Path, **settings: Any) -> SikkerApp:
    overrides = {"data_dir": str(data), "snapshot_check_interval": 0, **settings}
    return create_app(load_config(overrides=overrides, environ={}))


class Corrupting:
    """WSGI middleware: flips a byte of generation files while ``on``."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.on = False

    def __call__(self, environ: dict, start_response: Callable) -> Any:
        body = b"".join(self.app(environ, start_response))
        if self.on and environ["PATH_INFO"].startswith("/v1/replica/files/") and body:
            body = bytes([body[0] ^ 0xFF]) + body[1:]
        return [body]


def publish_overlay(
    data: Path, records: list[dict[str, Any]], announce: Any = None
) -> None:
    with (
        Publisher(data, announce=announce) as publisher,
        Snapshot.open(current_path(data)) as now,
    ):
        publisher.publish(table(records), overlay=Overlay(now.base or now.top))


def publish_base(data: Path, records: list[dict[str, Any]] | None = None) -> None:
    with Publisher(data) as publisher:
        publisher.publish(table(records))


@pytest.fixture
def primary(tmp_path: Path) -> Iterator[dict[str, Any]]:
    """A primary app (base + overlay, one API key, one replica token) on a
    loopback port; ``corrupt.on`` damages the files it sends."""
    data = tmp_path / "primary"
    publish_base(data)
    publish_overlay(data, [NEW])
    key = api_key(data)
    _, token = ReplicaRegistry(data).add("r1")
    app = app_for(data)
    corrupt = Corrupting(app)
    with wsgi_server(corrupt) as base:
        yield {"data": data, "app": app, "base": base, "key": key, "token": token,
               "corrupt": corrupt}  # fmt: skip


class Replica:
    """One replica data directory and its sync, one pass at a time."""

    def __init__(self, data: Path, base: str, token: str) -> None:
        self.data = data
        self.sync = ReplicaSync(data, PrimaryClient(Primary.parse(base), token, 5.0))

    def run(self, full: bool = False) -> PassResult:
        with Publisher(self.data) as publisher:
            return self.sync.run_once(publisher, full)

    def snapshot(self) -> Snapshot:
        return Snapshot.open(current_path(self.data))


@pytest.fixture
def replica(tmp_path: Path, primary: dict[str, Any]) -> Iterator[Replica]:
    held = Replica(tmp_path / "replica", primary["base"], primary["token"])
    yield held
    held.sync.close()


def answers(snapshot: Snapshot) -> list[Any]:
    """Every lookup of IPS and the whole blacklist, comparable."""
    found = [snapshot.lookup(ip) for ip in IPS]
    rows = snapshot.blacklist(BlacklistQuery(score_minimum=0, limit=1000))
    return [found, snapshot.ip_texts(rows), snapshot.count, snapshot.sequence]


def test_a_pass_copies_the_primary_chain_and_reads_alike(
    primary: dict[str, Any], replica: Replica
) -> None:
    result = replica.run()
    assert result.mode == "full" and result.pulled == ["0000000001", "0000000002"]
    with Snapshot.open(current_path(primary["data"])) as source:
        assert answers(replica.snapshot()) == answers(source)
    for name in result.pulled:
        directory = replica.data / SNAPSHOTS / name
        Manifest.load(directory).verify(directory)
        assert all(not p.stat().st_mode & 0o222 for p in directory.rglob("*.bin"))
    assert current_path(replica.data).name == "0000000002"


def test_an_unchanged_primary_costs_one_304_even_after_a_restart(
    primary: dict[str, Any], replica: Replica
) -> None:
    replica.run()
    again = replica.run()
    assert again.mode == "not_modified" and again.received == 0
    status = orjson.loads((replica.data / "replica.json").read_bytes())
    assert status["passes"] == 2 and status["sequence"] == 2
    assert status["primary_sequence"] == 2 and status["last_error"] is None
    restarted = Replica(replica.data, primary["base"], primary["token"])
    assert restarted.run().mode == "not_modified"  # the saved tags still hold


def test_a_new_overlay_is_a_delta_pull_and_a_new_base_a_full_one(
    primary: dict[str, Any], replica: Replica
) -> None:
    first = replica.run()
    publish_overlay(primary["data"], [NEW, {**NEW, "ip": "198.51.100.98"}])
    delta = replica.run()
    assert delta.mode == "delta" and delta.pulled == ["0000000003"]
    assert delta.received < first.received
    publish_base(primary["data"], [*RECORDS, {**NEW, "score": 40}])  # a compaction
    full = replica.run()
    assert full.mode == "full" and full.pulled == ["0000000004"]
    with Snapshot.open(current_path(primary["data"])) as source:
        assert answers(replica.snapshot()) == answers(source)
    assert replica.snapshot().base is None


def test_a_file_that_differs_from_its_manifest_is_never_published(
    primary: dict[str, Any], replica: Replica
) -> None:
    replica.run()
    publish_overlay(primary["data"], [{**NEW, "score": 10}])
    primary["corrupt"].on = True
    with pytest.raises(ReplicaDigestError, match="does not match its manifest"):
        replica.run()
    assert current_path(replica.data).name == "0000000002"  # the previous one
    assert not list((replica.data / SNAPSHOTS).glob(f"{TMP_PREFIX}*"))
    assert not (replica.data / SNAPSHOTS / "0000000003").exists()
    assert replica.snapshot().lookup(NEW["ip"]).score == 92
    status = orjson.loads((replica.data / "replica.json").read_bytes())
    assert status["failures"] == 1 and "manifest" in status["last_error"]
    primary["corrupt"].on = False
    retried = replica.run()  # full: the held base is hashed again
    assert retried.pulled == ["0000000003"]
    assert replica.snapshot().lookup(NEW["ip"]).score == 10


def test_a_primary_rebuilt_from_scratch_replaces_what_the_replica_held(
    tmp_path: Path, primary: dict[str, Any], replica: Replica
) -> None:
    replica.run()
    replica.sync.close()  # one account store per process and directory
    other = tmp_path / "rebuilt"
    publish_base(other, [{**r, "score": 33} for r in RECORDS])
    _, token = ReplicaRegistry(other).add("r1")
    with wsgi_server(app_for(other)) as base:
        moved = Replica(replica.data, base, token)
        try:
            result = moved.run()
        finally:
            moved.sync.close()
    assert result.mode == "full" and result.pulled == ["0000000001"]
    assert current_path(replica.data).name == "0000000001"
    assert {r.score for _, r in replica.snapshot().records()} == {33}


def test_keys_made_on_the_primary_authenticate_on_the_replica(
    primary: dict[str, Any], replica: Replica
) -> None:
    replica.run()
    store = replica.sync.copies.accounts()
    account, _ = store.authenticate(primary["key"])
    assert account.email == "tester@example.com" and account.password == ""
    source = primary["app"].keyed.service.store()
    key_id = primary["key"].split("_")[2]
    source.revoke_key(key_id)
    assert replica.run().copied == ["accounts"]
    with pytest.raises(KeyRevokedError):
        store.authenticate(primary["key"])
    assert store.secret == source.secret


def test_reports_and_web_sign_ins_reach_the_replica_pages(
    primary: dict[str, Any], replica: Replica
) -> None:
    replica.run()
    source = falcon.testing.TestClient(primary["app"], headers=bearer(primary["key"]))
    sent = source.simulate_post("/v1/key/report", json=REPORT)
    assert sent.status_code == 200
    account = primary["app"].keyed.service.store().user("tester@example.com")
    sessions = shared(SessionStore, primary["data"])
    token = sessions.create(account.id, 3600)
    assert replica.run().copied == ["sessions", "reports"]
    assert replica.run().mode == "not_modified"
    replica.sync.close()  # the replica's pages open the same stores
    client = falcon.testing.TestClient(
        app_for(replica.data, replica_of=primary["base"])
    )
    page = client.simulate_get(
        "/lookup",
        params={"ip": REPORT["ip"]},
        cookies={"sikker_session": token},
        headers={"Accept": "text/html"},
    )
    assert page.status_code == 200
    assert "Recent reports" in page.text and REPORT["comment"] in page.text
    assert "Sign out" in page.text  # signed in on the primary, known here
    sessions.delete(token)
    replica.run()
    again = client.simulate_get("/lookup", cookies={"sikker_session": token})
    assert "Sign out" not in again.text and "Sign in" in again.text


@pytest.mark.parametrize(
    "change",
    [
        lambda doc: doc["generations"][0]["manifest"]["files"].update(
            {"../escape": {"size": 1, "sha256": "0" * 64}}
        ),
        lambda doc: doc["generations"][0].update(name="0000000009"),
        lambda doc: doc["generations"][1]["manifest"].update(base=7),
        lambda doc: doc.update(generations=[]),
        lambda doc: doc.update(sequence="2"),
        lambda doc: doc["generations"][0]["manifest"]["files"]["ips.bin"].update(
            size=-1
        ),
        lambda doc: doc["generations"][0].update(manifest={"format": 2}),
    ],
    ids=["escaping name", "name", "base", "empty", "sequence", "size", "manifest"],
)
def test_a_malformed_state_is_refused(
    primary: dict[str, Any], change: Callable[[dict], None]
) -> None:
    client = PrimaryClient(Primary.parse(primary["base"]), primary["token"], 5.0)
    doc, _ = client.document("/v1/replica/state")
    assert doc is not None
    RemoteState.parse(doc)  # as served, it is fine
    change(doc)
    with pytest.raises(ReplicaProtocolError):
        RemoteState.parse(doc)


def test_the_state_names_a_new_snapshot_at_once_whatever_the_check_interval(
    tmp_path: Path,
) -> None:
    # a replica woken by a Redis notice asks at once: a worker that answered
    # from its snapshot of up to snapshot_check_interval ago sent a 304, and
    # the replica waited a whole replica_poll_seconds for the next pass
    data = tmp_path / "primary"
    publish_base(data)
    _, token = ReplicaRegistry(data).add("r1")
    client = falcon.testing.TestClient(app_for(data, snapshot_check_interval=3600))
    auth = {"Authorization": f"Bearer {token}"}
    first = client.simulate_get("/v1/replica/state", headers=auth)
    assert first.json["sequence"] == 1
    publish_overlay(data, [NEW])
    again = client.simulate_get(
        "/v1/replica/state", headers={**auth, "If-None-Match": first.headers["ETag"]}
    )
    assert again.status_code == 200 and again.json["sequence"] == 2


def test_only_replica_tokens_open_the_replication_endpoints(
    primary: dict[str, Any], tmp_path: Path
) -> None:
    _, sensor = SensorRegistry(primary["data"]).add("hp1")
    for token in (sensor, primary["key"], "skr_nope"):
        with pytest.raises(ServerRefusedError) as refused:
            Replica(tmp_path / "r", primary["base"], token).run()
        assert refused.value.http_status == 401
    ReplicaRegistry(primary["data"]).remove("r1")
    with pytest.raises(ServerRefusedError, match="replica token"):
        Replica(tmp_path / "r", primary["base"], primary["token"]).run()


def test_replication_routes_ask_for_the_token_before_anything_else(
    tmp_path: Path,
) -> None:
    client = falcon.testing.TestClient(app_for(tmp_path))  # not even a snapshot
    for path in ("state", "files/0000000001?path=ips.bin", "accounts", "sessions",
                 "reports?after=x"):  # fmt: skip
        answer = client.simulate_get(f"/v1/replica/{path}")
        assert answer.status_code == 401, path
        assert answer.headers["WWW-Authenticate"].startswith("Bearer")


def test_every_write_route_is_forwarded_on_a_replica(tmp_path: Path) -> None:
    app = app_for(tmp_path)
    routes = {
        (method.method, route.path)
        for route in falcon.inspect.inspect_routes(app)
        for method in route.methods
        if not method.internal
    }
    templates = {path for _, path in routes}
    assert templates >= PRIMARY_ROUTES
    writes = {
        path
        for method, path in routes
        if method in ("POST", "PUT", "PATCH", "DELETE")
        and not path.startswith(("/taxii2", "/v1/key/bulk-check-inline"))
    }
    assert writes <= PRIMARY_ROUTES, sorted(writes - PRIMARY_ROUTES)


@pytest.fixture
def local_replica(
    tmp_path: Path,
) -> Callable[..., tuple[falcon.testing.TestClient, str]]:
    """A replica data directory served in this process; its primary is
    whatever URL the test gives (an API key is made locally, as a mirrored
    directory would hold it)."""

    def make(primary: str, **settings: Any) -> tuple[falcon.testing.TestClient, str]:
        data = tmp_path / "local-replica"
        publish_base(data)
        key = api_key(data)
        app = app_for(data, replica_of=primary, **settings)
        return falcon.testing.TestClient(app), key

    return make


REPORT = {"ip": "45.155.205.7", "category": "brute_force", "comment": "ssh"}


def test_a_rejecting_replica_refuses_writes_and_names_its_primary(
    local_replica: Callable[..., tuple[falcon.testing.TestClient, str]],
) -> None:
    client, key = local_replica(
        "https://primary.example.net:8443/", replica_writes="reject"
    )
    refused = client.simulate_post("/v1/key/report", json=REPORT, headers=bearer(key))
    assert refused.status_code == 403
    assert refused.json["code"] == "read_replica"
    assert refused.json["primary"] == "https://primary.example.net:8443"
    assert "read replica" in refused.json["error"]
    form = client.simulate_post(
        "/signin", body="email=a", headers={"Accept": "text/html"}
    )
    assert form.status_code == 403 and "read replica" in form.text
    check = client.simulate_get("/v1/key/check/203.0.113.10", headers=bearer(key))
    assert check.status_code == 200 and check.json["confidenceLevel"] == 97


def test_a_replica_without_its_primary_answers_writes_503_and_reads_200(
    local_replica: Callable[..., tuple[falcon.testing.TestClient, str]],
) -> None:
    with wsgi_server(lambda env, start: []) as closed:
        pass  # the port is free again: nothing listens on it
    client, key = local_replica(closed)
    failed = client.simulate_post("/v1/key/report", json=REPORT, headers=bearer(key))
    assert failed.status_code == 503
    assert failed.json["code"] == "primary_unavailable"
    assert failed.headers["Retry-After"] == "10"
    check = client.simulate_get("/v1/key/check/203.0.113.10", headers=bearer(key))
    assert check.status_code == 200


def test_writes_to_a_replica_are_answered_by_the_primary(
    primary: dict[str, Any],
    local_replica: Callable[..., tuple[falcon.testing.TestClient, str]],
) -> None:
    client, _ = local_replica(primary["base"])
    key = primary["key"]  # known to the primary only: the replica does not check it
    sent = client.simulate_post(
        "/v1/key/report", json=REPORT, headers=bearer(key), remote_addr="192.0.2.7"
    )
    assert sent.status_code == 200 and sent.json["success"] is True
    assert int(sent.headers["X-RateLimit-Remaining"]) < int(
        sent.headers["X-RateLimit-Limit"]
    )
    mine = client.simulate_get("/v1/key/reports", headers=bearer(key))
    assert [r["ip"] for r in mine.json["reports"]] == [REPORT["ip"]]
    listed = client.simulate_get(
        "/v1/account/keys", headers=basic("tester@example.com", PASSWORD)
    )
    assert listed.status_code == 200 and len(listed.json["keys"]) == 1
    wrong = client.simulate_get("/v1/key/reports", headers=bearer("sk_live_nope"))
    assert wrong.status_code == 401 and wrong.json["code"] == "unauthorized"


def test_a_replica_reports_its_sync_in_health_and_metrics(
    primary: dict[str, Any], replica: Replica
) -> None:
    replica.run()
    replica.sync.close()
    client = falcon.testing.TestClient(
        app_for(replica.data, replica_of=primary["base"])
    )
    health = client.simulate_get("/healthz").json
    assert health["mode"] == "replica" and health["snapshot"]["sequence"] == 2
    state = health["replica"]
    assert state["primary"] == primary["base"] and state["primarySequence"] == 2
    assert 0 <= state["lagSeconds"] < 60 and state["lastError"] is None
    metrics = client.simulate_get("/metrics").text
    labels = f'{{primary="{primary["base"]}"}}'
    assert f"sikker_replica_sequence{labels} 2" in metrics
    assert f"sikker_replica_lag_seconds{labels} " in metrics
    assert f"sikker_replica_full_pulls_total{labels} 1" in metrics
    plain = falcon.testing.TestClient(primary["app"]).simulate_get("/healthz").json
    assert plain["mode"] == "primary" and "replica" not in plain


@pytest.mark.slow
def test_a_redis_notice_wakes_the_sync_loop_long_before_its_next_poll(
    primary: dict[str, Any], tmp_path: Path, own_redis: RedisServer
) -> None:
    data = tmp_path / "woken"
    env = dict(
        os.environ,
        SIKKER_REPLICA_TOKEN=primary["token"],
        SIKKER_REPLICA_POLL_SECONDS="120",
        SIKKER_REDIS_URL=own_redis.url,
    )
    loop = subprocess.Popen(
        [*CLI, "--data-dir", str(data), "replica", "sync", "--replica-of",
         primary["base"]],
        env=env, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        held = wait_for(lambda: held_sequence(data) == 2, "the first pass")
        assert held
        time.sleep(1)  # the subscription is up (its first wake-up is spent)
        notices = SnapshotNotices(settings_of(own_redis))
        publish_overlay(primary["data"], [{**NEW, "score": 11}], notices.publish)
        started = time.monotonic()
        wait_for(lambda: held_sequence(data) == 3, "the notice")
        print(f"pulled {time.monotonic() - started:.2f} s after the notice")
    finally:
        loop.terminate()
        loop.wait(timeout=30)


def wait_for(done: Callable[[], bool], what: str, seconds: float = 20) -> bool:
    """Poll ``done`` until it holds; fail after ``seconds`` (far below 120)."""
    deadline = time.monotonic() + seconds
    while not done():
        assert time.monotonic() < deadline, f"nothing happened after {what}"
        time.sleep(0.05)
    return True


@pytest.mark.parametrize(
    ("url", "display"),
    [
        ("http://10.0.0.5:8080", "http://10.0.0.5:8080"),
        ("https://intel.example.net/sikker/", "https://intel.example.net/sikker"),
        ("http://[::1]:80", "http://[::1]"),
    ],
)
def test_a_primary_url_is_shown_as_configured(url: str, display: str) -> None:
    assert Primary.parse(url).display == display


@pytest.mark.parametrize(
    "url",
    ["ftp://host", "http://", "https://user:pw@host", "http://host/?a=1", "host:80"],
)
def test_a_bad_primary_url_is_a_config_error(url: str) -> None:
    with pytest.raises(ConfigError, match="replica_of"):
        Primary.parse(url)


# -- the real thing: sikker serve, build --follow and serve --replica-of -----------


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """A primary (demo data, a live builder) and a replica of it, both
    served by gunicorn on loopback. ``stop_primary()`` ends the primary."""
    data = tmp_path_factory.mktemp("cluster")
    with ExitStack() as primary:
        base, sensor, key = primary.enter_context(live_server(data / "primary"))
        _, token = ReplicaRegistry(data / "primary").add("r1")
        settings = {
            "replica_of": base,
            "replica_token": token,
            "replica_poll_seconds": "0.2",
        }
        with serving(data / "replica", workers=1, **settings) as replica:
            yield {"primary": base, "replica": replica, "sensor": sensor, "key": key,
                   "stop_primary": primary.close}  # fmt: skip


def in_step(cluster: dict[str, Any]) -> int:
    """Wait until the replica serves the primary's sequence; return it."""
    deadline = time.monotonic() + 30
    while True:
        want = orjson.loads(get(f"{cluster['primary']}/healthz")[1])["snapshot"]
        have = orjson.loads(get(f"{cluster['replica']}/healthz")[1])["snapshot"]
        if want["sequence"] == have["sequence"]:
            return int(have["sequence"])
        assert time.monotonic() < deadline, "the replica did not catch up in 30 s"
        time.sleep(0.1)


@pytest.mark.slow
def test_a_served_replica_answers_checks_and_blacklists_like_its_primary(
    cluster: dict[str, Any],
) -> None:
    in_step(cluster)
    key = cluster["key"]
    servers = (cluster["primary"], cluster["replica"])
    listed = get(
        f"{cluster['primary']}/v1/key/blacklist?plaintext=true&scoreMinimum=0", key
    )[1]
    ips = listed.decode().split()
    rng = np.random.default_rng(8)
    sample = [*rng.choice(ips, 40, replace=False), "8.8.4.4", "2001:db8::1"]
    for ip in sample:
        path = f"/v1/key/check/{ip}?explain=true"
        assert get(cluster["replica"] + path, key) == get(
            cluster["primary"] + path, key
        )
    query = "/v1/key/blacklist?scoreMinimum=60&onlyCountries=CN,RU,US&limit=500"
    answers = [orjson.loads(get(base + query, key)[1]) for base in servers]
    for answer in answers:
        del answer["meta"]["generatedAt"]  # the one field that is a clock
    assert answers[0] == answers[1] and answers[0]["data"]
    nginx = "/v1/key/blacklist?format=nginx-deny&scoreMinimum=80"
    assert get(servers[0] + nginx, key) == get(servers[1] + nginx, key)
    health = orjson.loads(get(f"{cluster['replica']}/healthz")[1])
    assert (
        health["mode"] == "replica"
        and health["replica"]["primary"] == cluster["primary"]
    )


@pytest.mark.slow
def test_a_session_posted_to_a_replica_shows_on_it_within_seconds(
    cluster: dict[str, Any],
) -> None:
    ip, key = "45.33.99.8", cluster["key"]
    body = b"\n".join(orjson.dumps(e) for e in session(ip, "replica-1", PERSISTENCE))
    answer = post(f"{cluster['replica']}/v1/sensor/events", cluster["sensor"], body)
    assert answer["accepted"] == 7  # the primary's answer, forwarded
    started = time.monotonic()
    while not orjson.loads(get(f"{cluster['replica']}/v1/key/check/{ip}", key)[1])[
        "found"
    ]:
        assert time.monotonic() - started < 30, "not on the replica within 30 s"
        time.sleep(0.1)
    print(f"on the replica after {time.monotonic() - started:.2f} s")


@pytest.mark.slow
def test_a_key_made_through_a_replica_works_on_it(cluster: dict[str, Any]) -> None:
    request = urllib.request.Request(
        f"{cluster['replica']}/v1/account/keys",
        data=b'{"name": "made-on-a-replica"}',
        method="POST",
        headers={
            **basic("tester@example.com", PASSWORD),
            "Content-Type": "application/json",
        },
    )
    with urllib.request.urlopen(request, timeout=10) as resp:
        new = orjson.loads(resp.read())["key"]
    started = time.monotonic()
    while get(f"{cluster['replica']}/v1/key/check/8.8.8.8", new)[0] != 200:
        assert time.monotonic() - started < 30, "the new key did not work in 30 s"
        time.sleep(0.1)


@pytest.mark.slow
def test_a_replica_keeps_serving_while_its_primary_is_down(
    cluster: dict[str, Any],
) -> None:
    sequence = in_step(cluster)
    cluster["stop_primary"]()
    replica, key = cluster["replica"], cluster["key"]
    started = time.monotonic()
    while (health := orjson.loads(get(f"{replica}/healthz")[1]))["replica"][
        "lastError"
    ] is None:
        assert time.monotonic() - started < 30, "no failed sync noticed in 30 s"
        time.sleep(0.2)
    assert "cannot reach" in health["replica"]["lastError"]
    assert health["snapshot"]["sequence"] == sequence
    status, body = get(f"{replica}/v1/key/check/8.8.8.8", key)
    assert status == 200 and orjson.loads(body)["snapshot"] == sequence
    written = urllib.request.Request(
        f"{replica}/v1/key/report",
        data=orjson.dumps(REPORT),
        method="POST",
        headers={**bearer(key), "Content-Type": "application/json"},
    )
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(written, timeout=10)
    assert refused.value.code == 503
    assert orjson.loads(refused.value.read())["code"] == "primary_unavailable"
