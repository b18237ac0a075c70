"""Drive an HTTP server with ``wrk`` (Debian's package) and read its figures.

wrk runs as its own process on loopback. A Lua script cycles through a list
of request paths (with an optional ``Authorization`` header) and prints one
JSON line at the end: requests, errors, duration and latency percentiles.
"""

import json
import shutil
import subprocess
import tempfile
from typing import Any

_SCRIPT = """
local paths = {%(paths)s}
local n = #paths
local i = 0
%(header)s
request = function()
  i = i %% n + 1
  return wrk.format("GET", paths[i])
end
done = function(summary, latency, requests)
  local e = summary.errors
  local spread = {}
  for _, q in ipairs({%(percentiles)s}) do
    spread[#spread + 1] = string.format("%%d", latency:percentile(q))
  end
  io.write(string.format(
    '\\n@@{"requests": %%d, "duration_us": %%d, "socket_errors": %%d, ' ..
    '"status_errors": %%d, "p50_us": %%d, "p90_us": %%d, "p99_us": %%d, ' ..
    '"percentiles_us": [%%s]}\\n',
    summary.requests, summary.duration, e.connect + e.read + e.write + e.timeout,
    e.status, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), table.concat(spread, ",")))
end
"""
#: The latency percentiles every run reports in ``percentiles_us``.
PERCENTILES = (1, 5, 10, 25, 50, 75, 90, 95, 99, 99.5, 99.9)


def wrk_path() -> str:
    """Return the wrk executable, or raise with how to install it."""
    found = shutil.which("wrk")
    if not found:
        raise RuntimeError(
            "the http benchmark needs wrk: `apt-get install wrk` "
            "(scripts/setup --test installs it)"
        )
    return found


def run_wrk(
    base: str,
    paths: list[str],
    seconds: int,
    connections: int,
    authorization: str | None = None,
) -> dict[str, Any]:
    """Run wrk against ``base`` cycling through ``paths``; return its figures.

    The result has ``rps`` (requests per second) besides wrk's own counts,
    and ``percentiles_us``: the latency at each of ``PERCENTILES``.
    """
    header = (
        f'wrk.headers["Authorization"] = "{authorization}"' if authorization else ""
    )
    script = _SCRIPT % {
        "paths": ",".join(json.dumps(p) for p in paths),
        "header": header,
        "percentiles": ",".join(map(str, PERCENTILES)),
    }
    with tempfile.NamedTemporaryFile("w", suffix=".lua") as lua:
        lua.write(script)
        lua.flush()
        out = subprocess.run(
            [wrk_path(), "-t1", f"-c{connections}", f"-d{seconds}s",
             "--timeout", "5s", "-s", lua.name, f"{base}{paths[0]}"],
            capture_output=True, text=True, check=True,
            timeout=seconds + 30,
        ).stdout  # fmt: skip
    line = next(x for x in out.splitlines() if x.startswith("@@"))
    figures: dict[str, Any] = json.loads(line[2:])
    figures["rps"] = figures["requests"] / (figures["duration_us"] / 1e6)
    return figures
