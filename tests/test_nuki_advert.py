"""Nuki advert parsing: captured beacons, pairing mode, HomeKit frames, a golden table, fuzzing."""

from __future__ import annotations

from collections.abc import Mapping

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ttlock_nuki_addon.ble.scanner import RawAdvert
from ttlock_nuki_addon.nuki.advert import COMPANY_ID, NukiAdvert, NukiDevice, matches, parse
from ttlock_nuki_addon.nuki.gatt import LAYOUTS, Family, layout_for, nuki_uuid

# spec §1.5: captured frames with the 4C 00 company id in front (nuki_hub#70, #438).
LOCK_FRAME = "4c000215a92ee200550111e4916c0800200c9a6633c335c5c8"
OPENER_FRAME = "4c000215a92ae200550111e4916c0800200c9a6634900792c4"
ADDRESS = "54:D2:72:33:C3:35"
HOMEKIT = bytes.fromhex("0611" + "00" * 17)  # spec §1.5: byte0 != 0x02 is not an iBeacon


def apple(frame: str) -> bytes:
    """What bleak puts under 0x004C: the frame without its company id."""
    raw = bytes.fromhex(frame)
    assert int.from_bytes(raw[:2], "little") == COMPANY_ID
    return raw[2:]


def with_power(frame: str, power: int) -> bytes:
    return apple(frame)[:-1] + bytes([power])


def advert(
    manufacturer_data: Mapping[int, bytes] | None = None,
    *,
    name: str | None = "Nuki_33C335C5",
    service_data: Mapping[str, bytes] | None = None,
    service_uuids: tuple[str, ...] = (),
) -> RawAdvert:
    return RawAdvert(
        address=ADDRESS,
        name=name,
        rssi=-71,
        manufacturer_data=manufacturer_data or {},
        service_data=service_data or {},
        service_uuids=service_uuids,
    )


def test_captured_lock_beacon() -> None:
    raw = advert({COMPANY_ID: apple(LOCK_FRAME)})
    assert matches(raw)
    assert parse(raw) == NukiAdvert(
        address=ADDRESS,
        name="Nuki_33C335C5",
        rssi=-71,
        nuki_id=0x33C335C5,
        device=NukiDevice.LOCK,
        new_state=False,
        pairing_mode=False,
        family=None,
        tx_power=0xC8 - 256,
    )


def test_captured_opener_beacon() -> None:
    raw = advert({COMPANY_ID: apple(OPENER_FRAME)}, name="Nuki_Opener_34900792")
    parsed = parse(raw)
    assert parsed is not None
    assert parsed.device is NukiDevice.OPENER
    assert parsed.nuki_id == 0x34900792
    assert parsed.family is Family.OPENER  # only one opener pairing flow (spec §1.6)
    assert parsed.tx_power == 0xC4 - 256
    assert not parsed.new_state


def test_nuki_id_matches_the_name_in_the_capture() -> None:
    parsed = parse(advert({COMPANY_ID: apple(LOCK_FRAME)}))
    assert parsed is not None and parsed.name is not None
    assert f"Nuki_{parsed.nuki_id:08X}" == parsed.name


@pytest.mark.parametrize(
    ("frame", "power", "new_state"),
    [
        (LOCK_FRAME, 0xC4, False),  # SL2 idle
        (LOCK_FRAME, 0xC5, True),  # SL2 new state
        (LOCK_FRAME, 0xC8, False),  # SL3 idle
        (LOCK_FRAME, 0xC9, True),  # SL3 new state
        (OPENER_FRAME, 0xC5, True),
        (OPENER_FRAME, 0x00, False),
        (OPENER_FRAME, 0xFF, True),
    ],
)
def test_new_state_is_bit_zero(frame: str, power: int, new_state: bool) -> None:
    parsed = parse(advert({COMPANY_ID: with_power(frame, power)}))
    assert parsed is not None
    assert parsed.new_state is new_state
    assert parsed.tx_power == int.from_bytes(bytes([power]), "little", signed=True)


@pytest.mark.parametrize("family", list(Family))
def test_pairing_mode_for_each_pairing_service(family: Family) -> None:
    service = layout_for(family).pairing_service
    raw = advert(service_data={service: b""}, name=None)
    parsed = parse(raw)
    assert parsed is not None
    assert parsed.pairing_mode
    assert parsed.family is family
    assert parsed.device is (NukiDevice.OPENER if family is Family.OPENER else NukiDevice.LOCK)
    assert parsed.nuki_id is None and parsed.tx_power is None and not parsed.new_state
    upper = parse(advert(service_data={service.upper(): b"\x01"}, name=None))
    assert upper is not None and upper.pairing_mode and upper.family is family


def test_pairing_mode_alongside_the_beacon() -> None:
    service = layout_for(Family.SMART_LOCK_5G).pairing_service
    parsed = parse(advert({COMPANY_ID: with_power(LOCK_FRAME, 0xC9)}, service_data={service: b""}))
    assert parsed is not None
    assert (parsed.pairing_mode, parsed.family, parsed.nuki_id, parsed.new_state) == (
        True,
        Family.SMART_LOCK_5G,
        0x33C335C5,
        True,
    )


def test_homekit_frames_are_ignored() -> None:
    assert parse(advert({COMPANY_ID: HOMEKIT})) is None
    assert not matches(advert({COMPANY_ID: HOMEKIT}))
    assert parse(advert({COMPANY_ID: HOMEKIT}, name="Nuki_Opener_34900792")) is None
    # a byte0 other than 0x02 in front of an otherwise perfect beacon is not one either
    assert parse(advert({COMPANY_ID: b"\x12" + apple(LOCK_FRAME)[1:]})) is None


