"""Instructions per keyed check, the real app vs the Falcon floor (callgrind).

Wall-clock figures on a shared 2-core machine move by 10% from run to run;
instruction counts do not. This runs both WSGI apps in one process under
``valgrind --tool=callgrind`` (Debian's ``valgrind``), warms each with 1,000
checks, zeroes the counters, answers N more checks and dumps, so each
figure is the user-space instructions of exactly N requests through the app
(gunicorn's own share, the same for both, is not included).

Usage: ``python -m benchmarks.instructions [--requests N]``
"""

import argparse
import io
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from benchmarks.data import demo_snapshot, sample_addresses
from benchmarks.floor_app import floor_app
from benchmarks.keys import bench_keys
from benchmarks.servers import serving_dir
from sikker.core.config import load_config
from sikker.core.snapshot import Snapshot

WARM = 1000
_CHILD = "SIKKER_INSTRUCTIONS_CHILD"


def _environ(path: str, key: str) -> dict[str, Any]:
    return {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_HOST": "127.0.0.1:8000",
        "HTTP_AUTHORIZATION": f"Bearer {key}",
        "wsgi.url_scheme": "http",
        "wsgi.errors": sys.stderr,
        "wsgi.version": (1, 0),
        "wsgi.multithread": False,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }


def _answer(app: Callable[..., Iterable[bytes]], environ: dict[str, Any]) -> bytes:
    environ = dict(environ, **{"wsgi.input": io.BytesIO(b"")})
    return b"".join(app(environ, lambda status, headers, exc=None: None))


def _child(requests: int) -> None:
    """Under callgrind: serve the checks, dumping one profile per app."""
    from sikker.server.app import create_app

    snapshot_dir = demo_snapshot(100_000, lambda line: None)
    with Snapshot.open(snapshot_dir) as snapshot:
        addresses = sample_addresses(snapshot, 1000, 5)
    root = Path(tempfile.mkdtemp())
    data = serving_dir(snapshot_dir, root)
    key = bench_keys(data, root / "plans.toml")[0]
    os.environ["SIKKER_PLANS_PATH"] = str(root / "plans.toml")
    ours = create_app(load_config(overrides={"data_dir": str(data)}))
    environs = [_environ(f"/v1/key/check/{ip}", key) for ip in addresses]
    floor = floor_app(_answer(ours, environs[0]))
    pid = str(os.getpid())
    for name, app in (("floor", floor), ("sikker", ours)):
        for i in range(WARM):
            _answer(app, environs[i % len(environs)])
        subprocess.run(
            ["callgrind_control", "-z", pid], check=True, capture_output=True
        )
        for i in range(requests):
            _answer(app, environs[i % len(environs)])
        subprocess.run(
            ["callgrind_control", "-d", name, pid], check=True, capture_output=True
        )


def measure(requests: int) -> dict[str, float]:
    """Return instructions per request of both apps and their ratio."""
    if not shutil.which("valgrind"):
        raise RuntimeError("this needs valgrind: apt-get install valgrind")
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "cg.out"
        env = dict(os.environ, **{_CHILD: "1", "SIKKER_QUOTA_PERSIST_INTERVAL": "3600"})
        subprocess.run(
            [
                "valgrind",
                "--tool=callgrind",
                f"--callgrind-out-file={out}",
                sys.executable,
                "-m",
                "benchmarks.instructions",
                "--requests",
                str(requests),
            ],
            env=env,
            check=True,
            capture_output=True,
        )
        figures = {}
        for dump in Path(tmp).glob("cg.out.*"):
            text = dump.read_text(errors="replace")
            name = re.search(r"^desc: Trigger: .*dump (\w+)", text, re.M)
            total = re.search(r"^(?:summary|totals): (\d+)", text, re.M)
            if name and total:
                figures[name.group(1)] = int(total.group(1)) / requests
    figures["ratio"] = figures["floor"] / figures["sikker"]
    return figures


def main(argv: list[str] | None = None) -> None:
    """Print instructions per request of the keyed check and of the floor."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=1000)
    args = parser.parse_args(argv)
    if os.environ.get(_CHILD):
        _child(args.requests)
        return
    figures = measure(args.requests)
    print(f"Falcon floor   {figures['floor']:10,.0f} instructions/request")
    print(f"sikker check   {figures['sikker']:10,.0f} instructions/request")
    print(
        f"floor / sikker = {figures['ratio']:.3f} (in the app only, without gunicorn)"
    )


if __name__ == "__main__":
    main()
