"""Nuki time limits of keypad codes and authorizations (spec §4.8, §4.9): type and wire block."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta

from ..validity import Weekday
from .fields import (
    FieldError,
    Reader,
    decode_time_of_day,
    decode_timestamp,
    decode_weekdays,
    encode_optional_timestamp,
    encode_time_of_day,
    encode_weekdays,
    flag,
    u8,
)

__all__ = [
    "TIME_LIMIT_LEN",
    "TimeLimit",
    "encode_time_limit",
    "read_time_limit",
    "read_time_limit_lenient",
]

# spec §4.8/§4.9: timeLimited u8 ‖ fromDate[7] ‖ untilDate[7] ‖ weekdays u8 ‖ fromTime[2] ‖
# untilTime[2]
TIME_LIMIT_LEN = 20
_DAY = timedelta(days=1)
_EVERY_DAY = frozenset(Weekday)


def _of_day(clock: time) -> timedelta:
    return timedelta(
        hours=clock.hour, minutes=clock.minute, seconds=clock.second, microseconds=clock.microsecond
    )


@dataclass(frozen=True, slots=True)
class TimeLimit:
    """When a time-limited keypad code or authorization works; naive lock-local times.

    `allowed_until` is exclusive. `weekdays` empty or all seven means every day. A daily window
    opens at `from_time` on an allowed day and lasts until the next `until_time` (it may cross
    midnight); both None (or equal, which the wire cannot tell from "no window") = all day.
    Seconds and microseconds of dates are dropped to the wire's resolution of one second.
    """

    allowed_from: datetime | None = None
    allowed_until: datetime | None = None
    weekdays: frozenset[Weekday] = _EVERY_DAY
    from_time: time | None = None
    until_time: time | None = None

    def __post_init__(self) -> None:
        for key in ("allowed_from", "allowed_until"):
            moment: datetime | None = getattr(self, key)
            if moment is None:
                continue
            if moment.tzinfo is not None:
                raise FieldError(f"The time limit's {key} must be lock-local time without offset.")
            object.__setattr__(self, key, moment.replace(microsecond=0))
        try:
            days = frozenset(Weekday(day) for day in self.weekdays)
        except (TypeError, ValueError):
            raise FieldError("The time limit's weekdays must be Weekday values.") from None
        object.__setattr__(self, "weekdays", days or _EVERY_DAY)
        if (self.from_time is None) != (self.until_time is None):
            raise FieldError("A daily time window needs both a start and an end time.")
        for clock in (self.from_time, self.until_time):
            if clock is not None and (
                clock.tzinfo is not None or clock.second or clock.microsecond
            ):
                raise FieldError("A daily time window must use whole minutes (HH:MM).")
        if self.from_time is not None and self.from_time == self.until_time:
            object.__setattr__(self, "from_time", None)
            object.__setattr__(self, "until_time", None)

    def allows(self, moment: datetime) -> bool:
        """Whether a code or authorization with this limit works at naive lock-local `moment`."""
        if moment.tzinfo is not None:
            raise FieldError("The moment to check must be lock-local time without offset.")
        if self.allowed_from is not None and moment < self.allowed_from:
            return False
        if self.allowed_until is not None and moment >= self.allowed_until:
            return False
        if self.from_time is None or self.until_time is None:
            return Weekday.of(moment) in self.weekdays
        # Only the latest opening at or before `moment` can contain it; a window that crosses
        # midnight belongs to the day it opens on (like validity.Weekly).
        day = Weekday.of(moment)
        elapsed = _of_day(moment.time()) - _of_day(self.from_time)
        if elapsed < timedelta(0):
            day, elapsed = Weekday((day - 1) % 7), elapsed + _DAY
        length = (_of_day(self.until_time) - _of_day(self.from_time)) % _DAY
        return day in self.weekdays and elapsed < length


def encode_time_limit(limit: TimeLimit | None) -> bytes:
    """The 20-byte block; None (not time limited) gives all zeros (spec §4.8)."""
    if limit is None:
        return bytes(TIME_LIMIT_LEN)
    if (
        limit.allowed_from is not None
        and limit.allowed_until is not None
        and limit.allowed_from >= limit.allowed_until
    ):
        raise FieldError("The time limit's start must be before its end.")
    window = b"\x00" * 4
    if limit.from_time is not None and limit.until_time is not None:
        window = encode_time_of_day(limit.from_time) + encode_time_of_day(limit.until_time)
    return (
        flag(True)
        + encode_optional_timestamp(limit.allowed_from)
        + encode_optional_timestamp(limit.allowed_until)
        + u8(encode_weekdays(limit.weekdays), "weekdays")
        + window
    )


def _decode_block(raw: bytes) -> TimeLimit | None:
    """A 20-byte block as a TimeLimit, None when the timeLimited flag is clear."""
    if raw[0] == 0:
        return None
    from_time, until_time = decode_time_of_day(raw[16:18]), decode_time_of_day(raw[18:20])
    if from_time is None or until_time is None:
        from_time = until_time = None  # out-of-range hours: keep the entry, drop the window
    return TimeLimit(
        allowed_from=decode_timestamp(raw[1:8]),
        allowed_until=decode_timestamp(raw[8:15]),
        weekdays=decode_weekdays(raw[15]),
        from_time=from_time,
        until_time=until_time,
    )


def read_time_limit(reader: Reader) -> TimeLimit | None:
    """The full 20-byte block from a client request (ProtocolError when short)."""
    return _decode_block(reader.take(TIME_LIMIT_LEN, "time limit"))


def read_time_limit_lenient(reader: Reader) -> TimeLimit | None:
    """The block at the end of a list entry, which may be cut short when not time limited.

    spec §4.8 ⚠: S1 appends the time-limit fields only when timeLimited is set, other sources
    always send them; so a missing block or a clear flag with missing fields means "not limited".
    """
    if reader.remaining == 0:
        return None
    if reader.u8("time limited") == 0:
        reader.take(min(reader.remaining, TIME_LIMIT_LEN - 1), "time limit")
        return None
    return _decode_block(b"\x01" + reader.take(TIME_LIMIT_LEN - 1, "time limit"))
