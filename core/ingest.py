"""Lines of sensor logs to normalised events: format detection and batches.

One line is one JSON object: a generic event (``event``), a Cowrie event
(``eventid`` = ``cowrie.*``) or an OpenCanary event (``logtype`` and
``logdata``). :class:`LineParser` detects the format of each line (or is told
it), keeps the adapters' session state across batches, and reports every
malformed line with its number instead of failing the batch.
"""

from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

import orjson

from sikker.core.cowrie import CowrieAdapter
from sikker.core.events import normalize
from sikker.core.opencanary import OpenCanaryAdapter
from sikker.errors import InvalidEventError

FORMATS = ("auto", "generic", "cowrie", "opencanary")
#: Longest line parsed (bytes); longer lines are rejected unread.
MAX_LINE_BYTES = 1024 * 1024

LineError = tuple[int, str]


def detect_format(obj: Any) -> str | None:
    """Return ``generic``, ``cowrie`` or ``opencanary`` for a decoded line."""
    if not isinstance(obj, Mapping):
        return None
    eventid = obj.get("eventid")
    if isinstance(eventid, str) and eventid.startswith("cowrie."):
        return "cowrie"
    if "logtype" in obj and "logdata" in obj:
        return "opencanary"
    if "event" in obj:
        return "generic"
    return None


class LineParser:
    """Parses lines and objects of any supported format into events.

    Counts what it did: ``accepted`` events, ``rejected`` lines and
    ``skipped`` (events with nothing to score, by source event id).
    """

    def __init__(
        self,
        fmt: str = "auto",
        sensor: str | None = None,
        accept_private: bool = False,
    ) -> None:
        if fmt not in FORMATS:
            raise ValueError(f"unknown format {fmt!r}; expected one of {FORMATS}")
        self.fmt = fmt
        self.sensor = sensor
        self.accept_private = accept_private
        self.cowrie = CowrieAdapter(accept_private, sensor)
        self.opencanary = OpenCanaryAdapter(accept_private, sensor)
        self.accepted = 0
        self.rejected = 0

    @property
    def skipped(self) -> Counter[str]:
        """Return the skipped source events by id (Cowrie eventid, logtype)."""
        return self.cowrie.skipped + self.opencanary.skipped

    def parse_object(self, obj: Any) -> dict[str, Any] | None:
        """Return the normalised event of one decoded object (None if skipped).

        Raises:
            InvalidEventError: The object is not a usable event.
        """
        fmt = self.fmt if self.fmt != "auto" else detect_format(obj)
        if not isinstance(obj, Mapping):
            raise InvalidEventError(
                "event", f"must be a JSON object, got {type(obj).__name__}"
            )
        if fmt == "cowrie":
            return self.cowrie.feed(obj)
        if fmt == "opencanary":
            return self.opencanary.feed(obj)
        if fmt == "generic":
            return normalize(obj, self.accept_private, self.sensor)
        raise InvalidEventError(
            "event",
            "unrecognised line: expected a generic event ('event'), a Cowrie "
            "event ('eventid') or an OpenCanary event ('logtype')",
        )

    def parse_line(self, line: str | bytes) -> dict[str, Any] | None:
        """Return the event of one JSON line (None if blank or skipped).

        Raises:
            InvalidEventError: The line is not JSON or not a usable event.
        """
        if len(line) > MAX_LINE_BYTES:
            raise InvalidEventError("line", f"longer than {MAX_LINE_BYTES} bytes")
        if isinstance(line, str):
            line = line.lstrip("\ufeff")
        elif line.startswith(b"\xef\xbb\xbf"):
            line = line[3:]
        if not line.strip():
            return None
        try:
            obj = orjson.loads(line)
        except orjson.JSONDecodeError as ex:
            raise InvalidEventError("line", f"invalid JSON: {ex}") from None
        return self.parse_object(obj)

    def _count(
        self,
        number: int,
        item: Any,
        parse: Any,
        events: list[dict[str, Any]],
        errors: list[LineError],
    ) -> None:
        try:
            event = parse(item)
        except InvalidEventError as ex:
            self.rejected += 1
            errors.append((number, str(ex)))
            return
        if event is not None:
            self.accepted += 1
            events.append(event)

    def parse_lines(
        self, lines: Iterable[str | bytes], start: int = 1
    ) -> tuple[list[dict[str, Any]], list[LineError]]:
        """Parse lines numbered from ``start``; return (events, errors)."""
        events: list[dict[str, Any]] = []
        errors: list[LineError] = []
        for number, line in enumerate(lines, start):
            self._count(number, line, self.parse_line, events, errors)
        return events, errors

    def parse_objects(
        self, objects: Iterable[Any], start: int = 1
    ) -> tuple[list[dict[str, Any]], list[LineError]]:
        """Parse decoded objects numbered from ``start``; return (events, errors)."""
        events: list[dict[str, Any]] = []
        errors: list[LineError] = []
        for number, obj in enumerate(objects, start):
            self._count(number, obj, self.parse_object, events, errors)
        return events, errors


def parse_lines(
    lines: Iterable[str | bytes],
    fmt: str = "auto",
    sensor: str | None = None,
    accept_private: bool = False,
) -> tuple[list[dict[str, Any]], list[LineError]]:
    """Parse log lines into (events, errors); errors are (line number, message).

    A malformed line never stops the batch: it is reported, the rest is kept.
    """
    return LineParser(fmt, sensor, accept_private).parse_lines(lines)
