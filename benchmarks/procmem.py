"""Memory of a process tree, read from /proc (Linux).

``smaps_rollup`` gives a process's RSS, PSS (each page divided by the
number of processes mapping it, so PSS sums to the physical memory of a
group) and USS (pages only it maps); ``smaps`` gives the RSS of each mapped
file, which tells whether a worker has touched the snapshot.
"""

from pathlib import Path

PROC = Path("/proc")


def children(pid: int) -> list[int]:
    """Return the pids of ``pid``'s direct children."""
    found: list[int] = []
    for task in (PROC / str(pid) / "task").iterdir():
        text = (task / "children").read_text()
        found += [int(x) for x in text.split()]
    return sorted(found)


def rollup(pid: int) -> dict[str, int]:
    """Return the fields of ``/proc/PID/smaps_rollup`` in bytes, plus ``Uss``."""
    fields: dict[str, int] = {}
    for line in (PROC / str(pid) / "smaps_rollup").read_text().splitlines()[1:]:
        name, _, rest = line.partition(":")
        parts = rest.split()
        if len(parts) == 2 and parts[1] == "kB":
            fields[name] = int(parts[0]) * 1024
    fields["Uss"] = fields.get("Private_Clean", 0) + fields.get("Private_Dirty", 0)
    return fields


def mapped_rss(pid: int, under: Path) -> dict[str, int]:
    """Return the resident bytes of each file under ``under`` that ``pid`` maps."""
    root = str(under.resolve())
    rss: dict[str, int] = {}
    current: str | None = None
    for line in (PROC / str(pid) / "smaps").read_text().splitlines():
        head = line.split(maxsplit=5)
        if len(head) >= 5 and "-" in head[0] and not head[0].endswith(":"):
            path = head[5] if len(head) == 6 else ""
            current = path if path.startswith(root + "/") else None
        elif current is not None and line.startswith("Rss:"):
            name = Path(current).name
            rss[name] = rss.get(name, 0) + int(line.split()[1]) * 1024
    return rss
