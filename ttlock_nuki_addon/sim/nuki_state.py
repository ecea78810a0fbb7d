"""What a virtual Nuki remembers: variant, authorizations, keypad codes, log and PIN guards."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from ..nuki.auth_cmds import AuthorizationEntry
from ..nuki.codec import ErrorCode
from ..nuki.gatt import Family, GattLayout, layout_for
from ..nuki.keypad_cmds import KeypadCodeEntry
from ..nuki.log_cmds import LogData, LogEntry
from ..nuki.pairing_msgs import IdType
from ..nuki.time_limits import TimeLimit

MAX_KEYPAD_CODES = 100  # a full table answers K_ERROR_TOO_MANY_ENTRIES (spec §4.9)
LOG_CAPACITY = 500


@dataclass(frozen=True, slots=True)
class Variant:
    """One simulated model: GATT family, firmware, message lengths and radio habits."""

    kind: str
    family: Family
    generation: int
    firmware: tuple[int, int, int]
    hardware: tuple[int, int]
    device_type: int | None  # spec §4.4 offset 74, only newer firmware sends it
    states_length: int  # spec §4.3: 19 (API 2.1), 21 (2.2), 27 (2.3)
    config_length: int  # spec §4.4: 71 without HomeKit/timezone id, 74, 75+ with device type
    advanced_config_length: int  # spec §4.5: 28 (2.1), 31 (2.2), 33 (5G motor speed)
    mtu: int
    drops_when_not_pairing: bool  # newer firmware drops the link instead of error 0x10
    homekit_services: bool  # spec §1.6: SL2 exposes HomeKit services before the Nuki ones
    default_pin: int

    @property
    def layout(self) -> GattLayout:
        """Service and characteristic UUIDs (spec §1.1)."""
        return layout_for(self.family)

    @property
    def pin_bytes(self) -> int:
        """Security PIN width: u16, or u32 on 5th gen (spec §2.4)."""
        return self.layout.pin_bytes

    @property
    def ultra(self) -> bool:
        """Whether pairing follows the 5th-gen flow (spec §3.4)."""
        return self.family is Family.SMART_LOCK_5G


VARIANTS: dict[str, Variant] = {
    "nuki-1": Variant(
        "nuki-1", Family.SMART_LOCK, 1, (1, 10, 0), (1, 0), None, 19, 71, 28, 23, False, False, 1234
    ),
    "nuki-2": Variant(
        "nuki-2", Family.SMART_LOCK, 2, (2, 14, 5), (2, 3), 0, 21, 74, 31, 185, True, True, 1234
    ),
    "nuki-4": Variant(
        "nuki-4", Family.SMART_LOCK, 4, (4, 2, 6), (4, 1), 4, 27, 75, 31, 185, True, False, 1234
    ),
    "nuki-5": Variant(
        "nuki-5",
        Family.SMART_LOCK_5G,
        5,
        (5, 8, 11),
        (5, 2),
        5,
        27,
        78,
        33,
        185,
        True,
        False,
        123456,
    ),
}


@dataclass(slots=True)
class Authorization:
    """One paired client: its key never leaves the simulator."""

    auth_id: int
    id_type: int
    app_id: int
    name: str
    shared_key: bytes = field(repr=False)
    created: datetime
    enabled: bool = True
    remote_allowed: bool = True
    last_active: datetime | None = None
    lock_count: int = 0
    time_limit: TimeLimit | None = None

    @property
    def is_bridge(self) -> bool:
        """Bridge authorizations clear the beacon flag and get status 0xF1 (spec §1.4, §1.5)."""
        return self.id_type == IdType.BRIDGE

    def entry(self) -> AuthorizationEntry:
        """The Authorization Entry (0x000A) for this authorization."""
        return AuthorizationEntry(
            auth_id=self.auth_id,
            id_type=self.id_type,
            name=self.name,
            enabled=self.enabled,
            remote_allowed=self.remote_allowed,
            date_created=self.created,
            date_last_active=self.last_active,
            lock_count=self.lock_count,
            time_limit=self.time_limit,
        )

    def describe(self) -> dict[str, Any]:
        """The control API's view: never the key."""
        kind = IdType(self.id_type).name.lower() if self.id_type in set(IdType) else self.id_type
        return {
            "id": self.auth_id,
            "name": self.name,
            "type": kind,
            "app_id": self.app_id,
            "enabled": self.enabled,
            "time_limited": self.time_limit is not None,
            "lock_count": self.lock_count,
        }


@dataclass(slots=True)
class KeypadCode:
    """A keypad code with its time limit (spec §4.9)."""

    code_id: int
    code: int = field(repr=False)
    name: str
    created: datetime
    enabled: bool = True
    last_active: datetime | None = None
    lock_count: int = 0
    time_limit: TimeLimit | None = None

    def allows(self, local_now: datetime) -> bool:
        """Whether typing it opens the lock at lock-local `local_now`."""
        return self.enabled and (self.time_limit is None or self.time_limit.allows(local_now))

    def entry(self) -> KeypadCodeEntry:
        """The Keypad Code (0x0045) for this code."""
        return KeypadCodeEntry(
            code_id=self.code_id,
            code=self.code,
            name=self.name,
            enabled=self.enabled,
            date_created=self.created,
            date_last_active=self.last_active,
            lock_count=self.lock_count,
            time_limit=self.time_limit,
        )

    def describe(self) -> dict[str, Any]:
        """The control API's view: the code itself masked."""
        return {
            "id": self.code_id,
            "name": self.name,
            "code": "******",
            "enabled": self.enabled,
            "time_limited": self.time_limit is not None,
            "lock_count": self.lock_count,
        }


