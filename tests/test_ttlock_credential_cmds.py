"""TTLock credential payloads: passcodes, IC cards, fingerprints, 0x70 schedules, validity map."""

from __future__ import annotations

import json
from datetime import datetime, time, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ttlock_nuki_addon.credentials import EnrolmentProgress
from ttlock_nuki_addon.errors import ProtocolError
from ttlock_nuki_addon.ttlock import card_cmds as cards
from ttlock_nuki_addon.ttlock import fingerprint_cmds as fps
from ttlock_nuki_addon.ttlock import passcode_cmds as pcs
from ttlock_nuki_addon.ttlock import validity_map as vmap
from ttlock_nuki_addon.ttlock.card_cmds import CardOp, CyclicEntry, CyclicUserType, EnrolStatus
from ttlock_nuki_addon.ttlock.dates import PERMANENT_END, PERMANENT_START
from ttlock_nuki_addon.ttlock.fingerprint_cmds import FingerprintEnrolEvent, FingerprintOp
from ttlock_nuki_addon.ttlock.passcode_cmds import PasscodeOp, PasscodeRecord, PasscodeType
from ttlock_nuki_addon.validity import Once, Period, Permanent, Weekday, Weekly

DATA = json.loads((Path(__file__).parent / "data" / "ttlock_commands.json").read_text())
PLAINTEXTS = {v["name"]: bytes.fromhex(v["plaintext"]) for v in DATA["request_plaintexts"]}
JAN_2020 = datetime(2020, 1, 1, 0, 0)
END_2022 = datetime(2022, 12, 31, 23, 59)
SDK_START, SDK_END = datetime(2000, 1, 1, 0, 0), datetime(2099, 12, 1, 23, 59)


def plain(name: str) -> bytes:
    """The golden plaintext of the vector `name`."""
    return PLAINTEXTS[name]


# --- passcodes 0x03 -----------------------------------------------------------------------------


def test_add_permanent_passcode_matches_the_android_layout() -> None:
    raw = pcs.build_passcode_add(PasscodeType.PERMANENT, "123456", JAN_2020)
    sdkjs = plain("add_passcode permanent 123456 202001010000..202212312359")
    assert raw == sdkjs[:-5]  # sdk-js appends 5 stray zero bytes; AND ends after the start
    for payload in (raw, sdkjs):
        parsed = pcs.parse_passcode_request(payload)
        assert parsed == pcs.PasscodeRequest(
            PasscodeOp.ADD, PasscodeType.PERMANENT, "123456", start=JAN_2020
        )
    assert "123456" not in repr(parsed)


@pytest.mark.parametrize("kind", [PasscodeType.COUNT, PasscodeType.PERIOD])
def test_add_timed_passcode_round_trip(kind: PasscodeType) -> None:
    raw = pcs.build_passcode_add(kind, "4711", JAN_2020, END_2022)
    assert raw == bytes([2, kind, 4]) + b"4711" + bytes([20, 1, 1, 0, 0, 22, 12, 31, 23, 59])
    parsed = pcs.parse_passcode_request(raw)
    assert parsed == pcs.PasscodeRequest(PasscodeOp.ADD, kind, "4711", start=JAN_2020, end=END_2022)


def test_add_cyclic_passcode_round_trip_and_the_spec_short_form() -> None:
    raw = pcs.build_passcode_add(PasscodeType.CYCLIC, "98765", JAN_2020, END_2022, cycle_type=0x1F)
    parsed = pcs.parse_passcode_request(raw)
    assert (parsed.start, parsed.end, parsed.cycle_type) == (JAN_2020, END_2022, 0x1F)
    short = bytes([2, 4, 4]) + b"1234" + bytes([20, 1, 1, 8, 0]) + b"\x00\x05"
    parsed = pcs.parse_passcode_request(short)
    assert (parsed.start, parsed.end, parsed.cycle_type) == (datetime(2020, 1, 1, 8), None, 5)
    with pytest.raises(ValueError):
        pcs.build_passcode_add(PasscodeType.CYCLIC, "98765", JAN_2020, END_2022)


