"""What happened at a Nuki: log entries read with the PIN, or state changes seen without it."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta

from ..errors import AuthError, CommandRejectedError
from ..model import EventKind, EventSource, LockEvent
from ..snapshot import LockStatus
from . import auth_cmds as ac
from . import commands as cmds
from . import log_cmds as lg
from .codec import Command, ErrorCode
from .driver_actions import States, status_of
from .driver_events import LOG_PAGE, log_event, read_log
from .gatt import Family
from .session import NukiSession

CLOCK_SLACK = timedelta(minutes=1)  # the lock's clock may lag ours a little before Update Time
_KIND: dict[LockStatus, EventKind] = {
    LockStatus.LOCKED: EventKind.LOCKED,
    LockStatus.UNLOCKED: EventKind.UNLOCKED,
    LockStatus.OPEN: EventKind.OPENED,
    LockStatus.JAMMED: EventKind.JAMMED,
}
_SOURCE: dict[int, EventSource] = {
    cmds.Trigger.SYSTEM: EventSource.APP,
    cmds.Trigger.MANUAL: EventSource.MANUAL,
    cmds.Trigger.BUTTON: EventSource.BUTTON,
    cmds.Trigger.AUTOMATIC: EventSource.SCHEDULE,
    cmds.Trigger.AUTO_LOCK: EventSource.AUTO,
}


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC)


class History:
    """Reads the activity log and turns it, or observed state changes, into LockEvents."""

    def __init__(
        self,
        session: NukiSession,
        family: Family,
        lock_id: str,
        clock: Callable[[], datetime],
    ) -> None:
        self._session, self._family, self._lock_id, self._clock = session, family, lock_id, clock
        self._status: LockStatus | None = None
        self._pending: list[LockEvent] = []

    def seen(self, states: States) -> None:
        """Note Keyturner States; a settled state change becomes an event (used without PIN)."""
        status = status_of(self._family, states)
        kind = _KIND.get(status)
        before, self._status = self._status, status
        if kind is None or before is None or before == status:
            return
        trigger = states.last_lock_action_trigger
        source = _SOURCE.get(states.trigger if trigger is None else trigger, EventSource.UNKNOWN)
        self._pending.append(LockEvent(self._lock_id, kind, source, self._clock()))

    def state_events(self) -> list[LockEvent]:
        """The state-change events since the last call."""
        events, self._pending = self._pending, []
        return events

    async def newest_index(self, pin: int) -> int:
        """The index of the newest log entry (0 for an empty log)."""
        entries = await self._session.run(lambda: read_log(self._session, pin, None, newest=1))
        return max((entry.index for entry in entries), default=0)

    async def entries(
        self, pin: int, after: int | None, paired_at: str, *, new_only: bool
    ) -> tuple[list[lg.LogEntry], int | None]:
        """Entries after index `after` (without one: recent ones, since pairing if new_only),
        and the newest index seen."""
        session = self._session
        found = await session.run(lambda: read_log(session, pin, after, newest=LOG_PAGE))
        newest = max((e.index for e in found), default=after)
        if after is not None or not new_only:
            return found, newest
        since = datetime.fromisoformat(paired_at) - CLOCK_SLACK
        recent = [e for e in found if e.timestamp is None or _utc(e.timestamp) >= since]
        return recent, newest

    def events(self, entries: list[lg.LogEntry], names: Mapping[int, str]) -> list[LockEvent]:
        """The entries as events, oldest first; bookkeeping entries are skipped."""
        self._pending.clear()
        now = self._clock()
        found = (log_event(self._lock_id, self._family, entry, names, now) for entry in entries)
        return [event for event in found if event is not None]

    async def remove_own(self, pin: int, auth_id: int) -> None:
        """Remove Authorization Entry (spec §4.8) for our own id; gone already counts as done."""
        fields = ac.build_remove_authorization_entry(auth_id)

        async def send() -> None:
            try:
                await self._session.call(Command.REMOVE_AUTHORIZATION_ENTRY, fields, pin=pin)
            except AuthError:
                return  # the lock no longer knows us (spec §1.4)
            except CommandRejectedError as exc:
                if exc.lock_code != ErrorCode.K_ERROR_INVALID_AUTH_ID:
                    raise

        await self._session.run(send)
