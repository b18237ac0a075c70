"""The shared daily quota table: exact limits, UTC days, persistence."""

import multiprocessing
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from sikker.core import quota as quota_module
from sikker.core.accounts import AccountStore
from sikker.core.quota import DAY, Flusher, QuotaTable, Usage
from sikker.errors import QuotaTableError
from tests.factories import FAST_KDF

#: 2026-11-23 13:00 UTC; its day ends at 2026-11-24 00:00 UTC.
NOON = 1_795_438_800.0
MIDNIGHT = 1_795_478_400


class Clock:
    """A settable clock (epoch seconds)."""

    def __init__(self, now: float = NOON) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def table(tmp_path: Path, clock: Clock) -> Iterator[QuotaTable]:
    quota = QuotaTable(tmp_path / "quota.bin", slots=64, clock=clock)
    yield quota
    quota.close()


def test_charges_are_admitted_up_to_the_limit_then_refused(table: QuotaTable) -> None:
    results = [table.charge("acct_a", "lookups", 1, 3) for _ in range(5)]
    assert [r.allowed for r in results] == [True, True, True, False, False]
    assert [r.remaining for r in results] == [2, 1, 0, 0, 0]
    assert results[-1].used == 3 == table.used("acct_a", "lookups")
    assert {r.reset_epoch for r in results} == {MIDNIGHT}


def test_a_charge_that_does_not_fit_counts_nothing(table: QuotaTable) -> None:
    assert table.charge("acct_a", "reports", 8, 10).allowed
    refused = table.charge("acct_a", "reports", 5, 10)
    assert not refused.allowed and refused.used == 8
    assert table.charge("acct_a", "reports", 2, 10).allowed


def test_charge_upto_grants_what_is_left_and_refuses_when_nothing_is(
    table: QuotaTable,
) -> None:
    granted, charge = table.charge_upto("acct_a", "blacklist", 700, 1000)
    assert (granted, charge.allowed, charge.remaining) == (700, True, 300)
    granted, charge = table.charge_upto("acct_a", "blacklist", 700, 1000)
    assert (granted, charge.allowed, charge.used) == (300, True, 1000)
    granted, charge = table.charge_upto("acct_a", "blacklist", 1, 1000)
    assert (granted, charge.allowed) == (0, False)


def test_owners_and_families_count_apart(table: QuotaTable) -> None:
    table.charge("acct_a", "lookups", 2, 10)
    table.charge("acct_a", "reports", 3, 10)
    table.charge("acct_b", "lookups", 4, 10)
    assert table.used("acct_a", "lookups") == 2
    assert table.used("acct_a", "reports") == 3
    assert table.used("acct_b", "lookups") == 4
    assert table.used("acct_b", "taxii") == 0


def test_the_count_starts_from_zero_at_midnight_utc(
    table: QuotaTable, clock: Clock
) -> None:
    for _ in range(3):
        table.charge("acct_a", "lookups", 1, 3)
    clock.now = MIDNIGHT - 0.5
    assert not table.charge("acct_a", "lookups", 1, 3).allowed
    clock.now = MIDNIGHT
    charge = table.charge("acct_a", "lookups", 1, 3)
    assert charge.allowed and charge.used == 1
    assert charge.reset_epoch == MIDNIGHT + DAY


def test_a_lower_limit_applies_at_once_to_what_was_used(table: QuotaTable) -> None:
    for _ in range(5):
        table.charge("acct_a", "lookups", 1, 100)
    downgraded = table.charge("acct_a", "lookups", 1, 3)
    assert not downgraded.allowed and downgraded.remaining == 0
    assert table.charge("acct_a", "lookups", 1, 6).allowed  # upgraded again


def test_a_full_table_is_an_error_and_idle_slots_are_reused(
    tmp_path: Path, clock: Clock
) -> None:
    table = QuotaTable(tmp_path / "q", slots=16, clock=clock)
    for n in range(16):
        table.charge(f"acct_{n}", "lookups", 1, 10)
    with pytest.raises(QuotaTableError, match="quota_slots"):
        table.charge("acct_new", "lookups", 1, 10)
    clock.now += 2 * DAY  # every slot has been idle for two days
    assert table.charge("acct_new", "lookups", 1, 10).allowed
    assert table.used("acct_new", "lookups") == 1
    assert table.used("acct_0", "lookups") == 0
    table.close()


def test_labels_that_do_not_fit_a_slot_are_refused(table: QuotaTable) -> None:
    with pytest.raises(ValueError):
        table.charge("a" * 60, "lookups", 1, 10)
    with pytest.raises(ValueError):
        table.charge("acct\0x", "lookups", 1, 10)


def test_two_handles_on_one_file_share_the_counts(tmp_path: Path, clock: Clock) -> None:
    first = QuotaTable(tmp_path / "q", slots=64, clock=clock)
    second = QuotaTable(tmp_path / "q", slots=64, clock=clock)
    first.charge("acct_a", "lookups", 2, 3)
    assert second.used("acct_a", "lookups") == 2
    assert second.charge("acct_a", "lookups", 1, 3).allowed
    assert not first.charge("acct_a", "lookups", 1, 3).allowed
    first.close()
    second.close()


