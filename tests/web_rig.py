"""A WebPanel over a real LockManager and the simulated world, and a websocket test client."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from manager_rig import WAIT, Rig

from ttlock_nuki_addon.manager import LockManager
from ttlock_nuki_addon.web import Backups, KdfLimits, Limits, WebPanel

VERSION = "0.1.0"
FAST_KDF = KdfLimits(opslimit=1, memlimit=8192)  # the real cost is measured, not tested
TEMPLATE = """<!doctype html>
<html lang="{{ lang }}" data-version="{{ version }}" data-user="{{ user or '' }}">
<head><base href="{{ base }}/">
<script type="module" src="static/app.js?v={{ asset_version }}"></script></head>
<body></body></html>
"""
APP_JS = "// the panel's script\n" + "export const line = 'a line that repeats';\n" * 200
USER_HEADERS = {
    "X-Remote-User-Id": "a1b2c3",
    "X-Remote-User-Name": "alice",
    "X-Remote-User-Display-Name": "Alice Admin",
}
Json = Any


def make_web_root(path: Path) -> Path:
    """A tiny template and static tree (plus a file outside it that must never be served)."""
    (path / "templates").mkdir(parents=True)
    (path / "templates" / "index.html").write_text(TEMPLATE)
    static = path / "static"
    (static / "views").mkdir(parents=True)
    (static / "app.js").write_text(APP_JS)
    (static / "app.css").write_text("body { color: #222; }\n" * 80)
    (static / "views" / "icon.svg").write_text('<svg xmlns="http://www.w3.org/2000/svg"/>\n')
    (static / "strings.json").write_text('{"hello": "Hallo"}\n')
    (static / ".hidden").write_text("not for the browser\n")
    (path / "secret.txt").write_text("outside the static root\n")
    return path


@dataclass
class Client:
    """A websocket client that matches replies to requests and keeps every push."""

    ws: aiohttp.ClientWebSocketResponse
    pushes: list[tuple[str, Json]] = field(default_factory=list)
    replies: list[dict[str, Json]] = field(default_factory=list)
    frames: list[str] = field(default_factory=list)
    _waiting: dict[int, asyncio.Future[dict[str, Json]]] = field(default_factory=dict)
    _next: int = 1
    _reader: asyncio.Task[None] | None = None

    def start(self) -> Client:
        self._reader = asyncio.create_task(self._read())
        return self

    async def _read(self) -> None:
        async for message in self.ws:
            if message.type is not aiohttp.WSMsgType.TEXT:
                continue
            self.frames.append(message.data)
            obj = json.loads(message.data)
            if "event" in obj:
                self.pushes.append((obj["event"], obj["data"]))
                continue
            self.replies.append(obj)
            waiter = self._waiting.pop(obj["id"], None) if isinstance(obj["id"], int) else None
            if waiter is not None and not waiter.done():
                waiter.set_result(obj)

    async def send(self, verb: str, /, **params: Json) -> asyncio.Future[dict[str, Json]]:
        """Send a request; a future for its reply."""
        request_id, self._next = self._next, self._next + 1
        waiter = asyncio.get_running_loop().create_future()
        self._waiting[request_id] = waiter
        await self.ws.send_str(json.dumps({"id": request_id, "type": verb, **params}))
        return waiter

    async def call(self, verb: str, /, timeout: float = WAIT, **params: Json) -> dict[str, Json]:
        """The whole reply to one request."""
        return await asyncio.wait_for(await self.send(verb, **params), timeout)

    async def ok(self, verb: str, /, timeout: float = WAIT, **params: Json) -> Json:
        """The result of a request that must succeed."""
        reply = await self.call(verb, timeout, **params)
        assert reply["ok"] is True, reply
        return reply["result"]

    async def error(self, verb: str, /, **params: Json) -> dict[str, str]:
        """The error of a request that must fail."""
        reply = await self.call(verb, **params)
        assert reply["ok"] is False, reply
        assert set(reply["error"]) == {"code", "message"}, reply
        error: dict[str, str] = reply["error"]
        return error

    async def push(
        self, event: str, match: Callable[[Json], bool] = lambda _: True, since: int = 0
    ) -> Json:
        """The data of the first push named `event` (from index `since`) that `match`es."""
        async with asyncio.timeout(WAIT):
            while True:
                for name, data in self.pushes[since:]:
                    if name == event and match(data):
                        return data
                await asyncio.sleep(0.02)

    async def close(self) -> None:
        await self.ws.close()
        if self._reader is not None:
            await asyncio.gather(self._reader, return_exceptions=True)


class PanelRig:
    """The simulated world's rig, its manager, a panel on 127.0.0.1 and HTTP sessions."""

    def __init__(self, rig: Rig, web_root: Path) -> None:
        self.rig, self.web_root = rig, web_root
        self.panel: WebPanel | None = None
        self.manager: LockManager | None = None
        self.sessions: list[aiohttp.ClientSession] = []
        self.clients: list[Client] = []

    async def start(
        self, *, dev: bool = True, limits: Limits | None = None, host: str = "127.0.0.1"
    ) -> WebPanel:
        manager = self.manager = self.manager or await self.rig.start()
        panel = WebPanel(
            manager,
            port=0,
            dev=dev,
            version=VERSION,
            web_root=self.web_root,
            host=host,
            backup=Backups(self.rig.store, FAST_KDF),
            limits=limits,
        )
        panel.start()
        assert await asyncio.wait_for(panel.started(), WAIT)
        self.panel = panel
        return panel

    @property
    def url(self) -> str:
        assert self.panel is not None and self.panel.port is not None
        return f"http://127.0.0.1:{self.panel.port}"

    def session(self, local: str | None = None) -> aiohttp.ClientSession:
        """An HTTP session, optionally bound to a local address such as 127.0.0.2."""
        connector = aiohttp.TCPConnector(local_addr=(local, 0) if local else None)
        session = aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(WAIT))
        self.sessions.append(session)
        return session

    async def connect(self, headers: Mapping[str, str] | None = None, **kwargs: Any) -> Client:
        """A websocket client on api/ws, past its hello."""
        ws = await self.session().ws_connect(f"{self.url}/api/ws", headers=headers, **kwargs)
        client = Client(ws).start()
        self.clients.append(client)
        await client.push("hello")
        return client

    async def close(self) -> None:
        for client in self.clients:
            await client.close()
        for session in self.sessions:
            await session.close()
        if self.panel is not None:
            await self.panel.stop()
        await self.rig.stop_all()


@contextlib.asynccontextmanager
async def panel_rig(world: Any, tmp_path: Path) -> AsyncIterator[PanelRig]:
    """A PanelRig whose everything is closed afterwards."""
    rig = PanelRig(Rig(world, tmp_path / "data"), make_web_root(tmp_path / "web"))
    try:
        yield rig
    finally:
        await rig.close()