def test_delete_modify_clear_vectors() -> None:
    delete = pcs.build_passcode_delete(PasscodeType.PERMANENT, "123456")
    assert delete == plain("delete_passcode permanent 123456")
    assert pcs.parse_passcode_request(delete) == pcs.PasscodeRequest(
        PasscodeOp.DELETE, PasscodeType.PERMANENT, "123456"
    )
    modify = pcs.build_passcode_modify(
        PasscodeType.PERMANENT, "123456", "654321", start=JAN_2020, end=END_2022
    )
    assert modify == plain("modify_passcode 123456->654321")
    assert pcs.parse_passcode_request(modify) == pcs.PasscodeRequest(
        PasscodeOp.MODIFY, PasscodeType.PERMANENT, "123456", "654321", JAN_2020, END_2022
    )
    bare = pcs.build_passcode_modify(PasscodeType.PERIOD, "123456", "654321")
    assert pcs.parse_passcode_request(bare).start is None
    cyclic = pcs.build_passcode_modify(
        PasscodeType.CYCLIC, "1234", "5678", start=JAN_2020, end=END_2022, cycle_type=3
    )
    assert pcs.parse_passcode_request(cyclic).cycle_type == 3
    assert pcs.build_passcode_clear() == plain("clear_passcodes")
    assert pcs.parse_passcode_request(b"\x01") == pcs.PasscodeRequest(PasscodeOp.CLEAR)


def test_recover_round_trip() -> None:
    raw = pcs.build_passcode_recover(PasscodeType.PERIOD, "1111", "2222", JAN_2020, end=END_2022)
    assert pcs.parse_passcode_request(raw) == pcs.PasscodeRequest(
        PasscodeOp.RECOVER, PasscodeType.PERIOD, "1111", "2222", JAN_2020, END_2022
    )


@pytest.mark.parametrize("code", ["123", "1234567890", "12a4", "\uff11\uff12\uff13\uff14"])
def test_passcode_builders_reject_bad_codes(code: str) -> None:
    with pytest.raises(ValueError):
        pcs.build_passcode_add(PasscodeType.PERMANENT, code, JAN_2020)


def test_passcode_builders_reject_bad_windows() -> None:
    with pytest.raises(ValueError):
        pcs.build_passcode_add(PasscodeType.PERIOD, "1234", END_2022, JAN_2020)
    with pytest.raises(ValueError):
        pcs.build_passcode_add(PasscodeType.PERIOD, "1234", JAN_2020)
    with pytest.raises(ValueError):
        pcs.build_passcode_add(PasscodeType.PERIOD, "1234", datetime(1999, 1, 1), END_2022)


def test_passcode_request_parser_rejects_garbage() -> None:
    for raw in (b"", b"\x02\x01\x04ab12" + bytes(5), b"\x07\x01\x041234", b"\x02\x03\x041234\x14"):
        with pytest.raises(ProtocolError):
            pcs.parse_passcode_request(raw)


# --- passcode list 0x07 ----------------------------------------------------------------------


def test_passcode_list_pages() -> None:
    assert pcs.build_passcode_list_request(0) == plain("list_passcodes seq=0")
    assert pcs.parse_passcode_list_request(b"\x00\x07") == 7
    records = [
        PasscodeRecord(PasscodeType.PERMANENT, "1234", "1234", JAN_2020),
        PasscodeRecord(PasscodeType.COUNT, "5555", "4444", JAN_2020, END_2022),
        PasscodeRecord(PasscodeType.PERIOD, "777777", "777777", JAN_2020, END_2022),
        PasscodeRecord(PasscodeType.CYCLIC, "8888", "8888", JAN_2020, END_2022, 0x41),
    ]
    page = pcs.parse_passcode_page(pcs.build_passcode_page(records, 0xFFFF))
    assert page.records == tuple(records) and page.is_last
    middle = pcs.parse_passcode_page(pcs.build_passcode_page(records[:1], 1))
    assert not middle.is_last and middle.next_seq == 1
    empty = pcs.parse_passcode_page(pcs.build_passcode_page([], 0))
    assert empty.records == () and empty.is_last
    assert pcs.parse_passcode_page(b"\x00\x00").is_last


