"""Nuki Config / Set Config (spec §4.4, §4.12), Update Time and the security PIN commands.

Request builders return only the command's own fields; `protected.with_challenge` /
`with_pin` add nK and the PIN, and the lock strips them with `protected.split_challenge*`.
Request Config and Verify Security PIN have no own fields (b"").
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import IntEnum

from .fields import Reader, encode_pin, encode_timestamp
from .layout import F32, Bytes, Field, Flag, Int, Layout, Name, Timestamp

__all__ = [
    "TIMEZONE_NONE",
    "AdvertisingMode",
    "Config",
    "DeviceType",
    "DstMode",
    "FobAction",
    "HomeKitStatus",
    "NewConfig",
    "build_request_config",
    "build_set_security_pin",
    "build_update_time",
    "build_verify_security_pin",
    "parse_config",
    "parse_new_config",
    "parse_set_security_pin",
    "parse_update_time",
]

NAME_LEN = 32
TIMEZONE_NONE = 0xFFFF  # spec §4.4: timezone id "none"
U8, U16, S16, U32 = Int(1), Int(2), Int(2, signed=True), Int(4)


class DstMode(IntEnum):
    """Daylight saving time rule (spec §4.4 offset 58)."""

    DISABLED = 0
    EUROPEAN = 1


class FobAction(IntEnum):
    """What a fob press does (spec §4.4 offsets 60-62)."""

    NONE = 0
    UNLOCK = 1
    LOCK = 2
    LOCK_N_GO = 3
    INTELLIGENT = 4


class AdvertisingMode(IntEnum):
    """Advertising interval; the app calls it energy-saving mode (spec §4.4 offset 64)."""

    AUTOMATIC = 0
    NORMAL = 1
    SLOW = 2
    SLOWEST = 3


class HomeKitStatus(IntEnum):
    """HomeKit (spec §4.4 offset 71)."""

    NOT_AVAILABLE = 0
    DISABLED = 1
    ENABLED = 2
    ENABLED_PAIRED = 3


class DeviceType(IntEnum):
    """Config device type on newer firmware (spec §1.6, §4.4 offset 74)."""

    SMART_LOCK_1_2 = 0
    OPENER = 2
    SMART_DOOR = 3
    SMART_LOCK_3_4 = 4
    SMART_LOCK_ULTRA = 5


# --- Smart Lock Config (0x0015) ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Config:
    """Smart Lock Config (spec §4.4): 71 bytes on old SL1/SL2, 74 with HomeKit and timezone id,
    then device type, capabilities, keypad v2, Matter status, product variant when sent."""

    nuki_id: int
    name: str
    latitude: float
    longitude: float
    auto_unlatch: bool
    pairing_enabled: bool
    button_enabled: bool
    led_enabled: bool
    led_brightness: int  # 0 off .. 5
    current_time: datetime | None  # UTC, naive
    timezone_offset: int  # minutes
    dst_mode: int  # DstMode
    has_fob: bool
    fob_action_1: int  # FobAction
    fob_action_2: int
    fob_action_3: int
    single_lock: bool
    advertising_mode: int  # AdvertisingMode
    has_keypad: bool
    firmware_version: tuple[int, ...]  # major, minor, patch
    hardware_revision: tuple[int, ...]  # major, minor
    homekit_status: int | None = None
    timezone_id: int | None = None  # 0..45, TIMEZONE_NONE
    device_type: int | None = None  # DeviceType
    capabilities: int | None = None
    has_keypad_v2: bool | None = None
    matter_status: int | None = None
    product_variant: int | None = None

    @property
    def firmware(self) -> str:
        """Firmware version as "major.minor.patch"."""
        return ".".join(str(part) for part in self.firmware_version)

    def to_payload(self) -> bytes:
        """Lock side: the Config payload with exactly the fields present."""
        return CONFIG_LAYOUT.write(self)

    def to_new_config(self) -> NewConfig:
        """The Set Config fields that keep every setting as it is (spec §4.4: no partial set)."""
        return NewConfig(**NEW_CONFIG_LAYOUT.values_of(self))


LOCATION_FIELDS: list[Field] = [("name", Name(NAME_LEN)), ("latitude", F32()), ("longitude", F32())]
TIME_FIELDS: list[Field] = [("current_time", Timestamp())]
ZONE_FIELDS: list[Field] = [("timezone_offset", S16), ("dst_mode", U8)]
FOBS_FIELDS: list[Field] = [("fob_action_1", U8), ("fob_action_2", U8), ("fob_action_3", U8)]
VERSIONS_FIELDS: list[Field] = [("firmware_version", Bytes(3)), ("hardware_revision", Bytes(2))]
SWITCHES_FIELDS: list[Field] = [
    ("pairing_enabled", Flag()),
    ("button_enabled", Flag()),
    ("led_enabled", Flag()),
]

CONFIG_LAYOUT = Layout(
    "Config (0x0015)",
    required=[
        ("nuki_id", U32),
        *LOCATION_FIELDS,
        ("auto_unlatch", Flag()),
        *SWITCHES_FIELDS,
        ("led_brightness", U8),
        *TIME_FIELDS,
        *ZONE_FIELDS,
        ("has_fob", Flag()),
        *FOBS_FIELDS,
        ("single_lock", Flag()),
        ("advertising_mode", U8),
        ("has_keypad", Flag()),
        *VERSIONS_FIELDS,
    ],
    optional=[
        ("homekit_status", U8),
        ("timezone_id", U16),
        ("device_type", U8),
        ("capabilities", U8),
        ("has_keypad_v2", Flag()),
        ("matter_status", U8),
        ("product_variant", U8),
    ],
)


def parse_config(payload: bytes) -> Config:
    """Parse a Smart Lock Config by length; bytes past the known fields are ignored."""
    return Config(**CONFIG_LAYOUT.read(payload))


# --- Set Config (0x0013) ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class NewConfig:
    """Set Config fields (spec §4.4), 55 bytes; 53 when timezone_id is None (old firmware
    whose Config had no timezone id: send back what the lock reported)."""

    name: str
    latitude: float
    longitude: float
    auto_unlatch: bool
    pairing_enabled: bool
    button_enabled: bool
    led_enabled: bool
    led_brightness: int
    timezone_offset: int
    dst_mode: int
    fob_action_1: int
    fob_action_2: int
    fob_action_3: int
    single_lock: bool
    advertising_mode: int
    timezone_id: int | None = None

    def to_payload(self) -> bytes:
        """The Set Config fields (add nK and PIN with `with_pin`)."""
        return NEW_CONFIG_LAYOUT.write(self)


NEW_CONFIG_LAYOUT = Layout(
    "Set Config (0x0013)",
    required=[
        *LOCATION_FIELDS,
        ("auto_unlatch", Flag()),
        *SWITCHES_FIELDS,
        ("led_brightness", U8),
        *ZONE_FIELDS,
        *FOBS_FIELDS,
        ("single_lock", Flag()),
        ("advertising_mode", U8),
    ],
    optional=[("timezone_id", U16)],
)


def parse_new_config(fields: bytes) -> NewConfig:
    """Lock side: Set Config fields (after `split_challenge_pin`), exactly 53 or 55 bytes."""
    return NewConfig(**NEW_CONFIG_LAYOUT.read(fields, exact=True))


# --- Update Time (0x0021), Set / Verify Security PIN (0x0019, 0x0020) -------------------------


def build_update_time(moment: datetime) -> bytes:
    """Update Time fields: time[7] in UTC (aware datetimes are converted; spec §2.4)."""
    return encode_timestamp(moment)


def parse_update_time(fields: bytes) -> datetime | None:
    """Lock side: the new time (None when impossible), exactly 7 bytes."""
    reader = Reader(fields, "Update Time (0x0021)")
    moment = reader.timestamp("time")
    reader.done()
    return moment


def build_set_security_pin(new_pin: int, width: int) -> bytes:
    """Set Security PIN fields: the new PIN (the old one goes last via `with_pin`)."""
    return encode_pin(new_pin, width)


def parse_set_security_pin(fields: bytes, width: int) -> int:
    """Lock side: the new PIN from Set Security PIN fields."""
    reader = Reader(fields, "Set Security PIN (0x0019)")
    pin = reader.uint(width, "new PIN")
    reader.done()
    return pin


def build_verify_security_pin() -> bytes:
    """Verify Security PIN has no own fields (only nK and PIN)."""
    return b""


def build_request_config() -> bytes:
    """Request Config / Request Advanced Config have no own fields (only nK)."""
    return b""
