"""TTLock passcode payloads: MANAGE_KEYBOARD_PASSWORD 0x03 and PWD_LIST 0x07 (spec §5.5.14-15)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import IntEnum

from ._buf import FieldError, Reader, digits_text, short_bytes, u8, u16
from .dates import DATE5_LEN, encode_date5, read_date, read_date_lenient

# Passcodes are 4-9 ASCII digits; answers to 0x03 are `battery op` (commands.parse_op_ack).
# Cyclic passcodes (type 4): the spec gives `start date5 + cycleType u16` for list records and
# recovery but no add/modify layout. We write `start end cycleType` (the daily window must live
# somewhere) and read both forms; that layout is unverified against real locks.

LAST_PAGE = 0xFFFF  # spec §5.5.15: nextSeq FFFF = last page
_CYCLE_LEN = 2


class PasscodeType(IntEnum):
    """KeyboardPwdType on the wire (spec §5.5.14); the cloud numbers 1 and 2 the other way."""

    PERMANENT = 1
    COUNT = 2  # one-time
    PERIOD = 3
    CYCLIC = 4


class PasscodeOp(IntEnum):
    """PwdOperateType (spec §5.5.14)."""

    CLEAR = 1
    ADD = 2
    DELETE = 3
    MODIFY = 5
    RECOVER = 6


def check_code(code: str, what: str = "A passcode") -> bytes:
    """The ASCII bytes of a 4-9 digit passcode; FieldError otherwise."""
    if (
        not isinstance(code, str)
        or not (code.isascii() and code.isdigit())
        or not 4 <= len(code) <= 9
    ):
        raise FieldError(f"{what} must be 4 to 9 digits.")
    return code.encode("ascii")


def is_pin_code(code: str) -> bool:
    """Whether `code` is a passcode this add-on can show and send back (4 to 9 digits)."""
    try:
        check_code(code)
    except FieldError:
        return False
    return True


def _dates(start: datetime | None, end: datetime | None, what: str) -> bytes:
    if start is None or end is None:
        raise FieldError(f"{what} needs both a start and an end.")
    if start >= end:
        raise FieldError(f"{what}: the start must be before the end.")
    return encode_date5(start) + encode_date5(end)


def _validity_tail(
    kind: int, start: datetime | None, end: datetime | None, cycle_type: int | None
) -> bytes:
    """Dates (and cycleType) after the codes of add/recover (spec §5.5.14)."""
    if kind == PasscodeType.PERMANENT:
        if start is None:
            raise FieldError("A permanent passcode needs a start.")
        return encode_date5(start)  # AND layout: start only (sdk-js adds 5 stray zeros)
    tail = _dates(start, end, "A timed passcode")
    if kind == PasscodeType.CYCLIC:
        if cycle_type is None:
            raise FieldError("A cyclic passcode needs a cycle type.")
        tail += u16(cycle_type, "cycle type")
    return tail


@dataclass(frozen=True, slots=True)
class PasscodeRequest:
    """A 0x03 request; `code` is the passcode (old one for modify/recover)."""

    op: int
    type: int = PasscodeType.PERMANENT
    code: str | None = field(default=None, repr=False)
    new_code: str | None = field(default=None, repr=False)
    start: datetime | None = None
    end: datetime | None = None
    cycle_type: int | None = None


def build_passcode_clear() -> bytes:
    """`01`: delete every passcode."""
    return bytes([PasscodeOp.CLEAR])


def build_passcode_add(
    kind: PasscodeType,
    code: str,
    start: datetime,
    end: datetime | None = None,
    *,
    cycle_type: int | None = None,
) -> bytes:
    """`02 type len code start [end] [cycleType]`; permanent carries the start only."""
    return (
        bytes([PasscodeOp.ADD, kind])
        + short_bytes(check_code(code), "passcode")
        + _validity_tail(kind, start, end, cycle_type)
    )


def build_passcode_delete(kind: PasscodeType, code: str) -> bytes:
    """`03 type len code`."""
    return bytes([PasscodeOp.DELETE, kind]) + short_bytes(check_code(code), "passcode")


def build_passcode_modify(
    kind: PasscodeType,
    old_code: str,
    new_code: str,
    *,
    start: datetime | None = None,
    end: datetime | None = None,
    cycle_type: int | None = None,
) -> bytes:
    """`05 type oldLen old newLen new [start end]`; dates only when the validity changes."""
    out = (
        bytes([PasscodeOp.MODIFY, kind])
        + short_bytes(check_code(old_code, "The old passcode"), "old passcode")
        + short_bytes(check_code(new_code, "The new passcode"), "new passcode")
    )
    if start is None and end is None:
        return out
    out += _dates(start, end, "A passcode's new validity")
    if kind == PasscodeType.CYCLIC and cycle_type is not None:
        out += u16(cycle_type, "cycle type")
    return out


def build_passcode_recover(
    kind: PasscodeType,
    original: str,
    current: str,
    start: datetime,
    *,
    end: datetime | None = None,
    cycle_type: int | None = None,
) -> bytes:
    """`06 type origLen orig newLen new start [end] [cycleType]` (spec §5.5.14)."""
    return (
        bytes([PasscodeOp.RECOVER, kind])
        + short_bytes(check_code(original, "The original passcode"), "original")
        + short_bytes(check_code(current, "The passcode"), "passcode")
        + _validity_tail(kind, start, end, cycle_type)
    )


def _read_code(reader: Reader, field_name: str) -> str:
    return digits_text(reader.short_bytes(field_name), reader, field_name)


def _read_tail(reader: Reader, kind: int, request: PasscodeRequest) -> PasscodeRequest:
    start = read_date(reader, "start")
    end: datetime | None = None
    cycle: int | None = None
    if kind in (PasscodeType.COUNT, PasscodeType.PERIOD):
        end = read_date(reader, "end")
    elif kind == PasscodeType.CYCLIC:
        if reader.remaining >= DATE5_LEN + _CYCLE_LEN:
            end = read_date(reader, "end")
        cycle = reader.u16("cycle type")
    # Trailing bytes are ignored: ttlock-sdk-js adds 5 zero bytes after a permanent start.
    return PasscodeRequest(request.op, kind, request.code, request.new_code, start, end, cycle)


def parse_passcode_request(data: bytes) -> PasscodeRequest:
    """Lock side: parse a 0x03 request (codes must be ASCII digits; length is not checked)."""
    reader = Reader(data, "passcode request (0x03)")
    op = reader.u8("operation")
    if op == PasscodeOp.CLEAR:
        return PasscodeRequest(op)
    kind = reader.u8("passcode type")
    code = _read_code(reader, "passcode")
    if op == PasscodeOp.DELETE:
        return PasscodeRequest(op, kind, code)
    if op == PasscodeOp.ADD:
        return _read_tail(reader, kind, PasscodeRequest(op, kind, code))
    if op not in (PasscodeOp.MODIFY, PasscodeOp.RECOVER):
        raise reader.fail(f"unknown operation {op}")
    request = PasscodeRequest(op, kind, code, _read_code(reader, "new passcode"))
    if op == PasscodeOp.RECOVER:
        return _read_tail(reader, kind, request)
    if reader.remaining < 2 * DATE5_LEN:
        return request
    start, end = read_date(reader, "start"), read_date(reader, "end")
    cyclic = kind == PasscodeType.CYCLIC and reader.remaining >= _CYCLE_LEN
    cycle = reader.u16("cycle type") if cyclic else None
    return PasscodeRequest(op, kind, code, request.new_code, start, end, cycle)


# --- 0x07 PWD_LIST -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PasscodeRecord:
    """One listed passcode; dates are None when the lock's bytes are not a date."""

    type: int
    code: str = field(repr=False)
    original: str = field(repr=False)
    start: datetime | None = None
    end: datetime | None = None
    cycle_type: int | None = None

    def to_bytes(self) -> bytes:
        """`recLen type newLen new origLen orig start [end] [cycleType]` (lock side)."""
        body = (
            u8(self.type, "type")
            + short_bytes(self.code.encode("ascii"), "passcode")
            + short_bytes(self.original.encode("ascii"), "original")
            + (encode_date5(self.start) if self.start is not None else bytes(DATE5_LEN))
        )
        if self.type in (PasscodeType.COUNT, PasscodeType.PERIOD, PasscodeType.CYCLIC):
            body += encode_date5(self.end) if self.end is not None else bytes(DATE5_LEN)
        if self.type == PasscodeType.CYCLIC:
            body += u16(self.cycle_type or 0, "cycle type")
        return short_bytes(body, "passcode record")


