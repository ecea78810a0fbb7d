"""What a virtual TTLock remembers: keys, credentials with validity, settings and its log."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from enum import IntEnum
from typing import TYPE_CHECKING, Any

from ..ttlock.card_cmds import CyclicEntry, CyclicUserType
from ..ttlock.codec import Response
from ..ttlock.commands import AdminKeys, InitPasswords
from ..ttlock.dates import PERMANENT_END, PERMANENT_START
from ..ttlock.features import Feature
from ..ttlock.oplog import LOG_ALL, LOG_NEW, LogRecord
from ..ttlock.passcode_cmds import PasscodeType
from ..ttlock.settings_cmds import PassageEntry, PassageType, SwitchItem
from ..ttlock.validity_map import cyclic_allows, validity_of_passcode

if TYPE_CHECKING:
    from .ttlock import VirtualTTLock

# Capacities of the simulated memory; a full table answers error 0x16 (spec §5.5.14).
MAX_PASSCODES = 150
MAX_CARDS = 100
MAX_FINGERPRINTS = 50
LOG_CAPACITY = 500
_WIRE_SEQS = 0xFFFE  # log sequence numbers run 1..0xFFFE: 0 = "from the start", FFFF = "new"
SUPPORTED_SWITCHES = SwitchItem.RESET_BUTTON

Reply = Response | tuple[Response, ...] | None


class Auth(IntEnum):
    """What a command needs on this connection (spec §5.3)."""

    NONE = 0
    ADMIN = 1  # ADD_ADMIN, or CHECK_ADMIN + CHECK_RANDOM, on this link
    SESSION = 2  # an admin session, or CHECK_USER_TIME + CHECK_RANDOM


@dataclass(frozen=True, slots=True)
class CommandSpec:
    """One command the virtual lock understands: handler, authentication, feature bit."""

    handler: Callable[[VirtualTTLock, bytes], Reply]
    auth: Auth = Auth.NONE
    feature: Feature | None = None


@dataclass(slots=True)
class Session:
    """Per-connection authentication state; a new link starts unauthenticated."""

    admin: bool = False
    user: bool = False
    ps_from_lock: int | None = field(default=None, repr=False)
    ps_by_admin: bool = False
    uid: int = 0


@dataclass(slots=True)
class StoredPasscode:
    """A keypad passcode: current code, the code it was created as, type and validity."""

    type: int
    code: str = field(repr=False)
    original: str = field(repr=False)
    start: datetime = PERMANENT_START
    end: datetime | None = None
    cycle_type: int | None = None
    used: bool = False

    def allows(self, now: datetime) -> bool:
        """Whether typing it opens the lock at lock-local `now` (one-time codes work once)."""
        if self.type == PasscodeType.PERMANENT:
            return now >= self.start
        if self.type == PasscodeType.COUNT and self.used:
            return False
        return validity_of_passcode(self.type, self.start, self.end, self.cycle_type).allows(now)

    def describe(self) -> dict[str, Any]:
        """The simulator's own view (codes included)."""
        return {
            "code": self.code,
            "original": self.original,
            "type": PasscodeType(self.type).name.lower(),
            "start": self.start.isoformat(),
            "end": None if self.end is None else self.end.isoformat(),
            "cycle_type": self.cycle_type,
            "used": self.used,
        }


@dataclass(slots=True)
class StoredCard:
    """An IC card number (4- or 8-byte form) with its validity window."""

    number: int
    width: int = 4
    start: datetime = PERMANENT_START
    end: datetime = PERMANENT_END


@dataclass(slots=True)
class StoredFingerprint:
    """A fingerprint id assigned by the lock, the finger it was taken from, and validity."""

    fp_id: int
    finger: str | None = None
    start: datetime = PERMANENT_START
    end: datetime = PERMANENT_END


@dataclass(frozen=True, slots=True)
class LoggedRecord:
    """A log record with its wire sequence number and its place in the lock's history."""

    serial: int
    record: LogRecord

    @property
    def seq(self) -> int:
        """The u16 sequence number the app asks for (never 0 or 0xFFFF)."""
        return (self.serial - 1) % _WIRE_SEQS + 1


class OperationLog:
    """The lock's operation log: bounded, with a read cursor behind advert flag bit 1."""

    def __init__(self, capacity: int = LOG_CAPACITY) -> None:
        self.capacity = capacity
        self.entries: list[LoggedRecord] = []
        self._next_serial = 1
        self._unread_from = 1

    @property
    def unread(self) -> int:
        """How many records have not been handed to the app yet."""
        return sum(1 for entry in self.entries if entry.serial >= self._unread_from)

    def add(self, record: LogRecord) -> LoggedRecord:
        """Append a record (the oldest goes when full)."""
        entry = LoggedRecord(self._next_serial, record)
        self._next_serial += 1
        self.entries.append(entry)
        del self.entries[: -self.capacity]
        return entry

    def page(self, seq: int, size: int) -> tuple[list[LogRecord], int]:
        """Records for a 0x25 request at `seq` and the next seq (0 = last page) (spec §5.5.20)."""
        if seq == LOG_NEW:
            start = next(
                (i for i, e in enumerate(self.entries) if e.serial >= self._unread_from), None
            )
        elif seq == LOG_ALL:
            start = 0
        else:
            start = next((i for i, e in enumerate(self.entries) if e.seq == seq), None)
        if start is None or start >= len(self.entries):
            return [], LOG_ALL
        chosen = self.entries[start : start + size]
        # Records handed out count as read; the "new records" flag falls once none are left
        # (spec §4.2, §4.5).
        self._unread_from = max(self._unread_from, chosen[-1].serial + 1)
        rest = self.entries[start + size :]
        return [e.record for e in chosen], rest[0].seq if rest else LOG_ALL


