"""The org.bluez D-Bus objects (adapter, device, GATT) that the fake BlueZ exports."""

# No "from __future__ import annotations": dbus-fast reads these annotations at runtime.
import asyncio
import time
from typing import TYPE_CHECKING, Annotated

from dbus_fast import DBusError, Variant
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

if TYPE_CHECKING:
    from .bluez import FakeBluez

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
MAX_ATTRIBUTE_LEN = 512  # Core spec Vol 3 Part F 3.2.9: longest attribute value


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
        """Write with or without response; a request may be long (BlueZ then does a
        prepare/execute long write, up to 512 bytes); a command is limited to ATT_MTU - 3."""
        peripheral = self._check_connected()
        kind = options["type"].value if "type" in options else "request"
        with_response = kind != "command"
        needed = WRITE if with_response else WRITE_NO_RESPONSE
        if needed not in self.definition.flags:
            raise DBusError(ERR_NOT_SUPPORTED, f"Operation is not supported ({kind})")
        limit = MAX_ATTRIBUTE_LEN if with_response else peripheral.link.max_write
        if len(value) > limit:
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
