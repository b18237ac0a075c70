"""Where ``sikker sync`` puts the set: ipset, nftables, an nginx include, a file.

Every target replaces the whole list atomically, so the firewall or web
server never sees a half-applied list:

* ``ipset``: ``ipset restore`` fills fresh sets ``<name>4-tmp`` /
  ``<name>6-tmp`` sized for the list, then ``swap`` puts them in place of
  ``<name>4`` / ``<name>6`` (created when missing) and the old ones go;
* ``nftables``: one ``nft -f`` transaction declares table ``inet <table>``,
  flushes its sets and refills them (the same file as ``format=nftables``);
* ``nginx``: the include is renamed into place, ``nginx -t`` must pass (else
  the previous file comes back) and nginx reloads; only when it changed;
* ``file``: one address a line, renamed into place when it changed.

``in_place(keys)`` says whether the target already holds ``keys`` (cheaply:
set sizes, the set's existence, the file's content), so a pass that pulled
nothing new still repairs a target someone flushed.
"""

import re
import shlex
import subprocess
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Protocol

import numpy as np

from sikker.core import syncproto
from sikker.core.format_firewall import ipset_sizes, nft_preamble
from sikker.errors import SyncApplyError
from sikker.sync_state import StateDir, write_atomic

TARGETS = ("ipset", "nftables", "nginx", "file")
NGINX_FORMATS = ("deny", "geo")
_ENTRIES = re.compile(r"^Number of entries: (\d+)$", re.M)


class Target(Protocol):
    """Something that holds the applied set."""

    #: What the target is, e.g. ``ipset sikker4/sikker6`` (also in the state).
    name: str

    def in_place(self, keys: np.ndarray) -> bool:
        """Return True when the target already holds ``keys``."""
        ...

    def apply(self, keys: np.ndarray) -> None:
        """Replace the target's list with ``keys``, atomically."""
        ...


def command(text: str) -> list[str]:
    """Return a command line option (``"ip netns exec X ipset"``) as argv."""
    argv = shlex.split(text)
    if not argv:
        raise SyncApplyError("an empty command was given")
    return argv


def run(argv: Sequence[str], stdin: bytes | None = None, check: bool = True) -> str:
    """Run a tool; return its stdout, or raise with its own message.

    Raises:
        SyncApplyError: the tool is missing, or exits non-zero when ``check``.
    """
    try:
        done = subprocess.run(
            list(argv), input=stdin, capture_output=True, timeout=600, check=False
        )
    except FileNotFoundError:
        raise SyncApplyError(
            f"{argv[0]} is not installed or not on PATH (Debian: apt-get install "
            f"{Path(argv[0]).name}); or name it with the --*-command option"
        ) from None
    except (OSError, subprocess.TimeoutExpired) as ex:
        raise SyncApplyError(f"{shlex.join(argv)} failed: {ex}") from None
    if check and done.returncode != 0:
        said = (done.stderr or done.stdout).decode("utf-8", "replace").strip()
        raise SyncApplyError(
            f"{shlex.join(argv)} exited {done.returncode}: {said[:2000]}"
        )
    return done.stdout.decode("utf-8", "replace") if done.returncode == 0 else ""


def _joined(parts: Iterable[bytes]) -> bytes:
    return b"".join(parts)


class IpsetTarget:
    """Two ``hash:ip`` sets, ``<name>4`` and ``<name>6``, swapped in whole."""

    def __init__(self, set_name: str, argv: Sequence[str], state: StateDir) -> None:
        self.set_name = set_name
        self.argv = list(argv)
        self.state = state
        self.name = f"ipset {set_name}4/{set_name}6"

    def _entries(self, name: str) -> int | None:
        out = run([*self.argv, "list", "-t", name], check=False)
        found = _ENTRIES.search(out)
        return int(found.group(1)) if found else None

    def in_place(self, keys: np.ndarray) -> bool:
        """Return True when both sets exist with the right number of entries."""
        v4, v6 = syncproto.families(keys)
        return self._entries(f"{self.set_name}4") == len(v4) and self._entries(
            f"{self.set_name}6"
        ) == len(v6)

    def script(self, keys: np.ndarray, existing: set[str]) -> Iterator[bytes]:
        """Yield the ``ipset restore`` input that builds and swaps the sets."""
        for version, part in zip((4, 6), syncproto.families(keys), strict=True):
            live, tmp = f"{self.set_name}{version}", f"{self.set_name}{version}-tmp"
            family = "inet" if version == 4 else "inet6"
            hashsize, maxelem = ipset_sizes(len(part))
            if tmp in existing:
                yield f"destroy {tmp}\n".encode()
            if live not in existing:
                yield f"create {live} hash:ip family {family}\n".encode()
            yield (
                f"create {tmp} hash:ip family {family} hashsize {hashsize} "
                f"maxelem {maxelem}\n"
            ).encode()
            yield from syncproto.render(part, f"add {tmp} ".encode())
            yield f"swap {tmp} {live}\ndestroy {tmp}\n".encode()

    def apply(self, keys: np.ndarray) -> None:
        """Load the new sets with one ``ipset restore`` and swap them in."""
        existing = set(run([*self.argv, "list", "-n"]).split())
        path = self.state.remember("apply.ipset", self.script(keys, existing))
        run([*self.argv, "restore", "-file", str(path)])


