"""The simulated world's control API and command line, seen over HTTP and by real bleak."""

from __future__ import annotations

import asyncio
import logging
import os
import re
import signal
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from bleak import BleakClient, BleakScanner
from bleak.backends.device import BLEDevice

from ttlock_nuki_addon.sim.__main__ import parse_device
from ttlock_nuki_addon.sim.control import MAX_BODY
from ttlock_nuki_addon.sim.peripheral import ActionError, EchoPeripheral
from ttlock_nuki_addon.sim.world import ADDRESS_RE, SimWorld

ROOT = Path(__file__).resolve().parent.parent
ADDRESS = "AA:BB:CC:00:00:10"
ECHO_ACTIONS = ["advertise", "drop_link", "faults", "link"]


async def add_echo(session: aiohttp.ClientSession, **options: Any) -> dict[str, Any]:
    async with session.post("/devices", json={"kind": "echo", **options}) as res:
        assert res.status == 201, await res.text()
        device: dict[str, Any] = await res.json()
        return device


async def post(
    session: aiohttp.ClientSession, path: str, body: Any = None
) -> tuple[int, dict[str, Any]]:
    async with session.post(path, json=body) as res:
        return res.status, await res.json()


# --- the control API over HTTP -----------------------------------------------------------


async def test_add_list_get_and_remove_a_device(sim_control: aiohttp.ClientSession) -> None:
    device = await add_echo(sim_control, address=ADDRESS.lower(), name="Front <door>", rssi=-70)
    assert device["address"] == ADDRESS
    assert (device["kind"], device["name"], device["rssi"]) == ("echo", "Front <door>", -70)
    assert device["state"] == "advertising"
    assert device["actions"] == ECHO_ACTIONS

    async with sim_control.get("/devices") as res:
        assert res.status == 200
        listed = await res.json()
    assert [d["address"] for d in listed] == [ADDRESS]
    for key in ("address", "kind", "name", "state", "actions", "link", "faults"):
        assert key in listed[0]
    async with sim_control.get(f"/devices/{ADDRESS.lower()}") as res:
        assert (await res.json())["name"] == "Front <door>"
    async with sim_control.get("/kinds") as res:
        assert {"kind": "echo", "demo": True} in await res.json()

    async with sim_control.delete(f"/devices/{ADDRESS}") as res:
        assert res.status == 200
        assert await res.json() == {"ok": True, "removed": ADDRESS}
    async with sim_control.get("/devices") as res:
        assert await res.json() == []
    async with sim_control.delete(f"/devices/{ADDRESS}") as res:
        assert res.status == 404


async def test_generated_addresses_are_valid_and_unique(sim_world: SimWorld) -> None:
    devices = [sim_world.add_device("echo") for _ in range(20)]
    addresses = {d.address for d in devices}
    assert len(addresses) == 20
    assert all(ADDRESS_RE.match(a) for a in addresses)
    assert sim_world.get(devices[0].address.lower()) is devices[0]
    await sim_world.remove_device(devices[0].address)
    assert sim_world.get(devices[0].address) is None
    assert len(sim_world.devices()) == 19


async def test_demo_set_and_kind_registry(sim_world: SimWorld) -> None:
    made: list[tuple[str, dict[str, Any]]] = []

    def factory(address: str, options: dict[str, Any]) -> EchoPeripheral:
        made.append((address, options))
        return EchoPeripheral(address, name="Custom")

    sim_world.register_kind("custom", factory, demo=False)
    demo = sim_world.demo_set()
    assert sorted(p.kind for p in demo) == ["echo", "nuki-2", "nuki-4", "ttlock"]
    device = sim_world.add_device("custom", {"name": "Renamed", "colour": "red"})
    assert made == [(device.address, {"colour": "red"})]
    assert device.name == "Renamed"
    with pytest.raises(ActionError, match="unknown device kind"):
        sim_world.add_device("nope")


async def test_empty_body_and_action_results(sim_control: aiohttp.ClientSession) -> None:
    address = (await add_echo(sim_control))["address"]
    async with sim_control.post(f"/devices/{address}/link") as res:
        assert res.status == 200
        assert await res.json() == {
            "ok": True,
            "link": {"connect_ms": 0, "reply_ms": 0, "mtu": 23},
            "rssi": -60,
        }
    status, body = await post(sim_control, f"/devices/{address}/advertise", {"enabled": False})
    assert (status, body) == (200, {"ok": True, "advertising": False})
    async with sim_control.get(f"/devices/{address}") as res:
        assert (await res.json())["state"] == "silent"


