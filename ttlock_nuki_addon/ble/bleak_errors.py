"""Turn bleak, BlueZ and D-Bus failures into the add-on's own errors with a sentence."""

from __future__ import annotations

from bleak.exc import (
    BleakBluetoothNotAvailableError,
    BleakBluetoothNotAvailableReason,
    BleakDBusError,
    BleakDeviceNotFoundError,
    BleakError,
    BleakGATTProtocolError,
)
from bleak_retry_connector import (
    BleakAbortedError,
    BleakConnectionError,
    BleakNotFoundError,
    BleakOutOfConnectionSlotsError,
)

from ..errors import (
    DisconnectedError,
    LockError,
    LockTimeoutError,
    NotReachableError,
    ProtocolError,
)

NO_DBUS = (
    "Bluetooth is not available: the system D-Bus cannot be reached. In Home Assistant the "
    "add-on needs 'host_dbus'; elsewhere check that dbus is running."
)
NO_BLUEZ = (
    "Bluetooth is not available: the BlueZ service is not running on the host. Make sure the "
    "host has a Bluetooth adapter and the bluetooth service is started."
)
_ADAPTER = {
    BleakBluetoothNotAvailableReason.NO_BLUETOOTH: (
        "No Bluetooth adapter was found. Plug in or enable a Bluetooth adapter near the door."
    ),
    BleakBluetoothNotAvailableReason.NO_BLE_CENTRAL_ROLE: (
        "The Bluetooth adapter does not support Bluetooth Low Energy; locks need a BLE adapter."
    ),
    BleakBluetoothNotAvailableReason.POWERED_OFF: (
        "The Bluetooth adapter is switched off. Turn Bluetooth on and try again."
    ),
    BleakBluetoothNotAvailableReason.DENIED_BY_SYSTEM: (
        "The system denied access to Bluetooth (D-Bus policy). Check the add-on's permissions."
    ),
    BleakBluetoothNotAvailableReason.DENIED_BY_USER: (
        "Access to Bluetooth was denied. Allow it and try again."
    ),
}
_DBUS_UNREACHABLE = (
    "org.freedesktop.DBus.Error.ServiceUnknown",
    "org.freedesktop.DBus.Error.NameHasNoOwner",
)
# BlueZ removes a device's GATT objects when its link drops; a call on one of them then fails
# like this. The link is gone, which is worth a retry on a new one (not "not reachable").
_DBUS_OBJECT_GONE = (
    "org.freedesktop.DBus.Error.UnknownObject",
    "org.freedesktop.DBus.Error.UnknownMethod",
)

# Exceptions the link and scanner catch and translate; anything else is a bug and propagates.
WRAPPED: tuple[type[BaseException], ...] = (
    BleakError,
    OSError,
    EOFError,
    TimeoutError,
    AttributeError,  # bleak raises it when the D-Bus connection vanished under a call
    KeyError,  # bleak raises it when BlueZ objects vanish mid-discovery
)


def wrap(exc: BaseException, what: str) -> LockError:
    """The add-on error for a bleak/D-Bus failure during `what` (e.g. "connecting to X")."""
    if isinstance(exc, LockError):
        return exc
    if isinstance(exc, BleakBluetoothNotAvailableError):
        return NotReachableError(_ADAPTER.get(exc.reason, f"Bluetooth is not available: {exc}"))
    if isinstance(exc, BleakDBusError) and exc.dbus_error in _DBUS_UNREACHABLE:
        return NotReachableError(NO_BLUEZ)
    if isinstance(exc, BleakDBusError) and exc.dbus_error in _DBUS_OBJECT_GONE:
        return DisconnectedError(f"The Bluetooth connection dropped while {what}.")
    if isinstance(exc, (FileNotFoundError, ConnectionRefusedError, PermissionError)):
        return NotReachableError(NO_DBUS)
    if isinstance(exc, TimeoutError):
        return LockTimeoutError(f"Timed out {what}. Move the adapter closer and try again.")
    if isinstance(exc, (BleakDeviceNotFoundError, BleakNotFoundError)):
        return NotReachableError(
            f"The lock was not found while {what}. Touch its keypad to wake it, check that it "
            "is in range, and try again."
        )
    if isinstance(exc, BleakOutOfConnectionSlotsError):
        return NotReachableError(
            "The Bluetooth adapter has no free connection slots. Close other Bluetooth "
            "connections (a phone app connected to the lock) and try again."
        )
    if isinstance(exc, (BleakAbortedError, BleakConnectionError)):
        return NotReachableError(
            f"The lock did not accept a connection while {what}. It may be asleep, out of "
            "range, or connected to a phone; try again."
        )
    if isinstance(exc, BleakGATTProtocolError):
        return ProtocolError(f"The lock refused a Bluetooth request while {what}: {exc}.")
    if isinstance(exc, (EOFError, BrokenPipeError, ConnectionResetError)):
        return DisconnectedError(f"The Bluetooth connection dropped while {what}.")
    text = str(exc) or type(exc).__name__
    if "not connected" in text.lower() or "disconnected" in text.lower():
        return DisconnectedError(f"The Bluetooth connection dropped while {what}.")
    return NotReachableError(f"Bluetooth failed while {what}: {text}")
