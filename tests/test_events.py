"""The generic event schema: normalised form, validation errors, caps."""

from typing import Any

import pytest

from sikker.core.events import (
    LONG_CAP,
    MAX_HEADERS,
    SHORT_CAP,
    derive_session,
    normalize,
    parse_ts,
)
from sikker.errors import InvalidEventError

ATTACKER = "45.155.205.7"


def event(**fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "ts": "2026-11-22T12:46:09.016Z",
        "sensor": "fra-1",
        "session": "abc123",
        "src_ip": ATTACKER,
        "protocol": "ssh",
        "event": "command",
        "command": "uname -a",
    }
    base.update(fields)
    return {k: v for k, v in base.items() if v is not None}


def field_of(obj: Any, **kwargs: Any) -> str:
    with pytest.raises(InvalidEventError) as info:
        normalize(obj, **kwargs)
    return info.value.field


def test_a_valid_event_normalises_to_the_shared_keys_in_order() -> None:
    assert normalize(event()) == {
        "ts": 1795351569016,
        "sensor": "fra-1",
        "session": "abc123",
        "src_ip": ATTACKER,
        "protocol": "ssh",
        "event": "command",
        "command": "uname -a",
    }
    assert list(normalize(event())) == [
        "ts",
        "sensor",
        "session",
        "src_ip",
        "protocol",
        "event",
        "command",
    ]


@pytest.mark.parametrize(
    "value",
    [
        "2026-11-22T12:46:09.016Z",
        "2026-11-22T13:46:09.016+01:00",
        "2026-11-22 12:46:09.016",
        1795351569.016,
        1795351569016,
        "1795351569016",
        "1795351569.016",
    ],
)
def test_timestamps_in_every_accepted_form_become_epoch_ms(value: Any) -> None:
    assert parse_ts(value) == 1795351569016


@pytest.mark.parametrize(
    "value", [True, "yesterday", 12, 5_000_000_000_000, None, [], -1e307, "-1e307"]
)
def test_bad_timestamps_are_rejected_naming_ts(value: Any) -> None:
    assert field_of(event(ts=value)) == "ts"


@pytest.mark.parametrize("missing", ["ts", "src_ip", "protocol", "sensor", "event"])
def test_a_missing_required_field_is_named(missing: str) -> None:
    obj = event()
    del obj[missing]
    assert field_of(obj) == missing


@pytest.mark.parametrize("value", [["command"], {"command": 1}, 3, True])
def test_an_event_type_that_is_not_a_string_is_rejected_naming_event(
    value: Any,
) -> None:
    assert field_of(event(event=value)) == "event"


@pytest.mark.parametrize("value", [["ssh"], {"ssh": 1}, 22, True])
def test_a_protocol_that_is_not_a_string_is_rejected_naming_protocol(
    value: Any,
) -> None:
    assert field_of(event(protocol=value)) == "protocol"


def test_errors_say_what_is_wrong() -> None:
    with pytest.raises(InvalidEventError, match=r"event: 'hack'; expected one of"):
        normalize(event(event="hack"))
    with pytest.raises(InvalidEventError, match="unknown protocol 'gopher'"):
        normalize(event(protocol="gopher"))
    with pytest.raises(InvalidEventError, match=r"src_ip: '1\.2\.3\.999': octet 999"):
        normalize(event(src_ip="1.2.3.999"))
    with pytest.raises(InvalidEventError, match="dst_port: port 70000 is out of range"):
        normalize(event(event="connect", dst_port=70000))


def test_non_public_sources_are_rejected_with_the_reason() -> None:
    for address, reason in [
        ("10.1.2.3", "private"),
        ("127.0.0.1", "loopback"),
        ("192.0.2.7", "documentation"),
        ("::1", "loopback"),
    ]:
        with pytest.raises(InvalidEventError) as info:
            normalize(event(src_ip=address))
        assert info.value.field == "src_ip"
        assert f"({reason})" in str(info.value)
        assert "accept_private_sources" in str(info.value)


