"""What LockManager tells its subscribers (MQTT bridge, websocket clients), with JSON shapes."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar, TypeAlias

from .credentials import EnrolmentProgress
from .errors import LockError
from .manager_activity import acting_as
from .model import LockEvent
from .params import LockSettings
from .snapshot import Discovery, LockSnapshot
from .validity import JSONObject

__all__ = [
    "CredentialProgress",
    "DiscoveryUpdated",
    "LockActivity",
    "LockAdded",
    "LockRemoved",
    "LockUpdated",
    "ManagerEvent",
    "NotFoundError",
    "ScanState",
    "SettingsUpdated",
    "Subscriber",
    "Unsubscribe",
    "acting_as",
]


class NotFoundError(LockError):
    """No lock (or credential) with that id is known to the add-on."""

    code = "not_found"
    default_message = "That lock is not paired with the add-on (any more)."


@dataclass(frozen=True, slots=True)
class _SnapshotEvent:
    """An event that carries one lock's whole snapshot."""

    type: ClassVar[str]
    snapshot: LockSnapshot

    @property
    def lock_id(self) -> str:
        """The lock this is about."""
        return self.snapshot.id

    def to_json(self) -> JSONObject:
        """{"type", "lock": snapshot}."""
        return {"type": self.type, "lock": self.snapshot.to_json()}


@dataclass(frozen=True, slots=True)
class LockUpdated(_SnapshotEvent):
    """A paired lock's snapshot changed (state, battery, availability, name, capabilities)."""

    type: ClassVar[str] = "lock_updated"


@dataclass(frozen=True, slots=True)
class LockActivity:
    """Something happened at a lock (from an advert, a push or its log); never retained."""

    type: ClassVar[str] = "lock_event"
    event: LockEvent

    @property
    def lock_id(self) -> str:
        """The lock this is about."""
        return self.event.lock_id

    def to_json(self) -> JSONObject:
        """{"type", "lock_id", "event": event}."""
        return {"type": self.type, "lock_id": self.lock_id, "event": self.event.to_json()}


@dataclass(frozen=True, slots=True)
class DiscoveryUpdated:
    """The list of heard, unpaired locks changed; it carries the whole new list."""

    type: ClassVar[str] = "discovery_updated"
    discoveries: tuple[Discovery, ...]

    def to_json(self) -> JSONObject:
        """{"type", "discoveries": [discovery, ...]}."""
        return {"type": self.type, "discoveries": [d.to_json() for d in self.discoveries]}


@dataclass(frozen=True, slots=True)
class LockAdded(_SnapshotEvent):
    """A lock joined the registry: paired now, or loaded from the store."""

    type: ClassVar[str] = "lock_added"


@dataclass(frozen=True, slots=True)
class LockRemoved:
    """A lock left the registry (removed, or reset by hand and forgotten)."""

    type: ClassVar[str] = "lock_removed"
    lock_id: str

    def to_json(self) -> JSONObject:
        """{"type", "lock_id"}."""
        return {"type": self.type, "lock_id": self.lock_id}


@dataclass(frozen=True, slots=True)
class CredentialProgress:
    """A card or fingerprint enrolment moved on."""

    type: ClassVar[str] = "credential_progress"
    lock_id: str
    progress: EnrolmentProgress

    def to_json(self) -> JSONObject:
        """{"type", "lock_id", "step", "total", "message"}."""
        return {"type": self.type, "lock_id": self.lock_id, **self.progress.to_json()}


@dataclass(frozen=True, slots=True)
class SettingsUpdated:
    """A lock's settings were read from it or written to it; they are in force now."""

    type: ClassVar[str] = "settings_updated"
    lock_id: str
    settings: LockSettings

    def to_json(self) -> JSONObject:
        """{"type", "lock_id", "settings": settings}."""
        return {"type": self.type, "lock_id": self.lock_id, "settings": self.settings.to_json()}


@dataclass(frozen=True, slots=True)
class ScanState:
    """Whether the scan runs (`error`: why not), and a panel's discovery window until when."""

    type: ClassVar[str] = "scan_state"
    scanning: bool
    error: str | None = None
    discovering: bool = False
    until: datetime | None = None

    def to_json(self) -> JSONObject:
        """{"type", "scanning", "discovering", "until", "error"}."""
        return {
            "type": self.type,
            "scanning": self.scanning,
            "discovering": self.discovering,
            "until": None if self.until is None else self.until.isoformat(),
            "error": self.error,
        }


ManagerEvent: TypeAlias = (
    LockUpdated
    | LockActivity
    | DiscoveryUpdated
    | LockAdded
    | LockRemoved
    | CredentialProgress
    | ScanState
    | SettingsUpdated
)
Subscriber: TypeAlias = Callable[[ManagerEvent], None]
Unsubscribe: TypeAlias = Callable[[], None]
