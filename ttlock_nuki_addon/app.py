"""Composition root: options -> store -> scanner -> (manager, MQTT, web in later issues)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import signal
from collections.abc import Sequence
from pathlib import Path

from . import __version__
from .ble.scanner import ParsedAdvert, RawAdvert, Scanner, shared_scanner
from .errors import LockError
from .store import Store

_LOGGER = logging.getLogger("ttlock_nuki_addon")

RETRY_SCAN_SECONDS = 30.0
LOG_FORMAT = "%(asctime)s %(levelname)s (%(name)s) %(message)s"


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Command-line options for running outside Home Assistant."""
    parser = argparse.ArgumentParser(prog="python -m ttlock_nuki_addon", description=__doc__)
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=os.environ.get("TTLOCK_NUKI_DATA_DIR") or None,
        help="where the lock store lives (env TTLOCK_NUKI_DATA_DIR; /data in the add-on)",
    )
    parser.add_argument("--adapter", default=None, help="Bluetooth adapter, e.g. hci0")
    parser.add_argument(
        "--log-level",
        default="info",
        choices=["debug", "info", "warning", "error"],
        help="how much to log",
    )
    parser.add_argument("--dev", action="store_true", help="development mode (local access)")
    parser.add_argument("--version", action="version", version=__version__)
    return parser.parse_args(argv)


def default_data_dir() -> Path:
    """/data inside the add-on, ./data elsewhere."""
    return Path("/data") if Path("/data/options.json").exists() else Path("data")


class DeviceLog:
    """Logs each Bluetooth device the first time it is heard and when its name changes."""

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
        _LOGGER.info(
            "Found Bluetooth device %s name=%r rssi=%d manufacturer=%s services=%s",
            raw.address,
            raw.name,
            raw.rssi,
            companies,
            ",".join(raw.service_uuids) or "-",
        )


async def start_scanning(scanner: Scanner, stop: asyncio.Event) -> None:
    """Start the scanner, retrying while Bluetooth is unavailable, until stopped."""
    while not stop.is_set():
        try:
            await scanner.start()
            return
        except LockError as exc:
            _LOGGER.error("%s Retrying in %.0f s.", exc.message, RETRY_SCAN_SECONDS)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), RETRY_SCAN_SECONDS)


async def run(args: argparse.Namespace) -> int:
    """Run until SIGTERM or SIGINT."""
    data_dir = args.data_dir or default_data_dir()
    store = Store(data_dir)
    try:
        store.load()
    except LockError as exc:
        _LOGGER.error("%s", exc.message)
        return 1
    _LOGGER.info("TTLock & Nuki add-on %s starting; data in %s", __version__, data_dir)

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)

    scanner = shared_scanner(args.adapter)
    device_log = DeviceLog()
    scanner.register_parser("device-log", lambda raw: True, device_log.parse)
    scanner.subscribe(device_log.on_advert, parser="device-log")
    starter = asyncio.create_task(start_scanning(scanner, stop))
    await stop.wait()
    _LOGGER.info("Stopping")
    starter.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await starter
    await scanner.stop()
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point."""
    args = parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), format=LOG_FORMAT)
    return asyncio.run(run(args))
