"""`python -m ttlock_nuki_addon.sim.demo`: the one-command demo (scripts/demo).

Starts a private mosquitto when one is installed, the simulated world's demo set (a TTLock, a
Nuki 2.0 and a Nuki 4th gen) with its control page, and the add-on in ``--dev`` mode against both;
prints where the panel and the control page are. Ctrl-C stops everything it started.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import shutil
import signal
import socket
import sys
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path

from . import __main__ as sim_main
from .control import DEFAULT_PORT as CONTROL_DEFAULT_PORT

HOST = "127.0.0.1"
PANEL_PORT = 8099
CONTROL_PORT = CONTROL_DEFAULT_PORT
MOSQUITTO_START_SECONDS = 10.0
MOSQUITTO_PATHS = ("/usr/sbin/mosquitto", "/usr/bin/mosquitto")


def _say(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def port_free(port: int) -> bool:
    """Whether nothing listens on `port` on localhost."""
    with socket.socket() as sock:
        try:
            sock.bind((HOST, port))
        except OSError:
            return False
    return True


def pick_port(wanted: int) -> int:
    """`wanted` if it is free, else any free port."""
    if wanted and port_free(wanted):
        return wanted
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def find_mosquitto() -> str | None:
    """The mosquitto binary, if installed."""
    found = shutil.which("mosquitto")
    if found:
        return found
    return next((path for path in MOSQUITTO_PATHS if os.access(path, os.X_OK)), None)


@contextlib.contextmanager
def _temp_dir() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="demo-mosquitto-") as name:
        yield Path(name)


async def start_mosquitto(binary: str, workdir: Path) -> tuple[asyncio.subprocess.Process, int]:
    """A broker on a free localhost port (anonymous, no persistence); RuntimeError if it fails."""
    port = pick_port(0)
    lines = [f"listener {port} {HOST}", "allow_anonymous true", "persistence false"]
    if os.geteuid() == 0:
        lines.append("user root")  # otherwise mosquitto drops to a user that may not exist
    config = workdir / "mosquitto.conf"
    config.write_text("\n".join(lines) + "\n", encoding="utf-8")
    proc = await asyncio.create_subprocess_exec(
        binary,
        "-c",
        str(config),
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
        start_new_session=True,  # Ctrl-C reaches us only; we stop it
    )
    loop = asyncio.get_running_loop()
    deadline = loop.time() + MOSQUITTO_START_SECONDS
    while loop.time() < deadline:
        if proc.returncode is not None:
            break
        if not port_free(port):
            return proc, port
        await asyncio.sleep(0.1)
    await stop_process(proc)
    raise RuntimeError(f"mosquitto did not start on {HOST}:{port}")


async def stop_process(proc: asyncio.subprocess.Process) -> None:
    """SIGTERM, then SIGKILL after a few seconds."""
    if proc.returncode is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        proc.terminate()
    try:
        await asyncio.wait_for(proc.wait(), 5.0)
    except TimeoutError:
        with contextlib.suppress(ProcessLookupError):
            proc.kill()
        await proc.wait()


def build_parser() -> argparse.ArgumentParser:
    """The command-line interface."""
    parser = argparse.ArgumentParser(
        prog="scripts/demo", description="Run the add-on against the simulated Bluetooth world."
    )
    parser.add_argument("--port", type=int, default=PANEL_PORT, help="panel port (default 8099)")
    parser.add_argument(
        "--control-port", type=int, default=CONTROL_PORT, help="control page port (default 8098)"
    )
    parser.add_argument("--no-mqtt", action="store_true", help="do not start mosquitto")
    parser.add_argument(
        "--data-dir", type=Path, default=Path(".demo-data"), help="the demo's lock store"
    )
    return parser


async def run(args: argparse.Namespace) -> int:
    """Start the broker (maybe), then the world and the add-on until Ctrl-C."""
    panel_port = pick_port(args.port)
    control_port = pick_port(args.control_port)
    addon_args = ["--dev", "--port", str(panel_port), "--data-dir", str(args.data_dir)]
    binary = None if args.no_mqtt else find_mosquitto()
    broker: asyncio.subprocess.Process | None = None
    with _temp_dir() as workdir:
        try:
            if binary is not None:
                broker, mqtt_port = await start_mosquitto(binary, workdir)
                addon_args += ["--mqtt-url", f"mqtt://{HOST}:{mqtt_port}"]
                _say(f"MQTT broker: mqtt://{HOST}:{mqtt_port}")
            else:
                _say("MQTT broker: none (install mosquitto to see the MQTT side)")
            _say(f"Panel: http://{HOST}:{panel_port}/")
            _say(f"Control page: http://{HOST}:{control_port}/")
            _say("Press Ctrl-C to stop.")
            world_args = sim_main.build_parser().parse_args(
                ["--run-addon", "--control-port", str(control_port)]
            )
            return await sim_main.run(world_args, addon_args)
        except RuntimeError as exc:
            sys.stderr.write(f"error: {exc}\n")
            return sim_main.EXIT_SETUP_FAILED
        finally:
            if broker is not None:
                await stop_process(broker)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        return asyncio.run(run(args))
    except KeyboardInterrupt:
        return 0


if __name__ == "__main__":
    sys.exit(main())