BAD_REQUESTS: list[tuple[str, str, str, bytes | None, int, str]] = [
    ("unknown kind", "POST", "/devices", b'{"kind": "toaster"}', 400, "unknown device kind"),
    ("missing kind", "POST", "/devices", b"{}", 400, "'kind' is required"),
    ("unknown option", "POST", "/devices", b'{"kind": "echo", "x": 1}', 400, "unknown option"),
    ("bad address", "POST", "/devices", b'{"kind": "echo", "address": "1"}', 400, "address"),
    ("bad rssi", "POST", "/devices", b'{"kind": "echo", "rssi": "loud"}', 400, "'rssi'"),
    ("bad name", "POST", "/devices", b'{"kind": "echo", "name": ""}', 400, "'name'"),
    ("taken address", "POST", "/devices", b'{"kind": "echo", "address": "@"}', 400, "exists"),
    ("unknown device", "POST", "/devices/00:11:22:33:44:55/link", b"{}", 404, "no device"),
    ("delete unknown", "DELETE", "/devices/00:11:22:33:44:55", None, 404, "no device"),
    ("unknown action", "POST", "/devices/@/explode", b"{}", 400, "unknown action 'explode'"),
    ("invalid JSON", "POST", "/devices/@/link", b'{"connect_ms": ', 400, "not valid JSON"),
    ("invalid JSON add", "POST", "/devices", b"kind=echo", 400, "not valid JSON"),
    ("non-object", "POST", "/devices/@/link", b"[1, 2]", 400, "must be a JSON object"),
    ("non-object add", "POST", "/devices", b'"echo"', 400, "must be a JSON object"),
    ("text param", "POST", "/devices/@/link", b'{"connect_ms": "slow"}', 400, "'connect_ms'"),
    ("bool param", "POST", "/devices/@/link", b'{"reply_ms": true}', 400, "'reply_ms'"),
    ("out of range", "POST", "/devices/@/link", b'{"mtu": 5}', 400, "'mtu'"),
    ("int for bool", "POST", "/devices/@/faults", b'{"mute": 1}', 400, "'mute'"),
    ("negative", "POST", "/devices/@/faults", b'{"drop_replies": -1}', 400, "'drop_replies'"),
    ("not connected", "POST", "/devices/@/drop_link", b"", 400, "not connected"),
    ("oversized", "POST", "/devices/@/link", b" " * (MAX_BODY + 1), 413, "larger than"),
    ("no route", "GET", "/nowhere", None, 404, "Not Found"),
    ("bad method", "PUT", "/devices", b"{}", 405, "Method Not Allowed"),
]


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "reason"),
    [case[1:] for case in BAD_REQUESTS],
    ids=[case[0] for case in BAD_REQUESTS],
)
async def test_bad_requests_get_a_4xx_with_a_reason(
    sim_control: aiohttp.ClientSession,
    method: str,
    path: str,
    body: bytes | None,
    status: int,
    reason: str,
) -> None:
    address = (await add_echo(sim_control))["address"]
    path = path.replace("@", address)
    if body is not None:
        body = body.replace(b"@", address.encode())
    async with sim_control.request(method, path, data=body) as res:
        assert res.status == status
        answer = await res.json()
    assert answer["ok"] is False
    assert reason in answer["error"]


async def test_oversized_chunked_body_is_refused(sim_control: aiohttp.ClientSession) -> None:
    address = (await add_echo(sim_control))["address"]

    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(5):
            yield b" " * (MAX_BODY // 4)

    async with sim_control.post(f"/devices/{address}/link", data=chunks()) as res:
        assert res.status == 413
        assert (await res.json())["ok"] is False


async def test_the_page_is_self_contained_and_escapes_device_text(
    sim_control: aiohttp.ClientSession,
) -> None:
    async with sim_control.get("/") as res:
        assert res.status == 200
        assert res.content_type == "text/html"
        page = await res.text()
    assert "<script>" in page
    assert "setInterval(refresh, 2000)" in page
    assert "/kinds" in page
    assert "innerHTML" not in page
    assert "textContent" in page
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page)


