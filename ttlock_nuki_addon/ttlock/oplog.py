"""TTLock operation log: GET_OPERATE_LOG 0x25 requests, pages and records (spec §5.5.20)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import IntEnum

from ._buf import Reader, short_bytes, u8, u16
from .dates import DATE6_LEN, encode_date6, read_date_lenient
from .oplog_tails import LogTail, NoTail, parse_tail

# spec §5.5.20: no authentication. Request `seq u16`: 0xFFFF = only records not read yet (the
# lock then lowers advert flag bit 1, spec §4.5), 0 = from the start. Answer `totalLen u16
# nextSeq u16 records` (no battery byte). A record is `recLen type date6 battery tail`, recLen
# counting the bytes after itself; we always skip to the record's declared end, and a tail
# that does not match its type's layout becomes RawTail (oplog_tails).

LOG_NEW = 0xFFFF  # spec §5.5.20: only records not read yet
LOG_ALL = 0x0000  # spec §5.5.20: from the start
_HEADER = 1 + DATE6_LEN + 1  # type, date6, battery


class LogType(IntEnum):
    """Record types named by the spec (spec §5.5.20, AND LogOperate)."""

    APP_UNLOCK = 1
    PASSCODE_UNLOCK = 4
    PASSCODE_MODIFIED_ON_KEYPAD = 5
    PASSCODE_DELETED_ON_KEYPAD = 6
    WRONG_PASSCODE = 7
    ALL_PASSCODES_DELETED_ON_KEYPAD = 8
    PASSCODE_SQUEEZED_OUT = 9
    DELETE_CODE_USED = 10
    PASSCODE_EXPIRED = 11
    PASSCODE_MEMORY_FULL = 12
    PASSCODE_BLACKLISTED = 13
    REBOOT = 14
    CARD_ADDED = 15
    CARDS_CLEARED = 16
    CARD_UNLOCK = 17
    CARD_DELETED = 18
    WRISTBAND_UNLOCK = 19
    FINGERPRINT_UNLOCK = 20
    FINGERPRINT_ADDED = 21
    FINGERPRINT_FAILED = 22
    FINGERPRINT_DELETED = 23
    FINGERPRINTS_CLEARED = 24
    CARD_FAILED = 25
    APP_LOCK = 26
    MECHANICAL_KEY_UNLOCK = 27
    GATEWAY_UNLOCK = 28
    ILLEGAL_UNLOCK = 29
    DOOR_SENSOR_CLOSED = 30
    DOOR_SENSOR_OPEN = 31
    EXIT_BUTTON = 32
    FINGERPRINT_LOCK = 33
    PASSCODE_LOCK = 34
    CARD_LOCK = 35
    MECHANICAL_KEY_LOCK = 36
    REMOTE_CONTROL_KEY = 37
    PASSCODE_FAILED_DOUBLE_LOCKED = 38
    CARD_FAILED_DOUBLE_LOCKED = 39
    FINGERPRINT_FAILED_DOUBLE_LOCKED = 40
    APP_UNLOCK_FAILED_DOUBLE_LOCKED = 41
    # 42-48 carry no tail; the spec does not name them.
    OTHER_42 = 42
    OTHER_43 = 43
    OTHER_44 = 44
    OTHER_45 = 45
    OTHER_46 = 46
    OTHER_47 = 47
    OTHER_48 = 48
    CARD_BLACKLISTED = 51
    WIRELESS_KEY_FOB = 55
    WIRELESS_KEYPAD = 56
    CPU_CARD_FAILED = 74


@dataclass(frozen=True, slots=True)
class LogRecord:
    """One log record; `time` is lock-local and None when the lock's bytes are not a date."""

    type: int
    time: datetime | None
    battery: int
    tail: LogTail = field(default_factory=NoTail)

    @property
    def log_type(self) -> LogType | None:
        """The named type, None for types the spec does not name."""
        try:
            return LogType(self.type)
        except ValueError:
            return None

    def to_bytes(self) -> bytes:
        """`recLen type date6 battery tail` (lock side)."""
        when = encode_date6(self.time) if self.time is not None else bytes(DATE6_LEN)
        body = u8(self.type, "type") + when + u8(self.battery, "battery") + self.tail.to_bytes()
        return short_bytes(body, "log record")


def parse_log_record(reader: Reader) -> LogRecord:
    """Read one record from `reader`, ending exactly at the record's declared end."""
    body = Reader(reader.short_bytes("log record"), reader.what)
    if body.remaining < _HEADER:
        raise body.fail(f"a record of {body.remaining} bytes is shorter than its header")
    kind = body.u8("type")
    when = read_date_lenient(body, "time", seconds=True)
    battery = body.u8("battery")
    return LogRecord(kind, when, battery, parse_tail(kind, body.rest()))


@dataclass(frozen=True, slots=True)
class LogPage:
    """One GET_OPERATE_LOG answer."""

    next_seq: int
    records: tuple[LogRecord, ...]

    def next_request(self, requested: int) -> int | None:
        """The seq to ask for next, None when done (no records, nextSeq 0, or no progress)."""
        if not self.records or self.next_seq == LOG_ALL:
            return None  # spec §5.5.20: totalLen 0 ends (AND); sdk-js stops at nextSeq 0
        if self.next_seq == requested and requested != LOG_NEW:
            return None  # a lock that does not advance would loop forever
        return self.next_seq


def build_log_request(seq: int = LOG_NEW) -> bytes:
    """`seq u16`."""
    return u16(seq, "sequence")


def parse_log_request(data: bytes) -> int:
    """Lock side: the sequence asked for."""
    return Reader(data, "operation log request (0x25)").u16("sequence")


def parse_log_page(data: bytes) -> LogPage:
    """Parse an answer; totalLen 0 means no (more) records (spec §5.5.20)."""
    reader = Reader(data, "operation log (0x25)")
    if reader.u16("total length") == 0:
        return LogPage(LOG_ALL, ())
    next_seq = reader.u16("next sequence")
    records = []
    while reader.remaining:
        records.append(parse_log_record(reader))
    return LogPage(next_seq, tuple(records))


def build_log_page(records: tuple[LogRecord, ...] | list[LogRecord], next_seq: int) -> bytes:
    """Lock side: totalLen = byte length of the records; give the last page next_seq 0."""
    body = b"".join(record.to_bytes() for record in records)
    return u16(len(body), "total length") + u16(next_seq, "next sequence") + body
