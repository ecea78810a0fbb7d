"""TTLockDriver end to end: unmodified bleak, the fake BlueZ and the virtual TTLock."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest
from support import LogCollector

from ttlock_nuki_addon.ble.bleak_transport import BleakTransport
from ttlock_nuki_addon.ble.link import LinkTimings
from ttlock_nuki_addon.ble.scanner import ParsedAdvert, Scanner
from ttlock_nuki_addon.ble.transport import GattTransport
from ttlock_nuki_addon.credentials import Credential, CredentialKind, CredentialSpec
from ttlock_nuki_addon.errors import LockTimeoutError, NotSupportedError
from ttlock_nuki_addon.model import (
    AdvertResult,
    EventKind,
    EventSource,
    LockEvent,
    LockStatus,
    Once,
    Period,
    Permanent,
    Weekday,
    Weekly,
)
from ttlock_nuki_addon.params import PairingParams, SettingsUpdate
from ttlock_nuki_addon.sim.ttlock import VirtualTTLock
from ttlock_nuki_addon.sim.ttlock_physical import Outcome
from ttlock_nuki_addon.sim.world import SimWorld
from ttlock_nuki_addon.store import Store
from ttlock_nuki_addon.ttlock import advert
from ttlock_nuki_addon.ttlock.advert import TTLockAdvert
from ttlock_nuki_addon.ttlock.driver import TTLockDriver
from ttlock_nuki_addon.ttlock.features import Feature, FeatureMask
from ttlock_nuki_addon.ttlock.passcode_cmds import PasscodeType
from ttlock_nuki_addon.validity import ValidationError

ADDRESS = "38:38:E5:1D:71:FE"
LOCK_ID = "3838e51d71fe"
WAIT = 15.0  # guards against hangs only; nothing asserts how fast anything is
FAST = LinkTimings(connect_timeout=20, request_timeout=3, write_timeout=5, idle_disconnect=2)
K = CredentialKind
PIN_A, PIN_B, PIN_C, PIN_D, PIN_E = "48151623", "9081726", "55512340", "70707071", "3141592"


async def wait_for(predicate: Callable[[], bool], timeout: float = WAIT) -> None:
    """Poll the simulated world until `predicate` holds (bounded)."""
    async with asyncio.timeout(timeout):
        while not predicate():
            await asyncio.sleep(0.02)


class Rig:
    """One virtual lock, a scanner, a store; adverts are fed to the driver like a manager."""

    def __init__(self, world: SimWorld, scanner: Scanner, store: Store, lock: VirtualTTLock):
        self.world, self.scanner, self.store, self.lock = world, scanner, store, lock
        self.adverts: list[TTLockAdvert] = []
        self.results: list[AdvertResult] = []
        self.pushes: list[AdvertResult] = []
        self.driver: TTLockDriver | None = None
        self.secrets: set[str] = set()

    def heard(self, parsed: ParsedAdvert[Any]) -> None:
        value = parsed.value
        if isinstance(value, TTLockAdvert) and value.address == self.lock.address:
            self.adverts.append(value)
            if self.driver is not None:
                self.results.append(self.driver.on_advert(parsed))

    def transport(self, address: str) -> GattTransport:
        return BleakTransport(address, resolver=self.scanner.ble_device, find_timeout=2.0)

    async def advert(self, predicate: Callable[[TTLockAdvert], bool]) -> TTLockAdvert:
        """The next advert (from now) that satisfies `predicate`."""
        start = len(self.adverts)
        await wait_for(lambda: any(predicate(a) for a in self.adverts[start:]))
        return next(a for a in self.adverts[start:] if predicate(a))

    async def pair(self, name: str = "Front door", **options: Any) -> TTLockDriver:
        self.lock.touch()
        found = await self.advert(lambda a: a.setting_mode)
        options.setdefault("timings", FAST)
        driver = await TTLockDriver.pair(
            found, self.store, PairingParams(name=name), self.transport,
            on_push=self.pushes.append, **options,
        )  # fmt: skip
        self.driver = driver
        self.remember(driver)
        return driver

    def remember(self, driver: TTLockDriver) -> None:
        record = driver.record
        self.secrets |= {record.aes_key.hex(), str(record.keys.admin_ps)}
        self.secrets |= {str(record.keys.unlock_key), record.admin_passcode or "-"}

    def events(self) -> list[LockEvent]:
        return [event for result in self.results for event in result.events]


def assert_no_secrets(texts: list[str], secrets: set[str]) -> None:
    """None of the secrets (keys any case, decimal numbers, codes) occurs in `texts`."""
    blob = "\n".join(texts).lower()
    leaked = sorted(s for s in secrets if s and s.lower() in blob)
    assert not leaked, f"{len(leaked)} secret(s) found in the captured text"


@pytest.fixture
async def rig(
    sim_world: SimWorld, tmp_path: Path, request: pytest.FixtureRequest
) -> AsyncIterator[Rig]:
    """The world with one unpaired virtual lock (awake for long), and every log captured."""
    options = getattr(request, "param", {})
    lock = VirtualTTLock(ADDRESS, wake_seconds=300, **options)
    sim_world.bluez.add_peripheral(lock)
    scanner = Scanner()
    scanner.register_parser("ttlock", advert.matches, advert.parse)
    store = Store(tmp_path / "data")
    rig = Rig(sim_world, scanner, store, lock)
    scanner.subscribe(rig.heard, parser="ttlock")
    collector = LogCollector()
    root = logging.getLogger()
    level = root.level
    root.addHandler(collector)
    root.setLevel(logging.DEBUG)
    await scanner.start()
    try:
        yield rig
    finally:
        if rig.driver is not None:
            await rig.driver.close()
        await scanner.stop()
        root.removeHandler(collector)
        root.setLevel(level)
    # The acceptance item "no secret in the logs", for every test using the rig.
    assert collector.lines, "nothing was logged at DEBUG"
    assert_no_secrets(collector.lines, rig.secrets | {PIN_A, PIN_B, PIN_C, PIN_D, PIN_E})


@pytest.fixture
async def driver(rig: Rig) -> TTLockDriver:
    """The rig's lock, paired."""
    return await rig.pair()


