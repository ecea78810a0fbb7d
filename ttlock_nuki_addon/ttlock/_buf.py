"""Byte reading and writing helpers for TTLock payloads: big-endian, checked, clear errors."""

from __future__ import annotations

from typing import ClassVar

from ..validity import ValidationError
from ..wire import ByteOrder, IntWriter, WireReader


class FieldError(ValidationError):
    """A value given to a builder does not fit its TTLock field (a ValueError)."""


# spec §5.5: multi-byte integers are big-endian.
_WRITE = IntWriter("big", FieldError)
uint, u8, u16, u32 = _WRITE.uint, _WRITE.u8, _WRITE.u16, _WRITE.u32


def short_bytes(value: bytes, what: str) -> bytes:
    """`len value` as one length byte followed by the value."""
    if len(value) > 0xFF:
        raise FieldError(f"{what} is too long ({len(value)} bytes, at most 255).")
    return bytes([len(value)]) + value


class Reader(WireReader):
    """A big-endian cursor over a TTLock payload; every shortfall raises ProtocolError."""

    __slots__ = ()
    order: ClassVar[ByteOrder] = "big"
    brand: ClassVar[str] = "TTLock"

    def short_bytes(self, field: str) -> bytes:
        """A length byte and that many bytes."""
        return self.take(self.u8(f"{field} length"), field)

    def expect(self, value: int, field: str) -> None:
        """Read one byte and require it to equal `value`."""
        got = self.u8(field)
        if got != value:
            raise self.fail(f"{field} is 0x{got:02x}, expected 0x{value:02x}")


def digits_text(raw: bytes, reader: Reader, field: str) -> str:
    """ASCII decimal digits as a string; ProtocolError for anything else."""
    if not raw.isdigit() or not raw.isascii():
        raise reader.fail(f"{field} is not ASCII digits")
    return raw.decode("ascii")
