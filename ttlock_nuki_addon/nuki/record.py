"""A paired Nuki lock's store record: keys, identity, the security PIN and driver bookkeeping.

Store record (``store.locks[lock_id]``), JSON:

    brand "nuki", complete bool, address, name, family ("smart_lock" | "smart_lock_5g" |
    "opener"), model, firmware, hardware, nuki_id int|null, shared_key (64 hex digits),
    auth_id int, app_id int, id_type int (0 app, 1 bridge), lock_uuid (32 hex digits),
    security_pin int|null, pin_rejected bool, paired_at (ISO), last_log_index int|null,
    has_keypad bool, door_sensor bool, keypad {code_id: {validity}}.

The client's private key is never stored: only the shared key derived from it (spec §3.2).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from ..errors import StoreError
from ..record_fields import int_field, opt_int_field, opt_text_field, text_field
from ..snapshot import lock_id_from_address
from ..store import JsonObject, JsonValue, Store
from .gatt import Family
from .pairing_msgs import IdType

KEY_LEN = 32
BRAND = "nuki"


@dataclass(frozen=True, slots=True)
class NukiRecord:
    """A paired lock's stored facts; the secrets never appear in its repr."""

    address: str
    name: str
    family: Family
    shared_key: bytes = field(repr=False)
    auth_id: int
    app_id: int
    id_type: IdType
    lock_uuid: bytes
    paired_at: str
    model: str = "Nuki"
    firmware: str | None = None
    hardware: str | None = None
    nuki_id: int | None = None
    security_pin: int | None = field(default=None, repr=False)
    pin_rejected: bool = False
    complete: bool = False
    last_log_index: int | None = None
    has_keypad: bool = False
    door_sensor: bool = False  # seen active once: kept so HA's door entity survives a restart

    @property
    def lock_id(self) -> str:
        """The lock id derived from the address."""
        return lock_id_from_address(self.address)

    def to_json(self) -> JsonObject:
        """The stored fields (the keypad validity cache is kept beside them)."""
        return {
            "brand": BRAND,
            "complete": self.complete,
            "address": self.address,
            "name": self.name,
            "family": self.family.value,
            "model": self.model,
            "firmware": self.firmware,
            "hardware": self.hardware,
            "nuki_id": self.nuki_id,
            "shared_key": self.shared_key.hex(),
            "auth_id": self.auth_id,
            "app_id": self.app_id,
            "id_type": int(self.id_type),
            "lock_uuid": self.lock_uuid.hex(),
            "security_pin": self.security_pin,
            "pin_rejected": self.pin_rejected,
            "paired_at": self.paired_at,
            "last_log_index": self.last_log_index,
            "has_keypad": self.has_keypad,
            "door_sensor": self.door_sensor,
        }

    @classmethod
    def from_json(cls, obj: JsonObject) -> NukiRecord:
        """Parse a stored record; StoreError (naming no value) if it is damaged."""
        try:
            key = bytes.fromhex(text_field(obj, "shared_key"))
            if len(key) != KEY_LEN or obj.get("brand") != BRAND:
                raise ValueError("shared_key")
            auth_id, app_id = int_field(obj, "auth_id"), int_field(obj, "app_id")
            if not (0 <= auth_id <= 0xFFFFFFFF and 0 <= app_id <= 0xFFFFFFFF):
                raise ValueError("auth_id")  # both are u32 on the wire (spec §3.3)
            return cls(
                address=text_field(obj, "address"),
                name=text_field(obj, "name"),
                family=Family(text_field(obj, "family")),
                shared_key=key,
                auth_id=auth_id,
                app_id=app_id,
                id_type=IdType(int_field(obj, "id_type")),
                lock_uuid=bytes.fromhex(text_field(obj, "lock_uuid")),
                paired_at=text_field(obj, "paired_at"),
                model=text_field(obj, "model"),
                firmware=opt_text_field(obj, "firmware"),
                hardware=opt_text_field(obj, "hardware"),
                nuki_id=opt_int_field(obj, "nuki_id"),
                security_pin=opt_int_field(obj, "security_pin"),
                pin_rejected=obj.get("pin_rejected") is True,
                complete=obj.get("complete") is True,
                last_log_index=opt_int_field(obj, "last_log_index"),
                has_keypad=obj.get("has_keypad") is True,
                door_sensor=obj.get("door_sensor") is True,
            )
        except (KeyError, TypeError, ValueError):
            raise StoreError("A stored Nuki record is damaged; pair the lock again.") from None

    def but(self, **changes: Any) -> NukiRecord:
        """A copy with some fields changed."""
        return replace(self, **changes)


def is_nuki(obj: JsonObject) -> bool:
    """Whether a stored lock record belongs to a Nuki."""
    return obj.get("brand") == BRAND


def load_record(store: Store, lock_id: str) -> NukiRecord | None:
    """The lock's record from the store, None when there is none."""
    obj = store.get_lock(lock_id)
    return None if obj is None else NukiRecord.from_json(obj)


def save_record(store: Store, record: NukiRecord) -> None:
    """Write the record's fields, keeping the keypad validity cache stored beside them."""
    lock_id = record.lock_id

    def change(locks: dict[str, JsonObject]) -> None:
        keypad = locks.get(lock_id, {}).get("keypad", {})
        locks[lock_id] = {**record.to_json(), "keypad": keypad}

    store.update(lambda doc: change(doc["locks"]))


def keypad_cache(store: Store, lock_id: str) -> dict[str, JsonObject]:
    """The stored {code id: {"validity": ...}} entries of a lock."""
    record = store.get_lock(lock_id) or {}
    section = record.get("keypad")
    if not isinstance(section, dict):
        return {}
    return {key: value for key, value in section.items() if isinstance(value, dict)}


def set_keypad_cache(store: Store, lock_id: str, entries: dict[str, JsonObject]) -> None:
    """Replace the keypad cache of a lock (written only when different)."""
    if entries == keypad_cache(store, lock_id):
        return

    def change(locks: dict[str, JsonObject]) -> None:
        record = locks.get(lock_id)
        if record is not None:
            section: dict[str, JsonValue] = dict(entries)
            record["keypad"] = section

    store.update(lambda doc: change(doc["locks"]))