def today(hour: int = 0) -> datetime:
    return datetime.now().replace(hour=hour, minute=0, second=0, microsecond=0)


# --- discovery and pairing ------------------------------------------------------------------


async def test_scan_finds_the_unpaired_lock_only_after_touch(rig: Rig) -> None:
    await asyncio.sleep(2.5)  # several advert intervals of silence
    assert rig.adverts == []
    rig.lock.touch()
    found = await rig.advert(lambda a: True)
    assert found.setting_mode and found.touched and found.mac == ADDRESS


async def test_pairing_stores_the_lock_complete(rig: Rig) -> None:
    driver = await rig.pair("Front door")
    lock, record = rig.lock, rig.store.get_lock(LOCK_ID)
    assert lock.paired and not lock.setting_mode
    assert record is not None and record["complete"] is True
    assert record["aes_key"] == (lock.aes_key or b"").hex()
    assert (record["admin_ps"], record["unlock_key"]) == (lock.admin_ps, lock.unlock_key)
    assert record["admin_passcode"] == lock.memory.admin_code is not None
    assert record["features"] == lock.features.to_hex()
    assert record["model"] == lock.model_number and record["firmware"] == lock.firmware_revision
    assert record["lock_version"] == {
        "protocol_type": 5, "sub_version": 3, "scene": 2, "organization": 1,
        "sub_organization": 1,
    }  # fmt: skip
    offset = datetime.now().astimezone().utcoffset()
    assert offset is not None and record["utc_offset_seconds"] == int(offset.total_seconds())
    assert abs(lock.clock_offset) < timedelta(seconds=5)  # calibrated to the host's wall time
    snapshot = driver.snapshot
    assert (snapshot.id, snapshot.name, snapshot.address) == (LOCK_ID, "Front door", ADDRESS)
    assert {"pin", "card", "fingerprint", "auto_lock", "lock"} <= set(driver.capabilities)
    assert not {"open", "lock_n_go", "unpair"} & set(driver.capabilities)
    assert lock.aes_key is not None and lock.aes_key.hex() not in repr(driver.record)
    assert LOCK_ID in rig.store.lock_ids()


# --- bolt and adverts -------------------------------------------------------------------------


