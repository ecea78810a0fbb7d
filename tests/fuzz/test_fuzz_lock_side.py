"""Fuzzing what the simulated locks parse from the add-on's requests (Nuki client messages and
their challenge/PIN suffixes); a virtual lock must refuse garbage with a LockError too.

The TTLock requests are in test_fuzz_ttlock.py beside the answers they mirror."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import strategies as st

from ttlock_nuki_addon.nuki import (
    actions,
    advanced_config,
    auth_cmds,
    config_cmds,
    keypad_cmds,
    log_cmds,
    opener_config,
)
from ttlock_nuki_addon.nuki import pairing_msgs as pm
from ttlock_nuki_addon.nuki import time_control as tc
from ttlock_nuki_addon.nuki.codec import Command
from ttlock_nuki_addon.nuki.protected import (
    parse_request_data,
    split_challenge,
    split_challenge_pin,
    unprotect,
)

from .nuki_inputs import commands, payload
from .support import RADIO, Case, params, radio, run_case

C = Command
widths = st.sampled_from([2, 4])

CLIENT_PARSERS: list[tuple[str, int, Callable[[bytes], object]]] = [
    ("actions.parse_lock_action", C.LOCK_ACTION, actions.parse_lock_action),
    ("actions.parse_keypad_action", C.KEYPAD_ACTION, actions.parse_keypad_action),
    ("actions.parse_simple_lock_action", C.SIMPLE_LOCK_ACTION, actions.parse_simple_lock_action),
    ("config_cmds.parse_new_config", C.SET_CONFIG, config_cmds.parse_new_config),
    ("config_cmds.parse_update_time", C.UPDATE_TIME, config_cmds.parse_update_time),
    ("config_cmds.parse_set_security_pin(2)", C.SET_SECURITY_PIN,
     lambda p: config_cmds.parse_set_security_pin(p, 2)),
    ("config_cmds.parse_set_security_pin(4)", C.SET_SECURITY_PIN,
     lambda p: config_cmds.parse_set_security_pin(p, 4)),
    ("opener_config.parse_opener_new_config", C.SET_CONFIG,
     opener_config.parse_opener_new_config),
    ("advanced_config.parse_new_advanced_config", C.SET_ADVANCED_CONFIG,
     advanced_config.parse_new_advanced_config),
    ("auth_cmds.parse_update_authorization_entry", C.UPDATE_AUTHORIZATION_ENTRY,
     auth_cmds.parse_update_authorization_entry),
    ("auth_cmds.parse_remove_authorization_entry", C.REMOVE_AUTHORIZATION_ENTRY,
     auth_cmds.parse_remove_authorization_entry),
    ("auth_cmds.parse_authorization_invite", C.AUTHORIZATION_DATA_INVITE,
     auth_cmds.parse_authorization_invite),
    ("auth_cmds.parse_request_authorization_entries", C.REQUEST_AUTHORIZATION_ENTRIES,
     auth_cmds.parse_request_authorization_entries),
    ("keypad_cmds.parse_add_keypad_code", C.ADD_KEYPAD_CODE, keypad_cmds.parse_add_keypad_code),
    ("keypad_cmds.parse_update_keypad_code", C.UPDATE_KEYPAD_CODE,
     keypad_cmds.parse_update_keypad_code),
    ("keypad_cmds.parse_remove_keypad_code", C.REMOVE_KEYPAD_CODE,
     keypad_cmds.parse_remove_keypad_code),
    ("keypad_cmds.parse_request_keypad_codes", C.REQUEST_KEYPAD_CODES,
     keypad_cmds.parse_request_keypad_codes),
    ("log_cmds.parse_request_log_entries", C.REQUEST_LOG_ENTRIES,
     log_cmds.parse_request_log_entries),
    ("log_cmds.parse_enable_logging", C.ENABLE_LOGGING, log_cmds.parse_enable_logging),
    ("time_control.parse_add_time_control_entry", C.ADD_TIME_CONTROL_ENTRY,
     tc.parse_add_time_control_entry),
    ("time_control.parse_update_time_control_entry", C.UPDATE_TIME_CONTROL_ENTRY,
     tc.parse_update_time_control_entry),
    ("time_control.parse_remove_time_control_entry", C.REMOVE_TIME_CONTROL_ENTRY,
     tc.parse_remove_time_control_entry),
    ("protected.parse_request_data", C.REQUEST_DATA, parse_request_data),
    ("pairing_msgs.AuthorizationAuthenticator.parse", C.AUTHORIZATION_AUTHENTICATOR,
     pm.AuthorizationAuthenticator.parse),
    ("pairing_msgs.AuthorizationData.parse", C.AUTHORIZATION_DATA, pm.AuthorizationData.parse),
    ("pairing_msgs.UltraAuthorizationData.parse", C.AUTHORIZATION_DATA,
     pm.UltraAuthorizationData.parse),
    ("pairing_msgs.AuthorizationIdConfirmation.parse", C.AUTHORIZATION_ID_CONFIRMATION,
     pm.AuthorizationIdConfirmation.parse),
    ("pairing_msgs.PublicKey.parse(client)", C.PUBLIC_KEY, pm.PublicKey.parse),
]  # fmt: skip

SUFFIX_CASES = [
    Case("protected.split_challenge", split_challenge, radio(max_size=80), RADIO),
    Case("protected.split_challenge_pin", lambda p: split_challenge_pin(p[0], p[1]),
         st.tuples(radio(max_size=80), widths), RADIO),
    Case("protected.unprotect", lambda p: unprotect(*p),
         st.tuples(commands, radio(max_size=80), widths), RADIO),
]  # fmt: skip
CASES = [Case(name, fn, payload(command), RADIO) for name, command, fn in CLIENT_PARSERS]


@pytest.mark.parametrize("case", params(CASES + SUFFIX_CASES))
def test_lock_side_parser_raises_only_typed_errors(case: Case) -> None:
    """Each parser of a client message returns its fields or raises a LockError."""
    run_case(case)
