"""A virtual Nuki's settings: Config and Advanced Config as long as its firmware sends them."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, time
from typing import Any

from ..errors import ProtocolError
from ..nuki.advanced_config import (
    ADVANCED_CONFIG_LAYOUT,
    NEW_ADVANCED_CONFIG_LAYOUT,
    AdvancedConfig,
    NewAdvancedConfig,
)
from ..nuki.config_cmds import (
    CONFIG_LAYOUT,
    NEW_CONFIG_LAYOUT,
    TIMEZONE_NONE,
    Config,
    NewConfig,
)
from ..nuki.fields import FieldError
from ..nuki.layout import Layout
from .nuki_state import Variant

DEFAULT_NAME = "Nuki Smart Lock"
TOTAL_DEGREES = 900  # spec §4.5 offset 0: what calibration measured (read-only)
_TIMEZONE_IDS = 45  # spec §4.4: ids 0..45, or 0xFFFF for none


def _trim(layout: Layout, length: int) -> dict[str, Any]:
    """Optional fields that do not fit into `length` bytes, as None (spec §4.4/§4.5 growth)."""
    size = layout.min_size
    cut: dict[str, Any] = {}
    for name, kind in layout.optional:
        size += kind.size
        if size > length:
            cut[name] = None
    return cut


@dataclass(frozen=True, slots=True)
class Settings:
    """What Set Config / Set Advanced Config write, kept in their wire types (spec §4.4, §4.5)."""

    variant: Variant
    config: NewConfig
    advanced: NewAdvancedConfig

    @classmethod
    def defaults(cls, variant: Variant, name: str = DEFAULT_NAME) -> Settings:
        """A fresh lock: pairing and button on, Europe/Berlin, auto lock off."""
        config = NewConfig(
            name=name,
            latitude=0.0,
            longitude=0.0,
            auto_unlatch=False,
            pairing_enabled=True,
            button_enabled=True,
            led_enabled=True,
            led_brightness=3,
            timezone_offset=60,
            dst_mode=1,
            fob_action_1=1,
            fob_action_2=2,
            fob_action_3=3,
            single_lock=False,
            advertising_mode=0,
            timezone_id=37,
        )
        if variant.config_length < CONFIG_LAYOUT.min_size + 3:
            config = replace(config, timezone_id=None)
        advanced = NewAdvancedConfig(
            unlocked_position_offset=0,
            locked_position_offset=0,
            single_locked_position_offset=0,
            unlocked_to_locked_transition_offset=0,
            lock_n_go_timeout=20,
            single_button_press_action=1,
            double_button_press_action=5,
            detached_cylinder=False,
            battery_type=0,
            automatic_battery_type_detection=True,
            unlatch_duration=3,
            auto_lock_timeout=0,
            auto_unlock_disabled=False,
            night_mode_enabled=False,
            night_mode_start_time=time(22, 0),
            night_mode_end_time=time(6, 0),
            night_mode_auto_lock_enabled=False,
            night_mode_auto_unlock_disabled=False,
            night_mode_immediate_lock_on_start=False,
            auto_lock_enabled=False,
            immediate_auto_lock_enabled=False,
            auto_update_enabled=True,
            motor_speed=0,
            enable_slow_speed_during_night_mode=False,
        )
        set_length = variant.advanced_config_length - 2  # no total degrees in Set (spec §4.5)
        advanced = replace(advanced, **_trim(NEW_ADVANCED_CONFIG_LAYOUT, set_length))
        return cls(variant, config, advanced)

    # --- replies ------------------------------------------------------------------------

    def config_message(self, nuki_id: int, now: datetime, has_keypad: bool) -> Config:
        """Config (0x0015) as this variant sends it (spec §4.4)."""
        c, v = self.config, self.variant
        settable = NEW_CONFIG_LAYOUT.values_of(c)
        settable["timezone_id"] = TIMEZONE_NONE if c.timezone_id is None else c.timezone_id
        full = Config(
            **settable,
            nuki_id=nuki_id,
            current_time=now,
            has_fob=False,
            has_keypad=has_keypad,
            firmware_version=v.firmware,
            hardware_revision=v.hardware,
            homekit_status=2 if v.homekit_services else 1,
            device_type=v.device_type,
            capabilities=1,
            has_keypad_v2=False,
            matter_status=1,
            product_variant=0,
        )
        return replace(full, **_trim(CONFIG_LAYOUT, v.config_length))

    def advanced_message(self) -> AdvancedConfig:
        """Advanced Config (0x0037) with the same optional fields Set accepts (spec §4.5)."""
        values = NEW_ADVANCED_CONFIG_LAYOUT.values_of(self.advanced)
        full = AdvancedConfig(total_degrees=TOTAL_DEGREES, **values)
        trimmed = _trim(ADVANCED_CONFIG_LAYOUT, self.variant.advanced_config_length)
        return replace(full, **trimmed)

    # --- Set Config / Set Advanced Config --------------------------------------------------

    def with_config(self, new: NewConfig) -> Settings:
        """Settings after Set Config; FieldError for a value out of range (spec §4.4)."""
        has_zone = self.config.timezone_id is not None
        if (new.timezone_id is not None) != has_zone:
            raise _length_error("Set Config")
        _check(not new.name, "the name must not be empty")
        _check(new.led_brightness > 5, "LED brightness is 0 to 5")
        _check(new.dst_mode > 1, "DST mode is 0 or 1")
        _check(max(new.fob_action_1, new.fob_action_2, new.fob_action_3) > 4, "fob action")
        _check(new.advertising_mode > 3, "advertising mode is 0 to 3")
        zone = new.timezone_id
        _check(zone is not None and _TIMEZONE_IDS < zone != TIMEZONE_NONE, "timezone id")
        _check(not -720 <= new.timezone_offset <= 840, "timezone offset")
        return replace(self, config=new)

    def with_advanced(self, new: NewAdvancedConfig) -> Settings:
        """Settings after Set Advanced Config: exactly the variant's fields (spec §4.5)."""
        present = [n for n in NEW_ADVANCED_CONFIG_LAYOUT.names() if getattr(new, n) is not None]
        known = [
            n for n in NEW_ADVANCED_CONFIG_LAYOUT.names() if getattr(self.advanced, n) is not None
        ]
        if present != known:
            raise _length_error("Set Advanced Config")
        _check(max(new.single_button_press_action, new.double_button_press_action) > 6, "button")
        _check(new.battery_type > 2, "battery type is 0 to 2")
        _check((new.motor_speed or 0) > 2, "motor speed is 0 to 2")
        return replace(self, advanced=new)

    @property
    def auto_lock_seconds(self) -> int:
        """Seconds until auto lock after an unlock, 0 = off (spec §4.5 offsets 17, 28)."""
        adv = self.advanced
        if adv.auto_lock_enabled is False:
            return 0
        return adv.auto_lock_timeout

    def describe(self) -> dict[str, Any]:
        """The settings a person may want to see in the control API."""
        return {
            "name": self.config.name,
            "pairing_enabled": self.config.pairing_enabled,
            "button_enabled": self.config.button_enabled,
            "timezone_offset": self.config.timezone_offset,
            "auto_lock_seconds": self.auto_lock_seconds,
            "lock_n_go_timeout": self.advanced.lock_n_go_timeout,
            "unlatch_duration": self.advanced.unlatch_duration,
            "single_button_press_action": self.advanced.single_button_press_action,
        }


class LengthError(ProtocolError):
    """A settings message with a different set of fields than this firmware knows."""


def _length_error(what: str) -> LengthError:
    return LengthError(f"{what} has a different length than this firmware's")


def _check(bad: bool, what: str) -> None:
    if bad:
        raise FieldError(f"bad value: {what}")
