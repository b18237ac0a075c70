"""``POST /v1/sensor/events``: honeypot sensors post events, durably.

A sensor authenticates with ``Authorization: Bearer <sensor token>`` (see
``sikker sensor add``). The body is one JSON event, a JSON array of events
(``application/json``), or one line per event (``application/x-ndjson``);
each item may be a generic event, a Cowrie line or an OpenCanary line.
Every accepted event is committed to the event log before the response, and
is recorded under the token's sensor name whatever the event says.
"""

import threading
from collections import OrderedDict
from typing import Any

import falcon
import orjson

from sikker.core.config import Config
from sikker.core.eventlog import EventLog
from sikker.core.handles import shared
from sikker.core.ingest import LineError, LineParser
from sikker.core.layout import EVENTS_DIR
from sikker.core.sensors import SensorRegistry
from sikker.server.errors import error_body

JSON_TYPES = frozenset({"application/json"})
NDJSON_TYPES = frozenset(
    {"application/x-ndjson", "application/ndjson", "application/jsonl"}
)
#: Per-line errors listed in a response (``rejected`` counts them all).
MAX_ERRORS = 100
#: Sensors whose session state (Cowrie joins) a worker keeps.
MAX_PARSERS = 256
_CHALLENGE = 'Bearer realm="sikker sensors"'


class SensorEventsResource:
    """Accept sensor events and append them to the event log."""

    max_body_setting = "sensor_max_body_bytes"

    def __init__(self, config: Config) -> None:
        self.config = config
        self.registry = SensorRegistry(config.data_path)
        self._lock = threading.Lock()
        self._parsers: OrderedDict[str, tuple[LineParser, threading.Lock]] = (
            OrderedDict()
        )

    def event_log(self) -> EventLog:
        """Return the worker's one handle on the event log (opened lazily)."""
        return shared(EventLog, self.config.data_path / EVENTS_DIR)

    def _parser(self, sensor: str) -> tuple[LineParser, threading.Lock]:
        with self._lock:
            entry = self._parsers.get(sensor)
            if entry is None:
                parser = LineParser(
                    sensor=sensor, accept_private=self.config.accept_private_sources
                )
                entry = self._parsers[sensor] = (parser, threading.Lock())
                if len(self._parsers) > MAX_PARSERS:
                    self._parsers.popitem(last=False)
            else:
                self._parsers.move_to_end(sensor)
            return entry

    def _authenticate(self, req: falcon.Request) -> str:
        header = req.get_header("Authorization") or ""
        scheme, _, token = header.strip().partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise falcon.HTTPUnauthorized(
                title="unauthorized",
                description="send the sensor token as 'Authorization: Bearer "
                "<token>' (create one with `sikker sensor add NAME`)",
                challenges=[_CHALLENGE],
            )
        sensor = self.registry.authenticate(token.strip())
        if sensor is None:
            raise falcon.HTTPUnauthorized(
                title="unauthorized",
                description="unknown or revoked sensor token",
                challenges=[_CHALLENGE],
            )
        return sensor

    def _media(self, req: falcon.Request) -> str:
        media = (req.content_type or "").split(";")[0].strip().lower()
        if media in JSON_TYPES:
            return "json"
        if media in NDJSON_TYPES:
            return "ndjson"
        raise falcon.HTTPUnsupportedMediaType(
            title="unsupported media type",
            description=f"Content-Type {media or '(none)'!r} is not accepted; send "
            "application/json (an event or an array) or application/x-ndjson",
        )

    @property
    def max_body_bytes(self) -> int:
        """Return this resource's body cap (``BodyLimit`` enforces it)."""
        return int(self.config.sensor_max_body_bytes)

    def _body(self, req: falcon.Request) -> bytes:
        """Return the body, already capped and buffered by ``BodyLimit``."""
        return req.bounded_stream.read()

    def _parse(
        self, parser: LineParser, kind: str, body: bytes
    ) -> tuple[list[dict[str, Any]], list[LineError], int]:
        """Return (events, errors, items) of the body."""
        if kind == "ndjson":
            lines = body.split(b"\n")
            items = sum(1 for line in lines if line.strip())
            events, errors = parser.parse_lines(lines)
            return events, errors, items
        try:
            doc = orjson.loads(body)
        except orjson.JSONDecodeError as ex:
            return [], [(1, f"body: invalid JSON: {ex}")], 1
        objects = doc if isinstance(doc, list) else [doc]
        events, errors = parser.parse_objects(objects)
        return events, errors, len(objects)

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        """Validate, append durably, then answer what was accepted."""
        sensor = self._authenticate(req)
        kind = self._media(req)
        body = self._body(req)
        parser, lock = self._parser(sensor)
        with lock:
            events, errors, items = self._parse(parser, kind, body)
        result: dict[str, Any] = {
            "accepted": len(events),
            "rejected": len(errors),
            "skipped": items - len(events) - len(errors),
            "errors": [{"line": n, "error": e} for n, e in errors[:MAX_ERRORS]],
            "firstSequence": None,
            "lastSequence": None,
        }
        if not events and (errors or not items):
            message = (
                f"nothing usable: line {errors[0][0]}: {errors[0][1]}"
                if errors
                else "the body holds no events"
            )
            code = "no_valid_events" if errors else "empty_body"
            resp.status = 400
            resp.content_type = falcon.MEDIA_JSON
            resp.data = error_body(400, code, message, **result)
            return
        if events:
            first, last = self.event_log().append(events)
            result["firstSequence"], result["lastSequence"] = first, last
        resp.data = orjson.dumps(result)
        resp.content_type = falcon.MEDIA_JSON
