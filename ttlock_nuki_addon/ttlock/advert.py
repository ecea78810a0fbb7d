"""TTLock V3 advertisements (pure): manufacturer data to a typed advert, never raising."""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntFlag, StrEnum
from typing import TYPE_CHECKING

from .codec import LockType, lock_type_of

if TYPE_CHECKING:
    from ..ble.scanner import RawAdvert

# spec §4.1: bleak reads the first two data bytes (protocol type 05, version 03) as a
# little-endian company id, so a V3 lock shows up as 0x0305 = 773 with the rest as payload.
COMPANY_ID = 0x0305
PROTOCOL_TYPE = 5
PROTOCOL_VERSION = 3
# spec §4.1: scene, flags, battery, then the 6-byte MAC as the last bytes of the payload.
MIN_PAYLOAD = 3 + 6
MAC_LEN = 6


class AdvertFlag(IntFlag):
    """The params byte (spec §4.2)."""

    UNLOCKED = 0x01
    NEW_RECORDS = 0x02
    SETTING_MODE = 0x04
    TOUCHED = 0x08
    PARKING = 0x10


class ModelFamily(StrEnum):
    """What kind of device a scene number stands for (spec §4.3)."""

    DOOR_LOCK = "door_lock"
    ACCESS_CONTROL = "access_control"
    SAFE = "safe"
    BICYCLE = "bicycle"
    PARKING_LOCK = "parking_lock"
    PADLOCK = "padlock"
    CYLINDER = "cylinder"
    REMOTE_CONTROL = "remote_control"
    LIFT_CONTROLLER = "lift_controller"
    POWER_SAVER = "power_saver"
    UNKNOWN = "unknown"


_FAMILIES = {
    4: ModelFamily.ACCESS_CONTROL,
    5: ModelFamily.SAFE,
    6: ModelFamily.BICYCLE,
    7: ModelFamily.PARKING_LOCK,
    8: ModelFamily.PADLOCK,
    9: ModelFamily.CYLINDER,
    10: ModelFamily.REMOTE_CONTROL,
    11: ModelFamily.SAFE,
    12: ModelFamily.LIFT_CONTROLLER,
    13: ModelFamily.POWER_SAVER,
}


def model_family(scene: int) -> ModelFamily:
    """The device family of a scene number (spec §4.3: 3 and below are door locks)."""
    if scene <= 3:
        return ModelFamily.DOOR_LOCK
    return _FAMILIES.get(scene, ModelFamily.UNKNOWN)


@dataclass(frozen=True, slots=True)
class TTLockAdvert:
    """What a V3 lock's advert says: identity, state flags and battery."""

    address: str
    name: str | None
    rssi: int
    mac: str
    protocol_type: int
    protocol_version: int
    scene: int
    flags: AdvertFlag
    battery: int | None
    lock_type: LockType | None

    @property
    def unlocked(self) -> bool:
        """The bolt is unlocked (flag bit 0)."""
        return AdvertFlag.UNLOCKED in self.flags

    @property
    def new_records(self) -> bool:
        """Operation-log records wait to be read (flag bit 1; level, not edge)."""
        return AdvertFlag.NEW_RECORDS in self.flags

    @property
    def setting_mode(self) -> bool:
        """The lock is unpaired and ready to pair (flag bit 2)."""
        return AdvertFlag.SETTING_MODE in self.flags

    @property
    def touched(self) -> bool:
        """The keypad was touched (flag bit 3)."""
        return AdvertFlag.TOUCHED in self.flags

    @property
    def model_family(self) -> ModelFamily:
        """The device family from the scene."""
        return model_family(self.scene)


def matches(raw: RawAdvert) -> bool:
    """Whether the advert carries V3 TTLock manufacturer data (Scanner predicate)."""
    return COMPANY_ID in raw.manufacturer_data


def parse(raw: RawAdvert) -> TTLockAdvert | None:
    """The V3 advert in raw, or None for foreign, older-protocol or short data."""
    payload = raw.manufacturer_data.get(COMPANY_ID)
    if not isinstance(payload, bytes | bytearray) or len(payload) < MIN_PAYLOAD:
        return None
    scene, flags, battery = payload[0], payload[1], payload[2]
    return TTLockAdvert(
        address=raw.address,
        name=raw.name,
        rssi=raw.rssi,
        mac=":".join(f"{byte:02X}" for byte in reversed(payload[-MAC_LEN:])),
        protocol_type=PROTOCOL_TYPE,
        protocol_version=PROTOCOL_VERSION,
        scene=scene,
        flags=AdvertFlag(flags),
        battery=battery if battery <= 100 else None,  # spec §4.1: a percentage, 0-100
        lock_type=lock_type_of(PROTOCOL_TYPE, PROTOCOL_VERSION, scene),
    )
