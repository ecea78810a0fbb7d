"""Nuki pairing via the fake BlueZ: app id, family detection, refusals, interruptions, resume."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import pytest
from test_nuki_driver import FAST, LOCK_ID, WAIT, Rig, rig

from ttlock_nuki_addon.errors import PairingError
from ttlock_nuki_addon.nuki.codec import Command, parse_plain
from ttlock_nuki_addon.nuki.driver import NukiDriver
from ttlock_nuki_addon.nuki.pairing import APP_ID_KEY
from ttlock_nuki_addon.params import PairAs, PairingParams

__all__ = ["rig"]  # fixture used by name below
pytestmark = pytest.mark.timeout(120)


async def pair_now(rig: Rig, pin: str | None, pair_as: PairAs = PairAs.BRIDGE) -> NukiDriver:
    """Put the lock into pairing mode and pair (bounded)."""
    rig.lock.press_button(6)
    found = await rig.advert(lambda a: a.pairing_mode)
    params = PairingParams("Front door", pin, pair_as)
    async with asyncio.timeout(WAIT):
        driver = await NukiDriver.pair(found, rig.store, params, rig.transport, timings=FAST)
    rig.driver = driver
    return driver


def plain_commands(rig: Rig) -> list[int]:
    """Commands of the unencrypted pairing messages the lock got."""
    found = []
    for raw in rig.lock.writes:
        plain = parse_plain(raw) if len(raw) >= 4 else None
        if plain is not None and plain.crc_ok:
            found.append(plain.command)
    return found


def swallow(rig: Rig, command: int) -> None:
    """The lock never handles the next plain `command`: the link drops instead."""
    lock = rig.lock
    handle = lock.on_write

    async def wrapped(char: str, data: bytes, with_response: bool) -> None:
        plain = parse_plain(data) if len(data) >= 4 else None
        if plain is not None and plain.crc_ok and plain.command == command:
            lock.on_write = handle  # type: ignore[method-assign]
            lock.drop_link()
            return
        await handle(char, data, with_response)

    lock.on_write = wrapped  # type: ignore[method-assign,assignment]


# --- app id and family ----------------------------------------------------------------------------


async def test_the_app_id_is_made_once_and_reused_so_re_pairing_replaces(rig: Rig) -> None:
    first = await pair_now(rig, rig.pin)
    app_id = rig.store.installation()[APP_ID_KEY]
    assert isinstance(app_id, int) and 0 < app_id <= 0xFFFFFFFF
    await first.close()
    rig.store.remove_lock(LOCK_ID)
    await pair_now(rig, rig.pin)
    assert rig.store.installation()[APP_ID_KEY] == app_id
    (auth,) = rig.lock.core.memory.authorizations.values()  # the first one was replaced
    assert auth.app_id == app_id


@pytest.mark.parametrize("rig", ["nuki-2", "nuki-5"], indirect=True)
async def test_the_family_comes_from_the_characteristics_when_the_advert_lacks_it(
    rig: Rig,
) -> None:
    rig.lock.press_button(6)
    found = replace(await rig.advert(lambda a: a.pairing_mode), family=None)
    params = PairingParams("Front door", rig.pin)
    async with asyncio.timeout(WAIT):
        driver = await NukiDriver.pair(found, rig.store, params, rig.transport, timings=FAST)
    rig.driver = driver
    assert driver.record.family is rig.lock.variant.family
    assert len(rig.lock.core.memory.authorizations) == 1


# --- refusals -------------------------------------------------------------------------------------


async def test_max_users_says_to_remove_an_authorization(rig: Rig) -> None:
    rig.lock.core.memory.max_authorizations = 0
    with pytest.raises(PairingError, match="Remove an unused one in the Nuki app"):
        await pair_now(rig, rig.pin)
    assert rig.store.lock_ids() == []


@pytest.mark.parametrize("rig", ["nuki-5"], indirect=True)
async def test_a_5g_lock_needs_its_code_before_anything_is_sent(rig: Rig) -> None:
    with pytest.raises(PairingError, match="6-digit security code"):
        await pair_now(rig, None)
    assert plain_commands(rig) == [] and rig.store.lock_ids() == []


@pytest.mark.parametrize("rig", ["nuki-5"], indirect=True)
async def test_a_wrong_5g_code_is_tried_once_and_explained(rig: Rig) -> None:
    with pytest.raises(PairingError) as caught:
        await pair_now(rig, "135799")
    assert "6-digit security code" in caught.value.message
    assert "does not retry" in caught.value.message
    assert rig.notes("security PIN (K_ERROR_BAD_PIN)") == 1
    assert rig.lock.core.memory.authorizations == {} and rig.store.lock_ids() == []


# --- interrupted pairing and resume ---------------------------------------------------------------


async def test_a_lost_status_after_the_confirmation_is_settled_as_paired(rig: Rig) -> None:
    rig.lock.press_button(6)
    found = await rig.advert(lambda a: a.pairing_mode)
    handle = rig.lock.on_write

    async def lose_the_status(char: str, data: bytes, with_response: bool) -> None:
        await handle(char, data, with_response)
        plain = parse_plain(data) if len(data) >= 4 else None
        if plain is not None and plain.command == Command.AUTHORIZATION_ID_CONFIRMATION:
            rig.lock.faults.drop_replies = 1

    rig.lock.on_write = lose_the_status  # type: ignore[method-assign,assignment]
    params = PairingParams("Front door", rig.pin)
    async with asyncio.timeout(WAIT):
        driver = await NukiDriver.pair(found, rig.store, params, rig.transport, timings=FAST)
    rig.driver = driver
    record = rig.store.get_lock(LOCK_ID)
    assert record is not None and record["complete"] is True
    assert len(rig.lock.core.memory.authorizations) == 1


async def test_a_pairing_the_lock_did_not_keep_is_removed(rig: Rig) -> None:
    swallow(rig, Command.AUTHORIZATION_ID_CONFIRMATION)
    with pytest.raises(PairingError, match="did not keep it"):
        await pair_now(rig, rig.pin)
    assert rig.store.lock_ids() == [] and rig.lock.core.memory.authorizations == {}


async def test_resume_settles_an_unfinished_record_both_ways(rig: Rig) -> None:
    driver = await pair_now(rig, rig.pin)
    await driver.close()
    rig.driver = None
    rig.store.update(lambda doc: doc["locks"][LOCK_ID].update(complete=False))
    async with asyncio.timeout(WAIT):
        resumed = await NukiDriver.resume(LOCK_ID, rig.store, rig.transport, timings=FAST)
    assert resumed is not None and resumed.record.complete
    await resumed.close()
    rig.store.update(lambda doc: doc["locks"][LOCK_ID].update(complete=False))
    rig.lock.core.memory.authorizations.clear()  # the lock never kept it
    async with asyncio.timeout(WAIT):
        gone = await NukiDriver.resume(LOCK_ID, rig.store, rig.transport, timings=FAST)
    assert gone is None and rig.store.lock_ids() == []


# --- unpair ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("rig", ["nuki-2", "nuki-5"], indirect=True)
async def test_unpair_removes_our_authorization_and_forgets_the_lock(rig: Rig) -> None:
    driver = await pair_now(rig, rig.pin)
    assert len(rig.lock.core.memory.authorizations) == 1
    async with asyncio.timeout(WAIT):
        await driver.unpair()
    assert rig.lock.core.memory.authorizations == {} and rig.store.lock_ids() == []
