"""`scripts/demo`, headless: the panel answers, the demo locks are discovered, Ctrl-C stops all."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import socket
import subprocess
import time
from pathlib import Path
from typing import IO, Any

import aiohttp
import pytest

ROOT = Path(__file__).resolve().parent.parent
WAIT = 60.0  # guards against hangs only
pytestmark = pytest.mark.timeout(180)


def read_urls(stream: IO[str], deadline: float) -> dict[str, str]:
    """The 'Name: URL' lines the demo prints before it runs."""
    found: dict[str, str] = {}
    while time.monotonic() < deadline and "Control page" not in found:
        line = stream.readline()
        if not line:
            break
        match = re.match(r"^(MQTT broker|Panel|Control page): (\S+)", line)
        if match:
            found[match.group(1)] = match.group(2)
    return found


async def ws_call(session: aiohttp.ClientSession, panel: str, verb: str) -> Any:
    async with session.ws_connect(panel + "api/ws") as ws:
        await ws.send_json({"id": 1, "type": verb})
        while True:
            message = json.loads((await ws.receive(timeout=10)).data)
            if message.get("id") == 1:
                assert message["ok"], message
                return message["result"]


async def wait_until_discovered(panel: str, control: str) -> tuple[set[str], set[str]]:
    async with aiohttp.ClientSession() as session:
        deadline = asyncio.get_running_loop().time() + WAIT
        while True:
            try:
                async with session.get(panel) as response:
                    page = await response.text()
                    if response.status == 200 and "<base href" in page:
                        break
            except aiohttp.ClientError:
                pass
            assert asyncio.get_running_loop().time() < deadline, "the panel never answered"
            await asyncio.sleep(0.5)
        async with session.get(control + "devices") as response:
            devices = await response.json()
        locks = [d for d in devices if d["kind"] == "ttlock" or d["kind"].startswith("nuki")]
        for device in locks:  # a sleeping TTLock advertises after a touch, as at a real door
            if device["kind"] == "ttlock":
                url = f"{control}devices/{device['address']}/touch"
                async with session.post(url, json={}) as response:
                    assert response.status == 200, await response.text()
        wanted = {device["address"] for device in locks}
        devices = locks
        while True:
            found = {d["address"] for d in await ws_call(session, panel, "discovery.list")}
            if wanted <= found or asyncio.get_running_loop().time() > deadline:
                kinds = {device["kind"] for device in devices}
                return wanted | {f"kind:{k}" for k in kinds}, found
            await asyncio.sleep(0.5)


def port_open(url: str) -> bool:
    match = re.match(r"http://([\d.]+):(\d+)/", url)
    assert match
    with socket.socket() as sock:
        sock.settimeout(1)
        return sock.connect_ex((match.group(1), int(match.group(2)))) == 0


def test_the_demo_serves_the_panel_finds_the_demo_locks_and_stops_on_ctrl_c(
    tmp_path: Path,
) -> None:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        ["bash", "scripts/demo", "--port", "0", "--control-port", "0", "--data-dir", str(tmp_path)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        start_new_session=True,
    )
    try:
        assert proc.stdout is not None
        urls = read_urls(proc.stdout, time.monotonic() + 300)  # setup may install packages
        assert {"Panel", "Control page", "MQTT broker"} <= set(urls), urls
        wanted, found = asyncio.run(wait_until_discovered(urls["Panel"], urls["Control page"]))
        addresses = {a for a in wanted if not a.startswith("kind:")}
        assert {"kind:ttlock", "kind:nuki-2", "kind:nuki-4"} <= wanted
        assert addresses <= found, (addresses, found)
        os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C in the terminal does
        assert proc.wait(timeout=30) == 0
        assert not port_open(urls["Panel"]) and not port_open(urls["Control page"])
        if urls["MQTT broker"].startswith("mqtt://"):
            assert not port_open(urls["MQTT broker"].replace("mqtt://", "http://") + "/")
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
