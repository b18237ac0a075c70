"""fail2ban reports bans to a real sikker server with sikker's action.

The action file is checked by ``fail2ban-client -t`` and ``-d`` on a copy
of Debian's configuration. Then a real fail2ban server runs with its own
socket, pid, database and log files and one jail: a custom filter on a
temporary log file and only the sikker action (no firewall action), so
nothing on the host changes. Appending failure lines for a test address
gets it banned, and the report is then listed by a real sikker server on
127.0.0.1 (``GET /v1/key/reports``).
"""

import json
import os
import shutil
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.factories import bearer
from tests.tools import ROOT, need_tool, receiver, run, sikker_site

ACTION = ROOT / "integrations" / "fail2ban" / "sikker.conf"
REPORT = ROOT / "integrations" / "report" / "sikker-report"
ATTACKER = "45.155.205.233"  # public: the report endpoint refuses private ones
KEY = "sk_test_fail2ban"


def confdir(tmp: Path, url: str, key: str = KEY) -> Path:
    """Copy /etc/fail2ban with sikker's action and a test jail; return it."""
    need_tool("fail2ban-client")
    conf = tmp / "fail2ban"
    shutil.copytree("/etc/fail2ban", conf)
    for old in (conf / "jail.d").iterdir():
        old.unlink()  # Debian enables sshd there
    shutil.copy(ACTION, conf / "action.d" / "sikker.conf")
    (conf / "filter.d" / "sikker-test.conf").write_text(
        "[Definition]\nfailregex = ^FAILED LOGIN from <HOST>$\ndatepattern = {NONE}\n"
    )
    (tmp / "auth.log").write_text("")
    (conf / "fail2ban.local").write_text(
        "[Definition]\n"
        f"socket = {tmp}/f2b.sock\n"
        f"pidfile = {tmp}/f2b.pid\n"
        f"dbfile = {tmp}/f2b.sqlite3\n"
        f"logtarget = {tmp}/f2b.log\n"
        "loglevel = INFO\n"
    )
    (conf / "jail.d" / "sikker-test.local").write_text(
        "[sikker-test]\n"
        "enabled = true\n"
        "backend = polling\n"
        "filter = sikker-test\n"
        f"logpath = {tmp}/auth.log\n"
        "maxretry = 3\n"
        "findtime = 600\n"
        "bantime = 600\n"
        "ignoreip = 127.0.0.1/8 ::1\n"
        f'action = sikker[key="{key}", category="brute_force", protocol="ssh", '
        f'url="{url}", sikker_report="{REPORT}"]\n'
    )
    return conf


def test_the_action_passes_fail2bans_configuration_test(tmp_path: Path) -> None:
    conf = confdir(tmp_path, "http://127.0.0.1:9")
    run(need_tool("fail2ban-client"), "-c", str(conf), "-t")
    dump = run(need_tool("fail2ban-client"), "-c", str(conf), "-d").stdout
    assert (
        f'SIKKER_KEY="{KEY}" SIKKER_URL="http://127.0.0.1:9" '
        'SIKKER_COMMENT="fail2ban jail sikker-test" '  # <name> is the jail
        f'{REPORT} "<ip>" "brute_force" "ssh" || true'
    ) in dump
    assert "['norestored', True]" in dump
    for unused in ("actionstart", "actionstop", "actioncheck", "actionunban"):
        assert f"['{unused}', '']" in dump, unused


def test_a_broken_action_fails_the_configuration_test(tmp_path: Path) -> None:
    # the check bites: a jail naming a missing action is refused
    conf = confdir(tmp_path, "http://127.0.0.1:9")
    (conf / "action.d" / "sikker.conf").unlink()
    result = run(need_tool("fail2ban-client"), "-c", str(conf), "-t", check=False)
    assert result.returncode != 0


def report(*args: str, **env: str):  # type: ignore[no-untyped-def]
    """Run sikker-report as fail2ban does: the key in the environment only."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("SIKKER_")}
    clean["SIKKER_CONFIG"] = "/nonexistent"
    return run(sys.executable, str(REPORT), *args, env={**clean, **env}, check=False)


def test_the_report_script_posts_a_structured_report() -> None:
    with receiver() as got:
        result = report(
            ATTACKER, "brute_force", "ssh", got.url,
            SIKKER_KEY=KEY, SIKKER_COMMENT="fail2ban jail sshd",
        )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"Reported {ATTACKER} (brute_force) to sikker\n"
    [request] = got.requests
    assert request["path"] == "/v1/key/report"
    assert request["headers"]["Authorization"] == f"Bearer {KEY}"
    assert request["body"] == {
        "ip": ATTACKER,
        "category": "brute_force",
        "protocol": "ssh",
        "comment": "fail2ban jail sshd",
    }


def test_a_failed_report_never_fails_the_ban() -> None:
    with receiver(status=429) as got:
        refused = report(
            ATTACKER, "brute_force", "", SIKKER_KEY=KEY, SIKKER_URL=got.url
        )
    assert refused.returncode == 0
    assert "could not report" in refused.stderr and "HTTP 429" in refused.stderr
    assert got.requests[0]["body"] == {"ip": ATTACKER, "category": "brute_force"}
    down = report(ATTACKER, "other", SIKKER_KEY=KEY, SIKKER_URL="http://127.0.0.1:9")
    assert down.returncode == 0 and "could not report" in down.stderr
    nokey = report(ATTACKER, "other", SIKKER_URL="http://127.0.0.1:9")
    assert nokey.returncode == 0 and "no API key" in nokey.stderr
    misused = report(ATTACKER)
    assert misused.returncode == 2 and "usage" in misused.stderr


def own_reports(base: str, key: str) -> list[dict]:
    request = urllib.request.Request(f"{base}/v1/key/reports", headers=bearer(key))
    with urllib.request.urlopen(request, timeout=5) as resp:
        return list(json.loads(resp.read())["reports"])


@pytest.mark.slow
def test_a_real_ban_reaches_a_real_sikker_server(tmp_path: Path) -> None:
    client = need_tool("fail2ban-client")
    need_tool("fail2ban-server")
    with sikker_site(tmp_path / "data") as (base, key):
        conf = confdir(tmp_path, base, key)
        run(client, "-c", str(conf), "-x", "start")
        try:
            with (tmp_path / "auth.log").open("a") as log:
                for _ in range(3):
                    log.write(f"FAILED LOGIN from {ATTACKER}\n")
                    log.write("FAILED LOGIN from 127.0.0.1\n")  # ignoreip
            deadline = time.monotonic() + 30
            while not (reports := own_reports(base, key)):
                f2b_log = tmp_path / "f2b.log"
                assert time.monotonic() < deadline, (
                    f2b_log.read_text() if f2b_log.exists() else "no fail2ban log"
                )
                time.sleep(0.2)
            banned = run(client, "-c", str(conf), "status", "sikker-test").stdout
            assert ATTACKER in banned
        finally:
            run(client, "-c", str(conf), "stop", check=False)
            deadline = time.monotonic() + 10
            while (tmp_path / "f2b.sock").exists() and time.monotonic() < deadline:
                time.sleep(0.1)
    [stored] = reports
    assert (stored["ip"], stored["category"], stored["protocol"]) == (
        ATTACKER,
        "brute_force",
        "ssh",
    )
    assert stored["comment"] == "fail2ban jail sikker-test" and stored["own"]
