"""What a read replica copies besides generations: accounts, sign-ins, reports.

:class:`Copies` opens the replica's account store, web session store and
report index when first needed, and brings each up to the primary's when
the state's tag for it moved (the account directory, the sessions) or the
primary's event log grew past the cursor (reports). It remembers the tags
and cursor in the replica status, so a restarted loop does not copy again.
"""

from pathlib import Path
from typing import Any

from sikker.core.accounts import ACCOUNTS_DIR, AccountStore
from sikker.core.handles import shared
from sikker.core.plans import load_plans
from sikker.core.replica_status import ReplicaStatus
from sikker.core.report_index import REPORTS_DIR, ReportIndex
from sikker.errors import ReplicaProtocolError
from sikker.replica_accounts import mirror
from sikker.replica_feeds import index_reports, mirror_sessions
from sikker.replica_http import PrimaryClient
from sikker.server.web.sessions import WEB_DIR, SessionStore

ACCOUNTS_PATH = "/v1/replica/accounts"
SESSIONS_PATH = "/v1/replica/sessions"
REPORTS_PATH = "/v1/replica/reports"
#: Report answers (of up to 10,000 log entries each) taken in one pass.
REPORT_PAGES = 20


class Copies:
    """The replica's copies of its primary's accounts, sessions and reports."""

    def __init__(self, data_dir: Path, client: PrimaryClient, plans_path: str) -> None:
        self.data_dir = Path(data_dir)
        self.client = client
        self.plans_path = plans_path
        self.accounts_tag: str | None = None
        self.sessions_tag: str | None = None
        self.reports_after = 0
        self._accounts: AccountStore | None = None

    def resume(self, before: ReplicaStatus) -> None:
        """Take the tags and cursor a previous loop saved, where the copy is."""
        if (self.data_dir / ACCOUNTS_DIR).is_dir():
            self.accounts_tag = before.accounts_tag
        if (self.data_dir / WEB_DIR).is_dir():
            self.sessions_tag = before.sessions_tag
        if (self.data_dir / REPORTS_DIR).is_dir():
            self.reports_after = before.reports_after

    def save(self, status: ReplicaStatus) -> None:
        """Record the tags and cursor in ``status``."""
        status.accounts_tag = self.accounts_tag
        status.sessions_tag = self.sessions_tag
        status.reports_after = self.reports_after

    def close(self) -> None:
        """Close the account store (the other stores are the process's own)."""
        if self._accounts is not None:
            self._accounts.close()
            self._accounts = None

    def accounts(self) -> AccountStore:
        """Return the replica's account store (opened on first use)."""
        if self._accounts is None:
            plans = load_plans(self.plans_path or None)
            self._accounts = AccountStore(self.data_dir, plans)
        return self._accounts

    def sessions(self) -> SessionStore:
        """Return this process's web session store of the replica."""
        return shared(SessionStore, self.data_dir)

    def reports(self) -> ReportIndex:
        """Return this process's report index of the replica."""
        return shared(ReportIndex, self.data_dir)

    def update(self, accounts: str, sessions: str, events: int) -> list[str]:
        """Bring every copy up to the state's tags; return what changed.

        Raises:
            SikkerError: the primary refused or answered malformed documents.
        """
        changed = []
        if accounts != self.accounts_tag:
            doc = self._document(ACCOUNTS_PATH)
            mirror(self.data_dir, self.accounts(), doc)
            self.accounts_tag = accounts
            changed.append("accounts")
        if sessions != self.sessions_tag:
            mirror_sessions(self.sessions(), self._document(SESSIONS_PATH))
            self.sessions_tag = sessions
            changed.append("sessions")
        if events != self.reports_after and self._reports(events):
            changed.append("reports")
        return changed

    def _reports(self, events: int) -> int:
        """Index the reports logged after the cursor; return how many."""
        if events < self.reports_after:  # a new event log: start it over
            self.reports_after = 0
        indexed = 0
        for _ in range(REPORT_PAGES):
            params = {"after": str(self.reports_after)}
            doc = self._document(REPORTS_PATH, params)
            cursor = index_reports(self.reports(), doc, self.reports_after)
            indexed += len(doc["reports"])
            done = cursor == self.reports_after or cursor >= events
            self.reports_after = cursor
            if done:
                break
        return indexed

    def _document(
        self, path: str, params: dict[str, str] | None = None
    ) -> dict[str, Any]:
        doc, _ = self.client.document(path, params=params)
        if doc is None:  # a 304 though no tag was sent: a broken primary
            raise ReplicaProtocolError(f"{path} answered 304")
        return doc
