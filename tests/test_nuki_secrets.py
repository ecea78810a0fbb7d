"""No Nuki secret reaches the log: keys, the security PIN and keypad codes, in any spelling."""

from __future__ import annotations

import asyncio
import base64
import logging
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from test_nuki_driver import FAST, LOCK_ID, WAIT, Rig, running_rig, wait_for

from ttlock_nuki_addon.credentials import Credential, CredentialKind, CredentialSpec
from ttlock_nuki_addon.errors import LockError
from ttlock_nuki_addon.model import Period
from ttlock_nuki_addon.nuki import pairing_msgs as pm
from ttlock_nuki_addon.nuki.commands import LockState
from ttlock_nuki_addon.nuki.driver import NukiDriver
from ttlock_nuki_addon.params import PairAs, PairingParams
from ttlock_nuki_addon.sim.nuki import create_nuki
from ttlock_nuki_addon.sim.world import SimWorld
from ttlock_nuki_addon.store import Store

# Values chosen so that none of their spellings is likely to occur in a log by chance.
PINS = {"nuki-2": 58213, "nuki-5": 739128}
CODES = ("738159", "926483", "847261")
pytestmark = pytest.mark.timeout(120)


def spellings(value: bytes) -> set[str]:
    """Hex (both cases), base64, decimal (both byte orders) and repr of a byte string."""
    forms = {value.hex(), value.hex().upper(), base64.b64encode(value).decode()}
    forms |= {str(int.from_bytes(value, order)) for order in ("little", "big")}
    if len(value) >= 8:  # long enough that its repr cannot occur by chance
        forms.add(repr(value)[2:-1])
    return forms


def number_spellings(value: int, width: int) -> set[str]:
    """A PIN or code: decimal, hex, and every spelling of its bytes in either order."""
    found = {str(value), f"{value:x}", f"{value:X}"}
    for order in ("little", "big"):
        found |= spellings(value.to_bytes(width, order))
    return found


@pytest.fixture
async def rig(
    sim_world: SimWorld, tmp_path: Path, request: pytest.FixtureRequest
) -> AsyncIterator[Rig]:
    """One virtual Nuki with an unusual PIN and a scanner; logging is left to caplog."""
    kind: str = request.param
    lock = create_nuki(kind, "54:D2:72:33:C3:35", {"security_pin": PINS[kind], "motor_ms": 200})
    async with running_rig(sim_world, Store(tmp_path / "data"), lock) as rig:
        yield rig


@pytest.mark.parametrize("rig", ["nuki-2", "nuki-5"], indirect=True)
async def test_pairing_pin_and_keypad_codes_leave_no_secret_in_the_log(
    rig: Rig, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    caplog.set_level(logging.DEBUG)  # the root logger: every module, bleak and the sim too
    private_keys: list[bytes] = []
    generate = pm.generate_keypair

    def remembered() -> pm.KeyPair:
        pair = generate()
        private_keys.append(pair.private)
        return pair

    monkeypatch.setattr(pm, "generate_keypair", remembered)
    kind, pin = rig.kind, PINS[rig.kind]
    five_g = kind == "nuki-5"
    texts: list[str] = []

    rig.lock.press_button(6)
    found = await rig.advert(lambda a: a.pairing_mode)
    params = PairingParams("Front door", str(pin), PairAs.BRIDGE)
    async with asyncio.timeout(WAIT):
        driver = await NukiDriver.pair(found, rig.store, params, rig.transport, timings=FAST)
    rig.driver = driver
    texts.append(repr(driver.record))
    async with asyncio.timeout(WAIT * 3):
        wrong = "735281" if five_g else "61937"
        try:
            await driver.set_security_pin(wrong)
        except LockError as exc:
            texts.append(exc.message)
        await driver.set_security_pin(str(pin))
        now = await driver.refresh()
        texts.append(repr(now))
        assert now.last_seen is not None
        day = now.last_seen.replace(tzinfo=None, microsecond=0)
        year = Period(day, day.replace(year=day.year + 1))
        added = [
            await driver.add_credential(CredentialSpec(CredentialKind.PIN, "Alice", CODES[0])),
            await driver.add_credential(CredentialSpec(CredentialKind.PIN, "Bob", CODES[1], year)),
        ]
        first = added[0]
        assert first is not None
        changed = Credential(CredentialKind.PIN, first.id, "Alice", CODES[2])
        await driver.update_credential(changed)
        listed = await driver.list_credentials(CredentialKind.PIN)
        texts += [repr(c) for c in listed] + [repr(c) for c in added]
        rig.lock.enter_code(CODES[2])
        await wait_for(lambda: rig.lock.core.lock_state == LockState.UNLOCKED)
        texts += [repr(e) for e in await driver.read_events()]
        for credential in listed:
            await driver.delete_credential(CredentialKind.PIN, credential.id)

    record = rig.store.get_lock(LOCK_ID)
    assert record is not None and isinstance(record["shared_key"], str)
    shared = bytes.fromhex(record["shared_key"])
    assert private_keys and len(rig.lock.core.memory.authorizations) == 1
    width = 4 if five_g else 2
    secrets = spellings(shared)
    for private in private_keys:
        secrets |= spellings(private)
    secrets |= number_spellings(pin, width) | number_spellings(int(wrong), width)
    for code in CODES:
        secrets |= number_spellings(int(code), 4)
    blob = caplog.text + "\n".join(texts)
    assert len(caplog.records) > 50, "the flow logged almost nothing at DEBUG"
    leaked = sorted(s for s in secrets if s in blob)
    assert not leaked, f"{len(leaked)} secret spelling(s) found in the log"
