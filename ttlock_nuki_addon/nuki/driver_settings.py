"""Nuki capabilities, model names and settings: Config (LED, auto unlatch) and Advanced Config
(auto lock) read with a challenge, written back whole with the security PIN (spec §4.4, §4.5).
"""

from __future__ import annotations

from dataclasses import replace

from ..params import AUTO_LOCK_MAX, LockSettings, SettingsUpdate
from ..snapshot import Capability
from .advanced_config import AdvancedConfig, parse_advanced_config
from .codec import Command
from .config_cmds import Config, DeviceType, parse_config
from .gatt import Family
from .opener_config import OpenerConfig, parse_opener_config
from .session import NukiSession

AnyConfig = Config | OpenerConfig

C = Capability
_COMMON = frozenset({C.LOCK, C.UNLOCK, C.OPEN, C.BATTERY, C.EVENTS, C.UNPAIR})
_SMART = frozenset({C.LOCK_N_GO, C.AUTO_LOCK, C.LED, C.AUTO_UNLATCH})
_KEYPAD = frozenset({C.PIN, C.VALIDITY_PERIOD, C.VALIDITY_WEEKLY})


def model_name(family: Family, config: AnyConfig | None) -> str:
    """A model name from the family, the device type and the firmware's major (spec §1.6)."""
    if family is Family.OPENER:
        return "Opener"
    if family is Family.SMART_LOCK_5G:
        return "Smart Lock 5th gen / Ultra"
    if not isinstance(config, Config):
        return "Smart Lock"
    major = config.firmware_version[0] if config.firmware_version else 0
    kind = config.device_type
    if kind == DeviceType.SMART_LOCK_ULTRA or major == 5:
        return "Smart Lock 5th gen / Ultra"
    if kind == DeviceType.SMART_LOCK_3_4 or major in (3, 4):
        return "Smart Lock 3.0 / 4th gen"
    if major == 2:
        return "Smart Lock 2.0"
    if major == 1:
        return "Smart Lock 1.0"
    return "Smart Lock"


def capabilities_of(family: Family, *, has_keypad: bool, door_sensor: bool) -> frozenset[C]:
    """What a Nuki can do: Config says keypad, Keyturner States say door sensor."""
    found = set(_COMMON)
    if family is not Family.OPENER:
        found |= _SMART
    if has_keypad:
        found |= _KEYPAD
    if door_sensor:
        found.add(C.DOOR_SENSOR)
    return frozenset(found)


def has_keypad(config: AnyConfig) -> bool:
    """Whether a keypad (1.0 or 2.0) is paired to the lock (spec §4.4 offsets 65, 76)."""
    v2 = config.has_keypad_v2 if isinstance(config, Config) else None
    return config.has_keypad or bool(v2)


def version(parts: tuple[int, ...]) -> str:
    """A firmware or hardware version as dotted text."""
    return ".".join(str(part) for part in parts)


def auto_lock_seconds(advanced: AdvancedConfig) -> int:
    """Auto lock as seconds, 0 = off (spec §4.5: enabled flag on newer firmware + timeout)."""
    if advanced.auto_lock_enabled is False:
        return 0
    return advanced.auto_lock_timeout


class NukiSettings:
    """Reads and writes a Smart Lock's settings; an Opener has none of these (all None)."""

    def __init__(self, session: NukiSession, family: Family) -> None:
        self._session, self._family = session, family

    async def config(self) -> Config:
        """Request Config (challenge, no PIN) -> a Smart Lock's Config (spec §4.4)."""
        message = await self._session.call(Command.REQUEST_CONFIG, reply=Command.CONFIG)
        return parse_config(message.payload)

    async def any_config(self) -> AnyConfig:
        """Request Config in the family's layout (spec §4.4, §4.12)."""
        if self._family is not Family.OPENER:
            return await self.config()
        message = await self._session.call(Command.REQUEST_CONFIG, reply=Command.CONFIG)
        return parse_opener_config(message.payload)

    async def advanced(self) -> AdvancedConfig:
        """Request Advanced Config (challenge, no PIN) -> Advanced Config (spec §4.5)."""
        message = await self._session.call(
            Command.REQUEST_ADVANCED_CONFIG, reply=Command.ADVANCED_CONFIG
        )
        return parse_advanced_config(message.payload)

    async def read(self) -> LockSettings:
        """The settings this family has; the others are None."""
        if self._family is Family.OPENER:
            return LockSettings()
        config, advanced = await self.config(), await self.advanced()
        return LockSettings(
            auto_lock_seconds=auto_lock_seconds(advanced),
            led=config.led_enabled,
            auto_unlatch=config.auto_unlatch,
            auto_lock_min=0,
            auto_lock_max=AUTO_LOCK_MAX,
        )

    async def apply(self, update: SettingsUpdate, pin: int) -> None:
        """Write the changed settings: Set Config / Set Advanced Config with the PIN (whole)."""
        if update.led is not None or update.auto_unlatch is not None:
            config = await self.config()
            new = config.to_new_config()
            if update.led is not None:
                new = replace(new, led_enabled=update.led)
            if update.auto_unlatch is not None:
                new = replace(new, auto_unlatch=update.auto_unlatch)
            await self._session.call(Command.SET_CONFIG, new.to_payload(), pin=pin)
        seconds = update.auto_lock_seconds
        if seconds is not None:
            advanced = await self.advanced()
            wanted = advanced.to_new_advanced_config()
            if advanced.auto_lock_enabled is None:  # older firmware: timeout 0 means off
                wanted = replace(wanted, auto_lock_timeout=seconds)
            elif seconds:
                wanted = replace(wanted, auto_lock_enabled=True, auto_lock_timeout=seconds)
            else:
                wanted = replace(wanted, auto_lock_enabled=False)
            await self._session.call(Command.SET_ADVANCED_CONFIG, wanted.to_payload(), pin=pin)
