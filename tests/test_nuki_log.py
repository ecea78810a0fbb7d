"""Nuki activity log messages (spec §4.7): layouts by hand, model padding, pyNukiBT vector."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from nuki_strategies import moments, names_fitting

from ttlock_nuki_addon.errors import ProtocolError
from ttlock_nuki_addon.nuki import codec
from ttlock_nuki_addon.nuki import log_cmds as lc
from ttlock_nuki_addon.nuki.actions import KeypadSource
from ttlock_nuki_addon.nuki.codec import Command
from ttlock_nuki_addon.nuki.fields import FieldError
from ttlock_nuki_addon.nuki.protected import split_challenge_pin, with_pin
from ttlock_nuki_addon.nuki.states import CompletionStatus, LockAction, Trigger

H = bytes.fromhex
VECTORS = json.loads((Path(__file__).parent / "data" / "nuki_vectors.json").read_text())
NAME_HA = "486f6d6520417373697374616e74" + "00" * 18  # "Home Assistant" padded to 32
HEAD = "12000000e807050607080902000000" + NAME_HA  # index 18, 2024-05-06 07:08:09, auth 2
WHEN = datetime(2024, 5, 6, 7, 8, 9)


def _entry(kind: int, data: lc.LogData, padding: bytes = b"") -> lc.LogEntry:
    return lc.LogEntry(18, WHEN, 2, "Home Assistant", kind, data, padding)


# --- Log Entry (0x0032) -----------------------------------------------------------------------


def test_lock_action_entry_layout_by_hand() -> None:
    raw = H(HEAD + "02" + "01000200")  # unlock, system, force, success
    assert len(raw) == lc.LOG_ENTRY_HEADER_LEN + 4
    data = lc.LockActionData(LockAction.UNLOCK, Trigger.SYSTEM, 0x02, CompletionStatus.SUCCESS)
    entry = _entry(lc.LogEntryType.LOCK_ACTION, data)
    assert lc.build_log_entry(entry) == raw
    parsed = lc.parse_log_entry(raw)
    assert parsed == entry
    assert parsed.type is lc.LogEntryType.LOCK_ACTION
    assert isinstance(parsed.data, lc.LockActionData)
    assert parsed.data.action is LockAction.UNLOCK
    assert parsed.data.completion is CompletionStatus.SUCCESS


def test_keypad_action_entry_layout_by_hand() -> None:
    raw = H(HEAD + "05" + "0201e00201")  # lock, by code, invalid code, code id 0x0102
    parsed = lc.parse_log_entry(raw)
    assert parsed.type is lc.LogEntryType.KEYPAD_ACTION
    assert parsed.data == lc.KeypadActionData(
        LockAction.LOCK, KeypadSource.CODE, CompletionStatus.INVALID_CODE, 0x0102
    )
    assert lc.build_log_entry(parsed) == raw


@pytest.mark.parametrize(
    ("kind", "data_hex", "expected"),
    [
        (0x01, "01", lc.LoggingToggle(True)),
        (0x07, "00", lc.LoggingToggle(False)),
        (0x03, "02000000", lc.LockActionData(2, 0, 0, 0)),
        (0x04, "0101000b", lc.LockActionData(1, 1, 0, 0x0B)),
        (0x06, "02", lc.DoorSensorData(lc.DoorSensorEvent.JAMMED)),
        (0x0A, "030a07", lc.FirmwareUpdateData(3, 10, 7)),
        (0x42, "deadbeef", lc.UnknownLogData(H("deadbeef"))),
        (0x42, "", lc.UnknownLogData(b"")),
    ],
)
def test_every_data_layout(kind: int, data_hex: str, expected: lc.LogData) -> None:
    raw = H(HEAD + f"{kind:02x}" + data_hex)
    parsed = lc.parse_log_entry(raw)
    assert parsed.type == kind
    assert parsed.data == expected
    assert parsed.padding == b""
    assert lc.build_log_entry(parsed) == raw


@pytest.mark.parametrize(
    ("model", "kind", "data_hex", "pad_hex"),
    [
        ("SL3", 0x01, "01", "00000000"),
        ("SL3", 0x06, "01", "00000000"),
        ("SL3", 0x02, "02000000", "00"),
        ("SL4", 0x02, "02000000", "00000000"),
    ],
)
def test_model_padding_after_the_data_is_kept_not_refused(
    model: str, kind: int, data_hex: str, pad_hex: str
) -> None:
    raw = H(HEAD + f"{kind:02x}" + data_hex + pad_hex)
    parsed = lc.parse_log_entry(raw)
    assert parsed.type == kind, model
    assert parsed.padding == H(pad_hex)
    assert lc.build_log_entry(parsed) == raw
    unpadded = lc.parse_log_entry(H(HEAD + f"{kind:02x}" + data_hex))
    assert unpadded.data == parsed.data


def test_keypad_2_junk_after_the_name_terminator_is_dropped() -> None:
    name = b"Keypad\x00" + bytes([0xFF, 0x9A, 0x41, 0x00, 0x13]) + bytes(20)
    raw = H("01000000e807050607080905000000") + name + H("050101000300")
    parsed = lc.parse_log_entry(raw)
    assert parsed.name == "Keypad"
    assert parsed.auth_id == 5
    assert parsed.data == lc.KeypadActionData(1, 1, 0, 3)


def test_short_or_broken_entries_raise_protocol_error() -> None:
    with pytest.raises(ProtocolError):
        lc.parse_log_entry(H(HEAD))  # no type byte
    with pytest.raises(ProtocolError):
        lc.parse_log_entry(H(HEAD + "02" + "010002"))  # lock action data cut short
    with pytest.raises(ProtocolError):
        lc.parse_log_entry(H(HEAD + "05" + "01010003"))  # code id cut short
    unset = lc.parse_log_entry(H("00000000" + "00" * 7 + "00000000" + "00" * 32 + "0101"))
    assert unset.timestamp is None


def test_builder_refuses_data_of_another_type() -> None:
    with pytest.raises(FieldError, match="cannot carry"):
        lc.build_log_entry(_entry(lc.LogEntryType.LOCK_ACTION, lc.LoggingToggle(True)))
    with pytest.raises(FieldError):
        lc.build_log_entry(_entry(0x02, lc.LockActionData(0x100, 0, 0, 0)))
    raw = lc.build_log_entry(_entry(0x02, lc.UnknownLogData(b"\x01")))
    assert raw == H(HEAD + "02" + "01")  # any type may carry raw bytes (virtual lock oddities)


# --- Request Log Entries (0x0031) and the pyNukiBT vector ------------------------------------


def _vector(label_start: str) -> dict[str, Any]:
    found = [
        v for v in VECTORS["pynukibt_encrypted_commands"] if v["label"].startswith(label_start)
    ]
    assert len(found) == 1
    return dict(found[0])


def test_request_log_entries_rebuilds_the_pynukibt_message_byte_for_byte() -> None:
    vector = _vector("Request Log Entries")
    pairing = VECTORS["pynukibt_pairing"]
    key = H(pairing["long_term_key_hsalsa20_zero_nonce (== crypto_box_beforenm)"])
    auth_id = int.from_bytes(H(vector["auth_id_le"]), "little")
    pdata = H(vector["pdata_plaintext_hex"])
    challenge = pdata[6 + 8 : 6 + 8 + 32]  # after auth id, command and the 8 field bytes

    fields = lc.build_request_log_entries(0, 5, lc.SortOrder.DESCENDING, True)
    assert fields == H("0000000005000101")
    payload = with_pin(fields, challenge, 1234, 2)
    assert payload == H(vector["payload_hex"])
    wire = codec.encrypt(key, auth_id, Command.REQUEST_LOG_ENTRIES, payload, H(vector["nonce24"]))
    assert wire == H(vector["wire_message_hex"])

    message = codec.decrypt(key, wire, auth_id)
    assert message.command == int(vector["command_id"], 16)
    body, nonce, pin = split_challenge_pin(message.payload, 2)
    assert (nonce, pin) == (challenge, 1234)
    request = lc.parse_request_log_entries(body)
    assert request == lc.LogRequest(0, 5, lc.SortOrder.DESCENDING, True)
    assert request.sort_order is lc.SortOrder.DESCENDING


def test_request_log_entries_layout_by_hand() -> None:
    raw = lc.build_request_log_entries(7, 1, lc.SortOrder.ASCENDING, False)
    assert raw == H("0700000001000000")
    assert lc.parse_request_log_entries(H("0000000001000702")).sort_order == 7


# --- Log Entry Count (0x0033), Enable Logging (0x0034) ---------------------------------------


def test_log_entry_count_layout_by_hand() -> None:
    counts = lc.LogEntryCount(True, 300, True, False)
    assert lc.build_log_entry_count(counts) == H("012c010100")
    assert lc.parse_log_entry_count(H("012c010100")) == counts
    assert lc.parse_log_entry_count(H("000500")) == lc.LogEntryCount(False, 5, False, False)
    assert lc.parse_log_entry_count(H("0105000101ff")).door_sensor_logging_enabled
    with pytest.raises(ProtocolError):
        lc.parse_log_entry_count(H("0105"))


def test_enable_logging_layout_by_hand() -> None:
    assert lc.build_enable_logging(True) == H("01")
    assert lc.build_enable_logging(False) == H("00")
    assert lc.parse_enable_logging(H("01")) is True
    assert lc.parse_enable_logging(H("00")) is False
    for bad in (b"", H("0100")):
        with pytest.raises(ProtocolError):
            lc.parse_enable_logging(bad)


# --- round trips and robustness --------------------------------------------------------------

byte = st.integers(0, 0xFF)
typed_data = st.one_of(
    st.tuples(st.sampled_from([0x01, 0x07]), st.builds(lc.LoggingToggle, st.booleans())),
    st.tuples(
        st.sampled_from([0x02, 0x03, 0x04]), st.builds(lc.LockActionData, byte, byte, byte, byte)
    ),
    st.tuples(
        st.just(0x05),
        st.builds(lc.KeypadActionData, byte, byte, byte, st.integers(0, 0xFFFF)),
    ),
    st.tuples(st.just(0x06), st.builds(lc.DoorSensorData, byte)),
    st.tuples(st.just(0x0A), st.builds(lc.FirmwareUpdateData, byte, byte, byte)),
)
names = names_fitting(lc.LOG_NAME_LEN)


@given(
    st.integers(0, 0xFFFFFFFF),
    st.none() | moments,
    st.integers(0, 0xFFFFFFFF),
    names,
    typed_data,
    st.binary(max_size=4),
)
def test_typed_entries_round_trip(
    index: int,
    when: datetime | None,
    auth_id: int,
    name: str,
    kind_data: tuple[int, lc.LogData],
    padding: bytes,
) -> None:
    entry = lc.LogEntry(index, when, auth_id, name, kind_data[0], kind_data[1], padding)
    assert lc.parse_log_entry(lc.build_log_entry(entry)) == entry


@given(
    st.integers(0, 0xFF).filter(lambda kind: kind not in set(lc.LogEntryType)),
    st.binary(max_size=16),
)
def test_unknown_types_keep_their_bytes(kind: int, raw: bytes) -> None:
    entry = lc.LogEntry(1, None, 2, "x", kind, lc.UnknownLogData(raw))
    assert lc.parse_log_entry(lc.build_log_entry(entry)) == entry


@given(
    st.integers(0, 0xFFFFFFFF),
    st.integers(0, 0xFFFF),
    st.sampled_from(lc.SortOrder),
    st.booleans(),
)
def test_request_round_trips(start: int, count: int, order: lc.SortOrder, total: bool) -> None:
    raw = lc.build_request_log_entries(start, count, order, total)
    assert lc.parse_request_log_entries(raw) == lc.LogRequest(start, count, order, total)
