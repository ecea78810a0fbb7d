"""Composition root: options -> logging -> store -> scanner -> manager -> MQTT bridge (-> web).

``python -m ttlock_nuki_addon`` runs `main`. The first SIGTERM or SIGINT stops cleanly: services
(the MQTT bridge publishes ``offline``) first, then the manager (links closed). Every store write
is atomic and fsynced when it happens, so nothing is left to flush. A second signal while stopping
exits at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol, TypeVar

from . import __version__
from .ble.bleak_transport import BleakTransport
from .ble.scanner import ParsedAdvert, RawAdvert, Scanner, shared_scanner
from .ble.transport import GattTransport, TransportFactory
from .broker import MqttSettings, resolve_mqtt
from .errors import LockError, StoreError
from .log_redact import SecretValue, register_secret, setup_logging
from .manager import LockManager
from .manager_events import (
    DiscoveryUpdated,
    LockActivity,
    LockAdded,
    LockRemoved,
    LockUpdated,
    ManagerEvent,
    ScanState,
    Unsubscribe,
)
from .mqtt.bridge import MqttBridge
from .options import Options, OptionsError, load_options
from .params import PairAs, PairingParams
from .snapshot import Brand
from .store import Document, JsonObject, Store
from .web import Backups, WebPanel

_LOGGER = logging.getLogger(__name__)
_T = TypeVar("_T")

EXIT_FAILED = 1
EXIT_USAGE = 2
SHUTDOWN_SECONDS = 8.0  # the Supervisor kills an add-on 10 s after SIGTERM by default
_HEX_KEYS = ("aes_key", "shared_key")  # TTLock AES key, Nuki shared key (hex in the record)
_U32_KEYS = ("admin_ps", "unlock_key")  # TTLock admin keys, u32 on the wire
_TEXT_KEYS = ("admin_passcode",)  # TTLock admin code (digits)
_PIN_CODE_KEYS = ("code", "original")  # TTLock keypad PINs in the credential book


# --- secrets held by the store -------------------------------------------------------------


def record_secrets(record: Mapping[str, object]) -> Iterator[tuple[SecretValue, int | None]]:
    """Every secret in one stored lock record, with its width in bytes on the wire (or None)."""
    for key in _HEX_KEYS:
        value = record.get(key)
        if isinstance(value, str):
            with contextlib.suppress(ValueError):
                yield bytes.fromhex(value), None
    for key in _U32_KEYS:
        value = record.get(key)
        if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 1 << 32:
            yield value, 4
    for key in _TEXT_KEYS:
        value = record.get(key)
        if isinstance(value, str) and value:
            yield value, None
    pin = record.get("security_pin")  # Nuki: u16, or a 6-digit u32 on 5th-gen locks
    if isinstance(pin, int) and not isinstance(pin, bool) and 0 <= pin < 1 << 32:
        if pin <= 0xFFFF:
            yield pin, 2
        yield pin, 4
        yield f"{pin:06d}", None
    for code in _pin_codes(record):
        yield code, None


def _pin_codes(record: Mapping[str, object]) -> Iterator[str]:
    credentials = record.get("credentials")
    pins = credentials.get("pin") if isinstance(credentials, dict) else None
    entries = pins.values() if isinstance(pins, dict) else ()
    for entry in entries:
        for key in _PIN_CODE_KEYS:
            code = entry.get(key) if isinstance(entry, dict) else None
            if isinstance(code, str) and code:
                yield code


def register_store_secrets(locks: Mapping[str, JsonObject]) -> None:
    """Mask every secret the stored lock records hold in all log output from now on."""
    for record in locks.values():
        for value, width in record_secrets(record):
            register_secret(value, width=width)


class SecretStore(Store):
    """The store; every secret it reads or writes is registered with the log filter at once."""

    def load(self) -> Document:
        """Read the document and register its secrets."""
        document = super().load()
        register_store_secrets(document["locks"])
        return document

    def update(self, fn: Callable[[Document], _T]) -> _T:
        """Write a change and register the secrets the new document holds."""
        result = super().update(fn)
        locks = {lock_id: self.get_lock(lock_id) or {} for lock_id in self.lock_ids()}
        register_store_secrets(locks)
        return result


def prepare_data_dir(path: Path) -> None:
    """Create the data directory (0700) if missing; keep the store files private (0600)."""
    if not path.exists():
        try:
            path.mkdir(mode=0o700, parents=True)
            path.chmod(0o700)  # mkdir's mode is masked by the umask
        except OSError as exc:
            raise StoreError(f"Cannot create {path}: {exc.strerror or exc}.") from exc
    elif not path.is_dir():
        raise StoreError(f"The data directory {path} is not a directory.")
    with contextlib.suppress(OSError):  # the Supervisor made /data; not ours (read-only): it works
        path.chmod(0o700)
    for name in ("store.json", "store.json.bak"):
        with contextlib.suppress(OSError):  # missing, or not ours: the store still works
            (path / name).chmod(0o600)


# --- what the log tells a person -------------------------------------------------------------


class EventLog:
    """Logs locks loaded, found, out of range and back, and (debug) their activity."""

    def __init__(self) -> None:
        self.heard: set[str] = set()
        self.available: dict[str, bool] = {}
        self.scanning = False

    def __call__(self, event: ManagerEvent) -> None:
        """One manager event."""
        if isinstance(event, LockAdded):
            snap = event.snapshot
            self.available[snap.id] = snap.available
            _LOGGER.info(
                "Lock %r (%s %s, %s) is paired with the add-on",
                snap.name, snap.brand.value, snap.model, snap.address,
            )  # fmt: skip
        elif isinstance(event, LockUpdated):
            snap = event.snapshot
            if self.available.get(snap.id) is not snap.available:
                self.available[snap.id] = snap.available
                where = "in range" if snap.available else "out of range (no adverts lately)"
                _LOGGER.info("Lock %r is %s", snap.name, where)
        elif isinstance(event, LockRemoved):
            self.available.pop(event.lock_id, None)
            _LOGGER.info("Lock %s was removed from the add-on", event.lock_id)
        elif isinstance(event, DiscoveryUpdated):
            for found in event.discoveries:
                if found.address not in self.heard:
                    self.heard.add(found.address)
                    _LOGGER.info(
                        "Found an unpaired %s lock %s %r (%s)",
                        found.brand.value, found.address, found.name, found.hint.value,
                    )  # fmt: skip
        elif isinstance(event, LockActivity):
            e = event.event
            who = e.credential_name or e.user or ""
            _LOGGER.debug("Lock %s: %s by %s %s", e.lock_id, e.kind.value, e.source.value, who)
        elif isinstance(event, ScanState) and event.scanning is not self.scanning:
            self.scanning = event.scanning
            _LOGGER.info("Bluetooth scan %s", "running" if event.scanning else "stopped")


class DeviceLog:
    """Logs (debug) each Bluetooth device the first time it is heard and when it is renamed."""

    def __init__(self) -> None:
        self.seen: dict[str, str | None] = {}

    def parse(self, raw: RawAdvert) -> RawAdvert | None:
        """Pass through adverts of devices that are new or renamed."""
        if raw.address in self.seen and self.seen[raw.address] == raw.name:
            return None
        self.seen[raw.address] = raw.name
        return raw

    def on_advert(self, parsed: ParsedAdvert[RawAdvert]) -> None:
        """Log one device."""
        raw = parsed.value
        companies = ", ".join(f"0x{cid:04x}" for cid in sorted(raw.manufacturer_data)) or "-"
        _LOGGER.debug(
            "Heard Bluetooth device %s name=%r rssi=%d manufacturer=%s services=%s",
            raw.address, raw.name, raw.rssi, companies, ",".join(raw.service_uuids) or "-",
        )  # fmt: skip


# --- the running add-on ----------------------------------------------------------------------


class Service(Protocol):
    """Something that runs beside the manager: the MQTT bridge now, the web panel next."""

    def start(self) -> None:
        """Start in the background."""

    async def stop(self) -> None:
        """Stop and end every task it started."""


class Addon:
    """The add-on's parts, started and stopped in order."""

    def __init__(
        self,
        options: Options,
        *,
        scanner: Scanner | None = None,
        transport_factory: TransportFactory | None = None,
        manager_options: Mapping[str, Any] | None = None,
    ) -> None:
        self.options = options
        self.store = SecretStore(options.data_dir)
        self.scanner = scanner if scanner is not None else shared_scanner(options.adapter)
        self.manager = LockManager(
            self.store,
            self.scanner,
            transport_factory or self._transport,
            availability_seconds=options.availability_timeout,
            **dict(manager_options or {}),
        )
        self.mqtt: MqttSettings | None = None
        self.bridge: MqttBridge | None = None
        self.services: list[Service] = []
        self._undo: list[Unsubscribe] = []

    def _transport(self, address: str) -> GattTransport:
        return BleakTransport(
            address, resolver=self.scanner.ble_device, adapter=self.options.adapter
        )

    def pairing_params(
        self,
        brand: Brand,
        name: str | None = None,
        pin: str | None = None,
        pair_as: PairAs | None = None,
    ) -> PairingParams:
        """Pairing parameters; a Nuki pairs in the options' role unless one is given."""
        role = pair_as or (self.options.nuki_pair_as if brand is Brand.NUKI else PairAs.BRIDGE)
        return PairingParams(name, pin, role)

    async def start(self) -> None:
        """Load the store, start the manager, connect MQTT if there is a broker (StoreError)."""
        options = self.options
        prepare_data_dir(options.data_dir)
        self.store.load()
        _LOGGER.info(
            "TTLock & Nuki add-on %s starting; data in %s, %d lock(s) stored",
            __version__, options.data_dir, len(self.store.lock_ids()),
        )  # fmt: skip
        self._undo.append(self.manager.subscribe(EventLog()))
        devices = DeviceLog()
        self._undo.append(self.scanner.register_parser("device-log", lambda _: True, devices.parse))
        self._undo.append(self.scanner.subscribe(devices.on_advert, parser="device-log"))
        await self.manager.start()
        self.mqtt = await resolve_mqtt(options)  # logs once why there is none
        if self.mqtt is not None:
            self.bridge = MqttBridge(self.manager, self.mqtt)
            self.services.append(self.bridge)
        panel = WebPanel(
            self.manager,
            port=options.port,
            dev=options.dev,
            version=__version__,
            backup=Backups(self.store),
        )
        self.services.append(panel)  # with or without a broker
        for service in self.services:
            service.start()

    async def stop(self) -> None:
        """Stop the services (MQTT `offline`), then the manager (links closed)."""
        while self.services:
            await self.services.pop().stop()
        await self.manager.stop()
        while self._undo:
            self._undo.pop()()


