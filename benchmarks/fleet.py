"""The benchmark's world: five paired virtual locks (2 TTLock, 3 Nuki), mosquitto, the add-on.

`Fleet` is an `AppRig` (tests/app_rig.py) with five locks instead of two: they are paired into
the data directory by an in-process LockManager on a clean, instant radio, then the add-on runs
as a subprocess (`launch`) on the world's D-Bus with the panel on a known port. Every lock
records the commands it received (`Tally`) and, through bench_unlock's `Probe`, its writes,
messages and link-ups. Touch world objects only through `call`/`run` (they live on its loop).
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))  # the test rigs

from app_rig import AddonProcess, AppRig, addon_env, wait_until
from bench_unlock import Probe, install_probe
from five_locks import SPECS, LockSpec
from manager_rig import FAST
from mosquitto import HOST, free_port
from outside import WsClient

from ttlock_nuki_addon.ble.bleak_transport import BleakTransport
from ttlock_nuki_addon.ble.scanner import Scanner
from ttlock_nuki_addon.credentials import CredentialKind, CredentialSpec
from ttlock_nuki_addon.manager import LockManager
from ttlock_nuki_addon.nuki.advert import COMPANY_ID as NUKI_COMPANY
from ttlock_nuki_addon.nuki.advert import NEW_STATE_BIT
from ttlock_nuki_addon.nuki.codec import Command as NukiCommand
from ttlock_nuki_addon.params import PairingParams
from ttlock_nuki_addon.sim.nuki import VirtualNuki, create_nuki
from ttlock_nuki_addon.sim.peripheral import Peripheral
from ttlock_nuki_addon.sim.ttlock import VirtualTTLock
from ttlock_nuki_addon.snapshot import Brand
from ttlock_nuki_addon.store import Store
from ttlock_nuki_addon.ttlock.advert import COMPANY_ID as TTLOCK_COMPANY
from ttlock_nuki_addon.ttlock.advert import AdvertFlag
from ttlock_nuki_addon.ttlock.codec import Command as TTCommand

Json = Any
QUIET = 0.3  # seconds without radio traffic: the add-on's follow-up reads are done
SETTLE = 20.0  # at most this long for links to close or traffic to stop (guards hangs only)


TTLOCK, NUKI = SPECS[0], SPECS[2]  # the lock of each brand the per-brand figures use
PINS = {Brand.TTLOCK: ("90817263", "4455667"), Brand.NUKI: ("345678", "987654")}


def build_device(spec: LockSpec) -> Peripheral:
    """The virtual lock of one spec, unpaired; Nuki motors take no time (radio time only)."""
    if spec.brand is Brand.TTLOCK:
        return VirtualTTLock(spec.address, wake_seconds=600)
    assert spec.pin is not None
    options = {"security_pin": int(spec.pin), "motor_ms": 0, "pairing_seconds": 600}
    return create_nuki(spec.kind, spec.address, options)


@dataclass
class Tally:
    """The commands one virtual lock received (perf_counter stamp, name), e.g. CHECK_ADMIN."""

    commands: list[tuple[float, str]] = field(default_factory=list)

    def names(self, start: int, until: float = float("inf")) -> list[str]:
        """The command names from index `start` received up to `until`."""
        return [name for at, name in self.commands[start:] if at <= until]


def install_tally(device: Peripheral) -> Tally:
    """Record each decrypted command the lock handles (call on the world's loop)."""
    tally = Tally()
    if isinstance(device, VirtualTTLock):
        dispatch = device.dispatch

        def ttlock_dispatch(command: int, payload: bytes) -> Any:
            tally.commands.append((time.perf_counter(), command_name(TTCommand, command)))
            return dispatch(command, payload)

        device.dispatch = ttlock_dispatch  # type: ignore[method-assign]
    else:
        assert isinstance(device, VirtualNuki)
        core = device.core
        nuki_dispatch = core._dispatch

        def recorded(request: Any) -> None:
            name = command_name(NukiCommand, request.command)
            if request.command == NukiCommand.REQUEST_DATA and len(request.payload) >= 2:
                wanted = int.from_bytes(request.payload[:2], "little")
                name = f"{name}({command_name(NukiCommand, wanted)})"
            tally.commands.append((time.perf_counter(), name))
            nuki_dispatch(request)

        core._dispatch = recorded  # type: ignore[method-assign]
    return tally


def command_name(enum: type[TTCommand] | type[NukiCommand], code: int) -> str:
    """The spec's name of a command code, or its hex value."""
    try:
        return enum(code).name
    except ValueError:
        return f"0x{code:02X}"


def announces(device: Peripheral) -> bool:
    """Whether the lock's advert asks a listener to connect: new records (TTLock), new state."""
    data = device.manufacturer_data
    ttlock, nuki = data.get(TTLOCK_COMPANY, b""), data.get(NUKI_COMPANY, b"")
    return bool(len(ttlock) > 1 and ttlock[1] & AdvertFlag.NEW_RECORDS) or bool(
        nuki and nuki[-1] & NEW_STATE_BIT
    )


class Fleet(AppRig):
    """World + five paired virtual locks + mosquitto + recorder + the add-on subprocess."""

    def __init__(self, base: Path) -> None:
        super().__init__(base)
        self.devices: dict[str, Peripheral] = {}
        self.probes: dict[str, Probe] = {}
        self.tallies: dict[str, Tally] = {}
        self.port = 0
        self.ws: WsClient | None = None

    def prepare(self) -> None:
        """Start the world, pair the five locks into the data dir, start broker and recorder."""
        self.run(self._setup(), timeout=180)

    async def _setup(self) -> None:
        await self.world.start()
        os.environ["DBUS_SYSTEM_BUS_ADDRESS"] = self.world.bus_address  # bleak, for pairing
        for spec in SPECS:
            device = build_device(spec)
            self.world.bluez.add_peripheral(device)
            self.devices[spec.lock_id] = device
        scanner = Scanner()
        manager = LockManager(
            Store(self.data_dir),
            scanner,
            lambda address: BleakTransport(address, resolver=scanner.ble_device, find_timeout=2),
            availability_seconds=60.0,
            timings=FAST,
        )
        await manager.start()
        try:
            for spec in SPECS:
                await self._pair(manager, spec)
        finally:
            await manager.stop()
        for lock_id, device in self.devices.items():
            self.probes[lock_id] = install_probe(device)
            self.tallies[lock_id] = install_tally(device)
        await self.broker.start()
        await self.recorder.start()

    async def _pair(self, manager: LockManager, spec: LockSpec) -> None:
        device = self.devices[spec.lock_id]
        if isinstance(device, VirtualTTLock):
            device.touch()
        else:
            assert isinstance(device, VirtualNuki)
            device.press_button(6)
        async with asyncio.timeout(SETTLE):
            while not any(d.address == spec.address and d.pairable for d in manager.discoveries()):
                await asyncio.sleep(0.02)
        await manager.pair(spec.address, spec.brand, PairingParams(spec.name, spec.pin))
        for number, code in enumerate(PINS[spec.brand], 1):
            pin = CredentialSpec(CredentialKind.PIN, f"Guest {number}", code)
            await manager.add_credential(spec.lock_id, pin)

    # --- the add-on -------------------------------------------------------------------------

    def launch(self, extra: Sequence[str] = ()) -> AddonProcess:
        """Start the add-on (dev mode, info log) on a fresh port; it becomes `self.addon`."""
        self.port = free_port()
        args = [
            "--data-dir", str(self.data_dir), "--mqtt-url", f"mqtt://{HOST}:{self.broker.port}",
            "--log-level", "info", "--port", str(self.port), "--dev", *extra,
        ]  # fmt: skip
        self.addon = AddonProcess(args, addon_env(self.world.bus_address), self.base)
        self.addon.start()
        return self.addon

    @property
    def pid(self) -> int:
        """The running add-on's process id."""
        assert self.addon is not None and self.addon.process is not None
        return self.addon.process.pid

    def stop_addon(self) -> int:
        """SIGTERM the add-on; its exit code."""
        assert self.addon is not None
        return self.addon.terminate()

    def connect(self) -> Json:
        """Open the panel websocket; the hello push's data."""
        self.ws = WsClient(f"http://{HOST}:{self.port}/api/ws")
        return self.run(self.ws.start())

    def disconnect(self) -> None:
        """Close the panel websocket."""
        if self.ws is not None:
            self.run(self.ws.close())
            self.ws = None

    # --- the radio --------------------------------------------------------------------------

    def set_link(self, connect_ms: int, reply_ms: int) -> None:
        """Every lock's connect time and per-message delay."""

        def apply() -> None:
            for device in self.devices.values():
                device.link.connect_ms, device.link.reply_ms = connect_ms, reply_ms

        self.call(apply)

    def connected(self, lock_id: str) -> bool:
        """Whether the lock has a link up or one is being made."""

        def busy() -> bool:
            device = self.devices[lock_id]
            radio = self.world.bluez.devices.get(device.address)
            return device.connected or (radio is not None and radio.connecting is not None)

        return self.call(busy)

    def quiet(self, lock_ids: Sequence[str], seconds: float = QUIET) -> None:
        """Wait until none of the locks saw radio traffic for `seconds`."""

        def calm() -> bool:
            now = time.perf_counter()
            return all(now - self.probes[i].last_activity() >= seconds for i in lock_ids)

        wait_until(calm, timeout=SETTLE, what="the radio to fall quiet")

    def drop(self, lock_id: str, quiet: float = QUIET) -> None:
        """Make the link cold: the lock drops it (as idle real locks do) and it stays down.

        A lock whose adverts announce news (new log records, a new state) is read by the
        add-on at once; that read is let through first, so the next request finds no link.
        """
        device = self.devices[lock_id]
        for _ in range(5):
            self.quiet([lock_id], quiet)
            self.call(lambda: device.drop_link() if device.connected else None)
            wait_until(lambda: not self.connected(lock_id), timeout=SETTLE, what="link down")
            if self.call(lambda: announces(device)):
                wait_until(
                    lambda: self.connected(lock_id) or not self.call(lambda: announces(device)),
                    timeout=SETTLE,
                    what="the add-on to read what the lock announced",
                )
                continue
            time.sleep(quiet)  # the add-on hears of the drop over D-Bus meanwhile
            if not self.connected(lock_id):
                return
        raise AssertionError(f"the link to {lock_id} does not stay down")

    def idle(self, lock_ids: Sequence[str]) -> None:
        """Wait until the add-on closed the links itself, read what adverts announced, and quiet."""

        def settled() -> bool:
            devices = [self.devices[i] for i in lock_ids]
            announced = self.call(lambda: any(announces(device) for device in devices))
            return not announced and not any(self.connected(i) for i in lock_ids)

        wait_until(settled, timeout=SETTLE * 2, what="idle links")
        self.quiet(lock_ids)
