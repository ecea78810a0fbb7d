"""Virtual TTLock's physical world: keypad, card reader, finger sensor, knob and enrolment."""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from ..ttlock.card_cmds import EnrolStatus, build_card_enrol_event, card_width
from ..ttlock.codec import Command, ErrorCode, Response
from ..ttlock.fingerprint_cmds import FingerprintEnrolEvent, build_fingerprint_enrol_event
from ..ttlock.oplog import LogType
from ..ttlock.oplog_tails import (
    CardTail,
    FingerprintTail,
    NoTail,
    PasscodeTail,
    WrongPasscodeTail,
)
from ..ttlock.passcode_cmds import PasscodeType
from .peripheral import ActionError
from .ttlock_state import MAX_CARDS, MAX_FINGERPRINTS, Reply, StoredCard, StoredFingerprint

if TYPE_CHECKING:
    from .ttlock import VirtualTTLock

_FP_ID_LIMIT = 1 << 48  # spec §5.5.17: fingerprint ids are 6 bytes


class Outcome(StrEnum):
    """What a physical action did."""

    UNLOCKED = "unlocked"
    LOCKED = "locked"
    REJECTED = "rejected"
    PROGRESS = "progress"
    ENROLLED = "enrolled"
    IGNORED = "ignored"


@dataclass(slots=True)
class Enrolment:
    """A running card (0x05) or fingerprint (0x06) enrolment waiting for the person."""

    command: int
    touches: int = 0
    finger: str | None = None


def enter_pin(lock: VirtualTTLock, code: str) -> Outcome:
    """Type a code (a trailing '#' is the enter key): a valid passcode unlocks and is logged."""
    lock.touch()
    code = code.removesuffix("#")
    memory, now = lock.memory, lock.lock_time()
    if memory.admin is not None and code == memory.admin_code:
        lock.operate(True, LogType.PASSCODE_UNLOCK, PasscodeTail(code, code), physical=True)
        return Outcome.UNLOCKED
    stored = memory.passcodes.get(code)
    if stored is None:
        lock.add_log(LogType.WRONG_PASSCODE, WrongPasscodeTail(code))
        return Outcome.REJECTED
    if not stored.allows(now):
        # Known but not valid now (expired, not yet, outside its days, or used up).
        lock.add_log(LogType.PASSCODE_EXPIRED, PasscodeTail(stored.original, code))
        return Outcome.REJECTED
    if stored.type == PasscodeType.COUNT:
        stored.used = True  # a one-time code works once
    lock.operate(True, LogType.PASSCODE_UNLOCK, PasscodeTail(stored.original, code), physical=True)
    return Outcome.UNLOCKED


def present_card(lock: VirtualTTLock, number: int) -> Outcome:
    """Hold a card to the reader: completes a card enrolment, or unlocks if valid now."""
    lock.touch()
    enrolment = lock.enrolment
    if enrolment is not None and enrolment.command == Command.IC_MANAGE:
        return _finish_card(lock, number)
    memory = lock.memory
    stored = memory.cards.get(number)
    if stored is None or not memory.card_allows(stored, lock.lock_time()):
        width = card_width(number) if stored is None else stored.width
        lock.add_log(LogType.CARD_FAILED, CardTail(number, width))
        return Outcome.REJECTED
    lock.operate(True, LogType.CARD_UNLOCK, CardTail(number, stored.width), physical=True)
    return Outcome.UNLOCKED


def place_finger(lock: VirtualTTLock, finger: str) -> Outcome:
    """Put a finger on the sensor: one enrolment step, or unlock if enrolled and valid now."""
    lock.touch()
    enrolment = lock.enrolment
    if enrolment is not None and enrolment.command == Command.FR_MANAGE:
        return _fingerprint_step(lock, enrolment, finger)
    memory = lock.memory
    stored = memory.finger_of(finger)
    if stored is None or not memory.fingerprint_allows(stored, lock.lock_time()):
        fp_id = 0 if stored is None else stored.fp_id
        lock.add_log(LogType.FINGERPRINT_FAILED, FingerprintTail(fp_id))
        return Outcome.REJECTED
    lock.operate(True, LogType.FINGERPRINT_UNLOCK, FingerprintTail(stored.fp_id), physical=True)
    return Outcome.UNLOCKED