async def test_unlock_and_lock_move_the_bolt(driver: TTLockDriver, rig: Rig) -> None:
    snapshot = await driver.unlock()
    assert rig.lock.bolt == "unlocked" and snapshot.status is LockStatus.UNLOCKED
    assert driver.last_operation is not None and driver.last_operation.utcoffset() is not None
    assert abs(driver.last_operation - datetime.now().astimezone()) < timedelta(minutes=1)
    snapshot = await driver.lock()
    assert rig.lock.bolt == "locked" and snapshot.status is LockStatus.LOCKED
    assert snapshot.battery == rig.lock.battery and snapshot.available
    assert (await driver.refresh()).status is LockStatus.LOCKED


async def test_rename_is_kept_in_snapshot_record_store_and_log_lines(
    driver: TTLockDriver, rig: Rig, caplog: pytest.LogCaptureFixture
) -> None:
    before = await driver.unlock()
    for bad in ("", "   ", "x" * 65):
        with pytest.raises(ValidationError):
            driver.rename(bad)
    assert driver.snapshot == before and driver.record.name == "Front door"
    driver.rename("  Garage ")
    assert driver.snapshot == replace(before, name="Garage") and driver.record.name == "Garage"
    stored = rig.store.get_lock(LOCK_ID)
    assert stored is not None and stored["name"] == "Garage"
    caplog.clear()
    assert (await driver.lock()).name == "Garage"
    assert await driver.add_credential(CredentialSpec(K.PIN, "Family", PIN_A)) is not None
    assert any(r.getMessage().startswith("Garage: ") for r in caplog.records)
    stored = rig.store.get_lock(LOCK_ID)
    assert stored is not None and stored["name"] == "Garage" and stored["credentials"] != {}
    again = TTLockDriver(LOCK_ID, rig.store, rig.transport)
    assert again.snapshot.name == again.record.name == "Garage"
    await again.close()


async def test_status_and_battery_come_from_adverts(driver: TTLockDriver, rig: Rig) -> None:
    await driver.disconnect()  # a connected lock does not advertise
    rig.lock.set_battery(55)
    await wait_for(lambda: driver.snapshot.battery == 55)
    assert driver.snapshot.rssi is not None and driver.snapshot.last_seen is not None
    assert rig.lock.turn_knob() is Outcome.UNLOCKED
    await wait_for(lambda: driver.snapshot.status is LockStatus.UNLOCKED)
    assert any(r.fetch for r in rig.results)  # the knob wrote a log record (bit 1)
    rig.lock.set_battery(10)
    await wait_for(lambda: driver.snapshot.battery == 10)
    assert driver.snapshot.battery_low


# --- passcodes ---------------------------------------------------------------------------------


async def test_passcodes_of_all_four_kinds(driver: TTLockDriver, rig: Rig) -> None:
    lock = rig.lock
    start = today() - timedelta(days=1)
    specs = [
        CredentialSpec(K.PIN, "Family", PIN_A),
        CredentialSpec(K.PIN, "Cleaner", PIN_B, Period(start, start + timedelta(days=30))),
        CredentialSpec(K.PIN, "Plumber", PIN_C, Once(start, start + timedelta(days=3))),
        CredentialSpec(
            K.PIN, "Gardener", PIN_D,
            Weekly(frozenset(Weekday), time(0, 0), time(0, 0), start, start + timedelta(days=60)),
        ),
    ]  # fmt: skip
    added = [await driver.add_credential(spec) for spec in specs]
    assert all(isinstance(c, Credential) for c in added)
    creds = [c for c in added if c is not None]
    assert all(c.id.startswith("pin-") and (c.code or "") not in c.id for c in creds)
    types = {p.code: p.type for p in lock.memory.passcodes.values()}
    assert types == {
        PIN_A: PasscodeType.PERMANENT, PIN_B: PasscodeType.PERIOD,
        PIN_C: PasscodeType.COUNT, PIN_D: PasscodeType.CYCLIC,
    }  # fmt: skip
    listed = await driver.list_credentials(K.PIN)
    assert sorted(listed, key=lambda c: c.name) == sorted(creds, key=lambda c: c.name)
    for code in (PIN_A, PIN_B, PIN_C, PIN_D):  # each works on the keypad right now
        assert lock.enter_pin(code) is Outcome.UNLOCKED
        lock.turn_knob()

    family, cleaner, plumber, gardener = creds
    later = Period(start, start + timedelta(days=7))
    changed = [
        await driver.update_credential(Credential(K.PIN, family.id, "Family", PIN_E)),
        await driver.update_credential(Credential(K.PIN, cleaner.id, "Cleaner", PIN_B, later)),
        await driver.update_credential(Credential(K.PIN, plumber.id, "Plumber (today)", PIN_C,
                                                  Once(start, start + timedelta(days=2)))),
        await driver.update_credential(Credential(K.PIN, gardener.id, "Gardener", PIN_D,
                                                  Period(start, start + timedelta(days=9)))),
    ]  # fmt: skip
    assert set(lock.memory.passcodes) == {PIN_E, PIN_B, PIN_C, PIN_D}
    assert lock.memory.passcodes[PIN_E].original == PIN_A
    assert lock.memory.passcodes[PIN_B].end == later.valid_until
    assert lock.memory.passcodes[PIN_D].type == PasscodeType.PERIOD
    listed = await driver.list_credentials(K.PIN)
    assert sorted(listed, key=lambda c: c.name) == sorted(changed, key=lambda c: c.name)
    assert [c.id for c in changed] == [c.id for c in creds]  # ids survive a code change

    for credential in changed:
        await driver.delete_credential(K.PIN, credential.id)
    await driver.delete_credential(K.PIN, changed[0].id)  # already gone counts as deleted
    assert lock.memory.passcodes == {} and await driver.list_credentials(K.PIN) == []


