"""TTLock fingerprint payloads: FR_MANAGE 0x06 (spec §5.5.17); ids are 6 bytes BE."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import IntEnum

from ..credentials import EnrolmentProgress
from ._buf import FieldError, Reader, u8, u16, uint
from .card_cmds import LAST_PAGE, EnrolStatus, read_enrol_status
from .dates import encode_date5, read_date, read_date_lenient

# spec §5.5.17 enrolment: `02` -> WAITING [total] -> PROGRESS current/total (repeated, current 0
# = ready for the first touch) -> DONE fp(6); then `05` sets the validity. Answers to
# delete/clear/modify are `battery op` (commands.parse_op_ack).

FP_LEN = 6
_RECORD = FP_LEN + 10


class FingerprintOp(IntEnum):
    """FR_MANAGE operations (spec §5.5.17)."""

    ADD = 2
    DELETE = 3
    CLEAR = 4
    MODIFY = 5
    LIST = 6
    WRITE_TEMPLATE = 7


def fingerprint_bytes(fp_id: int) -> bytes:
    """A fingerprint id as 6 BE bytes."""
    return uint(fp_id, FP_LEN, "The fingerprint id")


def _window(start: datetime, end: datetime) -> bytes:
    if start >= end:
        raise FieldError("A fingerprint's validity must start before it ends.")
    return encode_date5(start) + encode_date5(end)


@dataclass(frozen=True, slots=True)
class FingerprintRequest:
    """A 0x06 request as the lock reads it."""

    op: int
    fp_id: int | None = None
    start: datetime | None = None
    end: datetime | None = None
    seq: int | None = None


def build_fingerprint_list(seq: int = 0) -> bytes:
    """`06 seq u16`."""
    return bytes([FingerprintOp.LIST]) + u16(seq, "sequence")


def build_fingerprint_enrol() -> bytes:
    """`02`: the lock asks for touches and reports progress unasked."""
    return bytes([FingerprintOp.ADD])


def build_fingerprint_restore(fp_id: int, start: datetime, end: datetime) -> bytes:
    """`02 fp start end` (17 bytes): re-add a known id with validity."""
    return bytes([FingerprintOp.ADD]) + fingerprint_bytes(fp_id) + _window(start, end)


def build_fingerprint_modify(fp_id: int, start: datetime, end: datetime) -> bytes:
    """`05 fp start end` (17 bytes): set the validity window."""
    return bytes([FingerprintOp.MODIFY]) + fingerprint_bytes(fp_id) + _window(start, end)


def build_fingerprint_delete(fp_id: int) -> bytes:
    """`03 fp`."""
    return bytes([FingerprintOp.DELETE]) + fingerprint_bytes(fp_id)


def build_fingerprint_clear() -> bytes:
    """`04`: delete every fingerprint."""
    return bytes([FingerprintOp.CLEAR])


def parse_fingerprint_request(data: bytes) -> FingerprintRequest:
    """Lock side: parse a 0x06 request (template upload 07 keeps only its op)."""
    reader = Reader(data, "fingerprint request (0x06)")
    op = reader.u8("operation")
    if op == FingerprintOp.LIST:
        return FingerprintRequest(op, seq=reader.u16("sequence"))
    if op in (FingerprintOp.CLEAR, FingerprintOp.WRITE_TEMPLATE) or (
        op == FingerprintOp.ADD and reader.remaining == 0
    ):
        return FingerprintRequest(op)
    if op not in (FingerprintOp.ADD, FingerprintOp.MODIFY, FingerprintOp.DELETE):
        raise reader.fail(f"unknown operation {op}")
    fp_id = reader.uint(FP_LEN, "fingerprint id")
    if op == FingerprintOp.DELETE:
        return FingerprintRequest(op, fp_id)
    return FingerprintRequest(op, fp_id, read_date(reader, "start"), read_date(reader, "end"))


@dataclass(frozen=True, slots=True)
class FingerprintEnrolEvent:
    """One enrolment answer; which fields are set depends on the status."""

    battery: int
    status: EnrolStatus
    fp_id: int | None = None  # DONE
    current: int | None = None  # PROGRESS
    total: int | None = None  # WAITING (when sent) and PROGRESS
    template_seq: int | None = None  # TEMPLATE
    packet_len: int | None = None  # TEMPLATE

    def progress(self, known_total: int | None = None) -> EnrolmentProgress | None:
        """Brand-neutral progress (None for TEMPLATE); `known_total` fills a missing total."""
        total = self.total or known_total or 1
        if self.status == EnrolStatus.WAITING:
            return EnrolmentProgress(0, total, "Place the finger on the sensor.")
        if self.status == EnrolStatus.PROGRESS:
            step = min(self.current or 0, total)
            return EnrolmentProgress(step, total, "Lift the finger and place it again.")
        if self.status == EnrolStatus.DONE:
            return EnrolmentProgress(total, total, "Fingerprint added.")
        return None


def parse_fingerprint_enrol(data: bytes) -> FingerprintEnrolEvent:
    """`battery 02 status …` (spec §5.5.17)."""
    reader = Reader(data, "fingerprint enrolment answer (0x06)")
    battery, status = read_enrol_status(reader, tuple(EnrolStatus))
    if status == EnrolStatus.DONE:
        return FingerprintEnrolEvent(battery, status, fp_id=reader.uint(FP_LEN, "fingerprint id"))
    if status == EnrolStatus.WAITING:
        total = reader.u8("total") if reader.remaining else None
        return FingerprintEnrolEvent(battery, status, total=total)
    if status == EnrolStatus.PROGRESS:
        current = reader.u8("current")
        return FingerprintEnrolEvent(battery, status, current=current, total=reader.u8("total"))
    seq = reader.u16("template sequence")
    return FingerprintEnrolEvent(
        battery, status, template_seq=seq, packet_len=reader.u16("packet length")
    )


def build_fingerprint_enrol_event(event: FingerprintEnrolEvent) -> bytes:
    """Lock side: the answer for `event`'s status."""
    out = u8(event.battery, "battery") + bytes([FingerprintOp.ADD, event.status])
    if event.status == EnrolStatus.DONE:
        return out + fingerprint_bytes(event.fp_id or 0)
    if event.status == EnrolStatus.WAITING:
        return out if event.total is None else out + u8(event.total, "total")
    if event.status == EnrolStatus.PROGRESS:
        return out + u8(event.current or 0, "current") + u8(event.total or 0, "total")
    return out + u16(event.template_seq or 0, "sequence") + u16(event.packet_len or 0, "length")


