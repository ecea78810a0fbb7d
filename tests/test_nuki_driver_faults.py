"""NukiDriver under faults: lost answers, drops mid-action, stale challenges, BUSY, jams."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import replace

import pytest
from test_nuki_driver import (  # the rig and its fixtures are shared with the end-to-end tests
    KINDS,
    LOCK_ID,
    Rig,
    commands_received,
    driver,
    rig,
    wait_for,
)

from ttlock_nuki_addon.ble.link import LinkTimings
from ttlock_nuki_addon.errors import (
    AuthError,
    BusyError,
    CommandRejectedError,
    DisconnectedError,
    LockTimeoutError,
    ProtocolError,
)
from ttlock_nuki_addon.model import LockStatus
from ttlock_nuki_addon.nuki.codec import Command, ErrorCode, decrypt
from ttlock_nuki_addon.nuki.commands import LockState, StaleChallengeError
from ttlock_nuki_addon.nuki.driver import NukiDriver

__all__ = ["driver", "rig"]  # fixtures used by name below

QUICK = LinkTimings(connect_timeout=20, request_timeout=1.0, write_timeout=5, idle_disconnect=1.5)
BOUND = 40.0  # no fault may make an operation hang: each call is bounded well above its retries
pytestmark = pytest.mark.timeout(120)


def on_command(rig: Rig, command: int, act: Callable[[], None]) -> None:
    """Call `act` once, right after the lock has handled an encrypted request `command`."""
    lock = rig.lock
    record = rig.store.get_lock(LOCK_ID)
    assert record is not None and isinstance(record["shared_key"], str)
    key = bytes.fromhex(record["shared_key"])
    handle = lock.on_write

    async def wrapped(char: str, data: bytes, with_response: bool) -> None:
        await handle(char, data, with_response)
        try:
            seen = decrypt(key, data).command
        except ProtocolError:
            return
        if seen == command:
            lock.on_write = handle  # type: ignore[method-assign]
            act()

    lock.on_write = wrapped  # type: ignore[method-assign,assignment]


def mute_until_reconnect(rig: Rig) -> None:
    """Silence the lock (the motor still runs) until the next connection."""
    lock = rig.lock
    lock.faults.mute = True
    connect = lock.on_connect

    def unmute() -> None:
        lock.faults.mute = False
        connect()

    lock.on_connect = unmute  # type: ignore[method-assign]


@pytest.fixture
async def quick(rig: Rig) -> NukiDriver:
    """The rig's lock paired as bridge with short reply timeouts."""
    return await rig.pair(timings=QUICK)


def actions_received(rig: Rig) -> int:
    """Lock Actions written to the lock (handled, or refused with BUSY / BAD_NONCE)."""
    return commands_received(rig).count(Command.LOCK_ACTION)


# --- lost answers ---------------------------------------------------------------------------------


@pytest.mark.parametrize("rig", KINDS, indirect=True)
async def test_a_lost_answer_to_a_read_is_asked_again(quick: NukiDriver, rig: Rig) -> None:
    rig.lock.faults.drop_replies = 1
    async with asyncio.timeout(BOUND):
        snapshot = await quick.refresh()
    assert snapshot.status is LockStatus.LOCKED and rig.lock.faults.drop_replies == 0


@pytest.mark.parametrize("rig", KINDS, indirect=True)
async def test_lost_answers_to_an_unlock_are_not_followed_by_a_second_unlock(
    quick: NukiDriver, rig: Rig
) -> None:
    on_command(rig, Command.LOCK_ACTION, lambda: mute_until_reconnect(rig))
    async with asyncio.timeout(BOUND):
        snapshot = await quick.unlock()
    assert snapshot.status is LockStatus.UNLOCKED
    assert rig.lock.core.lock_state == LockState.UNLOCKED
    assert actions_received(rig) == 1 and rig.notes("motor: unlock") == 1


async def test_lost_answers_to_an_unlatch_that_is_over_still_count_as_done(
    quick: NukiDriver, rig: Rig
) -> None:
    core = rig.lock.core  # an unlatch that is over before the lock is asked again
    core.settings = replace(
        core.settings, advanced=replace(core.settings.advanced, unlatch_duration=0)
    )
    await quick.refresh()  # the driver knows the last action before
    on_command(rig, Command.LOCK_ACTION, lambda: mute_until_reconnect(rig))
    async with asyncio.timeout(BOUND):
        snapshot = await quick.open()
    assert core.lock_state == LockState.UNLOCKED and snapshot.status is LockStatus.UNLOCKED
    assert rig.notes("motor: unlatch") == 1 and actions_received(rig) == 1


# --- a drop mid-action ----------------------------------------------------------------------------


