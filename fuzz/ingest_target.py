"""Harness: sensor event ingest, as NDJSON lines and as one JSON body.

The input is a request body. Every line goes through ``LineParser`` (format
detection, the generic schema, the Cowrie and OpenCanary adapters); the body
is also decoded as one JSON document, an event or an array of events, as
``POST /v1/sensor/events`` does. A malformed line or object may only be
reported (``InvalidEventError``, counted per line), never raise anything
else; a second run and either IP core twin give the same events and errors.
"""

from typing import Any

import orjson

from fuzz.outcome import agree
from fuzz.twins import implementations, using
from sikker.core.ingest import FORMATS, LineParser


def _lines(data: bytes, fmt: str, accept_private: bool) -> Any:
    parser = LineParser(fmt, sensor=None, accept_private=accept_private)
    events, errors = parser.parse_lines(data.split(b"\n"))
    return events, errors, parser.accepted, parser.rejected, dict(parser.skipped)


def _document(data: bytes) -> Any:
    try:
        doc = orjson.loads(data)
    except orjson.JSONDecodeError:
        return None
    parser = LineParser(sensor="fuzz")
    return parser.parse_objects(doc if isinstance(doc, list) else [doc])


def _ingested(data: bytes) -> list[Any]:
    accept_private = bool(data[:1]) and data[0] & 1 == 1
    return [
        *(_lines(data, fmt, accept_private) for fmt in FORMATS),
        _document(data),
    ]


def fuzz_ingest(data: bytes) -> None:
    """Ingest one body every way the server does; assert on any finding."""
    results = []
    for impl in implementations():
        with using(impl):
            results.append(("ok", _ingested(data)))
            results.append(("ok", _ingested(data)))  # deterministic
    agree("ingest", results)
