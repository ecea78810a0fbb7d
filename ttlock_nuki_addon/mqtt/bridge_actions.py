"""The MQTT bridge's calls into the manager: HA's commands and the lazy read of lock settings.

Each call runs in its own task (the message loop never waits for a lock); the manager serialises
the calls for one lock. Failures are logged with the typed error and leave the real state shown.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, Protocol

from ..errors import LockError
from ..manager_events import Subscriber, Unsubscribe
from ..params import LockSettings, SettingsUpdate
from ..snapshot import SETTING_CAPABILITIES, LockSnapshot, LockStatus
from ..validity import ValidationError
from .bridge_board import LockBoard
from .topics import Action, ActionCommand, Command

_LOGGER = logging.getLogger(__name__)
# The state HA shows while a command moves the bolt.
MOVES: dict[Action, LockStatus] = {
    Action.LOCK: LockStatus.LOCKING,
    Action.UNLOCK: LockStatus.UNLOCKING,
    Action.OPEN: LockStatus.OPENING,
    Action.LOCK_N_GO: LockStatus.UNLOCKING,
}
_SETTING_CAPS = frozenset(SETTING_CAPABILITIES.values())
Spawn = Callable[[Coroutine[Any, Any, None], str], "asyncio.Task[None]"]


class LockManagerApi(Protocol):
    """What the bridge needs from LockManager (errors are LockError; unknown lock: NotFound)."""

    def subscribe(self, callback: Subscriber) -> Unsubscribe:
        """Receive every manager event; returns the unsubscribe callable."""

    def locks(self) -> list[LockSnapshot]:
        """Every paired lock's snapshot."""

    def snapshot(self, lock_id: str) -> LockSnapshot:
        """One lock's snapshot."""

    async def lock(self, lock_id: str) -> LockSnapshot:
        """Lock."""

    async def unlock(self, lock_id: str) -> LockSnapshot:
        """Unlock."""

    async def open(self, lock_id: str) -> LockSnapshot:
        """Unlatch."""

    async def lock_n_go(self, lock_id: str) -> LockSnapshot:
        """Unlock, then lock after the lock's timer."""

    async def refresh(self, lock_id: str) -> LockSnapshot:
        """Read state and battery from the lock."""

    async def get_settings(self, lock_id: str) -> LockSettings:
        """Read the lock's settings."""

    async def set_settings(self, lock_id: str, update: SettingsUpdate) -> LockSettings:
        """Apply a settings change; the settings in force."""


def describe(exc: BaseException) -> str:
    """`ClassName: sentence` for a log line."""
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


class LockActions:
    """Runs commands through the manager and keeps the board's settings cache filled."""

    def __init__(self, manager: LockManagerApi, board: LockBoard, spawn: Spawn) -> None:
        self._manager, self._board, self._spawn = manager, board, spawn
        self._reading: dict[str, asyncio.Task[None]] = {}
        self._unreadable: set[str] = set()
        self._calls: dict[Action, Callable[[str], Awaitable[LockSnapshot]]] = {
            Action.LOCK: manager.lock,
            Action.UNLOCK: manager.unlock,
            Action.OPEN: manager.open,
            Action.LOCK_N_GO: manager.lock_n_go,
            Action.REFRESH: manager.refresh,
        }

    # --- commands --------------------------------------------------------------------------

    def dispatch(self, topic: str, command: Command) -> None:
        """Start `command` (from `topic`) if the lock exists and can do it; else one warning."""
        try:
            snapshot = self._manager.snapshot(command.lock_id)
        except LockError:
            _LOGGER.warning("Ignored a command on %s: no such lock is paired", topic)
            return
        need = command.capability
        if need is not None and need not in snapshot.capabilities:
            _LOGGER.warning("Ignored a command on %s: %s cannot do %s", topic, snapshot.name, need)
            return
        name = f"mqtt bridge: {topic}"
        if isinstance(command, ActionCommand):
            self._spawn(self._act(snapshot, command.action), name)
        else:
            self._spawn(self._configure(snapshot, command.update), name)

    def _current(self, lock_id: str) -> LockSnapshot | None:
        try:
            return self._manager.snapshot(lock_id)
        except LockError:
            return None

    async def _act(self, snapshot: LockSnapshot, action: Action) -> None:
        lock_id, moving = snapshot.id, MOVES.get(action)
        if moving is not None:
            self._board.begin(lock_id, moving)
        try:
            await self._calls[action](lock_id)
        except (LockError, ValidationError) as exc:
            _LOGGER.warning(
                "%s: %s from Home Assistant failed: %s", snapshot.name, action.value, describe(exc)
            )
        except Exception:
            _LOGGER.exception("%s: %s from Home Assistant failed", snapshot.name, action.value)
        finally:
            current = self._current(lock_id)
            if moving is not None:
                self._board.end(lock_id, moving, current)
            elif current is not None and lock_id in self._board.snapshots:
                self._board.update(current)

    async def _configure(self, snapshot: LockSnapshot, update: SettingsUpdate) -> None:
        lock_id = snapshot.id
        what = ", ".join(update.changes()).replace("_", " ")
        try:
            settings = await self._manager.set_settings(lock_id, update)
        except (LockError, ValidationError) as exc:
            _LOGGER.warning(
                "%s: changing %s from Home Assistant failed: %s", snapshot.name, what, describe(exc)
            )
            return
        except Exception:
            _LOGGER.exception("%s: changing %s from Home Assistant failed", snapshot.name, what)
            return
        self._board.set_settings(lock_id, settings)

    # --- settings -----------------------------------------------------------------------------

    def connected(self) -> None:
        """A new connection: read the settings of every lock that still lacks them."""
        self._unreadable.clear()
        for lock_id in list(self._board.snapshots):
            self.want_settings(lock_id)

    def seen(self, previous: LockSnapshot | None, snapshot: LockSnapshot) -> None:
        """A lock was added or changed; back in range after a failed read: read again."""
        if previous is not None and not previous.available and snapshot.available:
            self._unreadable.discard(snapshot.id)
        self.want_settings(snapshot.id)

    def forget(self, lock_id: str) -> None:
        """A lock was removed: stop reading its settings."""
        self._unreadable.discard(lock_id)
        task = self._reading.pop(lock_id, None)
        if task is not None:
            task.cancel()

    def want_settings(self, lock_id: str) -> None:
        """Read a lock's settings once (their entities need them), when it is in range."""
        snapshot = self._board.snapshots.get(lock_id)
        if (
            not self._board.live
            or snapshot is None
            or not snapshot.available
            or not _SETTING_CAPS & snapshot.capabilities
            or lock_id in self._board.settings
            or lock_id in self._reading
            or lock_id in self._unreadable
        ):
            return
        self._reading[lock_id] = self._spawn(
            self._read_settings(snapshot), f"mqtt bridge: settings {lock_id}"
        )

    async def _read_settings(self, snapshot: LockSnapshot) -> None:
        lock_id = snapshot.id
        try:
            settings = await self._manager.get_settings(lock_id)
        except LockError as exc:
            self._unreadable.add(lock_id)
            _LOGGER.info("%s: cannot read its settings yet: %s", snapshot.name, describe(exc))
            return
        except Exception:
            self._unreadable.add(lock_id)
            _LOGGER.exception("%s: reading its settings failed", snapshot.name)
            return
        finally:
            if self._reading.get(lock_id) is asyncio.current_task():
                del self._reading[lock_id]
        self._board.set_settings(lock_id, settings)