class ActivityLog:
    """The lock's activity log (spec §4.7): bounded, indexes counting up from 1."""

    def __init__(self, capacity: int = LOG_CAPACITY) -> None:
        self.capacity = capacity
        self.entries: list[LogEntry] = []
        self.enabled = True
        self._next_index = 1

    def add(self, when: datetime, auth_id: int, name: str, kind: int, data: LogData) -> None:
        """Append an entry (the oldest goes when full); nothing while logging is off."""
        if not self.enabled:
            return
        self.entries.append(LogEntry(self._next_index, when, auth_id, name[:32], kind, data))
        self._next_index += 1
        del self.entries[: -self.capacity]

    def select(self, start_index: int, count: int, descending: bool) -> list[LogEntry]:
        """Entries for Request Log Entries: from `start_index` (0 = first in that order)."""
        ordered = list(reversed(self.entries)) if descending else list(self.entries)
        if start_index:
            ordered = [
                e
                for e in ordered
                if (e.index <= start_index if descending else e.index >= start_index)
            ]
        return ordered[:count]


class PinGuard:
    """Security PIN attempts: after `limit` wrong ones in a row the lock refuses PINs a while."""

    def __init__(self, limit: int = 3, lockout: timedelta = timedelta(seconds=60)) -> None:
        self.limit = limit
        self.lockout = lockout
        self.wrong = 0
        self.locked_until: datetime | None = None

    def check(self, given: int, expected: int, now: datetime) -> ErrorCode | None:
        """None when the PIN is right and allowed now; else the error to answer (spec §4.11)."""
        if self.locked_until is not None:
            if now < self.locked_until:
                return ErrorCode.K_ERROR_TOO_MANY_PIN_ATTEMPTS
            self.locked_until, self.wrong = None, 0
        if given == expected:
            self.wrong = 0
            return None
        self.wrong += 1
        if self.wrong >= self.limit:
            self.locked_until = now + self.lockout
        return ErrorCode.K_ERROR_BAD_PIN

    def locked(self, now: datetime) -> bool:
        """Whether PINs are refused at `now`."""
        return self.locked_until is not None and now < self.locked_until


_KEYPAD_TIMEOUTS = (
    ErrorCode.K_ERROR_CODE_INVALID_TIMEOUT_1,
    ErrorCode.K_ERROR_CODE_INVALID_TIMEOUT_2,
    ErrorCode.K_ERROR_CODE_INVALID_TIMEOUT_3,
)


class KeypadGuard:
    """Wrong keypad codes: every `per_level` in a row block the keypad longer (spec §4.11)."""

    def __init__(
        self, per_level: int = 3, lockouts: tuple[float, float, float] = (30.0, 120.0, 600.0)
    ) -> None:
        self.per_level = per_level
        self.lockouts = lockouts
        self.wrong = 0
        self.level = 0
        self.locked_until: datetime | None = None

    def blocked(self, now: datetime) -> ErrorCode | None:
        """The escalating error while the keypad is blocked, None when codes are taken."""
        if self.locked_until is not None and now < self.locked_until:
            return _KEYPAD_TIMEOUTS[self.level - 1]
        return None

    def failed(self, now: datetime) -> None:
        """Count a wrong code; block the keypad once enough came in a row."""
        self.wrong += 1
        if self.wrong >= self.per_level:
            self.level = min(self.level + 1, len(self.lockouts))
            self.locked_until = now + timedelta(seconds=self.lockouts[self.level - 1])
            self.wrong = 0

    def succeeded(self) -> None:
        """A right code resets the count and the escalation."""
        self.wrong = self.level = 0
        self.locked_until = None


@dataclass(slots=True)
class NukiMemory:
    """Everything pairing and configuration leave on the lock."""

    security_pin: int = field(repr=False)
    authorizations: dict[int, Authorization] = field(default_factory=dict)
    keypad_codes: dict[int, KeypadCode] = field(default_factory=dict)
    log: ActivityLog = field(default_factory=ActivityLog)
    max_authorizations: int = 200  # spec §4.11: P_ERROR_MAX_USER beyond it (S8)
    max_keypad_codes: int = MAX_KEYPAD_CODES
    config_update_count: int = 0
    next_code_id: int = 1

    def bump_config(self) -> None:
        """A configuration change: Keyturner States offset 13 counts it (spec §4.3)."""
        self.config_update_count = (self.config_update_count + 1) & 0xFF

    def new_code_id(self) -> int:
        """The next keypad code id (u16, never reused while the lock lives)."""
        code_id = self.next_code_id
        self.next_code_id = code_id % 0xFFFF + 1
        return code_id

    def describe(self) -> dict[str, Any]:
        """Authorizations and keypad codes as the control API shows them."""
        return {
            "authorizations": [a.describe() for a in self.authorizations.values()],
            "keypad_codes": [c.describe() for c in self.keypad_codes.values()],
        }


def counter(start: int = 1) -> Callable[[], int]:
    """An auth-id source counting up from `start`."""
    state = [start]

    def take() -> int:
        value = state[0]
        state[0] = value + 1
        return value

    return take
