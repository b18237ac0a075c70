"""Sensor tokens: which honeypot sensors may post events, and as whom.

The registry is ``<data_dir>/sensors.json`` (mode 0600), replaced atomically
under an flock. It stores each sensor's name, creation time, the first
characters of its token (to recognise it in a list) and the SHA-256 of the
token, never the token itself. Tokens look like ``sks_`` + 43 URL-safe
characters (256 random bits); :meth:`SensorRegistry.authenticate` compares
digests in constant time.
"""

import fcntl
import hashlib
import hmac
import os
import re
import secrets
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import orjson

from sikker.errors import SensorError, UnknownSensorError

TOKEN_PREFIX = "sks_"
REGISTRY_FILE = "sensors.json"
LOCK_FILE = "sensors.lock"
#: Characters of a token kept in the registry to tell tokens apart.
_HINT_RANDOM = 6
HINT_CHARS = len(TOKEN_PREFIX) + _HINT_RANDOM
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
_MAX_TOKEN = 128


@dataclass(frozen=True)
class Sensor:
    """One registered sensor."""

    name: str
    created: int
    hint: str
    sha256: str

    def public(self) -> dict[str, Any]:
        """Return what may be shown: everything but the digest."""
        return {"name": self.name, "created": self.created, "token": self.hint + "..."}


def check_name(name: str, kind: str = "sensor", error: type = SensorError) -> str:
    """Return ``name`` if it is a valid ``kind`` name, else raise ``error``."""
    if not _NAME.fullmatch(name):
        raise error(
            f"invalid {kind} name {name[:80]!r}: use 1-64 letters, digits, '.', '_'"
            " or '-', starting with a letter or digit"
        )
    return name


def new_token(prefix: str = TOKEN_PREFIX) -> str:
    """Return a fresh random sensor token."""
    return prefix + secrets.token_urlsafe(32)


def _digest(token: str) -> bytes:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).digest()


class SensorRegistry:
    """The sensors of one data directory.

    Subclasses keep other token holders the same way (the class attributes
    name the file, the token prefix and the errors; see
    :mod:`sikker.core.replica_tokens`).
    """

    FILE = REGISTRY_FILE
    LOCK = LOCK_FILE
    PREFIX = TOKEN_PREFIX
    KIND = "sensor"
    ERROR: type[Exception] = SensorError
    UNKNOWN: type[Exception] = UnknownSensorError

    def __init__(self, data_dir: str | Path) -> None:
        self.data_dir = Path(data_dir)
        self.path = self.data_dir / self.FILE
        self._cache: tuple[Any, list[Sensor]] | None = None

    # -- file ------------------------------------------------------------------------

    def _stamp(self) -> Any:
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            return None
        return (st.st_ino, st.st_mtime_ns, st.st_size)

    def _load(self) -> list[Sensor]:
        try:
            data = orjson.loads(self.path.read_bytes())
            return [Sensor(**item) for item in data["sensors"]]
        except FileNotFoundError:
            return []
        except (OSError, ValueError, TypeError, KeyError) as ex:
            raise self.ERROR(f"{self.path} is unreadable or corrupt: {ex}") from None

    def _save(self, sensors: list[Sensor]) -> None:
        body = orjson.dumps(
            {"sensors": [asdict(s) for s in sensors]}, option=orjson.OPT_INDENT_2
        )
        tmp = self.path.with_name(f".{self.FILE}.{os.getpid()}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            os.write(fd, body)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, self.path)
        dir_fd = os.open(self.data_dir, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)

    def _locked(self) -> int:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.data_dir / self.LOCK, os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(fd, fcntl.LOCK_EX)
        return fd

    # -- commands ----------------------------------------------------------------------

    def sensors(self) -> list[Sensor]:
        """Return the registered sensors, by name (re-read when the file changes)."""
        stamp = self._stamp()
        if self._cache is None or self._cache[0] != stamp:
            self._cache = (stamp, sorted(self._load(), key=lambda s: s.name))
        return self._cache[1]

    def add(self, name: str) -> tuple[Sensor, str]:
        """Register a sensor; return it and its token (shown only this once)."""
        check_name(name, self.KIND, self.ERROR)
        fd = self._locked()
        try:
            sensors = self._load()
            if any(s.name == name for s in sensors):
                raise self.ERROR(
                    f"{self.KIND} {name!r} already exists; remove it first to issue "
                    "a new token"
                )
            token = new_token(self.PREFIX)
            hint = token[: len(self.PREFIX) + _HINT_RANDOM]
            sensor = Sensor(name, int(time.time()), hint, _digest(token).hex())
            self._save([*sensors, sensor])
        finally:
            os.close(fd)
        return sensor, token

    def remove(self, name: str) -> Sensor:
        """Unregister a sensor; its token stops working at once."""
        fd = self._locked()
        try:
            sensors = self._load()
            gone = next((s for s in sensors if s.name == name), None)
            if gone is None:
                raise self.UNKNOWN(f"no {self.KIND} named {name!r}")
            self._save([s for s in sensors if s.name != name])
        finally:
            os.close(fd)
        return gone

    def authenticate(self, token: str) -> str | None:
        """Return the name of the sensor holding ``token``, or None."""
        if not token.startswith(self.PREFIX) or len(token) > _MAX_TOKEN:
            return None
        digest = _digest(token)
        found = None
        for sensor in self.sensors():
            if hmac.compare_digest(digest, bytes.fromhex(sensor.sha256)):
                found = sensor.name
        return found
