"""nginx loads sikker's deny and geo includes, and refuses listed clients.

``nginx -t`` validates a configuration that includes both files and must
print neither ``[emerg]`` nor ``[warn]`` (nginx passes ``-t`` despite
warnings such as duplicate networks). A real nginx then runs in a network
namespace with a listed address (203.0.113.10) on its loopback device:
requests from that address get 403, from an unlisted one 200. No realip
module is involved: nginx sees the real source address.
"""

import subprocess
import sys
import time
from pathlib import Path

import pytest

from sikker.core.snapshot import Snapshot
from tests import lists
from tests.lists import write
from tests.stack import nginx_conf
from tests.tools import in_ns, need_root, need_tool, netns, run

LISTED, UNLISTED, SERVER = "203.0.113.10", "198.51.100.1", "198.51.100.1"

small = lists.small
large = lists.large


def config(tmp: Path, deny: Path, geo: Path, listen: str = "127.0.0.1:8080") -> Path:
    """Write an nginx.conf with temp paths that includes both lists."""
    (tmp / "www").mkdir(exist_ok=True)
    (tmp / "www" / "index.html").write_text("hello\n")
    host, port = listen.rsplit(":", 1)
    return nginx_conf(
        tmp,
        f"""
geo $sikker_blocked {{
    default 0;
    include {geo};
}}
server {{
    listen {host}:{port};
    root {tmp}/www;
    if ($sikker_blocked) {{ return 403; }}
}}
server {{
    listen {host}:{int(port) + 1};
    root {tmp}/www;
    location / {{
        include {deny};
        allow all;
    }}
}}
""",
        connections=64,
    )


def nginx_test(conf: Path) -> str:
    """Run ``nginx -t``; assert it passed without a warning; return its output."""
    need_root()  # the config says "user root", which warns for anyone else
    nginx = need_tool("nginx")
    result = run(nginx, "-t", "-c", str(conf), check=False)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "[warn]" not in output and "[emerg]" not in output, output
    assert "test is successful" in output
    return output


def includes(snapshot: Snapshot, tmp: Path) -> tuple[Path, Path]:
    deny = write(snapshot, "nginx-deny", tmp / "sikker-deny.conf")
    geo = write(snapshot, "nginx-geo", tmp / "sikker-geo.conf")
    return deny, geo


def test_nginx_accepts_both_includes_without_a_warning(
    small: Snapshot, tmp_path: Path
) -> None:
    nginx_test(config(tmp_path, *includes(small, tmp_path)))


def test_nginx_test_fails_on_what_sikker_must_never_write(tmp_path: Path) -> None:
    # the check bites: a duplicate is a [warn], a bad address an [emerg]
    need_root()
    nginx = need_tool("nginx")
    geo = tmp_path / "geo.conf"
    deny = tmp_path / "deny.conf"
    geo.write_text("203.0.113.7 1;\n203.0.113.7 1;\n")
    deny.write_text("deny 203.0.113.7;\n")
    result = run(nginx, "-t", "-c", str(config(tmp_path, deny, geo)), check=False)
    assert "[warn]" in result.stderr
    deny.write_text("deny 203.0.113.300;\n")
    result = run(nginx, "-t", "-c", str(config(tmp_path, deny, geo)), check=False)
    assert result.returncode != 0 and "[emerg]" in result.stderr


@pytest.mark.slow
def test_nginx_loads_100000_lines_of_each(large: Snapshot, tmp_path: Path) -> None:
    nginx_test(config(tmp_path, *includes(large, tmp_path)))


_GET = (
    "import http.client, sys\n"
    "source, host, port = sys.argv[1], sys.argv[2], int(sys.argv[3])\n"
    "try:\n"
    "    c = http.client.HTTPConnection(host, port, timeout=5,"
    " source_address=(source, 0))\n"
    "    c.request('GET', '/')\n"
    "    print(c.getresponse().status)\n"
    "except OSError:\n"
    "    print('down')\n"
)


def status(ns: str, source: str, port: int) -> str:
    """GET / of nginx from ``source`` inside ``ns``: the status, or 'down'."""
    return in_ns(
        ns, sys.executable, "-c", _GET, source, SERVER, str(port)
    ).stdout.strip()


def test_real_nginx_refuses_listed_clients(small: Snapshot, tmp_path: Path) -> None:
    nginx, ip = need_tool("nginx"), need_tool("ip")
    conf = config(tmp_path, *includes(small, tmp_path), listen=f"{SERVER}:8080")
    with netns() as ns:
        for address in (LISTED, UNLISTED):
            in_ns(ns, ip, "addr", "add", f"{address}/32", "dev", "lo")
        proc = subprocess.Popen(
            [ip, "netns", "exec", ns, nginx, "-c", str(conf)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            deadline = time.monotonic() + 10
            while status(ns, UNLISTED, 8080) != "200":
                assert proc.poll() is None, proc.communicate()
                assert time.monotonic() < deadline, "nginx did not start"
                time.sleep(0.1)
            assert status(ns, LISTED, 8080) == "403"  # geo map
            assert status(ns, UNLISTED, 8081) == "200"
            assert status(ns, LISTED, 8081) == "403"  # deny include
        finally:
            proc.terminate()
            _, err = proc.communicate(timeout=10)
        log = (tmp_path / "error.log").read_text()
        assert "[emerg]" not in log + err and "[warn]" not in log + err
