"""Small, readable snapshots for tests, built through the real builder."""

import base64
from pathlib import Path
from typing import Any

import pytest

from sikker.builder.importer import table_from_records
from sikker.builder.publish import publish
from sikker.cli import main
from sikker.core.accounts import AccountStore
from sikker.core.manifest import Manifest
from sikker.core.passwords import ScryptParams
from sikker.core.records import RecordTable

CATALOG: dict[str, list[dict[str, Any]]] = {
    "behaviors": [
        {
            "id": "ssh-authorized-keys-persistence",
            "name": "SSH authorized_keys persistence",
            "severity": "critical",
            "protocols": ["ssh"],
            "mitre": ["T1098.004"],
            "description": "Writes an attacker key to ~/.ssh/authorized_keys.",
        },
        {
            "id": "host-fingerprinting",
            "name": "Host fingerprinting",
            "severity": "medium",
            "protocols": ["ssh", "telnet"],
            "mitre": ["T1082"],
            "description": "Collects CPU, kernel and user information.",
        },
        {
            "id": "redis-config-set-abuse",
            "name": "Redis CONFIG SET dir/dbfilename abuse",
            "severity": "high",
            "protocols": ["redis"],
            "mitre": ["T1190"],
            "description": "Rewrites the Redis dump location to plant files.",
        },
        {
            "id": "sip-register-scan",
            "name": "SIP REGISTER scanning",
            "severity": "low",
            "protocols": ["sip"],
            "mitre": ["T1595"],
            "description": "Probes extensions with REGISTER requests.",
        },
    ],
    "primitives": [
        {"id": "chattr-immutable-removal", "description": "chattr -ia on .ssh"},
        {
            "id": "authorized-keys-write",
            "description": "echo ssh-rsa >> authorized_keys",
        },
        {"id": "uname-a", "description": "uname -a"},
    ],
}

BENIGN = [{"name": "Googlebot", "discount": 0.1}, {"name": "Censys", "discount": 0.2}]

RECORDS: list[dict[str, Any]] = [
    {
        "ip": "203.0.113.10",
        "score": 97,
        "country": "CN",
        "asn": 4134,
        "asnOrg": "CHINANET",
        "firstSeen": "2026-10-01T00:00:00Z",
        "lastSeen": "2026-11-20T10:00:00Z",
        "sessions": 120,
        "events": 2400,
        "protocols": {
            "ssh": {"sessions": 100, "events": 2000},
            "telnet": {"sessions": 20, "events": 400},
        },
        "behaviors": {"ssh-authorized-keys-persistence": 3, "host-fingerprinting": 7},
        "primitives": {"chattr-immutable-removal": 3, "authorized-keys-write": 3},
        "reports": {
            "total": 4,
            "reporters": 3,
            "lastReported": "2026-11-21T00:00:00Z",
            "categories": {"brute_force": 3, "malware": 1},
        },
    },
    {
        "ip": "198.51.100.20",
        "score": 91,
        "country": "RU",
        "asn": 12389,
        "asnOrg": "Rostelecom",
        "lastSeen": "2026-11-19T00:00:00Z",
        "sessions": 30,
        "protocols": {"redis": {"sessions": 30, "events": 90}},
        "behaviors": {"redis-config-set-abuse": 2},
    },
    {
        "ip": "2001:db8::7",
        "score": 91,
        "country": "NL",
        "asn": 14061,
        "asnOrg": "DigitalOcean",
        "lastSeen": "2026-11-22T00:00:00Z",
        "sessions": 12,
        "protocols": {"ssh": {"sessions": 12, "events": 50}},
        "behaviors": {"host-fingerprinting": 1},
    },
    {
        "ip": "192.0.2.44",
        "score": 60,
        "country": "US",
        "asn": 16509,
        "asnOrg": "Amazon",
        "lastSeen": "2026-11-01T00:00:00Z",
        "sessions": 3,
        "protocols": {"sip": {"sessions": 3, "events": 9}},
        "behaviors": {"sip-register-scan": 3},
    },
    {
        "ip": "192.0.2.45",
        "score": 9,
        "rawScore": 88,
        "benignSource": "Googlebot",
        "country": "US",
        "asn": 15169,
        "asnOrg": "Google",
        "lastSeen": "2026-11-02T00:00:00Z",
        "sessions": 40,
        "protocols": {"http": {"sessions": 40, "events": 40}},
    },
    {
        "ip": "203.0.113.11",
        "score": 40,
        "country": "CN",
        "asn": 4134,
        "asnOrg": "CHINANET",
        "lastSeen": "2026-11-05T00:00:00Z",
        "sessions": 2,
        "protocols": {"telnet": {"sessions": 2, "events": 8}},
    },
]


def run_cli(
    capsys: pytest.CaptureFixture[str], data: Path, *args: str
) -> tuple[int, str, str]:
    """Run ``sikker --data-dir DATA ARGS`` in-process; return (code, out, err)."""
    code = main(["--data-dir", str(data), *args])
    out, err = capsys.readouterr()
    return code, out, err


def table(records: list[dict[str, Any]] | None = None) -> RecordTable:
    """Return ``records`` (default: RECORDS) as a RecordTable."""
    return table_from_records(RECORDS if records is None else records, CATALOG, BENIGN)


def build(data_dir: Path, records: list[dict[str, Any]] | None = None) -> Manifest:
    """Publish ``records`` (default: RECORDS) as the next snapshot of data_dir."""
    return publish(table(records), data_dir)


#: A cheap scrypt cost for accounts made by tests (never use it in production).
FAST_KDF = ScryptParams(log_n=4, r=8, p=1)
PASSWORD = "correct horse battery staple"


def api_key(
    data_dir: Path,
    email: str = "tester@example.com",
    plan: str = "business",
    store: AccountStore | None = None,
) -> str:
    """Create ``email``'s account (if new) and an API key in data_dir; return the key.

    Opens (and closes) its own account store unless ``store`` is given: pass
    the app's one (``app.keyed.service.store()``) once the app has opened it,
    as LMDB must not be opened twice in one process.
    """
    own = store is None
    accounts = store or AccountStore(data_dir, kdf=FAST_KDF)
    try:
        try:
            account = accounts.user(email)
        except LookupError:
            account = accounts.add_user(email, PASSWORD, plan)
        return accounts.create_key(account.id)[1]
    finally:
        if own:
            accounts.close()


def bearer(key: str) -> dict[str, str]:
    """Return the header that authenticates with ``key``."""
    return {"Authorization": f"Bearer {key}"}


def basic(email: str, password: str) -> dict[str, str]:
    """Return the HTTP Basic header of an account login."""
    token = base64.b64encode(f"{email}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}
