"""The soak's two clients of the add-on: a websocket panel client and a Home Assistant over MQTT.

Both keep only what the checks need (replies waited for, the latest state per lock, counts), so
their own memory stays flat and the memory figure is the add-on's.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import aiomqtt

from ttlock_nuki_addon.mqtt.topics import Target, Topics

Json = Any
TOPICS = Topics()


class WsClient:
    """One panel websocket: requests matched to replies by id; pushes only counted."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.pushes: Counter[str] = Counter()
        self._session: aiohttp.ClientSession | None = None
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._reader: asyncio.Task[None] | None = None
        self._waiting: dict[int, asyncio.Future[dict[str, Json]]] = {}
        self._next = 1
        self._hello = asyncio.Event()

    async def start(self) -> None:
        """Connect and wait for the hello push."""
        self._session = aiohttp.ClientSession()
        self._ws = await self._session.ws_connect(self.url)
        self._reader = asyncio.create_task(self._read(self._ws), name="soak: ws reader")
        await asyncio.wait_for(self._hello.wait(), 20)

    async def _read(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        async for message in ws:
            if message.type is not aiohttp.WSMsgType.TEXT:
                continue
            obj = json.loads(message.data)
            if "event" in obj:
                self.pushes[obj["event"]] += 1
                if obj["event"] == "hello":
                    self._hello.set()
                continue
            waiter = self._waiting.pop(obj["id"], None) if isinstance(obj["id"], int) else None
            if waiter is not None and not waiter.done():
                waiter.set_result(obj)

    async def call(self, verb: str, /, timeout: float, **params: Json) -> dict[str, Json]:
        """The whole reply to one request; TimeoutError if none came within `timeout`."""
        assert self._ws is not None
        request_id, self._next = self._next, self._next + 1
        waiter: asyncio.Future[dict[str, Json]] = asyncio.get_running_loop().create_future()
        self._waiting[request_id] = waiter
        try:
            await self._ws.send_str(json.dumps({"id": request_id, "type": verb, **params}))
            return await asyncio.wait_for(waiter, timeout)
        finally:
            self._waiting.pop(request_id, None)

    async def ok(self, verb: str, /, timeout: float = 60.0, **params: Json) -> Json:
        """The result of a request that must succeed."""
        reply = await self.call(verb, timeout, **params)
        assert reply["ok"] is True, (verb, params, reply)
        return reply["result"]

    async def close(self) -> None:
        """Close the socket and the session."""
        if self._ws is not None:
            await self._ws.close()
        if self._reader is not None:
            await asyncio.gather(self._reader, return_exceptions=True)
        if self._session is not None:
            await self._session.close()


@dataclass
class LockTopic:
    """One lock's state topic: a message count, the latest, and those since `watch()`."""

    count: int = 0
    latest: dict[str, Json] = field(default_factory=dict)
    watched: list[dict[str, Json]] | None = None
    changed: asyncio.Event = field(default_factory=asyncio.Event)

    def watch(self) -> list[dict[str, Json]]:
        """Start collecting the messages from now on (one watcher at a time)."""
        self.watched = []
        return self.watched

    def unwatch(self) -> None:
        """Stop collecting."""
        self.watched = None

    def add(self, state: dict[str, Json]) -> None:
        """One message arrived."""
        self.count += 1
        self.latest = state
        if self.watched is not None:
            self.watched.append(state)
        self.changed.set()


class HomeAssistant:
    """An MQTT client that follows the state topics and publishes commands."""

    def __init__(self, host: str, port: int) -> None:
        self._client = aiomqtt.Client(host, port, identifier="soak-home-assistant")
        self.states: dict[str, LockTopic] = {}
        self._task: asyncio.Task[None] | None = None
        self._ready = asyncio.Event()

    async def start(self) -> None:
        """Connect and subscribe to every lock's state topic."""
        self._task = asyncio.create_task(self._run(), name="soak: mqtt client")
        await asyncio.wait_for(self._ready.wait(), 20)

    async def _run(self) -> None:
        async with self._client as client:
            await client.subscribe(f"{TOPICS.base}/+/state", qos=1)
            self._ready.set()
            async for message in client.messages:
                lock_id = message.topic.value.split("/")[-2]
                raw = message.payload
                if not isinstance(raw, bytes | bytearray) or not raw:
                    continue
                self.topic(lock_id).add(json.loads(raw))

    def topic(self, lock_id: str) -> LockTopic:
        """The lock's state topic as seen so far."""
        return self.states.setdefault(lock_id, LockTopic())

    async def command(self, lock_id: str, target: Target, payload: str) -> None:
        """Publish one command as Home Assistant does (QoS 1, not retained)."""
        await self._client.publish(TOPICS.command(lock_id, target), payload.encode(), qos=1)

    async def close(self) -> None:
        """Disconnect."""
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)


class BridgeWarnings(logging.Handler):
    """Keeps the MQTT bridge's warnings about failed commands, newest last (bounded by use)."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        """Keep the formatted message."""
        with contextlib.suppress(Exception):
            self.lines.append(record.getMessage())
