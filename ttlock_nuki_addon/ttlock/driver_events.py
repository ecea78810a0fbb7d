"""A TTLock's bolt across adverts, pushed frames and log reads, and log records as LockEvents.

Auto-lock writes no log record (spec §4.5): a bolt going unlocked -> locked is an auto-lock
when no unread record could explain it. With advert bit 1 (or a pushed record notice) up, the
decision waits for the next log read, which reports it after the records if nothing locked.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from ..model import EventKind, EventSource, LockEvent
from ..snapshot import LockStatus
from .codec import Command
from .credential_book import CredentialBook
from .dates import from_lock_local
from .oplog import LOG_ALL, LOG_NEW, LogRecord, build_log_request, parse_log_page
from .oplog_events import classify, credential_ref
from .session import TTLockSession

_BOLT = {EventKind.LOCKED: LockStatus.LOCKED, EventKind.UNLOCKED: LockStatus.UNLOCKED}
MAX_LOG_PAGES = 128  # bounds the 0x25 page loop (spec §5.5.20)


class BoltWatch:
    """Decides which observed bolt changes are auto-lock re-locks, reporting each once."""

    def __init__(self, lock_id: str, clock: Callable[[], datetime]) -> None:
        self._lock_id, self._clock = lock_id, clock
        self.expected: LockStatus | None = None  # our own lock/unlock is in flight
        self.records_waiting = False  # a pushed 0x14 announced a log record (spec §1.4)
        self.relock_pending = False  # the bolt went 1 -> 0 while records were unread
        self._reported: LockStatus | None = None  # the last bolt state told through events

    @property
    def fetch(self) -> bool:
        """Whether a log read is due."""
        return self.records_waiting or self.relock_pending

    def operated(self) -> None:
        """Our own lock/unlock succeeded; its report comes from the log (an app record)."""
        self._reported = None

    def _auto(self) -> tuple[LockEvent, ...]:
        if self._reported is LockStatus.LOCKED:
            return ()
        self._reported = LockStatus.LOCKED
        return (LockEvent(self._lock_id, EventKind.LOCKED, EventSource.AUTO, self._clock()),)

    def seen(
        self, before: LockStatus, unlocked: bool, *, records_waiting: bool
    ) -> tuple[LockEvent, ...]:
        """An observed bolt state (advert bit 0 or pushed 0x14); the events it implies alone."""
        if self.expected is not None:
            return ()  # our own command moves the bolt; its answer tells the state
        if unlocked:
            self._reported = None
            return ()
        if before is not LockStatus.UNLOCKED:
            return ()
        if records_waiting:
            self.relock_pending = True  # a record may explain it; the log read decides
            return ()
        return self._auto()

    def after_log(
        self, events: list[LockEvent], locked_now: bool, *, whole: bool = False
    ) -> list[LockEvent]:
        """The events of a log read, plus the auto-lock re-lock they imply, if any."""
        if whole:  # the whole log is history: its last unlock was reported (re-lock too) then
            return events
        bolt = [_BOLT[e.kind] for e in events if e.kind in _BOLT]
        if bolt:
            self._reported = bolt[-1]
        relocked = self.relock_pending or (bool(bolt) and bolt[-1] is LockStatus.UNLOCKED)
        self.records_waiting = self.relock_pending = False
        if locked_now and relocked:
            return [*events, *self._auto()]  # unlocked by the log, locked now: no record
        return events


def log_event(
    lock_id: str,
    record: LogRecord,
    book: CredentialBook,
    *,
    admin_code: str | None,
    utc_offset: timedelta,
    now: datetime,
) -> LockEvent:
    """A log record as a LockEvent, naming its credential from the store, never by PIN code."""
    kind, source = classify(record)
    ref = credential_ref(record)
    cred_id, name = (None, None) if ref is None else book.resolve(ref, admin_code)
    when = now if record.time is None else from_lock_local(record.time, utc_offset)
    return LockEvent(lock_id, kind, source, when, cred_id, name)


async def read_log(session: TTLockSession, records: list[LogRecord], *, new_only: bool) -> None:
    """Append the log's records (0xFFFF: unread only; 0: all), paging (spec §5.5.20)."""
    seq = LOG_NEW if new_only else LOG_ALL
    for _ in range(MAX_LOG_PAGES):
        answer = await session.call(Command.GET_OPERATE_LOG, build_log_request(seq))
        page = parse_log_page(answer)
        records.extend(page.records)
        following = page.next_request(seq)
        if following is None:
            return
        seq = following
