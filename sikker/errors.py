"""Typed errors raised by sikker.

Every error is a :class:`SikkerError` and also subclasses the builtin that
describes it, so callers may catch either. The compiled twins in
``sikker.ext`` import these same classes.
"""


class SikkerError(Exception):
    """Base class of every error sikker raises on purpose."""


class InvalidAddressError(SikkerError, ValueError):
    """Text is not a valid IPv4/IPv6 address or CIDR network."""

    def __init__(self, text: object, reason: str = "not a valid IP address") -> None:
        self.text = text
        self.reason = reason
        super().__init__(f"{text!r}: {reason}")


class InvalidFilterError(SikkerError, ValueError):
    """A blacklist or query filter has a bad value."""

    def __init__(self, name: str, message: str) -> None:
        self.name = name
        super().__init__(f"{name}: {message}")


class ConfigError(SikkerError, ValueError):
    """A configuration file or environment override is invalid."""


class SnapshotError(SikkerError, RuntimeError):
    """A snapshot cannot be opened or used."""


class NoSnapshotError(SnapshotError, FileNotFoundError):
    """The data directory has no published snapshot yet."""


class SnapshotCorruptError(SnapshotError):
    """A snapshot file does not match its manifest or cannot be decoded."""


class BuildError(SikkerError, RuntimeError):
    """A snapshot build failed; the previously published snapshot is intact."""


class ExtensionMissingError(SikkerError, ImportError):
    """The compiled extension is required but not importable."""


class CatalogError(SikkerError, ValueError):
    """The editorial catalog (primitives and behaviors) is invalid."""


class BenignSourceError(SikkerError, ValueError):
    """A known-benign source file (builder/data/benign) is invalid."""


class GeoDatabaseError(SikkerError, ValueError):
    """A GeoIP/ASN database file is missing, unreadable or not an MMDB file."""


class InvalidEventError(SikkerError, ValueError):
    """A sensor event does not follow the event schema (docs/events.md)."""

    def __init__(self, field: str, reason: str) -> None:
        self.field = field
        self.reason = reason
        super().__init__(f"{field}: {reason}")


class EventLogError(SikkerError, RuntimeError):
    """The durable event log cannot be opened or written."""


class SensorError(SikkerError, ValueError):
    """A sensor name or the sensor registry is invalid."""


class UnknownSensorError(SensorError, LookupError):
    """No sensor of that name is registered."""


class InvalidReportError(SikkerError, ValueError):
    """A community report (or one row of a bulk report) is not acceptable."""

    def __init__(self, field: str, reason: str) -> None:
        self.field = field
        self.reason = reason
        super().__init__(f"{field}: {reason}")


class InvalidAlertError(SikkerError, ValueError):
    """An alert definition (address, range, username, webhook URL) is invalid."""

    def __init__(self, field: str, reason: str) -> None:
        self.field = field
        self.reason = reason
        super().__init__(f"{field}: {reason}")


class AlertLimitError(InvalidAlertError):
    """The caller's plan allows no more alerts of that kind (HTTP 403)."""


class AlertExistsError(InvalidAlertError):
    """The caller already watches that address, range or name (HTTP 409)."""


class AlertStoreError(SikkerError, RuntimeError):
    """The alert store cannot be opened or written."""


class UnknownAlertError(SikkerError, LookupError):
    """No alert with that id belongs to the caller."""


class InvalidRemovalRequestError(SikkerError, ValueError):
    """A removal (delisting) request has a missing or bad field."""

    def __init__(self, field: str, reason: str) -> None:
        self.field = field
        self.reason = reason
        super().__init__(f"{field}: {reason}")


class RemovalStoreError(SikkerError, RuntimeError):
    """The removal-request store cannot be opened or written."""


class UnknownRemovalRequestError(SikkerError, LookupError):
    """No removal request has that id."""


class RateLimitedError(SikkerError, RuntimeError):
    """A client sent more requests than allowed; retry after ``retry_after`` s."""

    def __init__(self, message: str, retry_after: int) -> None:
        self.retry_after = retry_after
        super().__init__(message)


class AccountError(SikkerError, ValueError):
    """An account, API key or plan request is invalid (bad email, weak password)."""


class AccountExistsError(AccountError):
    """An account with that email address already exists."""


class UnknownAccountError(AccountError, LookupError):
    """No account, API key or plan of that name exists."""


class PlanError(ConfigError):
    """The plans file (setting plans_path) is invalid."""


class AuthError(SikkerError, PermissionError):
    """A request's credentials are missing or unknown (HTTP 401)."""

    status = 401
    code = "unauthorized"
    #: Bearer for API clients; Basic (the key as the password) for TAXII
    #: clients that only send credentials when challenged.
    challenge = 'Bearer realm="sikker", Basic realm="sikker", charset="UTF-8"'