def test_passcode_list_reads_the_spec_forms() -> None:
    # spec §5.5.15: type 4 = start + cycleType only; unknown dates (zeros) become None.
    body = bytes([4]) + b"\x041234\x041234" + bytes([24, 3, 1, 8, 0]) + b"\x00\x02"
    body2 = bytes([3]) + b"\x045678\x045678" + bytes(10) + b"\xaa"  # extra byte skipped
    raw = bytes([len(body)]) + body + bytes([len(body2)]) + body2
    page = pcs.parse_passcode_page(len(raw).to_bytes(2, "big") + b"\xff\xff" + raw)
    first, second = page.records
    assert (first.start, first.end, first.cycle_type) == (datetime(2024, 3, 1, 8), None, 2)
    assert (second.code, second.start, second.end) == ("5678", None, None)
    with pytest.raises(ProtocolError):
        pcs.parse_passcode_page(b"\x00\x09\xff\xff\x09\x01")  # record runs past the end


# --- IC cards 0x05 ---------------------------------------------------------------------------


def test_card_vectors() -> None:
    assert cards.build_card_list(0) == plain("ic_card list seq=0")
    assert cards.build_card_enrol() == plain("ic_card enter add mode")
    assert cards.build_card_clear() == plain("ic_card clear")
    modify = cards.build_card_modify(3735928559, SDK_START, SDK_END)
    assert modify == plain("ic_card modify 4-byte card 3735928559 200001010000..209912012359")
    assert cards.parse_card_request(modify) == cards.CardRequest(
        CardOp.MODIFY, 3735928559, 4, SDK_START, SDK_END
    )
    delete = cards.build_card_delete(3735928559)
    assert delete == plain("ic_card delete 4-byte 3735928559")
    assert cards.parse_card_request(delete) == cards.CardRequest(CardOp.DELETE, 3735928559, 4)


@pytest.mark.parametrize("number", [0, 1234567890, 0xFFFFFFFF, 0x1_0000_0000, 0x0102030405060708])
def test_card_numbers_four_or_eight_bytes(number: int) -> None:
    width = 4 if number < 1 << 32 else 8
    add = cards.build_card_add(number, JAN_2020, END_2022)
    assert len(add) == 1 + width + 10
    assert cards.parse_card_request(add) == cards.CardRequest(
        CardOp.ADD, number, width, JAN_2020, END_2022
    )
    assert cards.parse_card_request(cards.build_card_delete(number)).number == number
    done = cards.parse_card_enrol(cards.build_card_enrol_event(90, number))
    assert done == cards.CardEnrolEvent(90, EnrolStatus.DONE, number, width)


def test_card_enrolment_answers() -> None:
    waiting = cards.parse_card_enrol(cards.build_card_enrol_event(90))
    assert waiting == cards.CardEnrolEvent(90, EnrolStatus.WAITING)
    # spec §5.5.16: more than 4 bytes ending in FFFFFFFF is a 4-byte card.
    padded = bytes([90, 2, 1]) + bytes.fromhex("deadbeefffffffff")
    assert cards.parse_card_enrol(padded).number == 0xDEADBEEF
    assert cards.parse_card_enrol(bytes([90, 2, 1]) + bytes.fromhex("deadbeef")).width == 4
    for bad in (bytes([90, 2, 1, 1, 2]), bytes([90, 2, 3]), bytes([90, 5, 2])):
        with pytest.raises(ProtocolError):
            cards.parse_card_enrol(bad)
    assert cards.parse_card_request(b"\x02") == cards.CardRequest(CardOp.ADD)
    assert (waiting.progress().step, waiting.progress().total) == (0, 1)
    added = cards.parse_card_enrol(cards.build_card_enrol_event(90, 5)).progress()
    assert (added.step, added.total) == (1, 1)


