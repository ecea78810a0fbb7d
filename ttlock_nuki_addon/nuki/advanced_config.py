"""Nuki Smart Lock Advanced Config / Set Advanced Config (spec §4.5).

The layout grew by firmware: 20 bytes (API 2.0), 28 (2.1, night mode), 31 (auto lock
enabled, immediate auto lock, auto update), 33 (5th gen: motor speed, slow night speed).
Set Advanced Config carries the same fields without total degrees; send exactly as many
optional fields as the lock reported (more likely gets ERROR_BAD_LENGTH). The Opener's
intercom Advanced Config is not covered: the sources disagree on it (spec §4.12, §8).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import time
from enum import IntEnum

from .layout import Field, Flag, Int, Layout, TimeOfDay

__all__ = [
    "AdvancedConfig",
    "BatteryType",
    "ButtonPressAction",
    "MotorSpeed",
    "NewAdvancedConfig",
    "parse_advanced_config",
    "parse_new_advanced_config",
]

U8, U16, S16 = Int(1), Int(2), Int(2, signed=True)


class ButtonPressAction(IntEnum):
    """Smart Lock button press actions (spec §4.5 offsets 11-12)."""

    NONE = 0
    INTELLIGENT = 1
    UNLOCK = 2
    LOCK = 3
    UNLATCH = 4
    LOCK_N_GO = 5
    SHOW_STATUS = 6


class BatteryType(IntEnum):
    """Battery type (spec §4.5 offset 14)."""

    ALKALI = 0
    ACCUMULATORS = 1
    LITHIUM = 2


class MotorSpeed(IntEnum):
    """Motor speed, 5th gen only (spec §4.5 offset 31)."""

    STANDARD = 0
    INSANE = 1
    GENTLE = 2


@dataclass(frozen=True, slots=True)
class AdvancedConfig:
    """Smart Lock Advanced Config (spec §4.5); fields newer than API 2.0 are None when absent."""

    total_degrees: int
    unlocked_position_offset: int
    locked_position_offset: int
    single_locked_position_offset: int
    unlocked_to_locked_transition_offset: int
    lock_n_go_timeout: int  # seconds
    single_button_press_action: int  # ButtonPressAction
    double_button_press_action: int
    detached_cylinder: bool
    battery_type: int  # BatteryType
    automatic_battery_type_detection: bool
    unlatch_duration: int  # seconds
    auto_lock_timeout: int  # seconds, 0 = no auto relock
    auto_unlock_disabled: bool
    night_mode_enabled: bool | None = None
    night_mode_start_time: time | None = None
    night_mode_end_time: time | None = None
    night_mode_auto_lock_enabled: bool | None = None
    night_mode_auto_unlock_disabled: bool | None = None
    night_mode_immediate_lock_on_start: bool | None = None
    auto_lock_enabled: bool | None = None
    immediate_auto_lock_enabled: bool | None = None
    auto_update_enabled: bool | None = None
    motor_speed: int | None = None  # MotorSpeed
    enable_slow_speed_during_night_mode: bool | None = None

    def to_payload(self) -> bytes:
        """Lock side: the Advanced Config payload with exactly the fields present."""
        return ADVANCED_CONFIG_LAYOUT.write(self)

    def to_new_advanced_config(self) -> NewAdvancedConfig:
        """The Set Advanced Config fields that keep every setting (same optional fields)."""
        return NewAdvancedConfig(**NEW_ADVANCED_CONFIG_LAYOUT.values_of(self))


_HEAD: list[Field] = [
    ("unlocked_position_offset", S16),
    ("locked_position_offset", S16),
    ("single_locked_position_offset", S16),
    ("unlocked_to_locked_transition_offset", S16),
    ("lock_n_go_timeout", U8),
    ("single_button_press_action", U8),
    ("double_button_press_action", U8),
    ("detached_cylinder", Flag()),
    ("battery_type", U8),
    ("automatic_battery_type_detection", Flag()),
    ("unlatch_duration", U8),
    ("auto_lock_timeout", U16),
    ("auto_unlock_disabled", Flag()),
]
_TAIL: list[Field] = [
    ("night_mode_enabled", Flag()),
    ("night_mode_start_time", TimeOfDay()),
    ("night_mode_end_time", TimeOfDay()),
    ("night_mode_auto_lock_enabled", Flag()),
    ("night_mode_auto_unlock_disabled", Flag()),
    ("night_mode_immediate_lock_on_start", Flag()),
    ("auto_lock_enabled", Flag()),
    ("immediate_auto_lock_enabled", Flag()),
    ("auto_update_enabled", Flag()),
    ("motor_speed", U8),
    ("enable_slow_speed_during_night_mode", Flag()),
]

ADVANCED_CONFIG_LAYOUT = Layout(
    "Advanced Config (0x0037)", required=[("total_degrees", U16), *_HEAD], optional=_TAIL
)


def parse_advanced_config(payload: bytes) -> AdvancedConfig:
    """Parse Advanced Config by length; bytes past the known fields are ignored."""
    return AdvancedConfig(**ADVANCED_CONFIG_LAYOUT.read(payload))


@dataclass(frozen=True, slots=True)
class NewAdvancedConfig:
    """Set Advanced Config fields (spec §4.5): Advanced Config without total degrees."""

    unlocked_position_offset: int
    locked_position_offset: int
    single_locked_position_offset: int
    unlocked_to_locked_transition_offset: int
    lock_n_go_timeout: int
    single_button_press_action: int
    double_button_press_action: int
    detached_cylinder: bool
    battery_type: int
    automatic_battery_type_detection: bool
    unlatch_duration: int
    auto_lock_timeout: int
    auto_unlock_disabled: bool
    night_mode_enabled: bool | None = None
    night_mode_start_time: time | None = None
    night_mode_end_time: time | None = None
    night_mode_auto_lock_enabled: bool | None = None
    night_mode_auto_unlock_disabled: bool | None = None
    night_mode_immediate_lock_on_start: bool | None = None
    auto_lock_enabled: bool | None = None
    immediate_auto_lock_enabled: bool | None = None
    auto_update_enabled: bool | None = None
    motor_speed: int | None = None
    enable_slow_speed_during_night_mode: bool | None = None

    def to_payload(self) -> bytes:
        """The Set Advanced Config fields (add nK and PIN with `with_pin`)."""
        return NEW_ADVANCED_CONFIG_LAYOUT.write(self)


NEW_ADVANCED_CONFIG_LAYOUT = Layout("Set Advanced Config (0x0035)", required=_HEAD, optional=_TAIL)


def parse_new_advanced_config(fields: bytes) -> NewAdvancedConfig:
    """Lock side: Set Advanced Config fields (after `split_challenge_pin`).

    A length that ends inside an optional field is rejected; extra bytes too.
    """
    return NewAdvancedConfig(**NEW_ADVANCED_CONFIG_LAYOUT.read(fields, exact=True))
