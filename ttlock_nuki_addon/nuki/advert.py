"""Nuki advertisements (pure): iBeacon, pairing-mode service data and name, never raising."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

from .gatt import Family, family_for_pairing_service, nuki_uuid

if TYPE_CHECKING:
    from ..ble.scanner import RawAdvert

# spec §1.5: the iBeacon sits in Apple's manufacturer data; bleak strips the company id.
COMPANY_ID = 0x004C
IBEACON_TYPE = 0x02  # anything else under 0x004C (HomeKit) is ignored
IBEACON_LEN = 0x15
BEACON_SIZE = 2 + IBEACON_LEN  # type, length, UUID 16, major 2, minor 2, power 1
NEW_STATE_BIT = 0x01  # spec §1.5: only bit 0 of the power byte counts


class NukiDevice(StrEnum):
    """What kind of Nuki device an advert comes from (spec §1.5, §1.6)."""

    LOCK = "lock"
    OPENER = "opener"


# spec §1.5: the beacon's proximity UUID is the keyturner service UUID.
_BEACON_UUIDS = {
    bytes.fromhex(nuki_uuid("a92ee200").replace("-", "")): NukiDevice.LOCK,
    bytes.fromhex(nuki_uuid("a92ae200").replace("-", "")): NukiDevice.OPENER,
}
_KEYTURNER_SERVICES = {
    nuki_uuid("a92ee200"): NukiDevice.LOCK,
    nuki_uuid("a92ae200"): NukiDevice.OPENER,
}
# spec §1.5: "Nuki_<8 hex>" for locks, "Nuki_Opener_<hex>" for openers (bridges are not locks).
_NAME = re.compile(r"Nuki_(?P<opener>Opener_)?(?P<id>[0-9A-Fa-f]{1,8})")


@dataclass(frozen=True, slots=True)
class NukiAdvert:
    """What a Nuki advert says: identity, the new-state flag and whether it is pairing."""

    address: str
    name: str | None
    rssi: int
    nuki_id: int | None
    device: NukiDevice
    new_state: bool
    pairing_mode: bool
    family: Family | None
    tx_power: int | None  # spec §1.5: the beacon's measured power byte as int8 dBm


@dataclass(frozen=True, slots=True)
class _Beacon:
    device: NukiDevice
    nuki_id: int
    power: int


def _beacon(data: object) -> _Beacon | None:
    if not isinstance(data, bytes | bytearray) or len(data) < BEACON_SIZE:
        return None
    if data[0] != IBEACON_TYPE or data[1] != IBEACON_LEN:
        return None
    device = _BEACON_UUIDS.get(bytes(data[2:18]))
    if device is None:
        return None
    # spec §1.5: major || minor (big-endian) is the 32-bit Nuki ID; power is an int8.
    return _Beacon(device, int.from_bytes(data[18:22], "big"), data[22])


def _int8(byte: int) -> int:
    return byte - 256 if byte > 127 else byte


def _uuids(values: Iterable[object]) -> list[str]:
    return [value.lower() for value in values if isinstance(value, str)]


def _pairing_family(uuids: Iterable[str]) -> Family | None:
    for uuid in uuids:
        family = family_for_pairing_service(uuid)
        if family is not None:
            return family
    return None


def _name_match(name: object) -> re.Match[str] | None:
    return _NAME.fullmatch(name) if isinstance(name, str) else None


def matches(raw: RawAdvert) -> bool:
    """Whether the advert is a Nuki lock's or opener's (Scanner predicate)."""
    return parse(raw) is not None


def parse(raw: RawAdvert) -> NukiAdvert | None:
    """The Nuki advert in raw, or None for foreign, HomeKit, short or garbage data."""
    manufacturer: Mapping[int, object] = raw.manufacturer_data
    apple = manufacturer.get(COMPANY_ID)
    beacon = _beacon(apple)
    service_data = _uuids(raw.service_data.keys())
    pairing = _pairing_family(service_data)  # spec §1.5: pairing mode adds this service data
    if apple is not None and beacon is None and pairing is None:
        return None  # HomeKit or another Apple frame: it says nothing about the lock's flag
    advertised = _uuids(raw.service_uuids)
    named = _name_match(raw.name)
    known = pairing or _pairing_family(advertised)
    device = _device(beacon, known, advertised, named)
    if device is None:
        return None
    if known is None and device is NukiDevice.OPENER:
        known = Family.OPENER  # spec §1.6: the opener has one pairing flow
    nuki_id = beacon.nuki_id if beacon else int(named["id"], 16) if named else None
    return NukiAdvert(
        address=raw.address,
        name=raw.name,
        rssi=raw.rssi,
        nuki_id=nuki_id,
        device=device,
        new_state=bool(beacon.power & NEW_STATE_BIT) if beacon else False,
        pairing_mode=pairing is not None,
        family=known,
        tx_power=None if beacon is None else _int8(beacon.power),
    )


def _device(
    beacon: _Beacon | None,
    family: Family | None,
    advertised: list[str],
    named: re.Match[str] | None,
) -> NukiDevice | None:
    if beacon is not None:
        return beacon.device
    if family is not None:
        return NukiDevice.OPENER if family is Family.OPENER else NukiDevice.LOCK
    for uuid in advertised:
        if uuid in _KEYTURNER_SERVICES:
            return _KEYTURNER_SERVICES[uuid]
    if named is not None:
        return NukiDevice.OPENER if named["opener"] else NukiDevice.LOCK
    return None
