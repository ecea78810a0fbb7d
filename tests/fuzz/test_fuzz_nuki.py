"""Fuzzing every Nuki parser of radio input: plain and sealed messages, reassembly, the session's
incoming path, each message from the lock (states, reports, configs, log entries, lists,
pairing), and the `decode nuki` command. Only LockError may come out; matchers, unsolicited
handlers and describe() must not raise at all."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import strategies as st

from ttlock_nuki_addon import cli
from ttlock_nuki_addon.ble.transport import GattTransport
from ttlock_nuki_addon.decode_nuki import DECODER, View, decode_message
from ttlock_nuki_addon.errors import LockError, ProtocolError
from ttlock_nuki_addon.nuki import (
    advanced_config,
    auth_cmds,
    config_cmds,
    driver_events,
    fields,
    keypad_cmds,
    log_cmds,
    opener_config,
    reports,
    states,
)
from ttlock_nuki_addon.nuki import pairing_msgs as pm
from ttlock_nuki_addon.nuki import time_control as tc
from ttlock_nuki_addon.nuki.channels import Channel, Mode, listed
from ttlock_nuki_addon.nuki.codec import (
    Command,
    EncryptedFramer,
    Message,
    PlainFramer,
    decrypt,
    open_message,
    parse_header,
    parse_plain,
)
from ttlock_nuki_addon.nuki.describe import describe
from ttlock_nuki_addon.nuki.driver_actions import battery_of, door_of, parse_states, status_of
from ttlock_nuki_addon.nuki.driver_creds import validity_of
from ttlock_nuki_addon.nuki.gatt import Family, layout_for
from ttlock_nuki_addon.nuki.lock_errors import describe_report, error_for
from ttlock_nuki_addon.nuki.protected import parse_challenge
from ttlock_nuki_addon.nuki.session import NukiSession
from ttlock_nuki_addon.nuki.time_limits import read_time_limit_lenient

from .nuki_inputs import AUTH_ID, KEY, b, commands, indications, messages, payload
from .support import RADIO, Case, params, radio, run_case

C = Command
NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
families = st.sampled_from(list(Family))
keys = st.sampled_from([KEY, None, bytes(32)])


def _states(item: tuple[Family, bytes]) -> object:
    family, raw = item
    found = parse_states(family, raw)
    return status_of(family, found), door_of(found), battery_of(found)


def _log_entry(item: tuple[Family, bytes]) -> object:
    family, raw = item
    entry = log_cmds.parse_log_entry(raw)
    return driver_events.log_event("aabbcc001122", family, entry, {1: "Anna"}, NOW)


def _keypad_entry(raw: bytes) -> object:
    entry = keypad_cmds.parse_keypad_code_entry(raw)
    limit = entry.time_limit
    return validity_of(limit), None if limit is None else limit.allows(NOW.replace(tzinfo=None))


def _error_report(raw: bytes) -> object:
    report = reports.parse_error_report(raw)
    return error_for(report), describe_report(report)


def _time_limit(raw: bytes) -> object:
    return read_time_limit_lenient(fields.Reader(raw, "time limit"))


def _listed(raw: list[bytes]) -> object:
    found = [
        Message(C.KEYPAD_CODE_COUNT if i == 0 else C.KEYPAD_CODE, p) for i, p in enumerate(raw)
    ]
    return listed(C.KEYPAD_CODE_COUNT, C.KEYPAD_CODE, keypad_cmds.parse_keypad_code_count)(found)


def with_family(command: int) -> st.SearchStrategy[tuple[Family, bytes]]:
    """A family and a payload for `command`."""
    return st.tuples(families, payload(command))


LOCK_PARSERS: list[tuple[str, st.SearchStrategy[Any], Callable[[Any], object]]] = [
    ("driver_actions.parse_states", with_family(C.KEYTURNER_STATES), _states),
    ("states.parse_keyturner_states", payload(C.KEYTURNER_STATES), states.parse_keyturner_states),
    ("states.parse_opener_states", payload(C.KEYTURNER_STATES), states.parse_opener_states),
    ("reports.parse_status", payload(C.STATUS), reports.parse_status),
    ("reports.parse_error_report", payload(C.ERROR_REPORT), _error_report),
    ("reports.parse_battery_report", payload(C.BATTERY_REPORT), reports.parse_battery_report),
    ("config_cmds.parse_config", payload(C.CONFIG), config_cmds.parse_config),
    ("opener_config.parse_opener_config", payload(C.CONFIG), opener_config.parse_opener_config),
    ("advanced_config.parse_advanced_config", payload(C.ADVANCED_CONFIG),
     advanced_config.parse_advanced_config),
    ("log_cmds.parse_log_entry", with_family(C.LOG_ENTRY), _log_entry),
    ("log_cmds.parse_log_entry_count", payload(C.LOG_ENTRY_COUNT), log_cmds.parse_log_entry_count),
    ("auth_cmds.parse_authorization_entry", payload(C.AUTHORIZATION_ENTRY),
     auth_cmds.parse_authorization_entry),
    ("auth_cmds.parse_authorization_id_invite", payload(C.AUTHORIZATION_ID_INVITE),
     auth_cmds.parse_authorization_id_invite),
    ("auth_cmds.parse_authorization_entry_count", payload(C.AUTHORIZATION_ENTRY_COUNT),
     auth_cmds.parse_authorization_entry_count),
    ("keypad_cmds.parse_keypad_code_id", payload(C.KEYPAD_CODE_ID),
     keypad_cmds.parse_keypad_code_id),
    ("keypad_cmds.parse_keypad_code_count", payload(C.KEYPAD_CODE_COUNT),
     keypad_cmds.parse_keypad_code_count),
    ("keypad_cmds.parse_keypad_code_entry", payload(C.KEYPAD_CODE), _keypad_entry),
    ("time_control.parse_time_control_entry", payload(C.TIME_CONTROL_ENTRY),
     tc.parse_time_control_entry),
    ("time_control.parse_time_control_entry_id", payload(C.TIME_CONTROL_ENTRY_ID),
     tc.parse_time_control_entry_id),
    ("time_control.parse_time_control_entry_count", payload(C.TIME_CONTROL_ENTRY_COUNT),
     tc.parse_time_control_entry_count),
    ("protected.parse_challenge", payload(C.CHALLENGE), parse_challenge),
    ("pairing_msgs.PublicKey.parse", payload(C.PUBLIC_KEY), pm.PublicKey.parse),
    ("pairing_msgs.Challenge.parse", payload(C.CHALLENGE), pm.Challenge.parse),
    ("pairing_msgs.AuthorizationId.parse", payload(C.AUTHORIZATION_ID), pm.AuthorizationId.parse),
    ("pairing_msgs.UltraAuthorizationId.parse", payload(C.AUTHORIZATION_ID),
     pm.UltraAuthorizationId.parse),
    ("pairing_msgs.AuthorizationInfo.parse", payload(C.AUTHORIZATION_INFO),
     pm.AuthorizationInfo.parse),
    ("time_limits.read_time_limit_lenient", radio(max_size=24), _time_limit),
    ("channels.listed", st.lists(payload(C.KEYPAD_CODE_COUNT), max_size=4), _listed),
]  # fmt: skip
LOCK_CASES = [Case(name, fn, inputs, RADIO) for name, inputs, fn in LOCK_PARSERS]

# --- messages, reassembly and the session's incoming path -----------------------------------


def _no_transport(address: str) -> GattTransport:
    raise AssertionError("the fuzz session never connects")


def _feed(framer: EncryptedFramer | PlainFramer, chunks: list[bytes]) -> list[bytes]:
    """Indications through a framer the way the Link does: ProtocolError resets it."""
    out: list[bytes] = []
    for chunk in chunks:
        try:
            out += framer.feed(chunk)
        except ProtocolError:
            framer.reset()
    return out


def _session_path(item: tuple[Family, Mode, list[bytes]]) -> object:
    """Indications on each characteristic -> tagged messages -> match -> open or unsolicited."""
    family, mode, chunks = item
    session = NukiSession(
        "54:D2:72:AA:00:01", _no_transport, family=family, mode=mode, key=KEY, auth_id=AUTH_ID
    )
    layout, opened = layout_for(family), []
    for uuid in (layout.usdio, layout.pairing_gdio, layout.keyturner_gdio):
        framer = session._framer(uuid)
        for tagged in _feed(framer, chunks):  # type: ignore[arg-type]
            assert tagged[:1] in {bytes([c]) for c in Channel}
            if not session._match(tagged):
                session._unsolicited(tagged)
                continue
            try:
                message = session._open(tagged)
            except LockError:
                continue
            opened.append(describe(message.command, message.payload, from_lock=True))
    return opened


def _cli(item: tuple[bytes, bytes | None, bool]) -> object:
    """`decode nuki HEX [--key HEX] [--opener]`, all the way to the JSON it prints."""
    raw, key, opener = item
    args = argparse.Namespace(
        hex=[raw.hex()], key=None if key is None else key.hex(), sender=None, pin_width=2,
        opener=opener,
    )  # fmt: skip
    return json.dumps(cli.to_json(DECODER.decode(args)))


def _described(item: tuple[int, bytes, bool | None, int, bool, bool]) -> object:
    command, raw, from_lock, width, opener, redact = item
    out = describe(command, raw, from_lock=from_lock, pin_width=width, opener=opener, redact=redact)
    json.dumps(out)  # JSON-able, as documented
    return out


described = commands.flatmap(
    lambda c: st.tuples(
        st.just(c), payload(c), st.sampled_from([None, True, False]), st.sampled_from([2, 4]),
        st.booleans(), st.booleans(),
    )
)  # fmt: skip
CODEC_CASES = [
    Case("codec.parse_plain", lambda r: parse_plain(r).verified(), messages, RADIO),
    Case("codec.parse_header", parse_header, messages, RADIO),
    Case("codec.open_message", lambda r: open_message(KEY, r), messages, RADIO),
    Case("codec.decrypt", lambda r: decrypt(KEY, r, AUTH_ID), messages, RADIO),
    Case("codec.EncryptedFramer.feed", lambda c: _feed(EncryptedFramer(), c), indications(), ()),
    Case("codec.PlainFramer.feed", lambda c: _feed(PlainFramer(), c), indications(), ()),
    Case("codec.PlainFramer.feed(5G pairing)",
         lambda c: _feed(PlainFramer(allow_encrypted=True), c), indications(), ()),
    Case("session.incoming", _session_path,
         st.tuples(families, st.sampled_from(list(Mode)), indications()), ()),
    Case("describe.describe", _described, described, (), dict),
    Case("fields.decode_name", fields.decode_name, b(0, 40), (), str),
    Case("fields.decode_timestamp", fields.decode_timestamp, b(7), ()),
    Case("fields.decode_time_of_day", fields.decode_time_of_day, b(2), ()),
    Case("fields.decode_weekdays", fields.decode_weekdays, st.integers(0, 255), (), frozenset),
    Case("decode_nuki.decode_message",
         lambda p: decode_message(p[0], p[1], View(opener=p[2])),
         st.tuples(messages, keys, st.booleans()), (ProtocolError,), dict),
    Case("decode nuki (CLI)", _cli, st.tuples(messages, keys, st.booleans()),
         (cli.InputError, LockError), str),
]  # fmt: skip


@pytest.mark.parametrize("case", params(LOCK_CASES + CODEC_CASES))
def test_nuki_radio_parser_raises_only_typed_errors(case: Case) -> None:
    """Each Nuki parser of radio input returns its result or raises a LockError."""
    run_case(case)