async def test_listing_adopts_passcodes_the_store_does_not_know(
    driver: TTLockDriver, rig: Rig
) -> None:
    await driver.add_credential(CredentialSpec(K.PIN, "Known", PIN_A))
    rig.store.update(lambda doc: doc["locks"][LOCK_ID].update(credentials={}))
    listed = await driver.list_credentials(K.PIN)
    assert [(c.name, c.code, c.validity) for c in listed] == [("PIN", PIN_A, Permanent())]
    assert await driver.list_credentials(K.PIN) == listed  # the adopted id is kept


async def test_a_keypad_pin_yields_a_named_unlocked_event(driver: TTLockDriver, rig: Rig) -> None:
    pin = await driver.add_credential(CredentialSpec(K.PIN, "Alice", PIN_A))
    assert pin is not None
    await driver.disconnect()
    assert rig.lock.enter_pin(PIN_A + "#") is Outcome.UNLOCKED
    await rig.advert(lambda a: a.unlocked and a.new_records)
    await wait_for(lambda: driver.snapshot.status is LockStatus.UNLOCKED)
    assert rig.results[-1].fetch
    events = await driver.read_events(new_only=True)
    unlocked = [e for e in events if e.kind is EventKind.UNLOCKED]
    assert len(unlocked) == 1
    event = unlocked[0]
    assert (event.source, event.credential_id, event.credential_name) == (
        EventSource.KEYPAD, pin.id, "Alice",
    )  # fmt: skip
    assert event.lock_id == LOCK_ID and event.time.utcoffset() is not None
    assert PIN_A not in repr(events) and PIN_A not in str([e.to_json() for e in events])
    assert await driver.read_events(new_only=True) == []  # nothing new the second time
    assert not rig.lock.memory.log.unread


async def test_the_admin_passcode_is_named_without_its_code(driver: TTLockDriver, rig: Rig) -> None:
    code = driver.record.admin_passcode
    assert code is not None and rig.lock.enter_pin(code) is Outcome.UNLOCKED
    events = await driver.read_events()
    assert next((e.kind, e.source, e.credential_name) for e in events) == (
        EventKind.UNLOCKED, EventSource.KEYPAD, "Admin passcode",
    )  # fmt: skip
    assert code not in repr(events)


# --- cards and fingerprints ---------------------------------------------------------------------


async def enrol(
    driver: TTLockDriver, spec: CredentialSpec, act: Callable[[], Outcome], times: int
) -> tuple[Credential | None, list[tuple[int, int]]]:
    """Start an enrolment, act at the lock `times` times after each prompt, collect progress."""
    steps: list[tuple[int, int]] = []

    async def prompted(count: int) -> None:
        await wait_for(lambda: len(steps) > count)

    task = asyncio.create_task(
        driver.add_credential(spec, lambda p: steps.append((p.step, p.total)))
    )
    for done in range(times):
        await prompted(done)  # the lock asks for the next touch
        act()
    return await asyncio.wait_for(task, WAIT), steps