def test_non_public_sources_are_accepted_when_the_setting_allows() -> None:
    assert normalize(event(src_ip="127.0.0.1"), accept_private=True)["src_ip"] == (
        "127.0.0.1"
    )


def test_addresses_are_canonical_and_mapped_ipv4_becomes_ipv4() -> None:
    assert normalize(event(src_ip="::ffff:45.155.205.7"))["src_ip"] == ATTACKER
    assert normalize(event(src_ip="2A03:B0C0:0003:00D0:0:0:0:1"))["src_ip"] == (
        "2a03:b0c0:3:d0::1"
    )


def test_unknown_fields_and_fields_of_other_types_are_dropped() -> None:
    out = normalize(event(color="red", username="root", dst_port=22))
    assert "color" not in out and "username" not in out and "dst_port" not in out


def test_each_event_type_keeps_its_fields() -> None:
    out = normalize(
        event(
            event="request",
            protocol="HTTP",
            method="post",
            path="/cgi-bin/luci",
            headers={"User-Agent": "curl/8", "X-Many": ["a", "b"]},
            body="x=1",
        )
    )
    assert out["protocol"] == "http" and out["method"] == "POST"
    assert out["headers"] == {"user-agent": "curl/8", "x-many": "a, b"}
    mail = normalize(
        event(event="email", protocol="smtp", recipients="victim@example.com")
    )
    assert mail["recipients"] == ["victim@example.com"]
    closed = normalize(event(event="close", duration_ms=1234.4))
    assert closed["duration_ms"] == 1234
    login = normalize(event(event="login_failed", username="root", password=123456))
    assert login["password"] == "123456"


def test_type_rules_name_the_field() -> None:
    assert field_of(event(event="request", protocol="ssh")) == "protocol"
    assert field_of(event(event="query", protocol="redis")) == "query"
    assert field_of(event(event="file_download")) == "url"
    assert field_of(event(event="file_download", sha256="xyz")) == "sha256"
    assert field_of(event(event="tcpip_forward", target="nohost")) == "target"
    assert field_of(event(event="action", action="Bad Action!")) == "action"
    assert field_of(event(event="command", command=None)) == "command"
    assert field_of(event(event="email", protocol="smtp", recipients=5)) == (
        "recipients"
    )


def test_protocol_aliases_are_accepted() -> None:
    obj = event(event="query", protocol="Postgres", query="select 1")
    assert normalize(obj)["protocol"] == "postgresql"


def test_strings_are_capped_at_whole_characters() -> None:
    out = normalize(event(command="é" * LONG_CAP))
    assert len(out["command"].encode()) == LONG_CAP
    login = normalize(event(event="login_failed", username="€" * SHORT_CAP))
    assert len(login["username"].encode()) <= SHORT_CAP
    login["username"].encode()  # still valid UTF-8 (no split character)
    headers = {f"h{i}": "v" for i in range(MAX_HEADERS + 10)}
    req = normalize(event(event="request", protocol="http", headers=headers))
    assert len(req["headers"]) == MAX_HEADERS


def test_identifiers_too_long_are_rejected_not_cut() -> None:
    assert field_of(event(session="s" * 129)) == "session"
    assert field_of(event(sensor="")) == "sensor"


def test_a_missing_session_is_derived_stably() -> None:
    a = normalize(event(session=None, event="connect", dst_port=22))
    b = normalize(event(session=None, event="connect", dst_port=22))
    c = normalize(event(session=None, event="connect", dst_port=2222))
    assert a["session"] == b["session"] != c["session"]
    assert a["session"] == derive_session("fra-1", ATTACKER, "ssh", 22)
    assert a["session"].startswith("auto-")


def test_the_sensor_argument_overrides_the_event() -> None:
    assert normalize(event(sensor="liar"), sensor="web1")["sensor"] == "web1"
    assert normalize(event(sensor=None), sensor="web1")["sensor"] == "web1"


def test_non_objects_are_rejected() -> None:
    assert field_of(["not", "an", "object"]) == "event"
