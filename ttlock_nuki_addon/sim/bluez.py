"""A fake org.bluez served with dbus-fast, which the real bleak BlueZ backend talks to."""

# No "from __future__ import annotations": dbus-fast reads these annotations at runtime.
import asyncio
import contextlib
import logging
import time
from typing import Annotated, Any

from dbus_fast import BusType, DBusError, Variant
from dbus_fast.aio import MessageBus
from dbus_fast.annotations import DBusSignature
from dbus_fast.constants import PropertyAccess
from dbus_fast.service import ServiceInterface, dbus_property, method

from .peripheral import (
    CCCD_UUID,
    INDICATE,
    NOTIFY,
    WRITE,
    WRITE_NO_RESPONSE,
    CharacteristicDef,
    Peripheral,
)

_LOGGER = logging.getLogger(__name__)

Str = Annotated[str, DBusSignature("s")]
Bool = Annotated[bool, DBusSignature("b")]
Int16 = Annotated[int, DBusSignature("n")]
UInt16 = Annotated[int, DBusSignature("q")]
UInt32 = Annotated[int, DBusSignature("u")]
Path = Annotated[str, DBusSignature("o")]
Bytes = Annotated[bytes, DBusSignature("ay")]
StrList = Annotated[list[str], DBusSignature("as")]
Options = Annotated[dict[str, Variant], DBusSignature("a{sv}")]
ManufacturerData = Annotated[dict[int, Variant], DBusSignature("a{qv}")]
ServiceData = Annotated[dict[str, Variant], DBusSignature("a{sv}")]

ERR_FAILED = "org.bluez.Error.Failed"
ERR_NOT_CONNECTED = "org.bluez.Error.NotConnected"
ERR_NOT_SUPPORTED = "org.bluez.Error.NotSupported"
ERR_NOT_PERMITTED = "org.bluez.Error.NotPermitted"
ERR_INVALID_LENGTH = "org.bluez.Error.InvalidValueLength"
ERR_INVALID_ARGS = "org.bluez.Error.InvalidArguments"
ERR_DOES_NOT_EXIST = "org.bluez.Error.DoesNotExist"
ERR_IN_PROGRESS = "org.bluez.Error.InProgress"

# A real controller gives up on a connection attempt to a silent device after a while.
CONNECT_GIVE_UP = 30.0


def device_path(adapter_path: str, address: str) -> str:
    """BlueZ's object path for a device address."""
    return f"{adapter_path}/dev_{address.upper().replace(':', '_')}"


# D-Bus method and property names are BlueZ's CamelCase.
class Adapter(ServiceInterface):
    """org.bluez.Adapter1."""

    def __init__(self, world: "FakeBluez") -> None:
        super().__init__("org.bluez.Adapter1")
        self._world = world
        self.discovery_sessions = 0
        self.powered = True

    @method()
    def StartDiscovery(self) -> None:
        """Start (or join) discovery; devices appear after this returns."""
        if not self.powered:
            raise DBusError("org.bluez.Error.NotReady", "Resource Not Ready")
        self.discovery_sessions += 1
        if self.discovery_sessions == 1:
            self.emit_properties_changed({"Discovering": True})
            # Devices must appear only after the reply went out (bleak relies on it).
            asyncio.get_running_loop().call_later(0.01, self._world.discovery_started)

    @method()
    def StopDiscovery(self) -> None:
        """Leave discovery."""
        if self.discovery_sessions == 0:
            raise DBusError(ERR_FAILED, "No discovery started")
        self.discovery_sessions -= 1
        if self.discovery_sessions == 0:
            self.emit_properties_changed({"Discovering": False})

    @method()
    def SetDiscoveryFilter(self, filters: Options) -> None:
        """Accept and ignore a discovery filter (all devices are LE)."""

    @method()
    def GetDiscoveryFilters(self) -> StrList:
        """The filter keys BlueZ knows."""
        return ["UUIDs", "RSSI", "Pathloss", "Transport", "DuplicateData", "Discoverable"]

    @method()
    async def RemoveDevice(self, device: Path) -> None:
        """Forget a device (disconnecting it first)."""
        if not await self._world.remove_device_object(device):
            raise DBusError(ERR_DOES_NOT_EXIST, "Does Not Exist")

    @dbus_property(access=PropertyAccess.READ)
    def Address(self) -> Str:
        """Adapter address."""
        return self._world.adapter_address

    @dbus_property(access=PropertyAccess.READ)
    def AddressType(self) -> Str:
        """Adapter address type."""
        return "public"

    @dbus_property(access=PropertyAccess.READ)
    def Name(self) -> Str:
        """Adapter name."""
        return "sim"

    @dbus_property(access=PropertyAccess.READ)
    def Alias(self) -> Str:
        """Adapter alias."""
        return "Simulated adapter"

    @dbus_property(access=PropertyAccess.READ)
    def Powered(self) -> Bool:
        """Whether the radio is on."""
        return self.powered

    @dbus_property(access=PropertyAccess.READ)
    def Discovering(self) -> Bool:
        """Whether discovery runs."""
        return self.discovery_sessions > 0

    @dbus_property(access=PropertyAccess.READ)
    def Roles(self) -> StrList:
        """Supported roles; bleak 3 requires 'central'."""
        return ["central", "peripheral"]

    @dbus_property(access=PropertyAccess.READ)
    def UUIDs(self) -> StrList:
        """Local services."""
        return []

    @dbus_property(access=PropertyAccess.READ)
    def Modalias(self) -> Str:
        """Modalias."""
        return "usb:v1D6Bp0246d0542"


