"""TTLock operation log (0x25): every record type, paging, meaning, fuzzing."""

from __future__ import annotations

import contextlib
from datetime import datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ttlock_nuki_addon.credentials import CredentialKind
from ttlock_nuki_addon.errors import ProtocolError
from ttlock_nuki_addon.model import EventKind, EventSource
from ttlock_nuki_addon.ttlock import oplog
from ttlock_nuki_addon.ttlock.oplog import LOG_ALL, LOG_NEW, LogPage, LogRecord, LogType
from ttlock_nuki_addon.ttlock.oplog_events import classify, credential_ref
from ttlock_nuki_addon.ttlock.oplog_tails import (
    KNOWN_TAIL_TYPES,
    AppTail,
    CardTail,
    FingerprintTail,
    KeyFobTail,
    KeypadTail,
    LogTail,
    MacTail,
    NoTail,
    PasscodeChangeTail,
    PasscodesClearedTail,
    PasscodeTail,
    RawTail,
    RemoteKeyTail,
    WrongPasscodeTail,
    parse_tail,
)

WHEN = datetime(2024, 1, 15, 10, 30, 45)
MAC = "38:38:E5:1D:71:FE"


def example_tail(kind: int) -> LogTail:
    """A tail of the layout spec §5.5.20 gives type `kind`."""
    examples: dict[tuple[int, ...], LogTail] = {
        (1, 26, 28, 41): AppTail(7, 1705314645),
        (37,): RemoteKeyTail(7, 99, 2),
        (4, 10, 11, 12, 13, 34, 38): PasscodeTail("123456", "123456"),
        (5, 6, 9): PasscodeChangeTail("123456", "654321"),
        (7,): WrongPasscodeTail("0000"),
        (15, 17, 18, 25, 35, 39, 51, 74): CardTail(0xDEADBEEF, 4),
        (19,): MacTail(MAC),
        (20, 21, 22, 23, 33, 40): FingerprintTail(123456789012),
        (55,): KeyFobTail(MAC, 1, 80),
        (56,): KeypadTail(MAC, 55),
    }
    if kind == 8:
        return PasscodesClearedTail(datetime(2024, 1, 15, 10, 30))
    for kinds, tail in examples.items():
        if kind in kinds:
            return tail
    return NoTail()


@pytest.mark.parametrize("kind", [int(t) for t in LogType])
def test_every_record_type_round_trips(kind: int) -> None:
    record = LogRecord(kind, WHEN, 90, example_tail(kind))
    page = oplog.parse_log_page(oplog.build_log_page([record], 0))
    assert page.records == (record,)
    assert record.log_type == LogType(kind)


def test_every_named_type_has_a_layout() -> None:
    assert {int(t) for t in LogType} == set(KNOWN_TAIL_TYPES)


@pytest.mark.parametrize(
    "tail",
    [
        PasscodesClearedTail(None, "1234"),
        FingerprintTail(5, "4321"),
        CardTail(0x0102030405060708, 8),
        PasscodeTail("123456", "12345678"),
    ],
)
def test_optional_and_wide_tails(tail: LogTail) -> None:
    kind = {PasscodesClearedTail: 8, FingerprintTail: 20, CardTail: 17, PasscodeTail: 4}[type(tail)]
    record = LogRecord(kind, WHEN, 90, tail)
    assert oplog.parse_log_page(oplog.build_log_page([record], 0)).records == (record,)


def test_hand_written_records_decode() -> None:
    # passcode unlock: recLen 0x16, type 4, 2024-01-15 10:30:45, battery 100, "123456" twice.
    unlock = bytes.fromhex("160418010f0a1e2d64") + b"\x06123456\x06123456"
    # card unlock (type 17) with an 8-byte card; app lock (type 26) uid 1, record 2.
    card = bytes.fromhex("101118010f0a1e2d500102030405060708")
    app = bytes.fromhex("101a18010f0a1e2d500000000100000002")
    body = unlock + card + app
    page = oplog.parse_log_page(len(body).to_bytes(2, "big") + b"\x00\x03" + body)
    assert page.next_seq == 3
    first, second, third = page.records
    assert (first.type, first.time, first.battery) == (4, WHEN, 100)
    assert first.tail == PasscodeTail("123456", "123456")
    assert second.tail == CardTail(0x0102030405060708, 8)
    assert third.tail == AppTail(1, 2)
    assert "123456" not in repr(first)


