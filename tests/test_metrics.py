"""GET /metrics: exact counts across gunicorn workers, gauges, access control."""

import re
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import falcon.inspect
import falcon.testing
import orjson
import pytest

from sikker.core.accounts import AccountStore
from sikker.core.config import load_config
from sikker.core.plans import load_plans
from sikker.core.sensors import SensorRegistry
from sikker.server.app import create_app
from sikker.server.metrics_middleware import route_templates
from tests.factories import FAST_KDF, api_key, build
from tests.test_gunicorn import get, serving

TINY_PLANS = """
default = "tiny"
[plans.tiny]
quotas = { lookups = 40, reports = 10, blacklist = 100, taxii = 10 }
alerts = { ip = 1, range = 1, username = 1, email = 1, range_prefix_v4 = 24, range_prefix_v6 = 48 }
caps = { bulk_check_ips = 10, bulk_report_rows = 10, blacklist_limit = 100 }
"""  # noqa: E501
_SAMPLE = re.compile(r"^(\w+)(?:\{(.*)\})? (\S+)$")


def parse(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Return every sample of a Prometheus exposition by (name, labels)."""
    out = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        match = _SAMPLE.match(line)
        assert match, line
        name, labels, value = match.groups()
        pairs = frozenset(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', labels or ""))
        out[name, pairs] = float(value)
    return out


def sample(samples: dict, name: str, **labels: str) -> float:
    return samples[name, frozenset(labels.items())]


def fetch(url: str, key: str | None = None) -> int:
    return get(url, key)[0]


@pytest.fixture
def tiny_key(tmp_path: Path) -> tuple[Path, str]:
    plans = tmp_path / "plans.toml"
    plans.write_text(TINY_PLANS)
    build(tmp_path / "data")
    store = AccountStore(tmp_path / "data", plans=load_plans(plans), kdf=FAST_KDF)
    try:
        key = api_key(tmp_path / "data", plan="tiny", store=store)
    finally:
        store.close()
    return plans, key


@pytest.mark.slow
def test_counts_from_every_gunicorn_worker_add_up_exactly(
    tmp_path: Path, tiny_key: tuple[Path, str]
) -> None:
    plans, key = tiny_key
    data = tmp_path / "data"
    _, token = SensorRegistry(data).add("web1")
    checks, over, missing = 40, 15, 25
    with serving(data, workers=3, plans_path=str(plans)) as base:
        urls = [f"{base}/v1/key/check/203.0.113.{i % 250}" for i in range(checks)]
        with ThreadPoolExecutor(8) as pool:
            assert set(pool.map(lambda u: fetch(u, key), urls)) == {200}
            assert set(pool.map(lambda u: fetch(u, key), urls[:over])) == {429}
            paths = [f"{base}/no/such/{i}" for i in range(missing)]
            assert set(pool.map(fetch, paths)) == {404}
        request = urllib.request.Request(
            f"{base}/v1/sensor/events",
            data=b'{"ts": 1795351569, "src_ip": "45.155.205.7", "protocol": "ssh",'
            b' "event": "connect"}',
            headers={"Authorization": f"Bearer {token}",
                     "Content-Type": "application/json"},
        )  # fmt: skip
        with urllib.request.urlopen(request, timeout=10) as resp:
            last = orjson.loads(resp.read())["lastSequence"]
        status, body = get(f"{base}/metrics")
    assert status == 200
    samples = parse(body.decode())
    route = "/v1/key/check/{ip}"
    count = "sikker_http_requests_total"
    assert sample(samples, count, route=route, status="2xx") == checks
    assert sample(samples, count, route=route, status="4xx") == over
    assert sample(samples, count, route="(unmatched)", status="4xx") == missing
    assert sample(samples, count, route=route, status="5xx") == 0
    duration = "sikker_http_request_duration_seconds"
    assert sample(samples, f"{duration}_count", route=route) == checks + over
    assert sample(samples, f"{duration}_bucket", route=route, le="+Inf") == (
        checks + over
    )
    assert 0 < sample(samples, f"{duration}_sum", route=route) < checks + over
    rejected = "sikker_quota_rejections_total"
    assert sample(samples, rejected, family="lookups") == over
    assert sample(samples, rejected, family="reports") == 0
    assert sample(samples, "sikker_snapshot_sequence") == 1
    assert sample(samples, "sikker_snapshot_ips") == 6
    assert sample(samples, "sikker_snapshot_age_seconds") >= 0
    assert sample(samples, "sikker_event_log_last_sequence") == last


def test_metrics_are_refused_to_clients_outside_metrics_allow(tmp_path: Path) -> None:
    build(tmp_path)
    config = load_config(
        overrides={"data_dir": str(tmp_path), "metrics_allow": "10.0.0.0/8"},
        environ={},
    )
    client = falcon.testing.TestClient(create_app(config))
    resp = client.simulate_get("/metrics", remote_addr="127.0.0.1")
    assert resp.status_code == 403 and resp.json["code"] == "forbidden"
    resp = client.simulate_get("/metrics", remote_addr="10.1.2.3")
    assert resp.status_code == 200
    assert resp.headers["Content-Type"].startswith("text/plain; version=0.0.4")


def test_a_proxied_client_is_judged_by_the_address_the_proxy_forwards(
    tmp_path: Path,
) -> None:
    build(tmp_path)
    config = load_config(overrides={"data_dir": str(tmp_path)}, environ={})
    client = falcon.testing.TestClient(create_app(config))
    forwarded = {"X-Forwarded-For": "203.0.113.50"}
    resp = client.simulate_get("/metrics", remote_addr="127.0.0.1", headers=forwarded)
    assert resp.status_code == 403
    assert client.simulate_get("/metrics", remote_addr="127.0.0.1").status_code == 200


def test_without_a_snapshot_metrics_say_so(tmp_path: Path) -> None:
    config = load_config(overrides={"data_dir": str(tmp_path)}, environ={})
    client = falcon.testing.TestClient(create_app(config))
    resp = client.simulate_get("/metrics", remote_addr="127.0.0.1")
    samples = parse(resp.text)
    assert sample(samples, "sikker_snapshot_available") == 0
    assert ("sikker_snapshot_sequence", frozenset()) not in samples


def test_route_templates_are_the_ones_falcon_inspect_lists(tmp_path: Path) -> None:
    app = create_app(load_config(environ={}, overrides={"data_dir": str(tmp_path)}))
    expected = [route.path for route in falcon.inspect.inspect_routes(app)]
    assert route_templates(app) == expected
    assert "/v1/key/check/{ip}" in expected