async def test_a_card_is_enrolled_used_listed_and_deleted(driver: TTLockDriver, rig: Rig) -> None:
    number = 3_456_789_012
    spec = CredentialSpec(K.CARD, "Blue card")
    card, steps = await enrol(driver, spec, lambda: rig.lock.present_card(number), 1)
    assert card == Credential(K.CARD, str(number), "Blue card")
    assert steps == [(0, 1), (1, 1)]
    assert number in rig.lock.memory.cards
    await driver.disconnect()
    assert rig.lock.present_card(number) is Outcome.UNLOCKED
    await wait_for(lambda: any(r.fetch for r in rig.results))
    used = [e for e in await driver.read_events() if e.kind is EventKind.UNLOCKED]
    assert [(e.source, e.credential_id, e.credential_name) for e in used] == [
        (EventSource.CARD, str(number), "Blue card")
    ]
    assert await driver.list_credentials(K.CARD) == [card]
    await driver.delete_credential(K.CARD, card.id)
    assert rig.lock.memory.cards == {} and await driver.list_credentials(K.CARD) == []


async def test_a_fingerprint_is_enrolled_used_listed_and_deleted(
    driver: TTLockDriver, rig: Rig
) -> None:
    start = today() - timedelta(days=1)
    spec = CredentialSpec(
        K.FINGERPRINT, "Bob's thumb", validity=Period(start, start + timedelta(days=5))
    )
    finger, steps = await enrol(driver, spec, lambda: rig.lock.place_finger("thumb"), 4)
    assert finger is not None and finger.kind is K.FINGERPRINT and finger.name == "Bob's thumb"
    assert steps == [(0, 4), (1, 4), (2, 4), (3, 4), (4, 4)]
    stored = rig.lock.memory.fingerprints[int(finger.id)]
    assert (stored.start, stored.end) == (start, start + timedelta(days=5))
    assert rig.lock.place_finger("thumb") is Outcome.UNLOCKED
    assert rig.lock.place_finger("index") is Outcome.REJECTED
    used = [e for e in await driver.read_events() if e.source is EventSource.FINGERPRINT]
    assert [(e.kind, e.credential_name) for e in used] == [
        (EventKind.CREDENTIAL_ADDED, "Bob's thumb"),
        (EventKind.UNLOCKED, "Bob's thumb"),
        (EventKind.FAILED_ATTEMPT, None),
    ]
    assert await driver.list_credentials(K.FINGERPRINT) == [finger]
    weekly = Weekly(frozenset({Weekday.SAT, Weekday.SUN}), time(8), time(20))
    renamed = Credential(K.FINGERPRINT, finger.id, "Bob (weekends)", validity=weekly)
    assert await driver.update_credential(renamed) == renamed
    assert len(rig.lock.memory.cyclic[(1, int(finger.id))]) == 2  # one 0x70 window per day
    assert await driver.list_credentials(K.FINGERPRINT) == [renamed]
    await driver.delete_credential(K.FINGERPRINT, finger.id)
    assert await driver.list_credentials(K.FINGERPRINT) == []


async def test_an_enrolment_can_be_cancelled(driver: TTLockDriver, rig: Rig) -> None:
    steps: list[int] = []
    spec = CredentialSpec(K.CARD, "Never")
    task = asyncio.create_task(driver.add_credential(spec, lambda p: steps.append(p.step)))
    await wait_for(lambda: steps == [0] and rig.lock.enrolment is not None)
    await driver.cancel_enrolment()
    assert await asyncio.wait_for(task, WAIT) is None
    await wait_for(lambda: rig.lock.enrolment is None)  # dropping the link ended add mode
    assert await driver.list_credentials(K.CARD) == []


async def test_an_enrolment_times_out(rig: Rig) -> None:
    driver = await rig.pair(enrol_timeout=1.0)
    with pytest.raises(LockTimeoutError, match="in time"):
        await driver.add_credential(CredentialSpec(K.FINGERPRINT, "Slow"))
    await wait_for(lambda: rig.lock.enrolment is None)


# --- settings, auto-lock -----------------------------------------------------------------------