class Signals:
    """SIGTERM/SIGINT: the first asks for a clean stop; another one while stopping exits at once."""

    NAMES = (signal.SIGTERM, signal.SIGINT)

    def __init__(self, stop: asyncio.Event, exit_now: Callable[[int], object] = os._exit) -> None:
        self._stop, self._exit_now = stop, exit_now
        self.received: list[int] = []

    def install(self, loop: asyncio.AbstractEventLoop) -> None:
        """Handle both signals on `loop`."""
        for signum in self.NAMES:
            loop.add_signal_handler(signum, self.on_signal, int(signum))

    def remove(self, loop: asyncio.AbstractEventLoop) -> None:
        """Restore the default handling."""
        for signum in self.NAMES:
            loop.remove_signal_handler(signum)

    def on_signal(self, signum: int) -> None:
        """Stop cleanly the first time; exit the process at once the second time."""
        name = signal.Signals(signum).name
        self.received.append(signum)
        if len(self.received) == 1:
            _LOGGER.info("Received %s; stopping", name)
            self._stop.set()
            return
        _LOGGER.warning("Received %s again while stopping; exiting at once", name)
        for handler in logging.getLogger().handlers:
            handler.flush()
        self._exit_now(128 + signum)


async def serve(addon: Addon, stop: asyncio.Event) -> int:
    """Start `addon`, run until `stop` is set, stop it; the exit code."""
    starting = asyncio.create_task(addon.start(), name="add-on: start")
    waiting = asyncio.create_task(stop.wait(), name="add-on: wait for stop")
    code = 0
    try:
        await asyncio.wait({starting, waiting}, return_when=asyncio.FIRST_COMPLETED)
        if not starting.done():
            starting.cancel()
            await asyncio.gather(starting, return_exceptions=True)
        elif starting.exception() is not None:
            code = EXIT_FAILED
            failure = starting.exception()
            if isinstance(failure, LockError):
                _LOGGER.error("Cannot start: %s", failure.message)
            else:
                _LOGGER.error("Cannot start", exc_info=failure)
        else:
            _LOGGER.info("Running; stop with SIGTERM or Ctrl-C")
            await waiting
    finally:
        waiting.cancel()
        await asyncio.gather(waiting, return_exceptions=True)
        _LOGGER.info("Stopping")
        try:
            async with asyncio.timeout(SHUTDOWN_SECONDS):
                await addon.stop()
        except TimeoutError:
            _LOGGER.error("Stopping took longer than %g s; giving up", SHUTDOWN_SECONDS)
            code = EXIT_FAILED
    _LOGGER.info("Stopped")
    return code


