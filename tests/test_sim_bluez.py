"""The fake BlueZ behaves like BlueZ where our code and bleak depend on it."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable

import pytest
from bleak import BleakClient, BleakScanner
from bleak.backends.device import BLEDevice
from bleak.backends.scanner import AdvertisementData
from bleak.exc import BleakGATTProtocolError

from ttlock_nuki_addon.sim.bluez import FakeBluez
from ttlock_nuki_addon.sim.dbus_daemon import PrivateBus
from ttlock_nuki_addon.sim.peripheral import (
    INDICATE,
    NOTIFY,
    WRITE,
    CharacteristicDef,
    EchoPeripheral,
    Peripheral,
    ServiceDef,
)

ADDRESS = "AA:BB:CC:00:00:02"


@pytest.fixture
async def world(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[FakeBluez]:
    async with PrivateBus() as address:
        monkeypatch.setenv("DBUS_SYSTEM_BUS_ADDRESS", address)
        bluez = FakeBluez(address, stale_after=0.6)
        await bluez.start()
        try:
            yield bluez
        finally:
            await bluez.stop()


async def wait_for(predicate: Callable[[], bool], timeout: float = 5.0) -> None:
    async with asyncio.timeout(timeout):
        while not predicate():
            await asyncio.sleep(0.02)


async def find(address: str = ADDRESS) -> BLEDevice:
    device = await BleakScanner.find_device_by_address(address, timeout=5)
    assert device is not None
    return device


class TwoServices(Peripheral):
    """A device whose layout has a write-only request characteristic and an indicate one."""

    kind = "two"

    def gatt(self) -> tuple[ServiceDef, ...]:
        return (
            ServiceDef("0000180a-0000-1000-8000-00805f9b34fb", ()),
            ServiceDef(
                "a92ee200-5501-11e4-916c-0800200c9a66",
                (
                    CharacteristicDef("a92ee201-5501-11e4-916c-0800200c9a66", (WRITE, INDICATE)),
                    CharacteristicDef("a92ee202-5501-11e4-916c-0800200c9a66", (WRITE, NOTIFY)),
                ),
            ),
        )


async def test_devices_appear_only_while_discovering(world: FakeBluez) -> None:
    world.add_peripheral(EchoPeripheral(ADDRESS))
    await asyncio.sleep(1.2)
    assert world.devices == {}
    assert (await find()).address == ADDRESS


async def test_gatt_handles_are_in_object_paths(world: FakeBluez) -> None:
    world.add_peripheral(TwoServices(ADDRESS, "Two"))
    async with BleakClient(await find()) as client:
        services = sorted(client.services, key=lambda s: s.handle)
        assert [s.handle for s in services] == [1, 2]
        chars = sorted(services[1].characteristics, key=lambda c: c.handle)
        assert [c.handle for c in chars] == [3, 6]
        assert chars[0].properties == ["write", "indicate"]
        assert [d.handle for d in chars[0].descriptors] == [5]
        assert chars[0].descriptors[0].uuid == "00002902-0000-1000-8000-00805f9b34fb"
        assert client.services.get_characteristic(chars[1].uuid) is not None


async def test_write_types_follow_the_flags(world: FakeBluez) -> None:
    world.add_peripheral(TwoServices(ADDRESS, "Two"))
    async with BleakClient(await find()) as client:
        uuid = "a92ee201-5501-11e4-916c-0800200c9a66"
        await client.write_gatt_char(uuid, b"\x01", response=True)
        with pytest.raises(BleakGATTProtocolError, match="Not Supported"):
            await client.write_gatt_char(uuid, b"\x01", response=False)


async def test_notifications_only_after_start_notify(world: FakeBluez) -> None:
    echo = EchoPeripheral(ADDRESS)
    world.add_peripheral(echo)
    got: list[bytes] = []
    async with BleakClient(await find()) as client:
        await client.write_gatt_char(EchoPeripheral.RX, b"\x01A", response=True)
        await asyncio.sleep(0.2)
        await client.start_notify(EchoPeripheral.TX, lambda _c, data: got.append(bytes(data)))
        await asyncio.sleep(0.2)
        assert got == []
        await client.write_gatt_char(EchoPeripheral.RX, b"\x01B", response=False)
        await wait_for(lambda: got == [b"\x01B"])
        await client.stop_notify(EchoPeripheral.TX)
        await client.write_gatt_char(EchoPeripheral.RX, b"\x01C", response=True)
        await asyncio.sleep(0.2)
        assert got == [b"\x01B"]


async def test_no_adverts_while_connected_and_peripheral_drop(world: FakeBluez) -> None:
    echo = EchoPeripheral(ADDRESS)
    echo.advert_interval = 0.05
    world.add_peripheral(echo)
    heard: list[float] = []

    def on_advert(device: BLEDevice, _data: AdvertisementData) -> None:
        if device.address == ADDRESS:
            heard.append(time.monotonic())

    async with BleakScanner(on_advert):
        await wait_for(lambda: len(heard) >= 2)
        dropped = asyncio.Event()
        client = BleakClient(await find(), disconnected_callback=lambda _client: dropped.set())
        await client.connect()
        connected_at = time.monotonic()
        await asyncio.sleep(0.5)
        assert not [t for t in heard if t > connected_at + 0.05]
        echo.drop_link()
        async with asyncio.timeout(5):
            await dropped.wait()
        assert not client.is_connected
        await client.disconnect()  # releases bleak's per-connection D-Bus link
        count = len(heard)
        await wait_for(lambda: len(heard) > count)


async def test_silent_device_expires_and_remove_device(world: FakeBluez) -> None:
    echo = EchoPeripheral(ADDRESS)
    echo.advert_interval = 0.1
    world.add_peripheral(echo)
    async with BleakScanner():
        await wait_for(lambda: ADDRESS in world.devices)
        echo.set_advertising(False)
        await wait_for(lambda: ADDRESS not in world.devices)
        echo.set_advertising(True)
        await wait_for(lambda: ADDRESS in world.devices)
        assert await world.remove_device_object(world.devices[ADDRESS].path)
        assert ADDRESS not in world.devices


async def test_connect_to_a_sleeping_device_waits_and_can_be_cancelled(world: FakeBluez) -> None:
    echo = EchoPeripheral(ADDRESS)
    world.add_peripheral(echo)
    device = await find()
    echo.faults.refuse_connect = True
    client = BleakClient(device)
    with pytest.raises(TimeoutError):
        await client.connect(timeout=0.5)
    echo.faults.refuse_connect = False
    async with BleakClient(device) as again:
        assert again.is_connected
