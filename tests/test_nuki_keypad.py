"""Nuki keypad code messages (spec §4.9) and the shared time-limit block and rule (§4.8)."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from nuki_strategies import moments, names_fitting, time_limits

from ttlock_nuki_addon.errors import ProtocolError
from ttlock_nuki_addon.nuki import keypad_cmds as kp
from ttlock_nuki_addon.nuki.fields import FieldError, Reader
from ttlock_nuki_addon.nuki.time_limits import (
    TIME_LIMIT_LEN,
    TimeLimit,
    encode_time_limit,
    read_time_limit,
)
from ttlock_nuki_addon.validity import Weekday

H = bytes.fromhex
MON_0506 = datetime(2024, 5, 6)  # a Monday
FRI_0510 = datetime(2024, 5, 10)

names = names_fitting(kp.KEYPAD_NAME_LEN)
codes = st.integers(100000, 999999).filter(kp.is_valid_keypad_code)


# --- keypad code rule (spec §4.9) ------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("654321", 654321),
        (654321, 654321),
        ("999999", 999999),
        ("111111", 111111),
        ("213456", 213456),
        ("312456", 312456),  # "12" inside is fine, only a leading 12 is refused
    ],
)
def test_valid_keypad_codes(code: str | int, expected: int) -> None:
    assert kp.validate_keypad_code(code) == expected
    assert kp.is_valid_keypad_code(expected)


@pytest.mark.parametrize(
    ("code", "reason"),
    [
        ("654320", "no 0"),
        (604321, "no 0"),
        ("123456", "12"),
        (129999, "12"),
        ("65432", "6 digits"),
        ("6543219", "6 digits"),
        (65432, "6 digits"),
        ("65a321", "6 digits"),
        (" 65432", "6 digits"),
        ("\uff16\uff15\uff14\uff13\uff12\uff11", "6 digits"),  # fullwidth digits are not ASCII 1-9
        (-654321, "6 digits"),
        (True, "digits"),
        (6543.21, "digits"),
    ],
)
def test_invalid_keypad_codes_say_why(code: object, reason: str) -> None:
    with pytest.raises(FieldError, match=reason):
        kp.validate_keypad_code(code)  # type: ignore[arg-type]
    if isinstance(code, int) and not isinstance(code, bool) and code >= 0:
        assert not kp.is_valid_keypad_code(code)


# --- time limit block and rule ---------------------------------------------------------------


MON_FRI_OFFICE_HOURS = TimeLimit(
    allowed_from=datetime(2024, 5, 6, 7, 8, 9),
    allowed_until=datetime(2024, 12, 31, 23, 59),
    weekdays=frozenset({Weekday.MON, Weekday.FRI}),
    from_time=time(8, 0),
    until_time=time(17, 30),
)
MON_FRI_OFFICE_HOURS_BLOCK = (
    "01"  # time limited
    "e807 05 06 07 08 09"  # 2024-05-06 07:08:09
    "e807 0c 1f 17 3b 00"  # 2024-12-31 23:59:00
    "44"  # bit6 Monday | bit2 Friday
    "08 00 11 1e"  # 08:00, 17:30
)


def test_time_limit_block_layout_by_hand() -> None:
    expected = H(MON_FRI_OFFICE_HOURS_BLOCK)
    assert encode_time_limit(MON_FRI_OFFICE_HOURS) == expected
    assert encode_time_limit(None) == bytes(20) == bytes(TIME_LIMIT_LEN)
    assert read_time_limit(Reader(expected, "t")) == MON_FRI_OFFICE_HOURS
    assert read_time_limit(Reader(bytes(20), "t")) is None


def test_time_limit_normalises_every_day_and_whole_day() -> None:
    assert TimeLimit().weekdays == frozenset(Weekday)
    assert TimeLimit(weekdays=frozenset()) == TimeLimit(weekdays=frozenset(Weekday))
    same = TimeLimit(from_time=time(8, 0), until_time=time(8, 0))
    assert same.from_time is None
    assert same.until_time is None
    assert TimeLimit(allowed_from=datetime(2024, 1, 1, 0, 0, 0, 5)).allowed_from == datetime(
        2024, 1, 1
    )
    # weekday byte 0 means every day on the wire (spec §2.4)
    raw = H("01" + "00" * 14 + "00" + "0800" + "1000")
    parsed = read_time_limit(Reader(raw, "t"))
    assert parsed is not None
    assert parsed.weekdays == frozenset(Weekday)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"from_time": time(8, 0)},
        {"until_time": time(8, 0)},
        {"from_time": time(8, 0, 30), "until_time": time(9, 0)},
        {"allowed_from": datetime(2024, 1, 1, tzinfo=UTC)},
        {"weekdays": frozenset({9})},
    ],
)
def test_time_limit_refuses_what_the_wire_cannot_hold(kwargs: dict[str, object]) -> None:
    with pytest.raises(FieldError):
        TimeLimit(**kwargs)  # type: ignore[arg-type]


def test_time_limit_with_start_after_end_is_refused_by_the_builder() -> None:
    limit = TimeLimit(allowed_from=datetime(2024, 2, 1), allowed_until=datetime(2024, 1, 1))
    with pytest.raises(FieldError, match="before"):
        encode_time_limit(limit)
    assert not limit.allows(datetime(2024, 1, 15))


def test_allows_a_window_across_midnight_on_the_day_it_opens() -> None:
    limit = TimeLimit(
        weekdays=frozenset({Weekday.FRI}), from_time=time(22, 0), until_time=time(6, 0)
    )
    sat = FRI_0510 + timedelta(days=1)
    assert FRI_0510.weekday() == Weekday.FRI
    assert limit.allows(FRI_0510.replace(hour=22))
    assert limit.allows(FRI_0510.replace(hour=23, minute=59, second=59))
    assert limit.allows(sat.replace(hour=0))
    assert limit.allows(sat.replace(hour=5, minute=59, second=59))
    assert not limit.allows(sat.replace(hour=6))
    assert not limit.allows(FRI_0510.replace(hour=21, minute=59, second=59))
    assert not limit.allows(FRI_0510.replace(hour=5))  # Thursday's window: not allowed
    assert not limit.allows(sat.replace(hour=22, minute=30))


def test_allows_days_without_a_window_and_the_overall_range() -> None:
    limit = TimeLimit(
        allowed_from=datetime(2024, 5, 6, 12, 0),
        allowed_until=datetime(2024, 5, 20),
        weekdays=frozenset({Weekday.MON, Weekday.WED}),
    )
    assert not limit.allows(MON_0506.replace(hour=11, minute=59))
    assert limit.allows(MON_0506.replace(hour=12))
    assert not limit.allows(MON_0506 + timedelta(days=1))  # Tuesday
    assert limit.allows(MON_0506 + timedelta(days=2, hours=23))  # Wednesday
    assert limit.allows(datetime(2024, 5, 13, 0, 0))  # next Monday
    assert not limit.allows(datetime(2024, 5, 20))  # the end is exclusive
    assert TimeLimit().allows(datetime(1999, 1, 1))
    with pytest.raises(FieldError):
        limit.allows(datetime(2024, 5, 6, 12, tzinfo=UTC))


def _allowed_by_brute_force(limit: TimeLimit, moment: datetime) -> bool:
    """An independent reading of the rule: some opening on an allowed day contains `moment`."""
    if limit.allowed_from is not None and moment < limit.allowed_from:
        return False
    if limit.allowed_until is not None and moment >= limit.allowed_until:
        return False
    if limit.from_time is None or limit.until_time is None:
        return moment.weekday() in limit.weekdays
    for back in (0, 1):
        day = moment.date() - timedelta(days=back)
        opens = datetime.combine(day, limit.from_time)
        closes = datetime.combine(day, limit.until_time)
        if closes <= opens:
            closes += timedelta(days=1)
        if day.weekday() in limit.weekdays and opens <= moment < closes:
            return True
    return False


@given(time_limits(), moments)
def test_allows_matches_a_brute_force_reading(limit: TimeLimit, moment: datetime) -> None:
    assert limit.allows(moment) == _allowed_by_brute_force(limit, moment)


@given(time_limits())
def test_time_limit_round_trips(limit: TimeLimit) -> None:
    raw = encode_time_limit(limit)
    assert len(raw) == TIME_LIMIT_LEN
    assert read_time_limit(Reader(raw, "t")) == limit


# --- keypad messages: golden layouts by hand (spec §4.9) --------------------------------------


def test_add_keypad_code_layout_by_hand() -> None:
    expected = H(
        "f1fb0900"  # 654321 = 0x0009FBF1
        "446f6f72 00000000 00000000 00000000 00000000"  # "Door" padded to 20
        + MON_FRI_OFFICE_HOURS_BLOCK
    )
    raw = kp.build_add_keypad_code("654321", "Door", MON_FRI_OFFICE_HOURS)
    assert raw == expected
    assert len(raw) == 44
    parsed = kp.parse_add_keypad_code(expected)
    assert parsed == kp.AddKeypadCode(654321, "Door", MON_FRI_OFFICE_HOURS)
    assert "654321" not in repr(parsed)
    unlimited = kp.build_add_keypad_code(654321, "Door")
    assert unlimited == H("f1fb0900" + "446f6f72" + "00" * 16 + "00" * 20)
    assert kp.parse_add_keypad_code(unlimited).time_limit is None


def test_add_keypad_code_refuses_bad_codes_and_long_names() -> None:
    with pytest.raises(FieldError, match="12"):
        kp.build_add_keypad_code("123456", "x")
    with pytest.raises(FieldError, match="20 bytes"):
        kp.build_add_keypad_code("654321", "x" * 21)


def test_small_keypad_messages_by_hand() -> None:
    assert kp.build_keypad_code_id(0x0102, datetime(2023, 1, 2, 3, 4, 5)) == H("0201e7070102030405")
    assert kp.parse_keypad_code_id(H("0201e7070102030405")) == kp.KeypadCodeId(
        0x0102, datetime(2023, 1, 2, 3, 4, 5)
    )
    assert kp.parse_keypad_code_id(H("0500" + "00" * 7)) == kp.KeypadCodeId(5, None)
    assert kp.build_remove_keypad_code(0x1234) == H("3412")
    assert kp.parse_remove_keypad_code(H("3412")) == 0x1234
    with pytest.raises(FieldError):
        kp.build_keypad_code_id(0x10000, None)


ENTRY_HEAD = (
    "0300"  # code id 3
    "f1fb0900"  # 654321
    + "416e6e61"
    + "00" * 16  # "Anna"
    + "01"  # enabled
    + "e7070102030405"  # created 2023-01-02 03:04:05
    + "00" * 7  # never active
    + "0700"  # lock count 7
)


def test_keypad_code_entry_layout_by_hand() -> None:
    entry = kp.KeypadCodeEntry(
        code_id=3,
        code=654321,
        name="Anna",
        enabled=True,
        date_created=datetime(2023, 1, 2, 3, 4, 5),
        date_last_active=None,
        lock_count=7,
    )
    full = H(ENTRY_HEAD + "00" * 20)
    assert len(full) == kp.KEYPAD_CODE_ENTRY_LEN == 63
    assert kp.build_keypad_code_entry(entry) == full
    assert kp.parse_keypad_code_entry(full) == entry
    assert "654321" not in repr(entry)


@pytest.mark.parametrize("tail", ["", "00", "00" * 5, "00" * 20, "00" * 20 + "ffff"])
def test_keypad_code_entry_without_time_limit_parses_at_any_length(tail: str) -> None:
    parsed = kp.parse_keypad_code_entry(H(ENTRY_HEAD + tail))
    assert parsed.code_id == 3
    assert parsed.lock_count == 7
    assert parsed.time_limit is None


def test_keypad_code_entry_with_time_limit_and_keypad_junk_in_the_name() -> None:
    head = ENTRY_HEAD.replace("416e6e61" + "00" * 16, "416e6e61" + "00" + "a5" * 15)
    raw = H(head + "01" + "00" * 14 + "02" + "1600" + "0600")
    parsed = kp.parse_keypad_code_entry(raw)
    assert parsed.name == "Anna"
    assert parsed.time_limit == TimeLimit(
        weekdays=frozenset({Weekday.SAT}), from_time=time(22, 0), until_time=time(6, 0)
    )
    with pytest.raises(ProtocolError):
        kp.parse_keypad_code_entry(raw[:-1])  # time limited but cut short
    with pytest.raises(ProtocolError):
        kp.parse_keypad_code_entry(H(ENTRY_HEAD)[:-1])


def test_update_keypad_code_layout_by_hand() -> None:
    raw = kp.build_update_keypad_code(3, "654321", "Anna", enabled=False)
    assert raw == H("0300f1fb0900" + "416e6e61" + "00" * 16 + "00" + "00" * 20)
    assert kp.parse_update_keypad_code(raw) == kp.UpdateKeypadCode(3, 654321, "Anna", False, None)


# --- round trips and robustness --------------------------------------------------------------

entries = st.builds(
    kp.KeypadCodeEntry,
    code_id=st.integers(0, 0xFFFF),
    code=st.integers(0, 0xFFFFFFFF),
    name=names,
    enabled=st.booleans(),
    date_created=st.none() | moments,
    date_last_active=st.none() | moments,
    lock_count=st.integers(0, 0xFFFF),
    time_limit=st.none() | time_limits(),
)


@given(entries)
def test_keypad_code_entry_round_trips(entry: kp.KeypadCodeEntry) -> None:
    raw = kp.build_keypad_code_entry(entry)
    assert len(raw) == 63
    assert kp.parse_keypad_code_entry(raw) == entry


@given(codes, names, st.none() | time_limits())
def test_add_keypad_code_round_trips(code: int, name: str, limit: TimeLimit | None) -> None:
    raw = kp.build_add_keypad_code(code, name, limit)
    assert kp.parse_add_keypad_code(raw) == kp.AddKeypadCode(code, name, limit)


@given(st.integers(0, 0xFFFF), codes, names, st.booleans(), st.none() | time_limits())
def test_update_keypad_code_round_trips(
    code_id: int, code: int, name: str, enabled: bool, limit: TimeLimit | None
) -> None:
    raw = kp.build_update_keypad_code(code_id, code, name, enabled, limit)
    expected = kp.UpdateKeypadCode(code_id, code, name, enabled, limit)
    assert kp.parse_update_keypad_code(raw) == expected
