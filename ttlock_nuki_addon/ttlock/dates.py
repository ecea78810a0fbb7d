"""TTLock dates: decimal bytes yy MM dd HH mm [ss] in the lock's local time (spec §5.5)."""

from __future__ import annotations

from datetime import datetime, time, timedelta, timezone

from ._buf import FieldError, Reader

DATE5_LEN = 5
DATE6_LEN = 6
# spec §5.5: the year byte holds year - 2000 as a decimal value; two digits are all the lock
# keeps (yyMMdd), so 2000 to 2099 is what the format can hold.
MIN_YEAR = 2000
MAX_YEAR = 2099
_MINUTE = timedelta(minutes=1)

# spec §5.5.4: the permanent window of CHECK_USER_TIME as ttlock-sdk-js sends it
# (bytes 00 01 1F 0E 00 | 63 0B 1E 0E 00, spec vectors).
USER_TIME_START = datetime(2000, 1, 31, 14, 0)
USER_TIME_END = datetime(2099, 11, 30, 14, 0)
# The window this add-on writes for "permanent" passcodes, cards and fingerprints (the
# ttlock-sdk-js card default: 2000-01-01 00:00 .. 2099-12-01 23:59, spec vectors).
PERMANENT_START = datetime(2000, 1, 1, 0, 0)
PERMANENT_END = datetime(2099, 12, 1, 23, 59)


class DateRangeError(FieldError):
    """A date cannot be written in TTLock's two-digit-year format, or is not lock-local."""


def check_date(moment: datetime) -> None:
    """DateRangeError unless `moment` is a naive datetime in the years the lock can hold."""
    if not isinstance(moment, datetime):
        raise DateRangeError("A TTLock date must be a datetime.")
    if moment.tzinfo is not None:
        raise DateRangeError(
            "TTLock dates are the lock's local wall time; convert with to_lock_local() first."
        )
    if not MIN_YEAR <= moment.year <= MAX_YEAR:
        raise DateRangeError(
            f"The lock stores years {MIN_YEAR} to {MAX_YEAR} only, not {moment.year}."
        )


def encode_date(moment: datetime, *, seconds: bool = False) -> bytes:
    """Naive lock-local `moment` as date5 (yy MM dd HH mm) or, with seconds, date6."""
    check_date(moment)
    parts = [moment.year - 2000, moment.month, moment.day, moment.hour, moment.minute]
    if seconds:
        parts.append(moment.second)
    return bytes(parts)


def encode_date5(moment: datetime) -> bytes:
    """yy MM dd HH mm (seconds dropped)."""
    return encode_date(moment)


def encode_date6(moment: datetime) -> bytes:
    """yy MM dd HH mm ss (microseconds dropped)."""
    return encode_date(moment, seconds=True)


def _decode(raw: bytes) -> datetime:
    """The datetime of date5/date6 bytes; ValueError when they are not a real date."""
    if len(raw) not in (DATE5_LEN, DATE6_LEN):
        raise ValueError(f"{len(raw)} bytes")
    if raw[0] > MAX_YEAR - 2000:
        raise ValueError(f"year byte {raw[0]}")
    second = raw[5] if len(raw) == DATE6_LEN else 0
    return datetime(2000 + raw[0], raw[1], raw[2], raw[3], raw[4], second)


def decode_date(raw: bytes, what: str = "date") -> datetime:
    """Naive lock-local datetime of 5 or 6 date bytes; ProtocolError if not a real date."""
    reader = Reader(raw, what)
    try:
        return _decode(bytes(raw))
    except (ValueError, OverflowError) as exc:
        raise reader.fail(f"{bytes(raw).hex()} is not a date ({exc})") from None


def decode_date_or_none(raw: bytes) -> datetime | None:
    """Like decode_date but None for bytes that are not a date (e.g. all zero: 'none')."""
    try:
        return _decode(bytes(raw))
    except (ValueError, OverflowError):
        return None


def read_date(reader: Reader, field: str, *, seconds: bool = False) -> datetime:
    """Read a strict date5/date6 from `reader`."""
    raw = reader.take(DATE6_LEN if seconds else DATE5_LEN, field)
    try:
        return _decode(raw)
    except (ValueError, OverflowError):
        raise reader.fail(f"{field} {raw.hex()} is not a date") from None


def read_date_lenient(reader: Reader, field: str, *, seconds: bool = False) -> datetime | None:
    """Read date5/date6 bytes from `reader`; None when they are not a date."""
    return decode_date_or_none(reader.take(DATE6_LEN if seconds else DATE5_LEN, field))


def minute_ceil(moment: datetime) -> datetime:
    """`moment` rounded up to a whole minute (a start never moves earlier)."""
    floor = moment.replace(second=0, microsecond=0)
    return floor if floor == moment else floor + _MINUTE


def minute_floor(moment: datetime) -> datetime:
    """`moment` rounded down to a whole minute (an end never moves later)."""
    return moment.replace(second=0, microsecond=0)


def to_lock_local(moment: datetime, utc_offset: timedelta) -> datetime:
    """Naive lock wall time of aware `moment` for a lock whose clock runs at `utc_offset`."""
    if moment.utcoffset() is None:
        raise DateRangeError("to_lock_local needs a timezone-aware datetime.")
    return moment.astimezone(timezone(utc_offset)).replace(tzinfo=None)


def from_lock_local(moment: datetime, utc_offset: timedelta) -> datetime:
    """Aware datetime of naive lock wall time `moment` (the lock's clock runs at `utc_offset`)."""
    if moment.tzinfo is not None:
        raise DateRangeError("from_lock_local needs a naive lock-local datetime.")
    return moment.replace(tzinfo=timezone(utc_offset))


def is_permanent_window(start: datetime | None, end: datetime | None) -> bool:
    """Whether a start/end pair spans the whole range the lock can hold (= permanent)."""
    return (start is None or start.year <= MIN_YEAR) and (end is None or end.year >= MAX_YEAR)


def hhmm(clock: time) -> bytes:
    """Hour and minute bytes of a time of day."""
    return bytes([clock.hour, clock.minute])


def read_hhmm(reader: Reader, field: str) -> time:
    """Hour and minute bytes as a time of day; ProtocolError when out of range."""
    hour, minute = reader.u8(f"{field} hour"), reader.u8(f"{field} minute")
    if hour > 23 or minute > 59:
        raise reader.fail(f"{field} {hour:02d}:{minute:02d} is not a time of day")
    return time(hour, minute)