class NftTarget:
    """Table ``inet <table>`` with interval sets, refilled in one transaction."""

    def __init__(
        self, table: str, set_name: str, argv: Sequence[str], state: StateDir
    ) -> None:
        self.table = table
        self.set_name = set_name
        self.argv = list(argv)
        self.state = state
        self.name = f"nftables inet {table} {set_name}4/{set_name}6"

    def in_place(self, keys: np.ndarray) -> bool:
        """Return True when the table's two sets exist."""
        for version in (4, 6):
            listed = [
                *self.argv, "list", "set", "inet", self.table,
                f"{self.set_name}{version}",
            ]  # fmt: skip
            try:
                run(listed)
            except SyncApplyError:
                return False
        return True

    def script(self, keys: np.ndarray) -> Iterator[bytes]:
        """Yield the ``nft -f`` file (see ``format=nftables``)."""
        yield nft_preamble(self.table, self.set_name)
        for version, part in zip((4, 6), syncproto.families(keys), strict=True):
            opening = (
                f"add element inet {self.table} {self.set_name}{version} {{\n"
            ).encode()
            for chunk in syncproto.render(part, b"\t", b",\n"):
                yield opening + chunk + b"}\n"

    def apply(self, keys: np.ndarray) -> None:
        """Check the file with ``nft -c``, then load it as one transaction."""
        path = self.state.remember("apply.nft", self.script(keys))
        run([*self.argv, "-c", "-f", str(path)])
        run([*self.argv, "-f", str(path)])


class FileTarget:
    """A file of one address a line, replaced by an atomic rename."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.name = f"file {self.path}"

    def content(self, keys: np.ndarray) -> bytes:
        """Return what the file holds for ``keys``."""
        return _joined(syncproto.render(keys))

    def in_place(self, keys: np.ndarray) -> bool:
        """Return True when the file holds exactly ``keys``."""
        try:
            return self.path.read_bytes() == self.content(keys)
        except OSError:
            return False

    def apply(self, keys: np.ndarray) -> None:
        """Write the file next to its place and rename it there."""
        try:
            write_atomic(self.path, [self.content(keys)])
        except OSError as ex:
            raise SyncApplyError(f"cannot write {self.path}: {ex}") from None


class NginxTarget(FileTarget):
    """An nginx include (``deny`` lines or a ``geo`` map), reloaded on change."""

    def __init__(self, path: Path, style: str, argv: Sequence[str]) -> None:
        super().__init__(path)
        self.style = style
        self.argv = list(argv)
        self.name = f"nginx {self.path}"

    def content(self, keys: np.ndarray) -> bytes:
        """Return the include: a comment line, then ``deny`` or ``geo`` lines."""
        head = f"# sikker sync: {len(keys)} addresses\n".encode()
        if self.style == "geo":
            return head + _joined(syncproto.render(keys, b"", b" 1;\n"))
        return head + _joined(syncproto.render(keys, b"deny ", b";\n"))

    def apply(self, keys: np.ndarray) -> None:
        """Put the include in place; ``nginx -t``; reload, or restore the old one.

        Raises:
            SyncApplyError: nginx refused the configuration (the previous
                include is back in place) or could not reload.
        """
        try:
            previous: bytes | None = self.path.read_bytes()
        except FileNotFoundError:
            previous = None
        except OSError as ex:
            raise SyncApplyError(f"cannot read {self.path}: {ex}") from None
        super().apply(keys)
        try:
            run([*self.argv, "-t", "-q"])
        except SyncApplyError:
            if previous is None:
                self.path.unlink(missing_ok=True)
            else:
                write_atomic(self.path, [previous])
            raise
        run([*self.argv, "-s", "reload"])
