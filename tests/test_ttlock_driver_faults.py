"""TTLockDriver sessions and faults: logins, interrupted pairing, resets, lost or bad answers."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from typing import Any

import pytest
from test_ttlock_driver import (  # the rig and its fixtures are shared with the end-to-end tests
    FAST,
    LOCK_ID,
    PIN_A,
    Rig,
    assert_no_secrets,
    driver,
    rig,
    wait_for,
)

from ttlock_nuki_addon.ble.link import LinkTimings
from ttlock_nuki_addon.credentials import CredentialKind, CredentialSpec
from ttlock_nuki_addon.errors import AuthError, PairingError, ProtocolError
from ttlock_nuki_addon.model import EventKind, EventSource, LockStatus
from ttlock_nuki_addon.params import PairingParams
from ttlock_nuki_addon.sim.ttlock import VirtualTTLock
from ttlock_nuki_addon.ttlock import pairing
from ttlock_nuki_addon.ttlock.advert import AdvertFlag
from ttlock_nuki_addon.ttlock.codec import Command
from ttlock_nuki_addon.ttlock.driver import TTLockDriver
from ttlock_nuki_addon.ttlock.framing import TTLockFramer, parse_frame

__all__ = ["driver", "rig"]  # fixtures used by name below

C, K = Command, CredentialKind
QUICK = LinkTimings(connect_timeout=20, request_timeout=1.0, write_timeout=5, idle_disconnect=2)


def requests(lock: VirtualTTLock) -> list[tuple[int, bytes]]:
    """(command, plaintext) of every request frame the lock received, read with its own key."""
    framer = TTLockFramer(strict_crc=False)
    found = []
    for chunk in lock.writes:
        for raw in framer.feed(chunk):
            frame, payload = lock.decode_request(raw)
            found.append((frame.command, payload))
    return found


def commands_of(lock: VirtualTTLock) -> list[int]:
    framer = TTLockFramer(strict_crc=False)
    return [parse_frame(raw).command for chunk in lock.writes for raw in framer.feed(chunk)]


# --- one login per connection ------------------------------------------------------------------


async def test_one_login_serves_a_burst_and_unlock_takes_a_fresh_challenge(rig: Rig) -> None:
    lingering = LinkTimings(connect_timeout=20, request_timeout=3, idle_disconnect=60)
    driver = await rig.pair(timings=lingering)
    rig.lock.writes.clear()
    await driver.list_credentials()
    await driver.add_credential(CredentialSpec(K.PIN, "Burst", PIN_A))
    await driver.get_settings()
    sent = [command for command, _ in requests(rig.lock)]
    assert (sent.count(C.CHECK_ADMIN), sent.count(C.CHECK_RANDOM)) == (1, 1)
    assert rig.lock.connections == 2  # pairing's link and this one
    await driver.unlock()  # spec §5.3: CHECK_ADMIN's fresh psFromLock proves the unlock
    await driver.lock()
    sent = [command for command, _ in requests(rig.lock)]
    assert (sent.count(C.CHECK_ADMIN), sent.count(C.CHECK_RANDOM)) == (3, 1)
    await driver.disconnect()
    await driver.list_credentials(K.PIN)  # a new connection logs in again
    sent = [command for command, _ in requests(rig.lock)]
    assert (sent.count(C.CHECK_ADMIN), sent.count(C.CHECK_RANDOM)) == (4, 2)


# --- pairing interrupted after each step -------------------------------------------------------


async def test_interrupted_pairing_never_leaves_the_lock_paired_without_keys(
    rig: Rig, monkeypatch: pytest.MonkeyPatch
) -> None:
    lock, store = rig.lock, rig.store
    first = await rig.pair()
    await first.close()
    rig.driver = None
    steps = commands_of(lock)  # the official order, one request frame per step (spec §5.4)
    assert steps[:2] == [C.GET_AES_KEY, C.ADD_ADMIN] and steps[-1] == C.OPERATE_FINISHED
    handled = 0
    drop_after = 0
    answer = lock.handle_frame

    def handle_then_maybe_drop(raw: bytes) -> None:
        nonlocal handled
        answer(raw)
        handled += 1
        if handled == drop_after:
            # The step takes effect, its answer is lost and the link drops.
            lock.faults.drop_replies = 1
            lock.faults.drop_link_after_writes = 1

    monkeypatch.setattr(lock, "handle_frame", handle_then_maybe_drop)
    outcomes: list[str] = []
    for drop_after, step in enumerate(steps, start=1):
        lock.factory_reset("next round")
        store.remove_lock(LOCK_ID)
        lock.touch()
        found = await rig.advert(lambda a: a.setting_mode)
        handled = 0
        try:
            driver = await TTLockDriver.pair(
                found, store, PairingParams(name="Door"), rig.transport, timings=FAST
            )
        except PairingError as exc:
            outcomes.append(f"{step:02x} failed")
            assert_no_secrets([exc.message], rig.secrets)
        else:
            outcomes.append(f"{step:02x} paired")
            rig.remember(driver)
            await driver.close()
        assert handled >= drop_after, outcomes  # the step did reach the lock
        await wait_for(lambda: not lock.connected)
        record = store.get_lock(LOCK_ID)
        if lock.paired:
            assert record is not None and record["complete"] is True, outcomes
            assert record["aes_key"] == (lock.aes_key or b"").hex()
            assert (record["admin_ps"], record["unlock_key"]) == (lock.admin_ps, lock.unlock_key)
        else:
            assert record is None, outcomes
            assert lock.setting_mode, outcomes  # rolled back, ready to pair again
    # Every step before 0x57 is undone by the lock; a drop after 0x57 is settled as paired.
    assert len(outcomes) == len(steps) >= 15
    assert outcomes[-1] == "57 paired"
    assert all(outcome.endswith("failed") for outcome in outcomes[:-1]), outcomes


async def test_an_incomplete_record_is_settled_by_resume(
    rig: Rig, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def crash(*args: Any, **kwargs: Any) -> None:
        raise asyncio.CancelledError  # the add-on dies right after ADD_ADMIN

    with monkeypatch.context() as patch:
        patch.setattr(pairing, "finish", crash)
        with pytest.raises(asyncio.CancelledError):
            await rig.pair()
    record = rig.store.get_lock(LOCK_ID)
    assert record is not None and record["complete"] is False
    assert rig.lock.setting_mode  # the lock undid it when the link dropped
    assert await TTLockDriver.resume(LOCK_ID, rig.store, rig.transport, timings=FAST) is None
    assert rig.store.get_lock(LOCK_ID) is None

    paired = await rig.pair()  # now lose only the final confirmation: the lock is ours
    await paired.close()
    rig.store.update(lambda doc: doc["locks"][LOCK_ID].update(complete=False))
    with pytest.raises(PairingError):
        TTLockDriver(LOCK_ID, rig.store, rig.transport)
    resumed = await TTLockDriver.resume(LOCK_ID, rig.store, rig.transport, timings=FAST)
    assert resumed is not None and resumed.record.complete
    rig.driver = resumed
    await resumed.unlock()
    assert rig.lock.bolt == "unlocked"


async def test_pairing_a_lock_not_in_setting_mode_is_refused(
    driver: TTLockDriver, rig: Rig
) -> None:
    paired = await rig.advert(lambda a: not a.setting_mode)
    with pytest.raises(PairingError, match="not in setting mode"):
        await TTLockDriver.pair(paired, rig.store, PairingParams(), rig.transport, timings=FAST)
    stale = replace(rig.adverts[-1], flags=AdvertFlag.SETTING_MODE)  # an old advert
    with pytest.raises(PairingError, match="not in setting mode"):
        await TTLockDriver.pair(stale, rig.store, PairingParams(), rig.transport, timings=FAST)
    assert rig.lock.paired and rig.store.get_lock(LOCK_ID) is not None


# --- keys rejected, lost and corrupt answers ----------------------------------------------------


async def test_a_lock_reset_by_hand_gives_auth_error(driver: TTLockDriver, rig: Rig) -> None:
    await driver.unlock()
    rig.lock.reset_button()  # held for seconds: the link is long gone before the next command
    await wait_for(lambda: not driver.connected)
    with pytest.raises(AuthError) as info:
        await driver.lock()
    with pytest.raises(AuthError):
        await driver.read_events()  # even commands without login
    assert rig.store.get_lock(LOCK_ID) is not None  # removing it is a person's decision
    assert_no_secrets([str(info.value)], rig.secrets)


async def test_a_dropped_add_passcode_answer_creates_no_duplicate(rig: Rig) -> None:
    driver = await rig.pair(timings=QUICK)
    assert await driver.list_credentials(K.PIN) == []  # the session is up and logged in
    rig.lock.faults.drop_replies = 1
    added = await driver.add_credential(CredentialSpec(K.PIN, "Once only", PIN_A))
    assert added is not None and any("dropped reply" in line for line in rig.lock.log)
    listed = await driver.list_credentials(K.PIN)
    assert [(c.id, c.name) for c in listed] == [(added.id, "Once only")]
    assert list(rig.lock.memory.passcodes) == [PIN_A]
    adds = [p for c, p in requests(rig.lock) if c == C.MANAGE_KEYBOARD_PASSWORD and p[0] == 2]
    assert len(adds) == 1  # checked by listing, never sent twice


async def test_a_dropped_unlock_answer_is_checked_not_resent(rig: Rig) -> None:
    driver = await rig.pair(timings=QUICK)
    await driver.refresh()
    rig.lock.faults.drop_replies = 1
    snapshot = await driver.unlock()
    assert snapshot.status is LockStatus.UNLOCKED and rig.lock.bolt == "unlocked"
    assert [c for c, _ in requests(rig.lock)].count(C.UNLOCK) == 1


async def test_a_corrupted_answer_gives_protocol_error(driver: TTLockDriver, rig: Rig) -> None:
    await driver.refresh()
    rig.lock.faults.corrupt_replies = 1
    with pytest.raises(ProtocolError) as info:
        await driver.refresh()
    assert not isinstance(info.value, AuthError)
    assert (await driver.refresh()).status is LockStatus.LOCKED  # the next answer is fine


async def test_an_unsolicited_status_mid_request_does_not_confuse_matching(
    driver: TTLockDriver, rig: Rig, monkeypatch: pytest.MonkeyPatch
) -> None:
    lock = rig.lock
    await driver.add_credential(CredentialSpec(K.PIN, "Alice", PIN_A))
    answer = lock.dispatch

    def knob_first(command: int, payload: bytes) -> Any:
        if command in (C.PWD_LIST, C.SEARCH_BICYCLE_STATUS):
            lock.turn_knob()  # pushes 0x14 frames (record + bolt) ahead of the answer
        return answer(command, payload)

    monkeypatch.setattr(lock, "dispatch", knob_first)
    listed = await driver.list_credentials(K.PIN)
    assert [(c.name, c.code) for c in listed] == [("Alice", PIN_A)]
    assert driver.snapshot.status is LockStatus.UNLOCKED and lock.bolt == "unlocked"
    assert rig.pushes and rig.pushes[-1].fetch  # the manager is told to read the log
    assert (await driver.refresh()).status is LockStatus.LOCKED == LockStatus(lock.bolt)
    monkeypatch.setattr(lock, "dispatch", answer)
    events = [(e.kind, e.source) for e in await driver.read_events()]
    assert events == [(EventKind.UNLOCKED, EventSource.KEY), (EventKind.LOCKED, EventSource.KEY)]
