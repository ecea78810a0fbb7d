"""TTLock IC card payloads (IC_MANAGE 0x05, spec §5.5.16) and weekly schedules (0x70, §5.5.18).

Answers to delete/clear/modify are `battery op` (commands.parse_op_ack); list and add have their
own parsers here. Card numbers are 4-byte when they fit a u32, else 8-byte.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time
from enum import IntEnum

from ..credentials import EnrolmentProgress
from ._buf import FieldError, Reader, short_bytes, u8, u16, uint
from .dates import encode_date5, hhmm, read_date, read_date_lenient, read_hhmm

LAST_PAGE = 0xFFFF  # spec §5.5.16/17: nextSeq FFFF = done
_NO_HIGH_WORD = b"\xff\xff\xff\xff"
_SPARE = bytes(4)  # spec §5.5.18: AND and sdk-js both append 4 zero bytes
_REC4, _REC8 = 14, 18  # card + start date5 + end date5


class CardOp(IntEnum):
    """ICOperate (spec §5.5.16)."""

    LIST = 1
    ADD = 2
    DELETE = 3
    CLEAR = 4
    MODIFY = 5


class EnrolStatus(IntEnum):
    """Status byte after `battery 02` in enrolment answers (spec §5.5.16, §5.5.17)."""

    DONE = 1
    WAITING = 2  # entered add mode: prompt the person; the lock answers again unasked
    PROGRESS = 3  # fingerprints: `current total`
    TEMPLATE = 4  # fingerprints: ready for a template upload


def card_width(number: int) -> int:
    """4 when the number fits a u32, else 8 (spec §5.5.16, §6.6)."""
    return 4 if 0 <= number < 1 << 32 else 8


def card_bytes(number: int, width: int | None = None) -> bytes:
    """A card number as 4 or 8 BE bytes."""
    size = card_width(number) if width is None else width
    if size not in (4, 8):
        raise FieldError("A card number is 4 or 8 bytes wide.")
    return uint(number, size, "The card number")


def _window(start: datetime, end: datetime) -> bytes:
    if start >= end:
        raise FieldError("A card's validity must start before it ends.")
    return encode_date5(start) + encode_date5(end)


@dataclass(frozen=True, slots=True)
class CardRequest:
    """A 0x05 request as the lock reads it."""

    op: int
    number: int | None = None
    width: int | None = None
    start: datetime | None = None
    end: datetime | None = None
    seq: int | None = None


def build_card_list(seq: int = 0) -> bytes:
    """`01 seq u16`."""
    return bytes([CardOp.LIST]) + u16(seq, "sequence")


def build_card_enrol() -> bytes:
    """`02`: the lock waits for a card (answers WAITING, then DONE + number unasked)."""
    return bytes([CardOp.ADD])


def build_card_add(number: int, start: datetime, end: datetime, width: int | None = None) -> bytes:
    """`02 card start end` (15 or 19 bytes): add a known card number."""
    return bytes([CardOp.ADD]) + card_bytes(number, width) + _window(start, end)


def build_card_modify(
    number: int, start: datetime, end: datetime, width: int | None = None
) -> bytes:
    """`05 card start end`: set a card's validity window."""
    return bytes([CardOp.MODIFY]) + card_bytes(number, width) + _window(start, end)


def build_card_delete(number: int, width: int | None = None) -> bytes:
    """`03 card`."""
    return bytes([CardOp.DELETE]) + card_bytes(number, width)


def build_card_clear() -> bytes:
    """`04`: delete every card."""
    return bytes([CardOp.CLEAR])