class Device(ServiceInterface):
    """org.bluez.Device1 for one simulated peripheral."""

    def __init__(self, world: "FakeBluez", peripheral: Peripheral, path: str) -> None:
        super().__init__("org.bluez.Device1")
        self._world = world
        self.peripheral = peripheral
        self.path = path
        self.rssi = peripheral.advert_rssi()
        self.connected = False
        self.services_resolved = False
        self.connecting: asyncio.Task[None] | None = None
        self.last_seen = time.monotonic()

    @method()
    async def Connect(self) -> None:
        """Connect after the device's connect time; fails if it does not answer."""
        if self.connected:
            return
        if self.connecting is not None:
            raise DBusError(ERR_IN_PROGRESS, "In Progress")
        self.connecting = asyncio.current_task()
        try:
            await self._world.connect(self)
        except asyncio.CancelledError as exc:
            raise DBusError(ERR_FAILED, "le-connection-abort-by-local") from exc
        finally:
            self.connecting = None

    @method()
    async def Disconnect(self) -> None:
        """Disconnect (or cancel a pending connect)."""
        if self.connecting is not None:
            self.connecting.cancel()
            return
        if self.connected:
            await self._world.disconnect(self, local=True)

    @method()
    def Pair(self) -> None:
        """Simulated locks use application-level security, not BLE bonding."""
        raise DBusError("org.bluez.Error.AuthenticationFailed", "Authentication Failed")

    @dbus_property(access=PropertyAccess.READ)
    def Address(self) -> Str:
        """Device address."""
        return self.peripheral.address

    @dbus_property(access=PropertyAccess.READ)
    def AddressType(self) -> Str:
        """Address type."""
        return "public"

    @dbus_property(access=PropertyAccess.READ)
    def Name(self) -> Str:
        """Advertised local name."""
        return self.peripheral.name

    @dbus_property(access=PropertyAccess.READ)
    def Alias(self) -> Str:
        """Alias (the name)."""
        return self.peripheral.name

    @dbus_property(access=PropertyAccess.READ)
    def Adapter(self) -> Path:
        """Owning adapter."""
        return self._world.adapter_path

    @dbus_property(access=PropertyAccess.READ)
    def Paired(self) -> Bool:
        """Never bonded."""
        return False

    @dbus_property(access=PropertyAccess.READ)
    def Bonded(self) -> Bool:
        """Never bonded."""
        return False

    @dbus_property(access=PropertyAccess.READ)
    def Trusted(self) -> Bool:
        """Not trusted."""
        return False

    @dbus_property(access=PropertyAccess.READ)
    def Blocked(self) -> Bool:
        """Not blocked."""
        return False

    @dbus_property(access=PropertyAccess.READ)
    def LegacyPairing(self) -> Bool:
        """No legacy pairing."""
        return False

    @dbus_property(access=PropertyAccess.READ)
    def Connected(self) -> Bool:
        """Link state."""
        return self.connected

    @dbus_property(access=PropertyAccess.READ)
    def ServicesResolved(self) -> Bool:
        """Whether the GATT objects are exported."""
        return self.services_resolved

    @dbus_property(access=PropertyAccess.READ)
    def RSSI(self) -> Int16:
        """Strength of the last advert."""
        return self.rssi

    @dbus_property(access=PropertyAccess.READ)
    def UUIDs(self) -> StrList:
        """Advertised service UUIDs."""
        return list(self.peripheral.service_uuids)

    @dbus_property(access=PropertyAccess.READ)
    def ManufacturerData(self) -> ManufacturerData:
        """Manufacturer data by company id."""
        return {k: Variant("ay", v) for k, v in self.peripheral.manufacturer_data.items()}

    @dbus_property(access=PropertyAccess.READ)
    def ServiceData(self) -> ServiceData:
        """Service data by UUID."""
        return {k: Variant("ay", v) for k, v in self.peripheral.service_data.items()}


class Service(ServiceInterface):
    """org.bluez.GattService1."""

    def __init__(self, uuid: str, device: str, handle: int) -> None:
        super().__init__("org.bluez.GattService1")
        self.uuid, self.device, self.handle = uuid, device, handle

    @dbus_property(access=PropertyAccess.READ)
    def UUID(self) -> Str:
        """Service UUID."""
        return self.uuid

    @dbus_property(access=PropertyAccess.READ)
    def Primary(self) -> Bool:
        """Primary service."""
        return True

    @dbus_property(access=PropertyAccess.READ)
    def Device(self) -> Path:
        """Owning device."""
        return self.device

    @dbus_property(access=PropertyAccess.READ)
    def Includes(self) -> Annotated[list[str], DBusSignature("ao")]:
        """No included services."""
        return []


