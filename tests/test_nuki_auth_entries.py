"""Nuki authorization management messages (spec §4.8): layouts by hand, round trips, fuzzing."""

from __future__ import annotations

from datetime import datetime, time

import pytest
from hypothesis import given
from hypothesis import strategies as st
from nuki_strategies import moments, names_fitting, time_limits

from ttlock_nuki_addon.errors import ProtocolError
from ttlock_nuki_addon.nuki import auth_cmds as ac
from ttlock_nuki_addon.nuki.fields import FieldError
from ttlock_nuki_addon.nuki.pairing_msgs import IdType
from ttlock_nuki_addon.nuki.protected import split_challenge_pin, with_pin
from ttlock_nuki_addon.nuki.time_limits import TimeLimit
from ttlock_nuki_addon.validity import Weekday

H = bytes.fromhex
NAME_HA = "486f6d6520417373697374616e74" + "00" * 18  # "Home Assistant" padded to 32
KEY = bytes(range(0xA0, 0xC0))

names = names_fitting(ac.AUTH_NAME_LEN)


# --- Authorization Entry (0x000A) -------------------------------------------------------------

ENTRY_HEAD = (
    "02000000"  # auth id 2
    "01"  # bridge
    + NAME_HA
    + "01"  # enabled
    + "00"  # remote not allowed
    + "e8070506070809"  # created 2024-05-06 07:08:09
    + "e8070507000000"  # last active 2024-05-07 00:00:00
    + "2a00"  # lock count 42
)
LIMIT_BLOCK = (
    "01" + "00" * 7 + "e9070101000000" + "7c" + "0700" + "1300"
)  # bits 6..2 = Mon-Fri, 07:00-19:00
LIMIT = TimeLimit(
    allowed_until=datetime(2025, 1, 1),
    weekdays=frozenset({Weekday.MON, Weekday.TUE, Weekday.WED, Weekday.THU, Weekday.FRI}),
    from_time=time(7, 0),
    until_time=time(19, 0),
)


def test_authorization_entry_layout_by_hand() -> None:
    entry = ac.AuthorizationEntry(
        auth_id=2,
        id_type=IdType.BRIDGE,
        name="Home Assistant",
        enabled=True,
        remote_allowed=False,
        date_created=datetime(2024, 5, 6, 7, 8, 9),
        date_last_active=datetime(2024, 5, 7),
        lock_count=42,
        time_limit=LIMIT,
    )
    raw = H(ENTRY_HEAD + LIMIT_BLOCK)
    assert len(raw) == ac.AUTHORIZATION_ENTRY_LEN == 75
    assert ac.build_authorization_entry(entry) == raw
    parsed = ac.parse_authorization_entry(raw)
    assert parsed == entry
    assert parsed.id_type is IdType.BRIDGE


@pytest.mark.parametrize("tail", ["", "00", "00" * 20, "00" * 20 + "beef"])
def test_authorization_entry_without_time_limit_parses_at_any_length(tail: str) -> None:
    parsed = ac.parse_authorization_entry(H(ENTRY_HEAD + tail))
    assert parsed.auth_id == 2
    assert parsed.lock_count == 42
    assert parsed.time_limit is None


def test_authorization_entry_keeps_unknown_id_types_and_cuts_names() -> None:
    raw = H(ENTRY_HEAD.replace("0200000001", "0200000009", 1) + LIMIT_BLOCK)
    raw = raw[:5] + b"Fob\x00\x7f\xfe" + raw[11:]
    parsed = ac.parse_authorization_entry(raw)
    assert parsed.id_type == 9
    assert parsed.name == "Fob"
    with pytest.raises(ProtocolError):
        ac.parse_authorization_entry(raw[:-1])
    with pytest.raises(ProtocolError):
        ac.parse_authorization_entry(H(ENTRY_HEAD)[:-1])


# --- requests and small replies ---------------------------------------------------------------