def test_layout_mismatches_keep_the_bytes() -> None:
    assert parse_tail(17, b"\x01\x02\x03") == RawTail(b"\x01\x02\x03")  # 3-byte card
    assert parse_tail(14, b"\xaa") == RawTail(b"\xaa")  # extra bytes on a tail-less type
    assert parse_tail(99, b"\x01") == RawTail(b"\x01")  # a type nobody has named
    assert parse_tail(4, b"\x04\xff\xfe\xfd\xfc\x00") == RawTail(b"\x04\xff\xfe\xfd\xfc\x00")
    record = LogRecord(99, None, 5, RawTail(b"xyz"))
    assert record.log_type is None
    assert oplog.parse_log_page(oplog.build_log_page([record], 0)).records == (record,)


def test_bad_record_dates_become_none_and_framing_errors_raise() -> None:
    body = bytes([8, 14]) + bytes(6) + bytes([50])
    page = oplog.parse_log_page(len(body).to_bytes(2, "big") + b"\x00\x00" + body)
    assert page.records == (LogRecord(14, None, 50),)
    with pytest.raises(ProtocolError):
        oplog.parse_log_page(b"\x00\x05\x00\x00\x07\x0e\x00")  # record runs past the end
    with pytest.raises(ProtocolError):
        oplog.parse_log_page(b"\x00\x03\x00\x00\x02\x0e\x00")  # shorter than its header
    with pytest.raises(ProtocolError):
        oplog.parse_log_page(b"\x00")


def test_requests_and_paging() -> None:
    assert oplog.build_log_request() == bytes.fromhex("ffff")
    assert oplog.build_log_request(LOG_ALL) == b"\x00\x00"
    assert oplog.parse_log_request(b"\xff\xff") == LOG_NEW
    empty = oplog.parse_log_page(b"\x00\x00")
    assert empty == LogPage(LOG_ALL, ()) and empty.next_request(LOG_NEW) is None
    assert oplog.parse_log_page(oplog.build_log_page([], 7)).next_request(LOG_NEW) is None
    record = LogRecord(14, WHEN, 90)
    more = oplog.parse_log_page(oplog.build_log_page([record], 12))
    assert more.next_request(LOG_NEW) == 12
    assert more.next_request(0) == 12
    assert more.next_request(12) is None  # no progress: stop rather than loop
    done = oplog.parse_log_page(oplog.build_log_page([record], 0))
    assert done.next_request(12) is None  # sdk-js: nextSeq 0 ends
    again = oplog.parse_log_page(oplog.build_log_page([record], LOG_NEW))
    assert again.next_request(LOG_NEW) == LOG_NEW  # new-only reads consume records


