"""What the panel's handlers share: limits, the Home Assistant user, the running state."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web

from ..manager import LockManager
from ..validity import JSONObject
from .backup import Backups

WEB_ROOT_ENV = "TTLOCK_NUKI_WEB_ROOT"
_USER_HEADERS = ("X-Remote-User-Id", "X-Remote-User-Name", "X-Remote-User-Display-Name")
_MAX_USER_FIELD = 128


def default_web_root() -> Path:
    """Where templates/ and static/ live: $TTLOCK_NUKI_WEB_ROOT, else <repo>/web."""
    named = os.environ.get(WEB_ROOT_ENV)
    return Path(named) if named else Path(__file__).resolve().parent.parent.parent / "web"


@dataclass(frozen=True, slots=True)
class Limits:
    """Per-socket bounds that keep one browser tab from starving the add-on."""

    max_message: int = 64 * 1024  # bytes; a bigger frame closes the socket (1009)
    in_flight: int = 16  # requests running at once; more are answered `busy`
    rate: float = 50.0  # requests per second, sustained
    burst: int = 50  # requests at once after a quiet spell
    sockets: int = 32  # open websockets per panel; more are refused (503)
    queue: int = 256  # outgoing messages waiting; a client this far behind is closed (1008)
    send_seconds: float = 10.0  # a client that takes no message for this long is closed (1008)
    heartbeat: float = 30.0  # seconds between pings, so dead ingress sockets are noticed
    request_seconds: float = 600.0  # the add-on gives up on a request after this long
    close_seconds: float = 1.0  # a closing handshake waits this long for the client


@dataclass(frozen=True, slots=True)
class HaUser:
    """The Home Assistant user the ingress proxy named in X-Remote-User-* headers."""

    id: str | None
    name: str | None
    display_name: str | None

    @property
    def label(self) -> str | None:
        """The name events record: display name, else user name, else id."""
        return self.display_name or self.name or self.id

    def to_json(self) -> JSONObject:
        """{"id", "name", "display_name"}."""
        return {"id": self.id, "name": self.name, "display_name": self.display_name}

    @classmethod
    def from_headers(cls, headers: Mapping[str, str]) -> HaUser | None:
        """The user the headers name (each value trimmed, printable, bounded), or None."""
        values: list[str | None] = []
        for header in _USER_HEADERS:
            value = headers.get(header, "").strip()[:_MAX_USER_FIELD]
            values.append(value if value and value.isprintable() else None)
        if not any(values):
            return None
        return cls(*values)


class Bucket:
    """A token bucket: `rate` tokens a second, at most `burst` saved up."""

    def __init__(self, rate: float, burst: int) -> None:
        self._rate, self._burst = rate, float(burst)
        self._tokens, self._at = float(burst), asyncio.get_running_loop().time()

    def take(self) -> bool:
        """Spend one token if there is one."""
        now = asyncio.get_running_loop().time()
        self._tokens = min(self._burst, self._tokens + (now - self._at) * self._rate)
        self._at = now
        if self._tokens < 1.0:
            return False
        self._tokens -= 1.0
        return True


@dataclass(eq=False)
class PanelState:
    """The running panel: its manager, settings, open sockets and request tasks."""

    manager: LockManager
    version: str
    dev: bool
    web_root: Path
    limits: Limits
    backups: Backups | None
    sockets: set[web.WebSocketResponse[Any]] = field(default_factory=set)
    tasks: set[asyncio.Task[Any]] = field(default_factory=set)
    # Card/fingerprint enrolment requests per lock, in the order they queue for the lock.
    enrolling: dict[str, list[asyncio.Task[None]]] = field(default_factory=dict)
    stopping: bool = False

    def spawn(self, task: asyncio.Task[Any]) -> None:
        """Track a request task until it ends, so stop() can end it."""
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)


PANEL = web.AppKey("panel", PanelState)
