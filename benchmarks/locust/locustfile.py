"""Real-world traffic against a sikker server, for Locust.

Five kinds of clients (Locust user classes; ``weight`` is their share of the
users), each paced as its kind is, with time compressed so a one-minute run
sees every kind many times:

- ``Integration`` (70%): web apps, mail servers and scripts checking one
  address at a time, ``GET /v1/key/check/{ip}``.
- ``Fail2ban`` (15%): a fleet of fail2ban hosts reporting the addresses they
  ban, ``POST /v1/key/report`` (the JSON the shipped action sends).
- ``SiemEnrichment`` (5%): log pipelines checking 100-1,000 addresses at a
  time, ``POST /v1/key/bulk-check-inline``.
- ``Firewall`` (5%): firewalls pulling their block list as ipset, nftables,
  plaintext, CSF or nginx rules, ``GET /v1/key/blacklist``.
- ``TaxiiPoller`` (5%): threat-intelligence platforms polling a TAXII 2.1
  collection for what was added since their last poll, paging with ``next``.

Addresses follow a hot/cold mix: a share (``--unknown-share``, 20%) are
random public addresses the server does not list; the rest are listed ones,
drawn with a Zipf law (``--zipf`` exponent) over a list ordered hottest
first: a file (``--addresses``) or, by default, the server's own plaintext
blacklist (highest confidence first; the most active attackers are the most
looked up).

When the run ends the master (or the single process) checks the budgets:
the share of failed requests must stay at or below ``--max-fail-ratio`` and
the 99th percentile of all response times below ``--max-p99-ms``; otherwise
the process exits with 1. Only Locust and the standard library are used, so
this file runs unchanged on remote Locust workers.
"""

import ipaddress
import itertools
import logging
import random
from datetime import UTC, datetime, timedelta
from typing import Any

from locust import between, events, task
from locust.contrib.fasthttp import FastHttpUser
from locust.env import Environment
from locust.runners import MasterRunner, WorkerRunner

log = logging.getLogger("sikker")
TAXII = "application/taxii+json;version=2.1"
COLLECTIONS = ("sikker-high-confidence", "sikker-threat-intel", "sikker-ssh")
#: Report categories and protocols of a fail2ban fleet (sshd jails dominate).
JAILS = (
    ("brute_force", "ssh", 60), ("brute_force", "smtp", 10), ("brute_force", "ftp", 5),
    ("web_exploit", "http", 15), ("port_scan", None, 5), ("bad_bot", "http", 5),
)  # fmt: skip
#: What firewalls pull: (format, extra parameters, weight).
PULLS = (
    ("ipset", "&setName=sikker", 35), ("plaintext", "", 25),
    ("nftables", "&setName=sikker&tableName=filter", 15), ("csf", "", 10),
    ("nginx-deny", "", 10), ("json", "", 5),
)  # fmt: skip
POOL_FETCH_LIMIT = 20_000


@events.init_command_line_parser.add_listener
def _options(parser: Any) -> None:
    parser.add_argument(
        "--api-keys",
        env_var="SIKKER_BENCH_KEYS",
        default="",
        is_secret=True,
        help="comma-separated API keys, one picked per user (env SIKKER_BENCH_KEYS)",
    )
    parser.add_argument(
        "--addresses",
        default="",
        help="file of listed addresses, hottest first (default: the server's "
        "plaintext blacklist)",
    )
    parser.add_argument(
        "--unknown-share",
        type=float,
        default=0.2,
        help="share of checked addresses the server does not list (0.2)",
    )
    parser.add_argument(
        "--zipf", type=float, default=1.1, help="Zipf exponent of address heat (1.1)"
    )
    parser.add_argument(
        "--max-fail-ratio",
        type=float,
        default=0.01,
        help="budget: largest share of failed requests (0.01)",
    )
    parser.add_argument(
        "--max-p99-ms",
        type=float,
        default=1000.0,
        help="budget: p99 of all response times must stay below this (1000 ms)",
    )


