"""Nuki Keyturner States, battery byte, Status, Error Report, Battery Report (§4.3, §4.6, §4.11)."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import struct
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ttlock_nuki_addon.errors import (
    AuthError,
    BusyError,
    CommandRejectedError,
    PairingError,
    ProtocolError,
)
from ttlock_nuki_addon.nuki import codec
from ttlock_nuki_addon.nuki import commands as c
from ttlock_nuki_addon.nuki.codec import Command, ErrorCode
from ttlock_nuki_addon.nuki.fields import FieldError

VECTORS: dict[str, Any] = json.loads(
    (Path(__file__).parent / "data" / "nuki_vectors.json").read_text()
)
H = bytes.fromhex
RESPONSES = {v["label"]: v for v in VECTORS["lock_responses_parsed_by_pynukibt"]}

u8s = st.integers(0, 255)
s8s = st.integers(-128, 127)
moments = st.none() | st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2099, 12, 31)
).map(lambda moment: moment.replace(microsecond=0))

# pyNukiBT field name -> ours (pyNukiBT calls the whole battery byte "critical_battery_state")
PYNUKI_NAMES = {"critical_battery_state": "battery", "nightmode_active": "night_mode_active"}
PYNUKI_ENUMS: dict[str, type[Any]] = {
    "nuki_state": c.NukiState,
    "lock_state": c.LockState,
    "trigger": c.Trigger,
    "last_lock_action": c.LockAction,
    "last_lock_action_trigger": c.Trigger,
    "last_lock_action_completion_status": c.CompletionStatus,
    "door_sensor_state": c.DoorSensorState,
}


def _expected(name: str, value: object) -> object:
    """pyNukiBT's printed value in our representation."""
    if value == "None":
        return None
    if name in PYNUKI_ENUMS:
        return PYNUKI_ENUMS[name][str(value)]
    if name == "current_time":
        return datetime.fromisoformat(str(value))
    if name == "nightmode_active":
        return bool(value)
    return value


@pytest.mark.parametrize("label", [k for k in RESPONSES if k.startswith("Keyturner States")])
def test_keyturner_states_match_pynukibt(label: str) -> None:
    vector = RESPONSES[label]
    payload = H(vector["payload_hex"])
    states = c.parse_keyturner_states(payload)
    for name, value in vector["pynukibt_parse"].items():
        assert getattr(states, PYNUKI_NAMES.get(name, name)) == _expected(name, value), name
    assert states.to_payload() == payload
    assert (states.battery_percent, states.battery_charging) == (80, True)  # per the label


def test_official_example_keyturner_states_15_bytes() -> None:
    pdata = H(VECTORS["official_doc_example_v2_1"]["encrypted"]["sl_keyturner_states_pdata"])
    payload = pdata[6:-2]
    assert len(payload) == 15
    states = c.parse_keyturner_states(payload)
    # spec §4.3 example: door mode, locked, system, 2016-03-07 08:15:30, +60 min, battery ok
    assert (states.nuki_state, states.lock_state, states.trigger) == (
        c.NukiState.DOOR_MODE,
        c.LockState.LOCKED,
        c.Trigger.SYSTEM,
    )
    assert states.current_time == datetime(2016, 3, 7, 8, 15, 30)
    assert states.timezone_offset == 60
    assert not states.battery_critical
    # offsets 13 and 14 per the §4.3 table; everything later is absent
    assert (states.config_update_count, states.lock_n_go_timer) == (payload[13], payload[14])
    assert states.last_lock_action is None and states.thread_status is None
    assert states.to_payload() == payload


_TAIL = [f.name for f in dataclasses.fields(c.KeyturnerStates)][6:]


@st.composite
def keyturner_states(draw: st.DrawFn) -> c.KeyturnerStates:
    """States with any prefix of the optional fields present."""
    values = [
        draw(u8s), draw(u8s), draw(u8s), draw(moments), draw(st.integers(-32768, 32767)),
        draw(u8s), *[draw(u8s) for _ in range(6)], draw(st.booleans()), draw(u8s), draw(u8s),
        draw(s8s), draw(s8s), draw(u8s), draw(u8s), draw(u8s),
    ]  # fmt: skip
    keep = draw(st.integers(0, len(_TAIL)))
    names = [f.name for f in dataclasses.fields(c.KeyturnerStates)]
    fields: dict[str, Any] = dict(zip(names, values, strict=True))
    fields.update(dict.fromkeys(_TAIL[keep:]))
    return c.KeyturnerStates(**fields)


