"""Virtual Nuki's physical world: button, keypad, knob, door, battery and control actions."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..nuki.advanced_config import ButtonPressAction
from ..nuki.codec import ErrorCode
from ..nuki.commands import KeypadSource, LockAction, LockState, Trigger
from ..nuki.log_cmds import DoorSensorData, DoorSensorEvent, LogEntryType
from ..nuki.states import CompletionStatus, DoorSensorState
from . import nuki_keypad, nuki_motor
from .nuki_motor import Origin
from .peripheral import ActionError

if TYPE_CHECKING:
    from .nuki_core import NukiCore

PAIRING_PRESS = 5.0  # seconds held to enter pairing mode (spec §1.5, S1 example)
_BUTTON = {
    ButtonPressAction.UNLOCK: LockAction.UNLOCK,
    ButtonPressAction.LOCK: LockAction.LOCK,
    ButtonPressAction.UNLATCH: LockAction.UNLATCH,
    ButtonPressAction.LOCK_N_GO: LockAction.LOCK_N_GO,
}
_OUTCOME_OF_ERROR = {ErrorCode.K_ERROR_BUSY: "busy"}


def _result(core: NukiCore, outcome: str) -> dict[str, Any]:
    return {"outcome": outcome, "lock_state": LockState(core.lock_state).name.lower()}


def _started(core: NukiCore, failure: ErrorCode | None) -> dict[str, Any]:
    if failure is not None:
        return _result(core, _OUTCOME_OF_ERROR.get(failure, "refused"))
    return _result(core, "moving" if core.motion is not None else "done")


def press_button(core: NukiCore, seconds: float) -> dict[str, Any]:
    """Press the button: held 5 s or more = pairing mode; shorter = the single press action."""
    config = core.settings.config
    core.note(f"button pressed for {seconds:g} s")
    if not config.button_enabled:
        return _result(core, "button_disabled")
    if seconds >= PAIRING_PRESS:
        if not config.pairing_enabled:
            core.note("pairing is switched off in the config")
            return _result(core, "pairing_disabled")
        core.start_pairing_mode()
        return {**_result(core, "pairing_mode"), "pairing_seconds": core.pairing_seconds}
    choice = core.settings.advanced.single_button_press_action
    if choice == ButtonPressAction.INTELLIGENT:
        action: int | None = nuki_motor.intelligent(core)
    else:
        action = _BUTTON.get(choice)  # type: ignore[call-overload]
    if action is None:  # none or show status
        return _result(core, "no_action")
    origin = Origin(Trigger.BUTTON, "Button")
    return _started(core, nuki_motor.start(core, action, origin))


def enter_code(core: NukiCore, code: str) -> dict[str, Any]:
    """Type a code on the keypad: a valid code allowed now unlocks; others count to a lockout."""
    core.note("keypad code entered")
    number = int(code) if code.isdigit() and len(code) <= 9 else -1
    found = nuki_keypad.check_code(core, number)
    if isinstance(found, ErrorCode):
        nuki_keypad.log_refused(core, LockAction.UNLOCK, KeypadSource.CODE, 0)
        return {**_result(core, "rejected"), "error": found.name}
    origin = Origin(Trigger.SYSTEM, found.name, keypad=(KeypadSource.CODE, found.code_id))
    return {
        **_started(core, nuki_motor.start(core, LockAction.UNLOCK, origin)),
        "code_id": found.code_id,
    }


def turn_knob(core: NukiCore) -> dict[str, Any]:
    """Turn the thumbturn by hand: locked -> unlocked, anything else -> locked (no motor)."""
    if core.motion is not None:
        return _result(core, "busy")
    unlock = core.lock_state not in nuki_motor.OPEN_STATES
    action = LockAction.UNLOCK if unlock else LockAction.LOCK
    nuki_motor.cancel_follow_ups(core)
    core.lock_state = LockState.UNLOCKED if unlock else LockState.LOCKED
    core.trigger = Trigger.MANUAL
    nuki_motor.record(core, action, Origin(Trigger.MANUAL, "Manual"), CompletionStatus.SUCCESS)
    core.note(f"knob turned: {LockState(core.lock_state).name.lower()}")
    core.state_changed()
    nuki_motor.arm_auto_lock(core)
    return _result(core, "unlocked" if unlock else "locked")


def set_door(core: NukiCore, opened: bool) -> dict[str, Any]:
    """Open or close the door: the sensor reports it and logs type 0x06 (spec §4.7)."""
    wanted = DoorSensorState.DOOR_OPENED if opened else DoorSensorState.DOOR_CLOSED
    if core.door == wanted:
        return {**_result(core, "unchanged"), "door": wanted.name.lower()}
    core.door = wanted
    event = DoorSensorEvent.OPENED if opened else DoorSensorEvent.CLOSED
    data = DoorSensorData(event)
    core.memory.log.add(core.lock_time(), 0, "Door Sensor", LogEntryType.DOOR_SENSOR, data)
    core.note(f"door {'opened' if opened else 'closed'}")
    core.state_changed()
    if not opened and core.lock_state in nuki_motor.OPEN_STATES:
        if core.settings.advanced.immediate_auto_lock_enabled and core.settings.auto_lock_seconds:
            nuki_motor.relock(core, "auto lock")
        else:
            nuki_motor.arm_auto_lock(core)
    return {**_result(core, "opened" if opened else "closed"), "door": wanted.name.lower()}


def set_battery(core: NukiCore, percent: int) -> dict[str, Any]:
    """Change the charge level (critical below 20 %)."""
    core.battery = percent
    core.note(f"battery at {percent} %")
    core.state_changed()
    return {"battery": percent}


# --- control API (sim/control.py) ------------------------------------------------------------

Action = Callable[[dict[str, Any]], dict[str, Any]]
_CODE = re.compile(r"[0-9]{1,9}")


def _required(params: dict[str, Any], name: str) -> object:
    if name not in params:
        raise ActionError(f"'{name}' is required")
    return params[name]


def _int(params: dict[str, Any], name: str, low: int, high: int, default: int | None) -> int:
    value = params.get(name, default) if default is not None else _required(params, name)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ActionError(f"'{name}' must be an integer from {low} to {high}")
    return value


def _seconds(params: dict[str, Any]) -> float:
    value = params.get("seconds", 1)
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 60:
        raise ActionError("'seconds' must be a number from 0 to 60")
    return float(value)


def _code(params: dict[str, Any]) -> str:
    code = _required(params, "code")
    if isinstance(code, int) and not isinstance(code, bool) and code >= 0:
        code = str(code)
    if not isinstance(code, str) or not _CODE.fullmatch(code):
        raise ActionError("'code' must be 1 to 9 digits")
    return code


def control_actions(core: NukiCore) -> dict[str, Action]:
    """press_button, enter_pin, turn_knob, doors, battery and the Nuki fault knobs."""

    def knob(name: str) -> Action:
        def set_knob(params: dict[str, Any]) -> dict[str, Any]:
            setattr(core.knobs, name, _int(params, "count", 0, 1000, 1))
            core.note(f"fault knob {name} = {getattr(core.knobs, name)}")
            return {name: getattr(core.knobs, name)}

        return set_knob

    return {
        "press_button": lambda p: press_button(core, _seconds(p)),
        "enter_pin": lambda p: enter_code(core, _code(p)),
        "turn_knob": lambda p: turn_knob(core),
        "open_door": lambda p: set_door(core, opened=True),
        "close_door": lambda p: set_door(core, opened=False),
        "battery": lambda p: set_battery(core, _int(p, "percent", 0, 100, None)),
        "busy": knob("busy"),
        "stale_challenge": knob("stale_challenge"),
        "jam": knob("jam"),
    }
