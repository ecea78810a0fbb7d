"""Adverts: how many the add-on processes per second and what each costs in CPU.

In process: the add-on (`app.Addon`, with MQTT and the panel) on a copy of the benchmark's data
directory gets synthetic adverts straight into `Scanner.feed` - the radio-independent path:
brand parsers, the device log, `LockManager` with five paired locks, the MQTT bridge. The
scanner has no radio and links cannot connect, so nothing but adverts reaches the add-on.
Through BlueZ: the five virtual locks advertise every 10 ms over the fake BlueZ to the add-on
subprocess, which adds D-Bus and bleak to the path; its CPU per advert is measured outside.
"""

from __future__ import annotations

import asyncio
import random
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fleet import Fleet
from mosquitto import HOST
from outside import cpu_seconds

from ttlock_nuki_addon import app
from ttlock_nuki_addon.ble.scanner import RawAdvert, Scanner
from ttlock_nuki_addon.ble.transport import GattTransport, NotifyCallback
from ttlock_nuki_addon.errors import NotReachableError
from ttlock_nuki_addon.nuki.advert import COMPANY_ID as NUKI_COMPANY
from ttlock_nuki_addon.nuki.advert import NEW_STATE_BIT
from ttlock_nuki_addon.options import load_options
from ttlock_nuki_addon.sim.peripheral import Peripheral
from ttlock_nuki_addon.ttlock.advert import COMPANY_ID as TTLOCK_COMPANY
from ttlock_nuki_addon.ttlock.advert import AdvertFlag
from ttlock_nuki_addon.web import WebPanel

Json = Any
DRAIN = 1.0  # seconds after feeding for what the adverts scheduled; idle costs ~nothing here
CHUNK = 100  # adverts fed between two turns of the event loop (bleak delivers them one by one)
FOREIGN = (  # what else a radio hears: phones, laptops, sensors (never a lock)
    RawAdvert("4C:11:22:33:44:01", None, -70, {0x004C: bytes.fromhex("1005031c7a1b2c")}),
    RawAdvert("4C:11:22:33:44:02", None, -80, {0x004C: bytes.fromhex("0215" + "ab" * 21)}),
    RawAdvert("06:11:22:33:44:03", "Surface", -75, {0x0006: bytes.fromhex("030080" + "00" * 20)}),
    RawAdvert(
        "A4:C1:38:00:00:04",
        "LYWSD03MMC",
        -65,
        service_data={"0000fe95-0000-1000-8000-00805f9b34fb": bytes(range(16))},
    ),
)


@dataclass(frozen=True, slots=True)
class Template:
    """One lock's advertising data, without the flags that ask the add-on to connect."""

    address: str
    name: str | None
    rssi: int
    manufacturer_data: dict[int, bytes]
    service_data: dict[str, bytes]
    service_uuids: tuple[str, ...]


def template(device: Peripheral) -> Template:
    """What the device advertises now, 'new records' (TTLock) and 'new state' (Nuki) cleared."""
    data = dict(device.manufacturer_data)
    if TTLOCK_COMPANY in data and len(data[TTLOCK_COMPANY]) > 1:
        payload = bytearray(data[TTLOCK_COMPANY])
        payload[1] &= ~AdvertFlag.NEW_RECORDS & 0xFF
        data[TTLOCK_COMPANY] = bytes(payload)
    if data.get(NUKI_COMPANY):
        beacon = bytearray(data[NUKI_COMPANY])
        beacon[-1] &= ~NEW_STATE_BIT & 0xFF
        data[NUKI_COMPANY] = bytes(beacon)
    return Template(
        device.address,
        device.name,
        device.rssi,
        data,
        dict(device.service_data),
        tuple(device.service_uuids),
    )


class FeedScanner(Scanner):
    """A scanner without a radio: adverts arrive only through `feed`."""

    def __init__(self) -> None:
        super().__init__()
        self.on = False

    @property
    def running(self) -> bool:
        """Whether 'scanning' was started."""
        return self.on

    async def start(self) -> None:
        """Pretend to start scanning."""
        self.on = True

    async def stop(self) -> None:
        """Pretend to stop scanning."""
        self.on = False


class NoRadio:
    """A transport that never connects; counts the attempts (there should be none)."""

    attempts = 0

    def __init__(self, address: str) -> None:
        self.address = address

    @property
    def is_connected(self) -> bool:
        """Never."""
        return False

    async def connect(self, on_disconnect: Callable[[], None]) -> None:
        """Fail at once."""
        NoRadio.attempts += 1
        raise NotReachableError("The advert benchmark has no radio.")

    def has_characteristic(self, uuid: str) -> bool:
        """Nothing is offered."""
        return False

    async def start_notify(self, uuid: str, callback: NotifyCallback) -> None:
        """Unreachable."""
        raise NotReachableError("The advert benchmark has no radio.")

    async def write(self, uuid: str, data: bytes, response: bool) -> None:
        """Unreachable."""
        raise NotReachableError("The advert benchmark has no radio.")

    async def disconnect(self) -> None:
        """Nothing to do."""


