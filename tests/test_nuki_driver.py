"""NukiDriver end to end: unmodified bleak, the fake BlueZ and the four virtual Nuki variants."""

from __future__ import annotations

import asyncio
import contextlib
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
from ttlock_nuki_addon.errors import NotSupportedError, PairingError, ProtocolError
from ttlock_nuki_addon.model import (
    AdvertResult,
    EventKind,
    EventSource,
    LockSnapshot,
    LockStatus,
    Once,
    Period,
    Permanent,
    ValidationError,
    Validity,
    Weekday,
    Weekly,
)
from ttlock_nuki_addon.nuki import advert
from ttlock_nuki_addon.nuki.advert import NukiAdvert
from ttlock_nuki_addon.nuki.codec import Command, decrypt
from ttlock_nuki_addon.nuki.commands import BadPinError, LockState
from ttlock_nuki_addon.nuki.driver import NukiDriver, PinNeededError
from ttlock_nuki_addon.nuki.driver_creds import time_limit_of, validity_of
from ttlock_nuki_addon.nuki.driver_events import FIRST_LOG_PAGE, LOG_PAGE, BeaconWatch
from ttlock_nuki_addon.nuki.gatt import Family
from ttlock_nuki_addon.nuki.log_cmds import LogRequest, parse_request_log_entries
from ttlock_nuki_addon.nuki.pairing import APP_ID_KEY
from ttlock_nuki_addon.nuki.pairing_msgs import IdType
from ttlock_nuki_addon.nuki.protected import unprotect
from ttlock_nuki_addon.params import PairAs, PairingParams, SettingsUpdate
from ttlock_nuki_addon.sim.nuki import VirtualNuki, create_nuki
from ttlock_nuki_addon.sim.world import SimWorld
from ttlock_nuki_addon.store import Store

ADDRESS = "54:D2:72:33:C3:35"
LOCK_ID = "54d27233c335"
WAIT = 20.0  # guards against hangs only; nothing asserts how fast anything is
FAST = LinkTimings(connect_timeout=20, request_timeout=4, write_timeout=5, idle_disconnect=1.5)
KINDS = ("nuki-1", "nuki-2", "nuki-4", "nuki-5")
LEGACY_PIN, ULTRA_PIN = "4711", "246813"
CODE_A, CODE_B, CODE_C = "345678", "567894", "987654"
K = CredentialKind
pytestmark = pytest.mark.timeout(120)


async def wait_for(predicate: Callable[[], bool], timeout: float = WAIT) -> None:
    """Poll the simulated world until `predicate` holds (bounded)."""
    async with asyncio.timeout(timeout):
        while not predicate():
            await asyncio.sleep(0.02)


def pin_of(kind: str) -> str:
    """The security PIN the rig's lock of `kind` is set to."""
    return ULTRA_PIN if kind == "nuki-5" else LEGACY_PIN


class Rig:
    """One virtual Nuki, a scanner and a store; adverts are fed to the driver like a manager."""

    def __init__(self, world: SimWorld, scanner: Scanner, store: Store, lock: VirtualNuki):
        self.world, self.scanner, self.store, self.lock = world, scanner, store, lock
        self.adverts: list[NukiAdvert] = []
        self.results: list[AdvertResult] = []
        self.pushes: list[AdvertResult] = []
        self.states: list[LockSnapshot] = []
        self.driver: NukiDriver | None = None

    @property
    def kind(self) -> str:
        return self.lock.variant.kind

    @property
    def pin(self) -> str:
        return pin_of(self.kind)

    def heard(self, parsed: ParsedAdvert[Any]) -> None:
        value = parsed.value
        if isinstance(value, NukiAdvert) and value.address == self.lock.address:
            self.adverts.append(value)
            if self.driver is not None:
                self.results.append(self.driver.on_advert(parsed))

    def transport(self, address: str) -> GattTransport:
        return BleakTransport(address, resolver=self.scanner.ble_device, find_timeout=2.0)

    async def advert(self, predicate: Callable[[NukiAdvert], bool]) -> NukiAdvert:
        """The next advert (from now) that satisfies `predicate`."""
        start = len(self.adverts)
        await wait_for(lambda: any(predicate(a) for a in self.adverts[start:]))
        return next(a for a in self.adverts[start:] if predicate(a))

    async def pair(
        self, pair_as: PairAs = PairAs.BRIDGE, pin: str | None = "", **options: Any
    ) -> NukiDriver:
        self.lock.press_button(6)
        found = await self.advert(lambda a: a.pairing_mode)
        options.setdefault("timings", FAST)
        options.setdefault("busy_backoff", (0.1, 0.2))
        params = PairingParams("Front door", self.pin if pin == "" else pin, pair_as)
        driver = await NukiDriver.pair(
            found, self.store, params, self.transport,
            on_push=self.pushes.append, on_state=self.states.append, **options,
        )  # fmt: skip
        self.driver = driver
        return driver

    def notes(self, text: str) -> int:
        return sum(text in line for line in self.lock.log)