def _passage_day_matches(entry: PassageEntry, now: datetime) -> bool:
    if entry.type == PassageType.WEEKLY:
        return entry.week_or_day in (0, now.isoweekday())
    if entry.type == PassageType.MONTHLY:
        return entry.week_or_day == now.day and entry.month in (0, now.month)
    return False


def passage_allows(entries: list[PassageEntry], now: datetime) -> bool:
    """Whether a passage-mode window holds the bolt open at `now` (00:00-00:00 = all day)."""
    clock = now.time().replace(second=0, microsecond=0)
    for entry in entries:
        if not _passage_day_matches(entry, now):
            continue
        if entry.start == entry.end or entry.start <= clock < entry.end:
            return True
    return False


@dataclass(slots=True)
class LockSettings:
    """Settings the app reads and writes; defaults are those of a fresh lock."""

    auto_lock_seconds: int = 0
    audio_on: bool = True
    show_passcode: bool = False
    remote_unlock: bool = False
    switches: int = int(SwitchItem.RESET_BUTTON)
    passage: list[PassageEntry] = field(default_factory=list)


@dataclass(slots=True)
class LockMemory:
    """Everything a factory reset wipes."""

    aes_key: bytes | None = field(default=None, repr=False)
    admin: AdminKeys | None = field(default=None, repr=False)
    paired: bool = False
    lock_flag_pos: int = 0
    admin_code: str | None = field(default=None, repr=False)
    passcodes: dict[str, StoredPasscode] = field(default_factory=dict)
    cards: dict[int, StoredCard] = field(default_factory=dict)
    fingerprints: dict[int, StoredFingerprint] = field(default_factory=dict)
    cyclic: dict[tuple[int, int], list[CyclicEntry]] = field(default_factory=dict)
    seeds: InitPasswords | None = field(default=None, repr=False)
    settings: LockSettings = field(default_factory=LockSettings)
    log: OperationLog = field(default_factory=OperationLog)

    def schedule(self, user_type: CyclicUserType, user: int) -> list[CyclicEntry]:
        """The 0x70 weekly windows of a card or fingerprint (empty: no weekly limit)."""
        return self.cyclic.get((user_type, user), [])

    def card_allows(self, card: StoredCard, now: datetime) -> bool:
        """Window and, when set, weekly schedule (spec §5.5.16, §5.5.18)."""
        entries = self.schedule(CyclicUserType.CARD, card.number)
        return card.start <= now < card.end and (not entries or cyclic_allows(entries, now))

    def fingerprint_allows(self, fp: StoredFingerprint, now: datetime) -> bool:
        """Window and, when set, weekly schedule (spec §5.5.17, §5.5.18)."""
        entries = self.schedule(CyclicUserType.FINGERPRINT, fp.fp_id)
        return fp.start <= now < fp.end and (not entries or cyclic_allows(entries, now))

    def finger_of(self, finger: str) -> StoredFingerprint | None:
        """The stored fingerprint taken from `finger`, if any."""
        return next((fp for fp in self.fingerprints.values() if fp.finger == finger), None)

    def code_taken(self, code: str) -> bool:
        """Whether a passcode or the admin passcode already uses `code`."""
        return code in self.passcodes or code == self.admin_code

    def describe(self) -> dict[str, Any]:
        """Credentials as the control API shows them (the simulator's own view)."""

        def schedule(user_type: CyclicUserType, user: int) -> list[dict[str, Any]]:
            return [
                {"weekday": e.weekday, "start": e.start.isoformat(), "end": e.end.isoformat()}
                for e in self.schedule(user_type, user)
            ]

        return {
            "admin_code": self.admin_code,
            "passcodes": [p.describe() for p in self.passcodes.values()],
            "cards": [
                {
                    "number": c.number,
                    "start": c.start.isoformat(),
                    "end": c.end.isoformat(),
                    "schedule": schedule(CyclicUserType.CARD, c.number),
                }
                for c in self.cards.values()
            ],
            "fingerprints": [
                {
                    "id": f.fp_id,
                    "finger": f.finger,
                    "start": f.start.isoformat(),
                    "end": f.end.isoformat(),
                    "schedule": schedule(CyclicUserType.FINGERPRINT, f.fp_id),
                }
                for f in self.fingerprints.values()
            ],
        }


class Timers:
    """Named loop.call_later handles (wake window, auto-lock, enrolment), cancelled as one."""

    def __init__(self) -> None:
        self._handles: dict[str, asyncio.TimerHandle] = {}

    def start(self, name: str, delay: float, callback: Callable[[], None]) -> None:
        """(Re)start timer `name`; it fires `callback` once after `delay` seconds."""
        self.cancel(name)

        def fire() -> None:
            self._handles.pop(name, None)
            callback()

        self._handles[name] = asyncio.get_running_loop().call_later(delay, fire)

    def running(self, name: str) -> bool:
        """Whether timer `name` is pending."""
        return name in self._handles

    def cancel(self, name: str) -> None:
        """Stop timer `name` if it runs."""
        handle = self._handles.pop(name, None)
        if handle is not None:
            handle.cancel()

    def cancel_all(self) -> None:
        """Stop every timer."""
        for name in list(self._handles):
            self.cancel(name)