class Addresses:
    """The hot/cold address mix every user draws from (one per process)."""

    listed: list[str] = []
    cumulative: list[float] = []
    unknown_share = 0.2
    rnd = random.Random()

    @classmethod
    def load(cls, listed: list[str], zipf: float, unknown_share: float) -> None:
        """Rank ``listed`` hottest first with Zipf weights."""
        cls.listed = listed
        weights = (1 / rank**zipf for rank in range(1, len(listed) + 1))
        cls.cumulative = list(itertools.accumulate(weights))
        cls.unknown_share = unknown_share

    @classmethod
    def pick(cls) -> str:
        """Return one address: unknown with the unknown share, else by heat."""
        if not cls.listed or cls.rnd.random() < cls.unknown_share:
            return unknown(cls.rnd)
        return cls.rnd.choices(cls.listed, cum_weights=cls.cumulative)[0]


def unknown(rnd: random.Random) -> str:
    """Return a random global unicast address (IPv4, one in ten IPv6)."""
    while True:
        if rnd.random() < 0.1:
            address: Any = ipaddress.IPv6Address(0x2A00 << 112 | rnd.getrandbits(100))
        else:
            address = ipaddress.IPv4Address(rnd.getrandbits(32))
        if address.is_global and not address.is_multicast:
            return str(address)


def _options_of(environment: Environment) -> Any:
    if environment.parsed_options is None:
        raise RuntimeError("this locustfile runs under the locust command")
    return environment.parsed_options


def _keys(environment: Environment) -> list[str]:
    raw = getattr(_options_of(environment), "api_keys", "")
    return [k.strip() for k in raw.split(",") if k.strip()]


def _fetch_listed(environment: Environment) -> list[str]:
    """Return the server's highest-confidence listed addresses."""
    import requests  # a Locust dependency; only needed here

    url = (
        f"{environment.host}/v1/key/blacklist?format=plaintext&scoreMinimum=0"
        f"&limit={POOL_FETCH_LIMIT}"
    )
    headers = {"Authorization": f"Bearer {_keys(environment)[0]}"}
    answer = requests.get(url, headers=headers, timeout=60)
    answer.raise_for_status()
    return answer.text.split()


@events.test_start.add_listener
def _load_addresses(environment: Environment, **_: Any) -> None:
    if isinstance(environment.runner, MasterRunner):
        return
    options = _options_of(environment)
    if not _keys(environment):
        log.error("no API keys: pass --api-keys or set SIKKER_BENCH_KEYS")
        return
    path = getattr(options, "addresses", "")
    try:
        if path:
            with open(path, encoding="utf-8") as lines:
                listed = lines.read().split()
        else:
            listed = _fetch_listed(environment)
    except Exception as ex:  # the users still run, on unknown addresses
        log.error("cannot load listed addresses: %s", ex)
        listed = []
    Addresses.load(listed, options.zipf, options.unknown_share)
    log.info("%s listed addresses loaded (hottest first)", f"{len(listed):,}")


class SikkerUser(FastHttpUser):
    """A client with its own API key (one of ``--api-keys``)."""

    abstract = True

    def on_start(self) -> None:
        """Pick this client's key."""
        keys = _keys(self.environment)
        if keys:
            self.client.auth_header = f"Bearer {random.choice(keys)}"


class Integration(SikkerUser):
    """One address per request, as web apps and mail servers check visitors."""

    weight = 70
    wait_time = between(0.02, 0.2)

    @task
    def check(self) -> None:
        """Check one address, hot or cold."""
        path = f"/v1/key/check/{Addresses.pick()}"
        with self.client.get(
            path, name="/v1/key/check/[ip]", catch_response=True
        ) as resp:
            if resp.status_code == 200 and b'"confidenceLevel"' not in resp.content:
                resp.failure("a check answer without confidenceLevel")


class Fail2ban(SikkerUser):
    """A fail2ban host reporting each address it bans."""

    weight = 15
    wait_time = between(0.5, 2.0)

    @task
    def report(self) -> None:
        """Report one banned address."""
        category, protocol, _ = random.choices(JAILS, [j[2] for j in JAILS])[0]
        body: dict[str, Any] = {"ip": Addresses.pick(), "category": category}
        if protocol:
            body["protocol"] = protocol
            body["comment"] = f"fail2ban jail {protocol}"
        with self.client.post("/v1/key/report", json=body, catch_response=True) as resp:
            if resp.status_code == 200 and resp.json().get("success") is not True:
                resp.failure("a report answer without success: true")


