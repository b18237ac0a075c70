"""Ingest: Cowrie JSON lines through the adapter and the editorial engine.

A seeded, realistic Cowrie log (``benchmarks/cowrie_stream.py``: scans, brute
force, bot scripts with downloads, interleaved sessions) is timed on one core:

* the whole path, line by line: JSON parse + Cowrie adaptation
  (``sikker.core.ingest.LineParser``) + session matching (``events_per_s``,
  per Cowrie line; the target is 50,000);
* the adapter alone (``parse_events_per_s``, per Cowrie line);
* the engine alone on the adapted events (``engine_events_per_s``, per
  event), and without its value cache (``engine_uncached_events_per_s``);
* the baseline: the same engine with the naive reference matcher, which
  runs every primitive of a field on every value, on a sample of the events
  (``engine_vs_naive`` = naive time / uncached engine time, same events),
  and the shell-command matcher alone on the stream's distinct command lines
  (``command_match_us``, ``command_needles_vs_naive``).
* the event log's disk bytes per event (``eventlog_bytes_per_event``), for
  the adapted events of the stream appended in batches of 500.

Sessions are keyed by sensor and session id and dropped at ``close``, as the
builder does. Each figure is one pass over the stream; the runs must agree on
every behavior count or the suite fails. The generated lines and parsed
events are frozen out of the garbage collector (``gc.freeze``): they are the
fixture, and a builder holds one batch at a time, not a million events.
"""

import gc
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from benchmarks.cowrie_stream import generate
from benchmarks.suites import delta
from sikker.builder.catalog import Catalog, load_catalog
from sikker.builder.engine import Engine, SessionMatch
from sikker.builder.matchers import FieldMatcher, ReferenceMatcher
from sikker.core.eventlog import EventLog
from sikker.core.ingest import LineParser

#: Events the naive reference engine matches (it is slow).
NAIVE_SAMPLE = 40_000
#: Adapted events appended to a real event log for its size per event.
EVENT_LOG_SAMPLE = 100_000
TARGET_EVENTS_PER_S = 50_000


def match_all(engine: Engine, events: Iterable[dict[str, Any] | None]) -> Counter[str]:
    """Feed events to per-session matches; return how often each behavior hit."""
    names = [b.id for b in engine.catalog.behaviors]
    sessions: dict[tuple[str, str], SessionMatch] = {}
    hits: Counter[int] = Counter()
    for event in events:
        if event is None:  # a skipped Cowrie event
            continue
        key = (event["sensor"], event["session"])
        match = sessions.get(key)
        if match is None:
            match = sessions[key] = engine.session(event["protocol"])
        new_b = match.add(event)[1]
        if new_b:
            hits.update(new_b)
        if event["event"] == "close":
            del sessions[key]
    return Counter({names[b]: n for b, n in hits.items()})


def timed(run: Callable[[], Any]) -> tuple[float, Any]:
    """Return (seconds, result) of one run."""
    started = time.perf_counter()
    result = run()
    return time.perf_counter() - started, result


def _agree(what: str, expected: Counter[str], got: Counter[str]) -> None:
    if got != expected:
        keys = expected.keys() | got.keys()
        differ = sorted(k for k in keys if expected[k] != got[k])
        raise RuntimeError(f"{what} disagrees with the engine on {differ[:5]}")


def _engines(catalog: Catalog) -> tuple[Engine, Engine, Engine]:
    return (
        Engine(catalog),
        Engine(catalog, cache_size=0),
        Engine(catalog, cache_size=0, matcher=ReferenceMatcher),
    )


def _commands(
    catalog: Catalog, events: list[dict[str, Any]], say: Callable[[str], None]
) -> dict[str, float]:
    """Time the ssh command matcher alone on the stream's distinct commands."""
    lines = sorted({e["command"] for e in events if e["event"] == "command"})
    group = [(i, p) for i, p in enumerate(catalog.primitives) if p.field == "command"]
    group = [(i, p) for i, p in group if "ssh" in p.protocols]
    ours, naive = FieldMatcher(group, cache_size=0), ReferenceMatcher(group)
    ours_s, ours_hits = timed(lambda: [ours.match(line) for line in lines])
    naive_s, naive_hits = timed(lambda: [naive.match(line) for line in lines])
    if ours_hits != naive_hits:
        raise RuntimeError("the command matcher disagrees with the naive matcher")
    say(
        f"   commands    {len(lines):,} distinct, {len(group)} primitives: "
        f"{ours_s / len(lines) * 1e6:.1f} us each with needles, "
        f"{naive_s / len(lines) * 1e6:.1f} us naive ({naive_s / ours_s:.1f}x)"
    )
    return {
        "command_match_us": ours_s / len(lines) * 1e6,
        "command_needles_vs_naive": naive_s / ours_s,
    }


