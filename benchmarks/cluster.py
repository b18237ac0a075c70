"""A sikker cluster on loopback: Redis, a primary, read replicas, nginx in front.

:func:`cluster` starts, on 127.0.0.1 and free ports, what
docs/deployment.md describes: a ``redis-server`` persisting nothing; a
primary (``sikker serve`` on a demo snapshot, with ``sikker build
--follow`` beside it); read replicas (``sikker serve --replica-of``, each
with its own replica token and data directory); and nginx with the shipped
``integrations/nginx/sikker-cluster.conf``, its upstream and listen lines
pointed at those ports. Every node shares ``redis_url`` and one plans file
holding a ``bench`` plan (quotas no run reaches, the default) and a
``tiny`` one (:data:`TINY_LIMIT` of everything a day).

Each server runs in a process group of its own, so :meth:`Node.kill` is a
crashed machine (``SIGKILL`` to the master, its workers and a replica's
sync loop at once) and :meth:`Node.start` brings it back on the same port.
Everything started is stopped when the ``with`` block ends. The tests
(``tests/test_cluster.py``) and the ``cluster`` benchmark suite use it.
"""

import os
import random
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

import orjson

from benchmarks.keys import CHEAP_KDF, bench_keys
from benchmarks.redis_server import RedisServer, redis_server
from benchmarks.servers import ROOT, free_port
from sikker.core.accounts import AccountStore
from sikker.core.plans import load_plans
from sikker.core.replica_tokens import ReplicaRegistry

SITE = ROOT / "integrations" / "nginx" / "sikker-cluster.conf"
CLI = [sys.executable, "-m", "sikker.cli"]
#: Daily quota of each family on the ``tiny`` plan.
TINY_LIMIT = 30
TINY_PLAN = f"""
[plans.tiny]
name = "Tiny (the cluster test's quota)"
quotas = {{ lookups = {TINY_LIMIT}, reports = {TINY_LIMIT}, blacklist = {TINY_LIMIT}, taxii = {TINY_LIMIT} }}
caps = {{ bulk_check_ips = 100, bulk_report_rows = 100, blacklist_limit = 1000 }}
alerts = {{ ip = 1, range = 1, username = 1, email = 1, range_prefix_v4 = 24, range_prefix_v6 = 48 }}
"""  # noqa: E501
#: Seconds a Redis command may take here: a busy test machine must never
#: reach it, or a node would count locally (production: 0.1 s).
REDIS_TIMEOUT = "2.0"
_UPSTREAM = re.compile(r"^(\s*server )(\S+:\d+)( .*)$", re.M)
_LISTEN = "listen 80;"


def cluster_site(nodes: list[int], listen: int) -> str:
    """Return the shipped cluster site with its upstream on ``nodes`` (ports
    on 127.0.0.1) and nginx listening on 127.0.0.1:``listen``.

    The shipped file names three nodes; more or fewer repeat or drop its
    last server line. Nothing else is changed.
    """
    text = SITE.read_text()
    lines = list(_UPSTREAM.finditer(text))
    if not lines or _LISTEN not in text:
        raise ValueError(f"{SITE} has no upstream server lines or no '{_LISTEN}'")
    servers = []
    for i, port in enumerate(nodes):
        head, _, tail = lines[min(i, len(lines) - 1)].groups()
        servers.append(f"{head}127.0.0.1:{port}{tail}")
    first, last = lines[0], lines[-1]
    text = text[: first.start()] + "\n".join(servers) + text[last.end() :]
    return text.replace(_LISTEN, f"listen 127.0.0.1:{listen};")


def nginx_conf(tmp: Path, http: str, connections: int = 1024) -> Path:
    """Write an nginx.conf (temp paths, foreground) around an ``http`` block."""
    body = "\n".join(f"    {line}" if line else "" for line in http.splitlines())
    user = "user root;" if os.geteuid() == 0 else ""  # workers write tmp's dirs
    path = tmp / "nginx.conf"
    path.write_text(
        f"""
{user}
daemon off;
worker_processes 1;
pid {tmp}/nginx.pid;
error_log {tmp}/error.log warn;
events {{ worker_connections {connections}; }}
http {{
    access_log off;
    client_body_temp_path {tmp}/body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
{body}
}}
"""
    )
    return path


