"""The virtual TTLock, driven at the protocol level with the pure builders as the app side."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from bleak import BleakClient, BleakScanner
from bleak.backends.device import BLEDevice
from bleak.backends.scanner import AdvertisementData

from ttlock_nuki_addon.ble.scanner import RawAdvert
from ttlock_nuki_addon.sim.peripheral import ActionError, Peripheral
from ttlock_nuki_addon.sim.ttlock import DEFAULT_FEATURES, VirtualTTLock, create_ttlock
from ttlock_nuki_addon.sim.ttlock_physical import Outcome
from ttlock_nuki_addon.sim.ttlock_state import StoredPasscode
from ttlock_nuki_addon.sim.world import SimWorld
from ttlock_nuki_addon.ttlock import advert
from ttlock_nuki_addon.ttlock import card_cmds as cc
from ttlock_nuki_addon.ttlock import commands as cmds
from ttlock_nuki_addon.ttlock import fingerprint_cmds as fc
from ttlock_nuki_addon.ttlock import passcode_cmds as pc
from ttlock_nuki_addon.ttlock import settings_cmds as st
from ttlock_nuki_addon.ttlock.auth_cmds import (
    LockState,
    OperationPush,
    StatusResponse,
    build_check_admin_request,
    build_check_random_request,
    build_check_user_time_request,
    build_operate_request,
    parse_operate_response,
    parse_ps_from_lock,
    parse_status_response,
)
from ttlock_nuki_addon.ttlock.card_cmds import CyclicEntry, CyclicUserType, EnrolStatus
from ttlock_nuki_addon.ttlock.codec import (
    DEFAULT_KEY,
    Command,
    DecryptError,
    ErrorCode,
    Response,
    decrypt,
)
from ttlock_nuki_addon.ttlock.dates import PERMANENT_END, PERMANENT_START
from ttlock_nuki_addon.ttlock.features import Feature, FeatureMask, parse_features_response
from ttlock_nuki_addon.ttlock.framing import (
    NOTIFY_UUID,
    WRITE_UUID,
    Frame,
    LockVersion,
    TTLockFramer,
    decode_response,
    encode_request,
    parse_frame,
)
from ttlock_nuki_addon.ttlock.oplog import LOG_ALL, LOG_NEW, LogRecord, LogType, build_log_request
from ttlock_nuki_addon.ttlock.oplog import parse_log_page as parse_log
from ttlock_nuki_addon.ttlock.oplog_tails import CardTail, PasscodeTail, WrongPasscodeTail
from ttlock_nuki_addon.ttlock.passcode_cmds import PasscodeType

C = Command
ADDRESS = "38:38:E5:1D:71:FE"
VECTORS = json.loads((Path(__file__).parent / "data" / "ttlock_vectors.json").read_text())
CAPTURES = VECTORS["real_lock_captures"]
KEYS = cmds.AdminKeys(970456745, 344382141)
NOW = datetime(2024, 1, 15, 10, 30, 45)  # a Monday
WAIT = 10.0  # guard against a hang only; nothing asserts how fast the lock is


class FakeHost:
    """The radio side without D-Bus: records notifications and reassembles frames."""

    def __init__(self) -> None:
        self.framer = TTLockFramer(strict_crc=False)
        self.frames: asyncio.Queue[bytes] = asyncio.Queue()
        self.chunks: list[bytes] = []

    def notify(self, peripheral: Peripheral, char_uuid: str, value: bytes) -> bool:
        assert char_uuid == NOTIFY_UUID
        self.chunks.append(value)
        for frame in self.framer.feed(value):
            self.frames.put_nowait(frame)
        return True

    def drop_link(self, peripheral: Peripheral) -> None:
        peripheral.link_down()

    def advert_changed(self, peripheral: Peripheral) -> None:
        pass


class App:
    """The app side of one link to a virtual lock."""

    def __init__(self, lock: VirtualTTLock) -> None:
        self.lock = lock
        self.host = FakeHost()
        self.key: bytes | None = None
        self.pushes: list[Response] = []
        lock.host = self.host

    def connect(self) -> None:
        self.lock.link_up()
        self.lock.subscribed.add(NOTIFY_UUID)

    def disconnect(self) -> None:
        self.lock.link_down()

    async def write(self, command: int, payload: bytes = b"", key: bytes | None = None) -> None:
        wire = encode_request(command, payload, key or self.key)
        for start in range(0, len(wire), 20):
            await self.lock.on_write(WRITE_UUID, wire[start : start + 20], False)

    async def frame(self) -> Frame:
        return parse_frame(await asyncio.wait_for(self.host.frames.get(), WAIT))

    async def answer(self) -> Response:
        return decode_response(await self.frame(), self.key)

    async def request(self, command: int, payload: bytes = b"") -> Response:
        """Send and wait for the answer, matched by echo; pushed 0x14 frames are set aside."""
        await self.write(command, payload)
        while True:
            response = await self.answer()
            if response.command == command:
                return response
            assert response.command == C.SEARCH_BICYCLE_STATUS
            self.pushes.append(response)

    async def ok(self, command: int, payload: bytes = b"") -> bytes:
        response = await self.request(command, payload)
        assert response.ok, f"0x{command:02x} failed: {response.error_text}"
        return response.data

    async def error(self, command: int, payload: bytes = b"") -> int | None:
        response = await self.request(command, payload)
        assert not response.ok
        return response.error_code

    async def pair(self, steps: int | None = None) -> None:
        """The official order (spec §5.4); `steps` stops after that many, before 0x57."""
        key = await self.ok(C.GET_AES_KEY, cmds.build_get_aes_key_request())
        self.key = cmds.parse_aes_key_response(key).key
        assert cmds.add_admin_answer_ok(
            await self.ok(C.ADD_ADMIN, cmds.build_add_admin_request(KEYS))
        )
        for command, payload in PAIRING_STEPS[:steps]:
            await self.ok(command, payload)
        if steps is None:
            await self.ok(C.OPERATE_FINISHED)

    async def login(self) -> None:
        """CHECK_ADMIN + CHECK_RANDOM (spec §5.3)."""
        ps = parse_ps_from_lock(
            await self.ok(C.CHECK_ADMIN, build_check_admin_request(KEYS.admin_ps))
        )
        await self.ok(C.CHECK_RANDOM, build_check_random_request(ps, KEYS.unlock_key))

    async def operate(self, command: int, *, admin: bool = True) -> bytes:
        """CHECK_ADMIN (or CHECK_USER_TIME) then unlock/lock."""
        challenge = C.CHECK_ADMIN if admin else C.CHECK_USER_TIME
        payload = (
            build_check_admin_request(KEYS.admin_ps) if admin else build_check_user_time_request()
        )
        ps = parse_ps_from_lock(await self.ok(challenge, payload))
        return await self.ok(command, build_operate_request(ps, KEYS.unlock_key, 1705314645))

    async def log(self, seq: int = LOG_NEW) -> list[LogRecord]:
        records: list[LogRecord] = []
        while True:
            page = parse_log(await self.ok(C.GET_OPERATE_LOG, build_log_request(seq)))
            records.extend(page.records)
            following = page.next_request(seq)
            if following is None:
                return records
            seq = following


PAIRING_STEPS: list[tuple[int, bytes]] = [
    (C.TIME_CALIBRATE, cmds.build_time_calibrate_request(NOW)),
    (C.SEARCH_DEVICE_FEATURE, b""),
    (C.SWITCH, st.build_query()),
    (C.AUDIO_MANAGE, st.build_query()),
    (C.SHOW_PASSWORD, st.build_query()),
    (C.AUTO_LOCK_MANAGE, st.build_query()),
    (C.GET_ADMIN_CODE, b""),
    (C.SET_ADMIN_KEYBOARD_PWD, cmds.build_set_admin_code_request("7654321")),
    (C.INIT_PASSWORDS, cmds.build_init_passwords_request(cmds.new_init_passwords(NOW.date()))),
    (C.CONTROL_REMOTE_UNLOCK, st.build_query()),
    *((C.READ_DEVICE_INFO, cmds.build_device_info_request(kind)) for kind in (1, 2, 3, 4)),
]


class Clock:
    """The host clock the lock reads, standing still unless a test moves it."""

    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
async def lock() -> AsyncIterator[VirtualTTLock]:
    lock = VirtualTTLock(ADDRESS, battery=80, clock=Clock())
    yield lock
    await lock.close()


@pytest.fixture
async def app(lock: VirtualTTLock) -> App:
    app = App(lock)
    lock.touch()
    app.connect()
    return app


@pytest.fixture
async def paired(app: App) -> App:
    await app.pair()
    await app.login()
    return app


def parsed_advert(lock: VirtualTTLock) -> advert.TTLockAdvert:
    raw = RawAdvert(lock.address, lock.name, -60, lock.manufacturer_data)
    result = advert.parse(raw)
    assert result is not None
    return result


async def until(predicate: Callable[[], bool]) -> None:
    async with asyncio.timeout(WAIT):
        while not predicate():
            await asyncio.sleep(0.02)


# --- the real lock's captures (acceptance) ------------------------------------------------


async def test_lock_decodes_the_captured_app_requests_and_answers_like_the_real_lock() -> None:
    key = bytes.fromhex(CAPTURES["session_aes_key"])
    frames = {f["step"]: bytes.fromhex(f["wire"]) for f in CAPTURES["frames"]}
    plain = {f["step"]: f["plaintext"].split()[0] for f in CAPTURES["frames"] if "plaintext" in f}
    lock = VirtualTTLock(
        ADDRESS, battery=100, version=LockVersion(scene=7), key_source=lambda: key, clock=Clock()
    )
    try:
        lock.new_session_key()
        for step in ("COMM_GET_AES_KEY", "COMM_ADD_ADMIN", "COMM_TIME_CALIBRATE"):
            _, payload = lock.decode_request(frames[f"{step} request"])
            assert payload.hex() == plain[f"{step} request"]
        lock.memory.aes_key = None  # factory state; the lock draws the captured key itself

        app = App(lock)
        lock.touch()
        app.connect()
        await app.lock.on_write(WRITE_UUID, frames["COMM_INITIALIZATION request"], False)
        init = await app.frame()  # spec §7.2: an answer no known key decrypts
        assert (init.command, init.length) == (C.RESPONSE, 16)
        for bad_key in (DEFAULT_KEY, key):
            with pytest.raises(DecryptError):
                decrypt(init.data, bad_key)
        for step in ("COMM_GET_AES_KEY", "COMM_ADD_ADMIN", "COMM_TIME_CALIBRATE"):
            wire = frames[f"{step} request"]
            for start in range(0, len(wire), 20):
                await lock.on_write(WRITE_UUID, wire[start : start + 20], False)
            answer = await asyncio.wait_for(app.host.frames.get(), WAIT)
            assert answer + b"\r\n" == frames[f"{step} response"], step
        assert lock.admin_ps == 0x39D7FEA9 and lock.unlock_key == 0x1486DABD
        assert lock.lock_time() == datetime(2020, 11, 11, 19, 52, 39)
        assert all(len(chunk) <= 20 for chunk in app.host.chunks)
    finally:
        await lock.close()


# --- pairing ---------------------------------------------------------------------------------


async def test_pairing_in_the_official_order_leaves_the_lock_paired(app: App) -> None:
    lock = app.lock
    assert (lock.setting_mode, lock.paired) == (True, False)
    await app.pair()
    assert lock.paired and not lock.setting_mode
    assert (lock.aes_key, lock.admin_ps, lock.unlock_key) == (
        app.key,
        KEYS.admin_ps,
        KEYS.unlock_key,
    )
    assert lock.memory.admin_code == "7654321" and lock.memory.seeds is not None
    features = parse_features_response(await app.ok(C.SEARCH_DEVICE_FEATURE))
    assert features.features == DEFAULT_FEATURES and features.battery == 80
    info = cmds.parse_device_info_response(await app.ok(C.READ_DEVICE_INFO, b"\x03"), 3)
    assert info.text == lock.firmware_revision
    app.disconnect()
    assert lock.paired and parsed_advert(lock).setting_mode is False
    assert lock.advertising  # paired locks advertise without a touch


@pytest.mark.parametrize("steps", range(len(PAIRING_STEPS) + 1))
async def test_interrupted_pairing_rolls_back_to_setting_mode(app: App, steps: int) -> None:
    await app.pair(steps)
    assert app.lock.admin_ps == KEYS.admin_ps and not app.lock.paired
    app.disconnect()
    lock = app.lock
    assert lock.setting_mode and lock.aes_key is None and lock.memory.admin_code is None
    assert "voice: administrator deleted" in lock.log
    assert lock.advertising and parsed_advert(lock).setting_mode  # awake to retry


async def test_get_aes_key_outside_setting_mode_does_not_decrypt(paired: App) -> None:
    await paired.write(C.GET_AES_KEY, cmds.build_get_aes_key_request())
    frame = await paired.frame()
    assert frame.command == C.GET_AES_KEY
    with pytest.raises(DecryptError):
        decode_response(frame, None)
    assert await paired.error(C.ADD_ADMIN, cmds.build_add_admin_request(KEYS)) == 0x07


async def test_wrong_keys_and_missing_logins_fail_with_the_spec_codes(app: App) -> None:
    await app.pair()
    app.disconnect()
    app.connect()
    assert await app.error(C.AUTO_LOCK_MANAGE, st.build_query()) == ErrorCode.NOT_LOGGED_IN
    assert await app.error(C.UNLOCK, build_operate_request(1, 2, 3)) == ErrorCode.NOT_LOGGED_IN
    wrong = build_check_admin_request(KEYS.admin_ps + 1)
    assert await app.error(C.CHECK_ADMIN, wrong) == ErrorCode.WRONG_ADMIN_PASSWORD
    ps = parse_ps_from_lock(await app.ok(C.CHECK_ADMIN, build_check_admin_request(KEYS.admin_ps)))
    bad_sum = build_check_random_request(ps, KEYS.unlock_key + 1)
    assert await app.error(C.CHECK_RANDOM, bad_sum) == ErrorCode.WRONG_ADMIN_PASSWORD
    bad_unlock = build_operate_request(ps, KEYS.unlock_key + 1, 0)
    assert await app.error(C.UNLOCK, bad_unlock) == ErrorCode.NO_PERMISSION
    await app.write(C.CHECK_ADMIN, build_check_admin_request(KEYS.admin_ps), key=bytes(16))
    with pytest.raises(DecryptError):  # a wrong AES key: the answer does not decrypt either
        await app.answer()
    assert app.lock.bolt == "locked"


async def test_corrupted_request_gets_a_crc_error(paired: App) -> None:
    wire = bytearray(encode_request(C.SEARCH_DEVICE_FEATURE, b"", paired.key))
    wire[-3] ^= 0xFF  # the CRC byte
    await paired.lock.on_write(WRITE_UUID, bytes(wire), False)
    assert (await paired.answer()).error_code == ErrorCode.CRC_ERROR


# --- bolt, status, auto-lock ---------------------------------------------------------------


async def test_unlock_and_lock_move_the_bolt_and_push_status(paired: App) -> None:
    lock = paired.lock
    lock.ps_source = lambda: 0xFFFFFFF0  # the sum wraps modulo 2^32
    answer = parse_operate_response(await paired.operate(C.UNLOCK, admin=False))
    assert lock.bolt == "unlocked" and parsed_advert(lock).unlocked
    assert answer.unique_id == 1705314645 and answer.time is not None
    push = await paired.answer()
    assert push.command == C.SEARCH_BICYCLE_STATUS
    assert parse_status_response(push.data) == StatusResponse(80, LockState.UNLOCKED)
    # A psFromLock proves one operation only.
    assert await paired.error(
        C.FUNCTION_LOCK, build_operate_request(0xFFFFFFF0, KEYS.unlock_key, 0)
    )
    await paired.operate(C.FUNCTION_LOCK)
    assert lock.bolt == "locked" and not parsed_advert(lock).unlocked
    pushed = parse_status_response((await paired.answer()).data)
    assert pushed == StatusResponse(80, LockState.LOCKED)
    status = await paired.ok(C.SEARCH_BICYCLE_STATUS, cmds.build_status_request())
    assert parse_status_response(status) == StatusResponse(80, LockState.LOCKED)
    types = [r.type for r in await paired.log()]
    assert types == [LogType.APP_UNLOCK, LogType.APP_LOCK]


async def test_auto_lock_relocks_without_a_log_record(paired: App) -> None:
    lock = paired.lock
    state = st.parse_auto_lock_state(await paired.ok(C.AUTO_LOCK_MANAGE, st.build_query()))
    assert (state.seconds, state.minimum, state.maximum) == (0, 1, 900)
    assert await paired.error(C.AUTO_LOCK_MANAGE, st.build_auto_lock_set(5000)) == 0x20
    await paired.ok(C.AUTO_LOCK_MANAGE, st.build_auto_lock_set(1))
    await paired.operate(C.UNLOCK)
    await paired.answer()  # the status push
    assert lock.bolt == "unlocked"
    records = len(lock.memory.log.entries)
    push = await paired.answer()  # pushed when the bolt goes by itself
    assert parse_status_response(push.data) == StatusResponse(80, LockState.LOCKED)
    assert lock.bolt == "locked" and not parsed_advert(lock).unlocked
    assert len(lock.memory.log.entries) == records


async def test_passage_mode_keeps_the_bolt_open(paired: App) -> None:
    every_day = st.PassageEntry(st.PassageType.WEEKLY, 0, 0, time(0, 0), time(0, 0))
    await paired.ok(C.CONFIGURE_PASSAGE_MODE, st.build_passage_change(st.PassageOp.ADD, every_day))
    page = st.parse_passage_page(
        await paired.ok(C.CONFIGURE_PASSAGE_MODE, st.build_passage_query())
    )
    assert page.entries == (every_day,) and page.is_last
    await paired.ok(C.AUTO_LOCK_MANAGE, st.build_auto_lock_set(1))
    lock = paired.lock
    lock.turn_knob()
    assert lock.timers.running("auto_lock")
    await until(lambda: not lock.timers.running("auto_lock"))  # the timer fired
    assert lock.bolt == "unlocked"


# --- passcodes and the keypad ----------------------------------------------------------------


async def test_passcodes_of_all_four_kinds_are_added_listed_modified_and_deleted(
    paired: App,
) -> None:
    start, end = datetime(2024, 1, 1, 8, 0), datetime(2024, 12, 31, 18, 0)
    adds = [
        pc.build_passcode_add(PasscodeType.PERMANENT, "1111", PERMANENT_START),
        pc.build_passcode_add(PasscodeType.COUNT, "2222", start, end),
        pc.build_passcode_add(PasscodeType.PERIOD, "3333", start, end),
        pc.build_passcode_add(PasscodeType.CYCLIC, "4444", start, end, cycle_type=0b11111),
        *(pc.build_passcode_add(PasscodeType.PERMANENT, f"55{i}0", start) for i in range(3)),
    ]
    for payload in adds:
        assert cmds.parse_op_ack(await paired.ok(C.MANAGE_KEYBOARD_PASSWORD, payload), "").op == 2
    assert await paired.error(C.MANAGE_KEYBOARD_PASSWORD, adds[0]) == ErrorCode.PASSCODE_EXISTS
    listed = await list_passcodes(paired)
    assert [(r.type, r.code) for r in listed[:4]] == [
        (1, "1111"),
        (2, "2222"),
        (3, "3333"),
        (4, "4444"),
    ]
    assert len(listed) == 7 and listed[3].cycle_type == 0b11111 and listed[2].end == end

    modify = pc.build_passcode_modify(PasscodeType.PERIOD, "3333", "3399", start=start, end=NOW)
    await paired.ok(C.MANAGE_KEYBOARD_PASSWORD, modify)
    changed = next(r for r in await list_passcodes(paired) if r.code == "3399")
    assert (changed.original, changed.end) == ("3333", NOW.replace(second=0))
    await paired.ok(
        C.MANAGE_KEYBOARD_PASSWORD, pc.build_passcode_delete(PasscodeType.COUNT, "2222")
    )
    missing = pc.build_passcode_delete(PasscodeType.COUNT, "2222")
    assert await paired.error(C.MANAGE_KEYBOARD_PASSWORD, missing) == ErrorCode.PASSCODE_NOT_FOUND
    await paired.ok(C.MANAGE_KEYBOARD_PASSWORD, pc.build_passcode_clear())
    assert await list_passcodes(paired) == []


async def list_passcodes(app: App) -> list[pc.PasscodeRecord]:
    records: list[pc.PasscodeRecord] = []
    seq = 0
    while True:
        page = pc.parse_passcode_page(await app.ok(C.PWD_LIST, pc.build_passcode_list_request(seq)))
        records.extend(page.records)
        if page.is_last:
            return records
        seq = page.next_seq


async def test_enter_pin_unlocks_with_valid_codes_only_and_logs_each_try(paired: App) -> None:
    lock = paired.lock
    soon, later = NOW + timedelta(hours=1), NOW + timedelta(days=1)
    for payload in (
        pc.build_passcode_add(PasscodeType.PERMANENT, "123456", PERMANENT_START),
        pc.build_passcode_add(PasscodeType.COUNT, "2468", NOW - timedelta(hours=1), soon),
        pc.build_passcode_add(PasscodeType.PERIOD, "1357", soon, later),
        # Mondays 08:00-18:00 for a month (cycleType bit 0 = Monday, validity_map convention).
        pc.build_passcode_add(
            PasscodeType.CYCLIC,
            "8080",
            NOW.replace(hour=8, minute=0),
            (NOW + timedelta(days=30)).replace(hour=18, minute=0),
            cycle_type=0b1,
        ),
    ):
        await paired.ok(C.MANAGE_KEYBOARD_PASSWORD, payload)
    await paired.log()  # nothing new yet
    paired.disconnect()

    assert lock.enter_pin("8080") is Outcome.UNLOCKED  # Monday 10:30
    lock.set_lock_time(NOW + timedelta(days=1))
    assert lock.enter_pin("8080") is Outcome.REJECTED  # Tuesday
    lock.set_lock_time(NOW)
    lock.turn_knob()

    assert lock.enter_pin("123456#") is Outcome.UNLOCKED
    lock.turn_knob()
    assert lock.enter_pin("2468") is Outcome.UNLOCKED
    lock.turn_knob()
    assert lock.enter_pin("2468") is Outcome.REJECTED  # one-time: used up
    assert lock.enter_pin("1357") is Outcome.REJECTED  # not valid yet
    assert lock.enter_pin("9999") is Outcome.REJECTED
    assert lock.enter_pin("7654321") is Outcome.UNLOCKED  # the admin passcode
    assert lock.bolt == "unlocked" and parsed_advert(lock).new_records

    paired.connect()
    records = await paired.log()
    records = records[3:]  # after the cyclic code's tries
    assert [r.type for r in records] == [4, 36, 4, 36, 11, 11, 7, 4]
    assert records[0].tail == PasscodeTail("123456", "123456")
    assert records[-2].tail == WrongPasscodeTail("9999")
    assert {r.time for r in records} == {NOW}  # the lock clock, set by TIME_CALIBRATE


# --- cards and fingerprints -----------------------------------------------------------------


async def test_card_enrolment_waits_for_the_card_and_the_card_then_opens(paired: App) -> None:
    lock = paired.lock
    assert lock.present_card(42) is Outcome.REJECTED
    event = cc.parse_card_enrol(await paired.ok(C.IC_MANAGE, cc.build_card_enrol()))
    assert event.status == EnrolStatus.WAITING
    assert lock.present_card(0xDEADBEEF) is Outcome.ENROLLED
    pushed = await paired.answer()  # the CARD_ADDED record announced
    assert isinstance(parse_status_response(pushed.data), OperationPush)
    done = cc.parse_card_enrol((await paired.answer()).data)
    assert (done.status, done.number) == (EnrolStatus.DONE, 0xDEADBEEF)
    await paired.ok(C.IC_MANAGE, cc.build_card_add(2**40, PERMANENT_START, PERMANENT_END))
    window = (datetime(2030, 1, 1), datetime(2031, 1, 1))
    await paired.ok(C.IC_MANAGE, cc.build_card_modify(0xDEADBEEF, *window))
    page = cc.parse_card_page(await paired.ok(C.IC_MANAGE, cc.build_card_list()))
    assert {(r.number, r.start) for r in page.records} == {
        (0xDEADBEEF, window[0]),
        (2**40, PERMANENT_START),
    }
    paired.disconnect()
    assert lock.present_card(0xDEADBEEF) is Outcome.REJECTED  # not valid before 2030
    assert lock.present_card(2**40) is Outcome.UNLOCKED
    paired.connect()
    await paired.login()
    types = [(r.type, r.tail) for r in await paired.log()]
    assert types[-3:] == [
        (15, CardTail(0xDEADBEEF)),
        (25, CardTail(0xDEADBEEF)),
        (17, CardTail(2**40, 8)),
    ]
    await paired.ok(C.IC_MANAGE, cc.build_card_delete(2**40))
    assert await paired.error(C.IC_MANAGE, cc.build_card_delete(2**40)) == ErrorCode.CARD_NOT_FOUND
    await paired.ok(C.IC_MANAGE, cc.build_card_clear())
    assert cc.parse_card_page(await paired.ok(C.IC_MANAGE, cc.build_card_list())).records == ()


async def test_fingerprint_enrolment_reports_progress_until_done(paired: App) -> None:
    lock = paired.lock
    lock.push_status = False
    replies = [
        await paired.request(C.FR_MANAGE, fc.build_fingerprint_enrol()),
        await paired.answer(),
    ]
    for _ in range(4):
        assert lock.place_finger("right index") in (Outcome.PROGRESS, Outcome.ENROLLED)
        replies.append(await paired.answer())
    events = [fc.parse_fingerprint_enrol(r.data) for r in replies]
    assert [(e.status, e.current, e.total) for e in events[:-1]] == [
        (EnrolStatus.WAITING, None, 4),
        *((EnrolStatus.PROGRESS, step, 4) for step in range(4)),
    ]
    fp_id = events[-1].fp_id
    assert events[-1].status == EnrolStatus.DONE and fp_id is not None
    await paired.ok(
        C.FR_MANAGE, fc.build_fingerprint_modify(fp_id, datetime(2024, 1, 1), PERMANENT_END)
    )
    page = fc.parse_fingerprint_page(await paired.ok(C.FR_MANAGE, fc.build_fingerprint_list()))
    assert [(r.fp_id, r.start) for r in page.records] == [(fp_id, datetime(2024, 1, 1))]
    assert lock.place_finger("left thumb") is Outcome.REJECTED
    assert lock.place_finger("right index") is Outcome.UNLOCKED
    await paired.ok(C.FR_MANAGE, fc.build_fingerprint_delete(fp_id))
    gone = fc.build_fingerprint_delete(fp_id)
    assert await paired.error(C.FR_MANAGE, gone) == ErrorCode.FINGERPRINT_NOT_FOUND


async def test_enrolment_times_out_and_ends_with_the_link(paired: App) -> None:
    lock = paired.lock
    lock.enrol_timeout = 0.2
    await paired.ok(C.IC_MANAGE, cc.build_card_enrol())
    timed_out = await paired.answer()
    assert (timed_out.command, timed_out.error_code) == (C.IC_MANAGE, ErrorCode.FAILED)
    assert lock.enrolment is None and lock.present_card(7) is Outcome.REJECTED
    await paired.ok(C.IC_MANAGE, cc.build_card_enrol())
    paired.disconnect()
    assert lock.enrolment is None and lock.present_card(7) is Outcome.REJECTED


async def test_weekly_schedule_limits_a_card(paired: App) -> None:
    lock = paired.lock
    lock.set_lock_time(NOW)  # Monday 10:30
    await paired.ok(C.IC_MANAGE, cc.build_card_add(99, PERMANENT_START, PERMANENT_END))
    tuesday = CyclicEntry(2, time(8, 0), time(17, 0))
    await paired.ok(
        C.CYCLIC_CMD, cc.build_cyclic_add(CyclicUserType.CARD, cc.card_bytes(99), tuesday)
    )
    assert lock.present_card(99) is Outcome.REJECTED
    lock.set_lock_time(NOW + timedelta(days=1))
    assert lock.present_card(99) is Outcome.UNLOCKED
    clear = cc.build_cyclic_clear(CyclicUserType.CARD, cc.card_bytes(99))
    await paired.ok(C.CYCLIC_CMD, clear)
    assert await paired.error(C.CYCLIC_CMD, clear) == ErrorCode.RECORD_NOT_FOUND


# --- log, adverts, reset ---------------------------------------------------------------------


async def test_reading_new_records_clears_the_advert_flag(paired: App) -> None:
    lock = paired.lock
    for _ in range(12):
        lock.turn_knob()
    assert parsed_advert(lock).new_records and lock.memory.log.unread == 12
    assert len(await paired.log(LOG_NEW)) == 12  # three pages
    assert not parsed_advert(lock).new_records
    assert await paired.log(LOG_NEW) == []
    assert len(await paired.log(LOG_ALL)) == 12


async def test_advert_bytes_parse_to_the_expected_flags(lock: VirtualTTLock) -> None:
    assert not lock.advertising  # unpaired and untouched: silent
    lock.touch()
    seen = parsed_advert(lock)
    assert (seen.mac, seen.battery, seen.scene) == (ADDRESS, 80, 2)
    assert seen.flags == advert.AdvertFlag.SETTING_MODE | advert.AdvertFlag.TOUCHED
    lock.turn_knob()
    assert parsed_advert(lock).flags == (
        advert.AdvertFlag.SETTING_MODE
        | advert.AdvertFlag.TOUCHED
        | advert.AdvertFlag.UNLOCKED
        | advert.AdvertFlag.NEW_RECORDS
    )
    lock.set_battery(100)
    # Byte for byte the real K5 lock's advert of spec §4.1 (there with flags 0x10).
    assert lock.manufacturer_data[773] == bytes.fromhex("020f64b000f4f95365fe711de53838")
    lock.set_advertising(False)
    assert not lock.advertising
    assert lock.name == "K5_fe711d"


async def test_an_unpaired_lock_advertises_only_for_the_wake_window(lock: VirtualTTLock) -> None:
    lock.wake_seconds = 0.2
    assert (lock.advertising, lock.awake) == (False, False)
    lock.touch()
    assert lock.advertising and lock.awake
    await until(lambda: not lock.advertising)
    assert not parsed_advert(lock).touched


async def test_reset_button_and_reset_command_return_to_setting_mode(paired: App) -> None:
    lock = paired.lock
    await paired.ok(
        C.MANAGE_KEYBOARD_PASSWORD,
        pc.build_passcode_add(PasscodeType.PERMANENT, "1234", PERMANENT_START),
    )
    lock.reset_button()
    assert lock.setting_mode and not lock.paired and not lock.connected
    assert lock.memory.passcodes == {} and lock.memory.log.entries == []
    assert parsed_advert(lock).setting_mode and lock.advertising
    paired.connect()  # the app still holds the old key: nothing it can decrypt comes back
    for command, payload in ((C.CHECK_ADMIN, build_check_admin_request(KEYS.admin_ps)), (1, b"")):
        await paired.write(command, payload)
        with pytest.raises(DecryptError):
            await paired.answer()

    paired.key = None
    await paired.pair()
    await paired.login()
    await paired.ok(C.RESET_LOCK)  # answered under the old key, then wiped
    assert lock.setting_mode and lock.aes_key is None
    switch_off = st.build_switch_set(st.SwitchState(st.SwitchItem.RESET_BUTTON, 0))
    paired.key = None
    await paired.pair()
    await paired.login()
    await paired.ok(C.SWITCH, switch_off)
    with pytest.raises(ActionError, match="disabled"):
        lock.reset_button()


# --- end to end through the fake BlueZ with real bleak ---------------------------------------


async def test_get_aes_key_through_the_fake_bluez_with_bleak(sim_world: SimWorld) -> None:
    lock = sim_world.add_device("ttlock", {"wake_seconds": 30})
    assert isinstance(lock, VirtualTTLock)
    assert await BleakScanner.find_device_by_address(lock.address, timeout=1.5) is None
    lock.touch()
    seen: list[AdvertisementData] = []

    def heard(device: BLEDevice, data: AdvertisementData) -> None:
        if device.address == lock.address:
            seen.append(data)

    async with BleakScanner(heard):
        await until(lambda: bool(seen))
    result = advert.parse(RawAdvert(lock.address, None, -60, seen[-1].manufacturer_data))
    assert result is not None and result.setting_mode and result.touched

    framer = TTLockFramer()
    frames: asyncio.Queue[bytes] = asyncio.Queue()

    def notified(_char: object, data: bytearray) -> None:
        for frame in framer.feed(bytes(data)):
            frames.put_nowait(frame)

    device = await BleakScanner.find_device_by_address(lock.address, timeout=WAIT)
    assert device is not None
    async with BleakClient(device) as client:
        await client.start_notify(NOTIFY_UUID, notified)
        wire = encode_request(C.GET_AES_KEY, cmds.build_get_aes_key_request(), None)
        for start in range(0, len(wire), 20):
            await client.write_gatt_char(WRITE_UUID, wire[start : start + 20], response=False)
        raw = await asyncio.wait_for(frames.get(), WAIT)
    answer = decode_response(parse_frame(raw), None)
    assert answer.ok and cmds.parse_aes_key_response(answer.data).key == lock.aes_key


# --- control API and world options --------------------------------------------------------------


async def post(session: aiohttp.ClientSession, path: str, body: Any = None) -> tuple[int, Any]:
    async with session.post(path, json=body) as res:
        return res.status, await res.json()


async def test_control_api_plays_the_physical_world(
    sim_world: SimWorld, sim_control: aiohttp.ClientSession
) -> None:
    status, device = await post(sim_control, "/devices", {"kind": "ttlock", "battery": 77})
    assert status == 201, device
    address = device["address"]
    assert (device["bolt"], device["battery"], device["paired"]) == ("locked", 77, False)
    assert device["setting_mode"] and not device["advertising"]
    for action in (
        "touch",
        "enter_pin",
        "present_card",
        "place_finger",
        "turn_knob",
        "reset_button",
    ):
        assert action in device["actions"]
    assert await post(sim_control, f"/devices/{address}/touch") == (
        200,
        {"ok": True, "awake": True},
    )
    for action, params, reason in (
        ("enter_pin", {}, "'code' is required"),
        ("enter_pin", {"code": "12ab"}, "'code' must be"),
        ("enter_pin", {"code": 1234}, "'code' must be"),
        ("present_card", {"number": -1}, "'number' must be"),
        ("place_finger", {"finger": ""}, "'finger' must"),
        ("battery", {"percent": 101}, "'percent' must"),
    ):
        status, body = await post(sim_control, f"/devices/{address}/{action}", params)
        assert status == 400 and reason in body["error"], (action, body)
    status, body = await post(sim_control, f"/devices/{address}/enter_pin", {"code": "1234#"})
    assert (status, body["outcome"]) == (200, "rejected")
    assert (await post(sim_control, f"/devices/{address}/turn_knob"))[1]["bolt"] == "unlocked"
    assert (await post(sim_control, f"/devices/{address}/present_card", {"number": "12345"}))[
        0
    ] == 200
    lock = sim_world.get(address)
    assert isinstance(lock, VirtualTTLock)
    lock.memory.passcodes["8642"] = StoredPasscode(PasscodeType.PERMANENT, "8642", "8642")
    async with sim_control.get(f"/devices/{address}") as res:
        shown = await res.json()
    assert (shown["bolt"], shown["battery"], shown["paired"], shown["log_length"]) == (
        "unlocked",
        77,
        False,
        3,
    )
    assert shown["credentials"]["passcodes"][0]["code"] == "8642"
    assert shown["credentials"]["cards"] == [] and shown["credentials"]["fingerprints"] == []
    status, body = await post(sim_control, f"/devices/{address}/reset_button")
    assert (status, body["setting_mode"]) == (200, True)
    status, body = await post(sim_control, "/devices", {"kind": "ttlock", "colour": "red"})
    assert status == 400 and "unknown option 'colour'" in body["error"]


@pytest.mark.parametrize(
    ("options", "reason"),
    [
        ({"battery": 101}, "'battery'"),
        ({"wake_seconds": 0}, "'wake_seconds'"),
        ({"paired": "yes"}, "'paired'"),
        ({"features": ["teleport"]}, "unknown feature"),
        ({"features": -1}, "'features'"),
    ],
)
def test_factory_rejects_bad_options(options: dict[str, Any], reason: str) -> None:
    with pytest.raises(ActionError, match=reason):
        create_ttlock(ADDRESS, options)


async def test_factory_options_shape_the_lock() -> None:
    lock = create_ttlock(
        ADDRESS, {"paired": True, "features": ["passcode", 1], "push_status": False}
    )
    try:
        assert lock.paired and lock.aes_key is not None and lock.admin_ps is not None
        assert lock.features.features == {Feature.PASSCODE, Feature.IC}
        assert (lock.advertising, lock.push_status) == (True, False)
        lock.features = FeatureMask.of(Feature.CAN_NOT_CLICK_UNLOCK)
        lock.refresh_advert()
        assert not lock.advertising  # spec §6.2: such locks need a touch even when paired
        app = App(lock)
        app.key = lock.aes_key
        app.connect()
        await app.write(C.FR_MANAGE, fc.build_fingerprint_list())
        assert (await app.answer()).error_code == ErrorCode.INVALID_COMMAND
    finally:
        await lock.close()
