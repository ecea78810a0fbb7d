"""The simulated world: a private bus, the fake BlueZ and a registry of virtual device kinds."""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import Any

from .bluez import FakeBluez
from .dbus_daemon import PrivateBus
from .nuki import nuki_factory
from .peripheral import ActionError, EchoPeripheral, Peripheral
from .ttlock import create_ttlock

Factory = Callable[[str, dict[str, Any]], Peripheral]

ADDRESS_RE = re.compile(r"^[0-9A-F]{2}(:[0-9A-F]{2}){5}$")
MAX_NAME_BYTES = 248  # Core spec Vol 3 Part C 12.1: the Device Name is at most 248 octets.
COMMON_OPTIONS = frozenset({"address", "name", "rssi"})
DISCONNECT_TIMEOUT = 2.0


class UnknownDeviceError(ActionError):
    """No device with that address is in the world."""


@dataclass(frozen=True, slots=True)
class KindSpec:
    """One registered device kind: how to build it and whether the demo set has one."""

    kind: str
    factory: Factory
    demo: bool


_KINDS: dict[str, KindSpec] = {}


def register_kind(kind: str, factory: Factory, demo: bool) -> None:
    """Register a device kind for every world created afterwards (replaces a same-named one)."""
    _KINDS[kind] = KindSpec(kind, factory, demo)


def reject_unknown_options(kind: str, options: Mapping[str, Any], known: set[str]) -> None:
    """Raise ActionError naming the first option a kind does not understand."""
    for key in sorted(options):
        if key not in known:
            hint = ", ".join(sorted(known | COMMON_OPTIONS))
            raise ActionError(f"unknown option '{key}' for {kind} (known: {hint})")


def _echo_factory(address: str, options: dict[str, Any]) -> Peripheral:
    """Build an echo device; option 'strict' ignores writes made before StartNotify."""
    reject_unknown_options("echo", options, {"strict"})
    strict = options.get("strict", False)
    if not isinstance(strict, bool):
        raise ActionError("'strict' must be true or false")
    return EchoPeripheral(address, strict=strict)


register_kind("echo", _echo_factory, demo=True)
register_kind("ttlock", create_ttlock, demo=True)
for _kind in ("nuki-1", "nuki-2", "nuki-4", "nuki-5"):
    register_kind(_kind, nuki_factory(_kind), demo=_kind in ("nuki-2", "nuki-4"))


def random_address(taken: Collection[str] = ()) -> str:
    """A random unicast address (upper case, colon separated) not among `taken`."""
    while True:
        raw = bytearray(secrets.token_bytes(6))
        raw[0] &= 0xFE  # unicast
        address = ":".join(f"{b:02X}" for b in raw)
        if address not in taken and any(raw):
            return address


class SimWorld:
    """A private dbus-daemon plus fake BlueZ, started and stopped as one, holding devices."""

    def __init__(self, *, stale_after: float = 30.0, dbus_daemon: str | None = None) -> None:
        self._bus = PrivateBus(dbus_daemon)
        self._stale_after = stale_after
        self._bluez: FakeBluez | None = None
        self.kinds: dict[str, KindSpec] = dict(_KINDS)

    @property
    def bus_address(self) -> str:
        """The address for DBUS_SYSTEM_BUS_ADDRESS (empty before start)."""
        return self._bus.address

    @property
    def bluez(self) -> FakeBluez:
        """The running fake BlueZ."""
        if self._bluez is None:
            raise RuntimeError("the simulated world is not running")
        return self._bluez

    async def start(self) -> str:
        """Start the bus and the fake BlueZ; returns the bus address."""
        address = await self._bus.start()
        bluez = FakeBluez(address, stale_after=self._stale_after)
        try:
            await bluez.start()
        except BaseException:
            await self._bus.stop()
            raise
        self._bluez = bluez
        return address

    async def stop(self) -> None:
        """Remove every device, leave the bus and stop the daemon (temp dir removed)."""
        bluez, self._bluez = self._bluez, None
        try:
            if bluez is not None:
                await bluez.stop()
        finally:
            await self._bus.stop()

    async def __aenter__(self) -> SimWorld:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    # --- kinds and devices -------------------------------------------------------------

    def register_kind(self, kind: str, factory: Factory, demo: bool) -> None:
        """Register a device kind for this world only."""
        self.kinds[kind] = KindSpec(kind, factory, demo)

    def add_device(self, kind: str, options: Mapping[str, Any] | None = None) -> Peripheral:
        """Build a device of a registered kind and put it in range; ActionError on bad input."""
        spec = self.kinds.get(kind) if isinstance(kind, str) else None
        if spec is None:
            known = ", ".join(sorted(self.kinds)) or "none"
            raise ActionError(f"unknown device kind {kind!r} (known: {known})")
        rest = dict(options or {})
        address = self._take_address(rest.pop("address", None))
        name = rest.pop("name", None)
        if name is not None and (
            not isinstance(name, str) or not name or len(name.encode()) > MAX_NAME_BYTES
        ):
            raise ActionError(f"'name' must be a text of 1 to {MAX_NAME_BYTES} bytes")
        rssi = rest.pop("rssi", None)
        if rssi is not None and (
            isinstance(rssi, bool) or not isinstance(rssi, int) or not -127 <= rssi <= 20
        ):
            raise ActionError("'rssi' must be an integer from -127 to 20")
        peripheral = spec.factory(address, rest)
        if name is not None:
            peripheral.name = name
        if rssi is not None:
            peripheral.rssi = rssi
        self.bluez.add_peripheral(peripheral)
        return peripheral

    def _take_address(self, address: object) -> str:
        taken = self.bluez.peripherals
        if address is None:
            return random_address(taken)
        if not isinstance(address, str) or not ADDRESS_RE.match(address.upper()):
            raise ActionError("'address' must look like AA:BB:CC:DD:EE:FF")
        if address.upper() in taken:
            raise ActionError(f"a device with address {address.upper()} exists already")
        return address.upper()

    async def remove_device(self, address: str) -> None:
        """Take a device out of the world for good; UnknownDeviceError if there is none."""
        peripheral = self.require(address)
        await self.bluez.remove_peripheral(peripheral.address)

    def devices(self) -> list[Peripheral]:
        """Every device in the world, in the order they were added."""
        return list(self.bluez.peripherals.values()) if self._bluez is not None else []

    def get(self, address: str) -> Peripheral | None:
        """The device with that address (any case), or None."""
        if self._bluez is None:
            return None
        return self._bluez.peripherals.get(address.upper())

    def require(self, address: str) -> Peripheral:
        """The device with that address; UnknownDeviceError if there is none."""
        peripheral = self.get(address)
        if peripheral is None:
            raise UnknownDeviceError(f"no device with address {address}")
        return peripheral

    def perform(self, address: str, action: str, params: dict[str, Any]) -> dict[str, Any]:
        """Run a control action on one device; ActionError/UnknownDeviceError on bad input."""
        return self.require(address).perform(action, params)

    def demo_set(self) -> list[Peripheral]:
        """Add one device of every kind registered with demo=True."""
        return [self.add_device(spec.kind) for spec in self.kinds.values() if spec.demo]

    def describe(self) -> list[dict[str, Any]]:
        """Every device as the control API lists it."""
        return [describe_device(p) for p in self.devices()]


def describe_device(peripheral: Peripheral) -> dict[str, Any]:
    """A device's describe() plus the sorted names of its control actions."""
    return {**peripheral.describe(), "actions": sorted(peripheral.actions())}