def _read_record(reader: Reader) -> PasscodeRecord:
    rec = Reader(reader.short_bytes("record"), reader.what)
    kind = rec.u8("type")
    code, original = _read_code(rec, "passcode"), _read_code(rec, "original passcode")
    start = read_date_lenient(rec, "start")
    end: datetime | None = None
    cycle: int | None = None
    if kind in (PasscodeType.COUNT, PasscodeType.PERIOD):
        end = read_date_lenient(rec, "end")
    elif kind == PasscodeType.CYCLIC:
        # spec §5.5.15 gives start + cycleType; our own writes also carry the end date.
        if rec.remaining >= DATE5_LEN + _CYCLE_LEN:
            end = read_date_lenient(rec, "end")
        cycle = rec.u16("cycle type")
    return PasscodeRecord(kind, code, original, start, end, cycle)


@dataclass(frozen=True, slots=True)
class PasscodePage:
    """One PWD_LIST answer: the records and where to continue."""

    next_seq: int
    records: tuple[PasscodeRecord, ...]

    @property
    def is_last(self) -> bool:
        """Whether no further page should be asked for (no records, or nextSeq FFFF)."""
        return not self.records or self.next_seq == LAST_PAGE


def build_passcode_list_request(seq: int = 0) -> bytes:
    """`seq u16`, 0 for the first page (spec §5.5.15)."""
    return u16(seq, "sequence")


def parse_passcode_list_request(data: bytes) -> int:
    """Lock side: the sequence asked for."""
    return Reader(data, "passcode list request (0x07)").u16("sequence")


def parse_passcode_page(data: bytes) -> PasscodePage:
    """`totalLen u16 nextSeq u16 records` - no battery byte; totalLen 0 = none (spec §5.5.15)."""
    reader = Reader(data, "passcode list (0x07)")
    total = reader.u16("total length")
    if total == 0:
        return PasscodePage(LAST_PAGE, ())
    next_seq = reader.u16("next sequence")
    records = []
    while reader.remaining:
        records.append(_read_record(reader))
    return PasscodePage(next_seq, tuple(records))


def build_passcode_page(
    records: tuple[PasscodeRecord, ...] | list[PasscodeRecord], next_seq: int
) -> bytes:
    """Lock side: totalLen is the byte length of the records (0 with no records)."""
    body = b"".join(record.to_bytes() for record in records)
    return u16(len(body), "total length") + u16(next_seq, "next sequence") + body