def parse_card_request(data: bytes) -> CardRequest:
    """Lock side: parse a 0x05 request; the card width follows from the length."""
    reader = Reader(data, "IC card request (0x05)")
    op = reader.u8("operation")
    if op == CardOp.LIST:
        return CardRequest(op, seq=reader.u16("sequence"))
    if op == CardOp.CLEAR or (op == CardOp.ADD and reader.remaining == 0):
        return CardRequest(op)
    if op == CardOp.DELETE:
        width = reader.remaining if reader.remaining in (4, 8) else 4
        return CardRequest(op, reader.uint(width, "card"), width)
    if op not in (CardOp.ADD, CardOp.MODIFY):
        raise reader.fail(f"unknown operation {op}")
    width = 8 if reader.remaining >= 8 + 10 else 4
    number = reader.uint(width, "card")
    return CardRequest(op, number, width, read_date(reader, "start"), read_date(reader, "end"))


@dataclass(frozen=True, slots=True)
class CardEnrolEvent:
    """An answer to `02`: WAITING (prompt the person) or DONE with the card number."""

    battery: int
    status: EnrolStatus
    number: int | None = None
    width: int | None = None

    def progress(self) -> EnrolmentProgress:
        """Brand-neutral progress: step 0 of 1 while waiting, 1 of 1 when added."""
        if self.status == EnrolStatus.DONE:
            return EnrolmentProgress(1, 1, "Card added.")
        return EnrolmentProgress(0, 1, "Hold the card to the reader.")


def read_enrol_status(reader: Reader, allowed: tuple[EnrolStatus, ...]) -> tuple[int, EnrolStatus]:
    """Read `battery 02 status` of an enrolment answer; ProtocolError for other statuses."""
    battery = reader.u8("battery")
    reader.expect(CardOp.ADD, "operation")
    raw = reader.u8("enrolment status")
    if raw not in allowed:
        raise reader.fail(f"unknown enrolment status {raw}")
    return battery, EnrolStatus(raw)


def parse_card_enrol(data: bytes) -> CardEnrolEvent:
    """`battery 02 status [card]`; a trailing FFFFFFFF word marks a 4-byte card (spec §5.5.16)."""
    reader = Reader(data, "IC card enrolment answer (0x05)")
    battery, status = read_enrol_status(reader, (EnrolStatus.DONE, EnrolStatus.WAITING))
    if status == EnrolStatus.WAITING:
        return CardEnrolEvent(battery, status)
    raw = reader.rest()
    if len(raw) > 4 and raw.endswith(_NO_HIGH_WORD):
        raw = raw[:-4]
    if len(raw) not in (4, 8):
        raise reader.fail(f"a card number of {len(raw)} bytes")
    return CardEnrolEvent(battery, status, int.from_bytes(raw, "big"), len(raw))


def build_card_enrol_event(
    battery: int, number: int | None = None, width: int | None = None
) -> bytes:
    """Lock side: WAITING without a number, DONE with one (4-byte cards padded with FFFFFFFF)."""
    head = u8(battery, "battery") + bytes([CardOp.ADD])
    if number is None:
        return head + bytes([EnrolStatus.WAITING])
    raw = card_bytes(number, width)
    return head + bytes([EnrolStatus.DONE]) + (raw + _NO_HIGH_WORD if len(raw) == 4 else raw)


@dataclass(frozen=True, slots=True)
class CardRecord:
    """One listed card; dates are None when the lock's bytes are not a date."""

    number: int
    start: datetime | None
    end: datetime | None
    width: int = 4


@dataclass(frozen=True, slots=True)
class CardPage:
    """One card list answer."""

    battery: int
    next_seq: int
    records: tuple[CardRecord, ...]

    @property
    def is_last(self) -> bool:
        """Whether no further page should be asked for."""
        return not self.records or self.next_seq == LAST_PAGE


def list_card_width(area: int) -> int:
    """Card width of a list whose record area has `area` bytes (spec §5.5.16 rule)."""
    if area % _REC8 == 0 and area % _REC4 != 0:
        return 8
    if area % _REC4 == 0 and area % _REC8 != 0:
        return 4
    return 8 if area == _REC8 else 4  # AND: 8-byte only for exactly one 18-byte record


