"""Watch alerts, their matches and webhook deliveries, in one LMDB store.

``<data_dir>/alerts`` is written by the server (alert create/delete) and by
the builder (matches found after each published generation, delivery
results); LMDB serialises writers across processes. Tables:

* ``alerts``: alert id -> the alert JSON (owner, kind, value, counters);
* ``owners``: account + NUL + kind + NUL + alert id -> b"" (per-owner lists);
* ``matches``: match id (8 bytes, big-endian, increasing) -> the match JSON,
  which is also the webhook payload;
* ``by_account``: account + NUL + match id -> b"" (polling by account);
* ``seen``: alert id + NUL + subject -> the last match time (8 bytes), so
  one subject matches one alert at most once per ``alert_repeat_seconds``;
* ``deliveries``: match id -> pending webhook delivery state;
* ``meta``: ``version`` (bumped by every alert change) and ``next_match``.

Open it in the process that uses it, never before a fork.
"""

import hashlib
import hmac
import os
import secrets
import struct
import threading
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import lmdb
import orjson

from sikker.core import ipcore, lmdb_tx
from sikker.core.canonical import canonical_ip
from sikker.core.present import iso
from sikker.core.redact import strip_controls
from sikker.errors import (
    AlertExistsError,
    AlertLimitError,
    AlertStoreError,
    InvalidAddressError,
    InvalidAlertError,
    UnknownAlertError,
)

ALERTS_DIR = "alerts"
#: Alert kinds; each has its own endpoint (``/v1/key/{kind}-alerts``).
KINDS = ("ip", "range", "username", "email")
MAX_LABEL = 100
MAX_URL = 2048
MAX_NAME = 255
_TABLES = (b"alerts", b"owners", b"matches", b"by_account", b"seen", b"deliveries")
_META = b"meta"
_SEQ = struct.Struct(">Q")
_LOCAL_SUFFIXES = (".localhost", ".local", ".internal", ".localdomain", ".home.arpa")
MAP_SIZE = 1 << 30


@dataclass
class Alert:
    """One watch: an address, a network, a username or an email address."""

    id: str
    account: str
    kind: str
    value: str  # canonical: address text, network "a/p", lower-cased name
    label: str | None
    webhook_url: str | None
    secret: str | None
    enabled: bool
    created_at: int  # epoch seconds
    last_alerted_at: int = 0
    total_alerts: int = 0
    unique_matches: int = 0

    def public(self) -> dict[str, Any]:
        """Return the alert as SikkerAPI clients read it (no secret)."""
        out: dict[str, Any] = {"id": self.id, self.field: self.value}
        if self.kind == "range":
            network, prefix = self.value.split("/")
            out.update(networkAddress=network, prefixLength=int(prefix))
        out.update(
            label=self.label,
            enabled=self.enabled,
            emailNotifications=False,
            webhookUrl=self.webhook_url,
            lastAlertedAt=iso(self.last_alerted_at),
            totalAlerts=self.total_alerts,
            createdAt=iso(self.created_at),
        )
        if self.kind == "range":
            out["uniqueMatches"] = self.unique_matches
        else:
            out["matchCount"] = self.total_alerts
        return out

    @property
    def field(self) -> str:
        """Return the JSON field naming the watched value (``ip``, ``cidr``...)."""
        return "cidr" if self.kind == "range" else self.kind

    def signature(self, body: bytes) -> str | None:
        """Return the ``X-Sikker-Signature`` of a webhook body."""
        if not self.secret:
            return None
        digest = hmac.new(self.secret.encode(), body, hashlib.sha256).hexdigest()
        return f"sha256={digest}"


@dataclass(frozen=True)
class Hit:
    """A subject that matched an alert, with what to tell its owner."""

    alert_id: str
    subject: str  # the matching address or name (the repeat-window key)
    detail: dict[str, Any]


# -- validation -------------------------------------------------------------------