@pytest.mark.parametrize(
    ("record", "kind", "source"),
    [
        (LogRecord(1, WHEN, 90, AppTail(0, 1)), EventKind.UNLOCKED, EventSource.APP),
        (
            LogRecord(4, WHEN, 90, PasscodeTail("1234", "1234")),
            EventKind.UNLOCKED,
            EventSource.KEYPAD,
        ),
        (
            LogRecord(7, WHEN, 90, WrongPasscodeTail("9")),
            EventKind.FAILED_ATTEMPT,
            EventSource.KEYPAD,
        ),
        (LogRecord(17, WHEN, 90, CardTail(5)), EventKind.UNLOCKED, EventSource.CARD),
        (LogRecord(20, WHEN, 90, FingerprintTail(5)), EventKind.UNLOCKED, EventSource.FINGERPRINT),
        (LogRecord(26, WHEN, 90, AppTail(0, 1)), EventKind.LOCKED, EventSource.APP),
        (LogRecord(27, WHEN, 90), EventKind.UNLOCKED, EventSource.KEY),
        (LogRecord(29, WHEN, 90), EventKind.TAMPER, EventSource.UNKNOWN),
        (LogRecord(30, WHEN, 90), EventKind.DOOR_CLOSED, EventSource.UNKNOWN),
        (LogRecord(31, WHEN, 90), EventKind.DOOR_OPENED, EventSource.UNKNOWN),
        (LogRecord(32, WHEN, 90), EventKind.UNLOCKED, EventSource.BUTTON),
        (LogRecord(36, WHEN, 90), EventKind.LOCKED, EventSource.KEY),
        (LogRecord(37, WHEN, 90, RemoteKeyTail(0, 0, 2)), EventKind.LOCKED, EventSource.FOB),
        (LogRecord(55, WHEN, 90, KeyFobTail(MAC, 1, 50)), EventKind.UNLOCKED, EventSource.FOB),
        (LogRecord(14, WHEN, 90), EventKind.OTHER, EventSource.UNKNOWN),
        (LogRecord(99, WHEN, 90, RawTail(b"")), EventKind.OTHER, EventSource.UNKNOWN),
    ],
)
def test_classify(record: LogRecord, kind: EventKind, source: EventSource) -> None:
    assert classify(record) == (kind, source)


@pytest.mark.parametrize("kind", [int(t) for t in LogType])
def test_every_named_type_is_classified(kind: int) -> None:
    event_kind, _ = classify(LogRecord(kind, WHEN, 90, example_tail(kind)))
    assert isinstance(event_kind, EventKind)
    if kind in (1, 4, 17, 19, 20, 27, 28, 32):
        assert event_kind is EventKind.UNLOCKED
    if kind in (26, 33, 34, 35, 36):
        assert event_kind is EventKind.LOCKED


def test_credential_refs() -> None:
    pin = credential_ref(LogRecord(4, WHEN, 90, PasscodeTail("1234", "5678")))
    assert pin is not None and (pin.kind, pin.key, pin.alternate) == (
        CredentialKind.PIN,
        "1234",
        "5678",
    )
    assert "1234" not in repr(pin)
    card = credential_ref(LogRecord(17, WHEN, 90, CardTail(3735928559)))
    assert card is not None and (card.kind, card.key) == (CredentialKind.CARD, "3735928559")
    finger = credential_ref(LogRecord(20, WHEN, 90, FingerprintTail(42)))
    assert finger is not None and (finger.kind, finger.key) == (CredentialKind.FINGERPRINT, "42")
    assert credential_ref(LogRecord(7, WHEN, 90, WrongPasscodeTail("1"))) is None
    assert credential_ref(LogRecord(1, WHEN, 90, AppTail(0, 0))) is None


# --- fuzzing ---------------------------------------------------------------------------------


@given(st.binary(max_size=300))
def test_log_page_parser_raises_only_protocol_error(data: bytes) -> None:
    with contextlib.suppress(ProtocolError):
        oplog.parse_log_page(data)


@given(st.lists(st.tuples(st.integers(0, 255), st.binary(max_size=30)), max_size=6))
def test_well_framed_records_with_any_tail_always_parse(items: list[tuple[int, bytes]]) -> None:
    body = b"".join(
        bytes([8 + len(tail), kind]) + bytes([24, 1, 15, 10, 30, 45, 90]) + tail
        for kind, tail in items
    )
    page = oplog.parse_log_page(len(body).to_bytes(2, "big") + b"\x00\x00" + body)
    assert [r.type for r in page.records] == [kind for kind, _ in items]
    for record, (_, tail) in zip(page.records, items, strict=True):
        assert record.time == WHEN and record.battery == 90
        classify(record)
        credential_ref(record)
        if not isinstance(record.tail, PasscodesClearedTail):  # its bad dates read as None
            assert tail.startswith(record.tail.to_bytes())  # layouts may ignore extra bytes
