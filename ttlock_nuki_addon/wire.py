"""Checked integer writers and a byte cursor shared by the TTLock and Nuki wire formats."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Literal

from .errors import ProtocolError
from .validity import ValidationError

ByteOrder = Literal["big", "little"]


@dataclass(frozen=True, slots=True)
class IntWriter:
    """Unsigned integer writers in one byte order, raising one brand's FieldError."""

    order: ByteOrder
    error: type[ValidationError]

    def uint(self, value: int, size: int, what: str) -> bytes:
        """`value` as an unsigned integer of `size` bytes; the error if it does not fit."""
        top = (1 << (8 * size)) - 1
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= top:
            raise self.error(f"{what} must be a whole number from 0 to {top}.")
        return value.to_bytes(size, self.order)

    def u8(self, value: int, what: str) -> bytes:
        """One unsigned byte."""
        return self.uint(value, 1, what)

    def u16(self, value: int, what: str) -> bytes:
        """An unsigned 16-bit integer."""
        return self.uint(value, 2, what)

    def u32(self, value: int, what: str) -> bytes:
        """An unsigned 32-bit integer."""
        return self.uint(value, 4, what)


class WireReader:
    """A cursor over a payload; every shortfall raises ProtocolError naming brand and message."""

    __slots__ = ("_data", "_pos", "what")
    order: ClassVar[ByteOrder]  # set by each brand's subclass
    brand: ClassVar[str]

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
        return ProtocolError(f"Malformed {self.brand} {self.what}: {reason}.")

    def take(self, size: int, field: str) -> bytes:
        """The next `size` bytes."""
        if size < 0 or self.remaining < size:
            raise self.fail(f"{field} needs {size} bytes, {self.remaining} left")
        chunk = self._data[self._pos : self._pos + size]
        self._pos += size
        return chunk

    def uint(self, size: int, field: str) -> int:
        """The next unsigned integer of `size` bytes in the format's byte order."""
        return int.from_bytes(self.take(size, field), self.order)

    def u8(self, field: str) -> int:
        """The next byte."""
        return self.uint(1, field)

    def u16(self, field: str) -> int:
        """The next u16."""
        return self.uint(2, field)

    def u32(self, field: str) -> int:
        """The next u32."""
        return self.uint(4, field)

    def rest(self) -> bytes:
        """Everything not read yet."""
        chunk = self._data[self._pos :]
        self._pos = len(self._data)
        return chunk