def turn_knob(lock: VirtualTTLock) -> Outcome:
    """Turn the inside knob: toggles the bolt; logged like the mechanical key (27 / 36)."""
    if lock.unlocked:
        lock.operate(False, LogType.MECHANICAL_KEY_LOCK, NoTail(), physical=True)
        return Outcome.LOCKED
    lock.operate(True, LogType.MECHANICAL_KEY_UNLOCK, NoTail(), physical=True)
    return Outcome.UNLOCKED


# --- enrolment (spec §5.5.16, §5.5.17) ------------------------------------------------------


def start_enrolment(lock: VirtualTTLock, command: int) -> Reply:
    """Enter add mode; the answers say so, the rest comes unasked when the person acts."""
    lock.enrolment = Enrolment(command)
    lock.timers.start("enrol", lock.enrol_timeout, lock.enrolment_timed_out)
    battery = lock.battery
    if command == Command.IC_MANAGE:
        return Response.success(command, build_card_enrol_event(battery))
    total = lock.fingerprint_touches
    waiting = FingerprintEnrolEvent(battery, EnrolStatus.WAITING, total=total)
    # spec §5.5.17: progress with current 0 = ready for the first touch.
    ready = FingerprintEnrolEvent(battery, EnrolStatus.PROGRESS, current=0, total=total)
    return (
        Response.success(command, build_fingerprint_enrol_event(waiting)),
        Response.success(command, build_fingerprint_enrol_event(ready)),
    )


def enrolment_timed_out(lock: VirtualTTLock) -> None:
    """Nobody acted in time: leave add mode and tell the app with error 0x13."""
    enrolment, lock.enrolment = lock.enrolment, None
    if enrolment is not None:
        lock.note("enrolment timed out")
        lock.reply(Response.failure(enrolment.command, ErrorCode.FAILED))


def _end_enrolment(lock: VirtualTTLock) -> None:
    lock.enrolment = None
    lock.timers.cancel("enrol")


def _finish_card(lock: VirtualTTLock, number: int) -> Outcome:
    memory, command = lock.memory, Command.IC_MANAGE
    _end_enrolment(lock)
    width = card_width(number)
    if number not in memory.cards:
        if len(memory.cards) >= MAX_CARDS:
            lock.reply(Response.failure(command, ErrorCode.OUT_OF_MEMORY))
            return Outcome.REJECTED
        memory.cards[number] = StoredCard(number, width)
        lock.add_log(LogType.CARD_ADDED, CardTail(number, width))
    lock.reply(Response.success(command, build_card_enrol_event(lock.battery, number, width)))
    return Outcome.ENROLLED


def _fingerprint_step(lock: VirtualTTLock, enrolment: Enrolment, finger: str) -> Outcome:
    if enrolment.finger not in (None, finger):
        lock.note("enrolment ignored a different finger")
        return Outcome.IGNORED
    enrolment.finger = finger
    enrolment.touches += 1
    lock.timers.start("enrol", lock.enrol_timeout, lock.enrolment_timed_out)
    total, battery, command = lock.fingerprint_touches, lock.battery, Command.FR_MANAGE
    if enrolment.touches < total:
        step = FingerprintEnrolEvent(
            battery, EnrolStatus.PROGRESS, current=enrolment.touches, total=total
        )
        lock.reply(Response.success(command, build_fingerprint_enrol_event(step)))
        return Outcome.PROGRESS
    _end_enrolment(lock)
    memory = lock.memory
    stored = memory.finger_of(finger)
    if stored is None:
        if len(memory.fingerprints) >= MAX_FINGERPRINTS:
            lock.reply(Response.failure(command, ErrorCode.OUT_OF_MEMORY))
            return Outcome.REJECTED
        stored = StoredFingerprint(_new_fp_id(lock), finger)
        memory.fingerprints[stored.fp_id] = stored
        lock.add_log(LogType.FINGERPRINT_ADDED, FingerprintTail(stored.fp_id))
    done = FingerprintEnrolEvent(battery, EnrolStatus.DONE, fp_id=stored.fp_id)
    lock.reply(Response.success(command, build_fingerprint_enrol_event(done)))
    return Outcome.ENROLLED


