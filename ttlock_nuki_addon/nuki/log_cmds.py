"""Nuki activity log messages 0x0031-0x0034, both directions (spec §4.7).

Builders return only the command's own fields; `commands` explains the nK and PIN suffix.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import IntEnum

from .actions import KeypadSource
from .codec import Command
from .fields import (
    FieldError,
    Reader,
    encode_name,
    encode_optional_timestamp,
    enum_or_raw,
    flag,
    u8,
    u16,
    u32,
)
from .states import CompletionStatus, LockAction, Trigger

__all__ = [
    "LOG_ENTRY_HEADER_LEN",
    "LOG_NAME_LEN",
    "PARSERS",
    "DoorSensorData",
    "DoorSensorEvent",
    "FirmwareUpdateData",
    "KeypadActionData",
    "LockActionData",
    "LogData",
    "LogEntry",
    "LogEntryCount",
    "LogEntryType",
    "LogRequest",
    "LoggingToggle",
    "SortOrder",
    "UnknownLogData",
    "build_enable_logging",
    "build_log_entry",
    "build_log_entry_count",
    "build_request_log_entries",
    "parse_enable_logging",
    "parse_log_entry",
    "parse_log_entry_count",
    "parse_request_log_entries",
]

LOG_NAME_LEN = 32
LOG_ENTRY_HEADER_LEN = 48  # index u32 ‖ timestamp[7] ‖ authId u32 ‖ name[32] ‖ type u8 (§4.7)


class LogEntryType(IntEnum):
    """What a log entry records (spec §4.7)."""

    LOGGING_ENABLED = 0x01
    LOCK_ACTION = 0x02
    CALIBRATION = 0x03
    INITIALIZATION_RUN = 0x04
    KEYPAD_ACTION = 0x05
    DOOR_SENSOR = 0x06  # on an Opener 0x06 is doorbell recognition instead (spec §4.12)
    DOOR_SENSOR_LOGGING = 0x07
    FIRMWARE_UPDATE = 0x0A  # spec §4.7: from S4 only


class DoorSensorEvent(IntEnum):
    """Data of a door sensor log entry (spec §4.7 type 0x06)."""

    OPENED = 0x00
    CLOSED = 0x01
    JAMMED = 0x02


class SortOrder(IntEnum):
    """Request Log Entries sort order (spec §4.2)."""

    ASCENDING = 0x00
    DESCENDING = 0x01


# --- typed data of each entry type -----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LoggingToggle:
    """Types 0x01 and 0x07: logging (or door sensor logging) was switched on or off."""

    enabled: bool


@dataclass(frozen=True, slots=True)
class LockActionData:
    """Types 0x02-0x04: lock action, trigger, flags, completion status (enum members if known)."""

    action: int  # LockAction numbers; an Opener logs its own OpenerAction numbers (spec §4.12)
    trigger: int
    flags: int
    completion: int


@dataclass(frozen=True, slots=True)
class KeypadActionData:
    """Type 0x05: lock action, source, completion status (0xE0 invalid code) and code id."""

    action: int
    source: int
    completion: int
    code_id: int


@dataclass(frozen=True, slots=True)
class DoorSensorData:
    """Type 0x06: what the door sensor saw (a DoorSensorEvent if known)."""

    event: int


@dataclass(frozen=True, slots=True)
class FirmwareUpdateData:
    """Type 0x0A: the firmware version installed."""

    major: int
    minor: int
    patch: int


@dataclass(frozen=True, slots=True)
class UnknownLogData:
    """Data of an entry type this module does not know, kept as bytes."""

    raw: bytes


LogData = (
    LoggingToggle
    | LockActionData
    | KeypadActionData
    | DoorSensorData
    | FirmwareUpdateData
    | UnknownLogData
)

_T = LogEntryType
_DATA_CLASS: dict[int, type[LogData]] = {
    _T.LOGGING_ENABLED: LoggingToggle,
    _T.DOOR_SENSOR_LOGGING: LoggingToggle,
    _T.LOCK_ACTION: LockActionData,
    _T.CALIBRATION: LockActionData,
    _T.INITIALIZATION_RUN: LockActionData,
    _T.KEYPAD_ACTION: KeypadActionData,
    _T.DOOR_SENSOR: DoorSensorData,
    _T.FIRMWARE_UPDATE: FirmwareUpdateData,
}


def _encode_data(data: LogData) -> bytes:
    match data:
        case LoggingToggle(enabled):
            return flag(enabled)
        case LockActionData(action, trigger, flags, completion):
            return (
                u8(action, "The lock action")
                + u8(trigger, "The trigger")
                + u8(flags, "The flags")
                + u8(completion, "The completion status")
            )
        case KeypadActionData(action, source, completion, code_id):
            return (
                u8(action, "The lock action")
                + u8(source, "The keypad source")
                + u8(completion, "The completion status")
                + u16(code_id, "The keypad code id")
            )
        case DoorSensorData(event):
            return u8(event, "The door sensor event")
        case FirmwareUpdateData(major, minor, patch):
            return u8(major, "major") + u8(minor, "minor") + u8(patch, "patch")
        case UnknownLogData(raw):
            return bytes(raw)
    raise FieldError("Unknown log entry data.")  # pragma: no cover - the match is exhaustive


def _read_data(reader: Reader, kind: int) -> LogData:
    """The typed data of entry type `kind` (spec §4.7 table); unknown types keep the bytes."""
    cls = _DATA_CLASS.get(kind)
    if cls is LoggingToggle:
        return LoggingToggle(reader.flag("enabled"))
    if cls is LockActionData:
        return LockActionData(
            action=enum_or_raw(LockAction, reader.u8("lock action")),
            trigger=enum_or_raw(Trigger, reader.u8("trigger")),
            flags=reader.u8("flags"),
            completion=enum_or_raw(CompletionStatus, reader.u8("completion status")),
        )
    if cls is KeypadActionData:
        return KeypadActionData(
            action=enum_or_raw(LockAction, reader.u8("lock action")),
            source=enum_or_raw(KeypadSource, reader.u8("source")),
            completion=enum_or_raw(CompletionStatus, reader.u8("completion status")),
            code_id=reader.u16("code id"),
        )
    if cls is DoorSensorData:
        return DoorSensorData(enum_or_raw(DoorSensorEvent, reader.u8("door sensor event")))
    if cls is FirmwareUpdateData:
        return FirmwareUpdateData(reader.u8("major"), reader.u8("minor"), reader.u8("patch"))
    return UnknownLogData(reader.rest())


# --- Log Entry (0x0032) -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LogEntry:
    """One activity log entry; `type` is a LogEntryType if known, `padding` the bytes after data.

    `timestamp` is naive, in the lock's clock (UTC, spec §2.4); None when unset or impossible.
    """

    index: int
    timestamp: datetime | None
    auth_id: int
    name: str
    type: int
    data: LogData
    padding: bytes = b""


def build_log_entry(entry: LogEntry) -> bytes:
    """Lock side: header ‖ data ‖ padding (spec §4.7); data must match the entry type."""
    expected = _DATA_CLASS.get(entry.type)
    if not isinstance(entry.data, UnknownLogData) and type(entry.data) is not expected:
        raise FieldError(
            f"Log entry type 0x{entry.type:02X} cannot carry {type(entry.data).__name__}."
        )
    return (
        u32(entry.index, "The log index")
        + encode_optional_timestamp(entry.timestamp)
        + u32(entry.auth_id, "The authorization id")
        + encode_name(entry.name, LOG_NAME_LEN, "log entry name")
        + u8(entry.type, "The log entry type")
        + _encode_data(entry.data)
        + bytes(entry.padding)
    )


def parse_log_entry(payload: bytes) -> LogEntry:
    """A Log Entry; model-specific padding after the data is kept, never an error (spec §4.7 ⚠)."""
    reader = Reader(payload, "Log Entry (0x0032)")
    index = reader.u32("index")
    timestamp = reader.timestamp("timestamp")
    auth_id = reader.u32("authorization id")
    name = reader.name(LOG_NAME_LEN, "name")  # cut at the first NUL: Keypad 2.0 leaves junk
    kind = enum_or_raw(LogEntryType, reader.u8("type"))
    data = _read_data(reader, kind)
    return LogEntry(index, timestamp, auth_id, name, kind, data, reader.rest())


# --- Request Log Entries (0x0031) -> [Log Entry Count (0x0033)] + N x Log Entry ---------------


@dataclass(frozen=True, slots=True)
class LogRequest:
    """Request Log Entries fields; `total_count` asks for a Log Entry Count first."""

    start_index: int
    count: int
    sort_order: int
    total_count: bool


def build_request_log_entries(
    start_index: int = 0,
    count: int = 50,
    sort_order: SortOrder = SortOrder.DESCENDING,
    total_count: bool = True,
) -> bytes:
    """startIndex u32 ‖ count u16 ‖ sortOrder u8 ‖ totalCount u8 (spec §4.2)."""
    return (
        u32(start_index, "The start index")
        + u16(count, "The count")
        + u8(sort_order, "The sort order")
        + flag(total_count)
    )


def parse_request_log_entries(payload: bytes) -> LogRequest:
    """Lock side: what part of the log is asked for; `sort_order` is a SortOrder if known."""
    reader = Reader(payload, "Request Log Entries (0x0031)")
    request = LogRequest(
        start_index=reader.u32("start index"),
        count=reader.u16("count"),
        sort_order=enum_or_raw(SortOrder, reader.u8("sort order")),
        total_count=reader.flag("total count"),
    )
    reader.done()
    return request


@dataclass(frozen=True, slots=True)
class LogEntryCount:
    """Log Entry Count: logging switches and how many entries the log holds."""

    logging_enabled: bool
    count: int
    door_sensor_enabled: bool = False
    door_sensor_logging_enabled: bool = False


def build_log_entry_count(counts: LogEntryCount) -> bytes:
    """Lock side: loggingEnabled ‖ count u16 ‖ doorSensorEnabled ‖ doorSensorLoggingEnabled."""
    return (
        flag(counts.logging_enabled)
        + u16(counts.count, "The log entry count")
        + flag(counts.door_sensor_enabled)
        + flag(counts.door_sensor_logging_enabled)
    )


def parse_log_entry_count(payload: bytes) -> LogEntryCount:
    """A Log Entry Count; the door sensor flags read False when older firmware omits them."""
    reader = Reader(payload, "Log Entry Count (0x0033)")
    enabled, count = reader.flag("logging enabled"), reader.u16("count")
    sensor = reader.flag("door sensor enabled") if reader.remaining else False
    sensor_logging = reader.flag("door sensor logging enabled") if reader.remaining else False
    return LogEntryCount(enabled, count, sensor, sensor_logging)


# --- Enable Logging (0x0034) ------------------------------------------------------------------


def build_enable_logging(enabled: bool) -> bytes:
    """enabled u8 (spec §4.2)."""
    return flag(enabled)


def parse_enable_logging(payload: bytes) -> bool:
    """Lock side: whether logging is to be on."""
    reader = Reader(payload, "Enable Logging (0x0034)")
    enabled = reader.flag("enabled")
    reader.done()
    return enabled


PARSERS: dict[Command, Callable[[bytes], object]] = {
    Command.REQUEST_LOG_ENTRIES: parse_request_log_entries,
    Command.LOG_ENTRY: parse_log_entry,
    Command.LOG_ENTRY_COUNT: parse_log_entry_count,
    Command.ENABLE_LOGGING: parse_enable_logging,
}