def test_foreign_ibeacon_and_short_beacon() -> None:
    foreign = bytearray(apple(LOCK_FRAME))
    foreign[2] = 0xB9  # another proximity UUID
    assert parse(advert({COMPANY_ID: bytes(foreign)}, name="iPhone")) is None
    assert parse(advert({COMPANY_ID: apple(LOCK_FRAME)[:-1]}, name=None)) is None
    assert parse(advert({COMPANY_ID: b""}, name=None)) is None


def beacon_only(name: str | None = None) -> RawAdvert:
    return advert({COMPANY_ID: apple(LOCK_FRAME)}, name=name)


GOLDEN: list[tuple[str, RawAdvert, tuple[object, ...] | None]] = [
    # (label, advert, (nuki_id, device, new_state, pairing_mode, family, tx_power) or None)
    ("beacon, no name", beacon_only(), (0x33C335C5, NukiDevice.LOCK, False, False, None, -56)),
    (
        "name only",
        advert(name="Nuki_33C335C5"),
        (0x33C335C5, NukiDevice.LOCK, False, False, None, None),
    ),
    (
        "opener name only",
        advert(name="Nuki_Opener_1A2B3C4D"),
        (0x1A2B3C4D, NukiDevice.OPENER, False, False, Family.OPENER, None),
    ),
    ("bridge name", advert(name="Nuki_Bridge_1A2B3C4D"), None),
    ("other name", advert(name="K5_fe711d"), None),
    ("no data at all", advert(name=None), None),
    (
        "keyturner service advertised",
        advert(name=None, service_uuids=(nuki_uuid("a92ee200"),)),
        (None, NukiDevice.LOCK, False, False, None, None),
    ),
    (
        "opener keyturner service advertised",
        advert(name=None, service_uuids=(nuki_uuid("a92ae200").upper(),)),
        (None, NukiDevice.OPENER, False, False, Family.OPENER, None),
    ),
    (
        "5G pairing service advertised, not in pairing mode",
        advert(name="Nuki_00000001", service_uuids=(nuki_uuid("a92ee300"),)),
        (1, NukiDevice.LOCK, False, False, Family.SMART_LOCK_5G, None),
    ),
    (
        "foreign service data",
        advert(name=None, service_data={"0000fe95-0000-1000-8000-00805f9b34fb": b"\x01"}),
        None,
    ),
    (
        "TTLock manufacturer data",
        advert({0x0305: bytes.fromhex("021064b000f4f95365fe711de53838")}, name=None),
        None,
    ),
    (
        "beacon under another company id",
        advert({0x004D: apple(LOCK_FRAME)}, name=None),
        None,
    ),
    (
        "beacon with a longer tail",
        advert({COMPANY_ID: apple(LOCK_FRAME) + b"\x00\x00"}, name=None),
        (0x33C335C5, NukiDevice.LOCK, False, False, None, -56),
    ),
]


@pytest.mark.parametrize(("label", "raw", "expected"), GOLDEN, ids=[g[0] for g in GOLDEN])
def test_golden(label: str, raw: RawAdvert, expected: tuple[object, ...] | None) -> None:
    parsed = parse(raw)
    assert matches(raw) is (expected is not None), label
    if expected is None:
        assert parsed is None
        return
    assert parsed is not None
    got = (
        parsed.nuki_id,
        parsed.device,
        parsed.new_state,
        parsed.pairing_mode,
        parsed.family,
        parsed.tx_power,
    )
    assert got == expected
    assert (parsed.address, parsed.name, parsed.rssi) == (raw.address, raw.name, raw.rssi)


NUKI_UUIDS = [layout.pairing_service for layout in LAYOUTS.values()] + [
    nuki_uuid("a92ee200"),
    nuki_uuid("a92ae200"),
]
uuid_text = st.one_of(st.sampled_from(NUKI_UUIDS), st.uuids().map(str), st.text(max_size=40))
apple_data = st.one_of(
    st.binary(max_size=40),
    st.builds(lambda tail, head: head + tail, st.binary(max_size=8), st.just(apple(LOCK_FRAME))),
    st.builds(lambda tail: apple(OPENER_FRAME)[:18] + tail, st.binary(max_size=8)),
)


@given(
    manufacturer=st.dictionaries(
        st.one_of(st.just(COMPANY_ID), st.integers(0, 0xFFFF)),
        st.one_of(apple_data, st.binary(max_size=30)),
        max_size=3,
    ),
    service_data=st.dictionaries(uuid_text, st.binary(max_size=20), max_size=3),
    service_uuids=st.lists(uuid_text, max_size=3).map(tuple),
    name=st.one_of(
        st.none(),
        st.text(max_size=24),
        st.from_regex(r"Nuki_(Opener_|Bridge_)?[0-9A-Fa-f]{0,9}", fullmatch=True),
    ),
)
def test_arbitrary_adverts_never_raise(
    manufacturer: dict[int, bytes],
    service_data: dict[str, bytes],
    service_uuids: tuple[str, ...],
    name: str | None,
) -> None:
    raw = RawAdvert(ADDRESS, name, -80, manufacturer, service_data, service_uuids)
    parsed = parse(raw)
    assert matches(raw) is (parsed is not None)
    if parsed is None:
        return
    assert parsed.new_state is False or parsed.tx_power is not None  # the flag needs a beacon
    assert not parsed.pairing_mode or parsed.family is not None
    assert parsed.nuki_id is None or 0 <= parsed.nuki_id <= 0xFFFFFFFF