async def run(options: Options, *, stop: asyncio.Event | None = None) -> int:
    """Run the add-on until SIGTERM/SIGINT (or `stop`); warns about tasks left running."""
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    signals = Signals(stop)
    signals.install(loop)
    try:
        code = await serve(Addon(options), stop)
    finally:
        signals.remove(loop)
    leftovers = own_tasks()
    if leftovers:
        names = ", ".join(sorted(task.get_name() for task in leftovers))
        _LOGGER.warning("%d task(s) still ran after the stop: %s", len(leftovers), names)
    return code


def own_tasks() -> list[asyncio.Task[Any]]:
    """Unfinished tasks running the add-on's code (not bleak's, not the simulator's), but ours."""
    package = Path(__file__).parent
    simulator = str(package / "sim")
    found = []
    for task in asyncio.all_tasks():
        code = getattr(task.get_coro(), "cr_code", None)
        filename = getattr(code, "co_filename", "")
        mine = filename.startswith(str(package)) and not filename.startswith(simulator)
        if mine and task is not asyncio.current_task():
            found.append(task)
    return found


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: options (exit 2 on a bad one), logging, then run until stopped."""
    try:
        options = load_options(argv)
    except OptionsError as exc:
        sys.stderr.write(f"python -m ttlock_nuki_addon: error: {exc}\n")
        return EXIT_USAGE
    setup_logging(options.log_level)
    for warning in options.warnings:
        _LOGGER.warning("%s", warning)
    return asyncio.run(run(options))
