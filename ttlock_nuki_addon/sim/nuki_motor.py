"""Virtual Nuki motor: lock actions, lock'n'go, unlatch, auto lock and the log (spec §4.1 D)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

from ..nuki.codec import Command, ErrorCode, StatusCode
from ..nuki.commands import (
    CompletionStatus,
    LockAction,
    LockState,
    Trigger,
    parse_lock_action,
    parse_simple_lock_action,
)
from ..nuki.config_cmds import FobAction
from ..nuki.log_cmds import KeypadActionData, LockActionData, LogEntryType
from ..nuki.states import DoorSensorState

if TYPE_CHECKING:
    from .nuki_core import NukiCore
    from .nuki_io import Handler, Request

A, S = LockAction, LockState
# spec §4.3: what the bolt shows while the motor runs and once it is done.
PLANS: Mapping[int, tuple[LockState, LockState]] = {
    A.UNLOCK: (S.UNLOCKING, S.UNLOCKED),
    A.LOCK: (S.LOCKING, S.LOCKED),
    A.FULL_LOCK: (S.LOCKING, S.LOCKED),
    A.UNLATCH: (S.UNLATCHING, S.UNLATCHED),
    A.LOCK_N_GO: (S.UNLOCKING, S.UNLOCKED_LOCK_N_GO),
    A.LOCK_N_GO_UNLATCH: (S.UNLATCHING, S.UNLATCHED),
}
OPEN_STATES = frozenset({S.UNLOCKED, S.UNLOCKED_LOCK_N_GO, S.UNLATCHED})
_FOB = {
    FobAction.UNLOCK: A.UNLOCK,
    FobAction.LOCK: A.LOCK,
    FobAction.LOCK_N_GO: A.LOCK_N_GO,
}
_FOLLOW_UPS = ("lock_n_go", "unlatch", "auto_lock", "relock_retry")
_NAME_BYTES = 32  # spec §4.7: log entry names


@dataclass(frozen=True, slots=True)
class Origin:
    """Who started a movement, how it is logged, and where replies go (if anywhere)."""

    trigger: int
    name: str = ""
    auth_id: int = 0
    flags: int = 0
    keypad: tuple[int, int] | None = None  # (source, code id): logged as type 0x05
    request: Request | None = None


@dataclass(frozen=True, slots=True)
class Motion:
    """The motor is running towards `final`."""

    action: int
    origin: Origin
    final: LockState
    jam: bool


def intelligent(core: NukiCore) -> LockAction:
    """Lock when open, unlock otherwise (button and keypad 'intelligent')."""
    return A.LOCK if core.lock_state in OPEN_STATES else A.UNLOCK


def resolve(core: NukiCore, action: int) -> int | None:
    """Fob actions 0x81-0x83 as configured (spec §4.4 offsets 60-62); None = do nothing."""
    config = core.settings.config
    fobs: dict[int, int] = {
        A.FOB_ACTION_1: config.fob_action_1,
        A.FOB_ACTION_2: config.fob_action_2,
        A.FOB_ACTION_3: config.fob_action_3,
    }
    fob = fobs.get(action)
    if fob is None:
        return action
    if fob == FobAction.INTELLIGENT:
        return intelligent(core)
    return _FOB.get(FobAction(fob)) if fob in set(FobAction) else None


def _no_movement(core: NukiCore, action: int) -> bool:
    if action == A.UNLOCK:
        return core.lock_state in OPEN_STATES
    return action in (A.LOCK, A.FULL_LOCK) and core.lock_state == S.LOCKED


def start(core: NukiCore, action: int, origin: Origin) -> ErrorCode | None:
    """Begin `action`; None when accepted or already done, else the error to answer."""
    if core.motion is not None:
        return ErrorCode.K_ERROR_BUSY
    plan = PLANS.get(action)
    if plan is None:
        return ErrorCode.K_ERROR_BAD_PARAMETER
    request = origin.request
    if _no_movement(core, action):
        # spec §4.1: nothing to move, so COMPLETE without ACCEPTED.
        record(core, action, origin, CompletionStatus.SUCCESS)
        if request is not None:
            core.status(request, StatusCode.COMPLETE)
        return None
    jam = core.knobs.jam > 0
    core.knobs.jam -= int(jam)
    cancel_follow_ups(core)
    core.motion = Motion(action, origin, plan[1], jam)
    core.lock_state, core.trigger = plan[0], origin.trigger
    core.note(f"motor: {A(action).name.lower()} ({Trigger(origin.trigger).name.lower()})")
    if request is not None:
        core.status(request, StatusCode.ACCEPTED)
        core.send_states(request.auth, request.link)
    core.state_changed()
    core.timers.start("motor", core.motor_ms / 1000, lambda: _finish(core))
    return None


def _finish(core: NukiCore) -> None:
    motion = core.motion
    if not isinstance(motion, Motion):
        return
    core.motion = None
    request = motion.origin.request
    if motion.jam:
        core.lock_state = S.MOTOR_BLOCKED
        record(core, motion.action, motion.origin, CompletionStatus.MOTOR_BLOCKED)
        core.note("motor blocked")
        if request is not None:
            core.send_states(request.auth, request.link)
            core.error(request, ErrorCode.K_ERROR_MOTOR_BLOCKED)
        core.state_changed()
        return
    core.lock_state = motion.final
    record(core, motion.action, motion.origin, CompletionStatus.SUCCESS)
    if request is not None:
        core.send_states(request.auth, request.link)
        core.status(request, StatusCode.COMPLETE)
    core.state_changed()
    _follow_up(core, motion)


def _follow_up(core: NukiCore, motion: Motion) -> None:
    """Timers after a movement: lock'n'go relock, unlatch end, auto lock (spec §4.5)."""
    advanced = core.settings.advanced
    lock_n_go = motion.action in (A.LOCK_N_GO, A.LOCK_N_GO_UNLATCH)
    if lock_n_go:
        seconds = advanced.lock_n_go_timeout
        core.lock_n_go_until = core.lock_time() + timedelta(seconds=seconds)
        core.timers.start("lock_n_go", seconds, lambda: relock(core, "lock'n'go"))
    if motion.final == S.UNLATCHED:
        seconds = advanced.unlatch_duration
        core.timers.start("unlatch", seconds, lambda: _unlatch_over(core, lock_n_go))
    elif not lock_n_go:
        arm_auto_lock(core)


def _unlatch_over(core: NukiCore, lock_n_go: bool) -> None:
    if core.lock_state != S.UNLATCHED:
        return
    core.lock_state = S.UNLOCKED_LOCK_N_GO if lock_n_go else S.UNLOCKED
    core.state_changed()
    if not lock_n_go:
        arm_auto_lock(core)


def cancel_follow_ups(core: NukiCore) -> None:
    """A new movement or a hand on the knob ends pending relocks."""
    for name in _FOLLOW_UPS:
        core.timers.cancel(name)
    core.lock_n_go_until = None


def arm_auto_lock(core: NukiCore) -> None:
    """(Re)start auto lock while the bolt is open and auto lock is on (spec §4.5)."""
    seconds = core.settings.auto_lock_seconds
    if seconds and core.lock_state in OPEN_STATES:
        core.timers.start("auto_lock", seconds, lambda: _auto_lock(core))
    else:
        core.timers.cancel("auto_lock")


def _auto_lock(core: NukiCore) -> None:
    if core.door == DoorSensorState.DOOR_OPENED:
        core.note("auto lock waits for the door to close")
        return
    relock(core, "auto lock")


def relock(core: NukiCore, why: str) -> None:
    """Lock after lock'n'go or auto lock; retried while the motor is busy."""
    core.lock_n_go_until = None
    if core.lock_state not in OPEN_STATES:
        return
    if core.motion is not None:
        core.timers.start("relock_retry", 1.0, lambda: relock(core, why))
        return
    start(core, A.LOCK, Origin(Trigger.AUTO_LOCK, name=why.title()))


def record(core: NukiCore, action: int, origin: Origin, completion: int) -> None:
    """Remember the last action (spec §4.3 offsets 15-17) and log it (spec §4.7)."""
    core.last_action, core.last_trigger, core.last_completion = action, origin.trigger, completion
    log = core.memory.log
    when = core.lock_time()
    if origin.keypad is not None:
        source, code_id = origin.keypad
        data = KeypadActionData(action, source, completion, code_id)
        log.add(when, origin.auth_id, origin.name, LogEntryType.KEYPAD_ACTION, data)
    else:
        lock_data = LockActionData(action, origin.trigger, origin.flags, completion)
        log.add(when, origin.auth_id, origin.name, LogEntryType.LOCK_ACTION, lock_data)
    auth = core.memory.authorizations.get(origin.auth_id) if origin.auth_id else None
    if auth is not None and completion == CompletionStatus.SUCCESS:
        auth.lock_count = min(auth.lock_count + 1, 0xFFFF)


def log_name(name: str, suffix: str | None) -> str:
    """The authorization's name with the Lock Action's suffix, cut to 32 bytes (spec §4.10)."""
    raw = (name + (suffix or "")).encode()[:_NAME_BYTES]
    return raw.decode("utf-8", errors="ignore")


# --- commands ----------------------------------------------------------------------------


def operate(
    core: NukiCore,
    request: Request,
    action: int | None,
    origin: Origin,
) -> None:
    """Run a commanded action: time limit, busy knob, then the motor (spec §4.1 D)."""
    limit = request.auth.time_limit
    if limit is not None and not limit.allows(core.local_time()):
        core.error(request, ErrorCode.K_ERROR_TIME_NOT_ALLOWED)
        return
    if core.knobs.busy > 0:
        core.knobs.busy -= 1
        core.error(request, ErrorCode.K_ERROR_BUSY)
        return
    if action is None:  # a fob action configured as "none"
        core.status(request, StatusCode.COMPLETE)
        return
    failure = start(core, action, origin)
    if failure is not None:
        core.error(request, failure)


def lock_action(core: NukiCore, request: Request) -> None:
    """Lock Action (0x000D): any Smart Lock action, fob actions as configured (spec §4.10)."""
    parsed = parse_lock_action(request.fields)
    auth = request.auth
    name = log_name(auth.name, parsed.name_suffix)
    origin = Origin(Trigger.SYSTEM, name, auth.auth_id, parsed.flags, request=request)
    operate(core, request, resolve(core, parsed.action), origin)


def simple_lock_action(core: NukiCore, request: Request) -> None:
    """Simple Lock Action (0x0100): unlock or lock only (spec §4.2)."""
    action = parse_simple_lock_action(request.fields)
    if action not in (A.UNLOCK, A.LOCK):
        core.error(request, ErrorCode.K_ERROR_BAD_PARAMETER)
        return
    auth = request.auth
    origin = Origin(Trigger.SYSTEM, auth.name, auth.auth_id, request=request)
    operate(core, request, action, origin)


HANDLERS: Mapping[int, Handler] = {
    Command.LOCK_ACTION: lock_action,
    Command.SIMPLE_LOCK_ACTION: simple_lock_action,
}
