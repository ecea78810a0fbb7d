"""The control API: an aiohttp app on loopback through which people and tests play the world."""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from types import TracebackType
from typing import Any

from aiohttp import web

from .peripheral import ActionError
from .world import SimWorld, UnknownDeviceError, describe_device

_LOGGER = logging.getLogger(__name__)

HOST = "127.0.0.1"
DEFAULT_PORT = 8098
MAX_BODY = 64 * 1024
SHUTDOWN_TIMEOUT = 2.0
WORLD: web.AppKey[SimWorld] = web.AppKey("world", SimWorld)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@functools.cache
def _page() -> str:
    """The hand-play page, shipped beside this module."""
    return (Path(__file__).parent / "static" / "control.html").read_text(encoding="utf-8")


class ApiError(Exception):
    """A request the API refuses: HTTP status and a reason for the caller."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


def _json_default(value: object) -> object:
    """Make bytes and sets from describe()/action results JSON-friendly."""
    if isinstance(value, bytes | bytearray):
        return value.hex()
    if isinstance(value, set | frozenset):
        return sorted(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


_dumps = functools.partial(json.dumps, default=_json_default)


def _json(data: object, status: int = 200) -> web.Response:
    return web.json_response(data, status=status, dumps=_dumps)


def _error(status: int, reason: str) -> web.Response:
    return _json({"ok": False, "error": reason}, status)


@web.middleware
async def _errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Turn every refusal into a JSON {"ok": false, "error": reason} with a 4xx/5xx status."""
    try:
        return await handler(request)
    except ApiError as exc:
        return _error(exc.status, exc.reason)
    except UnknownDeviceError as exc:
        return _error(404, str(exc))
    except ActionError as exc:
        return _error(400, str(exc))
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        return _error(exc.status, exc.reason)
    except Exception:
        _LOGGER.exception("control API request %s %s failed", request.method, request.path)
        return _error(500, "internal error in the simulated world (see its log)")


async def _read_object(request: web.Request) -> dict[str, Any]:
    """The request body as a JSON object; an empty body is {}."""
    if request.content_length is not None and request.content_length > MAX_BODY:
        raise ApiError(413, f"the body is larger than {MAX_BODY} bytes")
    try:
        raw = await request.read()
    except web.HTTPRequestEntityTooLarge as exc:
        raise ApiError(413, f"the body is larger than {MAX_BODY} bytes") from exc
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except ValueError as exc:
        raise ApiError(400, f"the body is not valid JSON: {exc}") from exc
    if not isinstance(body, dict):
        raise ApiError(400, "the body must be a JSON object")
    return body


async def _index(request: web.Request) -> web.Response:
    return web.Response(text=_page(), content_type="text/html", charset="utf-8")


async def _list_devices(request: web.Request) -> web.Response:
    return _json(request.app[WORLD].describe())


async def _list_kinds(request: web.Request) -> web.Response:
    kinds = request.app[WORLD].kinds.values()
    return _json([{"kind": spec.kind, "demo": spec.demo} for spec in kinds])


async def _add_device(request: web.Request) -> web.Response:
    world = request.app[WORLD]
    options = await _read_object(request)
    kind = options.pop("kind", None)
    if kind is None:
        known = ", ".join(sorted(world.kinds))
        raise ApiError(400, f"'kind' is required (known: {known})")
    return _json(describe_device(world.add_device(kind, options)), 201)


async def _get_device(request: web.Request) -> web.Response:
    return _json(describe_device(request.app[WORLD].require(request.match_info["address"])))


async def _remove_device(request: web.Request) -> web.Response:
    world = request.app[WORLD]
    peripheral = world.require(request.match_info["address"])
    await world.remove_device(peripheral.address)
    return _json({"ok": True, "removed": peripheral.address})


async def _perform(request: web.Request) -> web.Response:
    world = request.app[WORLD]
    peripheral = world.require(request.match_info["address"])
    params = await _read_object(request)
    result = peripheral.perform(request.match_info["action"], params)
    return _json({**result, "ok": True})


def create_app(world: SimWorld) -> web.Application:
    """The control API for one world."""
    app = web.Application(middlewares=[_errors], client_max_size=MAX_BODY)
    app[WORLD] = world
    app.router.add_get("/", _index)
    app.router.add_get("/kinds", _list_kinds)
    app.router.add_get("/devices", _list_devices)
    app.router.add_post("/devices", _add_device)
    app.router.add_get("/devices/{address}", _get_device)
    app.router.add_delete("/devices/{address}", _remove_device)
    app.router.add_post("/devices/{address}/{action}", _perform)
    return app


class ControlServer:
    """Serve the control API on 127.0.0.1; port 0 picks a free port, see `port` after start."""

    def __init__(self, world: SimWorld, port: int = DEFAULT_PORT) -> None:
        self._world = world
        self._requested_port = port
        self._runner: web.AppRunner | None = None
        self.port = 0

    @property
    def url(self) -> str:
        """Base URL of the running API, with a trailing slash."""
        return f"http://{HOST}:{self.port}/"

    async def start(self) -> int:
        """Bind and serve; returns the bound port. OSError if the port is taken."""
        runner = web.AppRunner(
            create_app(self._world), access_log=None, shutdown_timeout=SHUTDOWN_TIMEOUT
        )
        await runner.setup()
        try:
            await web.TCPSite(runner, HOST, self._requested_port).start()
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner
        self.port = int(runner.addresses[0][1])
        return self.port

    async def stop(self) -> None:
        """Stop serving."""
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()

    async def __aenter__(self) -> ControlServer:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()
