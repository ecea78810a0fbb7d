"""Nuki lock states and actions (spec §4.3, §4.10, §4.12) and the Keyturner States message."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import IntEnum, IntFlag

from .fields import FieldError, Reader, encode_optional_timestamp, flag, sint, u8

__all__ = [
    "KEYTURNER_STATES_MIN",
    "AccessoryBattery",
    "CompletionStatus",
    "DoorSensorState",
    "KeyturnerStates",
    "LockAction",
    "LockActionFlag",
    "LockState",
    "NukiState",
    "OpenerAction",
    "OpenerState",
    "OpenerStates",
    "Trigger",
    "battery_byte",
    "battery_charging",
    "battery_critical",
    "battery_percent",
    "parse_keyturner_states",
    "parse_opener_states",
]


class NukiState(IntEnum):
    """Device mode, Keyturner States offset 0 (spec §4.3)."""

    UNINITIALIZED = 0x00
    PAIRING_MODE = 0x01
    DOOR_MODE = 0x02
    CONTINUOUS_MODE = 0x03  # Opener
    MAINTENANCE_MODE = 0x04


class LockState(IntEnum):
    """Smart Lock bolt state, Keyturner States offset 1 (spec §4.3)."""

    UNCALIBRATED = 0x00
    LOCKED = 0x01
    UNLOCKING = 0x02
    UNLOCKED = 0x03
    LOCKING = 0x04
    UNLATCHED = 0x05
    UNLOCKED_LOCK_N_GO = 0x06
    UNLATCHING = 0x07
    CALIBRATION = 0xFC
    BOOT_RUN = 0xFD
    MOTOR_BLOCKED = 0xFE
    UNDEFINED = 0xFF


class OpenerState(IntEnum):
    """Opener state, Keyturner States offset 1 (spec §4.12)."""

    UNTRAINED = 0x00
    ONLINE = 0x01
    RTO_ACTIVE = 0x03
    OPEN = 0x05
    OPENING = 0x07
    UNDEFINED = 0xFF


class Trigger(IntEnum):
    """What started a state change (spec §4.3 offset 2)."""

    SYSTEM = 0x00  # a BLE command
    MANUAL = 0x01  # key or thumbturn
    BUTTON = 0x02
    AUTOMATIC = 0x03  # time control
    AUTO_LOCK = 0x06
    HOMEKIT = 0xAB
    MQTT = 0xAC


class LockAction(IntEnum):
    """Smart Lock actions (spec §4.10); 0x50 and 0x5A appear only in states and logs."""

    UNLOCK = 0x01
    LOCK = 0x02
    UNLATCH = 0x03
    LOCK_N_GO = 0x04
    LOCK_N_GO_UNLATCH = 0x05
    FULL_LOCK = 0x06
    FOB_NO_ACTION = 0x50
    BUTTON_NO_ACTION = 0x5A
    FOB_ACTION_1 = 0x81
    FOB_ACTION_2 = 0x82
    FOB_ACTION_3 = 0x83


class OpenerAction(IntEnum):
    """Opener actions (spec §4.12)."""

    ACTIVATE_RTO = 0x01
    DEACTIVATE_RTO = 0x02
    ELECTRIC_STRIKE_ACTUATION = 0x03
    ACTIVATE_CONTINUOUS_MODE = 0x04
    DEACTIVATE_CONTINUOUS_MODE = 0x05
    FOB_ACTION_1 = 0x81
    FOB_ACTION_2 = 0x82
    FOB_ACTION_3 = 0x83


class LockActionFlag(IntFlag):
    """Lock Action flags (spec §4.10); other bits are reserved."""

    AUTO_UNLOCK = 0x01
    FORCE = 0x02


class CompletionStatus(IntEnum):
    """How the last lock action ended (spec §4.10)."""

    SUCCESS = 0x00
    MOTOR_BLOCKED = 0x01
    CANCELED = 0x02
    TOO_RECENT = 0x03
    BUSY = 0x04
    LOW_MOTOR_VOLTAGE = 0x05
    CLUTCH_FAILURE = 0x06
    MOTOR_POWER_FAILURE = 0x07
    INCOMPLETE = 0x08
    FAILURE = 0x0B
    INVALID_CODE = 0xE0
    INVALID_FINGERPRINT = 0xE1
    OTHER_ERROR = 0xFE
    UNKNOWN = 0xFF


class DoorSensorState(IntEnum):
    """Door sensor, Keyturner States offset 18 (spec §4.3)."""

    UNAVAILABLE = 0x00
    DEACTIVATED = 0x01
    DOOR_CLOSED = 0x02
    DOOR_OPENED = 0x03
    DOOR_STATE_UNKNOWN = 0x04
    CALIBRATING = 0x05
    UNCALIBRATED = 0x10
    TAMPERED = 0xF0
    UNKNOWN = 0xFF


class AccessoryBattery(IntFlag):
    """Accessory battery state bits, Keyturner States offset 20 (spec §4.3)."""

    KEYPAD_SUPPORTED = 0x01
    KEYPAD_CRITICAL = 0x02
    DOOR_SENSOR_SUPPORTED = 0x04
    DOOR_SENSOR_CRITICAL = 0x08


# --- battery byte (spec §4.3 offset 12) -------------------------------------------------------


def battery_percent(byte: int) -> int:
    """Charge in percent: bits 2-7 hold half the percentage (may exceed 100 on odd firmware)."""
    return (byte >> 2) * 2


def battery_critical(byte: int) -> bool:
    """Bit 0: battery critical (the only bit an Opener sets)."""
    return bool(byte & 0x01)


def battery_charging(byte: int) -> bool:
    """Bit 1: charging (rechargeable packs)."""
    return bool(byte & 0x02)


def battery_byte(percent: int, *, critical: bool = False, charging: bool = False) -> int:
    """The battery byte for an even percentage 0..126 (FieldError otherwise)."""
    if isinstance(percent, bool) or not isinstance(percent, int) or not 0 <= percent <= 126:
        raise FieldError("The battery percentage must be a whole number from 0 to 126.")
    if percent % 2:
        raise FieldError("The Nuki battery byte holds only even percentages.")
    return (percent // 2) << 2 | (0x02 if charging else 0) | (0x01 if critical else 0)


# --- Keyturner States (0x000C) ----------------------------------------------------------------

_Field = tuple[int | None, Callable[[int], bytes]]


def _u8f(what: str) -> Callable[[int], bytes]:
    return lambda value: u8(value, what)


def _s8f(what: str) -> Callable[[int], bytes]:
    return lambda value: sint(value, 1, what)


def _flagf(value: int) -> bytes:
    return flag(bool(value))


def _optional_tail(fields: list[_Field], what: str) -> bytes:
    """Encode the present prefix of optional fields; a gap before a present one is an error."""
    out = b""
    missing = False
    for value, encode in fields:
        if value is None:
            missing = True
        elif missing:
            raise FieldError(f"{what}: an optional field is set after a missing one.")
        else:
            out += encode(value)
    return out


def _head(states: KeyturnerStates | OpenerStates) -> bytes:
    when = states.current_time
    return (
        u8(states.nuki_state, "Nuki state")
        + u8(states.lock_state, "lock state")
        + u8(states.trigger, "trigger")
        + encode_optional_timestamp(when)
        + sint(states.timezone_offset, 2, "timezone offset")
        + u8(states.battery, "battery byte")
    )


def _opt(reader: Reader, read: Callable[[str], int], field: str) -> int | None:
    return read(field) if reader.remaining else None


def _opt_s8(reader: Reader, field: str) -> int | None:
    return reader.sint(1, field) if reader.remaining else None


KEYTURNER_STATES_MIN = 13  # spec §4.3: up to and including the battery byte


@dataclass(frozen=True, slots=True)
class KeyturnerStates:
    """Smart Lock Keyturner States (spec §4.3); optional fields are None when not sent.

    Firmware sends 15 (2016 example), 19 (API 2.1), 21 (2.2) or 27 (2.3) bytes; the
    parser reads what is there and `to_payload()` writes exactly the fields present.
    Enum-valued fields are plain ints so unknown values survive; compare with the enums.
    """

    nuki_state: int
    lock_state: int
    trigger: int
    current_time: datetime | None  # UTC, naive; None when the lock sends an impossible date
    timezone_offset: int  # minutes
    battery: int  # raw byte; see battery_percent/critical/charging
    config_update_count: int | None = None
    lock_n_go_timer: int | None = None
    last_lock_action: int | None = None
    last_lock_action_trigger: int | None = None
    last_lock_action_completion_status: int | None = None
    door_sensor_state: int | None = None
    night_mode_active: bool | None = None
    accessory_battery_state: int | None = None
    remote_access_status: int | None = None
    ble_strength: int | None = None  # dBm; 0 invalid, 1 not supported
    wifi_strength: int | None = None
    wifi_status: int | None = None
    mqtt_status: int | None = None
    thread_status: int | None = None

    @property
    def battery_percent(self) -> int:
        """Charge in percent from the battery byte."""
        return battery_percent(self.battery)

    @property
    def battery_critical(self) -> bool:
        """Whether the lock reports its battery as critical."""
        return battery_critical(self.battery)

    @property
    def battery_charging(self) -> bool:
        """Whether the battery pack is charging."""
        return battery_charging(self.battery)

    def to_payload(self) -> bytes:
        """The message payload with exactly the fields present."""
        head = _head(self)
        tail: list[_Field] = [
            (self.config_update_count, _u8f("config update count")),
            (self.lock_n_go_timer, _u8f("lock'n'go timer")),
            (self.last_lock_action, _u8f("last lock action")),
            (self.last_lock_action_trigger, _u8f("last lock action trigger")),
            (self.last_lock_action_completion_status, _u8f("completion status")),
            (self.door_sensor_state, _u8f("door sensor state")),
            (self.night_mode_active, _flagf),
            (self.accessory_battery_state, _u8f("accessory battery state")),
            (self.remote_access_status, _u8f("remote access status")),
            (self.ble_strength, _s8f("BLE strength")),
            (self.wifi_strength, _s8f("Wi-Fi strength")),
            (self.wifi_status, _u8f("Wi-Fi status")),
            (self.mqtt_status, _u8f("MQTT status")),
            (self.thread_status, _u8f("Thread status")),
        ]
        return head + _optional_tail(tail, "Keyturner States")


def parse_keyturner_states(payload: bytes) -> KeyturnerStates:
    """Parse Smart Lock Keyturner States by length; bytes past offset 26 are ignored."""
    r = Reader(payload, "Keyturner States (0x000C)")
    if r.remaining < KEYTURNER_STATES_MIN:
        raise r.fail(f"{r.remaining} bytes, at least {KEYTURNER_STATES_MIN} expected")
    head = (r.u8("Nuki state"), r.u8("lock state"), r.u8("trigger"))
    when, offset, battery = r.timestamp("current time"), r.sint(2, "timezone"), r.u8("battery")
    return KeyturnerStates(
        *head,
        current_time=when,
        timezone_offset=offset,
        battery=battery,
        config_update_count=_opt(r, r.u8, "config update count"),
        lock_n_go_timer=_opt(r, r.u8, "lock'n'go timer"),
        last_lock_action=_opt(r, r.u8, "last lock action"),
        last_lock_action_trigger=_opt(r, r.u8, "last lock action trigger"),
        last_lock_action_completion_status=_opt(r, r.u8, "completion status"),
        door_sensor_state=_opt(r, r.u8, "door sensor state"),
        night_mode_active=None if not r.remaining else r.flag("night mode"),
        accessory_battery_state=_opt(r, r.u8, "accessory battery state"),
        remote_access_status=_opt(r, r.u8, "remote access status"),
        ble_strength=_opt_s8(r, "BLE strength"),
        wifi_strength=_opt_s8(r, "Wi-Fi strength"),
        wifi_status=_opt(r, r.u8, "Wi-Fi status"),
        mqtt_status=_opt(r, r.u8, "MQTT status"),
        thread_status=_opt(r, r.u8, "Thread status"),
    )


@dataclass(frozen=True, slots=True)
class OpenerStates:
    """Opener Keyturner States (spec §4.12): offsets 0-17 as the lock, door sensor at 18.

    Offset 14 is the ring-to-open timer; the battery byte carries only the critical bit.
    Bytes after 18 are ignored because the sources disagree on them (spec §8 item 6).
    """

    nuki_state: int
    lock_state: int  # OpenerState
    trigger: int
    current_time: datetime | None
    timezone_offset: int
    battery: int
    config_update_count: int | None = None
    ring_to_open_timer: int | None = None
    last_lock_action: int | None = None  # OpenerAction
    last_lock_action_trigger: int | None = None
    last_lock_action_completion_status: int | None = None
    door_sensor_state: int | None = None

    @property
    def battery_critical(self) -> bool:
        """Whether the Opener reports its battery as critical."""
        return battery_critical(self.battery)

    def to_payload(self) -> bytes:
        """The message payload with exactly the fields present."""
        head = _head(self)
        tail: list[_Field] = [
            (self.config_update_count, _u8f("config update count")),
            (self.ring_to_open_timer, _u8f("ring-to-open timer")),
            (self.last_lock_action, _u8f("last lock action")),
            (self.last_lock_action_trigger, _u8f("last lock action trigger")),
            (self.last_lock_action_completion_status, _u8f("completion status")),
            (self.door_sensor_state, _u8f("door sensor state")),
        ]
        return head + _optional_tail(tail, "Opener Keyturner States")


def parse_opener_states(payload: bytes) -> OpenerStates:
    """Parse Opener Keyturner States by length; bytes past offset 18 are ignored."""
    r = Reader(payload, "Opener Keyturner States (0x000C)")
    if r.remaining < KEYTURNER_STATES_MIN:
        raise r.fail(f"{r.remaining} bytes, at least {KEYTURNER_STATES_MIN} expected")
    head = (r.u8("Nuki state"), r.u8("Opener state"), r.u8("trigger"))
    when, offset, battery = r.timestamp("current time"), r.sint(2, "timezone"), r.u8("battery")
    return OpenerStates(
        *head,
        current_time=when,
        timezone_offset=offset,
        battery=battery,
        config_update_count=_opt(r, r.u8, "config update count"),
        ring_to_open_timer=_opt(r, r.u8, "ring-to-open timer"),
        last_lock_action=_opt(r, r.u8, "last lock action"),
        last_lock_action_trigger=_opt(r, r.u8, "last lock action trigger"),
        last_lock_action_completion_status=_opt(r, r.u8, "completion status"),
        door_sensor_state=_opt(r, r.u8, "door sensor state"),
    )
