"""Nuki field encodings (spec §2.4): little-endian integers, names, timestamps, weekdays, PIN."""

from __future__ import annotations

import struct
from collections.abc import Iterable
from datetime import UTC, datetime, time
from enum import IntEnum
from typing import ClassVar

from ..validity import ValidationError, Weekday
from ..wire import ByteOrder, IntWriter, WireReader


class FieldError(ValidationError):
    """A value given to a builder does not fit its Nuki field (a ValueError)."""


_WRITE = IntWriter("little", FieldError)
uint, u8, u16, u32 = _WRITE.uint, _WRITE.u8, _WRITE.u16, _WRITE.u32


def sint(value: int, size: int, what: str) -> bytes:
    """`value` as a little-endian signed integer of `size` bytes; FieldError if it does not fit."""
    half = 1 << (8 * size - 1)
    if isinstance(value, bool) or not isinstance(value, int) or not -half <= value < half:
        raise FieldError(f"{what} must be a whole number from {-half} to {half - 1}.")
    return value.to_bytes(size, "little", signed=True)


def flag(value: bool) -> bytes:
    """A boolean byte (spec §2.4: 0/1)."""
    return b"\x01" if value else b"\x00"


def encode_name(name: str, size: int, what: str = "name") -> bytes:
    """UTF-8, zero-padded to `size`; FieldError when it does not fit (spec §2.4)."""
    try:
        raw = name.encode("utf-8")
    except UnicodeEncodeError:
        raise FieldError(f"The {what} is not valid text.") from None
    if len(raw) > size or "\x00" in name:
        raise FieldError(f"The {what} must be at most {size} bytes of UTF-8 without NUL.")
    return raw.ljust(size, b"\x00")


def decode_name(raw: bytes) -> str:
    """Cut at the first NUL, decode UTF-8 leniently (Keypad 2.0 leaves junk after it, §4.7)."""
    return raw.split(b"\x00", 1)[0].decode("utf-8", errors="replace")


def encode_timestamp(moment: datetime) -> bytes:
    """year u16, month, day, hour, minute, second (spec §2.4); naive values are taken as-is."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return struct.pack(
        "<HBBBBB", moment.year, moment.month, moment.day, moment.hour, moment.minute, moment.second
    )


ZERO_TIMESTAMP = bytes(7)


def encode_optional_timestamp(moment: datetime | None) -> bytes:
    """`encode_timestamp`, or seven zero bytes for None (how locks write an unset date)."""
    return ZERO_TIMESTAMP if moment is None else encode_timestamp(moment)


def decode_timestamp(raw: bytes) -> datetime | None:
    """A naive datetime, or None for all-zero or impossible values (locks send zeros for unset)."""
    year, month, day, hour, minute, second = struct.unpack("<HBBBBB", raw)
    try:
        return datetime(year, month, day, hour, minute, second)
    except ValueError:
        return None


def encode_time_of_day(clock: time) -> bytes:
    """hour, minute (spec §2.4)."""
    return bytes([clock.hour, clock.minute])


def decode_time_of_day(raw: bytes) -> time | None:
    """hour, minute as a time; None when out of range."""
    try:
        return time(raw[0], raw[1])
    except ValueError:
        return None


# spec §2.4: bit6 Mon ... bit0 Sun; 0 means every day.
_WEEKDAY_BIT = {day: 1 << (6 - day.value) for day in Weekday}


def encode_weekdays(days: Iterable[Weekday]) -> int:
    """The weekday bitmask for a set of days (all seven give 0x7F)."""
    mask = 0
    for day in days:
        mask |= _WEEKDAY_BIT[day]
    return mask


def decode_weekdays(mask: int) -> frozenset[Weekday]:
    """The days a bitmask allows; 0 means every day (spec §2.4)."""
    if mask & 0x7F == 0:
        return frozenset(Weekday)
    return frozenset(day for day, bit in _WEEKDAY_BIT.items() if mask & bit)


def enum_or_raw(enum: type[IntEnum], value: int) -> int:
    """The enum member for `value`, or the raw number when the lock sends an unknown one."""
    try:
        return enum(value)
    except ValueError:
        return value


def encode_pin(pin: int, width: int) -> bytes:
    """The security PIN: u16 on Smart Lock 1-4 and Opener, u32 on 5th gen (spec §2.4)."""
    if width not in (2, 4):
        raise FieldError("A Nuki security PIN is 2 or 4 bytes wide.")
    return uint(pin, width, "The security PIN")


class Reader(WireReader):
    """A little-endian cursor over a Nuki payload; every shortfall raises ProtocolError."""

    __slots__ = ()
    order: ClassVar[ByteOrder] = "little"
    brand: ClassVar[str] = "Nuki"

    def sint(self, size: int, field: str) -> int:
        """The next little-endian signed integer."""
        return int.from_bytes(self.take(size, field), "little", signed=True)

    def flag(self, field: str) -> bool:
        """The next boolean byte (any non-zero is true)."""
        return self.u8(field) != 0

    def f32(self, field: str) -> float:
        """The next IEEE-754 float32."""
        (value,) = struct.unpack("<f", self.take(4, field))
        return float(value)

    def name(self, size: int, field: str) -> str:
        """A zero-padded UTF-8 name of `size` bytes."""
        return decode_name(self.take(size, field))

    def timestamp(self, field: str) -> datetime | None:
        """A 7-byte timestamp; None when unset or impossible."""
        return decode_timestamp(self.take(7, field))

    def time_of_day(self, field: str) -> time | None:
        """A 2-byte hour/minute."""
        return decode_time_of_day(self.take(2, field))

    def done(self) -> None:
        """Require that nothing is left (for fixed-size client messages)."""
        if self.remaining:
            raise self.fail(f"{self.remaining} unexpected trailing bytes")