@contextlib.asynccontextmanager
async def running_rig(world: SimWorld, store: Store, lock: VirtualNuki) -> AsyncIterator[Rig]:
    """`lock` added to the world and a started scanner feeding a Rig; both closed after."""
    world.bluez.add_peripheral(lock)
    scanner = Scanner()
    scanner.register_parser("nuki", advert.matches, advert.parse)
    rig = Rig(world, scanner, store, lock)
    scanner.subscribe(rig.heard, parser="nuki")
    await scanner.start()
    try:
        yield rig
    finally:
        if rig.driver is not None:
            await rig.driver.close()
        await scanner.stop()


@pytest.fixture
async def rig(
    sim_world: SimWorld, tmp_path: Path, request: pytest.FixtureRequest
) -> AsyncIterator[Rig]:
    """The world with one virtual Nuki of the parametrized kind; every log line captured."""
    kind = getattr(request, "param", "nuki-2")
    lock = create_nuki(kind, ADDRESS, {"security_pin": int(pin_of(kind)), "motor_ms": 300})
    collector = LogCollector()
    root = logging.getLogger()
    level = root.level
    root.addHandler(collector)
    root.setLevel(logging.DEBUG)
    try:
        async with running_rig(sim_world, Store(tmp_path / "data"), lock) as rig:
            yield rig
    finally:
        root.removeHandler(collector)
        root.setLevel(level)
    blob = "\n".join(collector.lines)
    for secret in (rig.pin, CODE_A, CODE_B, CODE_C):
        assert secret not in blob, "a secret reached the log"


@pytest.fixture
async def driver(rig: Rig) -> NukiDriver:
    """The rig's lock, paired as bridge with its security PIN."""
    return await rig.pair()


every_kind = pytest.mark.parametrize("rig", KINDS, indirect=True)
"""Run a test against each of the four variants."""


def statuses(rig: Rig) -> list[LockStatus]:
    """The snapshot states reported, without repeats."""
    seen: list[LockStatus] = []
    for snapshot in rig.states:
        if not seen or seen[-1] is not snapshot.status:
            seen.append(snapshot.status)
    return seen


# --- pairing --------------------------------------------------------------------------------------


@every_kind
async def test_pairing_a_lock_not_in_pairing_mode_fails_with_a_sentence(rig: Rig) -> None:
    found = await rig.advert(lambda a: not a.pairing_mode)
    params = PairingParams("Front door", rig.pin)
    with pytest.raises(PairingError) as caught:
        await asyncio.wait_for(
            NukiDriver.pair(found, rig.store, params, rig.transport, timings=FAST), WAIT
        )
    assert "pairing mode" in caught.value.message and "5 seconds" in caught.value.message
    assert rig.store.lock_ids() == [] and rig.lock.core.memory.authorizations == {}


