"""Nuki Config, Advanced Config, Opener Config, time control, time and PIN (spec §4.4, §4.5)."""

from __future__ import annotations

import dataclasses
import struct
from datetime import UTC, datetime, time, timedelta, timezone
from typing import Any, TypeVar

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ttlock_nuki_addon.errors import ProtocolError
from ttlock_nuki_addon.nuki import commands as c
from ttlock_nuki_addon.nuki import time_control as tc
from ttlock_nuki_addon.nuki.fields import FieldError
from ttlock_nuki_addon.validity import Weekday

u8s = st.integers(0, 255)
u16s = st.integers(0, 0xFFFF)
s16s = st.integers(-32768, 32767)
floats32 = st.floats(width=32, allow_nan=False, allow_infinity=False)
names = st.text(st.characters(codec="utf-8", exclude_characters="\x00"), max_size=32).filter(
    lambda name: len(name.encode()) <= 32
)
moments = st.none() | st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2099, 12, 31)
).map(lambda moment: moment.replace(microsecond=0))
clocks = st.builds(time, st.integers(0, 23), st.integers(0, 59))
T = TypeVar("T")


def _cut(obj: T, optional: list[str], keep: int) -> T:
    """`obj` (a dataclass) with the optional fields after the first `keep` set to None."""
    cleared: dict[str, Any] = dict.fromkeys(optional[keep:])
    return dataclasses.replace(obj, **cleared)  # type: ignore[type-var]


def _build(cls: type[T], values: list[Any]) -> T:
    """`cls` from its fields' values in declaration order."""
    names = [f.name for f in dataclasses.fields(cls)]  # type: ignore[arg-type]
    return cls(**dict(zip(names, values, strict=True)))


# --- Config (spec §4.4): offsets from the spec table, packed independently ----------------

SPEC_CONFIG = bytearray(80)
struct.pack_into("<I", SPEC_CONFIG, 0, 0x33C335C5)
SPEC_CONFIG[4:10] = b"Front\x00"
struct.pack_into("<ff", SPEC_CONFIG, 36, 48.25, 16.5)
SPEC_CONFIG[44:49] = bytes([1, 1, 0, 1, 3])  # auto unlatch, pairing, button, LED, brightness
struct.pack_into("<HBBBBB", SPEC_CONFIG, 49, 2024, 5, 6, 7, 8, 9)
struct.pack_into("<h", SPEC_CONFIG, 56, -120)
SPEC_CONFIG[58:66] = bytes([1, 1, 1, 2, 4, 1, 2, 1])  # dst, fob, 3 fob actions, single, adv, kp
SPEC_CONFIG[66:71] = bytes([3, 10, 7, 4, 2])  # firmware 3.10.7, hardware 4.2
SPEC_CONFIG[71] = 3  # HomeKit enabled and paired
struct.pack_into("<H", SPEC_CONFIG, 72, 37)  # Europe/Berlin
SPEC_CONFIG[74:79] = bytes([4, 0x21, 1, 3, 9])  # device type, capabilities, kp2, matter, variant


@pytest.mark.parametrize("length", [71, 74, 75, 79, 80])
def test_config_offsets_follow_the_spec(length: int) -> None:
    config = c.parse_config(bytes(SPEC_CONFIG[:length]))
    assert (config.nuki_id, config.name) == (0x33C335C5, "Front")
    assert (config.latitude, config.longitude) == (48.25, 16.5)
    assert config.auto_unlatch and config.pairing_enabled and not config.button_enabled
    assert (config.led_enabled, config.led_brightness) == (True, 3)
    assert config.current_time == datetime(2024, 5, 6, 7, 8, 9)
    assert (config.timezone_offset, config.dst_mode) == (-120, c.DstMode.EUROPEAN)
    assert config.has_fob
    assert (config.fob_action_1, config.fob_action_2, config.fob_action_3) == (1, 2, 4)
    assert config.single_lock and config.advertising_mode == c.AdvertisingMode.SLOW
    assert config.has_keypad and config.firmware == "3.10.7"
    assert config.hardware_revision == (4, 2)
    old = length == 71  # spec §4.4: SL1/SL2 firmware stops after the hardware revision
    assert config.homekit_status == (None if old else c.HomeKitStatus.ENABLED_PAIRED)
    assert config.timezone_id == (None if old else 37)
    assert config.device_type == (c.DeviceType.SMART_LOCK_3_4 if length > 74 else None)
    assert config.product_variant == (9 if length >= 79 else None)
    assert config.to_payload() == bytes(SPEC_CONFIG[: min(length, 79)])