class LoginError(AuthError):
    """An account login (HTTP Basic, email and password) failed (HTTP 401)."""

    challenge = 'Basic realm="sikker account", charset="UTF-8"'


class KeyRevokedError(AuthError):
    """The API key was revoked (HTTP 401: the credentials are no longer valid)."""

    code = "key_revoked"


class AccountDisabledError(AuthError):
    """The account holding the credentials is disabled (HTTP 403)."""

    status = 403
    code = "account_disabled"


class QuotaExceededError(SikkerError, RuntimeError):
    """A daily quota of one endpoint family is used up (HTTP 429)."""

    def __init__(
        self, message: str, family: str, limit: int, used: int, reset_epoch: int
    ) -> None:
        self.family = family
        self.limit = limit
        self.used = used
        self.reset_epoch = reset_epoch
        super().__init__(message)


class TooManyAttemptsError(RateLimitedError):
    """Too many failed logins or registrations from one client (HTTP 429)."""


class QuotaTableError(SikkerError, RuntimeError):
    """The shared quota table cannot be opened or has no free slot."""


class SharedStateUnavailableError(QuotaTableError, ConnectionError):
    """Redis is unreachable and ``redis_failure`` is ``closed`` (HTTP 503).

    ``retry_after`` is the number of seconds before the node tries Redis again.
    """

    def __init__(self, message: str, retry_after: int) -> None:
        self.retry_after = retry_after
        super().__init__(message)


class ClientError(SikkerError, RuntimeError):
    """A client command did not get its answer from a sikker server.

    ``exit_status`` is the ``sikker`` command's exit status (docs/cli.md).
    """

    exit_status = 6


class ServerUnreachableError(ClientError, ConnectionError):
    """The server cannot be reached: refused, unknown host, TLS, timeout."""

    exit_status = 3


class ServerRefusedError(ClientError):
    """The server answered an HTTP error; the message is the server's own."""

    def __init__(self, http_status: int, message: str, code: str | None = None) -> None:
        self.http_status = http_status
        self.code = code
        super().__init__(message)

    @property
    def exit_status(self) -> int:  # type: ignore[override]
        """Return 4 for a refused key, 5 for a quota, 6 for a server fault, else 2."""
        if self.http_status in (401, 403):
            return 4
        if self.http_status == 429:
            return 5
        return 6 if self.http_status >= 500 else 2


class BadAnswerError(ClientError):
    """The server's answer is not what the API promises (not JSON, ...)."""


class InputFileError(SikkerError, OSError):
    """A file (or stdin) a command reads cannot be read."""


class SyncError(SikkerError, RuntimeError):
    """The sync agent could not bring its target up to date."""


class SyncProtocolError(SyncError, ValueError):
    """A sync answer is not in the documented form (a bad line, cut short)."""


class SyncDigestError(SyncError):
    """A set's SHA-256 differs from the one the server announced."""


class SyncStateError(SyncError, OSError):
    """The agent's state directory cannot be used (locked, unwritable)."""


class SyncApplyError(SyncError):
    """The target (ipset, nft, nginx, a file) refused the new set."""


class InvalidFormError(SikkerError, ValueError):
    """A web form is malformed or a field of it is missing or bad (HTTP 400)."""

    def __init__(self, field: str, reason: str) -> None:
        self.field = field
        self.reason = reason
        super().__init__(f"{field}: {reason}")


class CsrfError(SikkerError, PermissionError):
    """A web form did not carry this browser's CSRF token (HTTP 403)."""


class SignInRequiredError(AuthError):
    """A web page is for signed-in users and the browser is not (HTTP 401)."""

    code = "sign_in_required"
    challenge = 'Cookie realm="sikker", cookie-name="sikker_session"'


class AdminOnlyError(AuthError):
    """A web page is for the server's administrators (HTTP 403)."""

    status = 403
    code = "admin_only"


class ReplicaTokenError(SikkerError, ValueError):
    """A replica token cannot be added or the replica registry is unreadable."""


class UnknownReplicaError(ReplicaTokenError, LookupError):
    """No replica of that name is registered."""


class ReplicaError(SyncError):
    """A read replica could not bring its snapshot in step with its primary."""


class ReplicaProtocolError(ReplicaError, ValueError):
    """The primary's answer is not in the documented form (docs/replication.md)."""


class ReplicaDigestError(ReplicaError):
    """A file pulled from the primary differs from its manifest (size, SHA-256)."""


class StorageError(SikkerError, OSError):
    """The data directory cannot be written; nothing was stored."""


class StorageFullError(StorageError):
    """The disk holding the data directory is full (HTTP 507)."""


class StorageReadOnlyError(StorageError):
    """The data directory is on a read-only file system or not writable
    by this user (HTTP 503)."""
