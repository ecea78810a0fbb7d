"""A LockManager against the simulated world: one virtual TTLock, one virtual Nuki, a store."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

from ttlock_nuki_addon.ble.bleak_transport import BleakTransport
from ttlock_nuki_addon.ble.link import LinkTimings
from ttlock_nuki_addon.ble.scanner import Scanner
from ttlock_nuki_addon.ble.transport import GattTransport
from ttlock_nuki_addon.manager import LockManager
from ttlock_nuki_addon.manager_events import DiscoveryUpdated, ManagerEvent
from ttlock_nuki_addon.params import PairingParams
from ttlock_nuki_addon.sim.nuki import VirtualNuki, create_nuki
from ttlock_nuki_addon.sim.ttlock import VirtualTTLock
from ttlock_nuki_addon.sim.world import SimWorld
from ttlock_nuki_addon.snapshot import Brand, Discovery, LockSnapshot
from ttlock_nuki_addon.store import Store

TT_ADDRESS = "38:38:E5:1D:71:FE"
TT_ID = "3838e51d71fe"
NUKI_ADDRESS = "54:D2:72:33:C3:35"
NUKI_ID = "54d27233c335"
NUKI_PIN = "4711"
WAIT = 15.0  # guards against hangs only; nothing asserts how fast anything is
FAST = LinkTimings(connect_timeout=10, request_timeout=3, write_timeout=5, idle_disconnect=1.0)
E = TypeVar("E")


async def wait_for(predicate: Callable[[], bool], timeout: float = WAIT) -> None:
    """Poll until `predicate` holds (bounded)."""
    async with asyncio.timeout(timeout):
        while not predicate():
            await asyncio.sleep(0.02)


class Rig:
    """The world, two unpaired virtual locks, one store, and managers with their events."""

    def __init__(self, world: SimWorld, data: Path) -> None:
        self.world = world
        self.store = Store(data)
        self.ttlock = VirtualTTLock(TT_ADDRESS, wake_seconds=300)
        self.nuki: VirtualNuki = create_nuki(
            "nuki-2", NUKI_ADDRESS, {"security_pin": int(NUKI_PIN), "motor_ms": 300}
        )
        world.bluez.add_peripheral(self.ttlock)
        world.bluez.add_peripheral(self.nuki)
        self.events: list[ManagerEvent] = []
        self.managers: list[LockManager] = []
        self.scanner = Scanner()

    def transport(self, address: str) -> GattTransport:
        return BleakTransport(address, resolver=self.scanner.ble_device, find_timeout=2.0)

    async def start(self, **options: Any) -> LockManager:
        """A new manager (with a new scanner) on the rig's store, started."""
        self.scanner = Scanner()
        options.setdefault("availability_seconds", 30.0)
        options.setdefault("timings", FAST)
        options.setdefault("driver_options", {Brand.NUKI: {"busy_backoff": (0.1, 0.2)}})
        manager = LockManager(self.store, self.scanner, self.transport, **options)
        manager.subscribe(self.events.append)
        self.managers.append(manager)
        await manager.start()
        return manager

    async def stop_all(self) -> None:
        for manager in self.managers:
            await manager.stop()

    def of(self, kind: type[E]) -> list[E]:
        """The events of one type, in order."""
        return [event for event in self.events if isinstance(event, kind)]

    async def next_event(self, kind: type[E], predicate: Callable[[E], bool]) -> E:
        """The first event of `kind` from now on that satisfies `predicate`."""
        start = len(self.events)

        def found() -> E | None:
            for event in self.events[start:]:
                if isinstance(event, kind) and predicate(event):
                    return event
            return None

        await wait_for(lambda: found() is not None)
        result = found()
        assert result is not None
        return result

    async def discovered(
        self, manager: LockManager, address: str, predicate: Callable[[Discovery], bool]
    ) -> Discovery:
        """The manager's discovery of `address` once it satisfies `predicate`."""

        def match() -> Discovery | None:
            for found in manager.discoveries():
                if found.address == address and predicate(found):
                    return found
            return None

        await wait_for(lambda: match() is not None)
        result = match()
        assert result is not None
        return result

    def published_discoveries(self) -> list[tuple[Discovery, ...]]:
        return [event.discoveries for event in self.of(DiscoveryUpdated)]

    async def pair_ttlock(self, manager: LockManager, name: str = "Front door") -> LockSnapshot:
        self.ttlock.touch()
        await self.discovered(manager, TT_ADDRESS, lambda d: d.pairable)
        return await manager.pair(TT_ADDRESS, Brand.TTLOCK, PairingParams(name=name))

    async def pair_nuki(self, manager: LockManager, name: str = "Back door") -> LockSnapshot:
        self.nuki.press_button(6)
        await self.discovered(manager, NUKI_ADDRESS, lambda d: d.pairable)
        return await manager.pair(NUKI_ADDRESS, Brand.NUKI, PairingParams(name, NUKI_PIN))


async def gathered(*calls: Awaitable[Any]) -> list[Any]:
    """Run calls concurrently, bounded."""
    return await asyncio.wait_for(asyncio.gather(*calls), WAIT * 2)
