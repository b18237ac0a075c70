"""Snapshot notices over Redis pub/sub: delivered, survived restarts, announced."""

import logging
import queue
from collections.abc import Iterator
from pathlib import Path

import pytest

from benchmarks.redis_server import RedisServer
from sikker.builder.publish import Publisher
from sikker.core.config import load_config
from sikker.core.layout import current_path
from sikker.core.notices import Notice, SnapshotNotices, Subscription, announcer, parse
from tests.factories import build, run_cli, table
from tests.redis_support import TIMEOUT, own_redis, redis_srv, settings_of, shared_redis

__all__ = ["own_redis", "redis_srv", "shared_redis"]  # fixtures

#: Generous: a notice normally arrives within milliseconds.
WAIT = 10


class Inbox:
    """What one subscription received: notices, and each (re)connection."""

    def __init__(self) -> None:
        self.notices: queue.Queue[Notice] = queue.Queue()
        self.connects: queue.Queue[None] = queue.Queue()

    def notice(self, notice: Notice) -> None:
        self.notices.put(notice)

    def connected(self) -> None:
        self.connects.put(None)

    def next(self) -> Notice:
        return self.notices.get(timeout=WAIT)


def listen(server: RedisServer, inbox: Inbox) -> Subscription:
    """Subscribe ``inbox`` to ``server``'s notices; return once subscribed."""
    subscription = SnapshotNotices(settings_of(server)).subscribe(
        inbox.notice, inbox.connected
    )
    inbox.connects.get(timeout=WAIT)
    return subscription


@pytest.fixture
def inbox() -> Inbox:
    return Inbox()


@pytest.fixture
def subscribed(redis_srv: RedisServer, inbox: Inbox) -> Iterator[Subscription]:
    subscription = listen(redis_srv, inbox)
    yield subscription
    subscription.stop()


def test_a_published_sequence_reaches_every_subscriber(
    redis_srv: RedisServer, inbox: Inbox, subscribed: Subscription
) -> None:
    other = Inbox()
    second = listen(redis_srv, other)
    try:
        notices = SnapshotNotices(settings_of(redis_srv), clock=lambda: 1234.5)
        assert notices.publish(42) == 2
        assert inbox.next() == Notice(42, 1234.5)
        assert other.next() == Notice(42, 1234.5)
    finally:
        second.stop()
    assert not second.connected.is_set()


def test_the_message_is_small_json_on_the_prefixed_channel(
    redis_srv: RedisServer,
) -> None:
    settings = settings_of(redis_srv, prefix="east:")
    with redis_srv.client() as conn, conn.pubsub() as pubsub:
        pubsub.subscribe("east:snapshots")
        assert pubsub.get_message(timeout=WAIT)["type"] == "subscribe"
        SnapshotNotices(settings, clock=lambda: 7.25).publish(3)
        message = pubsub.get_message(timeout=WAIT)
    assert message["data"] == b'{"sequence":3,"published":7.25}'


@pytest.mark.parametrize(
    "body",
    [b"", b"[]", b"{}", b'{"sequence": "3"}', b'{"sequence": 0}', b'{"sequence": true}',
     b'{"sequence": 3, "published": "soon"}', b"\xff\xfe", b"null"],
)  # fmt: skip
def test_anything_but_a_notice_is_ignored(body: bytes) -> None:
    assert parse(body) is None


def test_unknown_keys_are_ignored_and_published_is_optional() -> None:
    assert parse(b'{"sequence": 9, "base": 4, "extra": [1]}') == Notice(9, 0.0)


def test_garbage_and_a_failing_callback_do_not_end_the_subscription(
    redis_srv: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    seen: list[int] = []
    inbox = Inbox()

    def fragile(notice: Notice) -> None:
        seen.append(notice.sequence)
        if notice.sequence == 1:
            raise RuntimeError("a bug in the subscriber")
        inbox.notice(notice)

    subscription = SnapshotNotices(settings_of(redis_srv)).subscribe(
        fragile, inbox.connected
    )
    try:
        inbox.connects.get(timeout=WAIT)
        with redis_srv.client() as conn:
            conn.publish("sikker:snapshots", b"not json")
        notices = SnapshotNotices(settings_of(redis_srv))
        notices.publish(1)
        notices.publish(2)
        assert inbox.next().sequence == 2
    finally:
        subscription.stop()
    assert seen == [1, 2]
    assert "the callback failed" in caplog.text


def test_a_redis_restart_mid_subscription_reconnects_and_says_so(
    own_redis: RedisServer, inbox: Inbox, caplog: pytest.LogCaptureFixture
) -> None:
    subscription = listen(own_redis, inbox)
    try:
        with caplog.at_level(logging.WARNING, "sikker.notices"):
            own_redis.stop()
            notices = SnapshotNotices(settings_of(own_redis))
            assert notices.publish(5) == -1  # down: logged, never raised
            own_redis.start()
            inbox.connects.get(timeout=WAIT)  # on_connect again: check now
            assert subscription.connected.is_set()
            assert notices.publish(6) == 1
            assert inbox.next().sequence == 6
        assert inbox.notices.empty()  # 5 was lost: notices are hints
        messages = [r.getMessage() for r in caplog.records]
        assert sum("unreachable" in m for m in messages) == 1
        assert sum("cannot announce snapshot 5" in m for m in messages) == 1
    finally:
        subscription.stop()


def test_the_builder_announces_each_sequence_once_current_names_it(
    redis_srv: RedisServer, inbox: Inbox, subscribed: Subscription, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    build(data)
    seen_current: list[str] = []
    notices = SnapshotNotices(settings_of(redis_srv))

    def announce(sequence: int) -> int:
        seen_current.append(current_path(data).name)
        return notices.publish(sequence)

    with Publisher(data, announce=announce) as publisher:
        first = publisher.publish(table()).sequence
        second = publisher.publish(table()).sequence
    assert [inbox.next().sequence, inbox.next().sequence] == [first, second]
    assert seen_current == [f"{first:010d}", f"{second:010d}"]


def test_sikker_build_announces_on_the_configured_redis(
    redis_srv: RedisServer,
    inbox: Inbox,
    subscribed: Subscription,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SIKKER_REDIS_URL", redis_srv.url)
    monkeypatch.setenv("SIKKER_REDIS_TIMEOUT", str(TIMEOUT))
    code, _, _ = run_cli(capsys, tmp_path / "data", "build", "--ips", "500", "--json")
    assert code == 0
    assert inbox.next().sequence == 1


def test_a_build_succeeds_when_redis_is_down(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setenv("SIKKER_REDIS_URL", "redis://127.0.0.1:1/0")  # nobody there
    code, _, _ = run_cli(capsys, tmp_path / "data", "build", "--ips", "500", "--json")
    assert code == 0
    assert current_path(tmp_path / "data").name == "0000000001"
    assert "cannot announce snapshot 1" in caplog.text


def test_without_redis_url_nothing_is_announced() -> None:
    assert announcer(load_config(environ={})) is None
