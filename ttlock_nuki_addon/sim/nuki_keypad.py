"""Virtual Nuki keypad: code management (spec §4.9), Keypad Action and wrong-code lockouts."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from ..nuki.codec import Command, ErrorCode, StatusCode
from ..nuki.commands import (
    CompletionStatus,
    KeypadActionKind,
    KeypadSource,
    LockAction,
    Trigger,
    parse_keypad_action,
)
from ..nuki.fields import FieldError
from ..nuki.keypad_cmds import (
    build_keypad_code_count,
    build_keypad_code_entry,
    build_keypad_code_id,
    is_valid_keypad_code,
    parse_add_keypad_code,
    parse_remove_keypad_code,
    parse_request_keypad_codes,
    parse_update_keypad_code,
)
from ..nuki.log_cmds import KeypadActionData, LogEntryType
from . import nuki_motor
from .nuki_motor import Origin
from .nuki_state import KeypadCode

if TYPE_CHECKING:
    from .nuki_core import NukiCore
    from .nuki_io import Handler, Request

C = Command


def check_code(core: NukiCore, code: int) -> KeypadCode | ErrorCode:
    """The stored code that opens now, or why not; wrong codes escalate the lockout (§4.11)."""
    now = core.lock_time()
    blocked = core.keypad_guard.blocked(now)
    if blocked is not None:
        return blocked
    stored = next((c for c in core.memory.keypad_codes.values() if c.code == code), None)
    if stored is None or not stored.enabled:
        core.keypad_guard.failed(now)
        return ErrorCode.K_ERROR_CODE_INVALID
    if not stored.allows(core.local_time()):
        return ErrorCode.K_ERROR_TIME_NOT_ALLOWED
    core.keypad_guard.succeeded()
    stored.last_active = now
    stored.lock_count = min(stored.lock_count + 1, 0xFFFF)
    return stored


def log_refused(core: NukiCore, action: int, source: int, code_id: int, name: str = "") -> None:
    """A keypad try that opened nothing: type 0x05 with completion 0xE0 (spec §4.7)."""
    data = KeypadActionData(action, source, CompletionStatus.INVALID_CODE, code_id)
    core.memory.log.add(core.lock_time(), 0, name, LogEntryType.KEYPAD_ACTION, data)


def _code_of(core: NukiCore, code: int, code_id: int | None) -> int | None:
    """The error for a new or changed code: format (spec §4.9) or a duplicate."""
    if not is_valid_keypad_code(code):
        return ErrorCode.K_ERROR_CODE_INVALID
    for stored in core.memory.keypad_codes.values():
        if stored.code == code and stored.code_id != code_id:
            return ErrorCode.K_ERROR_CODE_ALREADY_EXISTS
    return None


def add_keypad_code(core: NukiCore, request: Request) -> None:
    """Add Keypad Code -> Keypad Code ID (spec §4.9)."""
    add = parse_add_keypad_code(request.fields)
    memory = core.memory
    if not add.name:
        raise FieldError("empty name")
    failure = _code_of(core, add.code, None)
    if failure is None and len(memory.keypad_codes) >= memory.max_keypad_codes:
        failure = ErrorCode.K_ERROR_TOO_MANY_ENTRIES
    if failure is not None:
        core.error(request, failure)
        return
    stored = KeypadCode(
        memory.new_code_id(), add.code, add.name, core.lock_time(), time_limit=add.time_limit
    )
    memory.keypad_codes[stored.code_id] = stored
    core.note(f"keypad code {stored.code_id} added")
    payload = build_keypad_code_id(stored.code_id, stored.created)
    core.send_encrypted(request.auth, C.KEYPAD_CODE_ID, payload, request.link)


def request_keypad_codes(core: NukiCore, request: Request) -> None:
    """Keypad Code Count + the asked slice of codes + Status COMPLETE (spec §4.1)."""
    asked = parse_request_keypad_codes(request.fields)
    codes = sorted(core.memory.keypad_codes.values(), key=lambda c: c.code_id)
    auth, link = request.auth, request.link
    core.send_encrypted(auth, C.KEYPAD_CODE_COUNT, build_keypad_code_count(len(codes)), link)
    for stored in codes[asked.offset : asked.offset + asked.count]:
        core.send_encrypted(auth, C.KEYPAD_CODE, build_keypad_code_entry(stored.entry()), link)
    core.status(request, StatusCode.COMPLETE)


def update_keypad_code(core: NukiCore, request: Request) -> None:
    """Update Keypad Code: every field of one code (spec §4.9)."""
    update = parse_update_keypad_code(request.fields)
    stored = core.memory.keypad_codes.get(update.code_id)
    if stored is None or not update.name:
        raise FieldError("no such keypad code, or an empty name")
    failure = _code_of(core, update.code, update.code_id)
    if failure is not None:
        core.error(request, failure)
        return
    stored.code, stored.name, stored.enabled = update.code, update.name, update.enabled
    stored.time_limit = update.time_limit
    core.note(f"keypad code {stored.code_id} updated")
    core.status(request, StatusCode.COMPLETE)


def remove_keypad_code(core: NukiCore, request: Request) -> None:
    """Remove Keypad Code."""
    code_id = parse_remove_keypad_code(request.fields)
    if core.memory.keypad_codes.pop(code_id, None) is None:
        raise FieldError("no such keypad code")
    core.note(f"keypad code {code_id} removed")
    core.status(request, StatusCode.COMPLETE)


_KEYPAD_ACTIONS = {
    KeypadActionKind.UNLOCK: LockAction.UNLOCK,
    KeypadActionKind.LOCK: LockAction.LOCK,
    KeypadActionKind.UNLATCH: LockAction.UNLATCH,
    KeypadActionKind.LOCK_N_GO: LockAction.LOCK_N_GO,
}


def keypad_action(core: NukiCore, request: Request) -> None:
    """Keypad Action (0x0048): arrow key, or a code checked like a typed one (spec §4.2)."""
    parsed = parse_keypad_action(request.fields)
    if parsed.action == KeypadActionKind.INTELLIGENT:
        action: int = nuki_motor.intelligent(core)
    elif parsed.action in set(_KEYPAD_ACTIONS):
        action = _KEYPAD_ACTIONS[KeypadActionKind(parsed.action)]
    else:
        raise FieldError("unknown keypad action")
    auth = request.auth
    name, code_id = auth.name, 0
    if parsed.source == KeypadSource.CODE:
        found = check_code(core, parsed.code)
        if isinstance(found, ErrorCode):
            log_refused(core, action, parsed.source, 0)
            core.error(request, found)
            return
        name, code_id = found.name, found.code_id
    elif parsed.source != KeypadSource.ARROW_KEY:
        raise FieldError("this keypad has no fingerprint sensor")
    keypad = (parsed.source, code_id)
    origin = Origin(Trigger.SYSTEM, name, auth.auth_id, keypad=keypad, request=request)
    nuki_motor.operate(core, request, action, origin)


HANDLERS: Mapping[int, Handler] = {
    C.ADD_KEYPAD_CODE: add_keypad_code,
    C.REQUEST_KEYPAD_CODES: request_keypad_codes,
    C.UPDATE_KEYPAD_CODE: update_keypad_code,
    C.REMOVE_KEYPAD_CODE: remove_keypad_code,
    C.KEYPAD_ACTION: keypad_action,
}
