"""Nuki command payloads (spec §4): golden vectors, challenge/PIN suffixes, actions, describe."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ttlock_nuki_addon.errors import ProtocolError
from ttlock_nuki_addon.nuki import codec, pairing_msgs
from ttlock_nuki_addon.nuki import commands as c
from ttlock_nuki_addon.nuki.codec import Command
from ttlock_nuki_addon.nuki.describe import REDACTED, describe, sent_by_lock
from ttlock_nuki_addon.nuki.fields import FieldError

VECTORS: dict[str, Any] = json.loads(
    (Path(__file__).parent / "data" / "nuki_vectors.json").read_text()
)
H = bytes.fromhex
PYNUKI = VECTORS["pynukibt_encrypted_commands"]
OFFICIAL = VECTORS["official_doc_example_v2_1"]["encrypted"]
KEY = H(VECTORS["pynukibt_pairing"]["long_term_key_hsalsa20_zero_nonce (== crypto_box_beforenm)"])
NONCE_32 = bytes(range(0x30, 0x50))  # the challenge every pynukibt command vector uses
APP_ID = VECTORS["pynukibt_pairing"]["app_id"]

challenges = st.binary(min_size=32, max_size=32)
pins2 = st.integers(0, 0xFFFF)
pins4 = st.integers(0, 0xFFFFFFFF)


def _vector(label_start: str) -> dict[str, Any]:
    (found,) = [v for v in PYNUKI if v["label"].startswith(label_start)]
    assert isinstance(found, dict)
    return found


def _pdata_payload(pdata_hex: str) -> tuple[int, bytes]:
    """Command and payload of a PDATA: auth id u32 || command u16 || payload || CRC."""
    pdata = H(pdata_hex)
    body = pdata[:-2]
    assert codec.crc16(body) == int.from_bytes(pdata[-2:], "little")
    return int.from_bytes(body[4:6], "little"), body[6:]


# --- pyNukiBT client commands rebuilt byte for byte -------------------------------------------

BUILT: dict[str, Callable[[], bytes]] = {
    "Request Data -> Keyturner States": lambda: c.request_data(Command.KEYTURNER_STATES),
    "Request Data -> Challenge": lambda: c.request_data(Command.CHALLENGE),
    "Request Data -> Battery Report": lambda: c.request_data(Command.BATTERY_REPORT),
    "Lock Action UNLOCK": lambda: c.with_challenge(
        c.build_lock_action(c.LockAction.UNLOCK, APP_ID), NONCE_32
    ),
    "Lock Action LOCK": lambda: c.with_challenge(
        c.build_lock_action(c.LockAction.LOCK, APP_ID, name_suffix="HA"), NONCE_32
    ),
    "Lock Action UNLATCH": lambda: c.with_challenge(
        c.build_lock_action(c.LockAction.UNLATCH, APP_ID, c.LockActionFlag.FORCE), NONCE_32
    ),
    "Request Config": lambda: c.protect(
        Command.REQUEST_CONFIG, c.build_request_config(), NONCE_32, None, 2
    ),
    "Verify Security PIN 1234": lambda: c.with_pin(
        c.build_verify_security_pin(), NONCE_32, 1234, 2
    ),
    "Update Time": lambda: c.protect(
        Command.UPDATE_TIME, c.build_update_time(datetime(2024, 5, 6, 7, 8, 9)), NONCE_32, 1234, 2
    ),
    "ULTRA Verify Security PIN": lambda: c.protect(
        Command.VERIFY_SECURITY_PIN, b"", NONCE_32, 123456, 4
    ),
}


@pytest.mark.parametrize("label", sorted(BUILT))
def test_pynukibt_commands_rebuilt_byte_identical(label: str) -> None:
    vector = _vector(label)
    payload = BUILT[label]()
    command, pdata_payload = _pdata_payload(vector["pdata_plaintext_hex"])
    assert command == int(vector["command_id"], 16)
    assert payload == pdata_payload == H(vector["payload_hex"])
    auth_id = int.from_bytes(H(vector["auth_id_le"]), "little")
    wire = codec.encrypt(KEY, auth_id, command, payload, H(vector["nonce24"]))
    assert wire.hex() == vector["wire_message_hex"]


def test_lock_side_reads_back_the_pynukibt_commands() -> None:
    unlock = c.unprotect(Command.LOCK_ACTION, H(_vector("Lock Action UNLOCK")["payload_hex"]), 2)
    assert unlock.challenge == NONCE_32 and unlock.pin is None
    assert c.parse_lock_action(unlock.fields) == c.LockActionRequest(c.LockAction.UNLOCK, APP_ID)
    lock = c.unprotect(Command.LOCK_ACTION, H(_vector("Lock Action LOCK")["payload_hex"]), 2)
    assert c.parse_lock_action(lock.fields).name_suffix == "HA"
    unlatch = H(_vector("Lock Action UNLATCH")["payload_hex"])
    assert c.parse_lock_action(c.split_challenge(unlatch)[0]).flags == c.LockActionFlag.FORCE
    update = H(_vector("Update Time")["payload_hex"])
    fields, nonce, pin = c.split_challenge_pin(update, 2)
    assert (c.parse_update_time(fields), nonce, pin) == (
        datetime(2024, 5, 6, 7, 8, 9),
        NONCE_32,
        1234,
    )
    ultra = c.unprotect(Command.VERIFY_SECURITY_PIN, H(_vector("ULTRA Verify")["payload_hex"]), 4)
    assert (ultra.fields, ultra.challenge, ultra.pin) == (b"", NONCE_32, 123456)
    assert c.parse_request_data(H(_vector("Request Data -> Battery")["payload_hex"])) == (
        Command.BATTERY_REPORT,
        b"",
    )


# --- official example (spec §7.1) -------------------------------------------------------------


def test_official_example_client_messages() -> None:
    command, payload = _pdata_payload(OFFICIAL["cl_request_keyturner_states_pdata"])
    assert (command, payload) == (Command.REQUEST_DATA, c.request_data(Command.KEYTURNER_STATES))
    command, payload = _pdata_payload(OFFICIAL["cl_request_challenge_pdata"])
    assert payload == c.request_data(Command.CHALLENGE)
    _, challenge_payload = _pdata_payload(OFFICIAL["sl_challenge_pdata"])
    nonce = c.parse_challenge(challenge_payload)
    assert c.build_challenge(nonce) == challenge_payload
    command, payload = _pdata_payload(OFFICIAL["cl_lock_action_unlock_pdata"])
    assert command == Command.LOCK_ACTION
    # spec §7.1: app id 0, no flags, no suffix, then the challenge the lock sent.
    assert payload == c.with_challenge(c.build_lock_action(c.LockAction.UNLOCK, 0), nonce)
    for key, status in (
        ("sl_status_accepted_pdata", codec.StatusCode.ACCEPTED),
        ("sl_status_complete_pdata", codec.StatusCode.COMPLETE),
    ):
        command, payload = _pdata_payload(OFFICIAL[key])
        assert command == Command.STATUS
        assert c.parse_status(payload) == status
        assert c.build_status(status) == payload


# --- Request Data, challenge and PIN suffixes (spec §4.1, §4.2) -------------------------------


@given(st.integers(0, 0xFFFF), st.binary(max_size=8))
def test_request_data_round_trip(command: int, extra: bytes) -> None:
    assert c.parse_request_data(c.request_data(command, extra)) == (command, extra)


@given(st.binary(max_size=60), challenges, st.sampled_from([2, 4]), st.data())
def test_pin_suffix_round_trip(
    fields: bytes, nonce: bytes, width: int, data: st.DataObject
) -> None:
    pin = data.draw(pins2 if width == 2 else pins4)
    payload = c.with_pin(fields, nonce, pin, width)
    assert len(payload) == len(fields) + 32 + width
    assert c.split_challenge_pin(payload, width) == (fields, nonce, pin)
    assert c.split_challenge(c.with_challenge(fields, nonce)) == (fields, nonce)


@pytest.mark.parametrize("command", list(Command))
def test_protect_and_unprotect_agree_for_every_command(command: Command) -> None:
    protection = c.PROTECTION.get(command)
    fields, nonce = b"\x01\x02", bytes(range(32))
    if protection is None:
        assert command in (Command.START_BUS_SIGNAL_RECORDING, Command.RESTORE_CONFIG)
        return
    payload = c.protect(command, fields, nonce, 4321, 2)
    extra = {c.Protection.NONE: 0, c.Protection.CHALLENGE: 32, c.Protection.CHALLENGE_PIN: 34}
    assert len(payload) == len(fields) + extra[protection]
    split = c.unprotect(command, payload, 2)
    assert split.fields == fields
    assert split.challenge == (None if protection is c.Protection.NONE else nonce)
    assert split.pin == (4321 if protection is c.Protection.CHALLENGE_PIN else None)


def test_protection_table_follows_the_spec() -> None:
    p = c.PROTECTION
    assert p[Command.REQUEST_DATA] is c.Protection.NONE
    assert p[Command.LOCK_ACTION] is c.Protection.CHALLENGE
    assert p[Command.REQUEST_CONFIG] is c.Protection.CHALLENGE
    assert p[Command.SIMPLE_LOCK_ACTION] is c.Protection.CHALLENGE
    assert p[Command.VERIFY_SECURITY_PIN] is c.Protection.CHALLENGE_PIN
    assert p[Command.SET_ADVANCED_CONFIG] is c.Protection.CHALLENGE_PIN
    assert p[Command.ADD_KEYPAD_CODE] is c.Protection.CHALLENGE_PIN
    with pytest.raises(FieldError):
        c.protect(Command.SET_CONFIG, b"", bytes(32), None, 2)


def test_suffix_builders_reject_what_does_not_fit() -> None:
    with pytest.raises(FieldError):
        c.with_challenge(b"", bytes(31))
    with pytest.raises(FieldError):
        c.with_pin(b"", bytes(32), 0x10000, 2)
    with pytest.raises(FieldError):
        c.with_pin(b"", bytes(32), 1, 3)
    with pytest.raises(ProtocolError):
        c.split_challenge(bytes(31))
    with pytest.raises(ProtocolError):
        c.split_challenge_pin(bytes(33), 2)
    assert len(c.new_challenge()) == 32 and c.new_challenge() != c.new_challenge()


# --- actions (spec §4.10) ---------------------------------------------------------------------

suffixes = st.none() | st.text(
    st.characters(codec="utf-8", exclude_characters="\x00"), max_size=20
).filter(lambda s: len(s.encode()) <= 20)


@given(st.integers(0, 255), st.integers(0, 0xFFFFFFFF), st.integers(0, 255), suffixes)
def test_lock_action_round_trip(action: int, app_id: int, flags: int, suffix: str | None) -> None:
    request = c.LockActionRequest(action, app_id, flags, suffix)
    fields = request.to_payload()
    assert len(fields) == (26 if suffix is not None else 6)
    assert c.parse_lock_action(fields) == request


@given(st.integers(0, 255), st.integers(0, 0xFFFFFFFF), st.integers(0, 255))
def test_keypad_action_round_trip(source: int, code: int, action: int) -> None:
    request = c.KeypadActionRequest(source, code, action)
    assert request.to_payload()[1:5] == code.to_bytes(4, "little")  # spec §4.2: code u32 LE
    assert c.parse_keypad_action(request.to_payload()) == request
    assert "code" not in repr(request)


def test_simple_lock_action() -> None:
    for action in (c.LockAction.UNLOCK, c.LockAction.LOCK):
        assert c.parse_simple_lock_action(c.build_simple_lock_action(action)) == action
    with pytest.raises(FieldError):
        c.build_simple_lock_action(c.LockAction.UNLATCH)
    with pytest.raises(FieldError):
        c.build_lock_action(1, 1, name_suffix="x" * 21)


# --- describe ---------------------------------------------------------------------------------


def test_describe_names_fields_of_the_vectors() -> None:
    for vector in VECTORS["lock_responses_parsed_by_pynukibt"]:
        out = describe(int(vector["command_id"], 16), H(vector["payload_hex"]))
        assert "error" not in out and "payload" not in out, out
    states = VECTORS["lock_responses_parsed_by_pynukibt"][0]
    out = describe(Command.KEYTURNER_STATES, H(states["payload_hex"]))
    assert out["lock_state"] == states["pynukibt_parse"]["lock_state"]
    assert out["current_time"] == "2024-05-06T07:08:09"
    unlock = describe(Command.LOCK_ACTION, H(_vector("Lock Action UNLATCH")["payload_hex"]))
    assert unlock["action"] == "UNLATCH" and unlock["flag_names"] == ["FORCE"]
    assert unlock["challenge"] == NONCE_32.hex()


def test_describe_directions_and_unknowns() -> None:
    assert sent_by_lock(Command.KEYTURNER_STATES) is True
    assert sent_by_lock(Command.LOCK_ACTION) is False
    assert sent_by_lock(Command.PUBLIC_KEY) is None
    assert describe(0x7777, b"\x01\x02") == {"payload": "0102"}
    assert "error" in describe(Command.LOCK_ACTION, b"", from_lock=True)
    assert "error" in describe(Command.STATUS, b"")
    key = bytes(range(32))
    assert describe(Command.PUBLIC_KEY, key, from_lock=True) == {"key": key.hex()}
    assert describe(Command.PUBLIC_KEY, key, from_lock=False) == {"key": key.hex()}


def test_describe_redacts_pins_codes_and_keys() -> None:
    payload = c.with_pin(c.build_set_security_pin(987654, 4), NONCE_32, 123456, 4)
    plain = describe(Command.SET_SECURITY_PIN, payload, pin_width=4)
    assert (plain["new_pin"], plain["pin"]) == (987654, 123456)
    hidden = describe(Command.SET_SECURITY_PIN, payload, pin_width=4, redact=True)
    assert (hidden["new_pin"], hidden["pin"]) == (REDACTED, REDACTED)
    assert "987654" not in json.dumps(hidden) and "123456" not in json.dumps(hidden)
    keypad = c.with_challenge(c.build_keypad_action(1, 654321, 1), NONCE_32)
    assert describe(Command.KEYPAD_ACTION, keypad, redact=True)["code"] == REDACTED
    assert describe(Command.KEYPAD_ACTION, keypad)["code"] == 654321
    broken = describe(Command.VERIFY_SECURITY_PIN, b"\x01", redact=True)
    assert set(broken) == {"error"}


commands = st.sampled_from([int(m) for m in Command]) | st.integers(0, 0xFFFF)


@given(
    commands,
    st.binary(max_size=120),
    st.sampled_from([None, True, False]),
    st.sampled_from([2, 4, 3]),
    st.booleans(),
    st.booleans(),
)
def test_describe_never_raises_and_is_json(
    command: int, payload: bytes, from_lock: bool | None, width: int, redact: bool, opener: bool
) -> None:
    out = describe(
        command, payload, from_lock=from_lock, pin_width=width, redact=redact, opener=opener
    )
    json.dumps(out, allow_nan=False)
    assert out


def test_describe_redacts_keypad_codes_and_invite_keys() -> None:
    add = c.with_pin(c.build_add_keypad_code(654321, "Anna"), NONCE_32, 1234, 2)
    plain = describe(Command.ADD_KEYPAD_CODE, add)
    assert (plain["code"], plain["name"], plain["pin"]) == (654321, "Anna", 1234)
    hidden = describe(Command.ADD_KEYPAD_CODE, add, redact=True)
    assert (hidden["code"], hidden["name"], hidden["pin"]) == (REDACTED, "Anna", REDACTED)
    key = bytes(range(100, 132))
    invite = c.with_pin(
        c.build_authorization_invite("Guest", pairing_msgs.IdType.APP, key), NONCE_32, 1234, 2
    )
    assert describe(Command.AUTHORIZATION_DATA_INVITE, invite)["shared_key"] == key.hex()
    hidden = describe(Command.AUTHORIZATION_DATA_INVITE, invite, redact=True)
    assert key.hex() not in json.dumps(hidden) and hidden["name"] == "Guest"


def test_describe_pairing_transcript() -> None:
    pairing = VECTORS["pynukibt_pairing"]
    seen: dict[int, dict[str, object]] = {}
    for step in pairing["transcript"]:
        message = codec.parse_plain(H(step["hex"])).verified()
        from_lock = step["dir"] == "lock->client"
        out = describe(message.command, message.payload, from_lock=from_lock)
        assert "error" not in out and "payload" not in out, (step, out)
        seen[message.command] = out
    assert seen[Command.AUTHORIZATION_DATA]["name"] == pairing["name"]
    assert seen[Command.AUTHORIZATION_DATA]["app_id"] == pairing["app_id"]
    assert seen[Command.AUTHORIZATION_ID]["auth_id"] == int.from_bytes(
        H(pairing["auth_id_le"]), "little"
    )
    assert seen[Command.STATUS] == {"status": "COMPLETE"}


def test_describe_hides_the_5g_pairing_pin() -> None:
    data = pairing_msgs.build_ultra_authorization_data(APP_ID, "Home", 123456).to_payload()
    assert describe(Command.AUTHORIZATION_DATA, data)["security_pin"] == 123456
    hidden = describe(Command.AUTHORIZATION_DATA, data, redact=True)
    assert (hidden["security_pin"], hidden["name"]) == (REDACTED, "Home")