def parse_value(kind: str, value: Any, max_prefix: dict[int, int] | None = None) -> str:
    """Return the canonical watched value of an alert of ``kind``.

    ``max_prefix`` gives the widest range allowed per IP version (range
    alerts only): ``{4: 28, 6: 64}`` accepts a /28 but not a /27.

    Raises:
        InvalidAlertError: the value is missing, invalid or too wide.
    """
    field = "cidr" if kind == "range" else kind
    if not isinstance(value, str) or not value.strip():
        raise InvalidAlertError(field, "is required (a string)")
    text = value.strip()
    if kind == "ip":
        try:
            version, number = canonical_ip(text)
        except InvalidAddressError as ex:
            raise InvalidAlertError(field, f"{text[:64]!r}: {ex.reason}") from None
        _public(field, version, number)
        return ipcore.format_ip(version, number)
    if kind == "range":
        return _network(text, max_prefix or {})
    name = strip_controls(text).lower()
    if not name or len(name.encode("utf-8")) > MAX_NAME:
        raise InvalidAlertError(field, f"must be 1-{MAX_NAME} bytes")
    if kind == "email" and "@" not in name:
        raise InvalidAlertError(field, f"{text[:64]!r} is not an e-mail address")
    return name


def _network(text: str, max_prefix: dict[int, int]) -> str:
    try:
        version, network, prefix = ipcore.parse_cidr(text, strict=False)
    except InvalidAddressError as ex:
        raise InvalidAlertError("cidr", f"{text[:64]!r}: {ex.reason}") from None
    widest = max_prefix.get(version)
    if widest is not None and prefix < widest:
        raise InvalidAlertError(
            "cidr",
            f"/{prefix} is wider than your plan allows (at most /{widest} for "
            f"IPv{version}); split it or ask for a larger plan",
        )
    _public("cidr", version, network)
    return f"{ipcore.format_ip(version, network)}/{prefix}"


def _public(field: str, version: int, value: int) -> None:
    reason = ipcore.classify(version, value)
    if reason is not None:
        raise InvalidAlertError(
            field,
            f"{ipcore.format_ip(version, value)} is not a public address ({reason}); "
            "it is never listed",
        )


