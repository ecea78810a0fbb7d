"""`python -m ttlock_nuki_addon.sim`: run the simulated Bluetooth world until interrupted."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import signal
import sys
from collections.abc import Sequence
from typing import Any

from .control import DEFAULT_PORT, ControlServer
from .dbus_daemon import DBusDaemonError
from .peripheral import ActionError
from .world import SimWorld

_LOGGER = logging.getLogger("ttlock_nuki_addon.sim")

ADDON_MODULE = "ttlock_nuki_addon"
ADDON_STOP_TIMEOUT = 10.0
EXIT_SETUP_FAILED = 2

DeviceSpec = tuple[str, dict[str, Any]]


def parse_device(text: str) -> DeviceSpec:
    """Parse `KIND[:key=value,...]`; values are JSON when they parse, text otherwise."""
    kind, _, rest = text.partition(":")
    if not kind:
        raise argparse.ArgumentTypeError(f"no device kind in {text!r}")
    options: dict[str, Any] = {}
    for item in filter(None, rest.split(",")):
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise argparse.ArgumentTypeError(f"expected key=value in {text!r}, got {item!r}")
        try:
            options[key.strip()] = json.loads(value)
        except ValueError:
            options[key.strip()] = value
    return kind, options


def build_parser() -> argparse.ArgumentParser:
    """The command-line interface."""
    parser = argparse.ArgumentParser(
        prog="python -m ttlock_nuki_addon.sim",
        description="Run the simulated Bluetooth world (fake BlueZ on a private D-Bus).",
        epilog="Arguments after a lone '--' are passed to the add-on started by --run-addon.",
    )
    parser.add_argument(
        "--control-port",
        type=int,
        default=DEFAULT_PORT,
        help=f"control API port on 127.0.0.1 (default {DEFAULT_PORT}; 0 picks a free one)",
    )
    parser.add_argument(
        "--device",
        metavar="KIND[:key=value,...]",
        type=parse_device,
        action="extend",
        nargs="+",
        default=[],
        help="add a device of this kind (repeatable); replaces the demo set",
    )
    parser.add_argument("--no-demo", action="store_true", help="start without the demo set")
    parser.add_argument(
        "--stale-after",
        type=float,
        default=30.0,
        metavar="S",
        help="seconds after its last advert that a device leaves BlueZ's list (default 30)",
    )
    parser.add_argument(
        "--run-addon", action="store_true", help="also run the add-on against this world"
    )
    parser.add_argument("--dbus-daemon", metavar="PATH", help="dbus-daemon binary to use")
    parser.add_argument("--addon-module", default=ADDON_MODULE, help=argparse.SUPPRESS)
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    return parser


def _say(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def _fail(line: str) -> int:
    sys.stderr.write(f"error: {line}\n")
    sys.stderr.flush()
    return EXIT_SETUP_FAILED


async def _start_addon(
    module: str, bus_address: str, args: Sequence[str]
) -> asyncio.subprocess.Process:
    """Start the add-on in its own process group (Ctrl-C reaches only us; we stop it)."""
    env = {**os.environ, "DBUS_SYSTEM_BUS_ADDRESS": bus_address}
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        module,
        *args,
        env=env,
        stdin=asyncio.subprocess.DEVNULL,
        process_group=0,
    )


async def _stop_addon(proc: asyncio.subprocess.Process) -> None:
    """SIGTERM the add-on, then SIGKILL it if it has not exited in time."""
    if proc.returncode is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        proc.terminate()
    try:
        await asyncio.wait_for(proc.wait(), ADDON_STOP_TIMEOUT)
    except TimeoutError:
        _LOGGER.warning("the add-on did not stop within %.0f s; killing it", ADDON_STOP_TIMEOUT)
        with contextlib.suppress(ProcessLookupError):
            proc.kill()
        await proc.wait()


async def _serve(args: argparse.Namespace, addon_args: list[str], stop: asyncio.Event) -> int:
    """Run the control API (and the add-on) until `stop` is set or the add-on exits."""
    world = SimWorld(stale_after=args.stale_after, dbus_daemon=args.dbus_daemon)
    try:
        address = await world.start()
    except DBusDaemonError as exc:
        return _fail(str(exc))
    try:
        try:
            for kind, options in args.device:
                world.add_device(kind, options)
            if not args.device and not args.no_demo:
                world.demo_set()
        except ActionError as exc:
            return _fail(f"--device: {exc}")
        server = ControlServer(world, args.control_port)
        try:
            await server.start()
        except OSError as exc:
            reason = os.strerror(exc.errno) if exc.errno else str(exc)
            port = args.control_port
            return _fail(f"cannot serve the control API on 127.0.0.1:{port}: {reason}")
        try:
            _say(f"DBUS_SYSTEM_BUS_ADDRESS={address}")
            _say(f"Control API: {server.url}")
            for peripheral in world.devices():
                _LOGGER.info(
                    "device %s (%s) %r", peripheral.address, peripheral.kind, peripheral.name
                )
            if not args.run_addon:
                await stop.wait()
                return 0
            return await _run_addon(args.addon_module, address, addon_args, stop)
        finally:
            await server.stop()
    finally:
        await world.stop()


async def _run_addon(module: str, address: str, addon_args: list[str], stop: asyncio.Event) -> int:
    """Run the add-on until `stop` is set (exit 0) or it exits by itself (its exit code)."""
    proc = await _start_addon(module, address, addon_args)
    waiter = asyncio.create_task(proc.wait())
    stopper = asyncio.create_task(stop.wait())
    try:
        await asyncio.wait({waiter, stopper}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        stopper.cancel()
        waiter.cancel()
        await _stop_addon(proc)
    if stop.is_set():
        return 0
    code = proc.returncode if proc.returncode is not None else 1
    _LOGGER.warning("the add-on exited with code %s; stopping the simulated world", code)
    return code


async def run(args: argparse.Namespace, addon_args: list[str]) -> int:
    """Install SIGINT/SIGTERM handlers and serve until one arrives."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    try:
        return await _serve(args, addon_args, stop)
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signum)


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the command line and run the world; returns the exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    addon_args: list[str] = []
    if "--" in argv:
        cut = argv.index("--")
        argv, addon_args = argv[:cut], argv[cut + 1 :]
    parser = build_parser()
    args = parser.parse_args(argv)
    if addon_args and not args.run_addon:
        parser.error("arguments after '--' need --run-addon")
    if not 0 <= args.control_port <= 65535:
        parser.error("--control-port must be from 0 to 65535")
    if not args.stale_after > 0:
        parser.error("--stale-after must be a positive number of seconds")
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    return asyncio.run(run(args, addon_args))


if __name__ == "__main__":
    sys.exit(main())
