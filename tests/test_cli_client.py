"""The client commands against a real server (gunicorn on loopback)."""

import io
import socket
import threading
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import orjson
import pytest

from sikker.builder.publish import Publisher
from sikker.builder.writer import Intel
from sikker.core.accounts import AccountStore
from sikker.core.plans import SHIPPED, load_plans
from sikker.errors import ServerRefusedError
from sikker.sync_http import HttpTransport
from tests.factories import FAST_KDF, RECORDS, api_key, bearer, run_cli, table
from tests.test_gunicorn import free_port, serving

INTEL = Intel(
    usernames={
        "root": {
            "total": 12,
            "protocols": {"ssh": 10, "telnet": 2},
            "first": 1795000000,
            "last": 1795100000,
        }
    },
    emails={
        "victim@example.com": {
            "total": 3,
            "protocols": {"smtp": 3},
            "first": 1795000000,
            "last": 1795000500,
        }
    },
)
#: A plan with one lookup a day, to see a quota refusal.
TINY_PLAN = """
[plans.tiny]
name = "Tiny"
quotas = { lookups = 1, reports = 1, blacklist = 1, taxii = 1 }
caps = { bulk_check_ips = 10, bulk_report_rows = 10, blacklist_limit = 1 }
[plans.tiny.alerts]
ip = 1
range = 1
username = 1
email = 1
range_prefix_v4 = 28
range_prefix_v6 = 64
"""
PAGE = 3  # TAXII page size of the test server: several pages per collection


class Server:
    """The test server: its URL, data directory and keys."""

    def __init__(self, url: str, data: Path, key: str, tiny_key: str) -> None:
        self.url, self.data, self.key, self.tiny_key = url, data, key, tiny_key

    def get(self, path: str, key: str | None = None) -> tuple[int, Any]:
        """GET ``path`` with urllib; return the status and the JSON body."""
        req = urllib.request.Request(self.url + path, headers=bearer(key or self.key))
        try:
            with urllib.request.urlopen(req, timeout=10) as resp:
                return resp.status, orjson.loads(resp.read())
        except urllib.error.HTTPError as ex:
            with ex:
                return ex.code, orjson.loads(ex.read())


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    data = tmp_path_factory.mktemp("served")
    with Publisher(data) as publisher:
        publisher.publish(table(), intel=INTEL)
    plans = data / "plans.toml"
    plans.write_text(SHIPPED.read_text() + TINY_PLAN)
    accounts = AccountStore(data, load_plans(plans), kdf=FAST_KDF)
    try:
        key = api_key(data, store=accounts)
        tiny = api_key(data, "tiny@example.com", plan="tiny", store=accounts)
    finally:
        accounts.close()
    settings = {"plans_path": str(plans), "taxii_max_page_size": str(PAGE)}
    with serving(data, workers=1, **settings) as url:
        yield Server(url, data, key, tiny)


@pytest.fixture
def env(server: Server, monkeypatch: pytest.MonkeyPatch) -> Server:
    """Point the client at the server through SIKKER_URL and SIKKER_KEY."""
    monkeypatch.setenv("SIKKER_URL", server.url)
    monkeypatch.setenv("SIKKER_KEY", server.key)
    return server


@pytest.fixture
def empty(tmp_path: Path) -> Path:
    """A data directory without a snapshot: a local read would fail."""
    return tmp_path / "empty"


def cli(capsys: pytest.CaptureFixture[str], data: Path, *args: str) -> Any:
    """Run a command with --json; assert it succeeded; return its JSON."""
    code, out, err = run_cli(capsys, data, *args, "--json")
    assert code == 0, err
    return orjson.loads(out)


# -- check and blacklist: the server when configured, else the data dir ----------


def test_check_asks_the_server_when_a_url_is_set(
    env: Server, capsys: pytest.CaptureFixture[str], empty: Path
) -> None:
    status, expected = env.get("/v1/key/check/203.0.113.10")
    got = cli(capsys, empty, "check", "203.0.113.10")
    assert status == 200 and got["confidenceLevel"] == expected["confidenceLevel"]
    assert got["ip"] == "203.0.113.10" and "scoreBreakdown" not in got
    explained = cli(capsys, empty, "check", "203.0.113.10", "--explain")
    assert {c["name"] for c in explained["scoreBreakdown"]} >= {"curve", "score"}
    assert cli(capsys, empty, "check", "2001:db8::7")["confidenceLevel"] == 91
    code, out, err = run_cli(capsys, empty, "check", "1.2.3.999")
    assert code == 2 and out == "" and "HTTP 400 invalid_address" in err


