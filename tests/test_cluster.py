"""A cluster on loopback (issue 8): a primary, two replicas, Redis, nginx in front.

``benchmarks/cluster.py`` starts every piece as in docs/deployment.md:
``redis-server``; the primary (``sikker serve`` and ``sikker build
--follow``); two ``sikker serve --replica-of`` nodes; nginx with the
shipped ``integrations/nginx/sikker-cluster.conf``, only its addresses
moved to free loopback ports. Every node shares ``redis_url`` and runs the
production defaults of the sync and snapshot settings. Then:

* Locust's traffic mix goes through nginx while one replica is killed
  (``SIGKILL`` to its whole process group): the run keeps within its
  failure budget and the balancer sends everything to the nodes left;
* a key on a tiny plan that uses its daily quota through nginx is admitted
  exactly its quota across the three nodes and refused (429) by each;
* a report sent through nginx reaches both replicas' checks within 5 s;
* with the primary down, reads through nginx keep working: the replicas'
  503 ``primary_unavailable`` for what only the primary answers must not
  make nginx take them for dead nodes.
"""

import importlib.util
import os
import random
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from email.message import Message
from pathlib import Path

import orjson
import pytest

from benchmarks.cluster import TINY_LIMIT, Cluster, cluster, get
from benchmarks.locust import results
from tests.tools import ROOT, need_tool

pytestmark = pytest.mark.slow

LOCUST = ROOT / "benchmarks" / "locust" / "run"
#: Largest share of Locust's requests that may fail while a replica dies.
FAIL_BUDGET = 0.005
#: Seconds within which a report must show on every replica (issue 8).
PROPAGATION_S = 5.0


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    need_tool("redis-server")
    need_tool("nginx")
    with cluster(tmp_path_factory.mktemp("cluster")) as started:
        yield started


@pytest.fixture
def up(running: Cluster) -> Cluster:
    """The cluster with every node running and the replicas in step."""
    running.ensure_up()
    running.in_step()
    return running


def _locust_or_skip() -> None:
    if importlib.util.find_spec("locust") is None:
        if os.environ.get("CI"):
            pytest.fail("Locust is missing; scripts/setup --test installs it")
        pytest.skip("Locust is not installed (scripts/setup --bench installs it)")


def test_killing_a_replica_under_load_keeps_failures_within_budget(
    up: Cluster, tmp_path: Path
) -> None:
    _locust_or_skip()
    victim = up.replicas[-1]
    survivors = [node for node in up.nodes if node is not victim]
    prefix, log = tmp_path / "run", tmp_path / "locust.log"
    argv = [str(LOCUST), "--url", up.url, "--users", "10", "--spawn-rate", "10"]
    argv += ["--duration", "20s", "--max-fail-ratio", str(FAIL_BUDGET)]
    argv += ["--max-p99-ms", "30000", "--csv", str(prefix)]
    env = dict(os.environ, SIKKER_BENCH_KEYS=",".join(up.keys))
    with log.open("w") as out:
        locust = subprocess.Popen(argv, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        served = up.requests_served(victim)
        while up.requests_served(victim) < served + 100:  # the run reaches it
            assert locust.poll() is None, log.read_text()[-3000:]
            time.sleep(0.2)
        victim.kill()
        at_kill = [up.requests_served(node) for node in survivors]
        assert locust.poll() is None, "the replica was not killed mid-run"
        code = locust.wait(timeout=300)
    finally:
        if locust.poll() is None:
            locust.kill()
            locust.wait()
    output = log.read_text()
    totals = results.totals(prefix)
    print(
        f"through nginx, one replica killed: {totals['requests']:.0f} requests, "
        f"{totals['failures']:.0f} failed, p99 {totals['p99_ms']:.0f} ms"
    )
    assert code == 0, output[-3000:]
    assert totals["failures"] <= FAIL_BUDGET * totals["requests"]
    # nginx passes a read that met the dead node to another one; only a
    # POST the node had received may fail (nginx never sends it twice)
    assert results.failed_reads(prefix) == []
    assert totals["requests"] > 500, "too few requests to judge the budget"
    after = [up.requests_served(node) for node in survivors]
    assert all(now > then + 50 for now, then in zip(after, at_kill, strict=True))
    checks = [get(f"{up.url}/v1/key/check/8.8.8.8", up.keys[0])[0] for _ in range(30)]
    assert checks == [200] * 30  # the dead node is skipped, not answered 502


def test_a_killed_replica_rejoins_and_catches_up(up: Cluster) -> None:
    victim = up.replicas[0]
    before = up.sequence(up.primary)
    victim.kill()
    # a new generation while it is down (sent to the primary: a POST nginx
    # had sent on a kept-alive connection to the dead node is not sent again)
    up.report(up.unlisted_ip(random.Random()), up.primary.url)
    victim.start()
    up.in_step(at_least=before + 1)  # the victim too serves the new generation
    assert get(f"{victim.url}/v1/key/check/8.8.8.8", up.keys[0])[0] == 200


def _check(url: str, key: str) -> tuple[int, Message, dict]:
    """GET a check; return (status, headers, JSON body)."""
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {key}"})
    try:
        with urllib.request.urlopen(request, timeout=10) as resp:
            return resp.status, resp.headers, orjson.loads(resp.read())
    except urllib.error.HTTPError as ex:
        return ex.code, ex.headers, orjson.loads(ex.read())


def test_a_key_over_its_quota_is_refused_on_every_node(up: Cluster) -> None:
    path = "/v1/key/check/8.8.8.8"
    before = [up.requests_served(node) for node in up.nodes]
    with ThreadPoolExecutor(6) as pool:
        answers = list(
            pool.map(
                lambda _: _check(up.url + path, up.tiny_key), range(2 * TINY_LIMIT)
            )
        )
    statuses = [status for status, _, _ in answers]
    assert statuses.count(200) == TINY_LIMIT, statuses
    assert statuses.count(429) == TINY_LIMIT, statuses
    remaining = [int(h["X-RateLimit-Remaining"]) for s, h, _ in answers if s == 200]
    assert sorted(remaining) == list(range(TINY_LIMIT))  # one count, shared
    after = [up.requests_served(node) for node in up.nodes]
    assert all(a > b for a, b in zip(after, before, strict=True)), "not balanced"
    for node in up.nodes:  # each node, asked directly, refuses too
        status, _, body = _check(node.url + path, up.tiny_key)
        assert (status, body["code"]) == (429, "quota_exceeded"), (node.name, body)


def test_a_report_through_the_balancer_shows_on_every_replica_within_5_s(
    up: Cluster,
) -> None:
    ip = up.unlisted_ip(random.Random())
    up.report(ip)
    sent = time.monotonic()
    waiting = list(up.replicas)
    while waiting:
        waiting = [r for r in waiting if up.reports_counted(r.url, ip) < 1]
        assert time.monotonic() - sent < PROPAGATION_S, [r.name for r in waiting]
        time.sleep(0.05)
    print(f"the report was on every replica after {time.monotonic() - sent:.2f} s")


def test_with_the_primary_down_reads_through_nginx_keep_working(up: Cluster) -> None:
    # replicas answer what only the primary knows 503 primary_unavailable; an
    # nginx that took that for a dead node would refuse every read next
    up.primary.kill()
    try:
        for _ in range(3):
            status, body = get(f"{up.url}/v1/key/status", up.keys[0])
            assert status == 503, body
        checks = [
            get(f"{up.url}/v1/key/check/8.8.8.8", up.keys[0])[0] for _ in range(30)
        ]
        assert checks == [200] * 30
    finally:
        up.primary.start()
