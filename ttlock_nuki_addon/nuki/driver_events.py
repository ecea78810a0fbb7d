"""Nuki activity log entries as LockEvents, reading the log, and when a beacon asks for a read.

The beacon's new-state bit (spec §1.5) is cleared only by a bridge authorization reading the
Keyturner States. As a BRIDGE we read whenever it is set (the read clears it; adverts BlueZ
still repeats from before our read are ignored for a moment). As an APP the bit may stay set
for good, so only a rising edge starts a read, and at most one per interval (nuki_hub#143).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime

from ..model import EventKind, EventSource, LockEvent
from . import commands as cmds
from . import log_cmds as lg
from .channels import completed, listed
from .codec import Command
from .gatt import Family
from .session import NukiSession

K, S = EventKind, EventSource
A = cmds.LockAction
LOG_PAGE = 20  # entries per Request Log Entries
FIRST_LOG_PAGE = 4  # the first page of a read for new entries
MAX_LOG_PAGES = 10  # bounds one read; older unread entries are skipped after that
APP_FETCH_INTERVAL = 600.0  # seconds; at most one beacon-triggered read per interval as APP
BRIDGE_GRACE = 3.0  # seconds after a read in which a set bit is taken as BlueZ's stale copy
_ACTION_KIND: dict[int, EventKind] = {
    A.UNLOCK: K.UNLOCKED,
    A.LOCK: K.LOCKED,
    A.UNLATCH: K.OPENED,
    A.LOCK_N_GO: K.UNLOCKED,
    A.LOCK_N_GO_UNLATCH: K.OPENED,
    A.FULL_LOCK: K.LOCKED,
    A.FOB_ACTION_1: K.OTHER,
    A.FOB_ACTION_2: K.OTHER,
    A.FOB_ACTION_3: K.OTHER,
}
_OPENER_KIND: dict[int, EventKind] = {  # spec §4.12: RTO on/off, electric strike
    cmds.OpenerAction.ACTIVATE_RTO: K.UNLOCKED,
    cmds.OpenerAction.DEACTIVATE_RTO: K.LOCKED,
    cmds.OpenerAction.ELECTRIC_STRIKE_ACTUATION: K.OPENED,
}
_TRIGGER_SOURCE: dict[int, EventSource] = {
    cmds.Trigger.SYSTEM: S.APP,
    cmds.Trigger.MANUAL: S.MANUAL,
    cmds.Trigger.BUTTON: S.BUTTON,
    cmds.Trigger.AUTOMATIC: S.SCHEDULE,
    cmds.Trigger.AUTO_LOCK: S.AUTO,
    cmds.Trigger.HOMEKIT: S.REMOTE,
    cmds.Trigger.MQTT: S.REMOTE,
}
_FOBS = frozenset({A.FOB_ACTION_1, A.FOB_ACTION_2, A.FOB_ACTION_3})
_DOOR_KIND: dict[int, EventKind] = {
    lg.DoorSensorEvent.OPENED: K.DOOR_OPENED,
    lg.DoorSensorEvent.CLOSED: K.DOOR_CLOSED,
    lg.DoorSensorEvent.JAMMED: K.TAMPER,
}
_INVALID = frozenset(
    {cmds.CompletionStatus.INVALID_CODE, cmds.CompletionStatus.INVALID_FINGERPRINT}
)


def _when(entry: lg.LogEntry, now: datetime) -> datetime:
    """The entry's time, aware (the lock's clock is UTC, spec §2.4); now when unset."""
    return now if entry.timestamp is None else entry.timestamp.replace(tzinfo=UTC)


def _action_kind(family: Family, action: int) -> EventKind | None:
    table = _OPENER_KIND if family is Family.OPENER else _ACTION_KIND
    return table.get(action)


def log_event(
    lock_id: str, family: Family, entry: lg.LogEntry, codes: Mapping[int, str], now: datetime
) -> LockEvent | None:
    """A log entry as a LockEvent (None for bookkeeping entries); keypad codes never appear."""
    when, data = _when(entry, now), entry.data
    if isinstance(data, lg.LockActionData) and entry.type == lg.LogEntryType.LOCK_ACTION:
        if data.completion == cmds.CompletionStatus.MOTOR_BLOCKED:
            return LockEvent(lock_id, K.JAMMED, _TRIGGER_SOURCE.get(data.trigger, S.UNKNOWN), when)
        kind = _action_kind(family, data.action)
        if kind is None or data.completion != cmds.CompletionStatus.SUCCESS:
            return None
        if family is not Family.OPENER and data.action in _FOBS:
            return LockEvent(lock_id, kind, S.FOB, when, user=entry.name or None)
        source = _TRIGGER_SOURCE.get(data.trigger, S.UNKNOWN)
        user = (entry.name or None) if source in (S.APP, S.REMOTE) else None
        return LockEvent(lock_id, kind, source, when, user=user)
    if isinstance(data, lg.KeypadActionData):
        return _keypad_event(lock_id, family, entry, codes, when)
    if isinstance(data, lg.DoorSensorData) and family is not Family.OPENER:
        door = _DOOR_KIND.get(data.event)
        return None if door is None else LockEvent(lock_id, door, S.UNKNOWN, when)
    return None


def _keypad_event(
    lock_id: str, family: Family, entry: lg.LogEntry, codes: Mapping[int, str], when: datetime
) -> LockEvent | None:
    """spec §4.7 type 0x05: who used the keypad (by code id and name), or a wrong code."""
    data = entry.data
    assert isinstance(data, lg.KeypadActionData)
    finger = data.source == cmds.KeypadSource.FINGERPRINT
    source = S.FINGERPRINT if finger else S.KEYPAD
    if data.completion in _INVALID:
        return LockEvent(lock_id, K.FAILED_ATTEMPT, source, when)
    if data.completion == cmds.CompletionStatus.MOTOR_BLOCKED:
        return LockEvent(lock_id, K.JAMMED, source, when)
    kind = _action_kind(family, data.action)
    if kind is None or data.completion != cmds.CompletionStatus.SUCCESS:
        return None
    if data.source == cmds.KeypadSource.ARROW_KEY:
        return LockEvent(lock_id, kind, source, when)
    name = codes.get(data.code_id) or entry.name or None
    return LockEvent(lock_id, kind, source, when, str(data.code_id), name)


async def read_log(
    session: NukiSession, pin: int, after: int | None, *, newest: int = LOG_PAGE
) -> list[lg.LogEntry]:
    """Log entries newer than index `after` (the `newest` ones when None), oldest first.

    Pages go newest first from start index 0 (spec §4.2 0x0031, sort order 1), then below the
    lowest index seen, until `after` is reached; bounded by MAX_LOG_PAGES.
    """
    found: dict[int, lg.LogEntry] = {}
    start = 0
    # After an action only one or two entries are new: a short first page spares the radio.
    count = min(newest, LOG_PAGE) if after is None else FIRST_LOG_PAGE
    for _ in range(MAX_LOG_PAGES):
        fields = lg.build_request_log_entries(start, count, lg.SortOrder.DESCENDING, True)
        messages = await session.transact(
            Command.REQUEST_LOG_ENTRIES, fields, pin=pin, until=completed,
            enough=listed(Command.LOG_ENTRY_COUNT, Command.LOG_ENTRY, _log_count(count)),
        )  # fmt: skip
        page = [lg.parse_log_entry(m.payload) for m in messages if m.command == Command.LOG_ENTRY]
        fresh = [e for e in page if e.index not in found]
        found.update((e.index, e) for e in fresh)
        lowest = min((e.index for e in page), default=0)
        if after is None or not fresh or len(page) < count or lowest <= after + 1 or lowest <= 1:
            break
        start, count = lowest - 1, LOG_PAGE
    entries = sorted(found.values(), key=lambda e: e.index)
    if after is None:
        return entries[-newest:]
    return [e for e in entries if e.index > after]


def _log_count(asked: int) -> Callable[[bytes], int]:
    """How many entries a page brings: what the log holds, at most what was asked for."""

    def count_of(payload: bytes) -> int:
        return min(lg.parse_log_entry_count(payload).count, asked)

    return count_of


class BeaconWatch:
    """Decides when the beacon's new-state bit calls for a read (see the module docstring)."""

    def __init__(
        self,
        *,
        bridge: bool,
        interval: float = APP_FETCH_INTERVAL,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.bridge, self.interval, self._clock = bridge, interval, clock
        self._flag = False
        self._last_read: float | None = None

    def seen(self, new_state: bool) -> bool:
        """Fold one advert's bit; whether a read is due now."""
        rising = new_state and not self._flag
        self._flag = new_state
        if not new_state:
            return False
        now = self._clock()
        since = None if self._last_read is None else now - self._last_read
        if self.bridge:
            return since is None or since >= BRIDGE_GRACE
        if not rising or (since is not None and since < self.interval):
            return False
        self._last_read = now  # the read this asks for; a failed read waits an interval too
        return True

    def forget_reads(self) -> None:
        """Count no read so far (the first read after pairing changed nothing at the lock)."""
        self._last_read = None

    def read(self) -> None:
        """A Keyturner States read happened (as bridge it cleared the bit)."""
        self._last_read = self._clock()
        if self.bridge:
            self._flag = False