def test_check_reads_the_data_dir_without_a_url_or_with_local(
    env: Server, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SIKKER_URL", f"http://127.0.0.1:{free_port()}")  # down
    assert cli(capsys, env.data, "check", "203.0.113.10", "--local")["found"]
    assert cli(capsys, env.data, "blacklist", "--local")["meta"]["count"] > 0
    assert run_cli(capsys, env.data, "check", "203.0.113.10")[0] == 3
    monkeypatch.delenv("SIKKER_URL")
    code, out, _ = run_cli(capsys, env.data, "check", "198.51.100.20")
    assert code == 0 and out.startswith("198.51.100.20: confidence 91/100")


def test_check_prints_the_readable_report_and_gates_on_fail_above(
    env: Server, capsys: pytest.CaptureFixture[str], empty: Path
) -> None:
    code, out, _ = run_cli(capsys, empty, "check", "203.0.113.10", "--fail-above", "90")
    assert code == 1
    assert out.startswith("203.0.113.10: confidence 97/100") and "  why: " in out
    assert run_cli(capsys, empty, "check", "192.0.2.45", "--fail-above", "90")[0] == 0
    raw = cli(capsys, empty, "check", "192.0.2.45", "--ignore-whitelist")
    assert raw["confidenceLevel"] == raw["rawConfidenceLevel"] == 88


def test_blacklist_from_the_server_in_every_shape(
    env: Server, capsys: pytest.CaptureFixture[str], empty: Path
) -> None:
    listed = [r["ip"] for r in RECORDS if r["score"] >= 90]
    doc = cli(capsys, empty, "blacklist", "--score-min", "90")
    assert sorted(item["ip"] for item in doc["data"]) == sorted(listed)
    code, out, _ = run_cli(
        capsys, empty, "blacklist", "--score-min", "90", "--plaintext"
    )
    assert code == 0 and sorted(out.split()) == sorted(listed)
    code, out, _ = run_cli(
        capsys, empty, "blacklist", "--score-min", "90", "--format", "nginx-deny"
    )
    assert code == 0 and sorted(
        line.removeprefix("deny ").rstrip(";")
        for line in out.splitlines()
        if line.startswith("deny ")
    ) == sorted(listed)
    code, out, _ = run_cli(capsys, empty, "blacklist", "--only-countries", "RU")
    assert code == 0 and out.splitlines()[0].startswith("198.51.100.20 ")
    assert "(first 10 shown" in out


def test_blacklist_bad_filter_is_the_servers_400(
    env: Server, capsys: pytest.CaptureFixture[str], empty: Path
) -> None:
    status, expected = env.get("/v1/key/blacklist?scoreMinimum=101")
    code, out, err = run_cli(capsys, empty, "blacklist", "--score-min", "101")
    assert status == 400 and code == 2 and out == ""
    assert err.startswith("sikker blacklist: error: ") and expected["error"] in err


# -- reports and bulk checks --------------------------------------------------------


def test_report_sends_one_report(
    env: Server, capsys: pytest.CaptureFixture[str], empty: Path
) -> None:
    doc = cli(
        capsys, empty, "report", "45.33.32.156",
        "--category", "2", "--protocol", "ssh", "--comment", "scanned us",
    )  # fmt: skip
    assert doc["success"] and doc["report"]["category"] == "port_scan"
    code, out, _ = run_cli(
        capsys, empty, "report", "45.33.32.157", "--category", "brute_force"
    )
    assert code == 0 and out == "reported 45.33.32.157 (brute_force)\n"
    _, mine = env.get("/v1/key/reports")
    assert {"45.33.32.156", "45.33.32.157"} <= {r["ip"] for r in mine["reports"]}


def test_report_of_a_private_address_fails_with_the_servers_reason(
    env: Server, capsys: pytest.CaptureFixture[str], empty: Path
) -> None:
    code, out, err = run_cli(capsys, empty, "report", "10.0.0.8", "--category", "1")
    assert code == 2 and out == ""
    assert "not a public address (private)" in err and "HTTP 400" in err


def test_bulk_report_takes_a_csv_file_and_lists_rejected_rows(
    env: Server, capsys: pytest.CaptureFixture[str], empty: Path, tmp_path: Path
) -> None:
    csv = tmp_path / "reports.csv"
    csv.write_text(
        "IP,Category,Protocol,Comment\n"
        "45.33.32.160,brute_force,ssh,one\n"
        '45.33.32.161,3,,"two, quoted"\n'
        "10.1.1.1,port_scan,,\n"
    )
    doc = cli(capsys, empty, "bulk-report", str(csv))
    assert (doc["total"], doc["accepted"], doc["rejected"]) == (3, 2, 1)
    code, out, _ = run_cli(capsys, empty, "bulk-report", str(csv))
    assert code == 0 and out.startswith("3 reports: 2 accepted, 1 rejected\n")
    assert "(10.1.1.1): ip: 10.1.1.1 is not a public address" in out


def test_bulk_report_takes_a_json_file_from_stdin(
    env: Server,
    capsys: pytest.CaptureFixture[str],
    empty: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    body = orjson.dumps({"reports": [{"ip": "45.33.32.170", "category": "spam"}]})
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(body)))
    assert cli(capsys, empty, "bulk-report", "-")["accepted"] == 1


