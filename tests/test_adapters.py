"""Cowrie and OpenCanary lines become generic events; bad lines are reported."""

from collections import Counter
from pathlib import Path
from typing import Any

import orjson
import pytest

from sikker.core.cowrie import CowrieAdapter
from sikker.core.ingest import LineParser, detect_format, parse_lines
from sikker.core.opencanary import OpenCanaryAdapter
from sikker.errors import InvalidEventError

DATA = Path(__file__).resolve().parent / "data"
COWRIE = DATA / "cowrie-sample.json"
OPENCANARY = DATA / "opencanary-sample.json"
ATTACKER = "45.155.205.7"


def cowrie(eventid: str, **fields: Any) -> dict[str, Any]:
    return {
        "eventid": f"cowrie.{eventid}",
        "timestamp": "2018-05-06T00:00:07.370548Z",
        "session": "a1b2c3d4e5f6",
        "src_ip": ATTACKER,
        "sensor": "old-pot",
        "message": [],  # old Cowrie wrote lists here
        **fields,
    }


def canary(logtype: int, logdata: dict[str, Any], **fields: Any) -> dict[str, Any]:
    return {
        "logtype": logtype,
        "logdata": logdata,
        "src_host": ATTACKER,
        "src_port": 40000,
        "dst_host": "10.0.0.5",
        "dst_port": -1,
        "node_id": "canary-1",
        "utc_time": "2026-11-22 12:48:21.523060",
        **fields,
    }


# -- the real samples ---------------------------------------------------------------


def test_the_cowrie_sample_parses_without_errors() -> None:
    parser = LineParser(accept_private=True)
    events, errors = parser.parse_lines(COWRIE.read_text().splitlines())
    assert errors == []
    assert len(events) == 45
    assert Counter(e["event"] for e in events) == {
        "connect": 11,
        "command": 11,
        "action": 8,
        "close": 6,
        "login_success": 5,
        "login_failed": 2,
        "file_download": 1,
        "tcpip_forward": 1,
    }
    assert parser.skipped == {
        "cowrie.client.size": 1,
        "cowrie.session.params": 2,
        "cowrie.log.closed": 2,
    }
    telnet = [e for e in events if e["session"] == "734860a539c6"]
    assert {e["protocol"] for e in telnet} == {"telnet"}
    assert telnet[0] == {
        "ts": 1795351584272,
        "sensor": "vm",
        "session": "734860a539c6",
        "src_ip": "127.0.0.1",
        "protocol": "telnet",
        "event": "connect",
        "dst_port": 2223,
    }
    closes = {e["session"]: e["duration_ms"] for e in events if e["event"] == "close"}
    assert closes["53c2738ce046"] == 1150
    forward = next(e for e in events if e["event"] == "tcpip_forward")
    assert forward["target"] == "192.0.2.55:25"
    download = next(e for e in events if e["event"] == "file_download")
    assert "url" not in download and download["sha256"].startswith("527ad69b")


def test_the_opencanary_sample_parses_without_errors() -> None:
    parser = LineParser(accept_private=True)
    events, errors = parser.parse_lines(OPENCANARY.read_text().splitlines())
    assert errors == []
    assert [(e["protocol"], e["event"]) for e in events] == [
        ("ssh", "connect"),
        ("ssh", "connect"),
        ("ssh", "login_failed"),
        ("telnet", "login_failed"),
        ("ftp", "login_failed"),
        ("http", "request"),
        ("http", "login_failed"),
    ]
    assert parser.skipped == {"opencanary.1001": 5}
    assert events[1]["client_version"] == "SSH-2.0-paramiko_5.1.0"
    assert events[2]["username"] == "root" and events[2]["password"] == "toor"
    assert events[5]["path"] == "/index.html"
    assert events[5]["headers"]["user-agent"] == "Python-urllib/3.11"
    assert {e["sensor"] for e in events} == {"opencanary-test-1"}
    assert events[0]["session"] == events[2]["session"]  # same source, port


def test_sample_sources_are_rejected_without_the_setting() -> None:
    events, errors = parse_lines(OPENCANARY.read_text().splitlines())
    assert events == [] and len(errors) == 7
    assert "(loopback)" in errors[0][1]


# -- Cowrie ---------------------------------------------------------------------------


