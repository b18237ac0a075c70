"""Notices of newly published snapshots, over Redis pub/sub.

When ``redis_url`` is set, the builder publishes one message on the
channel ``<redis_prefix>snapshots`` (``sikker:snapshots``) each time
CURRENT names a new generation, after the rename is durable::

    {"sequence": 42, "published": 1767225600.125}

``sequence`` is the new generation's sequence number and ``published``
the builder's epoch seconds when it was sent; subscribers ignore keys they
do not know. A notice is a hint, never the truth: Redis pub/sub delivers
at most once and only to connected subscribers, so a replica still polls
its primary now and then and checks it whenever its subscription is
(re)established (``on_connect``).

Use::

    notices = SnapshotNotices(settings)
    notices.publish(42)                          # the builder
    sub = notices.subscribe(lambda n: wake())    # a replica's sync loop
    ...
    sub.stop()
"""

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson
import redis

from sikker.core.redis_client import RedisSettings, client, connect

log = logging.getLogger("sikker.notices")

#: The channel's name after ``redis_prefix``.
CHANNEL = "snapshots"
#: Seconds a subscriber waits before reconnecting: doubles up to the cap.
RECONNECT_FIRST, RECONNECT_CAP = 0.05, 1.0
#: Seconds a subscriber's read may block before it checks whether to stop.
_WAIT = 0.25
#: Seconds of silence after which a subscriber pings Redis (and gives up).
_PING_EVERY = 5.0


@dataclass(frozen=True)
class Notice:
    """One published snapshot."""

    sequence: int
    published: float


def parse(data: bytes | str) -> Notice | None:
    """Return the notice in a message body, or None if it is not one."""
    try:
        doc = orjson.loads(data)
        sequence, published = doc["sequence"], doc.get("published", 0.0)
    except (orjson.JSONDecodeError, TypeError, KeyError, AttributeError):
        return None
    if type(sequence) is not int or sequence < 1:
        return None
    if not isinstance(published, int | float) or isinstance(published, bool):
        return None
    return Notice(sequence, float(published))


def announcer(config: Any) -> Callable[[int], int] | None:
    """Return what announces a new sequence under ``config``, or None
    when ``redis_url`` is empty (the builder's ``announce`` argument)."""
    settings = RedisSettings.from_config(config)
    return SnapshotNotices(settings).publish if settings is not None else None


class SnapshotNotices:
    """Publish and subscribe to snapshot notices of one Redis."""

    def __init__(
        self, settings: RedisSettings, clock: Callable[[], float] = time.time
    ) -> None:
        self.settings = settings
        self.channel = f"{settings.prefix}{CHANNEL}"
        self.clock = clock

    def publish(self, sequence: int) -> int:
        """Announce ``sequence``; return how many subscribers got it.

        Never raises for Redis: a failure is logged and returns -1 (a
        build must not fail because Redis is down; replicas still poll).
        """
        body = orjson.dumps({"sequence": int(sequence), "published": self.clock()})
        try:
            return int(client(self.settings).publish(self.channel, body))
        except redis.RedisError as ex:
            log.warning(
                "cannot announce snapshot %d on Redis (%s): %s; replicas will "
                "find it when they next poll",
                sequence,
                self.channel,
                ex,
            )
            return -1

    def subscribe(
        self,
        callback: Callable[[Notice], None],
        on_connect: Callable[[], None] | None = None,
    ) -> "Subscription":
        """Call ``callback`` for every notice, from a daemon thread.

        ``on_connect`` runs each time the subscription is established (the
        first time and after every reconnection): notices sent while it was
        down are lost, so check for a new snapshot then. Returns the
        started :class:`Subscription`.
        """
        subscription = Subscription(self, callback, on_connect)
        subscription.start()
        return subscription


class Subscription:
    """A daemon thread receiving notices, reconnecting until stopped."""

    def __init__(
        self,
        notices: SnapshotNotices,
        callback: Callable[[Notice], None],
        on_connect: Callable[[], None] | None,
    ) -> None:
        self.notices = notices
        self.callback = callback
        self.on_connect = on_connect
        #: Set while subscribed (tests and health checks read it).
        self.connected = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._run, name="sikker-notices", daemon=True
        )

    def start(self) -> None:
        """Start the thread."""
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the thread and wait for it (at most ``timeout`` seconds)."""
        self._stop.set()
        self._thread.join(timeout)

    def _run(self) -> None:
        pause, failing = RECONNECT_FIRST, False
        while not self._stop.is_set():
            conn = connect(self.notices.settings, read_timeout=_WAIT + _PING_EVERY)
            pubsub = conn.pubsub()
            try:
                pubsub.subscribe(self.notices.channel)
                self._listen(pubsub)
            except redis.RedisError as ex:
                if self.connected.is_set():  # it was up: a new outage
                    pause, failing = RECONNECT_FIRST, False
                    self.connected.clear()
                if not failing:
                    log.warning(
                        "snapshot notices: Redis unreachable (%s); reconnecting", ex
                    )
                    failing = True
            finally:
                pubsub.close()
                conn.close()
            if self._stop.wait(pause):
                break
            pause = min(pause * 2, RECONNECT_CAP)
        self.connected.clear()

    def _listen(self, pubsub: redis.client.PubSub) -> None:
        """Deliver messages until stopped; raise RedisError when cut off.

        A quiet connection is pinged every few seconds, and one that does not
        answer counts as cut (a silent network failure never closes it).
        """
        quiet = 0.0
        pinged: float | None = None
        while not self._stop.is_set():
            message = pubsub.get_message(timeout=_WAIT)
            if message is None:
                quiet += _WAIT
                if pinged is not None and quiet - pinged >= _PING_EVERY:
                    raise redis.ConnectionError("Redis did not answer a PING")
                if pinged is None and quiet >= _PING_EVERY:
                    pubsub.ping()
                    pinged = quiet
                continue
            quiet, pinged = 0.0, None
            kind = message.get("type")
            if kind == "subscribe":
                self.connected.set()
                log.info("snapshot notices: subscribed to %s", self.notices.channel)
                self._safely(self.on_connect)
            elif kind == "message":
                notice = parse(message["data"])
                if notice is None:
                    log.debug("snapshot notices: ignored %r", message["data"][:200])
                else:
                    self._safely(self.callback, notice)

    @staticmethod
    def _safely(function: Callable[..., None] | None, *args: object) -> None:
        if function is None:
            return
        try:
            function(*args)
        except Exception:  # a subscriber's bug must not end the subscription
            log.exception("snapshot notices: the callback failed")