@pytest.mark.parametrize("count", [1, 2, 5, 6])
@pytest.mark.parametrize("number", [0xDEADBEEF, 0x0102030405060708])
def test_card_list_pages_round_trip(count: int, number: int) -> None:
    records = [
        cards.CardRecord(number + i, JAN_2020, END_2022, cards.card_width(number))
        for i in range(count)
    ]
    page = cards.parse_card_page(cards.build_card_page(80, records, 0xFFFF))
    assert page.records == tuple(records) and page.is_last and page.battery == 80


def test_card_list_width_rule_and_ambiguity() -> None:
    assert cards.list_card_width(14) == 4 and cards.list_card_width(18) == 8
    assert cards.list_card_width(28) == 4 and cards.list_card_width(36) == 8
    assert cards.list_card_width(126) == 4  # both divide: follow AND (8 only for one record)
    seven = [cards.CardRecord(1 << 40, JAN_2020, END_2022, 8)] * 7
    with pytest.raises(ValueError):
        cards.build_card_page(80, seven, 0xFFFF)
    with pytest.raises(ProtocolError):
        cards.parse_card_page(bytes([80, 1, 0xFF, 0xFF]) + bytes(20))
    lenient = cards.parse_card_page(bytes([80, 1, 0xFF, 0xFF]) + bytes(14))
    assert lenient.records == (cards.CardRecord(0, None, None, 4),)


# --- fingerprints 0x06 ------------------------------------------------------------------------


def test_fingerprint_vectors() -> None:
    assert fps.build_fingerprint_list(0) == plain("fingerprint list seq=0")
    assert fps.build_fingerprint_enrol() == plain("fingerprint enter add mode")
    modify = fps.build_fingerprint_modify(123456789012, SDK_START, SDK_END)
    assert modify == plain("fingerprint modify fp=123456789012 200001010000..209912012359")
    assert fps.parse_fingerprint_request(modify) == fps.FingerprintRequest(
        FingerprintOp.MODIFY, 123456789012, SDK_START, SDK_END
    )
    delete = fps.build_fingerprint_delete(123456789012)
    assert delete == plain("fingerprint delete fp=123456789012")
    assert fps.parse_fingerprint_request(delete).fp_id == 123456789012
    assert fps.parse_fingerprint_request(fps.build_fingerprint_clear()).op == FingerprintOp.CLEAR
    restore = fps.build_fingerprint_restore(5, JAN_2020, END_2022)
    assert len(restore) == 17
    assert fps.parse_fingerprint_request(restore).start == JAN_2020
    assert fps.parse_fingerprint_request(b"\x06\x00\x02").seq == 2
    with pytest.raises(ValueError):
        fps.build_fingerprint_delete(1 << 48)


def test_fingerprint_enrolment_progress() -> None:
    steps = [
        FingerprintEnrolEvent(90, EnrolStatus.WAITING, total=4),
        FingerprintEnrolEvent(90, EnrolStatus.PROGRESS, current=0, total=4),
        FingerprintEnrolEvent(90, EnrolStatus.PROGRESS, current=1, total=4),
        FingerprintEnrolEvent(90, EnrolStatus.PROGRESS, current=3, total=4),
        FingerprintEnrolEvent(90, EnrolStatus.DONE, fp_id=0x010203040506),
        FingerprintEnrolEvent(90, EnrolStatus.TEMPLATE, template_seq=1, packet_len=128),
        FingerprintEnrolEvent(90, EnrolStatus.WAITING),
    ]
    for event in steps:
        assert fps.parse_fingerprint_enrol(fps.build_fingerprint_enrol_event(event)) == event
    progress = [event.progress() for event in steps]
    assert [(p.step, p.total) for p in progress if p] == [
        (0, 4),
        (0, 4),
        (1, 4),
        (3, 4),
        (1, 1),
        (0, 1),
    ]
    assert progress[5] is None
    done = steps[4].progress(known_total=4)
    assert done is not None and (done.step, done.total) == (4, 4)
    assert isinstance(progress[0], EnrolmentProgress)
    with pytest.raises(ProtocolError):
        fps.parse_fingerprint_enrol(bytes([90, 2, 3, 1]))  # progress without total
    with pytest.raises(ProtocolError):
        fps.parse_fingerprint_enrol(bytes([90, 2, 9]))


