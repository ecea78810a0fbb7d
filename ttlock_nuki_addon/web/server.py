"""WebPanel: the aiohttp server on the ingress port; a Service of the add-on (see app.py)."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import aiohttp_jinja2
import jinja2
from aiohttp import WSCloseCode, web

from ..manager import LockManager
from .api import close_socket, websocket
from .backup import Backups
from .context import PANEL, Limits, PanelState, default_web_root
from .guard import make_guard, quiet_bad_requests, security_headers
from .pages import ASSETS, Assets, health, index, static

_LOGGER = logging.getLogger(__name__)
STOPPING = "The add-on is stopping"


def build_app(state: PanelState) -> web.Application:
    """The aiohttp application: the guard, the page, static files, /health and api/ws."""
    limit = state.limits.max_message
    app = web.Application(
        middlewares=[make_guard(dev=state.dev, max_body=limit)], client_max_size=limit
    )
    app[PANEL] = state
    app[ASSETS] = Assets(state.web_root / "static")
    loader = jinja2.FileSystemLoader(state.web_root / "templates")
    aiohttp_jinja2.setup(app, loader=loader, autoescape=True)
    app.router.add_get("/", index)
    app.router.add_get("/static/{path:.*}", static)
    app.router.add_get("/health", health)
    app.router.add_get("/api/ws", websocket)
    app.on_response_prepare.append(security_headers)
    return app


class WebPanel:
    """The web panel: the page, its files and the websocket API, behind HA's ingress."""

    def __init__(
        self,
        manager: LockManager,
        *,
        port: int,
        dev: bool,
        version: str,
        web_root: Path | None = None,
        host: str = "0.0.0.0",  # noqa: S104 - the Supervisor's proxy reaches the add-on over its network
        backup: Backups | None = None,
        limits: Limits | None = None,
    ) -> None:
        self.state = PanelState(
            manager=manager,
            version=version,
            dev=dev,
            web_root=web_root or default_web_root(),
            limits=limits or Limits(),
            backups=backup,
        )
        self._host, self._wanted = host, port
        self._port: int | None = None
        self._runner: web.AppRunner | None = None
        self._task: asyncio.Task[None] | None = None
        self._bound = asyncio.Event()

    @property
    def port(self) -> int | None:
        """The port the panel listens on (the real one when asked for 0), None if not bound."""
        return self._port

    async def started(self) -> bool:
        """Wait until the server listens (True) or failed to start (False)."""
        await self._bound.wait()
        return self._port is not None

    def start(self) -> None:
        """Start listening in the background; a failure is logged, the add-on keeps running."""
        if self._task is None:
            self._task = asyncio.create_task(self._serve(), name="panel: start")

    async def _serve(self) -> None:
        quiet_bad_requests()
        runner = web.AppRunner(build_app(self.state), access_log=None, shutdown_timeout=1.0)
        try:
            await runner.setup()
            await web.TCPSite(runner, self._host, self._wanted).start()
        except OSError as exc:
            _LOGGER.error(
                "The web panel cannot listen on port %d: %s. The add-on runs on without its "
                "panel; free the port or choose another one.",
                self._wanted, exc.strerror or exc,
            )  # fmt: skip
            await runner.cleanup()
            return
        except Exception:
            _LOGGER.exception("The web panel failed to start; the add-on runs on without it")
            await runner.cleanup()
            return
        finally:
            self._bound.set()
        self._runner = runner
        self._port = int(runner.addresses[0][1])
        _LOGGER.info("Panel listening on http://127.0.0.1:%d/", self._port)
        if self.state.dev:
            _LOGGER.warning("Dev mode: the panel also serves loopback clients without ingress")

    async def stop(self) -> None:
        """Close every websocket (1001), end every request task, stop listening."""
        state = self.state
        state.stopping = True
        if self._task is not None and not self._task.done():
            self._task.cancel()
        if self._task is not None:
            await asyncio.gather(self._task, return_exceptions=True)
        seconds = state.limits.close_seconds
        await asyncio.gather(
            *(close_socket(ws, WSCloseCode.GOING_AWAY, STOPPING, seconds) for ws in state.sockets)
        )
        for _ in range(3):  # a task ending may start one more (an enrolment's cancellation)
            tasks = list(state.tasks)
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        runner, self._runner, self._port = self._runner, None, None
        if runner is not None:
            try:
                await runner.cleanup()
            except Exception:
                _LOGGER.exception("The web panel did not stop cleanly")
        self._bound.set()