@every_kind
@pytest.mark.parametrize("pair_as", [PairAs.BRIDGE, PairAs.APP])
async def test_pairing_stores_the_keys_and_reads_the_config(rig: Rig, pair_as: PairAs) -> None:
    driver = await rig.pair(pair_as)
    core, record = rig.lock.core, rig.store.get_lock(LOCK_ID)
    assert record is not None and record["complete"] is True
    (auth,) = core.memory.authorizations.values()
    assert record["shared_key"] == auth.shared_key.hex() and record["auth_id"] == auth.auth_id
    assert record["app_id"] == rig.store.installation()[APP_ID_KEY] == auth.app_id
    five_g = rig.kind == "nuki-5"
    wanted_type = IdType.APP if five_g or pair_as is PairAs.APP else IdType.BRIDGE
    assert auth.id_type == record["id_type"] == wanted_type
    assert record["security_pin"] == int(rig.pin) and not record["pin_rejected"]
    assert record["nuki_id"] == core.nuki_id and record["firmware"] == ".".join(
        str(part) for part in rig.lock.variant.firmware
    )
    assert record["family"] == (Family.SMART_LOCK_5G if five_g else Family.SMART_LOCK)
    models = {
        "nuki-1": "Smart Lock 1.0",
        "nuki-2": "Smart Lock 2.0",
        "nuki-4": "Smart Lock 3.0 / 4th gen",
        "nuki-5": "Smart Lock 5th gen / Ultra",
    }
    assert record["model"] == driver.snapshot.model == models[rig.kind]
    assert not any("private" in key for key in record)
    assert auth.shared_key.hex() not in repr(driver.record)
    assert abs(core.clock_offset) < timedelta(seconds=5)  # Update Time with the PIN
    assert not core.pairing_mode


# --- lock actions ---------------------------------------------------------------------------------


@every_kind
async def test_lock_actions_pass_through_intermediate_states(driver: NukiDriver, rig: Rig) -> None:
    core = rig.lock.core
    assert core.lock_state == LockState.LOCKED
    rig.states.clear()
    snapshot = await driver.unlock()
    assert snapshot.status is LockStatus.UNLOCKED and core.lock_state == LockState.UNLOCKED
    assert statuses(rig)[-2:] == [LockStatus.UNLOCKING, LockStatus.UNLOCKED]
    rig.states.clear()
    snapshot = await driver.lock()
    assert snapshot.status is LockStatus.LOCKED and core.lock_state == LockState.LOCKED
    assert statuses(rig)[-2:] == [LockStatus.LOCKING, LockStatus.LOCKED]
    rig.states.clear()
    snapshot = await driver.open()
    assert LockStatus.OPENING in statuses(rig)
    assert snapshot.status in (LockStatus.OPEN, LockStatus.UNLOCKED)
    await wait_for(lambda: core.motion is None)
    await driver.lock()
    rig.states.clear()
    snapshot = await driver.lock_n_go()
    assert LockStatus.UNLOCKING in statuses(rig)
    assert snapshot.status is LockStatus.UNLOCKED
    assert snapshot.battery == core.battery and snapshot.available
    assert (await driver.refresh()).status in (LockStatus.UNLOCKED, LockStatus.LOCKED)


async def test_rename_is_kept_in_snapshot_record_store_and_log_lines(
    driver: NukiDriver, rig: Rig, caplog: pytest.LogCaptureFixture
) -> None:
    before = await driver.unlock()
    for bad in ("", "   ", "x" * 65):
        with pytest.raises(ValidationError):
            driver.rename(bad)
    assert driver.snapshot == before and driver.record.name == "Front door"
    driver.rename("  Cellar ")
    assert driver.snapshot == replace(before, name="Cellar") and driver.record.name == "Cellar"
    stored = rig.store.get_lock(LOCK_ID)
    assert stored is not None and stored["name"] == "Cellar"
    index = stored["last_log_index"]
    caplog.clear()
    assert (await driver.lock()).name == "Cellar"
    await driver.read_events()  # writes the record back with the newest log index
    assert any(r.getMessage().startswith("Cellar: ") for r in caplog.records)
    stored = rig.store.get_lock(LOCK_ID)
    assert stored is not None and stored["last_log_index"] != index
    assert stored["name"] == "Cellar"
    again = NukiDriver(LOCK_ID, rig.store, rig.transport)
    assert again.snapshot.name == again.record.name == "Cellar"
    await again.close()


