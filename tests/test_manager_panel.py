"""What the panel needs from LockManager: who asked, activity history, discovery window, restore."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from manager_rig import NUKI_ID, TT_ID, Rig, wait_for

from ttlock_nuki_addon.errors import StoreError
from ttlock_nuki_addon.manager_activity import Activity, acting_as
from ttlock_nuki_addon.manager_events import LockAdded, ScanState
from ttlock_nuki_addon.model import EventKind, EventSource, LockEvent
from ttlock_nuki_addon.sim.world import SimWorld
from ttlock_nuki_addon.snapshot import LockStatus
from ttlock_nuki_addon.store import empty_document, parse_document
from ttlock_nuki_addon.ttlock.driver import TTLockDriver
from ttlock_nuki_addon.ttlock.driver_events import BoltWatch
from ttlock_nuki_addon.validity import ValidationError

pytestmark = pytest.mark.timeout(90)
T0 = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)


def event(kind: EventKind, source: EventSource, seconds: float = 0, **extra: str) -> LockEvent:
    return LockEvent(TT_ID, kind, source, T0 + timedelta(seconds=seconds), **extra)


# --- Activity, pure -----------------------------------------------------------------------


def test_a_claim_names_the_first_matching_app_event_once() -> None:
    activity = Activity()
    with acting_as("Alice"):
        activity.claim((EventKind.UNLOCKED,), T0)
    first = activity.record(event(EventKind.UNLOCKED, EventSource.APP, 5))
    second = activity.record(event(EventKind.UNLOCKED, EventSource.APP, 9))
    assert (first.user, second.user) == ("Alice", None)


def test_claims_need_the_same_kind_our_source_and_a_close_time() -> None:
    activity = Activity()
    with acting_as("Alice"):
        activity.claim((EventKind.LOCKED,), T0)
    assert activity.record(event(EventKind.UNLOCKED, EventSource.APP)).user is None
    assert activity.record(event(EventKind.LOCKED, EventSource.KEYPAD, 1)).user is None
    assert activity.record(event(EventKind.LOCKED, EventSource.APP, 600)).user is None
    assert activity.record(event(EventKind.LOCKED, EventSource.APP, 3)).user == "Alice"


def test_without_an_actor_nothing_is_claimed() -> None:
    activity = Activity()
    activity.claim((EventKind.UNLOCKED,), T0)
    assert activity.record(event(EventKind.UNLOCKED, EventSource.APP)).user is None


def test_history_keeps_one_copy_sorted_and_gives_newest_first() -> None:
    activity = Activity(size=3)
    with acting_as("Bob"):
        activity.claim((EventKind.UNLOCKED,), T0)
    activity.record(event(EventKind.UNLOCKED, EventSource.APP, 10))
    activity.record(event(EventKind.UNLOCKED, EventSource.APP, 10))  # the same record again
    activity.load(
        [
            event(EventKind.LOCKED, EventSource.KEYPAD, 1),
            event(EventKind.UNLOCKED, EventSource.APP, 10),  # the log's copy: no user
            event(EventKind.LOCKED, EventSource.AUTO, 20),
        ]
    )
    latest = activity.latest(10)
    assert [e.time for e in latest] == [T0 + timedelta(seconds=s) for s in (20, 10, 1)]
    assert latest[1].user == "Bob" and activity.loaded
    assert activity.latest(1) == latest[:1] and activity.latest(0) == []
    activity.record(event(EventKind.OPENED, EventSource.APP, 30))
    assert len(activity.latest(10)) == 3  # bounded


# --- the manager over the simulated world -----------------------------------------------------


@pytest.fixture
async def rig(sim_world: SimWorld, tmp_path: Path) -> AsyncIterator[Rig]:
    rig = Rig(sim_world, tmp_path / "data")
    try:
        yield rig
    finally:
        await rig.stop_all()


async def test_an_unlock_asked_for_by_a_person_shows_their_name_in_the_activity(
    rig: Rig,
) -> None:
    manager = await rig.start()
    await rig.pair_ttlock(manager)
    with acting_as("Alice Example"):
        await manager.unlock(TT_ID)
    events = await manager.activity(TT_ID, 50)
    unlocks = [e for e in events if e.kind is EventKind.UNLOCKED and e.source is EventSource.APP]
    assert unlocks and unlocks[0].user == "Alice Example"
    rig.ttlock.enter_pin("000000")  # a wrong code: not ours, never attributed
    later = await manager.activity(TT_ID, 50)
    assert all(e.user in (None, "Alice Example") for e in later)
    assert later[0].time >= later[-1].time


async def test_activity_reads_the_whole_log_once_then_only_new_entries(rig: Rig) -> None:
    manager = await rig.start()
    await rig.pair_ttlock(manager)
    await manager.unlock(TT_ID)
    await manager.lock(TT_ID)
    driver = manager.driver_of(TT_ID)
    calls: list[bool] = []
    real = driver.read_events

    async def counted(new_only: bool = True) -> list[LockEvent]:
        calls.append(new_only)
        return await real(new_only)

    driver.read_events = counted  # type: ignore[method-assign]
    first = await manager.activity(TT_ID, 100)
    kinds = {e.kind for e in first}
    assert {EventKind.UNLOCKED, EventKind.LOCKED} <= kinds
    again = await manager.activity(TT_ID, 100)
    assert calls == [False, True]
    assert again == first  # nothing new happened; nothing doubled
    assert len(await manager.activity(TT_ID, 1)) == 1


async def test_activity_of_an_unreachable_lock_gives_what_is_known(rig: Rig) -> None:
    manager = await rig.start()
    await rig.pair_ttlock(manager)
    await manager.unlock(TT_ID)
    known = await manager.activity(TT_ID, 100)
    assert known
    driver = manager.driver_of(TT_ID)
    assert isinstance(driver, TTLockDriver)
    await driver.disconnect()
    rig.ttlock.faults.refuse_connect = True
    try:
        assert await manager.activity(TT_ID, 100) == known
    finally:
        rig.ttlock.faults.refuse_connect = False


async def test_a_discovery_window_opens_and_closes_by_itself(rig: Rig) -> None:
    manager = await rig.start()
    await wait_for(lambda: manager.scan_state.scanning)
    with pytest.raises(ValidationError):
        await manager.discover(0)
    state = await manager.discover(0.3)
    assert state.scanning and state.discovering and state.until is not None
    assert rig.of(ScanState)[-1] == state
    await wait_for(lambda: not manager.scan_state.discovering)
    assert rig.of(ScanState)[-1].discovering is False and manager.scan_state.scanning
    await manager.discover(60)
    stopped = manager.end_discovery()
    assert not stopped.discovering and stopped.until is None and stopped.scanning
    assert stopped.to_json()["until"] is None


async def test_discover_starts_a_scan_that_is_not_running(rig: Rig) -> None:
    manager = await rig.start()
    await wait_for(lambda: manager.scan_state.scanning)
    await rig.scanner.stop()
    assert not manager.scan_state.scanning
    state = await manager.discover(5)
    assert state.scanning and rig.scanner.running
    manager.end_discovery()


async def test_restore_adds_back_removed_locks_and_keeps_paired_ones(rig: Rig) -> None:
    manager = await rig.start()
    await rig.pair_ttlock(manager)
    await rig.pair_nuki(manager)
    backup = rig.store.export_document()
    await manager.remove(TT_ID, reset=False)
    assert rig.store.get_lock(TT_ID) is None
    result = await manager.restore(parse_document(_bytes(backup)))
    assert (result.added, result.kept) == ((TT_ID,), (NUKI_ID,))
    assert rig.store.get_lock(TT_ID) == backup["locks"][TT_ID]
    assert [e.lock_id for e in rig.of(LockAdded)].count(TT_ID) == 2  # paired, then restored
    snapshot = await manager.unlock(TT_ID)  # the restored keys still open it
    assert snapshot.status is LockStatus.UNLOCKED


async def test_restore_refuses_unknown_records_and_changes_nothing(rig: Rig) -> None:
    manager = await rig.start()
    document = empty_document()
    document["locks"]["not-a-lock-id"] = {"brand": "ttlock"}
    before = rig.store.export_document()
    with pytest.raises(StoreError):
        await manager.restore(document)
    document = empty_document()
    document["locks"]["aabbccddeeff"] = {"brand": "acme"}
    with pytest.raises(StoreError):
        await manager.restore(document)
    assert rig.store.export_document() == before


async def test_restore_keeps_this_installations_own_ids(rig: Rig) -> None:
    manager = await rig.start()
    rig.store.set_installation("nuki_app_id", 1234)
    document = empty_document()
    document["installation"] = {"nuki_app_id": 99, "other": "x"}
    result = await manager.restore(document)
    assert result.added == () and result.kept == ()
    assert rig.store.installation() == {"nuki_app_id": 1234, "other": "x"}


def test_parse_document_refuses_what_is_not_a_store() -> None:
    for bad in (b"", b"[]", b'{"schema": 1}', b"not json", b'{"schema": 99, "locks": {}}'):
        with pytest.raises(StoreError):
            parse_document(bad)
    assert parse_document(_bytes(empty_document())) == empty_document()


def _bytes(document: object) -> bytes:
    return json.dumps(document).encode()


async def test_pending_discovery_timer_is_cancelled_on_stop(rig: Rig) -> None:
    manager = await rig.start()
    await wait_for(lambda: manager.scan_state.scanning)
    await manager.discover(30)
    await manager.stop()
    assert manager.scan_state.discovering is False
    await asyncio.sleep(0)


async def test_a_nuki_shows_its_state_and_battery_right_after_pairing(rig: Rig) -> None:
    manager = await rig.start()
    snapshot = await rig.pair_nuki(manager)
    assert snapshot.status is LockStatus.LOCKED and snapshot.battery is not None


def test_reading_the_whole_ttlock_log_infers_no_second_auto_lock() -> None:
    watch = BoltWatch(TT_ID, lambda: T0)
    history = [event(EventKind.UNLOCKED, EventSource.APP, 1)]
    assert watch.after_log(list(history), locked_now=True, whole=True) == history
    inferred = watch.after_log(list(history), locked_now=True)  # new records: it re-locked
    assert [(e.kind, e.source) for e in inferred[1:]] == [(EventKind.LOCKED, EventSource.AUTO)]
