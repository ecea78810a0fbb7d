"""The virtual Nuki's access control: keypad codes, authorizations, beacon bit, physical world."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, time, timedelta

from nuki_sim_support import NOW, PairingClient, Rig, error_of, status_of

from ttlock_nuki_addon.nuki.auth_cmds import (
    build_remove_authorization_entry,
    build_request_authorization_entries,
    build_update_authorization_entry,
    parse_authorization_entry,
    parse_authorization_entry_count,
)
from ttlock_nuki_addon.nuki.codec import Command, ErrorCode, StatusCode, encode_plain
from ttlock_nuki_addon.nuki.commands import (
    KeypadActionKind,
    KeypadSource,
    LockAction,
    LockState,
    build_keypad_action,
    build_lock_action,
    build_status,
    parse_keyturner_states,
    request_data,
)
from ttlock_nuki_addon.nuki.keypad_cmds import (
    build_add_keypad_code,
    build_remove_keypad_code,
    build_request_keypad_codes,
    build_update_keypad_code,
    parse_keypad_code_count,
    parse_keypad_code_entry,
    parse_keypad_code_id,
)
from ttlock_nuki_addon.nuki.log_cmds import (
    DoorSensorData,
    DoorSensorEvent,
    KeypadActionData,
    LockActionData,
    LogEntryType,
)
from ttlock_nuki_addon.nuki.pairing_msgs import IdType
from ttlock_nuki_addon.nuki.states import CompletionStatus, DoorSensorState, Trigger
from ttlock_nuki_addon.nuki.time_limits import TimeLimit
from ttlock_nuki_addon.sim import nuki_physical
from ttlock_nuki_addon.sim.nuki_io import Send

C = Command


def new_state(rig: Rig) -> bool:
    return rig.core.new_state


def last_log(rig: Rig) -> object:
    return rig.core.memory.log.entries[-1].data


F1 = encode_plain(Command.STATUS, build_status(StatusCode.STATE_CHANGED))  # spec §1.4


def add_code(rig: Rig, code: int, name: str, limit: TimeLimit | None = None) -> int:
    (reply,) = rig.call(C.ADD_KEYPAD_CODE, build_add_keypad_code(code, name, limit))
    assert reply.command == C.KEYPAD_CODE_ID, reply
    return parse_keypad_code_id(reply.payload).code_id


def test_keypad_codes_are_added_listed_updated_and_removed() -> None:
    rig = Rig("nuki-4")
    rig.pair()
    office = TimeLimit(from_time=time(8), until_time=time(18))
    first = add_code(rig, 345678, "Cleaner", office)
    second = add_code(rig, 456789, "Neighbour")
    assert first != second
    (duplicate,) = rig.call(C.ADD_KEYPAD_CODE, build_add_keypad_code(345678, "Again"))
    assert error_of(duplicate) == (ErrorCode.K_ERROR_CODE_ALREADY_EXISTS, C.ADD_KEYPAD_CODE)
    bad = (123457).to_bytes(4, "little") + b"Bad".ljust(20, b"\0") + bytes(20)  # starts with 12
    assert error_of(rig.call(C.ADD_KEYPAD_CODE, bad)[0])[0] == ErrorCode.K_ERROR_CODE_INVALID
    rig.core.memory.max_keypad_codes = 2
    (full,) = rig.call(C.ADD_KEYPAD_CODE, build_add_keypad_code(567891, "Third"))
    assert error_of(full)[0] == ErrorCode.K_ERROR_TOO_MANY_ENTRIES
    count, entry, done = rig.call(C.REQUEST_KEYPAD_CODES, build_request_keypad_codes(1, 5))
    assert parse_keypad_code_count(count.payload) == 2 and status_of(done) == 0
    listed = parse_keypad_code_entry(entry.payload)
    assert (listed.code_id, listed.code, listed.name) == (second, 456789, "Neighbour")
    update = build_update_keypad_code(second, 345678, "Neighbour")
    assert error_of(rig.call(C.UPDATE_KEYPAD_CODE, update)[0])[0] == (
        ErrorCode.K_ERROR_CODE_ALREADY_EXISTS
    )
    update = build_update_keypad_code(second, 678912, "Friend", enabled=False)
    assert status_of(rig.call(C.UPDATE_KEYPAD_CODE, update)[0]) == 0
    assert nuki_physical.enter_code(rig.core, "678912")["outcome"] == "rejected"  # disabled
    assert status_of(rig.call(C.REMOVE_KEYPAD_CODE, build_remove_keypad_code(second))[0]) == 0
    (gone,) = rig.call(C.REMOVE_KEYPAD_CODE, build_remove_keypad_code(second))
    assert error_of(gone)[0] == ErrorCode.K_ERROR_BAD_PARAMETER
    # The cleaner's code works inside its window only (NOW is 07:08 UTC = 08:08 lock-local).
    assert nuki_physical.enter_code(rig.core, "345678")["outcome"] == "moving"
    rig.core.take_output()
    rig.timers.fire("motor")
    assert rig.core.lock_state == LockState.UNLOCKED
    entry_log = rig.core.memory.log.entries[-1]
    assert entry_log.type == LogEntryType.KEYPAD_ACTION
    assert entry_log.data == KeypadActionData(LockAction.UNLOCK, KeypadSource.CODE, 0, first)
    rig.clock.advance(10 * 3600)
    result = nuki_physical.enter_code(rig.core, "345678")
    assert (result["outcome"], result["error"]) == ("rejected", "K_ERROR_TIME_NOT_ALLOWED")


def test_wrong_codes_block_the_keypad_longer_each_time() -> None:
    rig = Rig("nuki-2")
    rig.pair()
    add_code(rig, 345678, "Family")
    for _ in range(3):
        assert nuki_physical.enter_code(rig.core, "999999")["error"] == "K_ERROR_CODE_INVALID"
    assert rig.core.memory.log.entries[-1].data == KeypadActionData(
        LockAction.UNLOCK, KeypadSource.CODE, CompletionStatus.INVALID_CODE, 0
    )
    blocked = nuki_physical.enter_code(rig.core, "345678")
    assert blocked["error"] == "K_ERROR_CODE_INVALID_TIMEOUT_1"
    rig.clock.advance(31)
    for _ in range(3):
        nuki_physical.enter_code(rig.core, "999999")
    code = build_keypad_action(KeypadSource.CODE, 345678, KeypadActionKind.UNLOCK)
    (error,) = rig.call(C.KEYPAD_ACTION, code)
    assert error_of(error) == (ErrorCode.K_ERROR_CODE_INVALID_TIMEOUT_2, C.KEYPAD_ACTION)
    rig.clock.advance(121)
    accepted, _moving = rig.call(C.KEYPAD_ACTION, code)
    assert status_of(accepted) == StatusCode.ACCEPTED


def test_authorizations_list_own_first_update_and_remove() -> None:
    rig = Rig("nuki-4")
    app = rig.pair(PairingClient(id_type=IdType.APP, app_id=1, name="Phone"))
    bridge = rig.pair(PairingClient(id_type=IdType.BRIDGE, app_id=2, name="Bridge"))
    replies = rig.call(C.REQUEST_AUTHORIZATION_ENTRIES, build_request_authorization_entries())
    assert parse_authorization_entry_count(replies[0].payload) == 2
    assert status_of(replies[-1]) == StatusCode.COMPLETE
    entries = [parse_authorization_entry(m.payload) for m in replies[1:-1]]
    assert [(e.auth_id, e.name, e.id_type) for e in entries] == [
        (bridge.auth_id, "Bridge", IdType.BRIDGE),
        (app.auth_id, "Phone", IdType.APP),
    ]
    disable = build_update_authorization_entry(app.auth_id, "Old phone", enabled=False)
    assert status_of(rig.call(C.UPDATE_AUTHORIZATION_ENTRY, disable)[0]) == 0
    (refused,) = rig.send(C.REQUEST_DATA, request_data(C.KEYTURNER_STATES), app)
    assert error_of(refused) == (ErrorCode.K_ERROR_DISABLED, C.REQUEST_DATA)
    limited = build_update_authorization_entry(
        app.auth_id, "Guest", time_limit=TimeLimit(allowed_until=NOW - timedelta(days=1))
    )
    assert status_of(rig.call(C.UPDATE_AUTHORIZATION_ENTRY, limited)[0]) == 0
    (late,) = rig.call(C.LOCK_ACTION, build_lock_action(LockAction.UNLOCK, 1), app)
    assert error_of(late) == (ErrorCode.K_ERROR_TIME_NOT_ALLOWED, C.LOCK_ACTION)
    remove = build_remove_authorization_entry(app.auth_id)
    assert status_of(rig.call(C.REMOVE_AUTHORIZATION_ENTRY, remove)[0]) == 0
    (missing,) = rig.call(C.REMOVE_AUTHORIZATION_ENTRY, remove)
    assert error_of(missing) == (ErrorCode.K_ERROR_INVALID_AUTH_ID, C.REMOVE_AUTHORIZATION_ENTRY)
    out = rig.usdio(app.wire(C.REQUEST_DATA, request_data(C.KEYTURNER_STATES)))
    (report,) = rig.plain(out, rig.layout.keyturner_gdio)
    assert error_of(report) == (ErrorCode.K_ERROR_NOT_AUTHORIZED, 0)


def test_only_a_bridge_clears_the_new_state_bit_and_hears_0xf1() -> None:
    rig = Rig("nuki-4")
    app = rig.pair(PairingClient(id_type=IdType.APP, app_id=1))
    bridge = rig.pair(PairingClient(id_type=IdType.BRIDGE, app_id=2))
    assert not new_state(rig)
    out = rig.usdio(app.wire(C.REQUEST_DATA, request_data(C.CHALLENGE)))
    nonce = rig.messages(out, app)[0].payload
    lock = app.protected(C.LOCK_ACTION, build_lock_action(LockAction.UNLOCK, 1), nonce)
    out = rig.usdio(app.wire(C.LOCK_ACTION, lock))
    assert new_state(rig)
    assert not rig.plain(out, rig.layout.keyturner_gdio)  # apps get no 0xF1
    rig.timers.fire("motor")
    rig.core.take_output()
    rig.states(app)
    assert new_state(rig)  # spec §1.5: an app reading the states leaves it set
    rig.states(bridge)
    assert not new_state(rig)
    nuki_physical.turn_knob(rig.core)  # the bridge's link is the current one now
    assert new_state(rig)
    assert Send(rig.layout.keyturner_gdio, F1) in rig.core.take_output()


def test_button_knob_and_door_are_logged_state_changes() -> None:
    rig = Rig("nuki-2")
    core = rig.core
    core.settings = core.settings.with_config(replace(core.settings.config, pairing_enabled=False))
    assert nuki_physical.press_button(core, 6)["outcome"] == "pairing_disabled"
    assert not core.pairing_mode
    assert nuki_physical.press_button(core, 1)["outcome"] == "moving"  # intelligent: unlock
    rig.timers.fire("motor")
    assert core.lock_state == LockState.UNLOCKED and core.trigger == Trigger.BUTTON
    assert nuki_physical.turn_knob(core)["outcome"] == "locked"
    assert core.memory.log.entries[-1].data == LockActionData(LockAction.LOCK, Trigger.MANUAL, 0, 0)
    assert nuki_physical.set_door(core, opened=True)["door"] == "door_opened"
    assert last_log(rig) == DoorSensorData(DoorSensorEvent.OPENED)
    nuki_physical.set_door(core, opened=False)
    assert core.door == DoorSensorState.DOOR_CLOSED
    rig.pair(PairingClient())  # pairing mode from the API still works
    assert parse_keyturner_states(rig.states()).door_sensor_state == DoorSensorState.DOOR_CLOSED
    assert rig.core.pairing_seconds == 300.0
    assert datetime(2000, 1, 1) < core.lock_time()