def commands_received(rig: Rig) -> list[int]:
    """Command ids of every encrypted request the lock got, opened with the stored key."""
    record = rig.store.get_lock(LOCK_ID)
    assert record is not None and isinstance(record["shared_key"], str)
    key = bytes.fromhex(record["shared_key"])
    found = []
    for raw in rig.lock.writes:
        try:
            found.append(decrypt(key, raw).command)
        except ProtocolError:
            continue  # pairing traffic, or another key's
    return found


# --- keypad codes ---------------------------------------------------------------------------------


def today(hour: int = 0) -> datetime:
    return datetime.now().replace(hour=hour, minute=0, second=0, microsecond=0)


@every_kind
async def test_keypad_codes_with_and_without_time_limits(driver: NukiDriver, rig: Rig) -> None:
    memory = rig.lock.core.memory
    start = today() - timedelta(days=1)
    period = Period(start, start + timedelta(days=30))
    weekly = Weekly(frozenset({Weekday.SAT, Weekday.SUN}), time(8), time(20), start, None)
    specs = [
        CredentialSpec(K.PIN, "Family", CODE_A),
        CredentialSpec(K.PIN, "Cleaner", CODE_B, period),
        CredentialSpec(K.PIN, "Gardener", CODE_C, weekly),
    ]
    added = [await driver.add_credential(spec) for spec in specs]
    creds = [c for c in added if c is not None]
    assert [c.id for c in creds] == [str(i) for i in sorted(memory.keypad_codes)]
    stored = {str(c.code): c for c in memory.keypad_codes.values()}
    assert {stored[c.code or ""].name for c in creds} == {"Family", "Cleaner", "Gardener"}
    assert stored[CODE_A].time_limit is None
    limit_b = stored[CODE_B].time_limit
    assert limit_b is not None and (limit_b.allowed_from, limit_b.allowed_until) == (
        period.valid_from, period.valid_until,
    )  # fmt: skip
    limit_c = stored[CODE_C].time_limit
    assert limit_c is not None and limit_c.weekdays == weekly.days
    assert (limit_c.from_time, limit_c.until_time) == (time(8), time(20))
    listed = await driver.list_credentials(K.PIN)
    assert sorted(listed, key=lambda c: c.id) == sorted(creds, key=lambda c: c.id)

    family, cleaner, gardener = creds
    later = Period(start, start + timedelta(days=7))
    changed = await driver.update_credential(
        Credential(K.PIN, cleaner.id, "Cleaner 2", CODE_B, later)
    )
    assert changed.validity == later
    entry = memory.keypad_codes[int(cleaner.id)]
    assert entry.name == "Cleaner 2" and entry.time_limit is not None
    assert entry.time_limit.allowed_until == later.valid_until
    await driver.update_credential(Credential(K.PIN, gardener.id, "Gardener", CODE_C))
    assert memory.keypad_codes[int(gardener.id)].time_limit is None
    by_id = {c.id: c for c in await driver.list_credentials()}
    assert by_id[cleaner.id].name == "Cleaner 2" and by_id[gardener.id].validity == Permanent()

    await driver.delete_credential(K.PIN, family.id)
    await driver.delete_credential(K.PIN, family.id)  # already gone counts as deleted
    assert int(family.id) not in memory.keypad_codes
    assert {c.id for c in await driver.list_credentials(K.PIN)} == {cleaner.id, gardener.id}


async def test_what_nuki_keypads_cannot_do_is_refused_with_a_sentence(
    driver: NukiDriver, rig: Rig
) -> None:
    start = today()
    with pytest.raises(NotSupportedError, match="single use"):
        await driver.add_credential(
            CredentialSpec(K.PIN, "Plumber", CODE_A, Once(start, start + timedelta(days=1)))
        )
    with pytest.raises(NotSupportedError, match="cards and fingerprints"):
        await driver.list_credentials(K.CARD)
    with pytest.raises(ValidationError, match="6 digits"):
        await driver.add_credential(CredentialSpec(K.PIN, "Short", "1234"))
    with pytest.raises(ValidationError, match="20 bytes"):
        await driver.add_credential(CredentialSpec(K.PIN, "A name far too long for it", CODE_A))
    assert rig.lock.core.memory.keypad_codes == {}
    await driver.cancel_enrolment()  # nothing to cancel