def _hammer(path: str, rounds: int, queue) -> None:  # type: ignore[no-untyped-def]
    table = QuotaTable(path, slots=64, clock=lambda: NOON)
    admitted = sum(
        table.charge("acct_a", "lookups", 1, 250).allowed for _ in range(rounds)
    )
    table.close()
    queue.put(admitted)


def test_processes_together_are_never_admitted_beyond_the_limit(
    tmp_path: Path,
) -> None:
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    path = str(tmp_path / "q")
    children = [ctx.Process(target=_hammer, args=(path, 150, queue)) for _ in range(4)]
    for child in children:
        child.start()
    admitted = [queue.get(timeout=60) for _ in children]
    for child in children:
        child.join(timeout=60)
    assert sum(admitted) == 250  # 600 asked
    table = QuotaTable(path, slots=64, clock=lambda: NOON)
    assert table.used("acct_a", "lookups") == 250
    table.close()


def test_the_other_twin_on_the_same_table_is_refused(table: QuotaTable) -> None:
    table.charge("acct_a", "lookups", 1, 10)
    other = 2 if table.words.load(quota_module._H_MODE) == 1 else 1
    table.words.store(quota_module._H_MODE, other)
    table._mode_checked = False  # as a fresh process would
    with pytest.raises(QuotaTableError, match="other atomics twin"):
        table.charge("acct_a", "lookups", 1, 10)


def test_a_table_of_another_period_length_is_refused(
    tmp_path: Path, table: QuotaTable
) -> None:
    with pytest.raises(QuotaTableError, match="periods of another length"):
        QuotaTable(tmp_path / "quota.bin", slots=64, period=300)


def test_a_table_is_used_only_in_the_process_that_opened_it(
    table: QuotaTable,
) -> None:
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()

    def child() -> None:
        try:
            table.charge("acct_a", "lookups", 1, 10)
            queue.put("charged")
        except QuotaTableError:
            queue.put("refused")

    process = ctx.Process(target=child)
    process.start()
    assert queue.get(timeout=30) == "refused"
    process.join(timeout=30)


# -- persistence ---------------------------------------------------------------------


@pytest.fixture
def accounts(tmp_path: Path) -> Iterator[AccountStore]:
    store = AccountStore(tmp_path / "data", kdf=FAST_KDF)
    yield store
    store.close()


def _open(path: Path, store: AccountStore, clock: Callable[[], float]) -> QuotaTable:
    return QuotaTable(path, slots=64, restore=store.load_usage, clock=clock)


def test_counts_survive_when_every_process_has_closed_the_table(
    tmp_path: Path, accounts: AccountStore, clock: Clock
) -> None:
    path = tmp_path / "quota.bin"
    table = _open(path, accounts, clock)
    for _ in range(4):
        table.charge("acct_a", "lookups", 1, 10)
    table.close()
    again = _open(path, accounts, clock)  # rebuilt from the file
    assert again.used("acct_a", "lookups") == 4
    again.close()


def test_flushed_counts_come_back_when_the_table_file_is_lost(
    tmp_path: Path, accounts: AccountStore, clock: Clock
) -> None:
    path = tmp_path / "quota.bin"
    table = _open(path, accounts, clock)
    flusher = Flusher(table, accounts.save_usage, interval=60)
    table.charge("acct_a", "lookups", 6, 10)
    table.charge("acct_b", "taxii", 2, 10)
    assert flusher.flush() == 2
    table.charge("acct_a", "lookups", 1, 10)  # after the flush: lost with the file
    table.close()
    path.unlink()
    again = _open(path, accounts, clock)
    assert again.used("acct_a", "lookups") == 6
    assert again.used("acct_b", "taxii") == 2
    again.close()


def test_the_larger_of_the_file_and_the_stored_count_wins(
    tmp_path: Path, accounts: AccountStore, clock: Clock
) -> None:
    period = int(NOON // DAY)
    accounts.save_usage(
        [("lookups", "acct_a", period, 9), ("reports", "acct_a", period, 1)]
    )
    path = tmp_path / "quota.bin"
    table = _open(path, accounts, clock)
    table.charge("acct_a", "reports", 5, 10)
    table.close()
    again = _open(path, accounts, clock)
    assert again.used("acct_a", "lookups") == 9
    assert again.used("acct_a", "reports") == 6  # the file's 1 + 5 beats the store's 1
    again.close()


def test_stored_usage_of_old_days_is_pruned(accounts: AccountStore) -> None:
    rows: list[Usage] = [("lookups", "acct_a", day, day) for day in (100, 150, 200)]
    accounts.save_usage(rows)
    assert accounts.load_usage(0) == [
        ("lookups", "acct_a", 150, 150),
        ("lookups", "acct_a", 200, 200),
    ]
    accounts.save_usage([("lookups", "acct_a", 200, 3)])  # a smaller count never wins
    assert accounts.load_usage(200) == [("lookups", "acct_a", 200, 200)]


def test_the_flusher_thread_persists_and_stop_flushes_once_more(
    tmp_path: Path, accounts: AccountStore, clock: Clock
) -> None:
    table = _open(tmp_path / "quota.bin", accounts, clock)
    saved: list[list[Usage]] = []
    flusher = Flusher(table, saved.append, interval=3600)
    flusher.start()
    table.charge("acct_a", "lookups", 2, 10)
    flusher.stop()
    table.close()
    assert saved and saved[-1] == [("lookups", "acct_a", int(NOON // DAY), 2)]
