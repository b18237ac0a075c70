"""HTTP Basic logins (email and password) with failed attempts rate-limited.

Password hashes are slow on purpose (scrypt), so a client address may fail
at most ``login_max_failures`` logins per ``login_window`` seconds; past
that it gets a 429 with ``Retry-After`` without any hash being computed.
Registrations from one address count against the same budget. The counts
are shared by every worker (a small :class:`~sikker.core.quota.QuotaTable`
whose period is the window).
"""

import base64
import binascii
import hashlib

import falcon

from sikker.core.accounts import Account
from sikker.core.config import Config
from sikker.errors import AccountDisabledError, LoginError, TooManyAttemptsError
from sikker.server.accounts import AccountService
from sikker.server.auth import retry_after
from sikker.server.client import client_address, parse_proxies

_UNLIMITED = 1 << 32


def client_of(req: falcon.Request, trusted: frozenset[str] = frozenset()) -> str:
    """Return the label that rate-limits the client (a hash of its address).

    The address is the one seen through the ``trusted`` proxies, so that
    behind nginx one client's failures do not lock every client out.
    """
    address = client_address(req, trusted).encode()
    return hashlib.blake2b(address, digest_size=12).hexdigest()


class LoginGuard:
    """Verify Basic credentials; count failures per client address."""

    def __init__(self, service: AccountService, config: Config) -> None:
        self.service = service
        self.max_failures = int(config.login_max_failures)
        self.trusted = parse_proxies(str(config.trusted_proxies))

    def _check(self, family: str, client: str, what: str) -> None:
        table = self.service.logins()
        now = self.service.clock()
        if table.used(client, family, now) >= self.max_failures:
            wait = retry_after(table.reset_epoch(now), now)
            raise TooManyAttemptsError(
                f"too many {what} from your address; try again in {wait} s", wait
            )

    def _count(self, family: str, client: str) -> None:
        now = self.service.clock()
        self.service.logins().count(client, family, 1, _UNLIMITED, False, now)

    def account(self, req: falcon.Request) -> Account:
        """Return the account of the request's Basic credentials, or raise.

        Raises:
            LoginError: missing or wrong credentials (401).
            AccountDisabledError: the account is disabled (403).
            TooManyAttemptsError: this address failed too often (429).
        """
        email, password = _basic(req)
        return self.login(req, email, password)

    def login(self, req: falcon.Request, email: str, password: str) -> Account:
        """Return the account of ``email`` and ``password`` (a web sign-in
        form, say), or raise as :meth:`account` does; failures count alike."""
        client = client_of(req, self.trusted)
        self._check("login", client, "failed logins")
        account = self.service.store().login(email, password)
        if account is None:
            self._count("login", client)
            raise LoginError("wrong email or password")
        if account.disabled:
            raise AccountDisabledError("this account is disabled")
        return account

    def registering(self, req: falcon.Request) -> None:
        """Count one registration from the client, or raise a 429."""
        client = client_of(req, self.trusted)
        self._check("register", client, "registrations")
        self._count("register", client)


def _basic(req: falcon.Request) -> tuple[str, str]:
    header = req.get_header("Authorization") or ""
    scheme, _, value = header.strip().partition(" ")
    if scheme.lower() != "basic" or not value.strip():
        raise LoginError(
            "send your email and password with HTTP Basic authentication "
            "(curl -u EMAIL:PASSWORD)"
        )
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise LoginError("malformed Basic credentials") from None
    email, sep, password = decoded.partition(":")
    if not sep:
        raise LoginError("malformed Basic credentials: expected email:password")
    return email, password
