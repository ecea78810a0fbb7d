"""Shared fixtures; each is self-contained and named after what it gives."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from ttlock_nuki_addon.sim.control import ControlServer
from ttlock_nuki_addon.sim.world import SimWorld


@pytest.fixture(autouse=True)
async def no_unhandled_task_errors() -> AsyncIterator[None]:
    """Fail the test if any asyncio task or callback died with an unhandled exception."""
    loop = asyncio.get_running_loop()
    seen: list[dict[str, Any]] = []

    def handler(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        seen.append(context)
        loop.default_exception_handler(context)

    previous = loop.get_exception_handler()
    loop.set_exception_handler(handler)
    try:
        yield
        gc.collect()  # tasks whose exception nobody retrieved report it when collected
        await asyncio.sleep(0)
    finally:
        loop.set_exception_handler(previous)
    messages = [repr(c.get("exception") or c.get("message")) for c in seen]
    assert not seen, f"unhandled exceptions in background tasks: {messages}"


@pytest.fixture
async def sim_world(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[SimWorld]:
    """A running simulated world (no devices); bleak in this test talks to its bus."""
    async with SimWorld() as world:
        monkeypatch.setenv("DBUS_SYSTEM_BUS_ADDRESS", world.bus_address)
        yield world


@pytest.fixture
async def sim_control(sim_world: SimWorld) -> AsyncIterator[aiohttp.ClientSession]:
    """An HTTP session whose base URL is the world's control API (on a free port)."""
    async with ControlServer(sim_world, port=0) as server:
        timeout = aiohttp.ClientTimeout(total=15)
        async with aiohttp.ClientSession(server.url, timeout=timeout) as session:
            yield session