def test_fingerprint_list_pages() -> None:
    records = [fps.FingerprintRecord(i, JAN_2020, END_2022) for i in range(1, 4)]
    page = fps.parse_fingerprint_page(fps.build_fingerprint_page(70, records, 3))
    assert page.records == tuple(records) and not page.is_last and page.next_seq == 3
    last = fps.parse_fingerprint_page(fps.build_fingerprint_page(70, [], 0xFFFF))
    assert last.is_last
    with pytest.raises(ProtocolError):
        fps.parse_fingerprint_page(bytes([70, 6, 0xFF, 0xFF]) + bytes(15))


# --- 0x70 cyclic ----------------------------------------------------------------------------------


def test_cyclic_add_and_clear() -> None:
    entry = CyclicEntry(1, time(8, 0), time(17, 30))
    card = cards.card_bytes(0xDEADBEEF)
    raw = cards.build_cyclic_add(CyclicUserType.CARD, card, entry)
    assert raw == bytes.fromhex("020204deadbeef0101000800111e") + bytes(4)
    assert cards.parse_cyclic_request(raw) == cards.CyclicRequest(2, 2, card, entry)
    fp = fps.fingerprint_bytes(7)
    clear = cards.build_cyclic_clear(CyclicUserType.FINGERPRINT, fp)
    assert clear == bytes([4, 1, 6]) + fp
    assert cards.parse_cyclic_request(clear) == cards.CyclicRequest(4, 1, fp)
    with pytest.raises(ValueError):
        cards.build_cyclic_add(CyclicUserType.CARD, card, CyclicEntry(8, time(1), time(2)))
    with pytest.raises(ProtocolError):
        cards.parse_cyclic_request(raw[:-9] + bytes([25, 0, 0, 0]))


# --- validity mapping ---------------------------------------------------------------------------

PERIOD = Period(datetime(2024, 3, 1, 8, 0), datetime(2024, 3, 8, 18, 0))
ONCE = Once(datetime(2024, 3, 1, 8, 0), datetime(2024, 3, 1, 20, 0))
WEEKLY = Weekly(
    frozenset({Weekday.MON, Weekday.FRI}),
    time(8, 0),
    time(17, 0),
    datetime(2024, 3, 1),
    datetime(2024, 6, 1),
)


@pytest.mark.parametrize(
    "validity",
    [Permanent(), PERIOD, ONCE, WEEKLY, Weekly(frozenset(Weekday), time(22, 0), time(6, 0))],
)
def test_passcode_validity_round_trip(validity: Permanent | Period | Once | Weekly) -> None:
    fields = vmap.passcode_validity(validity)
    raw = pcs.build_passcode_add(
        fields.type, "2468", fields.start, fields.end, cycle_type=fields.cycle_type
    )
    request = pcs.parse_passcode_request(raw)
    back = vmap.validity_of_passcode(request.type, request.start, request.end, request.cycle_type)
    assert back == validity