@given(keyturner_states(), st.binary(max_size=4))
def test_keyturner_states_round_trip_every_length(states: c.KeyturnerStates, extra: bytes) -> None:
    payload = states.to_payload()
    present = sum(getattr(states, name) is not None for name in _TAIL)
    assert len(payload) == 13 + present
    assert c.parse_keyturner_states(payload) == states
    if present == len(_TAIL):  # spec §4.3: bytes after offset 26 are ignored
        assert c.parse_keyturner_states(payload + extra) == states


def test_keyturner_states_known_lengths() -> None:
    payload = H(RESPONSES[next(k for k in RESPONSES if "27-byte" in k)]["payload_hex"])
    assert c.parse_keyturner_states(payload[:19]).door_sensor_state == c.DoorSensorState.DOOR_CLOSED
    assert c.parse_keyturner_states(payload[:19]).night_mode_active is None
    assert c.parse_keyturner_states(payload[:21]).accessory_battery_state == 5
    assert c.parse_keyturner_states(payload[:21]).remote_access_status is None
    assert c.parse_keyturner_states(payload).ble_strength == -60  # s8 at offset 22
    with pytest.raises(ProtocolError):
        c.parse_keyturner_states(payload[:12])
    gap = dataclasses.replace(c.parse_keyturner_states(payload), door_sensor_state=None)
    with pytest.raises(FieldError):
        gap.to_payload()


@given(keyturner_states())
def test_opener_states_share_the_first_18_bytes(states: c.KeyturnerStates) -> None:
    payload = states.to_payload()[:19]
    opener = c.parse_opener_states(payload)
    assert opener.to_payload() == payload
    assert opener.ring_to_open_timer == states.lock_n_go_timer  # spec §4.12: offset 14
    assert opener.door_sensor_state == states.door_sensor_state
    if len(payload) == 19:  # spec §4.12: bytes after offset 18 are not understood, so ignored
        assert c.parse_opener_states(payload + b"\x07\x08") == opener


@pytest.mark.parametrize("example", VECTORS["battery_byte_examples"])
def test_battery_byte_examples(example: dict[str, Any]) -> None:
    byte = int(example["byte"], 16)
    assert c.battery_percent(byte) == example["percent"]
    assert c.battery_critical(byte) is example["critical"]
    assert c.battery_charging(byte) is example["charging"]
    rebuilt = c.battery_byte(
        example["percent"], critical=example["critical"], charging=example["charging"]
    )
    assert rebuilt == byte


def test_battery_byte_rejects_odd_and_out_of_range() -> None:
    for bad in (-2, 127, 128, 81):
        with pytest.raises(FieldError):
            c.battery_byte(bad)


# --- Status, Error Report, Battery Report --------------------------------------------------


def test_status_and_error_report_vectors() -> None:
    assert c.parse_status(H(RESPONSES["Status ACCEPTED"]["payload_hex"])) == 1
    assert c.parse_status(H(RESPONSES["Status COMPLETE"]["payload_hex"])) == 0
    vector = RESPONSES["Error Report K_ERROR_BAD_PIN for Verify Security PIN"]
    report = c.parse_error_report(H(vector["payload_hex"]))
    parsed = vector["pynukibt_parse"]
    assert ErrorCode(report.code).name == parsed["error_code"]
    assert Command(report.command).name == parsed["command_identifier"]
    assert report.to_payload() == H(vector["payload_hex"])
    assert isinstance(c.error_for(report), c.BadPinError)


def test_forum_captured_error_reports() -> None:
    captured = {v["message_hex"]: v for v in VECTORS["forum_captured_messages_crc_check"]}
    not_authorized = codec.parse_plain(H("120020000013d7")).verified()
    assert "120020000013d7" in captured
    report = c.parse_error_report(not_authorized.payload)
    assert (report.code, report.command) == (ErrorCode.K_ERROR_NOT_AUTHORIZED, 0)
    assert isinstance(c.error_for(report), AuthError)
    bad_crc = c.parse_error_report(codec.parse_plain(H("1200fd0100e7c3")).verified().payload)
    assert (bad_crc.code, bad_crc.command) == (ErrorCode.ERROR_BAD_CRC, Command.REQUEST_DATA)
    assert c.build_error_report(ErrorCode.ERROR_BAD_CRC, Command.REQUEST_DATA) == H("fd0100")


