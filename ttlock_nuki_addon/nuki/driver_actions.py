"""Nuki lock actions for the driver (spec §4.1 pattern D): send, follow, and recover safely.

A lock action is answered with Status ACCEPTED, Keyturner States while the motor runs, the
final Keyturner States and Status COMPLETE (or COMPLETE alone when nothing had to move). A
lost answer or a drop is never followed by a blind re-send: the states are read again and
decide (target reached: success; still moving: wait for the end; unchanged: lock and unlock
are sent once more, unlatch and lock'n'go raise an error saying the lock may not have acted).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum

from ..errors import CommandRejectedError, DisconnectedError, LockTimeoutError
from ..snapshot import DoorState, LockStatus
from . import commands as cmds
from .channels import completed
from .codec import Command, ErrorCode, Message
from .gatt import Family
from .session import NukiSession

_LOGGER = logging.getLogger(__name__)
L = cmds.LockState
O = cmds.OpenerState  # noqa: E741 - the spec's name for the Opener's states
POLL = 0.5  # seconds between Keyturner States reads while the motor still runs
States = cmds.KeyturnerStates | cmds.OpenerStates
StateListener = Callable[[States], None]


class Action(Enum):
    """What the driver asks the lock to do."""

    UNLOCK = "unlock"
    LOCK = "lock"
    UNLATCH = "unlatch"
    LOCK_N_GO = "lock_n_go"


@dataclass(frozen=True, slots=True)
class _Goal:
    code: int  # spec §4.10 (Smart Lock) / §4.12 (Opener) action code
    reached: frozenset[int]  # lock states that mean done
    moving: frozenset[int]  # lock states on the way there


_SMART: dict[Action, _Goal] = {
    Action.UNLOCK: _Goal(
        cmds.LockAction.UNLOCK,
        frozenset({L.UNLOCKED, L.UNLOCKED_LOCK_N_GO, L.UNLATCHED, L.UNLATCHING}),
        frozenset({L.UNLOCKING}),
    ),
    Action.LOCK: _Goal(cmds.LockAction.LOCK, frozenset({L.LOCKED}), frozenset({L.LOCKING})),
    Action.UNLATCH: _Goal(
        cmds.LockAction.UNLATCH, frozenset({L.UNLATCHED}), frozenset({L.UNLOCKING, L.UNLATCHING})
    ),
    Action.LOCK_N_GO: _Goal(
        cmds.LockAction.LOCK_N_GO, frozenset({L.UNLOCKED_LOCK_N_GO}), frozenset({L.UNLOCKING})
    ),
}
_OPENER: dict[Action, _Goal] = {
    Action.UNLOCK: _Goal(cmds.OpenerAction.ACTIVATE_RTO, frozenset({O.RTO_ACTIVE}), frozenset()),
    Action.LOCK: _Goal(cmds.OpenerAction.DEACTIVATE_RTO, frozenset({O.ONLINE}), frozenset()),
    Action.UNLATCH: _Goal(
        cmds.OpenerAction.ELECTRIC_STRIKE_ACTUATION, frozenset({O.OPEN}), frozenset({O.OPENING})
    ),
}
_SMART_STATUS: dict[int, LockStatus] = {
    L.LOCKED: LockStatus.LOCKED,
    L.UNLOCKING: LockStatus.UNLOCKING,
    L.UNLOCKED: LockStatus.UNLOCKED,
    L.LOCKING: LockStatus.LOCKING,
    L.UNLATCHED: LockStatus.OPEN,
    L.UNLOCKED_LOCK_N_GO: LockStatus.UNLOCKED,
    L.UNLATCHING: LockStatus.OPENING,
    L.MOTOR_BLOCKED: LockStatus.JAMMED,
}
_OPENER_STATUS: dict[int, LockStatus] = {
    O.ONLINE: LockStatus.LOCKED,
    O.RTO_ACTIVE: LockStatus.UNLOCKED,
    O.OPEN: LockStatus.OPEN,
    O.OPENING: LockStatus.OPENING,
}
_DOOR: dict[int, DoorState] = {
    cmds.DoorSensorState.DOOR_CLOSED: DoorState.CLOSED,
    cmds.DoorSensorState.DOOR_OPENED: DoorState.OPEN,
    cmds.DoorSensorState.TAMPERED: DoorState.TAMPERED,
}
_NO_SENSOR = frozenset({cmds.DoorSensorState.UNAVAILABLE, cmds.DoorSensorState.DEACTIVATED})
_FAILED: dict[
    int, ErrorCode
] = {  # spec §4.10 completion status -> the lock error it stands for (spec §4.11)
    cmds.CompletionStatus.MOTOR_BLOCKED: ErrorCode.K_ERROR_MOTOR_BLOCKED,
    cmds.CompletionStatus.CANCELED: ErrorCode.K_ERROR_CANCELED,
    cmds.CompletionStatus.CLUTCH_FAILURE: ErrorCode.K_ERROR_CLUTCH_FAILURE,
    cmds.CompletionStatus.LOW_MOTOR_VOLTAGE: ErrorCode.K_ERROR_MOTOR_LOW_VOLTAGE,
    cmds.CompletionStatus.MOTOR_POWER_FAILURE: ErrorCode.K_ERROR_MOTOR_POWER_FAILURE,
}


def parse_states(family: Family, payload: bytes) -> States:
    """Keyturner States in the family's layout (spec §4.3, §4.12)."""
    if family is Family.OPENER:
        return cmds.parse_opener_states(payload)
    return cmds.parse_keyturner_states(payload)