def test_cowrie_events_join_their_session_for_protocol_port_and_version() -> None:
    adapter = CowrieAdapter()
    connect = adapter.feed(cowrie("session.connect", protocol="telnet", dst_port=23))
    assert connect is not None and connect["dst_port"] == 23
    login = adapter.feed(cowrie("login.failed", username="root", password="xc3511"))
    assert login is not None and login["protocol"] == "telnet"

    ssh = CowrieAdapter()
    ssh.feed(cowrie("session.connect", session="s2", dst_port=22))
    version = ssh.feed(cowrie("client.version", session="s2", version="b'SSH-2.0-Go'"))
    assert version is not None
    assert version["client_version"] == "SSH-2.0-Go"
    assert version["dst_port"] == 22 and version["protocol"] == "ssh"


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"duration_ms": 1150}, 1150),
        ({"duration": 18.6}, 18600),
        ({"duration": "18.6"}, 18600),
        ({}, None),
    ],
)
def test_session_closed_reads_old_and_new_durations(
    fields: dict[str, Any], expected: int | None
) -> None:
    out = CowrieAdapter().feed(cowrie("session.closed", **fields))
    assert out is not None and out["event"] == "close"
    assert out.get("duration_ms") == expected


def test_a_bad_duration_names_the_field() -> None:
    with pytest.raises(InvalidEventError) as info:
        CowrieAdapter().feed(cowrie("session.closed", duration="long"))
    assert info.value.field == "duration"


def test_forward_targets_may_be_hostnames_and_keep_the_session_source() -> None:
    adapter = CowrieAdapter()
    adapter.feed(cowrie("session.connect", protocol="ssh", dst_port=22))
    # old Cowrie logged the forward's claimed origin as src_ip
    out = adapter.feed(
        cowrie("direct-tcpip.request", src_ip="10.1.1.1", dst_ip="ya.ru", dst_port=80)
    )
    assert out is not None
    assert out["target"] == "ya.ru:80" and out["src_ip"] == ATTACKER
    v6 = adapter.feed(cowrie("direct-tcpip.request", dst_ip="2001:db8::1", dst_port=25))
    assert v6 is not None and v6["target"] == "[2001:db8::1]:25"


def test_every_mapped_cowrie_event_becomes_its_generic_type() -> None:
    adapter = CowrieAdapter()
    sha = "ab" * 32
    cases = [
        (cowrie("command.input", input="wget x"), "command"),
        (cowrie("command.failed", input="foo"), "action"),
        (cowrie("command.chpasswd", username="root"), "password_change"),
        (cowrie("session.input", input="secret", realm="passwd"), "action"),
        (
            cowrie("session.file_download", url="http://x/a", shasum=sha),
            "file_download",
        ),
        (cowrie("session.file_download.failed", url="http://x/b"), "file_download"),
        (cowrie("session.file_upload", filename="a.sh", shasum=sha), "file_upload"),
        (
            cowrie("client.fingerprint", username="root", fingerprint="aa:bb"),
            "login_failed",
        ),
        (cowrie("client.kex", hassh="4c94"), "action"),
        (cowrie("client.var", name="LANG", value="C"), "action"),
        (
            cowrie("direct-tcpip.data", dst_ip="1.1.1.1", dst_port=80, data="GET /"),
            "action",
        ),
        (cowrie("telnet.exploit_attempt", cve="CVE-2020-1"), "action"),
    ]
    for obj, kind in cases:
        out = adapter.feed(obj)
        assert out is not None and out["event"] == kind, obj["eventid"]
    env = adapter.feed(cowrie("client.var", name="LANG", value="C"))
    assert env is not None and env["detail"] == "LANG=C"


def test_operational_plugin_and_unknown_cowrie_events_are_skipped_and_counted() -> None:
    adapter = CowrieAdapter()
    for eventid in (
        "log.open",
        "virustotal.scanfile",
        "abuseipdb.started",
        "new.thing",
    ):
        assert adapter.feed(cowrie(eventid)) is None
    assert adapter.feed(cowrie("command.success", input="ls")) is None
    assert adapter.skipped["cowrie.new.thing"] == 1
    assert sum(adapter.skipped.values()) == 5


def test_the_session_cache_is_bounded() -> None:
    adapter = CowrieAdapter(max_sessions=2)
    adapter.feed(
        cowrie("session.connect", session="t1", protocol="telnet", dst_port=23)
    )
    adapter.feed(cowrie("session.connect", session="x2", dst_port=22))
    adapter.feed(cowrie("session.connect", session="x3", dst_port=22))
    out = adapter.feed(cowrie("login.failed", session="t1", username="root"))
    assert out is not None and out["protocol"] == "ssh"  # forgotten: a guess