@every_kind
async def test_a_code_on_the_keypad_yields_a_named_unlocked_event(
    driver: NukiDriver, rig: Rig
) -> None:
    added = await driver.add_credential(CredentialSpec(K.PIN, "Alice", CODE_A))
    assert added is not None
    assert await driver.read_events() == []
    assert rig.lock.enter_code(CODE_A)["outcome"] in ("moving", "done")
    await wait_for(lambda: rig.lock.core.lock_state == LockState.UNLOCKED)
    rig.lock.enter_code("999999")
    events = await driver.read_events(new_only=True)
    unlocked = [e for e in events if e.kind is EventKind.UNLOCKED]
    assert [(e.source, e.credential_id, e.credential_name) for e in unlocked] == [
        (EventSource.KEYPAD, added.id, "Alice")
    ]
    failed = [e for e in events if e.kind is EventKind.FAILED_ATTEMPT]
    assert [(e.source, e.credential_id) for e in failed] == [(EventSource.KEYPAD, None)]
    assert all(e.lock_id == LOCK_ID and e.time.utcoffset() is not None for e in events)
    assert CODE_A not in repr(events)
    assert await driver.read_events(new_only=True) == []  # nothing new the second time
    assert driver.snapshot.status is LockStatus.UNLOCKED


@every_kind
async def test_a_knob_turn_and_the_door_yield_events(driver: NukiDriver, rig: Rig) -> None:
    rig.lock.turn_knob()
    rig.lock.open_door()
    rig.lock.close_door()
    rig.lock.turn_knob()
    events = await driver.read_events()
    assert [(e.kind, e.source) for e in events] == [
        (EventKind.UNLOCKED, EventSource.MANUAL),
        (EventKind.DOOR_OPENED, EventSource.UNKNOWN),
        (EventKind.DOOR_CLOSED, EventSource.UNKNOWN),
        (EventKind.LOCKED, EventSource.MANUAL),
    ]
    await driver.unlock()
    events = await driver.read_events()
    assert [(e.kind, e.source, e.user) for e in events] == [
        (EventKind.UNLOCKED, EventSource.APP, "Home Assistant")
    ]
    assert driver.snapshot.door is not None and "door_sensor" in driver.capabilities


def log_requests(rig: Rig) -> list[LogRequest]:
    """Every Request Log Entries the lock got, as parsed fields."""
    record = rig.store.get_lock(LOCK_ID)
    assert record is not None and isinstance(record["shared_key"], str)
    key = bytes.fromhex(record["shared_key"])
    width = 4 if rig.lock.variant.family is Family.SMART_LOCK_5G else 2
    asked = []
    for raw in rig.lock.writes:
        try:
            message = decrypt(key, raw)
        except ProtocolError:
            continue
        if message.command == Command.REQUEST_LOG_ENTRIES:
            fields = unprotect(message.command, message.payload, width).fields
            asked.append(parse_request_log_entries(fields))
    return asked


@pytest.mark.parametrize("rig", ["nuki-2", "nuki-5"], indirect=True)
async def test_a_read_for_new_entries_asks_for_few_and_pages_when_more_are_new(
    driver: NukiDriver, rig: Rig
) -> None:
    await driver.read_events()
    rig.lock.turn_knob()
    before = len(log_requests(rig))
    assert [e.kind for e in await driver.read_events()] == [EventKind.UNLOCKED]
    assert [r.count for r in log_requests(rig)[before:]] == [FIRST_LOG_PAGE]
    for _ in range(FIRST_LOG_PAGE + 3):
        rig.lock.turn_knob()
    before = len(log_requests(rig))
    events = await driver.read_events()
    assert [e.source for e in events] == [EventSource.MANUAL] * (FIRST_LOG_PAGE + 3)
    assert [e.kind for e in events[:2]] == [EventKind.LOCKED, EventKind.UNLOCKED]
    asked = log_requests(rig)[before:]
    assert [r.count for r in asked] == [FIRST_LOG_PAGE, LOG_PAGE]