def parse_card_page(data: bytes) -> CardPage:
    """`battery 01 nextSeq u16 records(card start end)`; width from the area length."""
    reader = Reader(data, "IC card list (0x05)")
    battery = reader.u8("battery")
    reader.expect(CardOp.LIST, "operation")
    next_seq = reader.u16("next sequence")
    width = list_card_width(reader.remaining)
    if reader.remaining % (width + 10):
        raise reader.fail(f"{reader.remaining} record bytes are not whole card records")
    records = []
    while reader.remaining:
        number = reader.uint(width, "card")
        start, end = read_date_lenient(reader, "start"), read_date_lenient(reader, "end")
        records.append(CardRecord(number, start, end, width))
    return CardPage(battery, next_seq, tuple(records))


def build_card_page(
    battery: int, records: tuple[CardRecord, ...] | list[CardRecord], next_seq: int
) -> bytes:
    """Lock side: one page; all cards share one width, and the length must be unambiguous."""
    width = 8 if any(r.width == 8 or card_width(r.number) == 8 for r in records) else 4
    body = b"".join(
        card_bytes(r.number, width)
        + (encode_date5(r.start) if r.start is not None else bytes(5))
        + (encode_date5(r.end) if r.end is not None else bytes(5))
        for r in records
    )
    if body and list_card_width(len(body)) != width:
        raise FieldError(f"{len(records)} cards of {width} bytes cannot be told apart; page fewer.")
    return u8(battery, "battery") + bytes([CardOp.LIST]) + u16(next_seq, "next seq") + body


# --- 0x70 CYCLIC_CMD: weekly windows for cards, fingerprints, key fobs --------------------------


class CyclicOp(IntEnum):
    """0x70 operations named by the spec (spec §5.5.18)."""

    ADD = 2
    CLEAR = 4


class CyclicUserType(IntEnum):
    """Whose schedule an 0x70 entry is (spec §5.5.18)."""

    FINGERPRINT = 1
    CARD = 2
    KEY_FOB = 3  # MAC reversed
    FACE = 4


_WEEK = 1  # spec §5.5.18: cycle kind byte "01 (week)"


@dataclass(frozen=True, slots=True)
class CyclicEntry:
    """One weekly window: weekday 1-7 = Mon-Sun (as §5.5.19; unconfirmed for 0x70)."""

    weekday: int
    start: time
    end: time


@dataclass(frozen=True, slots=True)
class CyclicRequest:
    """A 0x70 request as the lock reads it."""

    op: int
    user_type: int
    user: bytes
    entry: CyclicEntry | None = None


def build_cyclic_add(user_type: CyclicUserType, user: bytes, entry: CyclicEntry) -> bytes:
    """`02 userType userLen user 01 weekDay 00 sH sM eH eM 00000000` (one per window)."""
    if not 1 <= entry.weekday <= 7:
        raise FieldError("A weekly window's day must be 1 (Monday) to 7 (Sunday).")
    return (
        bytes([CyclicOp.ADD, user_type])
        + short_bytes(user, "user")
        + bytes([_WEEK, entry.weekday, 0])
        + hhmm(entry.start)
        + hhmm(entry.end)
        + _SPARE
    )


def build_cyclic_clear(user_type: CyclicUserType, user: bytes) -> bytes:
    """`04 userType userLen user`; error 1F (no record) counts as success (spec §5.5.18)."""
    return bytes([CyclicOp.CLEAR, user_type]) + short_bytes(user, "user")


def parse_cyclic_request(data: bytes) -> CyclicRequest:
    """Lock side: parse a 0x70 request."""
    reader = Reader(data, "cyclic request (0x70)")
    op, user_type = reader.u8("operation"), reader.u8("user type")
    user = reader.short_bytes("user")
    if op != CyclicOp.ADD:
        return CyclicRequest(op, user_type, user)
    reader.expect(_WEEK, "cycle kind")
    weekday = reader.u8("weekday")
    reader.u8("month day")
    start, end = read_hhmm(reader, "start"), read_hhmm(reader, "end")
    if not 1 <= weekday <= 7:
        raise reader.fail(f"weekday {weekday} is not 1-7")
    return CyclicRequest(op, user_type, user, CyclicEntry(weekday, start, end))