def test_bulk_report_with_nothing_valid_fails(
    env: Server, capsys: pytest.CaptureFixture[str], empty: Path, tmp_path: Path
) -> None:
    csv = tmp_path / "bad.csv"
    csv.write_text("10.1.1.1,port_scan\n")
    code, _, err = run_cli(capsys, empty, "bulk-report", str(csv))
    assert code == 2 and "nothing accepted: row 1" in err


def test_bulk_check_reads_stdin_and_files(
    env: Server,
    capsys: pytest.CaptureFixture[str],
    empty: Path,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    lines = "203.0.113.10\n198.51.100.20\nnot-an-ip\n45.33.32.200\n"
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(lines.encode())))
    doc = cli(capsys, empty, "bulk-check")
    assert (doc["queried"], doc["found"]) == (3, 2)
    assert doc["invalid"][0]["line"] == 3
    path = tmp_path / "ips.txt"
    path.write_text(lines)
    code, out, _ = run_cli(capsys, empty, "bulk-check", str(path), "--fail-above", "95")
    assert code == 1
    assert out.splitlines()[0].startswith("203.0.113.10 ")
    assert "3 addresses checked, 2 listed, 1 invalid lines" in out
    assert run_cli(capsys, empty, "bulk-check", str(path), "--fail-above", "98")[0] == 0


def test_bulk_check_refuses_more_than_a_request_holds(
    env: Server, capsys: pytest.CaptureFixture[str], empty: Path, tmp_path: Path
) -> None:
    path = tmp_path / "many.txt"
    path.write_text("".join(f"45.{i // 256}.{i % 256}.1\n" for i in range(10_001)))
    code, _, err = run_cli(capsys, empty, "bulk-check", str(path))
    assert code == 2 and "10,001 addresses" in err and "split" in err
    code, _, err = run_cli(capsys, empty, "bulk-check", str(tmp_path / "missing"))
    assert code == 2 and "cannot read" in err


# -- intel, status, TAXII, alerts -----------------------------------------------------


def test_username_and_email_intel(
    env: Server, capsys: pytest.CaptureFixture[str], empty: Path
) -> None:
    doc = cli(capsys, empty, "username", "ROOT")
    assert doc["username"] == "root" and doc["protocols"] == {"ssh": 10, "telnet": 2}
    code, out, _ = run_cli(capsys, empty, "username", "root")
    assert code == 0 and out.startswith("root: 12 sessions (ssh 10, telnet 2)")
    assert cli(capsys, empty, "email", "victim@example.com")["totalMessages"] == 3


def test_an_unseen_username_exits_1(
    env: Server, capsys: pytest.CaptureFixture[str], empty: Path
) -> None:
    code, out, _ = run_cli(capsys, empty, "username", "nobody", "--json")
    assert code == 1 and orjson.loads(out) == {"username": "nobody", "found": False}
    code, out, _ = run_cli(capsys, empty, "email", "no@example.com")
    assert code == 1 and "not in the attack database" in out


