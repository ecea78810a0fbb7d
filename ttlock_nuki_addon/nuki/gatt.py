"""Nuki GATT layout per device family: service and characteristic UUIDs, PIN width."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


def nuki_uuid(short: str) -> str:
    """The full 128-bit UUID for a Nuki short id such as "a92ee202" (spec §1.1)."""
    return f"{short}-5501-11e4-916c-0800200c9a66"


class Family(StrEnum):
    """How a device pairs and talks (spec §1.6); the generation comes from Config later."""

    SMART_LOCK = "smart_lock"  # Smart Lock 1.0 to 4th gen: pairing service a92ee100, u16 PIN
    SMART_LOCK_5G = "smart_lock_5g"  # Ultra, Go, Pro 5th gen: a92ee300, u32 PIN, no confirmation
    OPENER = "opener"  # a92ae100, u16 PIN


@dataclass(frozen=True, slots=True)
class GattLayout:
    """The UUIDs one family uses (spec §1.1) and the width of its security PIN (spec §2.4)."""

    family: Family
    pairing_service: str
    pairing_gdio: str
    keyturner_service: str
    keyturner_gdio: str
    usdio: str
    pin_bytes: int

    @property
    def max_pin(self) -> int:
        """Largest security PIN the family accepts."""
        return 999_999 if self.pin_bytes == 4 else 0xFFFF


INITIALIZATION_SERVICE = nuki_uuid("a92ee000")  # spec §1.1: factory-new locks only

LAYOUTS: dict[Family, GattLayout] = {
    Family.SMART_LOCK: GattLayout(
        Family.SMART_LOCK,
        pairing_service=nuki_uuid("a92ee100"),
        pairing_gdio=nuki_uuid("a92ee101"),
        keyturner_service=nuki_uuid("a92ee200"),
        keyturner_gdio=nuki_uuid("a92ee201"),
        usdio=nuki_uuid("a92ee202"),
        pin_bytes=2,
    ),
    Family.SMART_LOCK_5G: GattLayout(
        Family.SMART_LOCK_5G,
        pairing_service=nuki_uuid("a92ee300"),
        pairing_gdio=nuki_uuid("a92ee301"),
        keyturner_service=nuki_uuid("a92ee200"),
        keyturner_gdio=nuki_uuid("a92ee201"),
        usdio=nuki_uuid("a92ee202"),
        pin_bytes=4,
    ),
    Family.OPENER: GattLayout(
        Family.OPENER,
        pairing_service=nuki_uuid("a92ae100"),
        pairing_gdio=nuki_uuid("a92ae101"),
        keyturner_service=nuki_uuid("a92ae200"),
        keyturner_gdio=nuki_uuid("a92ae201"),
        usdio=nuki_uuid("a92ae202"),
        pin_bytes=2,
    ),
}


def layout_for(family: Family) -> GattLayout:
    """The GATT layout of a family."""
    return LAYOUTS[family]


def family_for_pairing_service(uuid: str) -> Family | None:
    """The family whose pairing service this is, None when foreign."""
    wanted = uuid.lower()
    for layout in LAYOUTS.values():
        if layout.pairing_service == wanted:
            return layout.family
    return None
