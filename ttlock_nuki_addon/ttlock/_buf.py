"""Byte reading and writing helpers for TTLock payloads: big-endian, checked, clear errors."""

from __future__ import annotations

from ..errors import ProtocolError
from ..validity import ValidationError


class FieldError(ValidationError):
    """A value given to a builder does not fit its TTLock field (a ValueError)."""


def uint(value: int, size: int, what: str) -> bytes:
    """`value` as a big-endian unsigned integer of `size` bytes; FieldError if it does not fit."""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 1 << (8 * size):
        raise FieldError(f"{what} must be a whole number from 0 to {(1 << (8 * size)) - 1}.")
    return value.to_bytes(size, "big")


def u8(value: int, what: str) -> bytes:
    """One unsigned byte."""
    return uint(value, 1, what)


def u16(value: int, what: str) -> bytes:
    """Big-endian u16 (spec §5.5: multi-byte integers are big-endian)."""
    return uint(value, 2, what)


def u32(value: int, what: str) -> bytes:
    """Big-endian u32."""
    return uint(value, 4, what)


def short_bytes(value: bytes, what: str) -> bytes:
    """`len value` as one length byte followed by the value."""
    if len(value) > 0xFF:
        raise FieldError(f"{what} is too long ({len(value)} bytes, at most 255).")
    return bytes([len(value)]) + value


class Reader:
    """A cursor over a payload; every shortfall raises ProtocolError naming the message."""

    __slots__ = ("_data", "_pos", "what")

    def __init__(self, data: bytes, what: str) -> None:
        self._data = bytes(data)
        self._pos = 0
        self.what = what

    @property
    def remaining(self) -> int:
        """Bytes not read yet."""
        return len(self._data) - self._pos

    @property
    def position(self) -> int:
        """Offset of the next byte."""
        return self._pos

    def fail(self, reason: str) -> ProtocolError:
        """A ProtocolError about this message (to raise)."""
        return ProtocolError(f"Malformed TTLock {self.what}: {reason}.")

    def take(self, size: int, field: str) -> bytes:
        """The next `size` bytes."""
        if size < 0 or self.remaining < size:
            raise self.fail(f"{field} needs {size} bytes, {self.remaining} left")
        chunk = self._data[self._pos : self._pos + size]
        self._pos += size
        return chunk

    def uint(self, size: int, field: str) -> int:
        """The next big-endian unsigned integer of `size` bytes."""
        return int.from_bytes(self.take(size, field), "big")

    def u8(self, field: str) -> int:
        """The next byte."""
        return self.uint(1, field)

    def u16(self, field: str) -> int:
        """The next big-endian u16."""
        return self.uint(2, field)

    def u32(self, field: str) -> int:
        """The next big-endian u32."""
        return self.uint(4, field)

    def short_bytes(self, field: str) -> bytes:
        """A length byte and that many bytes."""
        return self.take(self.u8(f"{field} length"), field)

    def rest(self) -> bytes:
        """Everything not read yet."""
        chunk = self._data[self._pos :]
        self._pos = len(self._data)
        return chunk

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
