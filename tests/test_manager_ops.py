"""LockManager operations: serial queue per lock, parallel locks, fetches, availability, events."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from manager_rig import NUKI_ID, TT_ADDRESS, TT_ID, WAIT, Rig, gathered, wait_for

from ttlock_nuki_addon.ble.scanner import RawAdvert
from ttlock_nuki_addon.credentials import CredentialKind, CredentialSpec
from ttlock_nuki_addon.manager import LockManager
from ttlock_nuki_addon.manager_events import (
    CredentialProgress,
    LockActivity,
    LockUpdated,
    NotFoundError,
)
from ttlock_nuki_addon.model import EventKind, EventSource, LockEvent
from ttlock_nuki_addon.sim.world import SimWorld
from ttlock_nuki_addon.snapshot import LockStatus
from ttlock_nuki_addon.ttlock import advert as ttlock_advert
from ttlock_nuki_addon.ttlock.driver import TTLockDriver

pytestmark = pytest.mark.timeout(90)
K = CredentialKind
TT_PIN, NUKI_CODE = "48151623", "345678"


@pytest.fixture
async def rig(sim_world: SimWorld, tmp_path: Path) -> AsyncIterator[Rig]:
    """Both virtual locks unpaired; every manager the test starts is stopped afterwards."""
    rig = Rig(sim_world, tmp_path / "data")
    try:
        yield rig
    finally:
        await rig.stop_all()


@pytest.fixture
async def manager(rig: Rig) -> LockManager:
    """A started manager with both locks paired."""
    manager = await rig.start()
    await rig.pair_ttlock(manager)
    await rig.pair_nuki(manager)
    return manager


class Calls:
    """Wraps driver methods to record when each call starts and ends."""

    def __init__(self) -> None:
        self.timeline: list[tuple[str, str]] = []
        self.running = 0
        self.most = 0

    def wrap(
        self, driver: Any, name: str, before: Callable[[], Awaitable[object]] | None = None
    ) -> None:
        real = getattr(driver, name)

        async def instrumented(*args: Any, **kwargs: Any) -> Any:
            self.running += 1
            self.most = max(self.most, self.running)
            self.timeline.append(("start", name))
            try:
                if before is not None:
                    await before()
                return await real(*args, **kwargs)
            finally:
                self.running -= 1
                self.timeline.append(("end", name))

        setattr(driver, name, instrumented)


async def test_operations_on_one_lock_never_overlap(manager: LockManager) -> None:
    for lock_id in (TT_ID, NUKI_ID):
        calls = Calls()
        driver = manager.driver_of(lock_id)
        for name in ("refresh", "get_settings", "list_credentials", "unlock", "lock"):
            calls.wrap(driver, name, lambda: asyncio.sleep(0.05))
        await gathered(
            manager.refresh(lock_id),
            manager.get_settings(lock_id),
            manager.unlock(lock_id),
            manager.list_credentials(lock_id),
            manager.lock(lock_id),
        )
        assert calls.most == 1, calls.timeline
        assert len(calls.timeline) == 10
        assert all(a[0] != b[0] for a, b in zip(calls.timeline, calls.timeline[1:], strict=False))
        assert manager.snapshot(lock_id).status is LockStatus.LOCKED


async def test_different_locks_run_in_parallel(manager: LockManager) -> None:
    calls = Calls()
    started = {TT_ID: asyncio.Event(), NUKI_ID: asyncio.Event()}

    def meet(mine: str, other: str) -> Callable[[], Awaitable[None]]:
        async def wait_for_the_other() -> None:
            started[mine].set()
            # Deadlocks (and times out) unless the other lock's call is running at the same time.
            await asyncio.wait_for(started[other].wait(), WAIT)

        return wait_for_the_other

    calls.wrap(manager.driver_of(TT_ID), "refresh", meet(TT_ID, NUKI_ID))
    calls.wrap(manager.driver_of(NUKI_ID), "refresh", meet(NUKI_ID, TT_ID))
    ttlock, nuki = await gathered(manager.refresh(TT_ID), manager.refresh(NUKI_ID))
    assert calls.most == 2
    assert (ttlock.id, nuki.id) == (TT_ID, NUKI_ID)


async def test_cancel_enrolment_does_not_wait_behind_the_enrolment(
    manager: LockManager, rig: Rig
) -> None:
    enrolling = asyncio.create_task(manager.add_credential(TT_ID, CredentialSpec(K.CARD, "Blue")))
    progress = await rig.next_event(CredentialProgress, lambda e: e.lock_id == TT_ID)
    assert (progress.progress.step, progress.progress.total) == (0, 1)
    await asyncio.wait_for(manager.cancel_enrolment(TT_ID), 5)
    assert await asyncio.wait_for(enrolling, WAIT) is None
    assert await manager.list_credentials(TT_ID, K.CARD) == []


def fetching(raw: RawAdvert | None) -> bool:
    parsed = None if raw is None else ttlock_advert.parse(raw)
    return parsed is not None and parsed.new_records


async def test_fetch_requests_coalesce_into_one_read(manager: LockManager, rig: Rig) -> None:
    await manager.add_credential(TT_ID, CredentialSpec(K.PIN, "Alice", TT_PIN))
    driver = manager.driver_of(TT_ID)
    assert isinstance(driver, TTLockDriver)
    hold_refresh, hold_read = asyncio.Event(), asyncio.Event()
    calls = Calls()
    calls.wrap(driver, "refresh", hold_refresh.wait)
    calls.wrap(driver, "read_events", hold_read.wait)
    await driver.disconnect()  # a linked lock does not advertise

    busy = asyncio.create_task(manager.refresh(TT_ID))  # holds the lock's queue
    await wait_for(lambda: calls.running == 1)
    assert rig.ttlock.enter_pin(TT_PIN + "#") is not None  # a log record: advert bit 1
    await wait_for(lambda: fetching(rig.scanner.last_advert(TT_ADDRESS)))
    raw = rig.scanner.last_advert(TT_ADDRESS)
    assert raw is not None
    for _ in range(20):
        rig.scanner.feed(raw)  # fetch requests while one read is pending
    fetches = [t for t in asyncio.all_tasks() if t.get_name().startswith("manager: fetch")]
    assert len(fetches) == 1 and ("start", "read_events") not in calls.timeline

    hold_refresh.set()
    await asyncio.wait_for(busy, WAIT)
    await wait_for(lambda: ("start", "read_events") in calls.timeline)
    for _ in range(20):
        rig.scanner.feed(raw)  # and while it runs
    hold_read.set()
    used = await rig.next_event(LockActivity, lambda e: e.event.source is EventSource.KEYPAD)
    assert calls.timeline.count(("start", "read_events")) == 1
    event = used.event
    assert (event.lock_id, event.kind, event.credential_name) == (
        TT_ID,
        EventKind.UNLOCKED,
        "Alice",
    )
    assert TT_PIN not in repr(rig.events)


async def test_availability_follows_adverts(rig: Rig) -> None:
    manager = await rig.start(availability_seconds=1.5)
    await rig.pair_ttlock(manager)
    await rig.pair_nuki(manager)
    for lock_id, lock in ((TT_ID, rig.ttlock), (NUKI_ID, rig.nuki)):
        assert manager.snapshot(lock_id).available

        def availability(want: bool, lock_id: str = lock_id) -> Callable[[LockUpdated], bool]:
            return lambda e: e.lock_id == lock_id and e.snapshot.available is want

        lock.set_advertising(False)
        gone = await rig.next_event(LockUpdated, availability(False))
        assert not manager.snapshot(lock_id).available and gone.snapshot.id == lock_id
        lock.set_advertising(True)
        await rig.next_event(LockUpdated, availability(True))
        assert manager.snapshot(lock_id).available


async def test_nuki_intermediate_states_and_its_own_events_are_published(
    manager: LockManager, rig: Rig
) -> None:
    start = len(rig.events)
    snapshot = await manager.unlock(NUKI_ID)
    assert snapshot.status is LockStatus.UNLOCKED
    statuses = [
        e.snapshot.status
        for e in rig.events[start:]
        if isinstance(e, LockUpdated) and e.lock_id == NUKI_ID
    ]
    assert LockStatus.UNLOCKING in statuses
    assert statuses.index(LockStatus.UNLOCKING) < statuses.index(LockStatus.UNLOCKED)
    # As bridge the lock tells us it changed; the follow-up log read names the action.
    activity = await rig.next_event(
        LockActivity, lambda e: e.lock_id == NUKI_ID and e.event.kind is EventKind.UNLOCKED
    )
    assert activity.event.source is EventSource.APP


async def test_credential_names_ttlock_in_the_store_nuki_on_the_lock(
    manager: LockManager, rig: Rig
) -> None:
    pin = await manager.add_credential(TT_ID, CredentialSpec(K.PIN, "Alice", TT_PIN))
    code = await manager.add_credential(NUKI_ID, CredentialSpec(K.PIN, "Bob", NUKI_CODE))
    assert pin is not None and code is not None
    writes = len(rig.ttlock.writes)
    renamed = await manager.rename_credential(TT_ID, K.PIN, pin.id, "Alice B.")
    assert (renamed.id, renamed.name, renamed.code) == (pin.id, "Alice B.", TT_PIN)
    assert len(rig.ttlock.writes) == writes  # TTLock keeps no names: nothing was sent
    record = rig.store.get_lock(TT_ID)
    assert record is not None
    assert record["credentials"]["pin"][pin.id]["name"] == "Alice B."  # type: ignore[index,call-overload]
    renamed = await manager.rename_credential(NUKI_ID, K.PIN, code.id, "Bob B.")
    stored = rig.nuki.core.memory.keypad_codes[int(code.id)]
    assert stored.name == renamed.name == "Bob B."
    assert [c.name for c in await manager.list_credentials(NUKI_ID, K.PIN)] == ["Bob B."]
    with pytest.raises(NotFoundError):
        await manager.rename_credential(NUKI_ID, K.PIN, "999", "Nobody")


async def test_events_from_adverts_are_published(manager: LockManager, rig: Rig) -> None:
    driver = manager.driver_of(TT_ID)
    assert isinstance(driver, TTLockDriver)
    await manager.unlock(TT_ID)
    await driver.disconnect()
    events: list[LockEvent] = []
    manager.subscribe(lambda e: events.append(e.event) if isinstance(e, LockActivity) else None)
    rig.ttlock.turn_knob()  # locks by hand: a record, and bit 0 falls
    await wait_for(lambda: any(e.kind is EventKind.LOCKED for e in events))
    await wait_for(lambda: manager.snapshot(TT_ID).status is LockStatus.LOCKED)