def status_of(family: Family, states: States) -> LockStatus:
    """The brand-neutral bolt state of Keyturner States."""
    table = _OPENER_STATUS if family is Family.OPENER else _SMART_STATUS
    return table.get(states.lock_state, LockStatus.UNKNOWN)


def door_of(states: States) -> DoorState | None:
    """The door sensor reading; None when there is no active sensor (spec §4.3 offset 18)."""
    value = states.door_sensor_state
    if value is None or value in _NO_SENSOR:
        return None
    return _DOOR.get(value, DoorState.UNKNOWN)


def battery_of(states: States) -> tuple[int | None, bool]:
    """(percent or None, low) from the battery byte; the Opener has only the critical bit."""
    if isinstance(states, cmds.OpenerStates):
        return None, states.battery_critical
    percent = states.battery_percent
    return (percent if 0 < percent <= 100 else None), states.battery_critical


def _did(goal: _Goal, states: States, before: States | None) -> bool:
    """Whether the states' last action (spec §4.3 offsets 15-17) is this one, newly done:
    an unlatch that is already over shows unlocked again, but its record says it ran."""
    if before is None or states.last_lock_action is None:
        return False
    if states.last_lock_action_completion_status != cmds.CompletionStatus.SUCCESS:
        return False
    return states.last_lock_action == goal.code != before.last_lock_action


def goals(family: Family) -> dict[Action, _Goal]:
    """The actions a family supports."""
    return _OPENER if family is Family.OPENER else _SMART


class ActionRunner:
    """Runs lock actions on a session, reporting every Keyturner States on the way."""

    def __init__(
        self, session: NukiSession, family: Family, app_id: int, on_states: StateListener
    ) -> None:
        self._session, self._family, self._app_id = session, family, app_id
        self._on_states = on_states
        self._last: States | None = None  # the latest states seen, to tell what an action did

    def _report(self, states: States) -> States:
        self._last = states
        self._on_states(states)
        return states

    def parse(self, payload: bytes) -> States:
        """Keyturner States of this lock's family."""
        return parse_states(self._family, payload)

    def _seen(self, message: Message) -> None:
        if message.command == Command.KEYTURNER_STATES:
            self._report(parse_states(self._family, message.payload))

    async def read_states(self) -> States:
        """Request Data: Keyturner States (spec §4.1 A), reported like any other."""
        message = await self._session.request_data(Command.KEYTURNER_STATES)
        return self._report(parse_states(self._family, message.payload))

    async def _send(self, goal: _Goal) -> States:
        """One Lock Action exchange up to Status COMPLETE; the final states."""
        fields = cmds.build_lock_action(goal.code, self._app_id)
        messages = await self._session.transact(
            Command.LOCK_ACTION, fields, until=completed, on_message=self._seen,
            total_timeout=self._session.action_timeout,
        )  # fmt: skip
        finals = [m for m in messages if m.command == Command.KEYTURNER_STATES]
        if finals:
            last = parse_states(self._family, finals[-1].payload)
            # Still on the way at COMPLETE: the final states were lost; ask for them.
            if last.lock_state not in goal.moving:
                return last
        return await self.read_states()  # COMPLETE alone: already there (spec §4.1 notes)

    def _judge(self, goal: _Goal, states: States) -> States:
        """The states if they show success; CommandRejectedError for a failed motor run."""
        status = states.last_lock_action_completion_status
        failed = _FAILED.get(status) if status is not None else None
        if states.lock_state == L.MOTOR_BLOCKED and self._family is not Family.OPENER:
            failed = ErrorCode.K_ERROR_MOTOR_BLOCKED
        if failed is not None and states.lock_state not in goal.reached:
            raise CommandRejectedError(failed, cmds.error_text(failed))
        return states

    async def run(self, action: Action) -> States:
        """Perform `action`; the final states. NotSupported is the caller's check."""
        goal = goals(self._family)[action]
        before, resent = self._last, False
        while True:
            try:
                states = await self._session.run(lambda: self._send(goal), retry_transient=False)
                return self._judge(goal, states)
            except (LockTimeoutError, DisconnectedError) as exc:
                _LOGGER.debug(
                    "%s: %s ended unclearly (%s); reading the state before anything else",
                    self._session.name, action.value, type(exc).__name__,
                )  # fmt: skip
                found = await self._settle(goal, before)
                if found is not None:
                    return self._judge(goal, found)
                if resent or action not in (Action.LOCK, Action.UNLOCK):
                    raise type(exc)(
                        f"The lock did not confirm the {action.value.replace('_', ' ')} and its "
                        "state did not change, so it may not have acted. Check the door before "
                        "trying again."
                    ) from exc
                resent = True
                _LOGGER.debug("%s: state unchanged; sending %s once more", self._session.name,
                              action.value)  # fmt: skip

    async def _settle(self, goal: _Goal, before: States | None) -> States | None:
        """The states once the target is reached; None when the lock shows no sign of acting."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._session.action_timeout
        while True:
            states = await self._session.run(self.read_states)
            if states.lock_state in goal.reached or _did(goal, states, before):
                return states
            if states.lock_state not in goal.moving or loop.time() >= deadline:
                return None
            await asyncio.sleep(POLL)  # the motor is running: its end comes within seconds