class SiemEnrichment(SikkerUser):
    """A log pipeline checking a batch of addresses at once."""

    weight = 5
    wait_time = between(1.0, 3.0)

    @task
    def bulk_check(self) -> None:
        """Check 100 to 1,000 addresses in one request."""
        batch = [Addresses.pick() for _ in range(random.choice((100, 250, 1000)))]
        with self.client.post(
            "/v1/key/bulk-check-inline",
            data="\n".join(batch),
            headers={"Content-Type": "text/plain"},
            catch_response=True,
        ) as resp:
            if resp.status_code == 200 and b'"queried"' not in resp.content:
                resp.failure("a bulk answer without queried")


class Firewall(SikkerUser):
    """A firewall pulling its block list (every few minutes, compressed)."""

    weight = 5
    wait_time = between(2.0, 6.0)

    @task
    def pull(self) -> None:
        """Pull a block list in one of the firewall formats."""
        fmt, extra, _ = random.choices(PULLS, [p[2] for p in PULLS])[0]
        score = random.choice((50, 75, 90))
        limit = random.choice(("", "&limit=50000", "&limit=100000"))
        path = f"/v1/key/blacklist?format={fmt}&scoreMinimum={score}{limit}{extra}"
        with self.client.get(
            path, name=f"/v1/key/blacklist?format={fmt}", catch_response=True
        ) as resp:
            if resp.status_code == 200 and "X-Result-Count" not in resp.headers:
                resp.failure("a blacklist answer without X-Result-Count")


class TaxiiPoller(SikkerUser):
    """A TAXII 2.1 client polling a collection for new objects."""

    weight = 5
    wait_time = between(2.0, 6.0)

    def on_start(self) -> None:
        """Pick a collection and where the last poll left off."""
        super().on_start()
        self.collection = random.choice(COLLECTIONS)
        self.added_after = _days_ago(random.uniform(1, 30))

    @task
    def poll(self) -> None:
        """Fetch what was added since the last poll: up to three pages."""
        base = f"/taxii2/api/collections/{self.collection}/objects/"
        since = f"?added_after={self.added_after}&limit=500"
        params = since
        for _ in range(3):
            with self.client.get(
                base + params,
                name="/taxii2/api/collections/[id]/objects/",
                headers={"Accept": TAXII},
                catch_response=True,
            ) as resp:
                if resp.status_code != 200:
                    return
                last = resp.headers.get("X-TAXII-Date-Added-Last")
                if last:
                    self.added_after = last
                envelope = resp.json()
                if not envelope.get("more") or not envelope.get("next"):
                    break
                params = f"{since}&next={envelope['next']}"
        if random.random() < 0.2:  # another platform joins from further back
            self.added_after = _days_ago(random.uniform(1, 30))


def _days_ago(days: float) -> str:
    moment = datetime.now(UTC) - timedelta(days=days)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def budget_failures(environment: Environment) -> list[str]:
    """Return how the finished run broke its budgets (empty: it did not)."""
    options = _options_of(environment)
    total = environment.stats.total
    broken = []
    if total.num_requests == 0:
        broken.append("no request was made")
    if total.fail_ratio > options.max_fail_ratio:
        broken.append(
            f"{total.fail_ratio:.2%} of requests failed "
            f"(budget {options.max_fail_ratio:.2%})"
        )
    p99 = total.get_response_time_percentile(0.99) or 0
    if total.num_requests and not p99 < options.max_p99_ms:
        broken.append(f"p99 is {p99:.0f} ms (budget: below {options.max_p99_ms:g} ms)")
    if environment.runner is not None and environment.runner.exceptions:
        broken.append(f"{len(environment.runner.exceptions)} errors in the locustfile")
    return broken


@events.quitting.add_listener
def _check_budgets(environment: Environment, **_: Any) -> None:
    if isinstance(environment.runner, WorkerRunner):
        return  # the master judges the whole run
    for name, entry in sorted(environment.stats.entries.items()):
        log.info(
            "%-8s %-45s %8d requests  p50 %6d ms  p99 %6d ms  %d failed",
            name[1], name[0], entry.num_requests,
            entry.get_response_time_percentile(0.5) or 0,
            entry.get_response_time_percentile(0.99) or 0, entry.num_failures,
        )  # fmt: skip
    broken = budget_failures(environment)
    for reason in broken:
        log.error("budget broken: %s", reason)
    if not broken:
        total = environment.stats.total
        log.info(
            "budgets met: %d requests, %.2f%% failed, p99 %d ms",
            total.num_requests,
            total.fail_ratio * 100,
            total.get_response_time_percentile(0.99) or 0,
        )
    environment.process_exit_code = 1 if broken else 0