@dataclass(frozen=True, slots=True)
class FingerprintRecord:
    """One listed fingerprint; dates are None when the lock's bytes are not a date."""

    fp_id: int
    start: datetime | None
    end: datetime | None


@dataclass(frozen=True, slots=True)
class FingerprintPage:
    """One fingerprint list answer."""

    battery: int
    next_seq: int
    records: tuple[FingerprintRecord, ...]

    @property
    def is_last(self) -> bool:
        """Whether no further page should be asked for."""
        return not self.records or self.next_seq == LAST_PAGE


def parse_fingerprint_page(data: bytes) -> FingerprintPage:
    """`battery 06 nextSeq u16` + 16-byte records `fp start end` (spec §5.5.17)."""
    reader = Reader(data, "fingerprint list (0x06)")
    battery = reader.u8("battery")
    reader.expect(FingerprintOp.LIST, "operation")
    next_seq = reader.u16("next sequence")
    if reader.remaining % _RECORD:
        raise reader.fail(f"{reader.remaining} record bytes are not whole 16-byte records")
    records = []
    while reader.remaining:
        fp_id = reader.uint(FP_LEN, "fingerprint id")
        start, end = read_date_lenient(reader, "start"), read_date_lenient(reader, "end")
        records.append(FingerprintRecord(fp_id, start, end))
    return FingerprintPage(battery, next_seq, tuple(records))


def build_fingerprint_page(
    battery: int, records: tuple[FingerprintRecord, ...] | list[FingerprintRecord], next_seq: int
) -> bytes:
    """Lock side: one page of records."""
    body = b"".join(
        fingerprint_bytes(r.fp_id)
        + (encode_date5(r.start) if r.start is not None else bytes(5))
        + (encode_date5(r.end) if r.end is not None else bytes(5))
        for r in records
    )
    return u8(battery, "battery") + bytes([FingerprintOp.LIST]) + u16(next_seq, "next seq") + body
