"""CSF: the csf.blocklists URL and the BLOCK_REPORT script, against sikker.

lfd runs BLOCK_REPORT with eight arguments (csf readme, "Block Reporting"):
IP, ports, permanent, in/out, timeout, message, log lines, trigger. CSF
itself cannot be installed from Debian, so its blocklist parser is emulated
(test_formats.py) and the script runs here exactly as lfd would run it:
against a receiver that records the request, and against a real sikker
server on 127.0.0.1 that stores the report.
"""

import json
import os
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from tests.factories import bearer
from tests.test_formats import body, lfd_blocklist
from tests.tools import ROOT, receiver, sikker_site

SCRIPT = ROOT / "integrations" / "report" / "sikker-report"
ATTACKER = "45.155.205.233"
KEY = "sk_test_csf"
MESSAGE = f"(sshd) Failed SSH login from {ATTACKER} (NL/-/-): 5 in the last 3600 secs"
LOGS = (
    f"Nov 23 02:13:20 host sshd[7788]: Invalid user admin from {ATTACKER} port 49518\n"
    * 3
)


def lfd(
    config: Path, ip: str, trigger: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess:
    """Run the script as lfd does: eight positional arguments, a bare env."""
    args = [ip, "22", "0", "inout", "3600", MESSAGE, LOGS, trigger]
    return subprocess.run(
        [sys.executable, str(SCRIPT), *args],
        capture_output=True,
        text=True,
        timeout=20,
        env={"PATH": os.environ["PATH"], "SIKKER_CONFIG": str(config), **(env or {})},
    )


def config_file(tmp: Path, url: str, key: str = KEY) -> Path:
    path = tmp / "report.conf"
    path.write_text(f'# sikker-report\nkey = {key}\nurl = "{url}"\n')
    return path


@pytest.mark.parametrize(
    ("trigger", "category", "protocol"),
    [
        ("LF_SSHD", "brute_force", "ssh"),
        ("LF_FTPD", "brute_force", "ftp"),
        ("LF_SMTPAUTH", "brute_force", "smtp"),
        ("LF_HTACCESS", "brute_force", "http"),
        ("LF_MODSEC", "web_exploit", "http"),
        ("LF_DISTATTACK", "ddos", None),
        ("CT_LIMIT", "port_scan", None),
        ("LF_POP3D", "other", None),
        ("PS_LIMIT", "other", None),
    ],
)
def test_each_trigger_reports_its_category_and_protocol(
    tmp_path: Path, trigger: str, category: str, protocol: str | None
) -> None:
    with receiver() as got:
        result = lfd(config_file(tmp_path, got.url), ATTACKER, trigger)
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"Reported {ATTACKER} ({category}) to sikker\n"
    [request] = got.requests
    assert request["path"] == "/v1/key/report"
    assert request["headers"]["Authorization"] == f"Bearer {KEY}"
    expected = {"ip": ATTACKER, "category": category, "comment": f"csf {trigger}"}
    if protocol:
        expected["protocol"] = protocol
    assert request["body"] == expected  # never lfd's message or log lines


def test_single_address_cidrs_are_reported_and_networks_are_not(tmp_path: Path) -> None:
    with receiver() as got:
        config = config_file(tmp_path, got.url)
        one = lfd(config, f"{ATTACKER}/32", "LF_SSHD")
        v6 = lfd(config, "2a00:1450:4001::1", "LF_SSHD")
        net = lfd(config, "45.155.205.0/24", "LF_DISTATTACK")
        junk = lfd(config, "not-an-ip", "LF_SSHD")
    assert one.returncode == v6.returncode == net.returncode == junk.returncode == 0
    assert [r["body"]["ip"] for r in got.requests] == [ATTACKER, "2a00:1450:4001::1"]
    assert "is a network" in net.stderr and "not an address" in junk.stderr


def test_the_environment_overrides_the_config_file(tmp_path: Path) -> None:
    with receiver() as got:
        config = config_file(tmp_path, "http://127.0.0.1:9", key="sk_file")
        result = lfd(
            config, ATTACKER, "LF_SSHD", {"SIKKER_URL": got.url, "SIKKER_KEY": "sk_env"}
        )
    assert result.returncode == 0, result.stderr
    assert got.requests[0]["headers"]["Authorization"] == "Bearer sk_env"


def test_failures_never_stop_csf_blocking(tmp_path: Path) -> None:
    with receiver(status=429) as got:
        quota = lfd(config_file(tmp_path, got.url), ATTACKER, "LF_SSHD")
    assert quota.returncode == 0 and "HTTP 429" in quota.stderr
    down = lfd(config_file(tmp_path, "http://127.0.0.1:9"), ATTACKER, "LF_SSHD")
    assert down.returncode == 0 and "could not report" in down.stderr
    nokey = lfd(
        config_file(tmp_path, "http://127.0.0.1:9", key=""), ATTACKER, "LF_SSHD"
    )
    assert nokey.returncode == 0 and "no API key" in nokey.stderr
    missing = lfd(tmp_path / "absent.conf", ATTACKER, "LF_SSHD")
    assert missing.returncode == 0 and "no API key" in missing.stderr


def fetch(url: str, key: str | None = None) -> bytes:
    """GET as lfd does: no header unless ``key`` (the URL carries ?key=)."""
    request = urllib.request.Request(url, headers=bearer(key) if key else {})
    with urllib.request.urlopen(request, timeout=10) as resp:
        return bytes(resp.read())


@pytest.mark.slow
def test_csf_pulls_the_blocklist_and_pushes_reports_with_a_real_server(
    tmp_path: Path,
) -> None:
    with sikker_site(tmp_path) as (base, key):
        # csf.blocklists: SIKKER|86400|0|<URL>, the key in the URL (lfd sends
        # no headers), both documented forms
        for query in ("plaintext=true&scoreMinimum=75", "format=csf&scoreMinimum=75"):
            text = fetch(f"{base}/v1/key/blacklist?key={key}&{query}").decode()
            entries, rejected = lfd_blocklist(text)
            assert entries and not rejected, text
            assert entries == body(text)
            header = fetch(f"{base}/v1/key/blacklist?{query}", key).decode()
            assert header == text
        # BLOCK_REPORT: lfd's eight arguments, the report stored and listed
        result = lfd(config_file(tmp_path, base, key), ATTACKER, "LF_SSHD")
        assert result.stdout == f"Reported {ATTACKER} (brute_force) to sikker\n"
        listed = json.loads(fetch(f"{base}/v1/key/reports", key))["reports"]
    [stored] = listed
    assert (stored["ip"], stored["category"], stored["protocol"]) == (
        ATTACKER,
        "brute_force",
        "ssh",
    )
    assert stored["comment"] == "csf LF_SSHD"