# --- settings -------------------------------------------------------------------------------------


@every_kind
async def test_auto_lock_led_and_auto_unlatch_are_read_and_set(
    driver: NukiDriver, rig: Rig
) -> None:
    settings = await driver.get_settings()
    assert settings.auto_lock_seconds == rig.lock.core.settings.auto_lock_seconds == 0
    assert settings.led is not None and settings.auto_unlatch is False and settings.sound is None
    wanted = await driver.set_settings(SettingsUpdate(auto_lock_seconds=120, led=False))
    assert wanted.auto_lock_seconds == 120 and wanted.led is False
    core = rig.lock.core
    assert core.settings.auto_lock_seconds == 120 and not core.settings.config.led_enabled
    assert await driver.get_settings() == wanted
    await driver.set_settings(SettingsUpdate(auto_lock_seconds=0))
    assert core.settings.auto_lock_seconds == 0
    assert (await driver.get_settings()).auto_lock_seconds == 0
    with pytest.raises(NotSupportedError):
        await driver.set_settings(SettingsUpdate(sound=True))


# --- the security PIN -----------------------------------------------------------------------------


@every_kind
async def test_a_wrong_security_pin_is_refused_once_and_never_stored(rig: Rig) -> None:
    five_g = rig.kind == "nuki-5"
    driver = await rig.pair(pin=rig.pin if five_g else None)
    if not five_g:
        assert not driver.pin_known
        with pytest.raises(PinNeededError, match="security PIN"):
            await driver.list_credentials(K.PIN)
        with pytest.raises(PinNeededError):
            await driver.set_settings(SettingsUpdate(auto_lock_seconds=60))
        assert (await driver.get_settings()).auto_lock_seconds == 0  # reading needs no PIN
    before = commands_received(rig).count(Command.VERIFY_SECURITY_PIN)
    wrong = "135799" if five_g else "9999"
    with pytest.raises(BadPinError) as caught:
        await driver.set_security_pin(wrong)
    assert "not stored" in caught.value.message and "only once" in caught.value.message
    assert commands_received(rig).count(Command.VERIFY_SECURITY_PIN) == before + 1
    assert rig.notes("refused a security PIN") == 1
    record = rig.store.get_lock(LOCK_ID)
    assert record is not None
    assert record["security_pin"] == (int(rig.pin) if five_g else None)
    if not five_g:
        await driver.set_security_pin(rig.pin)
        assert driver.pin_known and await driver.list_credentials(K.PIN) == []


async def test_a_wrong_pin_at_pairing_still_pairs_and_says_so(rig: Rig) -> None:
    driver = await rig.pair(pin="9999")
    record = rig.store.get_lock(LOCK_ID)
    assert record is not None and record["complete"] is True
    assert record["security_pin"] is None and record["pin_rejected"] is True
    assert driver.record.pin_rejected and not driver.pin_known
    assert rig.notes("refused a security PIN") == 1


async def test_a_stored_pin_the_lock_refuses_is_dropped_not_retried(
    driver: NukiDriver, rig: Rig
) -> None:
    rig.lock.core.memory.security_pin = 1111  # changed in the Nuki app meanwhile
    with pytest.raises(BadPinError, match="removed"):
        await driver.list_credentials(K.PIN)
    assert rig.notes("refused a security PIN") == 1
    assert not driver.pin_known and driver.record.pin_rejected
    with pytest.raises(PinNeededError):
        await driver.list_credentials(K.PIN)
    assert rig.notes("refused a security PIN") == 1


# --- the beacon's new-state bit -------------------------------------------------------------------


async def test_as_bridge_the_new_state_bit_asks_for_one_read_which_clears_it(
    driver: NukiDriver, rig: Rig
) -> None:
    await wait_for(lambda: not driver.connected)
    rig.lock.turn_knob()
    await rig.advert(lambda a: a.new_state)
    await wait_for(lambda: any(r.fetch for r in rig.results))
    events = await driver.read_events()
    assert [(e.kind, e.source) for e in events] == [(EventKind.UNLOCKED, EventSource.MANUAL)]
    assert not rig.lock.core.new_state
    await wait_for(lambda: not driver.connected)
    seen = len(rig.results)
    await rig.advert(lambda a: not a.new_state)
    await asyncio.sleep(2.5)  # a few more adverts, all without the bit
    assert not any(r.fetch for r in rig.results[seen:])