# --- the acceptance item: changes made through the API are felt by a bleak client --------


async def echo_roundtrip_client(device: BLEDevice) -> tuple[BleakClient, float]:
    client = BleakClient(device, timeout=15)
    started = time.monotonic()
    async with asyncio.timeout(20):
        await client.connect()
    return client, time.monotonic() - started


async def test_link_figures_and_faults_are_seen_by_bleak(
    sim_world: SimWorld, sim_control: aiohttp.ClientSession
) -> None:
    address = (await add_echo(sim_control))["address"]
    device = await BleakScanner.find_device_by_address(address, timeout=10)
    assert device is not None

    client, fast = await echo_roundtrip_client(device)
    await client.disconnect()

    status, body = await post(sim_control, f"/devices/{address}/link", {"connect_ms": 1500})
    assert status == 200
    assert body["link"]["connect_ms"] == 1500
    client, slow = await echo_roundtrip_client(device)
    logging.getLogger(__name__).info("connect took %.3f s, then %.3f s", fast, slow)
    assert slow >= 1.5  # a lower bound only: test machines are noisy

    try:
        replies: asyncio.Queue[bytes] = asyncio.Queue()
        await client.start_notify(
            EchoPeripheral.TX, lambda _c, data: replies.put_nowait(bytes(data))
        )
        await client.write_gatt_char(EchoPeripheral.RX, b"\x02hi", response=True)
        assert await asyncio.wait_for(replies.get(), 5) == b"\x02hi"

        status, body = await post(sim_control, f"/devices/{address}/faults", {"drop_replies": 1})
        assert (status, body["faults"]["drop_replies"]) == (200, 1)
        await client.write_gatt_char(EchoPeripheral.RX, b"\x03one", response=True)
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(replies.get(), 1.0)
        await client.write_gatt_char(EchoPeripheral.RX, b"\x03two", response=True)
        assert await asyncio.wait_for(replies.get(), 5) == b"\x03two"
    finally:
        await client.disconnect()

    async with sim_control.get(f"/devices/{address}") as res:
        assert (await res.json())["faults"]["drop_replies"] == 0
    peripheral = sim_world.get(address)
    assert peripheral is not None
    assert any("dropped reply 036f6e65" in line for line in peripheral.log)


# --- the command line --------------------------------------------------------------------


def test_device_arguments_parse() -> None:
    assert parse_device("echo") == ("echo", {})
    assert parse_device("echo:name=Front door,rssi=-70,strict=true,address=AA:BB:CC:DD:EE:FF") == (
        "echo",
        {"name": "Front door", "rssi": -70, "strict": True, "address": "AA:BB:CC:DD:EE:FF"},
    )


async def start_cli(*args: str, env: dict[str, str] | None = None) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "ttlock_nuki_addon.sim",
        *args,
        cwd=ROOT,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        start_new_session=True,
    )


async def read_banner(proc: asyncio.subprocess.Process) -> tuple[str, str, list[str]]:
    """Read stdout until both banner lines came; returns bus address, API URL, all lines."""
    assert proc.stdout is not None
    bus = url = ""
    lines: list[str] = []
    async with asyncio.timeout(20):
        while not (bus and url):
            line = (await proc.stdout.readline()).decode()
            assert line, f"the world exited early: {lines}"
            lines.append(line)
            if line.startswith("DBUS_SYSTEM_BUS_ADDRESS="):
                bus = line.split("=", 1)[1].strip()
            elif line.startswith("Control API: "):
                url = line.split(": ", 1)[1].strip()
    return bus, url, lines


def daemon_dir(bus_address: str) -> Path:
    match = re.match(r"unix:path=([^,]+)", bus_address)
    assert match, bus_address
    return Path(match.group(1)).parent


def processes_mentioning(text: str) -> list[int]:
    found = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                if text.encode() in (proc / "cmdline").read_bytes():
                    found.append(int(proc.name))
            except OSError:
                continue
    return found


async def finish(proc: asyncio.subprocess.Process) -> tuple[str, str]:
    async with asyncio.timeout(30):
        out, err = await proc.communicate()
    return out.decode(), err.decode()


