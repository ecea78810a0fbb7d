"""Nuki time control entries 0x0039-0x003F (spec §4.2): scheduled lock actions.

Request builders return only the command's own fields (nK and PIN via `protected.with_pin`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import time

from ..validity import Weekday
from .fields import Reader, decode_weekdays, encode_time_of_day, encode_weekdays, flag, u8

__all__ = [
    "NewTimeControlEntry",
    "TimeControlEntry",
    "build_add_time_control_entry",
    "build_remove_time_control_entry",
    "build_time_control_entry_count",
    "build_time_control_entry_id",
    "parse_add_time_control_entry",
    "parse_remove_time_control_entry",
    "parse_time_control_entry",
    "parse_time_control_entry_count",
    "parse_time_control_entry_id",
    "parse_update_time_control_entry",
]


@dataclass(frozen=True, slots=True)
class NewTimeControlEntry:
    """Add Time Control Entry fields: weekdays, time of day, lock action."""

    weekdays: frozenset[Weekday]  # every day when all or none are given (spec §2.4)
    at: time | None  # None when the lock sends an impossible time
    lock_action: int  # states.LockAction

    def to_payload(self) -> bytes:
        """weekdays u8 || time[2] || lock action u8."""
        return build_add_time_control_entry(self.weekdays, self.at or time(0, 0), self.lock_action)


@dataclass(frozen=True, slots=True)
class TimeControlEntry:
    """Time Control Entry (0x003E) and Update Time Control Entry (0x003F) fields."""

    entry_id: int
    enabled: bool
    weekdays: frozenset[Weekday]
    at: time | None
    lock_action: int

    def to_payload(self) -> bytes:
        """entry id u8 || enabled u8 || weekdays u8 || time[2] || lock action u8."""
        head = u8(self.entry_id, "The time control entry id") + flag(self.enabled)
        return head + build_add_time_control_entry(
            self.weekdays, self.at or time(0, 0), self.lock_action
        )


def build_add_time_control_entry(days: Iterable[Weekday], at: time, lock_action: int) -> bytes:
    """Add Time Control Entry fields (0x0039)."""
    mask = encode_weekdays(days)
    return u8(mask, "weekdays") + encode_time_of_day(at) + u8(int(lock_action), "lock action")


def _tail(reader: Reader) -> tuple[frozenset[Weekday], time | None, int]:
    days = decode_weekdays(reader.u8("weekdays"))
    return days, reader.time_of_day("time"), reader.u8("lock action")


def parse_add_time_control_entry(fields: bytes) -> NewTimeControlEntry:
    """Lock side: exactly 4 bytes of Add Time Control Entry fields."""
    reader = Reader(fields, "Add Time Control Entry (0x0039)")
    entry = NewTimeControlEntry(*_tail(reader))
    reader.done()
    return entry


def _entry(payload: bytes, what: str, *, exact: bool) -> TimeControlEntry:
    reader = Reader(payload, what)
    entry = TimeControlEntry(reader.u8("entry id"), reader.flag("enabled"), *_tail(reader))
    if exact:
        reader.done()
    return entry


def parse_time_control_entry(payload: bytes) -> TimeControlEntry:
    """A Time Control Entry from the lock (extra bytes ignored)."""
    return _entry(payload, "Time Control Entry (0x003E)", exact=False)


def parse_update_time_control_entry(fields: bytes) -> TimeControlEntry:
    """Lock side: exactly 6 bytes of Update Time Control Entry fields."""
    return _entry(fields, "Update Time Control Entry (0x003F)", exact=True)


def build_time_control_entry_id(entry_id: int) -> bytes:
    """Lock side: Time Control Entry ID (0x003A)."""
    return u8(entry_id, "The time control entry id")


def parse_time_control_entry_id(payload: bytes) -> int:
    """The new entry's id."""
    return Reader(payload, "Time Control Entry ID (0x003A)").u8("entry id")


def build_remove_time_control_entry(entry_id: int) -> bytes:
    """Remove Time Control Entry fields (0x003B)."""
    return u8(entry_id, "The time control entry id")


def parse_remove_time_control_entry(fields: bytes) -> int:
    """Lock side: the entry id to remove (exactly 1 byte)."""
    reader = Reader(fields, "Remove Time Control Entry (0x003B)")
    entry_id = reader.u8("entry id")
    reader.done()
    return entry_id


def build_time_control_entry_count(count: int) -> bytes:
    """Lock side: Time Control Entry Count (0x003D)."""
    return u8(count, "The time control entry count")


def parse_time_control_entry_count(payload: bytes) -> int:
    """How many entries follow."""
    return Reader(payload, "Time Control Entry Count (0x003D)").u8("count")
