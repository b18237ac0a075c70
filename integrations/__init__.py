"""Scripts and configuration files for the tools sikker works with.

They ship as package data and the server serves them at
``/integrations/{tool}/{name}`` (see docs/integrations.md). :data:`FILES`
is the whole list: nothing else under this folder is ever served.
"""

from dataclasses import dataclass
from hashlib import sha256
from importlib import resources


@dataclass(frozen=True)
class IntegrationFile:
    """One downloadable file: where it is served and what it is for."""

    path: str  # "<tool>/<name>", also its place under this package
    description: str
    data: bytes

    @property
    def sha256(self) -> str:
        """Return the hex SHA-256 of the file."""
        return sha256(self.data).hexdigest()


#: Every file served, by ``<tool>/<name>``, with what it does.
FILES: dict[str, str] = {
    "fail2ban/sikker.conf": "fail2ban action (action.d/sikker.conf): report "
    "every ban with sikker-report; parameters key, category, protocol, url.",
    "report/sikker-report": "Report an address (POST /v1/key/report): run by "
    "the fail2ban action, and by CSF as its BLOCK_REPORT script. Python 3.",
    "update/sikker-update": "Fetch the blacklist and load it atomically into "
    "ipset, nftables, nginx or Suricata (POSIX sh + curl), from cron.",
    "suricata/sikker.rules": "Suricata rules alerting on sources in sikker's "
    "IP reputation categories (iprep).",
    "nginx/sikker-proxy.conf": "nginx site in front of sikker: buffers slow "
    "clients (slowloris, slow bodies) so gunicorn's workers never wait on one; "
    "nginx's own 413 and 5xx in sikker's JSON error shape.",
    "nginx/sikker-cluster.conf": "nginx site in front of a cluster (a primary "
    "and read replicas): one upstream of every node, a dead node "
    "skipped (proxy_next_upstream); the buffering of sikker-proxy.conf.",
    "systemd/sikker.service": "systemd unit of sikker serve (the primary, or "
    "a single node): graceful stop and reload, restarted on failure.",
    "systemd/sikker-builder.service": "systemd unit of sikker build --follow, "
    "beside the primary's server (one per data directory).",
    "systemd/sikker-replica.service": "systemd unit of a read replica, sikker "
    "serve --replica-of (its token in /etc/sikker/replica.env).",
}


def load() -> dict[str, IntegrationFile]:
    """Read every file of :data:`FILES` from the package."""
    root = resources.files(__name__)
    found = {}
    for path, description in FILES.items():
        tool, name = path.split("/")
        data = root.joinpath(tool, name).read_bytes()
        found[path] = IntegrationFile(path, description, data)
    return found
