"""LockManager end to end: discovery, pairing, resume, rename, remove, events, clean stop."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from manager_rig import (
    NUKI_ADDRESS,
    NUKI_ID,
    NUKI_PIN,
    TT_ADDRESS,
    TT_ID,
    Rig,
    wait_for,
)
from support import LogCollector

from ttlock_nuki_addon.errors import (
    BusyError,
    NotReachableError,
    NotSupportedError,
    PairingError,
)
from ttlock_nuki_addon.manager_events import (
    LockAdded,
    LockRemoved,
    LockUpdated,
    ManagerEvent,
    NotFoundError,
    ScanState,
)
from ttlock_nuki_addon.model import LockEvent
from ttlock_nuki_addon.nuki.commands import LockState
from ttlock_nuki_addon.nuki.driver import NukiDriver
from ttlock_nuki_addon.params import PairingParams
from ttlock_nuki_addon.sim.ttlock import VirtualTTLock
from ttlock_nuki_addon.sim.world import SimWorld
from ttlock_nuki_addon.snapshot import Brand, Capability, LockStatus, PairingHint
from ttlock_nuki_addon.ttlock.driver import TTLockDriver

pytestmark = pytest.mark.timeout(90)
STRANGER = "11:22:33:44:55:66"  # a TTLock paired with someone else


@pytest.fixture
async def rig(sim_world: SimWorld, tmp_path: Path) -> AsyncIterator[Rig]:
    """Both virtual locks unpaired; every manager the test starts is stopped afterwards."""
    collector = LogCollector()
    root = logging.getLogger()
    level = root.level
    root.addHandler(collector)
    root.setLevel(logging.DEBUG)
    rig = Rig(sim_world, tmp_path / "data")
    try:
        yield rig
    finally:
        await rig.stop_all()
        root.removeHandler(collector)
        root.setLevel(level)
    assert NUKI_PIN not in "\n".join(collector.lines), "the security PIN reached the log"


async def test_discovery_lists_unpaired_locks_with_hints_until_they_fall_silent(
    rig: Rig,
) -> None:
    rig.world.bluez.add_peripheral(VirtualTTLock(STRANGER, paired=True))
    manager = await rig.start(availability_seconds=2.5, pairable_seconds=1.0)
    nuki = await rig.discovered(manager, NUKI_ADDRESS, lambda d: True)
    assert (nuki.brand, nuki.pairable, nuki.hint) == (Brand.NUKI, False, PairingHint.HOLD_BUTTON)
    assert nuki.name == rig.nuki.name and nuki.rssi is not None
    stranger = await rig.discovered(manager, STRANGER, lambda d: True)
    assert (stranger.pairable, stranger.hint) == (False, PairingHint.RESET_LOCK)
    assert all(d.address != TT_ADDRESS for d in manager.discoveries())  # asleep: silent

    rig.ttlock.touch()
    ttlock = await rig.discovered(manager, TT_ADDRESS, lambda d: True)
    assert (ttlock.brand, ttlock.pairable, ttlock.hint) == (Brand.TTLOCK, True, PairingHint.READY)
    assert ttlock.model == "door_lock" and ttlock.name == rig.ttlock.name
    rig.nuki.press_button(6)
    nuki = await rig.discovered(manager, NUKI_ADDRESS, lambda d: d.pairable)
    assert nuki.hint is PairingHint.READY and nuki.model == "smart_lock"

    rig.ttlock.set_advertising(False)  # as if it went back to sleep
    ttlock = await rig.discovered(manager, TT_ADDRESS, lambda d: not d.pairable)
    assert ttlock.hint is PairingHint.TOUCH_KEYPAD
    await wait_for(lambda: all(d.address != TT_ADDRESS for d in manager.discoveries()))
    published = rig.published_discoveries()
    assert any(TT_ADDRESS in {d.address for d in found} for found in published)
    assert TT_ADDRESS not in {d.address for d in published[-1]}  # its expiry was published
    assert published[-1] == tuple(manager.discoveries())


async def test_both_brands_pair_through_the_manager_one_at_a_time(rig: Rig) -> None:
    manager = await rig.start()
    assert (await rig.next_event(ScanState, lambda e: True)).scanning
    rig.ttlock.touch()
    rig.nuki.press_button(6)
    await rig.discovered(manager, TT_ADDRESS, lambda d: d.pairable)
    await rig.discovered(manager, NUKI_ADDRESS, lambda d: d.pairable)
    first = asyncio.create_task(
        manager.pair(TT_ADDRESS, Brand.TTLOCK, PairingParams(name="Front door"))
    )
    await wait_for(lambda: manager.pairing)
    with pytest.raises(BusyError):
        await manager.pair(NUKI_ADDRESS, Brand.NUKI, PairingParams("Back door", NUKI_PIN))
    ttlock = await asyncio.wait_for(first, 30)
    nuki = await manager.pair(NUKI_ADDRESS, Brand.NUKI, PairingParams("Back door", NUKI_PIN))

    assert (ttlock.id, ttlock.brand, ttlock.name) == (TT_ID, Brand.TTLOCK, "Front door")
    assert (nuki.id, nuki.brand, nuki.name) == (NUKI_ID, Brand.NUKI, "Back door")
    assert Capability.OPEN in nuki.capabilities and Capability.OPEN not in ttlock.capabilities
    assert rig.ttlock.paired and rig.nuki.core.memory.authorizations
    assert [e.snapshot.id for e in rig.of(LockAdded)] == [TT_ID, NUKI_ID]
    assert {s.id for s in manager.locks()} == {TT_ID, NUKI_ID}
    assert {TT_ADDRESS, NUKI_ADDRESS}.isdisjoint(d.address for d in manager.discoveries())
    for lock_id in (TT_ID, NUKI_ID):
        record = rig.store.get_lock(lock_id)
        assert record is not None and record["complete"] is True
    assert manager.security_pin_known(NUKI_ID) is True
    assert manager.security_pin_known(TT_ID) is None
    with pytest.raises(NotReachableError):  # paired now: no discovery to pair from
        await manager.pair(STRANGER, Brand.TTLOCK, PairingParams())


async def test_pairing_errors_pass_through_typed(rig: Rig) -> None:
    manager = await rig.start()
    await rig.discovered(manager, NUKI_ADDRESS, lambda d: True)
    with pytest.raises(NotReachableError):
        await manager.pair(NUKI_ADDRESS, Brand.TTLOCK, PairingParams())  # wrong brand
    with pytest.raises(PairingError):  # not in pairing mode
        await manager.pair(NUKI_ADDRESS, Brand.NUKI, PairingParams("Back door", NUKI_PIN))
    assert manager.locks() == [] and not manager.pairing


async def test_start_resumes_stored_locks_of_both_brands(rig: Rig) -> None:
    first = await rig.start()
    await rig.pair_ttlock(first)
    await rig.pair_nuki(first)
    await first.stop()
    rig.events.clear()

    manager = await rig.start()
    assert {e.snapshot.id for e in rig.of(LockAdded)} == {TT_ID, NUKI_ID}
    assert [s.name for s in manager.locks()] == ["Back door", "Front door"]
    assert manager.security_pin_known(NUKI_ID) is True
    assert (await manager.unlock(TT_ID)).status is LockStatus.UNLOCKED
    assert rig.ttlock.bolt == "unlocked"
    assert (await manager.unlock(NUKI_ID)).status is LockStatus.UNLOCKED
    assert rig.nuki.core.lock_state == LockState.UNLOCKED


async def test_a_resume_that_fails_on_the_link_is_retried_in_the_background(
    rig: Rig, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = await rig.start()
    await rig.pair_ttlock(first)
    await first.stop()
    real = TTLockDriver.resume
    calls: list[str] = []

    async def flaky(lock_id: str, *args: Any, **kwargs: Any) -> TTLockDriver | None:
        calls.append(lock_id)
        if len(calls) < 3:
            raise NotReachableError()
        return await real(lock_id, *args, **kwargs)

    monkeypatch.setattr(TTLockDriver, "resume", flaky)
    rig.events.clear()
    manager = await rig.start(resume_backoff=(0.05, 0.1))
    assert manager.locks() == [] and rig.store.get_lock(TT_ID) is not None
    assert all(d.address != TT_ADDRESS for d in manager.discoveries())  # ours, not a stranger
    added = await rig.next_event(LockAdded, lambda e: True)
    assert added.snapshot.id == TT_ID and calls == [TT_ID] * 3
    assert (await manager.refresh(TT_ID)).status is LockStatus.LOCKED


async def test_rename_persists_in_the_store_and_is_published(rig: Rig) -> None:
    manager = await rig.start()
    await rig.pair_ttlock(manager)
    await rig.pair_nuki(manager)
    for lock_id, name in ((TT_ID, "Garage"), (NUKI_ID, "Cellar")):
        before = await manager.unlock(lock_id)  # a live state a rebuilt driver would not know
        driver = manager.driver_of(lock_id)
        snapshot = await manager.rename(lock_id, f"  {name} ")
        assert snapshot.name == name == manager.snapshot(lock_id).name
        assert rig.of(LockUpdated)[-1].snapshot == snapshot
        assert before.status is LockStatus.UNLOCKED and before.battery is not None
        assert (snapshot.status, snapshot.battery) == (before.status, before.battery)
        assert snapshot.available and snapshot.capabilities == before.capabilities
        assert manager.driver_of(lock_id) is driver and driver.snapshot.name == name
        record = rig.store.get_lock(lock_id)
        assert record is not None and record["name"] == name
    await manager.read_events(NUKI_ID)  # the Nuki driver writes its record back here
    await manager.unlock(NUKI_ID)
    record = rig.store.get_lock(NUKI_ID)
    assert record is not None and record["name"] == "Cellar"
    await manager.stop()
    again = await rig.start()
    assert [s.name for s in again.locks()] == ["Cellar", "Garage"]


async def test_remove_with_reset_resets_or_unpairs_the_lock_first(rig: Rig) -> None:
    manager = await rig.start()
    await rig.pair_ttlock(manager)
    await rig.pair_nuki(manager)
    await manager.remove(TT_ID, reset=True)
    assert rig.ttlock.setting_mode and not rig.ttlock.paired
    await manager.remove(NUKI_ID, reset=True)
    assert rig.nuki.core.memory.authorizations == {}
    assert rig.store.lock_ids() == [] and manager.locks() == []
    assert [e.lock_id for e in rig.of(LockRemoved)] == [TT_ID, NUKI_ID]
    with pytest.raises(NotFoundError):
        await manager.unlock(TT_ID)
    found = await rig.discovered(manager, TT_ADDRESS, lambda d: True)  # a stranger again
    assert found.pairable and found.hint is PairingHint.READY


async def test_remove_without_reset_only_forgets(rig: Rig) -> None:
    manager = await rig.start()
    await rig.pair_ttlock(manager)
    await rig.pair_nuki(manager)
    await manager.remove(TT_ID, reset=False)
    await manager.remove(NUKI_ID, reset=False)
    assert rig.ttlock.paired and rig.nuki.core.memory.authorizations
    assert rig.store.lock_ids() == [] and manager.locks() == []
    assert [e.lock_id for e in rig.of(LockRemoved)] == [TT_ID, NUKI_ID]
    found = await rig.discovered(manager, TT_ADDRESS, lambda d: True)
    assert (found.pairable, found.hint) == (False, PairingHint.RESET_LOCK)


async def test_removing_an_unreachable_lock_with_reset_raises_and_keeps_it(rig: Rig) -> None:
    manager = await rig.start()
    await rig.pair_ttlock(manager)
    driver = manager.driver_of(TT_ID)
    assert isinstance(driver, TTLockDriver)
    await driver.disconnect()
    await rig.world.bluez.remove_peripheral(TT_ADDRESS)  # out of range for good
    with pytest.raises(NotReachableError):
        await manager.remove(TT_ID, reset=True)
    assert rig.store.get_lock(TT_ID) is not None and manager.snapshot(TT_ID).id == TT_ID
    assert rig.of(LockRemoved) == []
    await manager.remove(TT_ID, reset=False)  # the person decided to just forget it
    assert rig.store.get_lock(TT_ID) is None


async def test_a_ttlock_has_no_security_pin(rig: Rig) -> None:
    manager = await rig.start()
    await rig.pair_ttlock(manager)
    with pytest.raises(NotSupportedError):
        await manager.set_security_pin(TT_ID, "1234")


async def test_subscriber_errors_are_isolated_and_unsubscribe_works(
    rig: Rig, caplog: pytest.LogCaptureFixture
) -> None:
    manager = await rig.start()
    await rig.pair_ttlock(manager)
    seen: list[ManagerEvent] = []

    def broken(event: ManagerEvent) -> None:
        raise RuntimeError("subscriber bug")

    stop_broken = manager.subscribe(broken)
    stop_seen = manager.subscribe(seen.append)
    with caplog.at_level(logging.ERROR):
        await manager.rename(TT_ID, "Shed")
    assert any(isinstance(e, LockUpdated) and e.snapshot.name == "Shed" for e in seen)
    assert "subscriber failed" in caplog.text
    assert (await manager.unlock(TT_ID)).status is LockStatus.UNLOCKED  # still serving
    stop_broken()
    stop_seen()
    stop_seen()  # twice is harmless
    count = len(seen)
    await manager.rename(TT_ID, "Barn")
    assert len(seen) == count
    assert rig.of(LockUpdated)[-1].snapshot.name == "Barn"  # the rig's subscriber still hears


def plumbing(task: asyncio.Task[Any]) -> bool:
    """bleak's process-wide BlueZ manager, which outlives every scanner and client."""
    name: str = getattr(task.get_coro(), "__qualname__", "")
    return name.startswith("BlueZManager.")