def no_radio(address: str) -> GattTransport:
    """The transport factory of the in-process add-on."""
    return NoRadio(address)


def from_template(t: Template) -> RawAdvert:
    """One advert as the scanner builds it, with radio noise on the RSSI."""
    return RawAdvert(
        t.address,
        t.name,
        t.rssi + random.randint(-3, 3),
        t.manufacturer_data,
        t.service_data,
        t.service_uuids,
        time=time.monotonic(),
    )


async def _feed(scanner: Scanner, make: Callable[[int], RawAdvert], count: int) -> dict[str, Json]:
    """Feed `count` adverts; wall time of the feeding, CPU of this thread including the drain."""
    cpu, began = time.thread_time(), time.perf_counter()
    for start in range(0, count, CHUNK):
        for index in range(start, min(count, start + CHUNK)):
            scanner.feed(make(index))
        await asyncio.sleep(0)
    fed = time.perf_counter() - began
    await asyncio.sleep(DRAIN)  # whatever the adverts scheduled (MQTT publishes) runs now
    used = time.thread_time() - cpu
    return {
        "adverts": count,
        "per_second": round(count / fed),
        "cpu_us_per_advert": round(used / count * 1e6, 1),
    }


async def in_process(data_dir: Path, broker_port: int, locks: list[Template], count: int) -> Json:
    """The add-on in this process, fed `count` lock adverts, then `count` foreign ones."""
    options = load_options(
        [
            "--data-dir", str(data_dir), "--port", "0", "--log-level", "warning",
            "--mqtt-url", f"mqtt://{HOST}:{broker_port}",
        ],
        {},
        addon_dir=data_dir / "none",
    )  # fmt: skip
    scanner = FeedScanner()
    NoRadio.attempts = 0
    addon = app.Addon(options, scanner=scanner, transport_factory=no_radio)
    stop = asyncio.Event()
    serving = asyncio.create_task(app.serve(addon, stop), name="bench: in-process add-on")
    try:
        async with asyncio.timeout(30):
            while addon.bridge is None or not addon.bridge.connected:
                await asyncio.sleep(0.02)
            panel = next(s for s in addon.services if isinstance(s, WebPanel))
            assert await panel.started()
        await _feed(scanner, lambda i: from_template(locks[i % len(locks)]), min(count, 500))
        results: dict[str, Json] = {
            "foreign": await _feed(scanner, lambda i: FOREIGN[i % len(FOREIGN)], count),
            "locks": await _feed(scanner, lambda i: from_template(locks[i % len(locks)]), count),
        }
    finally:
        stop.set()
        code = await asyncio.wait_for(serving, 30)
    results["connect_attempts"] = NoRadio.attempts
    results["exit_code"] = code
    return results


def measure_in_process(fleet: Fleet, count: int) -> Json:
    """Copy the data dir (the add-on subprocess must be stopped) and feed the add-on in process."""
    locks = fleet.call(lambda: [template(device) for device in fleet.devices.values()])
    copy = fleet.base / "adverts-data"
    shutil.copytree(fleet.data_dir, copy)
    return asyncio.run(in_process(copy, fleet.broker.port, locks, count))


def through_bluez(fleet: Fleet, seconds: float, idle_rate: float) -> Json:
    """Every lock advertises every 10 ms for `seconds`; the add-on's CPU per advert heard."""
    heard = [0]

    def fast() -> None:
        for device in fleet.devices.values():
            base = device.advert_rssi

            def counted(base: Callable[[], int] = base) -> int:
                heard[0] += 1
                return base()

            device.advert_rssi = counted  # type: ignore[method-assign]
            device.advert_interval = 0.01

    def slow() -> int:
        for device in fleet.devices.values():
            device.advert_interval = 1.0
            del device.advert_rssi  # the class's method again
        return heard[0]

    fleet.call(fast)
    time.sleep(1.2)  # every advert loop woke from its 1 s sleep and runs at 10 ms now
    first, cpu, began = fleet.call(lambda: heard[0]), cpu_seconds(fleet.pid), time.perf_counter()
    time.sleep(seconds)
    count = fleet.call(slow) - first
    window = time.perf_counter() - began
    time.sleep(0.5)  # the add-on reads what is still queued on D-Bus
    used = cpu_seconds(fleet.pid) - cpu - idle_rate * (time.perf_counter() - began)
    return {
        "adverts": count,
        "seconds": round(window, 2),
        "per_second_sent": round(count / window),
        "cpu_us_per_advert": round(used / max(count, 1) * 1e6, 1),
        "cpu_share": round(used / window, 3),
    }