def get(
    url: str,
    key: str | None = None,
    timeout: float = 10,
    headers: dict[str, str] | None = None,
) -> tuple[int, bytes]:
    """GET ``url`` (``key`` as a Bearer API key); return (status, body)."""
    fields = {"Authorization": f"Bearer {key}"} if key else {}
    request = urllib.request.Request(url, headers={**fields, **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as ex:
        return ex.code, ex.read()


@dataclass
class Node:
    """One process of the cluster, in a process group of its own.

    ``port`` is where it listens (``--bind`` is added to ``argv``), or None
    for a process that serves nothing (the builder).
    """

    name: str
    argv: list[str]
    env: dict[str, str]
    log: Path
    port: int | None = field(default_factory=free_port)
    bind: bool = True  # add --bind 127.0.0.1:port to argv
    stop_signal: int = signal.SIGTERM  # the graceful stop
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """Return the node's base URL."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def alive(self) -> bool:
        """Return whether the node's process runs."""
        return self.proc is not None and self.proc.poll() is None

    def start(self, seconds: float = 60) -> None:
        """Start the process; wait until ``/healthz`` answers 200 (if it listens)."""
        argv = list(self.argv)
        if self.port is not None and self.bind:
            argv += ["--bind", f"127.0.0.1:{self.port}"]
        with self.log.open("a") as log:
            self.proc = subprocess.Popen(
                argv,
                env={**os.environ, **self.env},
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=ROOT,
                start_new_session=True,
            )
        if self.port is not None:
            self.wait_healthy(seconds)

    def wait_healthy(self, seconds: float = 60) -> None:
        """Wait until ``/healthz`` answers 200; raise if the process exits."""
        deadline = time.monotonic() + seconds
        while True:
            if not self.alive:
                raise RuntimeError(f"{self.name} exited: {self.tail()}")
            try:
                if get(f"{self.url}/healthz", timeout=2)[0] == 200:
                    return
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(f"{self.name} did not become healthy: {self.tail()}")
            time.sleep(0.1)

    def tail(self, chars: int = 2000) -> str:
        """Return the end of the node's log."""
        return (
            self.log.read_text(errors="replace")[-chars:] if self.log.exists() else ""
        )

    def kill(self) -> None:
        """Crash the node: ``SIGKILL`` to its whole process group."""
        if self.proc is None:
            return
        with suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=30)
        self.proc = None

    def stop(self, seconds: float = 30) -> None:
        """Stop the node gracefully (``SIGTERM``), then kill what is left."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(self.stop_signal)
            with suppress(subprocess.TimeoutExpired):
                self.proc.wait(timeout=seconds)
        self.kill()


@dataclass
class Cluster:
    """A running cluster (see the module docstring)."""

    root: Path
    redis: RedisServer
    primary: Node
    builder: Node
    replicas: list[Node]
    proxy: Node
    plans: Path
    keys: list[str]  # on the bench plan
    tiny_key: str  # on the tiny plan

    @property
    def url(self) -> str:
        """Return nginx's base URL: the cluster as its clients see it."""
        return self.proxy.url

    @property
    def primary_data(self) -> Path:
        """Return the primary's data directory."""
        return self.root / "primary"

    @property
    def nodes(self) -> list[Node]:
        """Return the serving nodes: the primary, then the replicas."""
        return [self.primary, *self.replicas]

    def ensure_up(self) -> None:
        """Start again any node that is down."""
        for node in (self.primary, self.builder, *self.replicas, self.proxy):
            if not node.alive:
                node.start()

    def sequence(self, node: Node) -> int:
        """Return the snapshot sequence ``node`` serves."""
        health = orjson.loads(get(f"{node.url}/healthz")[1])
        return int(health["snapshot"]["sequence"])

    def in_step(self, seconds: float = 60, at_least: int = 0) -> int:
        """Wait until every replica serves at least the primary's sequence
        (and ``at_least``); return that sequence."""
        want = max(self.sequence(self.primary), at_least)
        deadline = time.monotonic() + seconds
        while any(self.sequence(r) < want for r in self.replicas):
            if time.monotonic() > deadline:
                raise TimeoutError(f"the replicas did not reach sequence {want}")
            time.sleep(0.1)
        return want

    def report(self, ip: str, base: str | None = None) -> None:
        """Report ``ip`` (brute force over SSH) through nginx, or to ``base``.

        Raises:
            RuntimeError: the report was not accepted.
        """
        request = urllib.request.Request(
            f"{base or self.url}/v1/key/report",
            data=orjson.dumps({"ip": ip, "category": "brute_force", "protocol": "ssh"}),
            method="POST",
            headers={
                "Authorization": f"Bearer {self.keys[-1]}",
                "Content-Type": "application/json",
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as resp:
                if orjson.loads(resp.read()).get("success") is True:
                    return
                raise RuntimeError(f"report of {ip} not accepted")
        except urllib.error.HTTPError as ex:
            raise RuntimeError(f"report refused: {ex.code} {ex.read()!r}") from None

    def reports_counted(self, base: str, ip: str) -> int:
        """Return the reports of ``ip`` that the check at ``base`` counts."""
        status, body = get(f"{base}/v1/key/check/{ip}", self.keys[0])
        if status != 200:
            raise RuntimeError(f"check of {ip} at {base} answered {status}: {body!r}")
        answer = orjson.loads(body)
        return int(answer["reports"]["total"]) if answer["found"] else 0

    def unlisted_ip(self, rnd: random.Random) -> str:
        """Return a public address (45.0.0.0/8) the primary does not list yet."""
        while True:
            a, b, c = rnd.randrange(1, 255), rnd.randrange(256), rnd.randrange(1, 255)
            ip = f"45.{a}.{b}.{c}"
            status, body = get(f"{self.primary.url}/v1/key/check/{ip}", self.keys[0])
            if status == 200 and not orjson.loads(body)["found"]:
                return ip

    def warm_taxii(self, workers: int, seconds: float = 300) -> None:
        """Ask every node for TAXII objects until each of its workers has the
        TAXII index of the snapshot (a large one's is built in the
        background, 503 index_building meanwhile)."""
        url = "/taxii2/api/collections/sikker-threat-intel/objects/?limit=1"
        headers = {
            "Authorization": f"Bearer {self.keys[0]}",
            "Accept": "application/taxii+json;version=2.1",
        }
        deadline = time.monotonic() + seconds
        for node in self.nodes:
            answered = 0
            while answered < 4 * workers:  # new connections: any worker
                status, body = get(node.url + url, headers=headers)
                answered = answered + 1 if status == 200 else 0
                if status not in (200, 503) or time.monotonic() > deadline:
                    raise RuntimeError(f"TAXII on {node.name}: {status} {body!r}")
                if status == 503:
                    time.sleep(0.2)

    def requests_served(self, node: Node) -> int:
        """Return the requests ``node`` answered (from its /metrics)."""
        text = get(f"{node.url}/metrics")[1].decode()
        return sum(
            int(float(line.rsplit(" ", 1)[1]))
            for line in text.splitlines()
            if line.startswith("sikker_http_requests_total{")
        )


def _sikker(data: Path, *args: str, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(
        [*CLI, "--data-dir", str(data), *args],
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode:
        raise RuntimeError(f"sikker {' '.join(args)}: {done.stderr[-2000:]}")
    return done.stdout.strip()


def _accounts(data: Path, plans: Path) -> tuple[list[str], str]:
    """Write the plans file; return bench keys and a key on the tiny plan."""
    keys = bench_keys(data, plans, accounts=2, per_account=2)
    plans.write_text(plans.read_text() + TINY_PLAN)
    with AccountStore(data, plans=load_plans(plans), kdf=CHEAP_KDF) as store:
        account = store.add_user("tiny@example.com", "a benchmark password", "tiny")
        tiny = store.create_key(account.id, "tiny")[1]
    return keys, tiny


@contextmanager
def cluster(
    root: Path,
    ips: int = 2000,
    replicas: int = 2,
    workers: int = 2,
    settings: dict[str, str] | None = None,
    say: Callable[[str], None] = lambda line: None,
) -> Iterator[Cluster]:
    """Run a cluster under ``root`` for the ``with`` block (see the module).

    ``settings`` adds ``SIKKER_*`` variables to every node's environment.
    """
    root.mkdir(parents=True, exist_ok=True)
    with ExitStack() as stack:
        redis = stack.enter_context(redis_server(root / "redis"))
        data = root / "primary"
        _sikker(data, "build", "--demo", "--ips", str(ips), "--quiet")
        plans = root / "plans.toml"
        keys, tiny = _accounts(data, plans)
        common = {
            "SIKKER_PLANS_PATH": str(plans),
            "SIKKER_REDIS_URL": redis.url,
            "SIKKER_REDIS_TIMEOUT": REDIS_TIMEOUT,
            "SIKKER_ACCESS_LOG": "",
            "SIKKER_LOG_LEVEL": "warning",
            **(settings or {}),
        }
        serve = ["serve", "--workers", str(workers)]
        primary = Node(
            "primary", [*CLI, "--data-dir", str(data), *serve], common,
            root / "primary.log",
        )  # fmt: skip
        builder = Node(
            "builder", [*CLI, "--data-dir", str(data), "build", "--follow", "--quiet"],
            common, root / "builder.log", port=None,
        )  # fmt: skip
        started: list[Node] = []

        @stack.callback
        def _stop_all() -> None:
            for node in reversed(started):
                node.stop()

        for node in (primary, builder):
            node.start()
            started.append(node)
        say(
            f"   primary at {primary.url} ({ips:,}-IP demo snapshot), Redis {redis.url}"
        )
        registry = ReplicaRegistry(data)
        nodes = []
        for i in range(1, replicas + 1):
            token = registry.add(f"replica-{i}")[1]
            env = {**common, "SIKKER_REPLICA_TOKEN": token}
            where = ["--data-dir", str(root / f"replica-{i}")]
            node = Node(
                f"replica-{i}", [*CLI, *where, *serve, "--replica-of", primary.url],
                env, root / f"replica-{i}.log",
            )  # fmt: skip
            node.start()
            started.append(node)
            nodes.append(node)
        say(f"   replicas at {', '.join(n.url for n in nodes)}")
        proxy = _nginx(
            root / "nginx", [primary.port or 0, *(n.port or 0 for n in nodes)]
        )
        proxy.start()
        started.append(proxy)
        say(f"   nginx at {proxy.url} (integrations/nginx/sikker-cluster.conf)")
        yield Cluster(root, redis, primary, builder, nodes, proxy, plans, keys, tiny)


def _nginx(tmp: Path, upstream: list[int]) -> Node:
    """Return (not started) nginx serving the shipped cluster site."""
    binary = _which("nginx")
    tmp.mkdir(parents=True, exist_ok=True)
    port = free_port()
    (tmp / "site.conf").write_text(cluster_site(upstream, port))
    conf = nginx_conf(tmp, f"include {tmp}/site.conf;")
    return Node(
        "nginx", [binary, "-c", str(conf)], {}, tmp / "nginx.log", port=port,
        bind=False, stop_signal=signal.SIGQUIT,  # finish what is in flight
    )  # fmt: skip


def _which(name: str) -> str:
    """Return the path of ``name`` (also in /usr/sbin), or raise."""
    import shutil

    for candidate in (shutil.which(name), f"/usr/sbin/{name}", f"/sbin/{name}"):
        if candidate and Path(candidate).is_file():
            return candidate
    raise RuntimeError(f"{name} is not installed (Debian: scripts/setup --test)")