def test_passcode_validity_fields() -> None:
    assert vmap.passcode_validity(Permanent()).type == PasscodeType.PERMANENT
    assert vmap.passcode_validity(ONCE).type == PasscodeType.COUNT
    period = vmap.passcode_validity(
        Period(datetime(2024, 1, 1, 8, 0, 1), datetime(2024, 1, 2, 8, 0, 59))
    )
    assert (period.start, period.end) == (datetime(2024, 1, 1, 8, 1), datetime(2024, 1, 2, 8, 0))
    weekly = vmap.passcode_validity(WEEKLY)
    assert weekly.type == PasscodeType.CYCLIC and weekly.cycle_type == 0b10001
    assert (weekly.start, weekly.end) == (datetime(2024, 3, 1, 8), datetime(2024, 5, 31, 17))
    with pytest.raises(vmap.UnsupportedValidity):
        vmap.passcode_validity(
            Period(datetime(2024, 1, 1, 8, 0, 1), datetime(2024, 1, 1, 8, 0, 59))
        )
    with pytest.raises(ValueError):
        vmap.passcode_validity(Period(datetime(2024, 1, 1), datetime(2100, 1, 2)))
    # The official app's permanent window on a period passcode reads back as permanent.
    assert vmap.validity_of_passcode(3, SDK_START, SDK_END) == Permanent()
    assert vmap.validity_of_passcode(3, None, None) == Permanent()
    assert vmap.validity_of_passcode(2, None, None) == Once(PERMANENT_START, PERMANENT_END)


def test_card_windows_and_schedules() -> None:
    assert vmap.card_window(Permanent()) == (PERMANENT_START, PERMANENT_END)
    assert vmap.card_window(PERIOD) == (PERIOD.valid_from, PERIOD.valid_until)
    assert vmap.card_window(WEEKLY) == (datetime(2024, 3, 1), datetime(2024, 6, 1))
    with pytest.raises(vmap.UnsupportedValidity):
        vmap.card_window(ONCE)
    assert vmap.validity_of_window(*vmap.card_window(Permanent())) == Permanent()
    assert vmap.validity_of_window(PERIOD.valid_from, PERIOD.valid_until) == PERIOD
    assert vmap.validity_of_window(None, PERIOD.valid_until) == Permanent()
    assert vmap.cyclic_entries(WEEKLY) == [
        CyclicEntry(1, time(8), time(17)),
        CyclicEntry(5, time(8), time(17)),
    ]


@pytest.mark.parametrize(
    ("start", "end", "days"),
    [
        (time(8), time(17), {Weekday.MON}),
        (time(22), time(6), {Weekday.SUN, Weekday.WED}),
        (time(0), time(0), {Weekday.TUE}),
        (time(9, 30), time(9, 30), {Weekday.SAT}),
        (time(18), time(0), {Weekday.THU}),
    ],
)
def test_cyclic_entries_allow_exactly_what_weekly_allows(
    start: time, end: time, days: set[Weekday]
) -> None:
    weekly = Weekly(frozenset(days), start, end)
    entries = vmap.cyclic_entries(weekly)
    moment = datetime(2024, 3, 4)  # a Monday
    for minute in range(0, 7 * 24 * 60, 15):
        probe = moment + timedelta(minutes=minute)
        assert vmap.cyclic_allows(entries, probe) == weekly.allows(probe), probe


def test_weekday_mask() -> None:
    assert vmap.weekday_mask([Weekday.MON, Weekday.SUN]) == 0x41
    assert vmap.days_of_mask(0xFF) == frozenset(Weekday)
    assert vmap.validity_of_passcode(4, JAN_2020, END_2022, 0x80) == Period(JAN_2020, END_2022)


DATES = st.one_of(st.none(), st.datetimes(datetime(2000, 1, 1), datetime(2099, 12, 31, 23, 59)))


@given(st.integers(0, 255), DATES, DATES, st.one_of(st.none(), st.integers(0, 0xFFFF)))
def test_listed_fields_always_map_to_a_validity(
    kind: int, start: datetime | None, end: datetime | None, cycle: int | None
) -> None:
    start = start and start.replace(second=0, microsecond=0)
    end = end and end.replace(second=0, microsecond=0)
    assert vmap.validity_of_passcode(kind, start, end, cycle) is not None
    assert vmap.validity_of_window(start, end) is not None
