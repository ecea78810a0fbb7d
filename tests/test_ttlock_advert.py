"""TTLock advert parsing: a golden table from the spec, foreign data, and fuzzing."""

from __future__ import annotations

from collections.abc import Mapping

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ttlock_nuki_addon.ble.scanner import RawAdvert, Scanner
from ttlock_nuki_addon.ttlock.advert import (
    COMPANY_ID,
    AdvertFlag,
    ModelFamily,
    TTLockAdvert,
    matches,
    model_family,
    parse,
)
from ttlock_nuki_addon.ttlock.codec import LockType

# spec §4.1: lock "K5_fe711d", MAC 38:38:E5:1D:71:FE, as bleak reports it.
K5_PAYLOAD = bytes.fromhex("021064b000f4f95365fe711de53838")
K5_MAC = "38:38:E5:1D:71:FE"


def advert(manufacturer_data: Mapping[int, bytes], name: str | None = "K5_fe711d") -> RawAdvert:
    return RawAdvert(
        address="38:38:E5:1D:71:FE",
        name=name,
        rssi=-70,
        manufacturer_data=manufacturer_data,
        service_uuids=("00001910-0000-1000-8000-00805f9b34fb",),
    )


def k5(scene: int = 2, flags: int = 0x10, battery: int = 100) -> RawAdvert:
    return advert({COMPANY_ID: bytes([scene, flags, battery]) + K5_PAYLOAD[3:]})


def test_company_id_is_the_protocol_bytes_read_little_endian() -> None:
    assert COMPANY_ID == 773 == int.from_bytes(bytes([0x05, 0x03]), "little")


def test_the_spec_sample() -> None:
    parsed = parse(advert({773: K5_PAYLOAD}))
    assert parsed == TTLockAdvert(
        address="38:38:E5:1D:71:FE",
        name="K5_fe711d",
        rssi=-70,
        mac=K5_MAC,
        protocol_type=5,
        protocol_version=3,
        scene=2,
        flags=AdvertFlag.PARKING,
        battery=100,
        lock_type=LockType.V3,
    )
    assert parsed.model_family is ModelFamily.DOOR_LOCK
    assert not (parsed.unlocked or parsed.new_records or parsed.setting_mode or parsed.touched)


# (flags, unlocked, new records, setting mode, touched)
FLAG_TABLE = [
    (0x00, False, False, False, False),  # paired, locked, nothing new
    (0x01, True, False, False, False),  # unlocked bit
    (0x02, False, True, False, False),  # new operation-log records
    (0x03, True, True, False, False),  # unlocked by keypad, record pending
    (0x04, False, False, True, False),  # setting mode: unpaired
    (0x0C, False, False, True, True),  # unpaired, woken by a keypad touch
    (0x12, False, True, False, False),  # paired elsewhere (hass-addons #47): events, no setting
    (0xFF, True, True, True, True),  # unknown high bits are kept, never fatal
]


@pytest.mark.parametrize(("flags", "unlocked", "new", "setting", "touched"), FLAG_TABLE)
def test_flags(flags: int, unlocked: bool, new: bool, setting: bool, touched: bool) -> None:
    parsed = parse(k5(flags=flags))
    assert parsed is not None
    assert int(parsed.flags) == flags
    assert (parsed.unlocked, parsed.new_records, parsed.setting_mode, parsed.touched) == (
        unlocked,
        new,
        setting,
        touched,
    )


@pytest.mark.parametrize(
    ("raw", "expected"), [(0, 0), (1, 1), (37, 37), (100, 100), (101, None), (0xFF, None)]
)
def test_battery(raw: int, expected: int | None) -> None:
    parsed = parse(k5(battery=raw))
    assert parsed is not None and parsed.battery == expected


@pytest.mark.parametrize(
    ("scene", "family", "lock_type"),
    [
        (1, ModelFamily.DOOR_LOCK, LockType.V3),
        (2, ModelFamily.DOOR_LOCK, LockType.V3),
        (4, ModelFamily.ACCESS_CONTROL, LockType.V3),
        (5, ModelFamily.SAFE, LockType.V3),
        (7, ModelFamily.PARKING_LOCK, LockType.V3_CAR),
        (8, ModelFamily.PADLOCK, LockType.V3),
        (9, ModelFamily.CYLINDER, LockType.V3),
        (11, ModelFamily.SAFE, LockType.V3),
        (13, ModelFamily.POWER_SAVER, LockType.V3),
        (200, ModelFamily.UNKNOWN, LockType.V3),
    ],
)
def test_scene(scene: int, family: ModelFamily, lock_type: LockType) -> None:
    parsed = parse(k5(scene=scene))
    assert parsed is not None
    assert (parsed.scene, parsed.model_family, parsed.lock_type) == (scene, family, lock_type)
    assert model_family(scene) is family


def test_minimal_payload_without_vendor_bytes() -> None:
    parsed = parse(advert({773: bytes.fromhex("020464") + bytes.fromhex("fe711de53838")}))
    assert parsed is not None and parsed.mac == K5_MAC and parsed.setting_mode


def test_other_manufacturers_in_the_same_advert_are_ignored() -> None:
    parsed = parse(advert({76: b"\x02\x15apple", 773: K5_PAYLOAD}))
    assert parsed is not None and parsed.mac == K5_MAC


@pytest.mark.parametrize(
    "data",
    [
        {},
        {76: K5_PAYLOAD},  # Apple's company id with a lock-like payload
        {0x0405: K5_PAYLOAD},  # 05 04: a V2S_PLUS lock (older layout), not supported
        {0x1912: K5_PAYLOAD},  # 12 19: plug DFU mode (spec §4.1)
        {773: b""},
        {773: K5_PAYLOAD[:3]},
        {773: K5_PAYLOAD[:8]},
    ],
)
def test_foreign_or_short_data_gives_none(data: dict[int, bytes]) -> None:
    assert parse(advert(data)) is None


def test_matches_is_the_company_id() -> None:
    assert matches(advert({773: K5_PAYLOAD}))
    assert not matches(advert({76: K5_PAYLOAD}))
    assert not matches(advert({}))


def test_registers_with_the_scanner() -> None:
    scanner, seen = Scanner(), []
    scanner.register_parser("ttlock", matches, parse)
    scanner.subscribe(lambda parsed: seen.append(parsed.value), "ttlock")
    scanner.feed(advert({76: b"x"}))
    scanner.feed(advert({773: K5_PAYLOAD}))
    assert [a.mac for a in seen] == [K5_MAC]


@given(
    st.dictionaries(
        st.one_of(st.just(773), st.integers(0, 0xFFFF)), st.binary(max_size=40), max_size=4
    ),
    st.one_of(st.none(), st.text(max_size=20)),
)
def test_parse_never_raises(data: dict[int, bytes], name: str | None) -> None:
    raw = advert(data, name)
    parsed = parse(raw)
    assert matches(raw) == (773 in data)
    if parsed is not None:
        assert len(parsed.mac) == 17
        assert parsed.battery is None or 0 <= parsed.battery <= 100