def _event_log(events: list[Any], say: Callable[[str], None]) -> dict[str, float]:
    """Return the disk bytes per event of an event log holding ``events``.

    They are appended as sensors post them, in batches of 500; the figure is
    the blocks ``data.mdb`` takes on disk (the lock file aside).
    """
    with tempfile.TemporaryDirectory() as tmp:
        log = EventLog(Path(tmp) / "events")
        try:
            for start in range(0, len(events), 500):
                log.append(events[start : start + 500])
        finally:
            log.close()
        used = (Path(tmp) / "events" / "data.mdb").stat().st_blocks * 512
    per_event = used / len(events)
    say(f"   event log   {per_event:,.0f} bytes on disk per event ({len(events):,})")
    return {"eventlog_bytes_per_event": per_event}


def run(quick: bool, say: Callable[[str], None]) -> dict[str, float]:
    """Time the ingest path; return the named figures."""
    count = 200_000 if quick else 1_000_000
    seconds, lines = timed(lambda: generate(count))
    gc.freeze()  # inputs are fixtures: keep the collector from rescanning them
    size = sum(map(len, lines))
    say(
        f"   {count:,} Cowrie lines ({size / 1e6:.0f} MB), generated in {seconds:.1f} s"
    )
    catalog = load_catalog()
    figures: dict[str, float] = {}

    parser = LineParser(fmt="cowrie")
    engine = Engine(catalog)
    whole_s, hits = timed(lambda: match_all(engine, map(parser.parse_line, lines)))
    figures["events_per_s"] = count / whole_s
    mark = "meets" if figures["events_per_s"] >= TARGET_EVENTS_PER_S else "MISSES"
    say(
        f"   whole path  JSON + Cowrie + engine  {figures['events_per_s']:>9,.0f} "
        f"lines/s ({mark} the {TARGET_EVENTS_PER_S:,} target)"
    )

    parse_s, (events, errors) = timed(
        lambda: LineParser(fmt="cowrie").parse_lines(lines)
    )
    if errors:
        raise RuntimeError(f"the Cowrie adapter rejected generated lines: {errors[:3]}")
    figures["parse_events_per_s"] = count / parse_s
    gc.freeze()
    say(f"   adapter     JSON + Cowrie           {count / parse_s:>9,.0f} lines/s")

    cached, uncached, naive = _engines(catalog)
    engine_s, engine_hits = timed(lambda: match_all(cached, events))
    _agree("the engine after the adapter", hits, engine_hits)
    figures["engine_events_per_s"] = len(events) / engine_s
    say(
        f"   engine      cached                  {len(events) / engine_s:>9,.0f} "
        f"events/s ({len(events):,} events)"
    )
    uncached_s, uncached_hits = timed(lambda: match_all(uncached, events))
    _agree("the uncached engine", hits, uncached_hits)
    figures["engine_uncached_events_per_s"] = len(events) / uncached_s
    say(
        f"   engine      no value cache          {len(events) / uncached_s:>9,.0f} "
        "events/s"
    )

    sample = events[:NAIVE_SAMPLE]
    naive_s, naive_hits = timed(lambda: match_all(naive, sample))
    ours_s, ours_hits = timed(lambda: match_all(uncached, sample))
    _agree("the naive reference matcher", naive_hits, ours_hits)
    figures["engine_vs_naive"] = naive_s / ours_s
    figures["naive_events_per_s"] = len(sample) / naive_s
    figures["engine_sample_events_per_s"] = len(sample) / ours_s
    say(
        f"   baseline    naive matcher           {len(sample) / naive_s:>9,.0f} "
        f"events/s: the compiled engine is {naive_s / ours_s:.1f}x faster (no caches)"
    )
    figures.update(_commands(catalog, events, say))
    figures.update(_event_log(events[:EVENT_LOG_SAMPLE], say))
    top = ", ".join(f"{name} {n:,}" for name, n in hits.most_common(5))
    say(f"   behaviors   {sum(hits.values()):,} session matches; top: {top}")
    gc.unfreeze()
    figures.update(delta.run(quick, say))  # incremental publish: delta_publish_s
    return figures
