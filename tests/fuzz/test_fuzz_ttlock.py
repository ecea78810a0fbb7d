"""Fuzzing every TTLock parser of radio input: frames, reassembly, the session's decode, each
answer, log records, and the `decode ttlock` command. Only LockError (ProtocolError and kin)
may come out; matchers, tails and describe() must not raise at all."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import get_args

import pytest
from hypothesis import strategies as st

from ttlock_nuki_addon import cli
from ttlock_nuki_addon.ble.transport import GattTransport
from ttlock_nuki_addon.decode_ttlock import DECODER, decode_frame
from ttlock_nuki_addon.errors import LockError, ProtocolError
from ttlock_nuki_addon.ttlock import auth_cmds as auth
from ttlock_nuki_addon.ttlock import card_cmds as card
from ttlock_nuki_addon.ttlock import commands as cmds
from ttlock_nuki_addon.ttlock import dates, oplog
from ttlock_nuki_addon.ttlock import features as feat
from ttlock_nuki_addon.ttlock import fingerprint_cmds as fp
from ttlock_nuki_addon.ttlock import passcode_cmds as pwd
from ttlock_nuki_addon.ttlock import settings_cmds as sets
from ttlock_nuki_addon.ttlock.codec import DEFAULT_KEY, Command, decrypt, encrypt, parse_response
from ttlock_nuki_addon.ttlock.describe import REQUEST_PARSERS, RESPONSE_PARSERS, describe
from ttlock_nuki_addon.ttlock.framing import (
    TTLockFramer,
    decode_request,
    decode_response,
    echoed_command,
    parse_frame,
    reply_matcher,
)
from ttlock_nuki_addon.ttlock.oplog_events import classify, credential_ref
from ttlock_nuki_addon.ttlock.oplog_tails import LogTail, parse_tail
from ttlock_nuki_addon.ttlock.session import TTLockSession
from ttlock_nuki_addon.ttlock.validity_map import validity_of_passcode, validity_of_window

from .support import RADIO, Case, params, radio, run_case
from .ttlock_inputs import SESSION_KEY, answer, commands, frames, notifications, request

C = Command
NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
keys = st.sampled_from([SESSION_KEY, DEFAULT_KEY, None])


def _no_transport(address: str) -> GattTransport:
    raise AssertionError("the fuzz session never connects")


def _session() -> TTLockSession:
    return TTLockSession("AA:BB:CC:DD:EE:FF", _no_transport, key=SESSION_KEY, admin=None)


# --- answers: the data after echo and status, parsed and interpreted like the driver does ---


def _passcodes(data: bytes) -> object:
    page = pwd.parse_passcode_page(data)
    for r in page.records:
        validity_of_passcode(r.type, r.start, r.end, r.cycle_type)
    return page.is_last


def _cards(data: bytes) -> object:
    page = card.parse_card_page(data)
    return [validity_of_window(r.start, r.end) for r in page.records], page.is_last


def _fingerprints(data: bytes) -> object:
    page = fp.parse_fingerprint_page(data)
    return [validity_of_window(r.start, r.end) for r in page.records], page.is_last


def _log(data: bytes) -> object:
    page = oplog.parse_log_page(data)
    for record in page.records:
        _ = classify(record), credential_ref(record), record.log_type
        if record.time is not None:
            dates.from_lock_local(record.time, timedelta(hours=2))
    return page.next_request(oplog.LOG_NEW), page.next_request(0)


def _fp_enrol(data: bytes) -> object:
    return fp.parse_fingerprint_enrol(data).progress(3)


ANSWER_PARSERS: list[tuple[str, int, Callable[[bytes], object]]] = [
    ("commands.parse_battery", C.CHECK_RANDOM, cmds.parse_battery),
    ("commands.parse_op_ack", C.MANAGE_KEYBOARD_PASSWORD, lambda d: cmds.parse_op_ack(d, "ack")),
    ("commands.parse_aes_key_response", C.GET_AES_KEY, cmds.parse_aes_key_response),
    ("commands.add_admin_answer_ok", C.ADD_ADMIN, cmds.add_admin_answer_ok),
    ("commands.parse_lock_time_response", C.GET_LOCK_TIME, cmds.parse_lock_time_response),
    ("commands.parse_device_info_response", C.READ_DEVICE_INFO,
     lambda d: cmds.parse_device_info_response(d, 1)),
    ("commands.parse_admin_code_response", C.GET_ADMIN_CODE, cmds.parse_admin_code_response),
    ("auth_cmds.parse_ps_from_lock", C.CHECK_ADMIN, auth.parse_ps_from_lock),
    ("auth_cmds.check_random_ok", C.CHECK_RANDOM, lambda d: auth.check_random_ok(d, 1, 2)),
    ("auth_cmds.parse_operate_response", C.UNLOCK, auth.parse_operate_response),
    ("auth_cmds.parse_status_response", C.SEARCH_BICYCLE_STATUS, auth.parse_status_response),
    ("features.parse_features_response", C.SEARCH_DEVICE_FEATURE,
     lambda d: feat.parse_features_response(d).features.features),
    ("passcode_cmds.parse_passcode_page", C.PWD_LIST, _passcodes),
    ("card_cmds.parse_card_enrol", C.IC_MANAGE, lambda d: card.parse_card_enrol(d).progress()),
    ("card_cmds.parse_card_page", C.IC_MANAGE, _cards),
    ("fingerprint_cmds.parse_fingerprint_enrol", C.FR_MANAGE, _fp_enrol),
    ("fingerprint_cmds.parse_fingerprint_page", C.FR_MANAGE, _fingerprints),
    ("settings_cmds.parse_auto_lock_state", C.AUTO_LOCK_MANAGE, sets.parse_auto_lock_state),
    ("settings_cmds.parse_on_off_state", C.CONTROL_REMOTE_UNLOCK,
     lambda d: sets.parse_on_off_state(d, "on/off")),
    ("settings_cmds.parse_audio_state", C.AUDIO_MANAGE, sets.parse_audio_state),
    ("settings_cmds.parse_switch_state", C.SWITCH, sets.parse_switch_state),
    ("settings_cmds.parse_passage_page", C.CONFIGURE_PASSAGE_MODE, sets.parse_passage_page),
    ("oplog.parse_log_page", C.GET_OPERATE_LOG, _log),
]  # fmt: skip
ANSWER_CASES = [Case(name, fn, answer(command), RADIO) for name, command, fn in ANSWER_PARSERS]

# --- frames, envelopes and reassembly -------------------------------------------------------


def _frames_of(chunks: list[bytes], strict: bool) -> list[bytes]:
    """Notifications through a framer the way the Link does: ProtocolError resets it."""
    framer, out = TTLockFramer(strict_crc=strict), []
    for chunk in chunks:
        try:
            out += framer.feed(chunk)
        except ProtocolError:
            framer.reset()
    for message in out:
        parse_frame(message, strict=False)  # whatever it hands on is a frame
    return out


def _pipeline(item: tuple[list[bytes], int, bool]) -> object:
    """Notifications -> frames -> matcher -> the session's decode -> the answer's parser."""
    chunks, expected, strict = item
    session, answers = _session(), []
    for message in _frames_of(chunks, strict):
        reply_matcher(expected, SESSION_KEY)(message)
        session._unsolicited(message)
        try:
            response = session.decode(message, expected)
        except LockError:
            continue
        answers.append(response)
        parser = RESPONSE_PARSERS.get(response.command)
        if response.ok and parser is not None:
            describe(RESPONSE_PARSERS, response.command, response.data)
    return answers


def _decode_with(pair: tuple[bytes, bytes | None]) -> object:
    return decode_response(parse_frame(pair[0], strict=False), pair[1])


def _cli(pair: tuple[bytes, bytes | None]) -> object:
    """`decode ttlock HEX [--key HEX]`, all the way to the JSON it prints."""
    raw, key = pair
    args = argparse.Namespace(hex=[raw.hex()], key=None if key is None else key.hex())
    return json.dumps(cli.to_json(DECODER.decode(args)))


def _described(pair: tuple[int, bytes]) -> object:
    return describe(RESPONSE_PARSERS, *pair)


with_key = st.tuples(frames, keys)
_answers_by_command = st.sampled_from(sorted(RESPONSE_PARSERS)).flatmap(
    lambda c: st.tuples(st.just(c), answer(c))
)
blocks = radio(
    st.binary(max_size=40).map(lambda p: encrypt(p, SESSION_KEY, pad_empty=True)), max_size=64
)
FRAME_CASES = [
    Case("codec.parse_response", parse_response, radio(max_size=40), RADIO),
    Case("codec.decrypt", lambda d: decrypt(d, SESSION_KEY), blocks, RADIO),
    Case("codec.Response.raise_for_status",
         lambda d: parse_response(decrypt(d, SESSION_KEY)).raise_for_status(), blocks, RADIO),
    Case("framing.parse_frame(strict)", parse_frame, frames, RADIO),
    Case("framing.parse_frame(lenient)", lambda r: parse_frame(r, strict=False), frames, RADIO),
    Case("framing.decode_response", _decode_with, with_key, RADIO),
    Case("framing.echoed_command", lambda r: echoed_command(r, SESSION_KEY), frames, (),
         (int, type(None))),
    Case("framing.reply_matcher", lambda p: reply_matcher(p[0], SESSION_KEY)(p[1]),
         st.tuples(commands, frames), (), bool),
    Case("framing.TTLockFramer.feed(strict)", lambda c: _frames_of(c, True), notifications(), ()),
    Case("framing.TTLockFramer.feed(lenient)", lambda c: _frames_of(c, False), notifications(),
         ()),
    Case("session.pipeline", _pipeline, st.tuples(notifications(), commands, st.booleans()), ()),
    Case("session.TTLockSession.decode",
         lambda p: _session().decode(p[0], p[1]), st.tuples(frames, commands), RADIO),
    Case("session.TTLockSession._unsolicited", lambda r: _session()._unsolicited(r), frames, ()),
    Case("oplog_tails.parse_tail", lambda p: parse_tail(*p),
         st.tuples(st.integers(0, 255), radio(max_size=24)), (), get_args(LogTail)),
    Case("dates.decode_date", dates.decode_date, radio(max_size=8), RADIO, datetime),
    Case("dates.decode_date_or_none", dates.decode_date_or_none, radio(max_size=8), (),
         (datetime, type(None))),
    Case("features.FeatureMask.from_bytes", feat.FeatureMask.from_bytes, radio(max_size=40), ()),
    Case("describe.answers", _described, _answers_by_command, (), dict),
    Case("decode_ttlock.decode_frame", lambda p: decode_frame(*p), with_key, (ProtocolError,),
         dict),
    Case("decode ttlock (CLI)", _cli, with_key, (cli.InputError, LockError), str),
]  # fmt: skip


# --- lock side: what the simulated lock parses from the add-on's requests --------------------

REQUEST_PARSERS_FUZZED: list[tuple[str, int, Callable[[bytes], object]]] = [
    ("auth_cmds.parse_check_admin_request", C.CHECK_ADMIN, auth.parse_check_admin_request),
    ("auth_cmds.parse_check_random_request", C.CHECK_RANDOM, auth.parse_check_random_request),
    ("auth_cmds.parse_check_user_time_request", C.CHECK_USER_TIME,
     auth.parse_check_user_time_request),
    ("auth_cmds.parse_operate_request", C.UNLOCK, auth.parse_operate_request),
    ("card_cmds.parse_card_request", C.IC_MANAGE, card.parse_card_request),
    ("card_cmds.parse_cyclic_request", C.CYCLIC_CMD, card.parse_cyclic_request),
    ("commands.parse_add_admin_request", C.ADD_ADMIN, cmds.parse_add_admin_request),
    ("commands.parse_time_calibrate_request", C.TIME_CALIBRATE, cmds.parse_time_calibrate_request),
    ("commands.parse_device_info_request", C.READ_DEVICE_INFO, cmds.parse_device_info_request),
    ("commands.parse_set_admin_code_request", C.SET_ADMIN_KEYBOARD_PWD,
     cmds.parse_set_admin_code_request),
    ("commands.parse_init_passwords_request", C.INIT_PASSWORDS, cmds.parse_init_passwords_request),
    ("commands.vendor_ok", C.GET_AES_KEY, cmds.vendor_ok),
    ("fingerprint_cmds.parse_fingerprint_request", C.FR_MANAGE, fp.parse_fingerprint_request),
    ("passcode_cmds.parse_passcode_request", C.MANAGE_KEYBOARD_PASSWORD,
     pwd.parse_passcode_request),
    ("passcode_cmds.parse_passcode_list_request", C.PWD_LIST, pwd.parse_passcode_list_request),
    ("settings_cmds.parse_setting_request", C.AUTO_LOCK_MANAGE,
     lambda d: sets.parse_setting_request(d, "setting")),
    ("settings_cmds.parse_auto_lock_set", C.AUTO_LOCK_MANAGE,
     lambda d: sets.parse_auto_lock_set(d[1:])),
    ("settings_cmds.parse_on_off_set", C.CONTROL_REMOTE_UNLOCK,
     lambda d: sets.parse_on_off_set(d[1:], "on/off")),
    ("settings_cmds.parse_audio_set", C.AUDIO_MANAGE, lambda d: sets.parse_audio_set(d[1:])),
    ("settings_cmds.parse_switch_words", C.SWITCH,
     lambda d: sets.parse_switch_words(d[1:], "switch")),
    ("settings_cmds.parse_passage_request", C.CONFIGURE_PASSAGE_MODE, sets.parse_passage_request),
    ("oplog.parse_log_request", C.GET_OPERATE_LOG, oplog.parse_log_request),
]  # fmt: skip
REQUEST_CASES = [
    *(Case(name, fn, request(command), RADIO) for name, command, fn in REQUEST_PARSERS_FUZZED),
    Case("framing.decode_request",
         lambda r: decode_request(parse_frame(r, strict=False), SESSION_KEY), frames, RADIO),
    Case("describe.requests", lambda p: describe(REQUEST_PARSERS, *p),
         st.sampled_from(sorted(REQUEST_PARSERS)).flatmap(
             lambda c: st.tuples(st.just(c), request(c))), (), dict),
]  # fmt: skip


@pytest.mark.parametrize("case", params(ANSWER_CASES + FRAME_CASES + REQUEST_CASES))
def test_ttlock_radio_parser_raises_only_typed_errors(case: Case) -> None:
    """Each TTLock parser of radio input returns its result or raises a LockError."""
    run_case(case)


def test_every_answer_parser_of_the_decoder_is_fuzzed() -> None:
    """The inventory covers every answer the `decode` tables know (a new one needs a case)."""
    fuzzed = {command for _, command, _ in ANSWER_PARSERS}
    bare = {C.TIME_CALIBRATE, C.OPERATE_FINISHED, C.RESET_LOCK, C.SET_ADMIN_KEYBOARD_PWD}
    bare.add(C.INIT_PASSWORDS)
    aliases = {C.FUNCTION_LOCK, C.DEAD_LOCK, C.CHECK_USER_TIME, C.SHOW_PASSWORD, C.CYCLIC_CMD}
    assert set(RESPONSE_PARSERS) - bare - aliases <= fuzzed
