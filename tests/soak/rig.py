"""The soak's world: five virtual locks, a mosquitto, the add-on in-process and its two clients.

The add-on is `app.Addon` served by `app.serve` on this event loop (so its tasks can be counted
and its memory traced), with short link timings; the locks are paired through the websocket API
while the radio is clean, then the fault knobs go on.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from five_locks import SPECS, LockSpec
from mosquitto import HOST, Mosquitto

from ttlock_nuki_addon import app
from ttlock_nuki_addon.ble.link import LinkTimings
from ttlock_nuki_addon.ble.scanner import Scanner
from ttlock_nuki_addon.options import load_options
from ttlock_nuki_addon.sim.nuki import VirtualNuki, create_nuki
from ttlock_nuki_addon.sim.peripheral import Peripheral
from ttlock_nuki_addon.sim.ttlock import VirtualTTLock
from ttlock_nuki_addon.sim.world import SimWorld
from ttlock_nuki_addon.snapshot import Brand
from ttlock_nuki_addon.web import WebPanel

from .clients import BridgeWarnings, HomeAssistant, WsClient

WAIT = 60.0  # guards against hangs only
TIMINGS = LinkTimings(connect_timeout=5, request_timeout=0.6, write_timeout=2, idle_disconnect=1.0)
DRIVER_OPTIONS = {
    Brand.NUKI: {"busy_backoff": (0.1, 0.2)},
    Brand.TTLOCK: {"enrol_timeout": 6.0},
}
NUKI_MOTOR_MS = 150
BRIDGE_LOGGER = "ttlock_nuki_addon.mqtt.bridge_actions"


def build_device(spec: LockSpec) -> Peripheral:
    """The virtual lock for one spec, unpaired."""
    if spec.brand is Brand.TTLOCK:
        lock = VirtualTTLock(spec.address, wake_seconds=600)
        lock.enrol_timeout = 8.0
        lock.fingerprint_touches = 2
        return lock
    assert spec.pin is not None
    options = {"security_pin": int(spec.pin), "motor_ms": NUKI_MOTOR_MS, "pairing_seconds": 600}
    return create_nuki(spec.kind, spec.address, options)


async def wait_for(predicate: Callable[[], bool], what: str, timeout: float = WAIT) -> None:
    """Poll `predicate` until it holds; AssertionError naming `what` after `timeout`."""
    try:
        async with asyncio.timeout(timeout):
            while not predicate():
                await asyncio.sleep(0.05)
    except TimeoutError:
        raise AssertionError(f"timed out waiting for {what}") from None


class SoakRig:
    """Everything the soak runs against, started and stopped as one."""

    def __init__(self, world: SimWorld, base: Path) -> None:
        self.world, self.base = world, base
        self.broker = Mosquitto()
        self.devices: dict[str, Peripheral] = {}
        self.addon: app.Addon | None = None
        self.ws: WsClient | None = None
        self.ha: HomeAssistant | None = None
        self.warnings = BridgeWarnings()
        self._stop = asyncio.Event()
        self._serving: asyncio.Task[int] | None = None

    # --- parts ----------------------------------------------------------------------------

    def ttlock(self, spec: LockSpec) -> VirtualTTLock:
        """The virtual TTLock of `spec`."""
        device = self.devices[spec.lock_id]
        assert isinstance(device, VirtualTTLock)
        return device

    def nuki(self, spec: LockSpec) -> VirtualNuki:
        """The virtual Nuki of `spec`."""
        device = self.devices[spec.lock_id]
        assert isinstance(device, VirtualNuki)
        return device

    @property
    def client(self) -> WsClient:
        """The panel client."""
        assert self.ws is not None
        return self.ws

    @property
    def home(self) -> HomeAssistant:
        """The MQTT client."""
        assert self.ha is not None
        return self.ha

    @property
    def running(self) -> app.Addon:
        """The add-on."""
        assert self.addon is not None
        return self.addon

    # --- start and stop -------------------------------------------------------------------

    async def start(self) -> None:
        """World devices, broker, add-on, clients; then every lock paired on a clean radio."""
        for spec in SPECS:
            device = build_device(spec)
            self.world.bluez.add_peripheral(device)
            self.devices[spec.lock_id] = device
        await self.broker.start()
        options = load_options(
            [
                "--data-dir", str(self.base / "data"), "--port", "0", "--dev",
                "--mqtt-url", f"mqtt://{HOST}:{self.broker.port}", "--log-level", "warning",
            ],
            {},
            addon_dir=self.base / "none",
        )  # fmt: skip
        manager_options: dict[str, Any] = {"timings": TIMINGS, "driver_options": DRIVER_OPTIONS}
        addon = self.addon = app.Addon(options, scanner=Scanner(), manager_options=manager_options)
        logging.getLogger(BRIDGE_LOGGER).addHandler(self.warnings)
        self._serving = asyncio.create_task(app.serve(addon, self._stop), name="soak: add-on")
        await wait_for(lambda: addon.bridge is not None and addon.bridge.connected, "MQTT")
        panel = next(s for s in addon.services if isinstance(s, WebPanel))
        assert await asyncio.wait_for(panel.started(), WAIT)
        self.ha = HomeAssistant(HOST, self.broker.port)
        await self.ha.start()
        self.ws = WsClient(f"http://127.0.0.1:{panel.port}/api/ws")
        await self.ws.start()
        for spec in SPECS:
            await self.pair(spec)

    async def pair(self, spec: LockSpec) -> None:
        """Make the lock pairable, wait for the add-on to hear it, pair it over the websocket."""
        device = self.devices[spec.lock_id]
        if isinstance(device, VirtualTTLock):
            device.touch()
        else:
            assert isinstance(device, VirtualNuki)
            device.press_button(6)
        manager = self.running.manager

        def pairable() -> bool:
            return any(d.address == spec.address and d.pairable for d in manager.discoveries())

        await wait_for(pairable, f"{spec.name} to be pairable")
        params: dict[str, Any] = {"address": spec.address, "brand": spec.brand.value}
        params |= {"name": spec.name} | ({"pin": spec.pin} if spec.pin else {})
        snapshot = await self.client.ok("lock.pair", **params)
        assert snapshot["id"] == spec.lock_id

    async def stop(self) -> None:
        """Clients, add-on (clean stop), broker; the handler comes off the bridge's logger."""
        if self.ws is not None:
            await self.ws.close()
        if self.ha is not None:
            await self.ha.close()
        self._stop.set()
        if self._serving is not None:
            assert await asyncio.wait_for(self._serving, WAIT) == 0
        logging.getLogger(BRIDGE_LOGGER).removeHandler(self.warnings)
        await self.broker.stop()

    # --- the radio ------------------------------------------------------------------------

    def set_faults(self, knobs: dict[str, Any]) -> None:
        """Apply fault knobs to every virtual lock (through the control action)."""
        for device in self.devices.values():
            device.perform("faults", knobs)

    def links_idle(self) -> bool:
        """Whether no virtual lock has a connection up."""
        return not any(device.connected for device in self.devices.values())