# -- OpenCanary -----------------------------------------------------------------------


def test_opencanary_port_scans_become_actions_on_the_scanned_protocol() -> None:
    adapter = OpenCanaryAdapter()
    out = adapter.feed(canary(5001, {"ID": "1"}, dst_port="22"))
    assert out is not None
    assert (out["protocol"], out["action"], out["detail"]) == (
        "ssh",
        "port_scan",
        "syn",
    )
    assert adapter.feed(canary(5004, {}, dst_port="31337")) is None
    assert adapter.skipped["opencanary.5004"] == 1


def test_opencanary_protocol_modules_map_to_generic_events() -> None:
    adapter = OpenCanaryAdapter()
    redis = adapter.feed(canary(17001, {"CMD": "CONFIG", "ARGS": "SET dir /tmp"}))
    assert redis is not None and redis["query"] == "CONFIG SET dir /tmp"
    mssql = adapter.feed(canary(9001, {"UserName": "sa", "Password": "pw"}))
    assert mssql is not None and (mssql["protocol"], mssql["username"]) == (
        "mssql",
        "sa",
    )
    mongo = adapter.feed(
        canary(20001, {"action": "mongodb.command", "command": "find", "query": "{}"})
    )
    assert mongo is not None and orjson.loads(mongo["query"]) == {"find": "{}"}
    smb = adapter.feed(canary(5000, {"SHARENAME": "Finance", "FILENAME": "/q1.xlsx"}))
    assert smb is not None and smb["detail"] == "Finance/q1.xlsx"
    sip = adapter.feed(canary(15001, {"HEADERS": {"user-agent": ["friendly-scanner"]}}))
    assert sip is not None and sip["headers"] == {"user-agent": "friendly-scanner"}
    assert adapter.feed(canary(12001, {"VNC Client Response": "x"})) is None
    banner = adapter.feed(canary(18001, {}, dst_port=6379))
    assert banner is not None and (banner["protocol"], banner["event"]) == (
        "redis",
        "connect",
    )


def test_opencanary_lines_without_a_source_are_errors() -> None:
    with pytest.raises(InvalidEventError) as info:
        OpenCanaryAdapter().feed(canary(4002, {"USERNAME": "root"}, src_host=""))
    assert info.value.field == "src_host"


# -- lines ----------------------------------------------------------------------------


def test_formats_are_detected_per_line() -> None:
    assert detect_format(cowrie("session.connect")) == "cowrie"
    assert detect_format(canary(4000, {})) == "opencanary"
    assert detect_format({"event": "connect"}) == "generic"
    assert detect_format({"hello": 1}) is None
    assert detect_format([1]) is None


def test_malformed_lines_are_reported_by_number_and_good_lines_kept() -> None:
    good = {
        "ts": 1795351569,
        "sensor": "s",
        "src_ip": ATTACKER,
        "protocol": "ssh",
        "event": "connect",
    }
    lines = [
        orjson.dumps(good).decode(),
        "{not json",
        "",
        "[1, 2]",
        orjson.dumps({"hello": "world"}).decode(),
        orjson.dumps({**good, "src_ip": "10.0.0.1"}).decode(),
        orjson.dumps(cowrie("command.input", input="id")).decode(),
        orjson.dumps(canary(6001, {"USERNAME": "admin", "PASSWORD": "1234"})).decode(),
    ]
    events, errors = parse_lines(lines)
    assert [e["event"] for e in events] == ["connect", "command", "login_failed"]
    assert [n for n, _ in errors] == [2, 4, 5, 6]
    assert "invalid JSON" in errors[0][1]
    assert "must be a JSON object" in errors[1][1]
    assert "unrecognised line" in errors[2][1]
    assert errors[3][1].startswith("src_ip: 10.0.0.1 is not a public address")


def test_a_forced_format_does_not_guess() -> None:
    line = orjson.dumps(cowrie("command.input", input="id"))
    events, errors = parse_lines([line], fmt="generic")
    assert events == [] and errors[0][1].startswith("event: missing")
    events, errors = parse_lines([line], fmt="cowrie")
    assert len(events) == 1 and errors == []


def test_the_sensor_argument_names_every_event() -> None:
    events, _ = parse_lines(
        [orjson.dumps(cowrie("command.input", input="id"))], sensor="web1"
    )
    assert events[0]["sensor"] == "web1"