def test_status_prints_the_plan_and_quotas(
    env: Server, capsys: pytest.CaptureFixture[str], empty: Path
) -> None:
    _, expected = env.get("/v1/key/status")
    doc = cli(capsys, empty, "status")
    assert doc["tier"] == expected["tier"] and set(doc["quotas"]) == set(
        expected["quotas"]
    )
    code, out, _ = run_cli(capsys, empty, "status")
    assert code == 0 and out.startswith(f"plan {expected['tier']['name']} (")
    assert [line.split()[0] for line in out.splitlines()[2:6]] == list(doc["quotas"])


def test_taxii_list_names_the_collections(
    env: Server,
    capsys: pytest.CaptureFixture[str],
    empty: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("SIKKER_KEY")  # listing collections needs no key
    doc = cli(capsys, empty, "taxii", "list")
    ids = [c["id"] for c in doc["collections"]]
    assert "sikker-threat-intel" in ids and "sikker-ssh" in ids
    code, out, _ = run_cli(capsys, empty, "taxii", "list")
    assert code == 0 and [line.split()[0] for line in out.splitlines()] == ids


def test_taxii_get_follows_next_across_pages(
    env: Server, capsys: pytest.CaptureFixture[str], empty: Path
) -> None:
    doc = cli(
        capsys, empty, "taxii", "get", "sikker-threat-intel", "--type", "indicator"
    )
    patterns = [o["pattern"] for o in doc["objects"]]
    assert len(patterns) == len(RECORDS) > PAGE and doc["more"] is False
    assert sorted(p.split("'")[1] for p in patterns) == sorted(r["ip"] for r in RECORDS)
    every = cli(capsys, empty, "taxii", "get", "sikker-threat-intel")["objects"]
    assert len({o["id"] for o in every}) == len(every) > len(patterns)


def test_taxii_get_stops_at_limit_and_continues_with_next(
    env: Server, capsys: pytest.CaptureFixture[str], empty: Path
) -> None:
    args = ("taxii", "get", "sikker-threat-intel", "--type", "indicator")
    first = cli(capsys, empty, *args, "--limit", "4")
    assert len(first["objects"]) == 4 and first["more"] is True
    rest = cli(capsys, empty, *args, "--next", first["next"])
    ids = [o["id"] for o in first["objects"] + rest["objects"]]
    assert len(ids) == len(set(ids)) == len(RECORDS)
    code, out, _ = run_cli(capsys, empty, *args, "--limit", "2")
    assert code == 0 and out.count("indicator--") == 2 and "more: --next " in out


def test_taxii_get_of_an_unknown_collection_fails(
    env: Server, capsys: pytest.CaptureFixture[str], empty: Path
) -> None:
    code, _, err = run_cli(capsys, empty, "taxii", "get", "nope")
    assert code == 2 and "no collection 'nope'" in err and "HTTP 404" in err


def test_alerts_add_list_remove(
    env: Server, capsys: pytest.CaptureFixture[str], empty: Path
) -> None:
    added = cli(
        capsys, empty, "alerts", "add", "range", "45.33.32.0/28", "--label", "lab"
    )
    assert added["cidr"] == "45.33.32.0/28" and added["label"] == "lab"
    code, out, _ = run_cli(capsys, empty, "alerts", "add", "username", "Admin")
    assert code == 0 and out.startswith("added username alert ")
    listed = cli(capsys, empty, "alerts", "list")["alerts"]
    assert {(a["kind"], a.get("cidr") or a.get("username")) for a in listed} >= {
        ("range", "45.33.32.0/28"),
        ("username", "admin"),
    }
    only = cli(capsys, empty, "alerts", "list", "--kind", "range")["alerts"]
    assert {a["kind"] for a in only} == {"range"}
    removed = cli(capsys, empty, "alerts", "remove", "range", added["id"])
    assert removed["deleted"] and removed["id"] == added["id"]
    code, _, err = run_cli(capsys, empty, "alerts", "remove", "range", added["id"])
    assert code == 2 and "HTTP 404" in err
    assert cli(capsys, empty, "alerts", "matches", "--since", "0")["next"] >= 0


def test_alerts_add_refuses_a_too_wide_range_with_the_servers_message(
    env: Server, capsys: pytest.CaptureFixture[str], empty: Path
) -> None:
    code, out, err = run_cli(capsys, empty, "alerts", "add", "range", "45.0.0.0/8")
    assert code == 2 and out == "" and "HTTP 400" in err


# -- errors: stderr, exit status ------------------------------------------------------


def test_a_bad_key_exits_4_with_the_servers_message(
    server: Server, capsys: pytest.CaptureFixture[str], empty: Path
) -> None:
    status, expected = server.get("/v1/key/status", key="sk_live_nope")
    code, out, err = run_cli(
        capsys, empty, "status", "--url", server.url, "--key", "sk_live_nope"
    )
    assert status == 401 and code == 4 and out == ""
    assert expected["error"] in err and "(from --key)" in err


def test_a_used_up_quota_exits_5_and_says_when_it_resets(
    server: Server, capsys: pytest.CaptureFixture[str], empty: Path
) -> None:
    args = ("check", "203.0.113.10", "--url", server.url, "--key", server.tiny_key)
    run_cli(capsys, empty, *args)  # the one lookup of the day (or already gone)
    code, _, err = run_cli(capsys, empty, *args)
    status, expected = server.get("/v1/key/check/203.0.113.10", key=server.tiny_key)
    assert status == 429 and code == 5
    assert expected["error"] in err and "retry in " in err


def test_a_server_that_is_down_exits_3(
    capsys: pytest.CaptureFixture[str], empty: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SIKKER_KEY", "sk_live_x")
    url = f"http://127.0.0.1:{free_port()}"
    code, out, err = run_cli(capsys, empty, "status", "--url", url)
    assert code == 3 and out == ""
    assert f"cannot reach {url}: connection refused" in err


def test_a_server_that_never_answers_times_out(
    capsys: pytest.CaptureFixture[str], empty: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SIKKER_KEY", "sk_live_x")
    with socket.socket() as silent:  # accepts connections, never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)
        url = f"http://127.0.0.1:{silent.getsockname()[1]}"
        code, _, err = run_cli(
            capsys, empty, "status", "--url", url, "--timeout", "0.2"
        )
    assert code == 3 and "no answer within 0.2 s" in err


@pytest.mark.parametrize(
    "args",
    [
        ("report", "45.33.32.1", "--category", "1"),
        ("bulk-report", "-"),
        ("bulk-check", "-"),
        ("username", "root"),
        ("email", "a@example.com"),
        ("status",),
        ("taxii", "list"),
        ("taxii", "get", "sikker-threat-intel"),
        ("alerts", "list"),
        ("alerts", "add", "ip", "45.33.32.1"),
        ("alerts", "remove", "ip", "abc"),
        ("alerts", "matches"),
    ],
)
def test_remote_only_commands_need_a_server(
    capsys: pytest.CaptureFixture[str], empty: Path, args: tuple[str, ...]
) -> None:
    code, out, err = run_cli(capsys, empty, *args)
    assert code == 2 and out == ""
    assert "error: no server configured: pass --url URL, set SIKKER_URL" in err


def test_keyed_commands_need_a_key(
    server: Server, capsys: pytest.CaptureFixture[str], empty: Path
) -> None:
    code, _, err = run_cli(capsys, empty, "status", "--url", server.url)
    assert code == 2 and "error: no API key: pass --key, set SIKKER_KEY" in err


# -- settings: flags over environment over the config file ----------------------------


def test_the_config_file_supplies_url_and_key(
    server: Server,
    capsys: pytest.CaptureFixture[str],
    empty: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    home = tmp_path / "xdg"
    (home / "sikker").mkdir(parents=True)
    (home / "sikker" / "client.toml").write_text(
        f'url = "{server.url}/"\nkey = "{server.key}"\ntimeout = 30\n'
    )
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home))
    assert cli(capsys, empty, "status")["tier"]["id"] == "business"
    # the environment beats the file, a flag beats the environment
    monkeypatch.setenv("SIKKER_KEY", "sk_live_fromenv")
    code, _, err = run_cli(capsys, empty, "status")
    assert code == 4 and "(from SIKKER_KEY)" in err
    assert cli(capsys, empty, "status", "--key", server.key)["tier"]["id"]
    monkeypatch.setenv("SIKKER_URL", f"http://127.0.0.1:{free_port()}")
    assert run_cli(capsys, empty, "status", "--key", server.key)[0] == 3


def test_sikker_client_config_names_another_file(
    server: Server,
    capsys: pytest.CaptureFixture[str],
    empty: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    path = tmp_path / "other.toml"
    path.write_text(f'url = "{server.url}"\nkey = "{server.key}"\n')
    monkeypatch.setenv("SIKKER_CLIENT_CONFIG", str(path))
    assert cli(capsys, empty, "status")["tier"]["id"] == "business"
    monkeypatch.setenv("SIKKER_CLIENT_CONFIG", str(tmp_path / "missing.toml"))
    code, _, err = run_cli(capsys, empty, "status")
    assert code == 2 and "no such client config file" in err


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('uri = "http://x"\n', "unknown client setting 'uri'"),
        ("url = [\n", "invalid TOML"),
        ('url = "ftp://example.net"\n', "is not an http(s) URL"),
        ('url = "http://h/?key=1"\n', "without a query"),
        ("key = 5\n", "key must be a string"),
        ('key = "sk live"\n', "spaces or characters"),
        ("timeout = 0\n", "timeout must be more than 0"),
        ('timeout = "5"\n', "timeout must be a number"),
    ],
)
def test_a_bad_config_file_is_named_in_the_error(
    capsys: pytest.CaptureFixture[str],
    empty: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    text: str,
    message: str,
) -> None:
    path = tmp_path / "client.toml"
    path.write_text(text)
    monkeypatch.setenv("SIKKER_CLIENT_CONFIG", str(path))
    code, _, err = run_cli(capsys, empty, "status")
    assert code == 2 and f"error: {path}: " in err and message in err


# -- servers that misbehave ---------------------------------------------------------


class _Odd(BaseHTTPRequestHandler):
    """Redirects ``/v1/key/status``, answers HTML elsewhere; records requests."""

    seen: list[dict[str, str]] = []

    def do_GET(self) -> None:
        self.seen.append(dict(self.headers))
        if self.path.startswith("/v1/key/status"):
            self.send_response(302)
            self.send_header("Location", self.server.elsewhere)  # type: ignore[attr-defined]
            body = b""
        else:
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            body = b"<html>a login page</html>"
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def odd() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Odd)
    httpd.elsewhere = f"http://127.0.0.1:{httpd.server_port}/elsewhere"  # type: ignore[attr-defined]
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    _Odd.seen.clear()
    try:
        yield f"http://127.0.0.1:{httpd.server_port}"
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_a_redirect_is_not_followed_with_the_key(
    odd: str, capsys: pytest.CaptureFixture[str], empty: Path
) -> None:
    code, _, err = run_cli(capsys, empty, "status", "--url", odd, "--key", "sk_live_x")
    assert code == 2 and f"redirects {odd} to {odd}/elsewhere" in err
    assert len(_Odd.seen) == 1  # nothing was sent to the new location


