"""The shared metrics table, the Prometheus writer and the address allow-list."""

import multiprocessing
from pathlib import Path

import pytest

from sikker.errors import ConfigError
from sikker.server.allowlist import AllowList, parse_networks
from sikker.server.metrics_table import BUCKETS, UNMATCHED, MetricsTable
from sikker.server.prometheus import Exposition, format_value

ROUTES = ["/v1/key/check/{ip}", "/healthz"]
FAMILIES = ("lookups", "reports")


def _count(directory: Path, n: int) -> None:
    table = MetricsTable(directory, ROUTES, FAMILIES)
    for _ in range(n):
        table.observe("/v1/key/check/{ip}", 200, 0.0007)
        table.observe("/v1/key/check/{ip}", 429, 0.2)
        table.rejected("lookups")


def test_counts_from_many_processes_add_up_exactly(tmp_path: Path) -> None:
    context = multiprocessing.get_context("fork")
    workers = [context.Process(target=_count, args=(tmp_path, 2000)) for _ in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
        assert worker.exitcode == 0
    counts = MetricsTable(tmp_path, ROUTES, FAMILIES).read()
    check = counts.routes["/v1/key/check/{ip}"]
    assert check.by_class["2xx"] == check.by_class["4xx"] == 8000
    assert check.count == 16000
    assert check.buckets[BUCKETS.index(0.001)] == 8000
    assert check.buckets[BUCKETS.index(0.25)] == 8000
    assert check.sum_seconds == pytest.approx(8000 * 0.2007)
    assert counts.rejections == {"lookups": 8000, "reports": 0}


def test_unknown_routes_count_as_unmatched_and_slow_ones_in_inf(
    tmp_path: Path,
) -> None:
    table = MetricsTable(tmp_path, ROUTES, FAMILIES)
    table.observe(None, 404, 0.0001)
    table.observe("/not/a/template", 503, 60.0)
    table.rejected("no-such-family")
    counts = table.read()
    unmatched = counts.routes[UNMATCHED]
    assert unmatched.by_class["4xx"] == 1 and unmatched.by_class["5xx"] == 1
    assert unmatched.buckets[0] == 1 and unmatched.buckets[-1] == 1
    assert sum(counts.rejections.values()) == 0


def test_another_route_set_counts_in_another_file(tmp_path: Path) -> None:
    one = MetricsTable(tmp_path, ROUTES, FAMILIES)
    other = MetricsTable(tmp_path, [*ROUTES, "/metrics"], FAMILIES)
    assert one.path != other.path
    one.observe("/healthz", 200, 0.001)
    assert other.read().routes["/healthz"].count == 0
    assert MetricsTable(tmp_path, ROUTES, FAMILIES).read().routes["/healthz"].count


def test_exposition_escapes_labels_and_formats_values() -> None:
    out = Exposition()
    out.family("x_total", "counter", "Things.")
    out.sample("x_total", 3, route='/a/"b"\\c\n')
    out.sample("x_seconds", 0.25)
    assert out.text() == (
        "# HELP x_total Things.\n# TYPE x_total counter\n"
        'x_total{route="/a/\\"b\\"\\\\c\\n"} 3\nx_seconds 0.25\n'
    )
    assert format_value(float("inf")) == "+Inf"


@pytest.mark.parametrize(
    ("address", "allowed"),
    [
        ("127.0.0.1", True),
        ("127.9.9.9", True),
        ("::1", True),
        ("::ffff:127.0.0.1", True),
        ("10.0.0.1", False),
        ("203.0.113.9", False),
        ("", False),
        ("not-an-address", False),
    ],
)
def test_the_allow_list_matches_client_addresses(address: str, allowed: bool) -> None:
    allow = AllowList(parse_networks("127.0.0.0/8, ::1/128", "metrics_allow"))
    assert allow.allows(address) is allowed


def test_an_empty_allow_list_allows_nobody_and_a_bad_one_names_the_setting() -> None:
    assert not AllowList(parse_networks("", "metrics_allow")).allows("127.0.0.1")
    with pytest.raises(ConfigError, match="metrics_allow"):
        parse_networks("127.0.0.1/33", "metrics_allow")