def test_config_to_new_config_keeps_every_setting() -> None:
    config = c.parse_config(bytes(SPEC_CONFIG[:74]))
    fields = config.to_new_config().to_payload()
    assert len(fields) == 55  # spec §4.4
    # spec §4.4 Set Config: name, lat, long, 5 switches, tz offset, dst, 3 fob actions,
    # single lock, advertising mode, timezone id
    expected = SPEC_CONFIG[4:49] + SPEC_CONFIG[56:59] + SPEC_CONFIG[60:65] + SPEC_CONFIG[72:74]
    assert fields == bytes(expected)
    assert c.parse_new_config(fields) == config.to_new_config()
    old = c.parse_config(bytes(SPEC_CONFIG[:71])).to_new_config()
    assert len(old.to_payload()) == 53
    with pytest.raises(ProtocolError):
        c.parse_new_config(fields + b"\x00")
    with pytest.raises(ProtocolError):
        c.parse_config(bytes(SPEC_CONFIG[:73]))  # ends inside the timezone id


_CONFIG_TAIL = [f.name for f in dataclasses.fields(c.Config)][21:]


@st.composite
def configs(draw: st.DrawFn) -> c.Config:
    """Any Config, with a prefix of the optional fields."""
    full = _build(c.Config, [
        draw(st.integers(0, 0xFFFFFFFF)), draw(names), draw(floats32), draw(floats32),
        *[draw(st.booleans()) for _ in range(4)], draw(u8s), draw(moments), draw(s16s),
        draw(u8s), draw(st.booleans()), draw(u8s), draw(u8s), draw(u8s), draw(st.booleans()),
        draw(u8s), draw(st.booleans()), (draw(u8s), draw(u8s), draw(u8s)),
        (draw(u8s), draw(u8s)), draw(u8s), draw(u16s), draw(u8s), draw(u8s),
        draw(st.booleans()), draw(u8s), draw(u8s),
    ])  # fmt: skip
    return _cut(full, _CONFIG_TAIL, draw(st.integers(0, len(_CONFIG_TAIL))))


@given(configs())
def test_config_round_trip(config: c.Config) -> None:
    payload = config.to_payload()
    assert len(payload) == 71 + sum(
        {"timezone_id": 2}.get(n, 1) for n in _CONFIG_TAIL if getattr(config, n) is not None
    )
    assert c.parse_config(payload) == config
    new = config.to_new_config()
    assert c.parse_new_config(new.to_payload()) == new


def test_config_builder_rejects_bad_values() -> None:
    config = c.parse_config(bytes(SPEC_CONFIG[:74]))
    for change in (
        {"name": "x" * 33},
        {"latitude": float("nan")},
        {"latitude": 1e39},
        {"led_brightness": 256},
        {"firmware_version": (1, 2)},
        {"homekit_status": None},  # timezone id present after a missing field
    ):
        with pytest.raises(FieldError):
            dataclasses.replace(config, **change).to_payload()


# --- Opener Config (spec §4.12) ---------------------------------------------------------------


def test_opener_config_layout() -> None:
    lock = bytes(SPEC_CONFIG[:74])
    # The Opener drops LED brightness (offset 48): same bytes without it, then the timezone id.
    payload = lock[:48] + lock[49:71] + lock[72:74] + b"\xaa\xbb"
    opener = c.parse_opener_config(payload)
    assert opener.capabilities == lock[44]
    assert opener.current_time == datetime(2024, 5, 6, 7, 8, 9)
    assert opener.operating_mode == lock[63] and opener.advertising_mode == lock[64]
    assert opener.firmware_version == (3, 10, 7)
    assert (opener.timezone_id, opener.extra) == (37, b"\xaa\xbb")
    assert opener.to_payload() == payload
    new = opener.to_new_config()
    assert len(new.to_payload()) == 54
    assert c.parse_opener_new_config(new.to_payload()) == new
    with pytest.raises(FieldError):
        dataclasses.replace(opener, timezone_id=None).to_payload()


# --- Advanced Config (spec §4.5) --------------------------------------------------------------

SPEC_ADVANCED = bytearray(34)
struct.pack_into("<Hhhhh", SPEC_ADVANCED, 0, 720, -10, 20, -30, 40)
SPEC_ADVANCED[10:17] = bytes([20, 1, 5, 1, 2, 1, 3])  # lng timeout .. unlatch duration
struct.pack_into("<H", SPEC_ADVANCED, 17, 300)
SPEC_ADVANCED[19:21] = bytes([1, 1])  # auto unlock disabled, night mode enabled
SPEC_ADVANCED[21:25] = bytes([22, 30, 6, 15])  # night mode 22:30 - 06:15
SPEC_ADVANCED[25:33] = bytes([1, 0, 1, 1, 0, 1, 2, 1])


