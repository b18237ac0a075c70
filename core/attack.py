"""MITRE ATT&CK techniques: names and tactics, from ``data/attack.tsv``.

The catalog names techniques by id (``T1110.001``); STIX content needs each
technique's name, its ATT&CK page and its tactics (the ``mitre-attack`` kill
chain phases). The table ships with sikker (ATT&CK Enterprise v18.1), so
nothing is fetched at run time.
"""

from functools import cache
from importlib import resources
from typing import NamedTuple

KILL_CHAIN = "mitre-attack"
SOURCE = "mitre-attack"


class Technique(NamedTuple):
    """One ATT&CK technique or sub-technique."""

    id: str
    name: str
    tactics: tuple[str, ...]  # phase names, e.g. ("credential-access",)

    @property
    def url(self) -> str:
        """Return the technique's page on attack.mitre.org."""
        return "https://attack.mitre.org/techniques/" + self.id.replace(".", "/")


@cache
def techniques() -> dict[str, Technique]:
    """Return every shipped technique by id."""
    text = resources.files("sikker.core").joinpath("data/attack.tsv").read_text()
    out = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            tid, name, tactics = line.split("\t")
            out[tid] = Technique(tid, name, tuple(tactics.split(",")))
    return out


def technique(tid: str) -> Technique | None:
    """Return the technique ``tid`` (e.g. ``T1110``), or None when unknown."""
    return techniques().get(tid.strip().upper())
