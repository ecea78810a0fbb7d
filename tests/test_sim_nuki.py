"""The virtual Nuki through the fake BlueZ with real bleak, and through the control API."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime
from typing import Any

import aiohttp
import pytest
from bleak import BleakClient, BleakScanner
from bleak.backends.device import BLEDevice
from bleak.backends.scanner import AdvertisementData
from nuki_sim_support import REQUEST_PUBLIC_KEY, PairingClient

from ttlock_nuki_addon.ble.scanner import RawAdvert
from ttlock_nuki_addon.nuki import advert
from ttlock_nuki_addon.nuki.codec import (
    Command,
    EncryptedFramer,
    ErrorCode,
    PlainFramer,
    decrypt,
    encrypt,
    parse_plain,
)
from ttlock_nuki_addon.nuki.commands import parse_error_report, request_data
from ttlock_nuki_addon.nuki.gatt import GattLayout
from ttlock_nuki_addon.nuki.pairing_msgs import PublicKey, generate_keypair
from ttlock_nuki_addon.sim.nuki import VirtualNuki, create_nuki
from ttlock_nuki_addon.sim.nuki_state import VARIANTS, KeypadCode
from ttlock_nuki_addon.sim.peripheral import ActionError
from ttlock_nuki_addon.sim.world import SimWorld

WAIT = 10.0  # guards against a hang only; nothing asserts how fast the lock is
QUIET = 0.3  # how long "no answer" is listened for


async def until(predicate: Callable[[], bool]) -> None:
    async with asyncio.timeout(WAIT):
        while not predicate():
            await asyncio.sleep(0.02)


def add_nuki(world: SimWorld, kind: str, **options: Any) -> VirtualNuki:
    lock = world.add_device(kind, {"motor_ms": 10, **options})
    assert isinstance(lock, VirtualNuki)
    return lock


async def find(lock: VirtualNuki) -> BLEDevice:
    device = await BleakScanner.find_device_by_address(lock.address, timeout=WAIT)
    assert device is not None
    return device


class Inbox:
    """Indications of one characteristic, reassembled into whole messages (spec §1.3)."""

    def __init__(self, encrypted: bool = False, ultra: bool = False) -> None:
        self.framer: PlainFramer | EncryptedFramer = (
            EncryptedFramer() if encrypted else PlainFramer(allow_encrypted=ultra)
        )
        self.messages: asyncio.Queue[bytes] = asyncio.Queue()
        self.chunks: list[bytes] = []

    def __call__(self, _char: object, data: bytearray) -> None:
        self.chunks.append(bytes(data))
        for message in self.framer.feed(bytes(data)):
            self.messages.put_nowait(message)

    async def next(self) -> bytes:
        return await asyncio.wait_for(self.messages.get(), WAIT)

    async def silent(self) -> bool:
        await asyncio.sleep(QUIET)
        return self.messages.empty()


async def pair(client: BleakClient, layout: GattLayout, inbox: Inbox, pc: PairingClient) -> None:
    """A whole pairing written by the test with pairing_msgs, one write per message."""
    message: bytes | None = pc.first()
    while message is not None:
        await client.write_gatt_char(layout.pairing_gdio, message, response=True)
        message = pc.answer(await inbox.next())


@pytest.mark.parametrize("kind", list(VARIANTS))
async def test_gatt_strictness_and_pairing_with_real_bleak(sim_world: SimWorld, kind: str) -> None:
    lock = add_nuki(sim_world, kind)
    layout = lock.variant.layout
    assert lock.press_button(6)["outcome"] == "pairing_mode"
    async with BleakClient(await find(lock)) as client:
        for uuid in (layout.pairing_gdio, layout.keyturner_gdio, layout.usdio):
            char = client.services.get_characteristic(uuid)
            assert char is not None and sorted(char.properties) == ["indicate", "write"]
        pairing_service = client.services.get_service(layout.pairing_service)
        assert pairing_service is not None
        assert (pairing_service.handle > 1) == (kind == "nuki-2")  # HomeKit services first
        # Not subscribed yet: the lock answers nothing at all (spec §1.2).
        await client.write_gatt_char(layout.pairing_gdio, REQUEST_PUBLIC_KEY, response=True)
        await until(lambda: lock.dropped_outputs == 1)
        inbox = Inbox(ultra=lock.variant.ultra)
        await client.start_notify(layout.pairing_gdio, inbox)
        assert await inbox.silent()
        await client.write_gatt_char(layout.pairing_gdio, REQUEST_PUBLIC_KEY, response=True)
        key = PublicKey.parse(parse_plain(await inbox.next()).verified().payload)
        assert len(key.key) == 32
        if kind == "nuki-1":
            assert [len(c) for c in inbox.chunks] == [20, 16]  # MTU 23: 20-byte indications
        # A message in two pieces is refused piece by piece, never answered as a whole.
        public = PublicKey(generate_keypair().public).to_message()
        for piece in (public[:18], public[18:]):
            await client.write_gatt_char(layout.pairing_gdio, piece, response=True)
            report = parse_plain(await inbox.next()).verified()
            assert report.command == Command.ERROR_REPORT
            assert parse_error_report(report.payload).code in (
                ErrorCode.ERROR_BAD_LENGTH,
                ErrorCode.ERROR_BAD_CRC,
            )
        pc = PairingClient(ultra=lock.variant.ultra, pin=lock.core.memory.security_pin)
        await pair(client, layout, inbox, pc)
        assert not lock.core.pairing_mode and len(lock.core.memory.authorizations) == 1
        (auth,) = lock.core.memory.authorizations.values()
        usdio = Inbox(encrypted=True)
        await client.start_notify(layout.usdio, usdio)
        wire = encrypt(
            auth.shared_key,
            auth.auth_id,
            Command.REQUEST_DATA,
            request_data(Command.KEYTURNER_STATES),
        )
        await client.write_gatt_char(layout.usdio, wire, response=True)
        states = decrypt(auth.shared_key, await usdio.next(), auth.auth_id)
        assert states.command == Command.KEYTURNER_STATES
        assert len(states.payload) == lock.variant.states_length


@pytest.mark.parametrize("kind", ["nuki-1", "nuki-2"])
async def test_outside_pairing_mode(sim_world: SimWorld, kind: str) -> None:
    lock = add_nuki(sim_world, kind)
    layout = lock.variant.layout
    dropped = asyncio.Event()
    client = BleakClient(await find(lock), disconnected_callback=lambda _c: dropped.set())
    await client.connect()
    try:
        inbox = Inbox()
        await client.start_notify(layout.pairing_gdio, inbox)
        await client.write_gatt_char(layout.pairing_gdio, REQUEST_PUBLIC_KEY, response=True)
        if kind == "nuki-1":
            report = parse_error_report(parse_plain(await inbox.next()).verified().payload)
            assert report.code == ErrorCode.P_ERROR_NOT_PAIRING
            assert client.is_connected
        else:
            await asyncio.wait_for(dropped.wait(), WAIT)  # newer firmware hangs up
            assert inbox.messages.empty()
    finally:
        await client.disconnect()


async def test_advert_shows_pairing_mode_and_the_new_state_bit(sim_world: SimWorld) -> None:
    lock = add_nuki(sim_world, "nuki-5", nuki_id=0x33C335C5)
    assert lock.name == "Nuki_33C335C5"
    seen: list[advert.NukiAdvert] = []

    def heard(device: BLEDevice, data: AdvertisementData) -> None:
        if device.address == lock.address:
            raw = RawAdvert(
                device.address,
                data.local_name,
                data.rssi,
                data.manufacturer_data,
                data.service_data,
                tuple(data.service_uuids),
            )
            parsed = advert.parse(raw)
            if parsed is not None:
                seen.append(parsed)

    async with BleakScanner(heard):
        await until(lambda: bool(seen))
        assert (seen[-1].nuki_id, seen[-1].new_state, seen[-1].pairing_mode) == (
            0x33C335C5,
            False,
            False,
        )
        lock.press_button(8)
        await until(lambda: seen[-1].pairing_mode)
        assert seen[-1].family is not None and seen[-1].family.value == "smart_lock_5g"
        lock.turn_knob()
        await until(lambda: seen[-1].new_state)


# --- control API -----------------------------------------------------------------------------


async def post(session: aiohttp.ClientSession, path: str, body: Any = None) -> tuple[int, Any]:
    async with session.post(path, json=body) as res:
        return res.status, await res.json()


async def test_control_api_plays_the_nuki_world(
    sim_world: SimWorld, sim_control: aiohttp.ClientSession
) -> None:
    status, device = await post(sim_control, "/devices", {"kind": "nuki-4", "motor_ms": 20})
    assert status == 201, device
    address = device["address"]
    assert (device["variant"], device["lock_state"], device["door"]) == (
        "nuki-4",
        "locked",
        "door_closed",
    )
    for action in ("press_button", "enter_pin", "turn_knob", "open_door", "close_door"):
        assert action in device["actions"]
    for knob in ("busy", "stale_challenge", "jam", "faults", "link"):
        assert knob in device["actions"]
    status, body = await post(sim_control, f"/devices/{address}/press_button", {"seconds": 6})
    assert (status, body["outcome"]) == (200, "pairing_mode")
    assert (await post(sim_control, f"/devices/{address}/turn_knob"))[1]["outcome"] == "unlocked"
    assert (await post(sim_control, f"/devices/{address}/open_door"))[1]["door"] == "door_opened"
    status, body = await post(sim_control, f"/devices/{address}/enter_pin", {"code": "999999"})
    assert (status, body["outcome"]) == (200, "rejected")
    assert (await post(sim_control, f"/devices/{address}/jam", {"count": 2}))[1] == {
        "ok": True,
        "jam": 2,
    }
    for action, params, reason in (
        ("press_button", {"seconds": "long"}, "'seconds'"),
        ("enter_pin", {}, "'code' is required"),
        ("enter_pin", {"code": "12ab"}, "'code' must"),
        ("busy", {"count": -1}, "'count'"),
    ):
        status, body = await post(sim_control, f"/devices/{address}/{action}", params)
        assert status == 400 and reason in body["error"], (action, body)
    lock = sim_world.get(address)
    assert isinstance(lock, VirtualNuki)
    lock.core.memory.keypad_codes[1] = KeypadCode(1, 345678, "Cleaner", datetime(2024, 1, 1))
    async with sim_control.get("/devices") as res:
        (shown,) = [d for d in await res.json() if d["address"] == address]
    assert (shown["pairing_mode"], shown["new_state"], shown["lock_state"]) == (
        True,
        True,
        "unlocked",
    )
    assert shown["keypad_codes"] == [
        {
            "id": 1,
            "name": "Cleaner",
            "code": "******",
            "enabled": True,
            "time_limited": False,
            "lock_count": 0,
        }
    ]
    assert "345678" not in str(shown)
    status, body = await post(sim_control, "/devices", {"kind": "nuki-2", "colour": "red"})
    assert status == 400 and "unknown option 'colour'" in body["error"]


@pytest.mark.parametrize(
    ("options", "reason"),
    [
        ({"battery": 101}, "'battery'"),
        ({"security_pin": 70000}, "'security_pin'"),
        ({"motor_ms": -1}, "'motor_ms'"),
        ({"pairing_seconds": 0}, "'pairing_seconds'"),
        ({"pairing_enabled": "yes"}, "'pairing_enabled'"),
        ({"nuki_id": 1 << 32}, "'nuki_id'"),
        ({"paired": True}, "unknown option 'paired'"),
    ],
)
def test_factory_rejects_bad_options(options: dict[str, Any], reason: str) -> None:
    with pytest.raises(ActionError, match=reason):
        create_nuki("nuki-2", "54:D2:72:00:00:01", options)


async def test_factory_options_shape_the_lock() -> None:
    lock = create_nuki(
        "nuki-5",
        "54:D2:72:00:00:02",
        {"security_pin": 654321, "battery": 30, "pairing_enabled": False, "name": "Door"},
    )
    try:
        assert (lock.kind, lock.name, lock.link.mtu) == ("nuki-5", "Door", 185)
        assert lock.core.memory.security_pin == 654321 and lock.core.battery == 30
        assert lock.press_button(6)["outcome"] == "pairing_disabled"
        assert lock.describe()["nuki_id"] == "72000002"
    finally:
        await lock.close()
