"""A stage for scripts: the simulated world and the add-on (``--dev``) as subprocesses, with
clients for the world's control API and the panel's websocket API (``api/ws``).

`Stage` starts `python -m ttlock_nuki_addon.sim --control-port 0 --no-demo`, reads the bus and
the control API address it prints, then `python -m ttlock_nuki_addon --dev --port 0` on that bus
without a broker, and reads the panel port from its log. Leaving the stage SIGTERMs the add-on,
then the world. Every wait is bounded; failures raise `StageError` with the processes' output.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import os
import re
import signal
import sys
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

import aiohttp

START_SECONDS = 30.0  # bound for a process to come up
STOP_SECONDS = 15.0  # bound for a process to go away after SIGTERM
CALL_SECONDS = 60.0  # default bound for one websocket request
TAIL = 4000  # characters of a process's output put into an error
POLL = 0.1
_PANEL_LINE = re.compile(r"Panel listening on (http://127\.0\.0\.1:\d+/)")
_BUS_LINE = re.compile(r"^DBUS_SYSTEM_BUS_ADDRESS=(\S+)$", re.M)
_CONTROL_LINE = re.compile(r"^Control API: (\S+)$", re.M)
T = TypeVar("T")


def _foreign(key: str) -> bool:
    """Environment the add-on must not inherit: our own options and a Supervisor token."""
    return key.startswith("TTLOCK_NUKI_") or key in ("SUPERVISOR_TOKEN", "HASSIO_TOKEN")


class StageError(Exception):
    """Something on the stage did not come up, answer or behave in time."""


async def wait_for(probe: Callable[[], Awaitable[T | None]], seconds: float, what: str) -> T:
    """Await `probe` every POLL seconds until it gives something truthy (at most `seconds`)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while True:
        value = await probe()
        if value:
            return value
        if loop.time() > deadline:
            raise StageError(f"timed out after {seconds:.0f} s waiting for {what}")
        await asyncio.sleep(POLL)


class Child:
    """One `python -m MODULE ...` subprocess whose stdout and stderr go to files."""

    def __init__(self, name: str, args: Sequence[str], env: dict[str, str], logs: Path) -> None:
        self.name, self.args, self.env = name, list(args), env
        self.paths = (logs / f"{name}.out", logs / f"{name}.err")
        self.process: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        """Start the process."""
        with self.paths[0].open("wb") as out, self.paths[1].open("wb") as err:
            self.process = await asyncio.create_subprocess_exec(
                sys.executable, *self.args, env=self.env, stdin=asyncio.subprocess.DEVNULL,
                stdout=out, stderr=err,
            )  # fmt: skip

    def output(self) -> str:
        """What it wrote so far (stdout, then stderr)."""
        return "".join(p.read_text(errors="replace") for p in self.paths if p.exists())

    def tail(self) -> str:
        """The end of its output, for error messages."""
        return f"--- {self.name} output (tail) ---\n{self.output()[-TAIL:]}"

    async def announced(self, pattern: re.Pattern[str]) -> re.Match[str]:
        """Wait until its output matches `pattern`; StageError if it exits first or times out."""

        async def probe() -> re.Match[str] | None:
            found = pattern.search(self.output())
            if found is None and self.process is not None and self.process.returncode is not None:
                raise StageError(f"{self.name} exited early\n{self.tail()}")
            return found

        try:
            return await wait_for(probe, START_SECONDS, f"{self.name} to announce itself")
        except StageError as exc:
            raise StageError(f"{exc}\n{self.tail()}") from None

    async def stop(self) -> int | None:
        """SIGTERM, wait; SIGKILL after STOP_SECONDS. The exit code (None if it was killed)."""
        process, self.process = self.process, None
        if process is None or process.returncode is not None:
            return None if process is None else process.returncode
        with contextlib.suppress(ProcessLookupError):
            process.send_signal(signal.SIGTERM)
        try:
            return await asyncio.wait_for(process.wait(), STOP_SECONDS)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            await process.wait()
            return None


