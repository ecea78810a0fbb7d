"""The virtual Nuki's keyturner commands (spec §4), driven without a radio by a paired client."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

import pytest
from nuki_sim_support import Rig, error_of, status_of

from ttlock_nuki_addon.nuki.advanced_config import parse_advanced_config
from ttlock_nuki_addon.nuki.codec import Command, ErrorCode, StatusCode
from ttlock_nuki_addon.nuki.commands import (
    LockAction,
    LockState,
    build_lock_action,
    build_simple_lock_action,
    parse_battery_report,
    parse_keyturner_states,
    request_data,
)
from ttlock_nuki_addon.nuki.config_cmds import (
    build_set_security_pin,
    build_update_time,
    parse_config,
)
from ttlock_nuki_addon.nuki.log_cmds import (
    LockActionData,
    LogEntryType,
    SortOrder,
    build_request_log_entries,
    parse_log_entry,
)
from ttlock_nuki_addon.nuki.states import Trigger
from ttlock_nuki_addon.sim import nuki_physical

C = Command
UNLOCK = build_lock_action(LockAction.UNLOCK, 0)


def lock_state(rig: Rig) -> int:
    return parse_keyturner_states(rig.states()).lock_state


@pytest.mark.parametrize(
    ("kind", "states", "config", "advanced"),
    [
        ("nuki-1", 19, 71, 28),
        ("nuki-2", 21, 74, 31),
        ("nuki-4", 27, 75, 31),
        ("nuki-5", 27, 78, 33),
    ],
)
def test_message_lengths_follow_the_variant(
    kind: str, states: int, config: int, advanced: int
) -> None:
    rig = Rig(kind)
    rig.pair()
    assert len(rig.states()) == states
    (reply,) = rig.call(C.REQUEST_CONFIG)
    assert reply.command == C.CONFIG and len(reply.payload) == config
    parsed = parse_config(reply.payload)
    assert parsed.nuki_id == rig.core.nuki_id and parsed.firmware_version[0] == int(kind[-1])
    (reply,) = rig.call(C.REQUEST_ADVANCED_CONFIG)
    assert len(reply.payload) == advanced
    # Set Advanced Config must carry exactly this firmware's fields (spec §4.5).
    current = parse_advanced_config(reply.payload).to_new_advanced_config()
    (error,) = rig.call(C.SET_ADVANCED_CONFIG, current.to_payload() + b"\x00")
    assert error_of(error) == (ErrorCode.ERROR_BAD_LENGTH, C.SET_ADVANCED_CONFIG)
    (done,) = rig.call(C.SET_ADVANCED_CONFIG, current.to_payload())
    assert status_of(done) == StatusCode.COMPLETE


def test_challenges_are_single_use_and_only_the_last_counts() -> None:
    rig = Rig("nuki-2")
    keys = rig.pair()
    first = rig.challenge()
    second = rig.challenge()
    (stale,) = rig.send(C.LOCK_ACTION, keys.protected(C.LOCK_ACTION, UNLOCK, first))
    assert error_of(stale) == (ErrorCode.K_ERROR_BAD_NONCE, C.LOCK_ACTION)
    (reused,) = rig.send(C.LOCK_ACTION, keys.protected(C.LOCK_ACTION, UNLOCK, second))
    assert error_of(reused)[0] == ErrorCode.K_ERROR_BAD_NONCE  # consumed by the failed try
    rig.core.knobs.stale_challenge = 1
    (knob,) = rig.call(C.LOCK_ACTION, UNLOCK)
    assert error_of(knob)[0] == ErrorCode.K_ERROR_BAD_NONCE
    assert status_of(rig.call(C.LOCK_ACTION, UNLOCK)[0]) == StatusCode.ACCEPTED


@pytest.mark.parametrize("kind", ["nuki-4", "nuki-5"])
def test_wrong_pins_lock_out_for_a_while(kind: str) -> None:
    rig = Rig(kind)
    keys = rig.pair()
    right = keys.pin
    for _ in range(3):
        keys.pin = right + 1
        assert error_of(rig.call(C.VERIFY_SECURITY_PIN)[0])[0] == ErrorCode.K_ERROR_BAD_PIN
    keys.pin = right
    (locked,) = rig.call(C.VERIFY_SECURITY_PIN)
    assert error_of(locked) == (ErrorCode.K_ERROR_TOO_MANY_PIN_ATTEMPTS, C.VERIFY_SECURITY_PIN)
    rig.clock.advance(61)
    assert status_of(rig.call(C.VERIFY_SECURITY_PIN)[0]) == StatusCode.COMPLETE
    new_pin = 4321 if kind == "nuki-4" else 654321
    change = build_set_security_pin(new_pin, keys.pin_bytes)
    assert status_of(rig.call(C.SET_SECURITY_PIN, change)[0]) == StatusCode.COMPLETE
    assert error_of(rig.call(C.VERIFY_SECURITY_PIN)[0])[0] == ErrorCode.K_ERROR_BAD_PIN
    keys.pin = new_pin
    assert status_of(rig.call(C.VERIFY_SECURITY_PIN)[0]) == StatusCode.COMPLETE


def test_unlock_goes_accepted_states_complete_and_a_second_needs_no_motor() -> None:
    rig = Rig("nuki-4")
    rig.pair()
    accepted, moving = rig.call(C.LOCK_ACTION, UNLOCK)
    assert status_of(accepted) == StatusCode.ACCEPTED
    assert parse_keyturner_states(moving.payload).lock_state == LockState.UNLOCKING
    (busy,) = rig.call(C.LOCK_ACTION, build_lock_action(LockAction.LOCK, 0))
    assert error_of(busy) == (ErrorCode.K_ERROR_BUSY, C.LOCK_ACTION)
    assert rig.timers.delay("motor") == pytest.approx(0.005)
    final, complete = rig.fire("motor")
    assert parse_keyturner_states(final.payload).lock_state == LockState.UNLOCKED
    assert status_of(complete) == StatusCode.COMPLETE
    (only,) = rig.call(C.LOCK_ACTION, UNLOCK)  # spec §4.1: COMPLETE without ACCEPTED
    assert status_of(only) == StatusCode.COMPLETE
    entry = rig.core.memory.log.entries[-1]
    assert entry.type == LogEntryType.LOCK_ACTION
    assert entry.data == LockActionData(LockAction.UNLOCK, Trigger.SYSTEM, 0, 0)
    rig.core.knobs.busy = 1
    (knob,) = rig.call(C.LOCK_ACTION, build_lock_action(LockAction.LOCK, 0))
    assert error_of(knob)[0] == ErrorCode.K_ERROR_BUSY
    rig.core.knobs.jam = 1
    rig.call(C.LOCK_ACTION, build_lock_action(LockAction.LOCK, 0))
    blocked, error = rig.fire("motor")
    assert parse_keyturner_states(blocked.payload).lock_state == LockState.MOTOR_BLOCKED
    assert error_of(error) == (ErrorCode.K_ERROR_MOTOR_BLOCKED, C.LOCK_ACTION)


def test_lock_n_go_relocks_and_unlatch_falls_back_to_unlocked() -> None:
    rig = Rig("nuki-2")
    rig.pair()
    rig.call(C.LOCK_ACTION, build_lock_action(LockAction.LOCK_N_GO, 0))
    rig.fire("motor")
    states = parse_keyturner_states(rig.states())
    assert states.lock_state == LockState.UNLOCKED_LOCK_N_GO and states.lock_n_go_timer == 20
    assert rig.timers.delay("lock_n_go") == 20
    rig.timers.fire("lock_n_go")
    assert rig.core.lock_state == LockState.LOCKING
    rig.timers.fire("motor")
    assert lock_state(rig) == LockState.LOCKED
    rig.call(C.SIMPLE_LOCK_ACTION, build_simple_lock_action(LockAction.UNLOCK))
    rig.fire("motor")
    rig.call(C.LOCK_ACTION, build_lock_action(LockAction.UNLATCH, 0))
    rig.fire("motor")
    assert lock_state(rig) == LockState.UNLATCHED
    assert rig.timers.delay("unlatch") == 3
    rig.timers.fire("unlatch")
    assert lock_state(rig) == LockState.UNLOCKED


def test_auto_lock_and_the_config_count_follow_set_advanced_config() -> None:
    rig = Rig("nuki-4")
    rig.pair()
    count = parse_keyturner_states(rig.states()).config_update_count
    (reply,) = rig.call(C.REQUEST_ADVANCED_CONFIG)
    current = parse_advanced_config(reply.payload).to_new_advanced_config()
    on = replace(current, auto_lock_enabled=True, auto_lock_timeout=30)
    assert status_of(rig.call(C.SET_ADVANCED_CONFIG, on.to_payload())[0]) == 0
    assert parse_keyturner_states(rig.states()).config_update_count == (count or 0) + 1
    rig.call(C.LOCK_ACTION, UNLOCK)
    rig.fire("motor")
    assert rig.timers.delay("auto_lock") == 30
    rig.timers.fire("auto_lock")
    rig.timers.fire("motor")
    assert lock_state(rig) == LockState.LOCKED
    assert rig.core.memory.log.entries[-1].data == LockActionData(
        LockAction.LOCK, Trigger.AUTO_LOCK, 0, 0
    )


def test_set_config_time_and_battery() -> None:
    rig = Rig("nuki-1")
    rig.pair()
    (reply,) = rig.call(C.REQUEST_CONFIG)
    config = parse_config(reply.payload)
    assert config.timezone_id is None  # spec §4.4: old SL1 firmware ends at 71 bytes
    new = replace(config.to_new_config(), name="Front Door")
    assert status_of(rig.call(C.SET_CONFIG, new.to_payload())[0]) == 0
    assert parse_config(rig.call(C.REQUEST_CONFIG)[0].payload).name == "Front Door"
    longer = replace(new, timezone_id=37).to_payload()
    assert error_of(rig.call(C.SET_CONFIG, longer)[0])[0] == ErrorCode.ERROR_BAD_LENGTH
    bad = replace(new, led_brightness=9).to_payload()
    assert error_of(rig.call(C.SET_CONFIG, bad)[0])[0] == ErrorCode.K_ERROR_BAD_PARAMETER
    moment = datetime(2030, 1, 2, 3, 4, 5)
    assert status_of(rig.call(C.UPDATE_TIME, build_update_time(moment))[0]) == 0
    assert parse_keyturner_states(rig.states()).current_time == moment
    rig.core.battery = 50
    (report,) = rig.send(C.REQUEST_DATA, request_data(C.BATTERY_REPORT))
    assert parse_battery_report(report.payload).battery_voltage == 4400 + 50 * 16
    assert not parse_battery_report(report.payload).critical
    (unknown,) = rig.send(0x0777)
    assert error_of(unknown) == (ErrorCode.ERROR_UNKNOWN, 0x0777)


def test_log_entries_come_with_a_count_newest_first_then_complete() -> None:
    rig = Rig("nuki-4")
    rig.pair()
    rig.core.memory.log.entries.clear()
    rig.call(C.LOCK_ACTION, UNLOCK)
    rig.fire("motor")
    nuki_physical.turn_knob(rig.core)
    nuki_physical.set_door(rig.core, opened=True)
    replies = rig.call(C.REQUEST_LOG_ENTRIES, build_request_log_entries(0, 10))
    assert replies[0].command == C.LOG_ENTRY_COUNT and status_of(replies[-1]) == 0
    entries = [parse_log_entry(m.payload) for m in replies[1:-1]]
    assert [e.type for e in entries] == [
        LogEntryType.DOOR_SENSOR,
        LogEntryType.LOCK_ACTION,
        LogEntryType.LOCK_ACTION,
    ]
    assert entries[1].data == LockActionData(LockAction.LOCK, Trigger.MANUAL, 0, 0)
    first = entries[-1].index
    page = rig.call(
        C.REQUEST_LOG_ENTRIES, build_request_log_entries(first, 1, SortOrder.ASCENDING, False)
    )
    assert [parse_log_entry(m.payload).index for m in page[:-1]] == [first]