@pytest.mark.parametrize("length", [20, 28, 31, 33, 34])
def test_advanced_config_offsets_follow_the_spec(length: int) -> None:
    config = c.parse_advanced_config(bytes(SPEC_ADVANCED[:length]))
    assert config.total_degrees == 720
    assert config.unlocked_position_offset == -10
    assert config.unlocked_to_locked_transition_offset == 40
    assert config.single_button_press_action == c.ButtonPressAction.INTELLIGENT
    assert config.double_button_press_action == c.ButtonPressAction.LOCK_N_GO
    assert config.battery_type == c.BatteryType.LITHIUM
    assert (config.unlatch_duration, config.auto_lock_timeout) == (3, 300)
    assert config.auto_unlock_disabled
    v21, v22, v23 = length >= 28, length >= 31, length >= 33
    assert config.night_mode_start_time == (time(22, 30) if v21 else None)
    assert config.night_mode_end_time == (time(6, 15) if v21 else None)
    assert config.night_mode_immediate_lock_on_start == (True if v21 else None)
    assert config.auto_update_enabled == (True if v22 else None)
    assert config.motor_speed == (c.MotorSpeed.GENTLE if v23 else None)
    assert config.to_payload() == bytes(SPEC_ADVANCED[: min(length, 33)])
    new = config.to_new_advanced_config().to_payload()
    # spec §4.5: the same fields without total degrees, as many as the lock reported
    assert new == bytes(SPEC_ADVANCED[2 : min(length, 33)])
    assert c.parse_new_advanced_config(new) == config.to_new_advanced_config()


_ADV_TAIL = [f.name for f in dataclasses.fields(c.AdvancedConfig)][14:]


@st.composite
def advanced_configs(draw: st.DrawFn) -> c.AdvancedConfig:
    """Any Advanced Config with a prefix of the optional fields."""
    full = _build(c.AdvancedConfig, [
        draw(u16s), *[draw(s16s) for _ in range(4)], draw(u8s), draw(u8s), draw(u8s),
        draw(st.booleans()), draw(u8s), draw(st.booleans()), draw(u8s), draw(u16s),
        draw(st.booleans()), draw(st.booleans()), draw(clocks), draw(clocks),
        *[draw(st.booleans()) for _ in range(6)], draw(u8s), draw(st.booleans()),
    ])  # fmt: skip
    return _cut(full, _ADV_TAIL, draw(st.integers(0, len(_ADV_TAIL))))


@given(advanced_configs())
def test_advanced_config_round_trip(config: c.AdvancedConfig) -> None:
    assert c.parse_advanced_config(config.to_payload()) == config
    new = config.to_new_advanced_config()
    assert len(new.to_payload()) == len(config.to_payload()) - 2
    assert c.parse_new_advanced_config(new.to_payload()) == new


def test_set_advanced_config_rejects_partial_fields() -> None:
    with pytest.raises(ProtocolError):
        c.parse_new_advanced_config(bytes(SPEC_ADVANCED[2:22]))  # inside night mode start


# --- Update Time, security PIN, time control ------------------------------------------------


def test_update_time_is_utc() -> None:
    berlin = timezone(timedelta(hours=2))
    aware = datetime(2024, 5, 6, 9, 8, 9, tzinfo=berlin)
    assert c.build_update_time(aware) == c.build_update_time(datetime(2024, 5, 6, 7, 8, 9))
    assert c.parse_update_time(c.build_update_time(aware)) == datetime(2024, 5, 6, 7, 8, 9)
    assert c.build_update_time(aware.astimezone(UTC))[:2] == (2024).to_bytes(2, "little")
    with pytest.raises(ProtocolError):
        c.parse_update_time(bytes(8))


@given(st.sampled_from([2, 4]), st.data())
def test_set_security_pin_round_trip(width: int, data: st.DataObject) -> None:
    pin = data.draw(st.integers(0, (1 << (8 * width)) - 1))
    fields = c.build_set_security_pin(pin, width)
    assert fields == pin.to_bytes(width, "little")
    assert c.parse_set_security_pin(fields, width) == pin
    assert c.build_verify_security_pin() == c.build_request_config() == b""


@given(u8s, st.booleans(), st.frozensets(st.sampled_from(Weekday), min_size=1), clocks, u8s)
def test_time_control_round_trip(
    entry_id: int, enabled: bool, days: frozenset[Weekday], at: time, action: int
) -> None:
    entry = tc.TimeControlEntry(entry_id, enabled, days, at, action)
    assert tc.parse_time_control_entry(entry.to_payload()) == entry
    assert tc.parse_update_time_control_entry(entry.to_payload()) == entry
    new = tc.NewTimeControlEntry(days, at, action)
    assert tc.parse_add_time_control_entry(new.to_payload()) == new
    assert tc.parse_time_control_entry_id(tc.build_time_control_entry_id(entry_id)) == entry_id
    assert tc.parse_remove_time_control_entry(tc.build_remove_time_control_entry(entry_id)) == (
        entry_id
    )
    assert tc.parse_time_control_entry_count(tc.build_time_control_entry_count(entry_id)) == (
        entry_id
    )


def test_time_control_weekday_bits() -> None:
    # spec §2.4: bit6 Monday ... bit0 Sunday
    fields = tc.build_add_time_control_entry({Weekday.MON, Weekday.SUN}, time(7, 30), 2)
    assert fields == bytes([0x41, 7, 30, 2])