async def test_auto_lock_is_read_set_and_a_relock_is_reported(
    driver: TTLockDriver, rig: Rig
) -> None:
    settings = await driver.get_settings()
    assert settings.auto_lock_seconds == 0 and settings.auto_lock_min == 1
    changed = await driver.set_settings(SettingsUpdate(auto_lock_seconds=5))
    assert changed.auto_lock_seconds == 5 == rig.lock.memory.settings.auto_lock_seconds
    assert (await driver.get_settings()).auto_lock_seconds == 5
    await driver.unlock()
    assert [e.kind for e in await driver.read_events()] == [EventKind.UNLOCKED]
    await driver.disconnect()  # the lock advertises again; auto-lock fires 5 s after unlock
    await wait_for(lambda: rig.lock.bolt == "locked")
    await wait_for(lambda: driver.snapshot.status is LockStatus.LOCKED)
    relocks = [(e.kind, e.source) for e in rig.events()]
    assert relocks == [(EventKind.LOCKED, EventSource.AUTO)]
    assert await driver.read_events() == []  # no log record, no second report


async def test_a_relock_behind_unread_records_is_reported_by_read_events(
    driver: TTLockDriver, rig: Rig
) -> None:
    await driver.set_settings(SettingsUpdate(auto_lock_seconds=4))
    await driver.disconnect()
    rig.lock.turn_knob()  # unlocks, with a log record nobody reads before the relock
    await wait_for(lambda: rig.lock.bolt == "locked")
    await rig.advert(lambda a: not a.unlocked and a.new_records)
    await wait_for(lambda: driver.snapshot.status is LockStatus.LOCKED and rig.results[-1].fetch)
    assert rig.events() == []  # bit 1 still up: a record may explain the relock
    events = await driver.read_events()
    assert [(e.kind, e.source) for e in events] == [
        (EventKind.UNLOCKED, EventSource.KEY), (EventKind.LOCKED, EventSource.AUTO),
    ]  # fmt: skip


async def test_other_settings(driver: TTLockDriver, rig: Rig) -> None:
    settings = await driver.get_settings()
    assert (settings.sound, settings.passage_mode, settings.remote_unlock) == (True, False, False)
    assert settings.led is None
    wanted = SettingsUpdate(sound=False, passage_mode=True, remote_unlock=True)
    assert (await driver.set_settings(wanted)).passage_mode is True
    memory = rig.lock.memory.settings
    assert (memory.audio_on, memory.remote_unlock, len(memory.passage)) == (False, True, 1)
    assert (await driver.get_settings()).passage_mode is True
    await driver.set_settings(SettingsUpdate(passage_mode=False))
    assert rig.lock.memory.settings.passage == []
    with pytest.raises(NotSupportedError):
        await driver.set_settings(SettingsUpdate(led=True))


@pytest.mark.parametrize(
    "rig", [{"features": FeatureMask.of(Feature.PASSCODE, Feature.AUTO_LOCK)}], indirect=True
)
async def test_what_the_lock_lacks_is_not_supported(driver: TTLockDriver) -> None:
    assert driver.capabilities >= {"pin", "unlock", "auto_lock"}
    assert not driver.capabilities & {"lock", "card", "fingerprint", "sound", "validity_weekly"}
    for call in (driver.lock, driver.open, driver.lock_n_go, driver.unpair):
        with pytest.raises(NotSupportedError):
            await call()
    with pytest.raises(NotSupportedError):
        await driver.add_credential(CredentialSpec(K.CARD, "Card"))
    with pytest.raises(NotSupportedError):
        await driver.list_credentials(K.FINGERPRINT)
    weekly = Weekly(frozenset({Weekday.MON}), time(8), time(9))
    with pytest.raises(NotSupportedError):
        await driver.add_credential(CredentialSpec(K.PIN, "Weekly", PIN_A, weekly))
    with pytest.raises(NotSupportedError):
        await driver.set_settings(SettingsUpdate(sound=True))
    assert await driver.list_credentials() == []
    assert (await driver.get_settings()).sound is None


# --- reset ---------------------------------------------------------------------------------------


async def test_reset_returns_the_lock_to_setting_mode(driver: TTLockDriver, rig: Rig) -> None:
    await driver.add_credential(CredentialSpec(K.PIN, "Gone soon", PIN_A))
    await driver.reset()
    assert rig.lock.setting_mode and not rig.lock.paired and rig.lock.memory.passcodes == {}
    assert rig.store.get_lock(LOCK_ID) is None
    found = await rig.advert(lambda a: a.setting_mode)
    assert found.address == ADDRESS
    second = await rig.pair("Again")  # and it pairs again
    assert second.record.complete
