"""Brand-neutral types (re-exported from the small type modules) and the LockDriver protocol."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol, runtime_checkable

from .credentials import (
    Credential,
    CredentialKind,
    CredentialSpec,
    EnrolmentProgress,
    ProgressCallback,
)
from .errors import (
    AuthError,
    BusyError,
    DisconnectedError,
    LockError,
    LockTimeoutError,
    NotReachableError,
    ProtocolError,
)
from .params import AUTO_LOCK_MAX, LockSettings, PairAs, PairingParams, SettingsUpdate
from .snapshot import (
    SETTING_CAPABILITIES,
    Brand,
    Capability,
    Discovery,
    DoorState,
    LockSnapshot,
    LockStatus,
    PairingHint,
    capability_for,
    lock_id_from_address,
)
from .validity import (
    JSONObject,
    JSONValue,
    Once,
    Period,
    Permanent,
    ValidationError,
    Validity,
    ValidityType,
    Weekday,
    Weekly,
    check_name,
    expect_object,
    opt_str,
    parse_aware,
    parse_enum,
)

__all__ = [
    "AUTO_LOCK_MAX",
    "LINK_ERRORS",
    "SETTING_CAPABILITIES",
    "AdvertResult",
    "Brand",
    "Capability",
    "Credential",
    "CredentialKind",
    "CredentialSpec",
    "Discovery",
    "DoorState",
    "EnrolmentProgress",
    "EventKind",
    "EventSource",
    "JSONObject",
    "JSONValue",
    "LockDriver",
    "LockEvent",
    "LockSettings",
    "LockSnapshot",
    "LockStatus",
    "Once",
    "PairAs",
    "PairingHint",
    "PairingParams",
    "Period",
    "Permanent",
    "ProgressCallback",
    "SettingsUpdate",
    "ValidationError",
    "Validity",
    "ValidityType",
    "Weekday",
    "Weekly",
    "capability_for",
    "check_name",
    "lock_id_from_address",
]


class EventKind(StrEnum):
    """What happened at the lock; the activity event types in HA."""

    LOCKED = "locked"
    UNLOCKED = "unlocked"
    OPENED = "opened"
    JAMMED = "jammed"
    FAILED_ATTEMPT = "failed_attempt"
    TAMPER = "tamper"
    BATTERY_LOW = "battery_low"
    DOOR_OPENED = "door_opened"
    DOOR_CLOSED = "door_closed"
    CREDENTIAL_ADDED = "credential_added"
    CREDENTIAL_REMOVED = "credential_removed"
    CREDENTIAL_CHANGED = "credential_changed"
    OTHER = "other"


class EventSource(StrEnum):
    """Who or what caused an event."""

    APP = "app"
    KEYPAD = "keypad"
    CARD = "card"
    FINGERPRINT = "fingerprint"
    MANUAL = "manual"
    KEY = "key"
    BUTTON = "button"
    FOB = "fob"
    AUTO = "auto"
    SCHEDULE = "schedule"
    REMOTE = "remote"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class LockEvent:
    """Something that happened at a lock and who did it; `time` is timezone-aware."""

    lock_id: str
    kind: EventKind
    source: EventSource
    time: datetime
    credential_id: str | None = None
    credential_name: str | None = None
    user: str | None = None

    def __post_init__(self) -> None:
        if self.time.utcoffset() is None:
            raise ValidationError("'time' must be timezone-aware.")

    def to_json(self) -> JSONObject:
        """The websocket shape (without lock_id)."""
        return {
            "kind": self.kind.value,
            "source": self.source.value,
            "credential_id": self.credential_id,
            "credential_name": self.credential_name,
            "user": self.user,
            "time": self.time.isoformat(),
        }

    @classmethod
    def from_json(cls, lock_id: str, value: object) -> LockEvent:
        """Parse the websocket shape strictly for the lock `lock_id`."""
        obj = expect_object(
            value,
            "event",
            required=("kind", "source", "time"),
            optional=("credential_id", "credential_name", "user"),
        )
        return cls(
            lock_id=lock_id,
            kind=parse_enum(EventKind, obj["kind"], "kind"),
            source=parse_enum(EventSource, obj["source"], "source"),
            time=parse_aware(obj["time"], "time"),
            credential_id=opt_str(obj, "credential_id"),
            credential_name=opt_str(obj, "credential_name"),
            user=opt_str(obj, "user"),
        )


@dataclass(frozen=True, slots=True)
class AdvertResult:
    """What an advert implies: events seen in it alone, and whether to call read_events()."""

    fetch: bool = False
    events: tuple[LockEvent, ...] = ()


# Any LockDriver I/O method may raise these besides the errors its docstring names.
LINK_ERRORS: tuple[type[LockError], ...] = (
    NotReachableError,
    LockTimeoutError,
    DisconnectedError,
    ProtocolError,
    AuthError,
    BusyError,
)


@runtime_checkable
class LockDriver(Protocol):
    """One paired lock of either brand; the manager never runs two of its I/O calls at once."""

    @property
    def capabilities(self) -> frozenset[Capability]:
        """What this lock can do; the same set as snapshot.capabilities."""
        ...

    @property
    def snapshot(self) -> LockSnapshot:
        """The latest known state, kept current by commands and adverts; no I/O."""
        ...

    def rename(self, name: str) -> None:
        """Use `name` as display name (snapshot, store) from now on; no I/O. ValidationError."""
        ...

    async def lock(self) -> LockSnapshot:
        """Lock; return the new snapshot. CommandRejectedError (snapshot JAMMED if blocked)."""
        ...

    async def unlock(self) -> LockSnapshot:
        """Unlock; return the new snapshot. CommandRejectedError (snapshot JAMMED if blocked)."""
        ...

    async def open(self) -> LockSnapshot:
        """Unlatch the door; return the new snapshot. NotSupportedError without OPEN."""
        ...

    async def lock_n_go(self) -> LockSnapshot:
        """Unlock now and lock again after the lock's timer. NotSupportedError without it."""
        ...

    async def refresh(self) -> LockSnapshot:
        """Read state and battery from the lock; return the new snapshot."""
        ...

    async def list_credentials(self, kind: CredentialKind | None = None) -> list[Credential]:
        """Credentials of `kind` (None: all kinds it has). NotSupportedError for other kinds."""
        ...

    async def add_credential(
        self, spec: CredentialSpec, progress: ProgressCallback | None = None
    ) -> Credential | None:
        """Add/enrol; None if cancelled. NotSupportedError, CommandRejectedError, timeout."""
        ...

    async def update_credential(self, credential: Credential) -> Credential:
        """Store name, code and validity for (kind, id); return it. CommandRejectedError."""
        ...

    async def delete_credential(self, kind: CredentialKind, credential_id: str) -> None:
        """Delete a credential; one that is already gone counts as deleted."""
        ...

    async def cancel_enrolment(self) -> None:
        """Stop a running enrolment (called while add_credential waits); no-op if none."""
        ...

    async def get_settings(self) -> LockSettings:
        """Read the settings; those the lock lacks are None."""
        ...

    async def set_settings(self, update: SettingsUpdate) -> LockSettings:
        """Apply `update`; return the settings in force. NotSupportedError, ValidationError."""
        ...

    async def read_events(self, new_only: bool = True) -> list[LockEvent]:
        """Log events oldest first, only unread ones if new_only; updates the snapshot too."""
        ...

    async def reset(self) -> None:
        """Factory-reset the lock, wiping all users and credentials. NotSupportedError."""
        ...

    async def unpair(self) -> None:
        """Remove only this add-on's authorization from the lock. NotSupportedError."""
        ...

    def on_advert(self, advert: object) -> AdvertResult:
        """Fold an advert into the snapshot, ignoring foreign ones; never raises, no I/O."""
        ...

    async def close(self) -> None:
        """Drop the link and stop timers; idempotent and never raises."""
        ...
