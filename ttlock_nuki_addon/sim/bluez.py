"""A fake org.bluez served with dbus-fast, which the real bleak BlueZ backend talks to."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Coroutine
from typing import Any

from dbus_fast import BusType, DBusError
from dbus_fast.aio import MessageBus
from dbus_fast.service import ServiceInterface

from .bluez_objects import (
    ERR_FAILED,
    Adapter,
    Characteristic,
    Descriptor,
    Device,
    Service,
)
from .peripheral import Peripheral

_LOGGER = logging.getLogger(__name__)

# A real controller gives up on a connection attempt to a silent device after a while.
CONNECT_GIVE_UP = 30.0


def device_path(adapter_path: str, address: str) -> str:
    """BlueZ's object path for a device address."""
    return f"{adapter_path}/dev_{address.upper().replace(':', '_')}"


class FakeBluez:
    """The simulated radio: one adapter, devices that advertise, connect and talk GATT."""

    def __init__(
        self,
        bus_address: str,
        *,
        adapter: str = "hci0",
        adapter_address: str = "00:1A:7D:DA:71:13",
        stale_after: float = 30.0,
        with_adapter: bool = True,
    ) -> None:
        self.bus_address = bus_address
        self.adapter_path = f"/org/bluez/{adapter}"
        self.adapter_address = adapter_address
        self.stale_after = stale_after
        self.with_adapter = with_adapter
        self.bus: MessageBus | None = None
        self.adapter = Adapter(self)
        self.peripherals: dict[str, Peripheral] = {}
        self.devices: dict[str, Device] = {}
        self._gatt: dict[str, list[tuple[str, ServiceInterface]]] = {}
        self._chars: dict[str, dict[str, Characteristic]] = {}
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._write_locks: dict[str, asyncio.Lock] = {}
        self._background: set[asyncio.Task[Any]] = set()

    def _spawn(self, coro: Coroutine[Any, Any, Any]) -> None:
        """Run a coroutine in the background, keeping a reference until it ends."""
        task = asyncio.get_running_loop().create_task(coro)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def start(self) -> None:
        """Connect to the private bus and claim org.bluez."""
        self.bus = MessageBus(bus_address=self.bus_address, bus_type=BusType.SYSTEM)
        await self.bus.connect()
        if self.with_adapter:
            self.bus.export(self.adapter_path, self.adapter)
        await self.bus.request_name("org.bluez")

    async def stop(self) -> None:
        """Disconnect everything and leave the bus."""
        for address in list(self.peripherals):
            await self.remove_peripheral(address)
        for task in list(self._background):
            task.cancel()
        if self.bus is not None:
            bus, self.bus = self.bus, None
            bus.disconnect()
            # Wait for the socket to close; this also retrieves the EOFError left when the
            # daemon died first.
            closed = bus.wait_for_disconnect()  # type: ignore[no-untyped-call]  # dbus-fast
            with contextlib.suppress(Exception):
                await asyncio.wait_for(closed, 2.0)

    @property
    def discovering(self) -> bool:
        """Whether any client runs discovery."""
        return self.adapter.discovery_sessions > 0

    # --- the world ---------------------------------------------------------------------

    def add_peripheral(self, peripheral: Peripheral) -> None:
        """Place a device in range; it advertises on its own schedule."""
        if peripheral.address in self.peripherals:
            raise ValueError(f"a device with address {peripheral.address} exists already")
        peripheral.host = self
        self.peripherals[peripheral.address] = peripheral
        self._write_locks[peripheral.address] = asyncio.Lock()
        self._tasks[peripheral.address] = asyncio.create_task(self._advertise_loop(peripheral))

    async def remove_peripheral(self, address: str) -> None:
        """Take a device out of range for good."""
        peripheral = self.peripherals.pop(address.upper(), None)
        if peripheral is None:
            return
        task = self._tasks.pop(peripheral.address, None)
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        device = self.devices.get(peripheral.address)
        if device is not None:
            await self.remove_device_object(device.path)
        await peripheral.close()
        peripheral.host = None

    def discovery_started(self) -> None:
        """Discovery began: everything advertising is heard now."""
        for peripheral in self.peripherals.values():
            self._advertise(peripheral)

    async def _advertise_loop(self, peripheral: Peripheral) -> None:
        while True:
            await asyncio.sleep(peripheral.advert_interval)
            self._advertise(peripheral)
            self._expire(peripheral)

    def _expire(self, peripheral: Peripheral) -> None:
        device = self.devices.get(peripheral.address)
        if device is None or device.connected or device.connecting is not None:
            return
        if time.monotonic() - device.last_seen > self.stale_after:
            self._spawn(self.remove_device_object(device.path))

    def _advertise(self, peripheral: Peripheral) -> None:
        """One advert, if it is heard: discovery on, device advertising and not connected."""
        if self.bus is None or not self.discovering or not self.adapter.powered:
            return
        if not peripheral.advertising or peripheral.connected:
            return
        device = self.devices.get(peripheral.address)
        if device is None:
            path = device_path(self.adapter_path, peripheral.address)
            device = Device(self, peripheral, path)
            self.devices[peripheral.address] = device
            self.bus.export(path, device)
            return
        device.last_seen = time.monotonic()
        device.rssi = peripheral.advert_rssi()
        device.emit_properties_changed(
            {
                "RSSI": device.rssi,
                "ManufacturerData": device.ManufacturerData,
                "ServiceData": device.ServiceData,
            }
        )

    def advert_changed(self, peripheral: Peripheral) -> None:
        """PeripheralHost: new advertising data goes out now."""
        self._advertise(peripheral)

    # --- links -------------------------------------------------------------------------

    async def connect(self, device: Device) -> None:
        """Connect: wait the connect time, then export GATT and resolve services."""
        peripheral = device.peripheral
        started = time.monotonic()
        # A device that is not advertising connectably cannot be reached.
        while not (peripheral.advertising and peripheral.connectable) or (
            peripheral.faults.refuse_connect
        ):
            if time.monotonic() - started > CONNECT_GIVE_UP:
                raise DBusError(ERR_FAILED, "le-connection-abort-by-local")
            await asyncio.sleep(0.05)
        await asyncio.sleep(peripheral.link.connect_ms / 1000)
        if self.peripherals.get(peripheral.address) is not peripheral:
            raise DBusError(ERR_FAILED, "Device went away")
        device.connected = True
        peripheral.link_up()
        device.emit_properties_changed({"Connected": True})
        self._export_gatt(device)
        device.services_resolved = True
        device.emit_properties_changed({"ServicesResolved": True})

    async def disconnect(self, device: Device, *, local: bool) -> None:
        """Drop the link, unexport GATT, resume advertising."""
        if not device.connected:
            return
        device.connected = False
        device.services_resolved = False
        for char in self._chars.get(device.path, {}).values():
            char.notifying = False
        device.emit_properties_changed({"ServicesResolved": False})
        self._unexport_gatt(device)
        device.emit_properties_changed({"Connected": False})
        device.peripheral.link_down()
        device.last_seen = time.monotonic()
        _LOGGER.debug(
            "%s disconnected (%s)", device.peripheral.address, "local" if local else "remote"
        )

    def drop_link(self, peripheral: Peripheral) -> None:
        """PeripheralHost: the peripheral drops the link."""
        device = self.devices.get(peripheral.address)
        if device is not None and device.connected:
            self._spawn(self.disconnect(device, local=False))

    def notify(self, peripheral: Peripheral, char_uuid: str, value: bytes) -> bool:
        """PeripheralHost: one notification, delivered only when subscribed."""
        device = self.devices.get(peripheral.address)
        if device is None or not device.connected:
            return False
        char = self._chars.get(device.path, {}).get(char_uuid)
        if char is None or not char.notifying:
            return False
        char.value = value
        char.emit_properties_changed({"Value": value})
        return True

    async def deliver_write(
        self, device: Device, char: Characteristic, value: bytes, with_response: bool
    ) -> None:
        """Hand a write to the peripheral in order; a write command does not wait for it."""
        peripheral = device.peripheral
        lock = self._write_locks[peripheral.address]

        async def run() -> None:
            async with lock:
                peripheral.writes.append(value)
                if device.connected:
                    await peripheral.on_write(char.definition.uuid, value, with_response)
            if peripheral.consume_write_fault():
                peripheral.drop_link()

        if with_response:
            await run()
        else:
            self._spawn(run())

    async def remove_device_object(self, path: str) -> bool:
        """Remove a device from BlueZ's object tree (RemoveDevice or expiry)."""
        device = next((d for d in self.devices.values() if d.path == path), None)
        if device is None:
            return False
        if device.connected:
            await self.disconnect(device, local=True)
        self.devices.pop(device.peripheral.address, None)
        if self.bus is not None:
            self.bus.unexport(path)
        return True

    def _export_gatt(self, device: Device) -> None:
        assert self.bus is not None
        exported: list[tuple[str, ServiceInterface]] = []
        chars: dict[str, Characteristic] = {}
        handle = 1
        for service in device.peripheral.gatt():
            service_path = f"{device.path}/service{handle:04x}"
            exported.append((service_path, Service(service.uuid, device.path, handle)))
            handle += 1
            for definition in service.characteristics:
                char_path = f"{service_path}/char{handle:04x}"
                char = Characteristic(device, definition, service_path)
                chars[definition.uuid] = char
                exported.append((char_path, char))
                handle += 2  # declaration + value
                if definition.can_subscribe:
                    desc_path = f"{char_path}/desc{handle:04x}"
                    exported.append((desc_path, Descriptor(char, char_path)))
                    handle += 1
        for path, interface in exported:
            self.bus.export(path, interface)
        self._gatt[device.path] = exported
        self._chars[device.path] = chars

    def _unexport_gatt(self, device: Device) -> None:
        if self.bus is None:
            return
        for path, _interface in reversed(self._gatt.pop(device.path, [])):
            self.bus.unexport(path)
        self._chars.pop(device.path, None)

    def describe(self) -> list[dict[str, Any]]:
        """Every device as the control API shows it."""
        return [p.describe() for p in self.peripherals.values()]