def parse_label(value: Any) -> str | None:
    """Return a label (None when absent), without control characters."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidAlertError("label", "must be a string")
    text = strip_controls(value).replace("\n", " ").strip()
    if len(text) > MAX_LABEL:
        raise InvalidAlertError("label", f"longer than {MAX_LABEL} characters")
    return text or None


def validate_webhook_url(url: Any, allow_private: bool = False) -> str | None:
    """Return a webhook URL fit to POST to, or None when absent.

    Only ``http`` and ``https`` with a host are accepted. Hosts that are
    literal non-public addresses, ``localhost`` or local-only names are
    refused unless ``allow_private`` (the setting ``webhook_allow_private``).
    """
    if url is None or url == "":
        return None
    if not isinstance(url, str):
        raise InvalidAlertError("webhookUrl", "must be a string")
    if len(url) > MAX_URL or not url.isprintable() or any(c.isspace() for c in url):
        raise InvalidAlertError(
            "webhookUrl", f"must be at most {MAX_URL} printable characters, no spaces"
        )
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as ex:
        raise InvalidAlertError("webhookUrl", f"is not a URL: {ex}") from None
    if parts.scheme.lower() not in ("http", "https"):
        raise InvalidAlertError("webhookUrl", "must be an http:// or https:// URL")
    host = (parts.hostname or "").lower()
    if not host:
        raise InvalidAlertError("webhookUrl", "has no host")
    if port == 0:
        raise InvalidAlertError("webhookUrl", "port 0 is not a port")
    if not allow_private:
        reason = private_host(host)
        if reason:
            raise InvalidAlertError(
                "webhookUrl",
                f"{host} is {reason}; webhooks go to public hosts only "
                "(setting webhook_allow_private)",
            )
    return url


def private_host(host: str) -> str | None:
    """Say why a host name or literal address is not public, or None."""
    try:
        version, value = canonical_ip(host.strip("[]"))
    except InvalidAddressError:
        if host == "localhost" or host.endswith(_LOCAL_SUFFIXES) or "." not in host:
            return "a local name"
        return None
    reason = ipcore.classify(version, value)
    return f"a {reason} address" if reason else None


# -- the store --------------------------------------------------------------------


class AlertStore:
    """The alert store of a data directory (multi-process, LMDB)."""

    def __init__(self, data_dir: Path, map_size: int = MAP_SIZE) -> None:
        path = Path(data_dir) / ALERTS_DIR
        try:
            path.mkdir(parents=True, exist_ok=True)
            self._env = lmdb.open(
                str(path),
                map_size=map_size,
                max_dbs=len(_TABLES) + 1,
                max_readers=1024,
            )
            self._dbs = {name: self._env.open_db(name) for name in (*_TABLES, _META)}
        except (OSError, lmdb.Error) as ex:
            raise AlertStoreError(
                f"cannot open the alert store at {path}: {ex}"
            ) from ex
        self._env.reader_check()
        self._pid = os.getpid()
        self._lock = threading.Lock()

    def close(self) -> None:
        """Close the environment (in the process that opened it)."""
        if os.getpid() == self._pid:
            self._env.close()

    def _write(self, work: Any) -> Any:
        """Run ``work(txn)`` in a write transaction, growing the map if full."""
        try:
            return lmdb_tx.write(self._env, self._lock, work)
        except lmdb.Error as ex:
            raise AlertStoreError(f"alert store write failed: {ex}") from ex

    def _read(self) -> Any:
        return lmdb_tx.begin_read(self._env)

    # -- alerts -------------------------------------------------------------------

    def create(
        self,
        account: str,
        kind: str,
        value: str,
        label: str | None,
        webhook_url: str | None,
        limit: int | None,
        now: int | None = None,
    ) -> Alert:
        """Add an alert; refuse a duplicate or one beyond ``limit`` per kind.

        Raises:
            AlertExistsError: the owner already watches ``value``.
            AlertLimitError: the owner has ``limit`` alerts of this kind.
        """
        alert = Alert(
            id=secrets.token_hex(8),
            account=account,
            kind=kind,
            value=value,
            label=label,
            webhook_url=webhook_url,
            secret=secrets.token_urlsafe(24) if webhook_url else None,
            enabled=True,
            created_at=int(time.time() if now is None else now),
        )
        field = alert.field

        def work(txn: Any) -> Alert:
            mine = list(self._owned(txn, account, kind))
            if any(a.value == value for a in mine):
                raise AlertExistsError(field, f"you already watch {value}")
            if limit is not None and len(mine) >= limit:
                raise AlertLimitError(
                    field,
                    f"your plan allows {limit} {kind} alert(s); delete one first",
                )
            txn.put(alert.id.encode(), _dump(alert), db=self._dbs[b"alerts"])
            txn.put(
                _owner_key(account, kind) + alert.id.encode(),
                b"",
                db=self._dbs[b"owners"],
            )
            self._bump(txn)
            return alert

        return self._write(work)

    def alerts(self, account: str, kind: str) -> list[Alert]:
        """Return an account's alerts of one kind, oldest first."""
        with self._read() as txn:
            return sorted(self._owned(txn, account, kind), key=lambda a: a.created_at)

    def get(self, account: str, alert_id: str) -> Alert:
        """Return one of the account's alerts.

        Raises:
            UnknownAlertError: no such alert, or it belongs to someone else.
        """
        with self._read() as txn:
            alert = _load(txn.get(alert_id.encode(), db=self._dbs[b"alerts"]))
        if alert is None or alert.account != account:
            raise UnknownAlertError(f"no alert {alert_id!r}")
        return alert

    def delete(self, account: str, kind: str, alert_id: str) -> Alert:
        """Delete one of the account's alerts of ``kind`` (its matches stay).

        Raises:
            UnknownAlertError: no such alert of that kind for this account.
        """

        def work(txn: Any) -> Alert:
            key = alert_id.encode()
            alert = _load(txn.get(key, db=self._dbs[b"alerts"]))
            if alert is None or alert.account != account or alert.kind != kind:
                raise UnknownAlertError(f"no {kind} alert {alert_id!r}")
            txn.delete(key, db=self._dbs[b"alerts"])
            txn.delete(_owner_key(account, kind) + key, db=self._dbs[b"owners"])
            self._bump(txn)
            return alert

        return self._write(work)

    def counts(self, account: str) -> dict[str, int]:
        """Return how many alerts of each kind an account has."""
        with self._read() as txn:
            return {
                kind: sum(1 for _ in self._owned(txn, account, kind)) for kind in KINDS
            }

    def version(self) -> int:
        """Return a number that changes whenever an alert is added or deleted."""
        with self._read() as txn:
            value = txn.get(b"version", db=self._dbs[_META])
        return _SEQ.unpack(value)[0] if value else 0

    def enabled(self) -> list[Alert]:
        """Return every enabled alert."""
        with self._read() as txn:
            return [
                alert
                for _, value in txn.cursor(db=self._dbs[b"alerts"])
                if (alert := _load(value)) is not None and alert.enabled
            ]

    def _owned(self, txn: Any, account: str, kind: str) -> Iterator[Alert]:
        prefix = _owner_key(account, kind)
        cursor = txn.cursor(db=self._dbs[b"owners"])
        if not cursor.set_range(prefix):
            return
        for key, _ in cursor:
            if not key.startswith(prefix):
                return
            alert = _load(txn.get(key[len(prefix) :], db=self._dbs[b"alerts"]))
            if alert is not None:
                yield alert

    def _bump(self, txn: Any) -> None:
        value = txn.get(b"version", db=self._dbs[_META])
        version = _SEQ.unpack(value)[0] + 1 if value else 1
        txn.put(b"version", _SEQ.pack(version), db=self._dbs[_META])

    # -- matches ------------------------------------------------------------------

    def record(self, hits: list[Hit], now: int, repeat: int) -> list[int]:
        """Store matches, skipping repeats within ``repeat`` seconds.

        Updates each alert's counters and queues a webhook delivery for
        alerts that have one. Returns the new match ids.
        """
        if not hits:
            return []

        def work(txn: Any) -> list[int]:
            dbs = self._dbs
            raw = txn.get(b"next_match", db=dbs[_META])
            next_id = _SEQ.unpack(raw)[0] if raw else 1
            alerts: dict[str, Alert | None] = {}
            created = []
            for hit in hits:
                if hit.alert_id not in alerts:
                    alerts[hit.alert_id] = _load(
                        txn.get(hit.alert_id.encode(), db=dbs[b"alerts"])
                    )
                alert = alerts[hit.alert_id]
                if alert is None or not alert.enabled:
                    continue
                seen_key = f"{hit.alert_id}\0{hit.subject}".encode()
                last = txn.get(seen_key, db=dbs[b"seen"])
                if last is not None and now - _SEQ.unpack(last)[0] < repeat:
                    continue
                if last is None:
                    alert.unique_matches += 1
                txn.put(seen_key, _SEQ.pack(now), db=dbs[b"seen"])
                match = {
                    "id": next_id,
                    "alertId": alert.id,
                    "type": alert.kind,
                    alert.field: alert.value,
                    "label": alert.label,
                    "matchedAt": iso(now),
                    **hit.detail,
                }
                key = _SEQ.pack(next_id)
                txn.put(key, orjson.dumps(match), db=dbs[b"matches"])
                txn.put(_owner_key(alert.account) + key, b"", db=dbs[b"by_account"])
                if alert.webhook_url:
                    pending = {"alertId": alert.id, "attempts": 0, "nextAt": now}
                    txn.put(key, orjson.dumps(pending), db=dbs[b"deliveries"])
                alert.total_alerts += 1
                alert.last_alerted_at = now
                created.append(next_id)
                next_id += 1
            for alert in alerts.values():
                if alert is not None:
                    txn.put(alert.id.encode(), _dump(alert), db=dbs[b"alerts"])
            txn.put(b"next_match", _SEQ.pack(next_id), db=dbs[_META])
            return created

        return list(self._write(work))

    def matches(self, account: str, since: int, limit: int) -> list[dict[str, Any]]:
        """Return an account's matches with an id above ``since``, oldest first."""
        prefix = _owner_key(account)
        out: list[dict[str, Any]] = []
        with self._read() as txn:
            cursor = txn.cursor(db=self._dbs[b"by_account"])
            matches = self._dbs[b"matches"]
            if not cursor.set_range(prefix + _SEQ.pack(since + 1)):
                return out
            for key, _ in cursor:
                if not key.startswith(prefix) or len(out) >= limit:
                    break
                value = txn.get(key[len(prefix) :], db=matches)
                if value is not None:
                    out.append(orjson.loads(value))
        return out

    # -- webhook deliveries -------------------------------------------------------

    def claim(self, now: float, lease: float, limit: int) -> list[dict[str, Any]]:
        """Claim due deliveries for ``lease`` seconds; return what to send.

        Each item holds ``id`` (the match id), ``attempts`` (before this one),
        ``url``, ``body`` and ``signature``. A claimed item is not handed to
        another deliverer until its lease ends, so several may run at once.
        """

        def work(txn: Any) -> list[dict[str, Any]]:
            dbs = self._dbs
            out: list[dict[str, Any]] = []
            cursor = txn.cursor(db=dbs[b"deliveries"])
            for key, value in list(cursor):
                if len(out) >= limit:
                    break
                state = orjson.loads(value)
                if state["nextAt"] > now:
                    continue
                alert = _load(txn.get(state["alertId"].encode(), db=dbs[b"alerts"]))
                body = txn.get(key, db=dbs[b"matches"])
                if alert is None or not alert.webhook_url or body is None:
                    txn.delete(key, db=dbs[b"deliveries"])  # the alert is gone
                    continue
                state["nextAt"] = now + lease
                txn.put(key, orjson.dumps(state), db=dbs[b"deliveries"])
                out.append(
                    {
                        "id": _SEQ.unpack(key)[0],
                        "attempts": state["attempts"],
                        "url": alert.webhook_url,
                        "body": bytes(body),
                        "signature": alert.signature(bytes(body)),
                    }
                )
            return out

        return list(self._write(work))

    def delivered(
        self, match_id: int, ok: bool, error: str | None, retry_at: float | None
    ) -> None:
        """Record an attempt: done (``ok``), retry at ``retry_at``, or give up."""

        def work(txn: Any) -> None:
            dbs = self._dbs
            key = _SEQ.pack(match_id)
            raw = txn.get(key, db=dbs[b"deliveries"])
            if raw is None:
                return
            state = orjson.loads(raw)
            state["attempts"] += 1
            state["lastError"] = error
            if not ok and retry_at is not None:
                state["nextAt"] = retry_at
                txn.put(key, orjson.dumps(state), db=dbs[b"deliveries"])
                return
            txn.delete(key, db=dbs[b"deliveries"])
            match = txn.get(key, db=dbs[b"matches"])
            if match is not None:
                updated = orjson.loads(match)
                updated["delivery"] = {
                    "status": "delivered" if ok else "failed",
                    "attempts": state["attempts"],
                    "error": error,
                }
                txn.put(key, orjson.dumps(updated), db=dbs[b"matches"])

        self._write(work)

    def pending_deliveries(self) -> int:
        """Return how many deliveries wait (or are being retried)."""
        with self._read() as txn:
            return int(txn.stat(self._dbs[b"deliveries"])["entries"])


def _owner_key(account: str, kind: str | None = None) -> bytes:
    key = account.encode("utf-8").replace(b"\0", b"") + b"\0"
    return key + kind.encode() + b"\0" if kind else key


def _dump(alert: Alert) -> bytes:
    return orjson.dumps(asdict(alert))


def _load(value: bytes | None) -> Alert | None:
    return Alert(**orjson.loads(value)) if value else None