async def test_cli_runs_the_demo_set_until_sigterm() -> None:
    proc = await start_cli("--control-port", "0")
    try:
        bus, url, _ = await read_banner(proc)
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+/", url)
        assert daemon_dir(bus).is_dir()
        async with aiohttp.ClientSession() as session, session.get(url + "devices") as res:
            devices = await res.json()
        demo_kinds = sorted(s.kind for s in SimWorld().kinds.values() if s.demo)
        assert sorted(d["kind"] for d in devices) == demo_kinds
        assert all(d["actions"] for d in devices)
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGTERM)
        _, err = await finish(proc)
    assert proc.returncode == 0, err
    assert "Traceback" not in err
    assert not daemon_dir(bus).exists()
    assert processes_mentioning(str(daemon_dir(bus))) == []


async def test_cli_without_dbus_daemon_says_so_and_exits_2() -> None:
    proc = await start_cli("--control-port", "0", "--dbus-daemon", "/nonexistent/dbus-daemon")
    out, err = await finish(proc)
    assert proc.returncode == 2
    assert out == ""
    assert len(err.strip().splitlines()) == 1
    assert "dbus-daemon" in err
    assert "Traceback" not in err


FAKE_ADDON = """
import os, signal, sys, time
if "--exit" in sys.argv:
    sys.exit(int(sys.argv[-1]))
signal.signal(signal.SIGTERM, lambda *_: (print("addon stopped", flush=True), sys.exit(0)))
signal.signal(signal.SIGINT, lambda *_: (print("addon got SIGINT", flush=True), sys.exit(1)))
print("addon bus", os.environ["DBUS_SYSTEM_BUS_ADDRESS"], "pid", os.getpid(), flush=True)
while True:
    time.sleep(0.1)
"""


def fake_addon_env(tmp_path: Path) -> dict[str, str]:
    (tmp_path / "fake_addon.py").write_text(FAKE_ADDON)
    path = os.pathsep.join(filter(None, [str(tmp_path), os.environ.get("PYTHONPATH")]))
    return {**os.environ, "PYTHONPATH": path}


@pytest.mark.parametrize("how", ["sigterm", "ctrl-c"])
async def test_cli_runs_the_addon_and_stops_it(tmp_path: Path, how: str) -> None:
    args = ("--control-port", "0", "--run-addon", "--addon-module", "fake_addon")
    proc = await start_cli(*args, env=fake_addon_env(tmp_path))
    try:
        bus, _url, _ = await read_banner(proc)
        assert proc.stdout is not None
        async with asyncio.timeout(20):
            line = (await proc.stdout.readline()).decode()
        assert line.startswith(f"addon bus {bus} pid ")
        addon_pid = int(line.split()[-1])
    finally:
        if proc.returncode is None:
            if how == "ctrl-c":  # a terminal signals the whole foreground process group
                os.killpg(proc.pid, signal.SIGINT)
            else:
                proc.send_signal(signal.SIGTERM)
        out, err = await finish(proc)
    assert proc.returncode == 0, err
    assert "addon stopped" in out
    assert "Traceback" not in err
    with pytest.raises(ProcessLookupError):
        os.kill(addon_pid, 0)
    assert not daemon_dir(bus).exists()


async def test_cli_stops_when_the_addon_exits(tmp_path: Path) -> None:
    args = ("--control-port", "0", "--run-addon", "--addon-module", "fake_addon")
    proc = await start_cli(*args, "--", "--exit", "3", env=fake_addon_env(tmp_path))
    _, err = await finish(proc)
    assert proc.returncode == 3
    assert "the add-on exited with code 3" in err


async def test_demo_runs_the_real_addon_which_logs_the_locks_it_finds(tmp_path: Path) -> None:
    env = {**os.environ, "TTLOCK_NUKI_DATA_DIR": str(tmp_path / "data")}
    proc = await start_cli("--control-port", "0", "--run-addon", env=env)
    assert proc.stderr is not None
    seen: list[str] = []
    try:
        await read_banner(proc)
        async with asyncio.timeout(30):
            while not any("Found an unpaired nuki lock" in line for line in seen):
                line = (await proc.stderr.readline()).decode()
                assert line, f"the add-on or world exited early: {seen}"
                seen.append(line)
        proc.send_signal(signal.SIGINT)
        _out, err = await finish(proc)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    assert proc.returncode == 0, "".join(seen) + err
    assert "Traceback" not in "".join(seen) + err
    assert "Stopping" in err