def test_the_sync_agent_does_not_follow_a_redirect_either(odd: str) -> None:
    transport = HttpTransport(odd, "sk_live_x", timeout=5)
    with pytest.raises(ServerRefusedError) as refused:
        transport.get("/v1/key/status", {}, None)
    assert refused.value.http_status == 302
    assert len(_Odd.seen) == 1  # nothing was sent to the new location


def test_an_answer_that_is_not_json_exits_6(
    odd: str, capsys: pytest.CaptureFixture[str], empty: Path
) -> None:
    code, _, err = run_cli(capsys, empty, "username", "x", "--url", odd, "--key", "k")
    assert code == 6 and "not JSON (text/html)" in err
    assert _Odd.seen[0]["Authorization"] == "Bearer k"
    assert _Odd.seen[0]["User-Agent"].startswith("sikker-cli/")


def test_each_setting_comes_from_the_first_place_that_sets_it(tmp_path: Path) -> None:
    from sikker.client_config import resolve

    path = tmp_path / "client.toml"
    path.write_text('url = "http://file:1"\nkey = "sk_file"\ntimeout = 5\n')
    environ = {
        "SIKKER_CLIENT_CONFIG": str(path),
        "SIKKER_URL": "http://env:2/",
        "SIKKER_KEY": "",  # empty: unset
    }
    got = resolve(environ=environ)
    assert (got.url, got.key, got.timeout) == ("http://env:2", "sk_file", 5.0)
    assert got.source("url") == "SIKKER_URL" and got.source("key") == str(path)
    flags = resolve("https://flag:3", "sk_flag", 0.5, environ=environ)
    assert (flags.url, flags.key, flags.timeout) == ("https://flag:3", "sk_flag", 0.5)
    assert flags.source("key") == "--key"
    home = resolve(environ={"XDG_CONFIG_HOME": str(tmp_path / "none")})
    assert (home.url, home.key, home.timeout) == (None, None, 60.0)