@pytest.mark.parametrize("rig", KINDS, indirect=True)
async def test_a_drop_right_after_the_lock_action_waits_for_the_motor(
    quick: NukiDriver, rig: Rig
) -> None:
    faults = rig.lock.faults
    on_command(rig, Command.LOCK_ACTION, lambda: setattr(faults, "drop_link_after_writes", 1))
    async with asyncio.timeout(BOUND):
        snapshot = await quick.unlock()
    assert snapshot.status is LockStatus.UNLOCKED and actions_received(rig) == 1


async def test_a_drop_before_the_lock_action_sends_lock_once_more(
    quick: NukiDriver, rig: Rig
) -> None:
    await quick.unlock()
    await wait_for(lambda: not quick.connected)
    faults = rig.lock.faults  # drop after the challenge request: the action is not handled
    on_command(rig, Command.REQUEST_DATA, lambda: setattr(faults, "drop_link_after_writes", 1))
    async with asyncio.timeout(BOUND):
        snapshot = await quick.lock()
    assert snapshot.status is LockStatus.LOCKED and rig.notes("motor: lock") == 1


async def test_a_drop_before_an_unlatch_is_not_retried_but_reported(
    quick: NukiDriver, rig: Rig
) -> None:
    await quick.refresh()
    await wait_for(lambda: not quick.connected)
    faults = rig.lock.faults
    on_command(rig, Command.REQUEST_DATA, lambda: setattr(faults, "drop_link_after_writes", 1))
    with pytest.raises((DisconnectedError, LockTimeoutError)) as caught:
        async with asyncio.timeout(BOUND):
            await quick.open()
    assert "may not have acted" in caught.value.message
    assert rig.notes("motor:") == 0 and rig.lock.core.lock_state == LockState.LOCKED


# --- stale challenges, BUSY, jams, corrupt frames -------------------------------------------------


@pytest.mark.parametrize("rig", KINDS, indirect=True)
async def test_a_stale_challenge_is_retried_once_with_a_fresh_one(
    quick: NukiDriver, rig: Rig
) -> None:
    rig.lock.core.knobs.stale_challenge = 1
    async with asyncio.timeout(BOUND):
        assert (await quick.unlock()).status is LockStatus.UNLOCKED
    assert actions_received(rig) == 2  # the refused one did nothing (spec §4.1)
    rig.lock.core.knobs.stale_challenge = 2
    with pytest.raises(StaleChallengeError):
        async with asyncio.timeout(BOUND):
            await quick.lock()
    assert rig.lock.core.lock_state == LockState.UNLOCKED and actions_received(rig) == 4


@pytest.mark.parametrize("rig", KINDS, indirect=True)
async def test_busy_is_retried_with_backoff_then_reported(quick: NukiDriver, rig: Rig) -> None:
    rig.lock.core.knobs.busy = 2
    async with asyncio.timeout(BOUND):
        assert (await quick.unlock()).status is LockStatus.UNLOCKED
    assert actions_received(rig) == 3
    rig.lock.core.knobs.busy = 10
    with pytest.raises(BusyError):
        async with asyncio.timeout(BOUND):
            await quick.lock()
    assert actions_received(rig) == 6 and rig.lock.core.lock_state == LockState.UNLOCKED


async def test_a_blocked_motor_is_a_typed_refusal_and_a_jammed_snapshot(
    quick: NukiDriver, rig: Rig
) -> None:
    rig.lock.core.knobs.jam = 1
    with pytest.raises(CommandRejectedError) as caught:
        async with asyncio.timeout(BOUND):
            await quick.unlock()
    assert caught.value.lock_code == ErrorCode.K_ERROR_MOTOR_BLOCKED
    assert quick.snapshot.status is LockStatus.JAMMED and actions_received(rig) == 1


async def test_a_corrupt_answer_is_a_protocol_error_not_a_hang(quick: NukiDriver, rig: Rig) -> None:
    rig.lock.faults.corrupt_replies = 1
    with pytest.raises(ProtocolError):
        async with asyncio.timeout(BOUND):
            await quick.refresh()
    await quick.disconnect()
    async with asyncio.timeout(BOUND):
        assert (await quick.refresh()).status is LockStatus.LOCKED


@pytest.mark.parametrize("rig", ["nuki-1", "nuki-5"], indirect=True)
async def test_keys_the_lock_forgot_fail_at_once_with_auth_error(
    quick: NukiDriver, rig: Rig
) -> None:
    rig.lock.core.memory.authorizations.clear()  # removed in the Nuki app, or a reset
    with pytest.raises(AuthError, match="pair it again"):
        async with asyncio.timeout(BOUND):
            await quick.unlock()  # unencrypted K_ERROR_NOT_AUTHORIZED on a92ee201 (spec §1.4)
    assert rig.lock.core.lock_state == LockState.LOCKED and rig.notes("motor:") == 0
