"""Brand-neutral Validity <-> TTLock fields (passcode type/dates/cycle, card windows, 0x70)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from ..validity import Once, Period, Permanent, Validity, Weekday, Weekly
from ._buf import FieldError
from .card_cmds import CyclicEntry
from .dates import (
    PERMANENT_END,
    PERMANENT_START,
    check_date,
    is_permanent_window,
    minute_ceil,
    minute_floor,
)
from .passcode_cmds import PasscodeType

# All datetimes are naive lock-local wall times; starts round up and ends round down to whole
# minutes (date5 has no seconds), so a credential never works longer than asked.

_MIDNIGHT = time(0, 0)
_DAY = timedelta(days=1)


class UnsupportedValidity(FieldError):
    """The lock cannot express this validity for this kind of credential."""


@dataclass(frozen=True, slots=True)
class PasscodeValidity:
    """The 0x03/0x07 fields of a passcode's validity."""

    type: PasscodeType
    start: datetime
    end: datetime
    cycle_type: int | None = None


def weekday_mask(days: Iterable[Weekday]) -> int:
    """cycleType of a cyclic passcode: bit 0 = Monday .. bit 6 = Sunday (this add-on's choice)."""
    mask = 0
    for day in days:
        mask |= 1 << int(day)
    return mask


def days_of_mask(mask: int) -> frozenset[Weekday]:
    """Inverse of weekday_mask; bits above 6 are ignored."""
    return frozenset(day for day in Weekday if mask >> int(day) & 1)


def _window(start: datetime, end: datetime) -> tuple[datetime, datetime]:
    start, end = minute_ceil(start), minute_floor(end)
    check_date(start)
    check_date(end)
    if start >= end:
        raise UnsupportedValidity("The validity is shorter than one whole minute.")
    return start, end


def _overall(validity: Weekly) -> tuple[datetime, datetime]:
    start = PERMANENT_START if validity.valid_from is None else validity.valid_from
    end = PERMANENT_END if validity.valid_until is None else validity.valid_until
    return _window(start, end)


def passcode_validity(validity: Validity) -> PasscodeValidity:
    """Permanent -> type 1, Period -> 3, Once -> 2 (count), Weekly -> 4 (cyclic, unverified)."""
    if isinstance(validity, Permanent):
        return PasscodeValidity(PasscodeType.PERMANENT, PERMANENT_START, PERMANENT_END)
    if isinstance(validity, Once | Period):
        kind = PasscodeType.COUNT if isinstance(validity, Once) else PasscodeType.PERIOD
        return PasscodeValidity(kind, *_window(validity.valid_from, validity.valid_until))
    if isinstance(validity, Weekly):
        # Our convention (the spec has no add layout for type 4): start/end carry the first and
        # last day and, as hour:minute, the daily window; cycleType carries the days.
        first, last = _overall(validity)
        first_day = first.date() if first.time() <= validity.from_time else first.date() + _DAY
        last_day = (last - timedelta(microseconds=1)).date()
        start = datetime.combine(first_day, validity.from_time)
        end = datetime.combine(last_day, validity.until_time)
        if first_day > last_day:
            raise UnsupportedValidity("The weekly validity's date range holds no whole day.")
        return PasscodeValidity(PasscodeType.CYCLIC, start, end, weekday_mask(validity.days))
    raise UnsupportedValidity(f"A PIN cannot have a {type(validity).__name__} validity.")


def validity_of_passcode(
    kind: int, start: datetime | None, end: datetime | None, cycle_type: int | None = None
) -> Validity:
    """The Validity of listed/received passcode fields (permanent window -> Permanent)."""
    low = start or PERMANENT_START
    high = end or PERMANENT_END
    if kind == PasscodeType.PERMANENT:
        return Permanent()
    days = days_of_mask(cycle_type or 0)
    if kind == PasscodeType.CYCLIC and days and low.date() <= high.date():
        permanent = is_permanent_window(start, end)
        return Weekly(
            days,
            low.time().replace(second=0),
            high.time().replace(second=0),
            None if permanent or start is None else datetime.combine(low.date(), _MIDNIGHT),
            None if permanent or end is None else datetime.combine(high.date() + _DAY, _MIDNIGHT),
        )
    if low >= high or (kind != PasscodeType.COUNT and is_permanent_window(start, end)):
        return Permanent()
    return Once(low, high) if kind == PasscodeType.COUNT else Period(low, high)


def card_window(validity: Validity) -> tuple[datetime, datetime]:
    """Start/end for a card or fingerprint (0x05/0x06); Weekly gives its overall range."""
    if isinstance(validity, Permanent):
        return PERMANENT_START, PERMANENT_END
    if isinstance(validity, Period):
        return _window(validity.valid_from, validity.valid_until)
    if isinstance(validity, Weekly):
        return _overall(validity)
    raise UnsupportedValidity("Cards and fingerprints cannot be valid only once on TTLock locks.")


def validity_of_window(start: datetime | None, end: datetime | None) -> Permanent | Period:
    """A listed card/fingerprint window as Permanent or Period (0x70 schedules are not listed)."""
    if start is None or end is None or start >= end or is_permanent_window(start, end):
        return Permanent()
    return Period(start, end)


def cyclic_entries(validity: Weekly) -> list[CyclicEntry]:
    """0x70 windows (weekday 1 = Monday) for a Weekly card/fingerprint; end 00:00 = midnight."""
    entries: list[CyclicEntry] = []
    for day in sorted(validity.days):
        begin, until = validity.from_time, validity.until_time
        if until > begin:
            entries.append(CyclicEntry(day + 1, begin, until))
            continue
        # Overnight (or 24 h): to midnight, then on from midnight next day.
        entries.append(CyclicEntry(day + 1, begin, _MIDNIGHT))
        if until != _MIDNIGHT:
            entries.append(CyclicEntry((day + 1) % 7 + 1, _MIDNIGHT, until))
    return entries


def cyclic_allows(entries: Iterable[CyclicEntry], moment: datetime) -> bool:
    """Lock side: whether any window covers naive `moment` (end 00:00 = until midnight)."""
    clock = moment.time()
    return any(
        entry.weekday == moment.isoweekday()
        and entry.start <= clock
        and (entry.end == _MIDNIGHT or clock < entry.end)
        for entry in entries
    )