EXPECTED_CLASS: dict[ErrorCode, type[Exception]] = {
    ErrorCode.P_ERROR_NOT_PAIRING: PairingError,
    ErrorCode.P_ERROR_BAD_AUTHENTICATOR: PairingError,
    ErrorCode.P_ERROR_BAD_PARAMETER: PairingError,
    ErrorCode.P_ERROR_MAX_USER: PairingError,
    ErrorCode.K_ERROR_NOT_AUTHORIZED: AuthError,
    ErrorCode.K_ERROR_DISABLED: AuthError,
    ErrorCode.K_ERROR_BUSY: BusyError,
    ErrorCode.K_ERROR_BAD_NONCE: c.StaleChallengeError,
    ErrorCode.K_ERROR_BAD_PIN: c.BadPinError,
    ErrorCode.K_ERROR_TOO_MANY_PIN_ATTEMPTS: c.PinLockoutError,
}


@pytest.mark.parametrize("code", list(ErrorCode))
def test_every_error_code_has_a_sentence_and_a_class(code: ErrorCode) -> None:
    text = c.error_text(code)
    assert text.endswith(".") and text != c.error_text(0x77).replace("0x77", f"0x{code:02X}")
    error = c.error_for(c.ErrorReport(code, Command.LOCK_ACTION))
    expected = EXPECTED_CLASS.get(code, CommandRejectedError)
    assert type(error) is expected
    assert text in error.message
    if isinstance(error, CommandRejectedError):
        assert error.lock_code == code
    assert code.name in c.describe_report(c.ErrorReport(code, Command.LOCK_ACTION))


def test_error_mapping_details() -> None:
    assert issubclass(c.StaleChallengeError, ProtocolError)
    assert issubclass(c.BadPinError, CommandRejectedError)
    assert "pairing mode" in c.error_text(ErrorCode.P_ERROR_NOT_PAIRING)
    assert "Bluetooth pairing" in c.error_text(ErrorCode.P_ERROR_NOT_PAIRING)
    assert "Remove" in c.error_text(ErrorCode.P_ERROR_MAX_USER)
    assert "0x77" in c.error_text(0x77)
    assert type(c.error_for(c.ErrorReport(0x77, 0))) is CommandRejectedError


battery_reports = st.builds(
    c.BatteryReport,
    *[st.integers(0, 0xFFFF)] * 2,
    st.booleans(),
    u8s,
    *[st.integers(0, 0xFFFF)] * 3,
    s8s,
    *[st.integers(0, 0xFFFF)] * 2,
)


@given(battery_reports)
def test_battery_report_round_trip(report: c.BatteryReport) -> None:
    payload = report.to_payload()
    assert len(payload) == 17  # spec §4.6
    assert c.parse_battery_report(payload) == report
    # spec §4.6 offsets: voltage u16 at 2, start temperature s8 at 12
    assert struct.unpack_from("<H", payload, 2)[0] == report.battery_voltage
    assert struct.unpack_from("<b", payload, 12)[0] == report.start_temperature


@given(u8s, st.integers(0, 0xFFFF))
def test_status_and_error_report_round_trip(code: int, command: int) -> None:
    assert c.parse_status(c.build_status(code)) == code
    assert c.parse_error_report(c.build_error_report(code, command)) == c.ErrorReport(code, command)


# --- every lock-side and client-side parser raises only ProtocolError ----------------------

PARSERS: list[Callable[[bytes], object]] = [
    c.parse_request_data,
    c.parse_challenge,
    c.parse_keyturner_states,
    c.parse_opener_states,
    c.parse_status,
    c.parse_error_report,
    c.parse_battery_report,
    c.parse_lock_action,
    c.parse_keypad_action,
    c.parse_simple_lock_action,
    c.parse_config,
    c.parse_new_config,
    c.parse_opener_config,
    c.parse_opener_new_config,
    c.parse_advanced_config,
    c.parse_new_advanced_config,
    c.parse_update_time,
    lambda p: c.parse_set_security_pin(p, 2),
    lambda p: c.parse_set_security_pin(p, 4),
    c.split_challenge,
    lambda p: c.split_challenge_pin(p, 2),
    lambda p: c.split_challenge_pin(p, 4),
    *[lambda p, cmd=cmd: c.unprotect(cmd, p, 2) for cmd in Command],
]


@pytest.mark.parametrize("parse", PARSERS)
@given(payload=st.binary(max_size=100))
def test_parsers_raise_only_protocol_errors(
    parse: Callable[[bytes], object], payload: bytes
) -> None:
    with contextlib.suppress(ProtocolError):
        parse(payload)
