"""Nuki list slice requests and counts shared by authorizations and keypad codes (§4.8, §4.9)."""

from __future__ import annotations

from dataclasses import dataclass

from .fields import Reader, u16

__all__ = ["ListMessages", "SliceRequest", "build_slice_request"]


@dataclass(frozen=True, slots=True)
class SliceRequest:
    """Which slice of a list to send: `count` items from `offset`."""

    offset: int
    count: int


def build_slice_request(offset: int = 0, count: int = 0xFFFF) -> bytes:
    """offset u16 ‖ count u16 (spec §4.2); the defaults ask for the whole list."""
    return u16(offset, "The offset") + u16(count, "The count")


@dataclass(frozen=True, slots=True)
class ListMessages:
    """One list's request parser and count message, named after its commands for errors."""

    request: str  # e.g. "Request Keypad Codes (0x0043)"
    count: str  # e.g. "Keypad Code Count (0x0044)"
    count_field: str  # e.g. "The keypad code count", for a FieldError

    def parse_request(self, payload: bytes) -> SliceRequest:
        """Lock side: the offset and count asked for, exactly 4 bytes."""
        reader = Reader(payload, self.request)
        request = SliceRequest(reader.u16("offset"), reader.u16("count"))
        reader.done()
        return request

    def build_count(self, count: int) -> bytes:
        """Lock side: count u16 (spec §4.2)."""
        return u16(count, self.count_field)

    def parse_count(self, payload: bytes) -> int:
        """How many items the lock holds; extra trailing bytes are ignored."""
        return Reader(payload, self.count).u16("count")
