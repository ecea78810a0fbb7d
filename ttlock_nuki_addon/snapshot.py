"""Lock identity, capabilities, the state snapshot and discovery results, with JSON shapes."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from .credentials import CredentialKind
from .validity import (
    JSONObject,
    ValidationError,
    expect_object,
    opt_int,
    parse_aware,
    parse_enum,
    req_bool,
    req_str,
)

_ADDRESS = re.compile(r"[0-9A-Fa-f]{2}(:[0-9A-Fa-f]{2}){5}")


class Brand(StrEnum):
    """Lock maker; selects the driver."""

    TTLOCK = "ttlock"
    NUKI = "nuki"


class LockStatus(StrEnum):
    """Bolt state; upper-cased it is the MQTT lock state (UNKNOWN publishes nothing)."""

    LOCKED = "locked"
    UNLOCKED = "unlocked"
    LOCKING = "locking"
    UNLOCKING = "unlocking"
    OPEN = "open"
    OPENING = "opening"
    JAMMED = "jammed"
    UNKNOWN = "unknown"


class DoorState(StrEnum):
    """Door sensor reading; a snapshot holds None when the lock has no active sensor."""

    CLOSED = "closed"
    OPEN = "open"
    TAMPERED = "tampered"
    UNKNOWN = "unknown"


class Capability(StrEnum):
    """Something a lock can do; entities, panel tabs and verbs appear only for what it has."""

    LOCK = "lock"
    UNLOCK = "unlock"
    OPEN = "open"
    LOCK_N_GO = "lock_n_go"
    PIN = "pin"
    CARD = "card"
    FINGERPRINT = "fingerprint"
    VALIDITY_PERIOD = "validity_period"
    VALIDITY_ONCE = "validity_once"
    VALIDITY_WEEKLY = "validity_weekly"
    AUTO_LOCK = "auto_lock"
    SOUND = "sound"
    PASSAGE_MODE = "passage_mode"
    REMOTE_UNLOCK = "remote_unlock"
    LED = "led"
    AUTO_UNLATCH = "auto_unlatch"
    DOOR_SENSOR = "door_sensor"
    BATTERY = "battery"
    EVENTS = "events"
    RESET = "reset"
    UNPAIR = "unpair"


def capability_for(kind: CredentialKind) -> Capability:
    """The capability a lock needs to manage credentials of `kind`."""
    return Capability(kind.value)


# LockSettings field -> the capability a lock has exactly when that field is not None.
SETTING_CAPABILITIES: dict[str, Capability] = {
    "auto_lock_seconds": Capability.AUTO_LOCK,
    "sound": Capability.SOUND,
    "passage_mode": Capability.PASSAGE_MODE,
    "remote_unlock": Capability.REMOTE_UNLOCK,
    "led": Capability.LED,
    "auto_unlatch": Capability.AUTO_UNLATCH,
}


class PairingHint(StrEnum):
    """What a person must do before a discovered lock can be paired ('ready': nothing)."""

    READY = "ready"
    TOUCH_KEYPAD = "touch_keypad"
    HOLD_BUTTON = "hold_button"
    RESET_LOCK = "reset_lock"


def lock_id_from_address(address: str) -> str:
    """The lock id for a Bluetooth address: 12 lower-case hex digits; ValidationError if bad."""
    if not _ADDRESS.fullmatch(address):
        raise ValidationError("'address' must look like AA:BB:CC:DD:EE:FF.")
    return address.replace(":", "").lower()


def _aware(moment: datetime | None, key: str) -> None:
    if moment is not None and moment.utcoffset() is None:
        raise ValidationError(f"'{key}' must be timezone-aware.")


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


@dataclass(frozen=True, slots=True)
class LockSnapshot:
    """What is known about a paired lock now; never holds a secret; times are aware."""

    id: str
    brand: Brand
    name: str
    model: str
    address: str
    status: LockStatus = LockStatus.UNKNOWN
    battery: int | None = None
    battery_low: bool = False
    rssi: int | None = None
    door: DoorState | None = None
    available: bool = False
    last_seen: datetime | None = None
    capabilities: frozenset[Capability] = frozenset()

    def __post_init__(self) -> None:
        if self.battery is not None and not 0 <= self.battery <= 100:
            raise ValidationError("'battery' must be a percentage from 0 to 100.")
        _aware(self.last_seen, "last_seen")

    def to_json(self) -> JSONObject:
        """The websocket shape; battery_low is not part of it."""
        return {
            "id": self.id,
            "brand": self.brand.value,
            "name": self.name,
            "model": self.model,
            "address": self.address,
            "status": self.status.value,
            "battery": self.battery,
            "rssi": self.rssi,
            "door": None if self.door is None else self.door.value,
            "available": self.available,
            "last_seen": _iso(self.last_seen),
            "capabilities": [cap.value for cap in sorted(self.capabilities)],
        }

    @classmethod
    def from_json(cls, value: object) -> LockSnapshot:
        """Parse the websocket shape strictly; ValidationError on malformed input."""
        keys = ("id", "brand", "name", "model", "address", "status", "available", "capabilities")
        obj = expect_object(
            value, "lock", required=keys, optional=("battery", "rssi", "door", "last_seen")
        )
        caps = obj["capabilities"]
        if not isinstance(caps, list):
            raise ValidationError("'capabilities' must be a list.")
        door, seen = obj.get("door"), obj.get("last_seen")
        return cls(
            id=req_str(obj, "id"),
            brand=parse_enum(Brand, obj["brand"], "brand"),
            name=req_str(obj, "name"),
            model=req_str(obj, "model"),
            address=req_str(obj, "address"),
            status=parse_enum(LockStatus, obj["status"], "status"),
            battery=opt_int(obj, "battery", 0, 100),
            rssi=opt_int(obj, "rssi", -128, 127),
            door=None if door is None else parse_enum(DoorState, door, "door"),
            available=req_bool(obj, "available"),
            last_seen=None if seen is None else parse_aware(seen, "last_seen"),
            capabilities=frozenset(parse_enum(Capability, cap, "capabilities") for cap in caps),
        )


@dataclass(frozen=True, slots=True)
class Discovery:
    """A lock heard on the radio that is not paired with this add-on."""

    address: str
    brand: Brand
    name: str
    model: str
    rssi: int | None
    pairable: bool
    hint: PairingHint

    def to_json(self) -> JSONObject:
        """The websocket shape."""
        return {
            "address": self.address,
            "brand": self.brand.value,
            "name": self.name,
            "model": self.model,
            "rssi": self.rssi,
            "pairable": self.pairable,
            "hint": self.hint.value,
        }

    @classmethod
    def from_json(cls, value: object) -> Discovery:
        """Parse the websocket shape strictly; ValidationError on malformed input."""
        keys = ("address", "brand", "name", "model", "rssi", "pairable", "hint")
        obj = expect_object(value, "discovery", required=keys)
        return cls(
            address=req_str(obj, "address"),
            brand=parse_enum(Brand, obj["brand"], "brand"),
            name=req_str(obj, "name"),
            model=req_str(obj, "model"),
            rssi=opt_int(obj, "rssi", -128, 127),
            pairable=req_bool(obj, "pairable"),
            hint=parse_enum(PairingHint, obj["hint"], "hint"),
        )
