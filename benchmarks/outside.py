"""The add-on process seen from outside: /proc readings, /health, a panel websocket client."""

from __future__ import annotations

import asyncio
import contextlib
import http.client
import json
import os
import time
from pathlib import Path
from typing import Any

import aiohttp

Json = Any
HOST = "127.0.0.1"
HELLO_TIMEOUT = 20.0


def cpu_seconds(pid: int) -> float:
    """CPU time of a process so far: per-thread schedstat (ns) summed, else /proc/PID/stat.

    /proc/PID/stat counts in clock ticks (10 ms), too coarse for one operation; schedstat is
    exact but forgets threads that ended, so use it for short spans only.
    """
    if not Path(f"/proc/{pid}/schedstat").exists():  # a kernel without CONFIG_SCHED_INFO
        return ticks_seconds(pid)
    total = 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        with contextlib.suppress(OSError, ValueError):  # a thread that just ended
            total += int((task / "schedstat").read_text().split()[0])
    return total / 1e9


def ticks_seconds(pid: int) -> float:
    """utime + stime of a process (all its threads, ended ones too), from /proc/PID/stat."""
    text = Path(f"/proc/{pid}/stat").read_text()
    fields = text.rsplit(")", 1)[1].split()  # fields from 3 (state) on; the name may hold spaces
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def memory_kib(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM (peak) of a process in KiB, from /proc/PID/status."""
    found: dict[str, int] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            found[key] = int(value.split()[0])
    return found


def health_ok(port: int) -> bool:
    """Whether GET /health answers 200 now."""
    connection = http.client.HTTPConnection(HOST, port, timeout=2)
    try:
        connection.request("GET", "/health")
        return connection.getresponse().status == 200
    except OSError:
        return False
    finally:
        connection.close()


class WsClient:
    """A panel websocket client (on the world's loop): replies matched to requests by id."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.hello: Json = None
        self._session: aiohttp.ClientSession | None = None
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._reader: asyncio.Task[None] | None = None
        self._waiting: dict[int, asyncio.Future[tuple[float, Json]]] = {}
        self._next = 1
        self._greeted = asyncio.Event()

    async def start(self) -> Json:
        """Connect; the hello push's data."""
        self._session = aiohttp.ClientSession()
        self._ws = await self._session.ws_connect(self.url, max_msg_size=0)
        self._reader = asyncio.create_task(self._read(self._ws), name="bench: ws reader")
        await asyncio.wait_for(self._greeted.wait(), HELLO_TIMEOUT)
        return self.hello

    async def _read(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        async for message in ws:
            if message.type is not aiohttp.WSMsgType.TEXT:
                continue
            arrived = time.perf_counter()
            obj = json.loads(message.data)
            if obj.get("event") == "hello":
                self.hello = obj["data"]
                self._greeted.set()
            waiter = self._waiting.pop(obj["id"], None) if isinstance(obj.get("id"), int) else None
            if waiter is not None and not waiter.done():
                waiter.set_result((arrived, obj))

    async def send(self, verb: str, /, **params: Json) -> tuple[float, asyncio.Future[Any]]:
        """Send one request: the perf_counter stamp just before, and a future for the reply."""
        assert self._ws is not None
        request_id, self._next = self._next, self._next + 1
        waiter: asyncio.Future[tuple[float, Json]] = asyncio.get_running_loop().create_future()
        self._waiting[request_id] = waiter
        started = time.perf_counter()
        await self._ws.send_str(json.dumps({"id": request_id, "type": verb, **params}))
        return started, waiter

    async def ok(self, verb: str, /, timeout: float = 60.0, **params: Json) -> tuple[float, Json]:
        """Send, wait for a successful reply: its arrival stamp and result (AssertionError)."""
        _, waiter = await self.send(verb, **params)
        arrived, reply = await asyncio.wait_for(waiter, timeout)
        assert reply["ok"] is True, (verb, params, reply)
        return arrived, reply["result"]

    async def close(self) -> None:
        """Close the socket and the session."""
        if self._ws is not None:
            await self._ws.close()
        if self._reader is not None:
            await asyncio.gather(self._reader, return_exceptions=True)
        if self._session is not None:
            await self._session.close()