async def test_as_app_a_bit_that_stays_set_asks_for_at_most_one_read(rig: Rig) -> None:
    driver = await rig.pair(PairAs.APP)
    await wait_for(lambda: not driver.connected)
    rig.lock.turn_knob()
    await rig.advert(lambda a: a.new_state)
    await wait_for(lambda: any(r.fetch for r in rig.results))
    await driver.read_events()
    assert rig.lock.core.new_state  # an app cannot clear it (spec §1.5)
    await wait_for(lambda: not driver.connected)
    start = len(rig.adverts)
    await wait_for(lambda: len(rig.adverts) >= start + 3)
    assert all(a.new_state for a in rig.adverts[start:])
    assert sum(r.fetch for r in rig.results) == 1


async def test_a_state_change_while_linked_is_pushed_to_a_bridge(rig: Rig) -> None:
    lingering = LinkTimings(connect_timeout=20, request_timeout=4, idle_disconnect=30)
    driver = await rig.pair(timings=lingering)
    await driver.refresh()
    assert driver.connected
    rig.lock.turn_knob()
    await wait_for(lambda: any(p.fetch for p in rig.pushes))  # status 0xF1 (spec §1.4)
    before = driver.snapshot  # only read_events() reads the new state
    assert await driver.read_events()
    assert (before.status, driver.snapshot.status) == (LockStatus.LOCKED, LockStatus.UNLOCKED)


async def test_an_action_already_done_completes_at_once(driver: NukiDriver, rig: Rig) -> None:
    assert (await driver.lock()).status is LockStatus.LOCKED
    assert rig.notes("motor:") == 0  # COMPLETE without ACCEPTED: nothing had to move


# --- pure parts: the beacon policy and the validity mapping ---------------------------------------


class FakeClock:
    """A monotonic clock moved by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_beacon_policy_as_bridge_reads_while_set_but_not_right_after_a_read() -> None:
    clock = FakeClock()
    watch = BeaconWatch(bridge=True, clock=clock)
    assert not watch.seen(False)
    assert watch.seen(True) and watch.seen(True)  # set until a read clears it
    watch.read()
    clock.now += 1
    assert not watch.seen(True)  # BlueZ's copy of an advert from before the read
    clock.now += 5
    assert watch.seen(True)


def test_beacon_policy_as_app_reads_on_a_rising_edge_at_most_once_per_interval() -> None:
    clock = FakeClock()
    watch = BeaconWatch(bridge=False, interval=600, clock=clock)
    assert watch.seen(True)
    for _ in range(100):  # stuck: no polling
        clock.now += 60
        assert not watch.seen(True)
    assert not watch.seen(False)
    clock.now += 10
    watch.read()
    assert not watch.seen(True)  # a new edge, but within the interval of the last read
    assert not watch.seen(False)
    clock.now += 600
    assert watch.seen(True)


@pytest.mark.parametrize(
    "validity",
    [
        Permanent(),
        Period(datetime(2025, 3, 1, 8), datetime(2025, 4, 1, 18, 30)),
        Weekly(frozenset({Weekday.MON, Weekday.FRI}), time(7), time(19)),
        Weekly(
            frozenset({Weekday.SAT}), time(22), time(6), datetime(2025, 1, 1), datetime(2026, 1, 1)
        ),
    ],
)
def test_validities_map_to_keypad_time_limits_and_back(validity: Validity) -> None:
    limit = time_limit_of(validity)
    assert validity_of(limit) == validity
    moments = [datetime(2025, 3, 3, 6) + timedelta(hours=5 * i) for i in range(60)]
    if limit is not None:
        assert [limit.allows(m) for m in moments] == [validity.allows(m) for m in moments]
