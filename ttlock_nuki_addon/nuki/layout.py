"""Declarative fixed layouts for long Nuki messages: required fields, then an optional tail.

Firmware appends fields over the years (spec §4.4, §4.5), so a layout has a required head and
optional fields that are present as far as the payload reaches; absent ones are None.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, time
from typing import Any, Protocol

from .fields import (
    ZERO_TIMESTAMP,
    FieldError,
    Reader,
    encode_name,
    encode_time_of_day,
    encode_timestamp,
    flag,
    sint,
    uint,
)


class Kind(Protocol):
    """How one field is read from and written to the wire."""

    @property
    def size(self) -> int:
        """Bytes on the wire."""

    def read(self, reader: Reader, label: str) -> Any:
        """The field's value from the reader."""

    def write(self, value: Any, label: str) -> bytes:
        """The field's bytes (FieldError when the value does not fit)."""


@dataclass(frozen=True, slots=True)
class Int:
    """Little-endian integer."""

    size: int
    signed: bool = False

    def read(self, reader: Reader, label: str) -> Any:
        """An int."""
        return reader.sint(self.size, label) if self.signed else reader.uint(self.size, label)

    def write(self, value: Any, label: str) -> bytes:
        """Checked little-endian bytes."""
        return sint(value, self.size, label) if self.signed else uint(value, self.size, label)


@dataclass(frozen=True, slots=True)
class Flag:
    """A boolean byte; any non-zero byte reads as True."""

    size: int = 1

    def read(self, reader: Reader, label: str) -> Any:
        """A bool."""
        return reader.flag(label)

    def write(self, value: Any, label: str) -> bytes:
        """0 or 1."""
        return flag(bool(value))


@dataclass(frozen=True, slots=True)
class F32:
    """IEEE-754 float32 (spec §2.4)."""

    size: int = 4

    def read(self, reader: Reader, label: str) -> Any:
        """A float."""
        return reader.f32(label)

    def write(self, value: Any, label: str) -> bytes:
        """Four bytes; FieldError for values a float32 cannot hold."""
        if not isinstance(value, int | float) or not math.isfinite(value):
            raise FieldError(f"The {label} must be a finite number.")
        try:
            return struct.pack("<f", value)
        except OverflowError:
            raise FieldError(f"The {label} is too large for a float32.") from None


@dataclass(frozen=True, slots=True)
class Name:
    """Zero-padded UTF-8 text."""

    size: int

    def read(self, reader: Reader, label: str) -> Any:
        """A str cut at the first NUL."""
        return reader.name(self.size, label)

    def write(self, value: Any, label: str) -> bytes:
        """Padded bytes."""
        if not isinstance(value, str):
            raise FieldError(f"The {label} must be text.")
        return encode_name(value, self.size, label)


@dataclass(frozen=True, slots=True)
class Timestamp:
    """7-byte date and time; None reads and writes as zeros."""

    size: int = 7

    def read(self, reader: Reader, label: str) -> Any:
        """A naive datetime or None."""
        return reader.timestamp(label)

    def write(self, value: Any, label: str) -> bytes:
        """Seven bytes."""
        if value is None:
            return ZERO_TIMESTAMP
        if not isinstance(value, datetime):
            raise FieldError(f"The {label} must be a date and time.")
        return encode_timestamp(value)


@dataclass(frozen=True, slots=True)
class TimeOfDay:
    """hour, minute; None (an impossible time on the wire) writes as 00:00."""

    size: int = 2

    def read(self, reader: Reader, label: str) -> Any:
        """A time or None."""
        return reader.time_of_day(label)

    def write(self, value: Any, label: str) -> bytes:
        """Two bytes."""
        if value is None:
            return b"\x00\x00"
        if not isinstance(value, time):
            raise FieldError(f"The {label} must be a time of day.")
        return encode_time_of_day(value)


@dataclass(frozen=True, slots=True)
class Bytes:
    """A tuple of `size` single bytes (firmware version, hardware revision)."""

    size: int

    def read(self, reader: Reader, label: str) -> Any:
        """A tuple of ints."""
        return tuple(reader.take(self.size, label))

    def write(self, value: Any, label: str) -> bytes:
        """The bytes; FieldError when the count or a value is wrong."""
        if not isinstance(value, tuple) or len(value) != self.size:
            raise FieldError(f"The {label} must be {self.size} numbers.")
        return b"".join(uint(v, 1, label) for v in value)


Field = tuple[str, Kind]


@dataclass(frozen=True, slots=True)
class Layout:
    """A message: required fields in order, then optional ones present as far as it reaches."""

    what: str
    required: Sequence[Field]
    optional: Sequence[Field] = ()

    @property
    def min_size(self) -> int:
        """Bytes of the required fields."""
        return sum(kind.size for _, kind in self.required)

    @property
    def max_size(self) -> int:
        """Bytes of all known fields."""
        return self.min_size + sum(kind.size for _, kind in self.optional)

    def read(self, payload: bytes, *, exact: bool = False) -> dict[str, Any]:
        """Field values by name (absent optional ones None); `exact` rejects extra bytes."""
        reader = Reader(payload, self.what)
        if reader.remaining < self.min_size:
            raise reader.fail(f"{reader.remaining} bytes, at least {self.min_size} expected")
        values = {name: kind.read(reader, _label(name)) for name, kind in self.required}
        for name, kind in self.optional:
            # A partial optional field is bad data, not a shorter firmware variant.
            values[name] = kind.read(reader, _label(name)) if reader.remaining else None
        if exact:
            reader.done()
        return values

    def write(self, obj: object) -> bytes:
        """The payload of the fields present on `obj` (optional ones up to the first None)."""
        out = b"".join(kind.write(getattr(obj, n), _label(n)) for n, kind in self.required)
        missing = False
        for name, kind in self.optional:
            value = getattr(obj, name)
            if value is None:
                missing = True
            elif missing:
                raise FieldError(f"{self.what}: {_label(name)} is set after a missing field.")
            else:
                out += kind.write(value, _label(name))
        return out

    def names(self) -> list[str]:
        """Every field name in wire order."""
        return [name for name, _ in (*self.required, *self.optional)]

    def values_of(self, obj: object) -> dict[str, Any]:
        """This layout's fields as `obj` holds them, by name (to build the matching message)."""
        return {name: getattr(obj, name) for name in self.names()}


def _label(name: str) -> str:
    return name.replace("_", " ")
