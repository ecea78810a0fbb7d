"""One shared BLE scanner: raw adverts in, brand-parsed adverts out to subscribers."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, Literal, TypeVar

from bleak import BleakScanner
from bleak.backends.device import BLEDevice
from bleak.backends.scanner import AdvertisementData

from .bleak_errors import WRAPPED, wrap

_LOGGER = logging.getLogger(__name__)

T = TypeVar("T")
Unsubscribe = Callable[[], None]

SCAN_START_TIMEOUT = 10.0


@dataclass(frozen=True, slots=True)
class RawAdvert:
    """One advert as the radio heard it, independent of bleak's types."""

    address: str
    name: str | None
    rssi: int
    manufacturer_data: Mapping[int, bytes] = field(default_factory=dict)
    service_data: Mapping[str, bytes] = field(default_factory=dict)
    service_uuids: tuple[str, ...] = ()
    tx_power: int | None = None
    time: float = 0.0


@dataclass(frozen=True, slots=True)
class ParsedAdvert(Generic[T]):
    """A raw advert and what a brand parser made of it."""

    raw: RawAdvert
    parser: str
    value: T


@dataclass(frozen=True, slots=True)
class _Parser:
    name: str
    predicate: Callable[[RawAdvert], bool]
    parse: Callable[[RawAdvert], object | None]


AdvertCallback = Callable[[ParsedAdvert[Any]], None]


class Scanner:
    """The process's scanner; parsers register a predicate and a parser, subscribers listen."""

    def __init__(
        self, adapter: str | None = None, mode: Literal["active", "passive"] = "active"
    ) -> None:
        self.adapter = adapter
        self.mode: Literal["active", "passive"] = mode
        self._parsers: list[_Parser] = []
        self._subscribers: list[tuple[AdvertCallback, str | None]] = []
        self._devices: dict[str, BLEDevice] = {}
        self._last: dict[str, RawAdvert] = {}
        self._scanner: BleakScanner | None = None

    @property
    def running(self) -> bool:
        """Whether scanning is on."""
        return self._scanner is not None

    def register_parser(
        self,
        name: str,
        predicate: Callable[[RawAdvert], bool],
        parser: Callable[[RawAdvert], T | None],
    ) -> Unsubscribe:
        """Add a brand parser; returns a callable that removes it."""
        entry = _Parser(name, predicate, parser)
        self._parsers.append(entry)
        return lambda: self._parsers.remove(entry) if entry in self._parsers else None

    def subscribe(self, callback: AdvertCallback, parser: str | None = None) -> Unsubscribe:
        """Receive parsed adverts (of one parser, or all); returns an unsubscribe callable."""
        entry = (callback, parser)
        self._subscribers.append(entry)
        return lambda: self._subscribers.remove(entry) if entry in self._subscribers else None

    def ble_device(self, address: str) -> BLEDevice | None:
        """The last BLEDevice seen for an address (links connect with it)."""
        return self._devices.get(address.upper())

    def last_advert(self, address: str) -> RawAdvert | None:
        """The last raw advert seen for an address."""
        return self._last.get(address.upper())

    async def start(self) -> None:
        """Start scanning; a missing adapter or BlueZ is a NotReachableError with a reason."""
        if self._scanner is not None:
            return
        kwargs: dict[str, Any] = {"scanning_mode": self.mode}
        if self.adapter:
            kwargs["adapter"] = self.adapter
        try:
            scanner = BleakScanner(detection_callback=self._on_detection, **kwargs)
            async with asyncio.timeout(SCAN_START_TIMEOUT):
                await scanner.start()
        except WRAPPED as exc:
            raise wrap(exc, "starting the Bluetooth scan") from exc
        self._scanner = scanner
        _LOGGER.info("Bluetooth scanning started on %s", self.adapter or "the default adapter")

    async def stop(self) -> None:
        """Stop scanning; errors are logged, never raised."""
        scanner, self._scanner = self._scanner, None
        if scanner is None:
            return
        try:
            async with asyncio.timeout(SCAN_START_TIMEOUT):
                await scanner.stop()
        except WRAPPED as exc:
            _LOGGER.warning("Stopping the Bluetooth scan failed: %s", wrap(exc, "stopping"))

    def _on_detection(self, device: BLEDevice, data: AdvertisementData) -> None:
        raw = RawAdvert(
            address=device.address.upper(),
            name=data.local_name or device.name,
            rssi=data.rssi,
            manufacturer_data=dict(data.manufacturer_data),
            service_data=dict(data.service_data),
            service_uuids=tuple(data.service_uuids),
            tx_power=data.tx_power,
            time=time.monotonic(),
        )
        self._devices[raw.address] = device
        self._last[raw.address] = raw
        self.feed(raw)

    def feed(self, raw: RawAdvert) -> None:
        """Parse one advert with every matching parser and deliver the results."""
        for entry in list(self._parsers):
            try:
                value = entry.parse(raw) if entry.predicate(raw) else None
            except Exception:
                # Parsers must never raise; one that does is a bug, logged, not fatal.
                _LOGGER.exception("advert parser %s failed on %s", entry.name, raw.address)
                continue
            if value is None:
                continue
            parsed = ParsedAdvert(raw, entry.name, value)
            for callback, wanted in list(self._subscribers):
                if wanted is not None and wanted != entry.name:
                    continue
                try:
                    callback(parsed)
                except Exception:
                    _LOGGER.exception("advert subscriber failed for %s", raw.address)


_shared: dict[str | None, Scanner] = {}


def shared_scanner(adapter: str | None = None) -> Scanner:
    """The one scanner of this process for an adapter."""
    scanner = _shared.get(adapter)
    if scanner is None:
        scanner = _shared[adapter] = Scanner(adapter)
    return scanner