class PanelClient:
    """A websocket client of the panel API: requests by id, pushes kept in order."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws
        self.pushes: list[dict[str, Any]] = []
        self._ids = itertools.count(1)
        self._waiting: dict[int, asyncio.Future[Any]] = {}
        self._reader = asyncio.create_task(self._read(), name="panel client")

    async def _read(self) -> None:
        async for message in self.ws:
            if message.type != aiohttp.WSMsgType.TEXT:
                continue
            data = json.loads(message.data)
            if "event" in data:
                self.pushes.append(data)
                continue
            future = self._waiting.pop(data.get("id"), None)
            if future is None or future.done():
                continue
            if data.get("ok"):
                future.set_result(data.get("result"))
            else:
                error = data.get("error") or {}
                future.set_exception(StageError(f"{error.get('code')}: {error.get('message')}"))
        for future in self._waiting.values():
            if not future.done():
                future.set_exception(StageError("the panel websocket closed"))

    async def call(self, verb: str, seconds: float = CALL_SECONDS, **params: Any) -> Any:
        """Send one request and return its result; StageError on an error reply or timeout."""
        request_id = next(self._ids)
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._waiting[request_id] = future
        await self.ws.send_str(json.dumps({"id": request_id, "type": verb, **params}))
        try:
            return await asyncio.wait_for(future, seconds)
        except TimeoutError:
            raise StageError(f"{verb} got no answer within {seconds:.0f} s") from None
        except StageError as exc:
            raise StageError(f"{verb} failed: {exc}") from None
        finally:
            self._waiting.pop(request_id, None)

    async def close(self) -> None:
        """Close the socket and stop reading."""
        await self.ws.close()
        self._reader.cancel()
        await asyncio.gather(self._reader, return_exceptions=True)


class Stage:
    """The world and the add-on on it; `async with Stage(workdir) as stage:`."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.http: aiohttp.ClientSession | None = None
        self.world: Child | None = None
        self.addon: Child | None = None
        self.control_url = ""
        self.panel_url = ""
        self._clients: list[PanelClient] = []

    async def __aenter__(self) -> Stage:
        try:
            await self.start()
        except BaseException:
            await self.stop()
            raise
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()

    async def start(self) -> None:
        """Start the world, then the add-on on its bus; wait until both announced themselves."""
        self.http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30))
        env = {key: value for key, value in os.environ.items() if not _foreign(key)}
        env["PYTHONUNBUFFERED"] = "1"
        world_args = ["-m", "ttlock_nuki_addon.sim", "--control-port", "0", "--no-demo"]
        self.world = Child("world", world_args, env, self.workdir)
        await self.world.start()
        bus = (await self.world.announced(_BUS_LINE))[1]
        self.control_url = (await self.world.announced(_CONTROL_LINE))[1]
        data_dir = self.workdir / "data"
        data_dir.mkdir(exist_ok=True)
        addon_args = ["-m", "ttlock_nuki_addon", "--dev", "--port", "0", "--data-dir"]
        addon_args.append(str(data_dir))
        addon_env = {**env, "DBUS_SYSTEM_BUS_ADDRESS": bus}
        self.addon = Child("addon", addon_args, addon_env, self.workdir)
        await self.addon.start()
        self.panel_url = (await self.addon.announced(_PANEL_LINE))[1]

    async def stop(self) -> None:
        """Close the clients, SIGTERM the add-on, then the world; StageError if it crashed."""
        for client in self._clients:
            with contextlib.suppress(Exception):
                await client.close()
        self._clients.clear()
        addon_code = await self.addon.stop() if self.addon is not None else 0
        if self.world is not None:
            await self.world.stop()
        if self.http is not None:
            await self.http.close()
            self.http = None
        if addon_code not in (0, None) and self.addon is not None:
            raise StageError(f"the add-on exited with code {addon_code}\n{self.addon.tail()}")

    def tails(self) -> str:
        """The end of both processes' output (for error messages)."""
        return "\n".join(child.tail() for child in (self.addon, self.world) if child is not None)

    # --- the world's control API -----------------------------------------------------------

    async def control(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        """One control API call; its JSON answer (StageError with the reason on 4xx/5xx)."""
        assert self.http is not None
        url = self.control_url + path.lstrip("/")
        async with self.http.request(method, url, json=body) as response:
            answer = await response.json(content_type=None)
            if response.status >= 400:
                raise StageError(f"control API {method} {path}: {response.status} {answer}")
            return answer

    async def add_device(self, kind: str, **options: Any) -> dict[str, Any]:
        """Put a new virtual device in range; its description (with "address")."""
        found: dict[str, Any] = await self.control("POST", "devices", {"kind": kind, **options})
        return found

    async def device(self, address: str) -> dict[str, Any]:
        """A device's current description."""
        found: dict[str, Any] = await self.control("GET", f"devices/{address}")
        return found

    async def act(self, address: str, action: str, **params: Any) -> dict[str, Any]:
        """Play one physical action on a device (touch, press_button, place_finger, ...)."""
        found: dict[str, Any] = await self.control("POST", f"devices/{address}/{action}", params)
        return found

    # --- the panel ---------------------------------------------------------------------------

    async def connect(self, headers: dict[str, str] | None = None) -> PanelClient:
        """Open a websocket to `api/ws` (closed when the stage stops); waits for "hello"."""
        assert self.http is not None
        url = self.panel_url.replace("http://", "ws://", 1) + "api/ws"
        client = PanelClient(await self.http.ws_connect(url, headers=headers or {}))
        self._clients.append(client)

        async def hello() -> bool:
            return any(push.get("event") == "hello" for push in client.pushes)

        await wait_for(hello, START_SECONDS, "the panel's hello")
        return client
