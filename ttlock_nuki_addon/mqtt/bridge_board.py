"""What the MQTT bridge has told Home Assistant about each lock, and what it must tell it next.

No I/O: every message goes to the `send` callable (the bridge queues it for its connection).
While offline nothing is sent; `go_live` after a (re)connect republishes everything.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace

from ..model import LockEvent
from ..params import LockSettings
from ..snapshot import LockSnapshot, LockStatus
from ..validity import JSONObject
from .discovery import (
    Origin,
    discovery_payload,
    encode,
    event_payload,
    removal_topics,
    state_payload,
    with_removed,
)
from .topics import Topics, availability_payload

# States the manager reports while a driver works; they show through an optimistic overlay.
MOVING = frozenset({LockStatus.LOCKING, LockStatus.UNLOCKING, LockStatus.OPENING})


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One message to publish (QoS 1)."""

    topic: str
    payload: bytes
    retain: bool


Send = Callable[[Outgoing], None]


class LockBoard:
    """Per-lock snapshots, settings, published discovery and the optimistic lock state."""

    def __init__(
        self,
        topics: Topics,
        send: Send,
        *,
        origin: Origin,
        configuration_url: str | None = None,
    ) -> None:
        self.topics, self._send = topics, send
        self._origin, self._configuration_url = origin, configuration_url
        self.live = False
        self.snapshots: dict[str, LockSnapshot] = {}
        self.settings: dict[str, LockSettings] = {}
        # Discovery as last published (plain, without removal stubs); kept while offline so that
        # components lost meanwhile are removed on the next connect.
        self._discovery: dict[str, JSONObject] = {}
        self._state: dict[str, bytes] = {}
        self._online: dict[str, bool] = {}
        self._pending: dict[str, list[LockStatus]] = {}
        self._removed: set[str] = set()

    # --- connection ------------------------------------------------------------------------

    def go_live(self, snapshots: Iterable[LockSnapshot]) -> None:
        """After a connect: take the manager's snapshots, clear removed locks, publish all."""
        self.live = True
        self.snapshots.update((s.id, s) for s in snapshots)
        for lock_id in sorted(self._removed):
            self._clear(lock_id)
        self._removed.clear()
        self.republish()

    def go_offline(self) -> None:
        """The connection is gone: publish nothing until the next `go_live`."""
        self.live = False
        self._state.clear()
        self._online.clear()

    def republish(self) -> None:
        """Discovery, availability and state of every lock (after a connect, on HA's birth)."""
        for lock_id in sorted(self.snapshots):
            self._publish(lock_id, force=True)

    # --- manager events -----------------------------------------------------------------------

    def update(self, snapshot: LockSnapshot) -> None:
        """A lock was added or changed: publish what changed about it."""
        self.snapshots[snapshot.id] = snapshot
        self._removed.discard(snapshot.id)
        self._publish(snapshot.id)

    def remove(self, lock_id: str) -> None:
        """A lock is gone: clear its retained discovery, state and availability."""
        self.snapshots.pop(lock_id, None)
        self.settings.pop(lock_id, None)
        self._discovery.pop(lock_id, None)
        self._state.pop(lock_id, None)
        self._online.pop(lock_id, None)
        self._pending.pop(lock_id, None)
        if self.live:
            self._clear(lock_id)
        else:
            self._removed.add(lock_id)

    def event(self, event: LockEvent) -> None:
        """Activity at a lock: one event message, never retained (HA ignores retained events)."""
        if self.live and event.lock_id in self.snapshots:
            self._emit(self.topics.event(event.lock_id), encode(event_payload(event)), False)

    def set_settings(self, lock_id: str, settings: LockSettings) -> None:
        """Settings read from or written to the lock: state (and discovery limits) follow."""
        if lock_id in self.snapshots:
            self.settings[lock_id] = settings
            self._publish(lock_id)

    # --- commands in flight -----------------------------------------------------------------

    def begin(self, lock_id: str, status: LockStatus) -> None:
        """A command that moves the bolt was sent: show `status` (LOCKING...) until `end`."""
        self._pending.setdefault(lock_id, []).append(status)
        self._publish_state(lock_id, force=False)

    def end(self, lock_id: str, status: LockStatus, snapshot: LockSnapshot | None) -> None:
        """That command is over; `snapshot` is the lock's real state now (None: removed)."""
        pending = self._pending.get(lock_id)
        if pending and status in pending:
            pending.remove(status)
            if not pending:
                del self._pending[lock_id]
        if snapshot is not None and snapshot.id in self.snapshots:
            self.update(snapshot)

    # --- publishing -------------------------------------------------------------------------

    def _emit(self, topic: str, payload: bytes, retain: bool) -> None:
        self._send(Outgoing(topic, payload, retain))

    def _clear(self, lock_id: str) -> None:
        for topic in removal_topics(lock_id, self.topics):
            self._emit(topic, b"", True)

    def _publish(self, lock_id: str, *, force: bool = False) -> None:
        if not self.live or lock_id not in self.snapshots:
            return
        self._publish_discovery(lock_id, force=force)
        self._publish_availability(lock_id, force=force)
        self._publish_state(lock_id, force=force)

    def _publish_discovery(self, lock_id: str, *, force: bool) -> None:
        payload = discovery_payload(
            self.snapshots[lock_id],
            self.topics,
            origin=self._origin,
            settings=self.settings.get(lock_id),
            configuration_url=self._configuration_url,
        )
        previous = self._discovery.get(lock_id)
        if payload == previous and not force:
            return
        self._discovery[lock_id] = payload
        self._emit(self.topics.discovery(lock_id), encode(with_removed(payload, previous)), True)

    def _publish_availability(self, lock_id: str, *, force: bool) -> None:
        available = self.snapshots[lock_id].available
        if self._online.get(lock_id) is available and not force:
            return
        self._online[lock_id] = available
        topic = self.topics.availability(lock_id)
        self._emit(topic, availability_payload(available).encode(), True)

    def _publish_state(self, lock_id: str, *, force: bool) -> None:
        snapshot = self.snapshots.get(lock_id)
        if not self.live or snapshot is None:
            return
        pending = self._pending.get(lock_id)
        if pending and snapshot.status not in MOVING:
            snapshot = replace(snapshot, status=pending[0])
        payload = encode(state_payload(snapshot, self.settings.get(lock_id)))
        if self._state.get(lock_id) == payload and not force:
            return
        self._state[lock_id] = payload
        self._emit(self.topics.state(lock_id), payload, True)
