"""TTLock command payloads: dates, features, pairing set, auth arithmetic, settings, fuzzing."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ttlock_nuki_addon.errors import ProtocolError
from ttlock_nuki_addon.ttlock import (
    auth_cmds,
    card_cmds,
    codec,
    commands,
    fingerprint_cmds,
    oplog,
    passcode_cmds,
    settings_cmds,
)
from ttlock_nuki_addon.ttlock.auth_cmds import LockState, OperationPush, StatusResponse
from ttlock_nuki_addon.ttlock.dates import (
    USER_TIME_END,
    USER_TIME_START,
    DateRangeError,
    decode_date,
    decode_date_or_none,
    encode_date,
    from_lock_local,
    is_permanent_window,
    minute_ceil,
    minute_floor,
    to_lock_local,
)
from ttlock_nuki_addon.ttlock.features import (
    Feature,
    FeatureMask,
    build_features_response,
    parse_features_response,
)
from ttlock_nuki_addon.ttlock.settings_cmds import PassageEntry, PassageOp, SwitchItem, SwitchState
from ttlock_nuki_addon.validity import ValidationError

DATA = json.loads((Path(__file__).parent / "data" / "ttlock_commands.json").read_text())
PLAINTEXTS = {v["name"]: bytes.fromhex(v["plaintext"]) for v in DATA["request_plaintexts"]}
CAPTURED = {v["step"]: bytes.fromhex(v["plaintext"]) for v in DATA["real_lock_plaintexts"]}


def plain(name: str) -> bytes:
    """The golden plaintext of the vector `name`."""
    return PLAINTEXTS[name]


# --- dates ---------------------------------------------------------------------------------


def test_dates_are_decimal_bytes_not_bcd() -> None:
    moment = datetime(2024, 1, 15, 10, 30, 45)
    assert encode_date(moment, seconds=True) == bytes.fromhex("18010f0a1e2d")
    assert encode_date(moment) == bytes([24, 1, 15, 10, 30])
    assert decode_date(bytes.fromhex("18010f0a1e2d")) == moment
    assert decode_date(bytes([24, 1, 15, 10, 30])) == moment.replace(second=0)


@pytest.mark.parametrize("year", [2000, 2001, 2050, 2099])
def test_dates_round_trip_at_the_edges(year: int) -> None:
    for moment in (datetime(year, 1, 1), datetime(year, 12, 31, 23, 59, 59)):
        assert decode_date(encode_date(moment, seconds=True)) == moment


@pytest.mark.parametrize(
    "moment",
    [
        datetime(1999, 12, 31, 23, 59),
        datetime(2100, 1, 1),
        datetime(2024, 1, 1, tzinfo=UTC),
    ],
)
def test_encode_date_rejects_what_the_format_cannot_hold(moment: datetime) -> None:
    with pytest.raises(DateRangeError) as caught:
        encode_date(moment)
    assert isinstance(caught.value, ValueError)
    assert isinstance(caught.value, ValidationError)


@pytest.mark.parametrize(
    "raw", ["0000000000", "180d010000", "18011f1800", "1801011e3c", "6401010000", "18"]
)
def test_decode_date_rejects_impossible_dates(raw: str) -> None:
    with pytest.raises(ProtocolError):
        decode_date(bytes.fromhex(raw))
    assert decode_date_or_none(bytes.fromhex(raw)) is None


def test_lock_local_conversion_and_rounding() -> None:
    aware = datetime(2024, 6, 1, 22, 30, tzinfo=UTC)
    local = to_lock_local(aware, timedelta(hours=2))
    assert local == datetime(2024, 6, 2, 0, 30)
    assert from_lock_local(local, timedelta(hours=2)) == aware
    with pytest.raises(DateRangeError):
        to_lock_local(local, timedelta(0))
    assert minute_ceil(datetime(2024, 1, 1, 8, 0, 1)) == datetime(2024, 1, 1, 8, 1)
    assert minute_ceil(datetime(2024, 1, 1, 8, 0)) == datetime(2024, 1, 1, 8, 0)
    assert minute_floor(datetime(2024, 1, 1, 8, 0, 59)) == datetime(2024, 1, 1, 8, 0)
    assert is_permanent_window(datetime(2000, 1, 1), datetime(2099, 12, 1))
    assert not is_permanent_window(datetime(2024, 1, 1), datetime(2099, 12, 1))


# --- features (0x01) --------------------------------------------------------------------------


def test_feature_answer_from_the_synthetic_frame() -> None:
    vector = DATA["synthetic_feature_answer"]
    raw = bytes.fromhex(vector["frame"])
    plaintext = codec.decrypt(raw[12 : 12 + raw[11]], bytes.fromhex(vector["key"]))
    assert plaintext.hex() == vector["plaintext"]
    answer = parse_features_response(plaintext[2:])
    assert answer.battery == vector["battery"]
    assert list(answer.features.bits) == vector["features"]
    assert answer.features.has(Feature.FINGER_PRINT)
    assert not answer.features.has(Feature.PASSCODE)


def test_feature_mask_uses_all_words_later_more_significant() -> None:
    example = DATA["spec_feature_example"]
    answer = parse_features_response(bytes.fromhex(example["data"]))
    assert answer.battery == example["battery"]
    assert answer.features.value == int(example["value"], 16)
    assert list(answer.features.bits) == example["bits"]
    assert answer.features.has(Feature.UNLOCK_DIRECTION)  # bit 36: beyond the first word
    assert answer.features.has(Feature.ACCESSORY_BATTERY)  # bit 42
    assert not answer.features.has(Feature.DEAD_LOCK)
    assert answer.features.special_value == 0x71C4F5F1
    assert build_features_response(100, answer.features, 4) == bytes.fromhex(example["data"])


def test_feature_mask_helpers() -> None:
    mask = FeatureMask.of(Feature.PASSCODE, Feature.CPU_CARD, 70)
    assert mask.features == {Feature.PASSCODE, Feature.CPU_CARD}
    assert mask.bits == (0, 55, 70)
    assert FeatureMask.from_hex(mask.to_hex()) == mask
    assert FeatureMask.from_bytes(mask.to_bytes()) == mask
    assert len(mask.to_bytes()) == 12
    with pytest.raises(ValueError):
        mask.to_bytes(1)
    with pytest.raises(ValueError):
        FeatureMask.from_hex("xyz")
    with pytest.raises(ProtocolError):
        parse_features_response(bytes.fromhex("64010203"))


# --- pairing set ---------------------------------------------------------------------------------


def test_vendor_payloads() -> None:
    assert commands.build_vendor() == plain("get_aes_key") == CAPTURED["COMM_GET_AES_KEY request"]
    assert plain("get_lock_status (search bicycle status)") == commands.build_status_request()
    assert commands.build_get_aes_key_request() == plain("get_aes_key")
    assert commands.vendor_ok(plain("get_aes_key"))
    assert not commands.vendor_ok(b"SCIENEX")


def test_aes_key_answer_from_the_real_lock() -> None:
    answer = codec.parse_response(CAPTURED["COMM_GET_AES_KEY response"])
    assert answer.command == codec.Command.GET_AES_KEY and answer.ok
    parsed = commands.parse_aes_key_response(answer.data)
    assert parsed.key.hex() == "c0157a26893ade25c8c4717eb8df0b84"
    assert "c0157a" not in repr(parsed)
    assert commands.build_aes_key_response(parsed.key) == answer.data
    with pytest.raises(ProtocolError):
        commands.parse_aes_key_response(answer.data[:15])
    with pytest.raises(ValueError):
        commands.build_aes_key_response(b"short")


def test_add_admin_real_capture_both_directions() -> None:
    keys = commands.AdminKeys(970456745, 344382141)  # "0970456745", "0344382141"
    assert commands.build_add_admin_request(keys) == CAPTURED["COMM_ADD_ADMIN request"]
    parsed = commands.parse_add_admin_request(CAPTURED["COMM_ADD_ADMIN request"])
    assert parsed.keys == keys and parsed.vendor_ok
    assert "970456745" not in repr(parsed)
    answer = codec.parse_response(CAPTURED["COMM_ADD_ADMIN response"])
    assert commands.add_admin_answer_ok(answer.data)
    assert commands.build_vendor() == answer.data
    vector = commands.AdminKeys(12345678, 87654321)
    assert commands.build_add_admin_request(vector) == plain(
        "add_admin adminPs=12345678 unlockKey=87654321"
    )


def test_new_admin_keys_fit_nine_digits() -> None:
    keys = commands.new_admin_keys()
    assert 0 <= keys.admin_ps < 10**9 and 0 <= keys.unlock_key < 10**9
    assert commands.new_admin_keys(lambda n: n - 1) == commands.AdminKeys(10**9 - 1, 10**9 - 1)
    code = commands.new_admin_passcode()
    assert len(code) == 7 and code.isdigit()


def test_time_calibrate_real_capture() -> None:
    moment = datetime(2020, 11, 11, 19, 52, 39)
    assert commands.build_time_calibrate_request(moment) == CAPTURED["COMM_TIME_CALIBRATE request"]
    assert commands.parse_time_calibrate_request(CAPTURED["COMM_TIME_CALIBRATE request"]) == moment
    answer = codec.parse_response(CAPTURED["COMM_TIME_CALIBRATE response"])
    assert commands.parse_battery(answer.data) == 100
    assert commands.build_battery(100) == answer.data
    assert commands.parse_battery(b"") is None
    fixed = datetime(2024, 1, 15, 10, 30, 45)
    assert commands.build_time_calibrate_request(fixed) == plain("time_calibrate (fixed clock)")
    assert commands.parse_lock_time_response(commands.build_lock_time_response(fixed)) == fixed


def test_device_info_both_directions() -> None:
    assert commands.build_device_info_request(commands.DeviceInfoType.MODEL) == plain(
        "read_device_info model(1)"
    )
    assert commands.parse_device_info_request(b"\x03") == commands.DeviceInfoType.FIRMWARE
    raw = commands.build_device_info_response("SN9149-BL01-ZFD-01_PV53")
    info = commands.parse_device_info_response(raw, commands.DeviceInfoType.MODEL)
    assert info.text == "SN9149-BL01-ZFD-01_PV53"
    clock = commands.parse_device_info_response(
        bytes([24, 1, 15, 0]), commands.DeviceInfoType.CLOCK
    )
    assert clock.text == "240115"
    assert commands.parse_device_info_response(b"", 1).raw == b""


def test_admin_passcode_both_directions() -> None:
    assert commands.build_set_admin_code_request("1234567") == plain(
        "set_admin_keyboard_pwd 1234567"
    )
    assert (
        commands.parse_set_admin_code_request(plain("set_admin_keyboard_pwd 1234567")) == "1234567"
    )
    for bad in ("123", "1234567890", "12a4567"):
        with pytest.raises(ValueError):
            commands.build_set_admin_code_request(bad)
    with pytest.raises(ProtocolError):
        commands.parse_set_admin_code_request(b"\x01\x02\x03\x0a")
    assert plain("get_admin_code") == b""
    answer = commands.build_admin_code_response(90, "7654321")
    assert answer == bytes([90, 7]) + b"7654321"
    assert commands.parse_admin_code_response(answer) == "7654321"
    assert commands.parse_admin_code_response(commands.build_admin_code_response(90, None)) is None
    assert commands.parse_admin_code_response(b"\x5a") is None
    with pytest.raises(ProtocolError):
        commands.parse_admin_code_response(bytes([90, 7]) + b"76543")  # shorter than declared


def test_init_passwords_round_trip_and_packing() -> None:
    value = commands.new_init_passwords(datetime(2024, 1, 1).date())
    assert value.year == 23  # spec §5.5.12: minus one on 1 January
    assert len({seed.code for seed in value.seeds}) == 10
    for seed in value.seeds:
        assert sorted(f"{seed.secret:010d}") == list("0123456789")
    raw = commands.build_init_passwords_request(value)
    assert len(raw) == 61
    assert commands.parse_init_passwords_request(raw) == value
    seed = commands.PasscodeSeed(0x42B, 9876543210)
    packed = commands.build_init_passwords_request(commands.InitPasswords(24, (seed,) * 10))
    assert packed[1:7] == bytes([0x42, 0xB2]) + (9876543210 & 0xFFFFFFFF).to_bytes(4, "big")


def test_empty_requests() -> None:
    assert commands.build_operate_finished_request() == plain("operate_finished") == b""
    assert commands.build_reset_request() == plain("reset_lock") == b""


def test_op_ack() -> None:
    assert commands.parse_op_ack(commands.build_op_ack(80, 2), "x") == commands.OpAck(80, 2)
    with pytest.raises(ProtocolError):
        commands.parse_op_ack(b"\x50", "x")


# --- auth ------------------------------------------------------------------------------------


def test_check_admin_vector_and_round_trip() -> None:
    raw = auth_cmds.build_check_admin_request(12345678)
    assert raw == plain("check_admin adminPs=12345678 uid=0 lockFlagPos=0")
    assert auth_cmds.parse_check_admin_request(raw) == auth_cmds.CheckAdminRequest(12345678, 0, 0)
    other = auth_cmds.build_check_admin_request(7, lock_flag_pos=0xABCDEF, uid=99)
    assert auth_cmds.parse_check_admin_request(other) == auth_cmds.CheckAdminRequest(
        7, 0xABCDEF, 99
    )
    with pytest.raises(ValueError):
        auth_cmds.build_check_admin_request(7, lock_flag_pos=1 << 24)
    assert auth_cmds.parse_ps_from_lock(auth_cmds.build_ps_from_lock_response(0x11223344)) == (
        0x11223344
    )
    assert auth_cmds.parse_ps_from_lock(bytes.fromhex("1122334455")) == 0x11223344
    with pytest.raises(ProtocolError):
        auth_cmds.parse_ps_from_lock(b"\x01\x02\x03")


def test_check_random_sum_vector() -> None:
    raw = auth_cmds.build_check_random_request(0x11223344, 87654321)
    assert raw == plain("check_random psFromLock=0x11223344 unlockKey=87654321")
    assert auth_cmds.parse_check_random_request(raw) == 0x165BB2F5
    assert auth_cmds.check_random_ok(raw, 0x11223344, 87654321)
    assert not auth_cmds.check_random_ok(raw, 0x11223345, 87654321)
    assert not auth_cmds.check_random_ok(b"\x00", 0, 0)


@pytest.mark.parametrize(
    ("ps", "key", "expected"),
    [
        (0xFFFFFFFF, 1, 0),
        (0xFFFFFFF0, 0x20, 0x10),
        (0xFFFFFFFF, 999_999_999, 999_999_998),
        (0x80000000, 0x80000000, 0),
    ],
)
def test_auth_sum_wraps_modulo_two_to_the_32(ps: int, key: int, expected: int) -> None:
    assert auth_cmds.auth_sum(ps, key) == expected
    raw = auth_cmds.build_check_random_request(ps, key)
    assert raw == expected.to_bytes(4, "big")
    operate = auth_cmds.parse_operate_request(auth_cmds.build_operate_request(ps, key, 5))
    assert operate.proves(ps, key) and operate.check_sum == expected


def test_check_user_time_vector_and_round_trip() -> None:
    raw = auth_cmds.build_check_user_time_request()
    assert raw == plain("check_user_time uid=0 start=0001311400 end=9911301400 lockFlagPos=0")
    parsed = auth_cmds.parse_check_user_time_request(raw)
    assert parsed == auth_cmds.CheckUserTimeRequest(USER_TIME_START, USER_TIME_END, 0, 0)
    window = (datetime(2024, 3, 1, 8, 0), datetime(2024, 4, 1, 8, 0))
    other = auth_cmds.build_check_user_time_request(*window, lock_flag_pos=3, uid=42)
    assert auth_cmds.parse_check_user_time_request(other) == auth_cmds.CheckUserTimeRequest(
        *window, 3, 42
    )


def test_unlock_and_lock_vectors() -> None:
    stamp = int(datetime(2024, 1, 15, 10, 30, 45, tzinfo=UTC).timestamp())
    raw = auth_cmds.build_operate_request(0x11223344, 87654321, stamp)
    assert raw == plain("unlock psFromLock=0x11223344 unlockKey=87654321 (fixed clock)")
    assert raw == plain("lock psFromLock=0x11223344 unlockKey=87654321 (fixed clock)")
    parsed = auth_cmds.parse_operate_request(raw)
    assert parsed.timestamp == stamp and parsed.proves(0x11223344, 87654321)
    assert "0x165" not in repr(parsed) and str(0x165BB2F5) not in repr(parsed)


def test_operate_answer_short_and_long() -> None:
    assert auth_cmds.parse_operate_response(b"\x64") == auth_cmds.OperateResponse(100)
    when = datetime(2024, 5, 6, 7, 8, 9)
    raw = auth_cmds.build_operate_response(80, 1, 2, when)
    assert len(raw) == 15
    assert auth_cmds.parse_operate_response(raw) == auth_cmds.OperateResponse(80, 1, 2, when)
    no_clock = auth_cmds.parse_operate_response(raw[:9] + bytes(6))
    assert no_clock.time is None and no_clock.uid == 1
    with pytest.raises(ProtocolError):
        auth_cmds.parse_operate_response(b"")


def test_status_answer_and_pushes() -> None:
    for state in LockState:
        raw = auth_cmds.build_status_response(70, state)
        assert auth_cmds.parse_status_response(raw) == StatusResponse(70, state)
    assert auth_cmds.parse_status_response(bytes([70, 1, 0])) == StatusResponse(
        70, LockState.UNLOCKED, 0
    )
    assert auth_cmds.parse_status_response(bytes([70, 9])) == StatusResponse(
        70, LockState.UNKNOWN, None, 9
    )
    when = datetime(2024, 5, 6, 7, 8, 9)
    push = auth_cmds.parse_status_response(auth_cmds.build_operation_push(60, 7, 8, when))
    assert push == OperationPush(60, 7, 8, when)
    with pytest.raises(ProtocolError):
        auth_cmds.parse_status_response(b"\x46")


# --- settings --------------------------------------------------------------------------------


def test_auto_lock() -> None:
    assert settings_cmds.build_query() == plain("auto_lock query")
    assert settings_cmds.build_auto_lock_set(5) == plain("auto_lock set 5s")
    request = settings_cmds.parse_setting_request(plain("auto_lock set 5s"), "0x36")
    assert request.op == settings_cmds.SettingOp.SET
    assert settings_cmds.parse_auto_lock_set(request.value) == 5
    raw = settings_cmds.build_auto_lock_state(90, 30, 5, 900)
    assert settings_cmds.parse_auto_lock_state(raw) == settings_cmds.AutoLockState(90, 30, 5, 900)
    assert settings_cmds.parse_auto_lock_state(bytes([90, 1, 0, 0])) == settings_cmds.AutoLockState(
        90, 0
    )
    with pytest.raises(ProtocolError):
        settings_cmds.parse_auto_lock_state(bytes([90, 2, 0, 0]))  # a set answer is no state
    with pytest.raises(ValueError):
        settings_cmds.build_auto_lock_set(70000)


def test_audio_remote_unlock_and_display() -> None:
    assert settings_cmds.build_query() == plain("audio query") == plain("remote_unlock query")
    assert settings_cmds.build_audio_set(False) == plain("audio set off")
    assert settings_cmds.build_audio_set(True, 3) == bytes([2, 1, 3, 0])
    assert settings_cmds.parse_audio_set(bytes([1, 3, 0])) == (True, 3)
    assert settings_cmds.parse_audio_set(bytes([0])) == (False, None)
    with pytest.raises(ValueError):
        settings_cmds.build_audio_set(True, 6)
    for volume in (None, 4):
        raw = settings_cmds.build_audio_state(50, True, volume)
        assert settings_cmds.parse_audio_state(raw) == settings_cmds.AudioState(50, True, volume)
    assert settings_cmds.build_on_off_set(True) == bytes([2, 1])
    assert settings_cmds.parse_on_off_set(b"\x00", "0x37") is False
    raw = settings_cmds.build_on_off_state(40, True)
    assert settings_cmds.parse_on_off_state(raw, "0x37") == settings_cmds.OnOffState(40, True)


def test_switches() -> None:
    state = SwitchState(SwitchItem.TAMPER_ALERT | SwitchItem.PRIVACY_LOCK, SwitchItem.PRIVACY_LOCK)
    raw = settings_cmds.build_switch_set(state)
    request = settings_cmds.parse_setting_request(raw, "0x68")
    assert settings_cmds.parse_switch_words(request.value, "0x68") == state
    battery, parsed = settings_cmds.parse_switch_state(settings_cmds.build_switch_state(77, state))
    assert battery == 77 and parsed == state
    assert parsed.is_on(SwitchItem.PRIVACY_LOCK) and not parsed.is_on(SwitchItem.TAMPER_ALERT)


def test_passage_mode() -> None:
    assert settings_cmds.build_passage_query(0) == plain("passage_mode query seq=0")
    friday = PassageEntry(settings_cmds.PassageType.WEEKLY, 5, 0, time(0, 0), time(0, 0))
    raw = settings_cmds.build_passage_change(PassageOp.ADD, friday)
    assert raw == plain("passage_mode add weekly friday all day")
    assert settings_cmds.parse_passage_request(raw) == settings_cmds.PassageRequest(
        PassageOp.ADD, entry=friday
    )
    assert settings_cmds.build_passage_clear() == plain("passage_mode clear")
    assert settings_cmds.parse_passage_request(b"\x04").op == PassageOp.CLEAR
    assert settings_cmds.parse_passage_request(b"\x01\x02").seq == 2
    entries = [friday, PassageEntry(2, 15, 3, time(8, 0), time(18, 30))]
    page = settings_cmds.parse_passage_page(settings_cmds.build_passage_page(60, entries, 0xFF))
    assert page.entries == tuple(entries) and page.is_last  # more than one entry terminates
    with pytest.raises(ValueError):
        settings_cmds.build_passage_change(PassageOp.CLEAR, friday)
    with pytest.raises(ProtocolError):
        settings_cmds.parse_passage_page(bytes([60, 1, 0xFF, 1, 5, 0, 25, 0, 0, 0]))


# --- every parser raises only ProtocolError on arbitrary bytes --------------------------------

PARSERS: list[Callable[[bytes], Any]] = [
    decode_date,
    parse_features_response,
    commands.parse_aes_key_response,
    commands.parse_add_admin_request,
    commands.parse_time_calibrate_request,
    commands.parse_lock_time_response,
    commands.parse_device_info_request,
    lambda b: commands.parse_device_info_response(b, 6).text,
    commands.parse_set_admin_code_request,
    commands.parse_admin_code_response,
    commands.parse_init_passwords_request,
    lambda b: commands.parse_op_ack(b, "fuzz"),
    auth_cmds.parse_check_admin_request,
    auth_cmds.parse_ps_from_lock,
    auth_cmds.parse_check_random_request,
    auth_cmds.parse_check_user_time_request,
    auth_cmds.parse_operate_request,
    auth_cmds.parse_operate_response,
    auth_cmds.parse_status_response,
    lambda b: settings_cmds.parse_setting_request(b, "fuzz"),
    settings_cmds.parse_auto_lock_set,
    settings_cmds.parse_auto_lock_state,
    settings_cmds.parse_audio_set,
    settings_cmds.parse_audio_state,
    lambda b: settings_cmds.parse_on_off_state(b, "fuzz"),
    settings_cmds.parse_switch_state,
    settings_cmds.parse_passage_request,
    settings_cmds.parse_passage_page,
    passcode_cmds.parse_passcode_request,
    passcode_cmds.parse_passcode_list_request,
    passcode_cmds.parse_passcode_page,
    card_cmds.parse_card_request,
    card_cmds.parse_card_enrol,
    card_cmds.parse_card_page,
    card_cmds.parse_cyclic_request,
    fingerprint_cmds.parse_fingerprint_request,
    fingerprint_cmds.parse_fingerprint_enrol,
    fingerprint_cmds.parse_fingerprint_page,
    oplog.parse_log_request,
    oplog.parse_log_page,
]


@pytest.mark.parametrize("parser", PARSERS)
@given(data=st.binary(max_size=120))
def test_each_parser_on_arbitrary_bytes(parser: Callable[[bytes], Any], data: bytes) -> None:
    with contextlib.suppress(ProtocolError):
        parser(data)