def test_remove_and_invite_id_layouts_by_hand() -> None:
    assert ac.build_remove_authorization_entry(0x01020304) == H("04030201")
    assert ac.parse_remove_authorization_entry(H("04030201")) == 0x01020304
    assert ac.build_authorization_id_invite(7, datetime(2024, 5, 6, 7, 8, 9)) == H(
        "07000000e8070506070809"
    )
    assert ac.parse_authorization_id_invite(H("07000000e8070506070809")) == (
        ac.AuthorizationIdInvite(7, datetime(2024, 5, 6, 7, 8, 9))
    )


def test_update_authorization_entry_layout_by_hand() -> None:
    raw = ac.build_update_authorization_entry(2, "Home Assistant", True, True, LIMIT)
    assert raw == H("02000000" + NAME_HA + "01" + "01" + LIMIT_BLOCK)
    assert len(raw) == 58
    assert ac.parse_update_authorization_entry(raw) == ac.UpdateAuthorizationEntry(
        2, "Home Assistant", True, True, LIMIT
    )


def test_invite_layout_by_hand_and_through_the_pin_suffix() -> None:
    raw = ac.build_authorization_invite("Home Assistant", IdType.APP, KEY, remote_allowed=True)
    assert raw == H(NAME_HA + "00" + KEY.hex() + "01" + "00" * 20)
    assert len(raw) == 86
    nonce = bytes(range(0x30, 0x50))
    fields, challenge, pin = split_challenge_pin(with_pin(raw, nonce, 123456, 4), 4)
    assert (challenge, pin) == (nonce, 123456)
    parsed = ac.parse_authorization_invite(fields)
    assert parsed == ac.AuthorizationInvite("Home Assistant", IdType.APP, KEY, True, None)
    assert KEY.hex() not in repr(parsed)
    assert repr(KEY) not in repr(parsed)
    with pytest.raises(FieldError, match="32-byte"):
        ac.build_authorization_invite("x", IdType.APP, KEY[:31])


def test_builders_refuse_values_that_do_not_fit() -> None:
    with pytest.raises(FieldError):
        ac.build_update_authorization_entry(1 << 32, "a")
    with pytest.raises(FieldError, match="32 bytes"):
        ac.build_update_authorization_entry(1, "x" * 33)


# --- round trips and robustness --------------------------------------------------------------

entries = st.builds(
    ac.AuthorizationEntry,
    auth_id=st.integers(0, 0xFFFFFFFF),
    id_type=st.integers(0, 0xFF),
    name=names,
    enabled=st.booleans(),
    remote_allowed=st.booleans(),
    date_created=st.none() | moments,
    date_last_active=st.none() | moments,
    lock_count=st.integers(0, 0xFFFF),
    time_limit=st.none() | time_limits(),
)


@given(entries)
def test_authorization_entry_round_trips(entry: ac.AuthorizationEntry) -> None:
    raw = ac.build_authorization_entry(entry)
    assert len(raw) == 75
    assert ac.parse_authorization_entry(raw) == entry


@given(st.integers(0, 0xFFFFFFFF), names, st.booleans(), st.booleans(), st.none() | time_limits())
def test_update_round_trips(
    auth_id: int, name: str, enabled: bool, remote: bool, limit: TimeLimit | None
) -> None:
    raw = ac.build_update_authorization_entry(auth_id, name, enabled, remote, limit)
    expected = ac.UpdateAuthorizationEntry(auth_id, name, enabled, remote, limit)
    assert ac.parse_update_authorization_entry(raw) == expected


@given(names, st.sampled_from(IdType), st.binary(min_size=32, max_size=32), st.booleans())
def test_invite_round_trips(name: str, id_type: IdType, key: bytes, remote: bool) -> None:
    raw = ac.build_authorization_invite(name, id_type, key, remote)
    assert ac.parse_authorization_invite(raw) == ac.AuthorizationInvite(
        name, id_type, key, remote, None
    )