async def test_stop_leaves_no_task_behind(rig: Rig, monkeypatch: pytest.MonkeyPatch) -> None:
    warm = await rig.start()  # bleak's process-wide D-Bus plumbing starts once per loop
    await rig.pair_ttlock(warm)
    await rig.pair_nuki(warm)
    await warm.stop()

    async def unreachable(*args: Any, **kwargs: Any) -> None:
        raise NotReachableError()

    monkeypatch.setattr(NukiDriver, "resume", unreachable)  # a resume retry waits in the background
    before = set(asyncio.all_tasks())
    manager = await rig.start(resume_backoff=(30.0,))
    assert [s.id for s in manager.locks()] == [TT_ID]
    driver = manager.driver_of(TT_ID)
    reading = asyncio.Event()

    async def stuck(new_only: bool = True) -> list[LockEvent]:
        reading.set()
        await asyncio.Event().wait()  # a read that never ends: only stop() ends it
        return []

    driver.read_events = stuck  # type: ignore[method-assign]
    await manager.unlock(TT_ID)
    rig.ttlock.turn_knob()  # a log record: advert bit 1 asks for a read
    await asyncio.wait_for(reading.wait(), 15)
    await manager.stop()
    await asyncio.sleep(0)
    left = {t for t in asyncio.all_tasks() - before if not t.done() and not plumbing(t)}
    assert not left, f"tasks left behind: {[t.get_name() for t in left]}"
    assert not manager.scanning and rig.of(ScanState)[-1].scanning is False