def _new_fp_id(lock: VirtualTTLock) -> int:
    while True:
        fp_id = secrets.randbelow(_FP_ID_LIMIT - 1) + 1
        if fp_id not in lock.memory.fingerprints:
            return fp_id


# --- control API (sim/control.py): the physical world by name ----------------------------

Action = Callable[[dict[str, Any]], dict[str, Any]]
_PIN = re.compile(r"[0-9]{1,16}#?")
_MAX_CARD = (1 << 64) - 1  # spec §5.5.16: 4- or 8-byte card numbers
_MAX_FINGER = 64


def _result(lock: VirtualTTLock, outcome: Outcome) -> dict[str, Any]:
    return {"outcome": outcome.value, "bolt": lock.bolt}


def _required(params: dict[str, Any], name: str) -> object:
    if name not in params:
        raise ActionError(f"'{name}' is required")
    return params[name]


def _code(params: dict[str, Any]) -> str:
    code = _required(params, "code")
    if not isinstance(code, str) or not _PIN.fullmatch(code):
        raise ActionError("'code' must be a string of 1 to 16 digits, optionally ending in '#'")
    return code


def _card_number(params: dict[str, Any]) -> int:
    number = _required(params, "number")
    if isinstance(number, str) and number.isascii() and number.isdigit() and len(number) <= 20:
        number = int(number)
    if isinstance(number, bool) or not isinstance(number, int) or not 0 <= number <= _MAX_CARD:
        raise ActionError("'number' must be a card number from 0 to 2^64-1 (integer or digits)")
    return number


def _finger(params: dict[str, Any]) -> str:
    finger = _required(params, "finger")
    if isinstance(finger, int) and not isinstance(finger, bool) and finger >= 0:
        finger = str(finger)
    if not isinstance(finger, str) or not 1 <= len(finger) <= _MAX_FINGER:
        raise ActionError(f"'finger' must name a finger in 1 to {_MAX_FINGER} characters")
    return finger


def _percent(params: dict[str, Any]) -> int:
    percent = _required(params, "percent")
    if isinstance(percent, bool) or not isinstance(percent, int) or not 0 <= percent <= 100:
        raise ActionError("'percent' must be an integer from 0 to 100")
    return percent


def control_actions(lock: VirtualTTLock) -> dict[str, Action]:
    """touch, enter_pin, present_card, place_finger, turn_knob, reset_button, battery."""

    def touch(params: dict[str, Any]) -> dict[str, Any]:
        lock.touch()
        return {"awake": lock.awake}

    def reset_button(params: dict[str, Any]) -> dict[str, Any]:
        lock.reset_button()
        return {"setting_mode": lock.setting_mode}

    def battery(params: dict[str, Any]) -> dict[str, Any]:
        lock.set_battery(_percent(params))
        return {"battery": lock.battery}

    return {
        "touch": touch,
        "enter_pin": lambda p: _result(lock, lock.enter_pin(_code(p))),
        "present_card": lambda p: _result(lock, lock.present_card(_card_number(p))),
        "place_finger": lambda p: _result(lock, lock.place_finger(_finger(p))),
        "turn_knob": lambda p: _result(lock, lock.turn_knob()),
        "reset_button": reset_button,
        "battery": battery,
    }