class Characteristic(ServiceInterface):
    """org.bluez.GattCharacteristic1, checking flags, MTU and subscription like BlueZ."""

    def __init__(self, device: Device, definition: CharacteristicDef, service: str) -> None:
        super().__init__("org.bluez.GattCharacteristic1")
        self.device = device
        self.definition = definition
        self.service = service
        self.value = b""
        self.notifying = False

    def _check_connected(self) -> Peripheral:
        if not self.device.connected:
            raise DBusError(ERR_FAILED, "Not connected")
        return self.device.peripheral

    @method()
    def ReadValue(self, options: Options) -> Bytes:
        """Read the value from the peripheral."""
        peripheral = self._check_connected()
        if "read" not in self.definition.flags:
            raise DBusError(ERR_NOT_PERMITTED, "Read not permitted")
        return peripheral.on_read(self.definition.uuid)

    @method()
    async def WriteValue(self, value: Bytes, options: Options) -> None:
        """Write with or without response; longer than ATT_MTU - 3 is refused."""
        peripheral = self._check_connected()
        kind = options["type"].value if "type" in options else "request"
        with_response = kind != "command"
        needed = WRITE if with_response else WRITE_NO_RESPONSE
        if needed not in self.definition.flags:
            raise DBusError(ERR_NOT_SUPPORTED, f"Operation is not supported ({kind})")
        if len(value) > peripheral.link.max_write:
            raise DBusError(ERR_INVALID_LENGTH, "Invalid Length")
        await self.device._world.deliver_write(self.device, self, bytes(value), with_response)

    @method()
    def StartNotify(self) -> None:
        """Enable notifications or indications (writes the CCCD on the peripheral)."""
        peripheral = self._check_connected()
        if not self.definition.can_subscribe:
            raise DBusError(ERR_NOT_SUPPORTED, "Operation is not supported")
        if self.notifying:
            return
        self.notifying = True
        peripheral.subscribed.add(self.definition.uuid)
        self.emit_properties_changed({"Notifying": True})
        peripheral.on_subscribe(self.definition.uuid, True)

    @method()
    def StopNotify(self) -> None:
        """Disable notifications or indications."""
        peripheral = self._check_connected()
        if not self.notifying:
            return
        self.notifying = False
        peripheral.subscribed.discard(self.definition.uuid)
        self.emit_properties_changed({"Notifying": False})
        peripheral.on_subscribe(self.definition.uuid, False)

    @dbus_property(access=PropertyAccess.READ)
    def UUID(self) -> Str:
        """Characteristic UUID."""
        return self.definition.uuid

    @dbus_property(access=PropertyAccess.READ)
    def Service(self) -> Path:
        """Owning service."""
        return self.service

    @dbus_property(access=PropertyAccess.READ)
    def Value(self) -> Bytes:
        """Last notified value."""
        return self.value

    @dbus_property(access=PropertyAccess.READ)
    def Notifying(self) -> Bool:
        """Whether notifications are on."""
        return self.notifying

    @dbus_property(access=PropertyAccess.READ)
    def Flags(self) -> StrList:
        """Characteristic properties."""
        return list(self.definition.flags)

    @dbus_property(access=PropertyAccess.READ)
    def MTU(self) -> UInt16:
        """ATT MTU of the link."""
        return self.device.peripheral.link.mtu


class Descriptor(ServiceInterface):
    """org.bluez.GattDescriptor1 (the CCCD of a notifying characteristic)."""

    def __init__(self, characteristic: Characteristic, path: str) -> None:
        super().__init__("org.bluez.GattDescriptor1")
        self.characteristic = characteristic
        self.char_path = path

    @method()
    def ReadValue(self, options: Options) -> Bytes:
        """CCCD value: 0x0001 notify, 0x0002 indicate, 0 off."""
        if not self.characteristic.notifying:
            return b"\x00\x00"
        flags = self.characteristic.definition.flags
        return b"\x02\x00" if INDICATE in flags and NOTIFY not in flags else b"\x01\x00"

    @dbus_property(access=PropertyAccess.READ)
    def UUID(self) -> Str:
        """Descriptor UUID."""
        return CCCD_UUID

    @dbus_property(access=PropertyAccess.READ)
    def Characteristic(self) -> Path:
        """Owning characteristic."""
        return self.char_path

    @dbus_property(access=PropertyAccess.READ)
    def Value(self) -> Bytes:
        """Cached value."""
        return b""

    @dbus_property(access=PropertyAccess.READ)
    def Flags(self) -> StrList:
        """Descriptor flags."""
        return ["read", "write"]


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
        if self.bus is not None:
            self.bus.disconnect()
            self.bus = None

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
            asyncio.get_running_loop().create_task(self.remove_device_object(device.path))

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
            asyncio.get_running_loop().create_task(self.disconnect(device, local=False))

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
            task = asyncio.get_running_loop().create_task(run())
            self._tasks[f"write-{id(task)}"] = task
            task.add_done_callback(lambda t: self._tasks.pop(f"write-{id(t)}", None))

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
