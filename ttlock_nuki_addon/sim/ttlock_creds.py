"""Virtual TTLock, lock side of passcodes, IC cards, fingerprints, schedules and the log (§5.5)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..ttlock import card_cmds as cc
from ..ttlock import fingerprint_cmds as fc
from ..ttlock import passcode_cmds as pc
from ..ttlock.card_cmds import CardOp, CyclicOp, CyclicUserType
from ..ttlock.codec import Command, ErrorCode, Response
from ..ttlock.commands import build_op_ack
from ..ttlock.features import Feature
from ..ttlock.fingerprint_cmds import FingerprintOp
from ..ttlock.oplog import build_log_page, parse_log_request
from ..ttlock.passcode_cmds import PasscodeOp, PasscodeType
from .ttlock_state import (
    MAX_CARDS,
    MAX_FINGERPRINTS,
    MAX_PASSCODES,
    Auth,
    CommandSpec,
    Reply,
    StoredCard,
    StoredFingerprint,
    StoredPasscode,
)

if TYPE_CHECKING:
    from .ttlock import VirtualTTLock

C = Command
# Page sizes keep every answer well under one 255-byte frame; five card records are never
# ambiguous between 4- and 8-byte numbers (spec §5.5.16 width rule).
PASSCODE_PAGE = 5
CARD_PAGE = 5
FINGERPRINT_PAGE = 8
LOG_PAGE = 5


def _fail(command: int, code: ErrorCode) -> Response:
    return Response.failure(command, code)


def _ack(lock: VirtualTTLock, command: int, op: int) -> Response:
    """`battery op`, the answer of every change (spec §5.5.14, §5.5.16-18)."""
    return Response.success(command, build_op_ack(lock.battery, op))


# --- 0x03 / 0x07 passcodes (spec §5.5.14, §5.5.15) --------------------------------------------


def _passcode_window_ok(request: pc.PasscodeRequest) -> bool:
    if request.type == PasscodeType.PERMANENT:
        return request.start is not None
    return request.start is not None and request.end is not None and request.start < request.end


def _valid_code(code: str | None) -> bool:
    return code is not None and 4 <= len(code) <= 9


def passcode(lock: VirtualTTLock, payload: bytes) -> Reply:
    """0x03: clear, add, delete, modify, recover; answer `battery op`."""
    request = pc.parse_passcode_request(payload)
    store = lock.memory.passcodes
    command = C.MANAGE_KEYBOARD_PASSWORD
    if request.op == PasscodeOp.CLEAR:
        store.clear()
        return _ack(lock, command, request.op)
    if request.type not in tuple(PasscodeType):
        return _fail(command, ErrorCode.INVALID_PARAMETER)
    if request.type == PasscodeType.CYCLIC and not lock.features.has(Feature.CYCLIC_PASSWORD):
        return _fail(command, ErrorCode.INVALID_COMMAND)
    code = request.code or ""
    if request.op == PasscodeOp.DELETE:
        if store.pop(code, None) is None:
            return _fail(command, ErrorCode.PASSCODE_NOT_FOUND)
        return _ack(lock, command, request.op)
    if request.op == PasscodeOp.MODIFY:
        return _modify_passcode(lock, request)
    # ADD keeps the typed code as its original; RECOVER names the original separately.
    current = code if request.op == PasscodeOp.ADD else request.new_code or ""
    if not _valid_code(current):
        return _fail(command, ErrorCode.INVALID_PASSCODE_LENGTH)
    if lock.memory.code_taken(current):
        return _fail(command, ErrorCode.PASSCODE_EXISTS)
    if len(store) >= MAX_PASSCODES:
        return _fail(command, ErrorCode.OUT_OF_MEMORY)
    if not _passcode_window_ok(request) or request.start is None:
        return _fail(command, ErrorCode.INVALID_PARAMETER)
    store[current] = StoredPasscode(
        request.type, current, code, request.start, request.end, request.cycle_type
    )
    return _ack(lock, command, request.op)


def _modify_passcode(lock: VirtualTTLock, request: pc.PasscodeRequest) -> Reply:
    store, command = lock.memory.passcodes, C.MANAGE_KEYBOARD_PASSWORD
    stored = store.get(request.code or "")
    if stored is None:
        return _fail(command, ErrorCode.PASSCODE_NOT_FOUND)
    new_code = request.new_code or stored.code
    if not _valid_code(new_code):
        return _fail(command, ErrorCode.INVALID_PASSCODE_LENGTH)
    if new_code != stored.code and lock.memory.code_taken(new_code):
        return _fail(command, ErrorCode.PASSCODE_EXISTS)
    if request.start is not None and request.end is not None:
        if request.start >= request.end:
            return _fail(command, ErrorCode.INVALID_PARAMETER)
        stored.type, stored.start, stored.end = request.type, request.start, request.end
        stored.cycle_type = request.cycle_type if request.type == PasscodeType.CYCLIC else None
        stored.used = False
    del store[stored.code]
    stored.code = new_code
    store[new_code] = stored
    return _ack(lock, command, request.op)


def passcode_list(lock: VirtualTTLock, payload: bytes) -> Reply:
    """0x07: `totalLen nextSeq records`, no battery byte; FFFF ends (spec §5.5.15)."""
    seq = pc.parse_passcode_list_request(payload)
    stored = list(lock.memory.passcodes.values())[seq : seq + PASSCODE_PAGE]
    records = [
        pc.PasscodeRecord(p.type, p.code, p.original, p.start, p.end, p.cycle_type) for p in stored
    ]
    more = seq + PASSCODE_PAGE < len(lock.memory.passcodes)
    next_seq = seq + PASSCODE_PAGE if more else pc.LAST_PAGE
    return Response.success(C.PWD_LIST, pc.build_passcode_page(records, next_seq))


# --- 0x05 IC cards (spec §5.5.16) -------------------------------------------------------------


def card(lock: VirtualTTLock, payload: bytes) -> Reply:
    """0x05: list, enrol (waits for present_card), add known, modify, delete, clear."""
    request = cc.parse_card_request(payload)
    memory, command = lock.memory, C.IC_MANAGE
    if request.op == CardOp.LIST:
        seq = request.seq or 0
        cards = list(memory.cards.values())[seq : seq + CARD_PAGE]
        records = [cc.CardRecord(c.number, c.start, c.end, c.width) for c in cards]
        more = seq + CARD_PAGE < len(memory.cards)
        next_seq = seq + CARD_PAGE if more else cc.LAST_PAGE
        return Response.success(command, cc.build_card_page(lock.battery, records, next_seq))
    if request.op == CardOp.CLEAR:
        memory.cards.clear()
        memory.cyclic = {k: v for k, v in memory.cyclic.items() if k[0] != CyclicUserType.CARD}
        return _ack(lock, command, request.op)
    if request.op == CardOp.ADD and request.number is None:
        return lock.start_enrolment(command)
    number = request.number or 0
    stored = memory.cards.get(number)
    if request.op == CardOp.ADD and request.start is not None and request.end is not None:
        if stored is None and len(memory.cards) >= MAX_CARDS:
            return _fail(command, ErrorCode.OUT_OF_MEMORY)
        width = request.width or cc.card_width(number)
        memory.cards[number] = StoredCard(number, width, request.start, request.end)
        event = cc.build_card_enrol_event(lock.battery, number, width)
        return Response.success(command, event)
    if stored is None:
        return _fail(command, ErrorCode.CARD_NOT_FOUND)
    if request.op == CardOp.DELETE:
        del memory.cards[number]
        memory.cyclic.pop((CyclicUserType.CARD, number), None)
    elif request.start is not None and request.end is not None:  # MODIFY
        stored.start, stored.end = request.start, request.end
    return _ack(lock, command, request.op)


# --- 0x06 fingerprints (spec §5.5.17) ---------------------------------------------------------


def fingerprint(lock: VirtualTTLock, payload: bytes) -> Reply:
    """0x06: list, enrol (waits for place_finger), restore, modify, delete, clear."""
    request = fc.parse_fingerprint_request(payload)
    memory, command = lock.memory, C.FR_MANAGE
    if request.op == FingerprintOp.LIST:
        seq = request.seq or 0
        fps = list(memory.fingerprints.values())[seq : seq + FINGERPRINT_PAGE]
        records = [fc.FingerprintRecord(f.fp_id, f.start, f.end) for f in fps]
        more = seq + FINGERPRINT_PAGE < len(memory.fingerprints)
        next_seq = seq + FINGERPRINT_PAGE if more else cc.LAST_PAGE
        data = fc.build_fingerprint_page(lock.battery, records, next_seq)
        return Response.success(command, data)
    if request.op == FingerprintOp.CLEAR:
        memory.fingerprints.clear()
        memory.cyclic = {
            k: v for k, v in memory.cyclic.items() if k[0] != CyclicUserType.FINGERPRINT
        }
        return _ack(lock, command, request.op)
    if request.op == FingerprintOp.WRITE_TEMPLATE:
        return _fail(command, ErrorCode.INVALID_COMMAND)  # no template upload here
    if request.op == FingerprintOp.ADD and request.fp_id is None:
        return lock.start_enrolment(command)
    fp_id = request.fp_id or 0
    stored = memory.fingerprints.get(fp_id)
    if request.op == FingerprintOp.ADD and request.start is not None and request.end is not None:
        if stored is None and len(memory.fingerprints) >= MAX_FINGERPRINTS:
            return _fail(command, ErrorCode.OUT_OF_MEMORY)
        finger = None if stored is None else stored.finger
        memory.fingerprints[fp_id] = StoredFingerprint(fp_id, finger, request.start, request.end)
        event = fc.FingerprintEnrolEvent(lock.battery, cc.EnrolStatus.DONE, fp_id=fp_id)
        return Response.success(command, fc.build_fingerprint_enrol_event(event))
    if stored is None:
        return _fail(command, ErrorCode.FINGERPRINT_NOT_FOUND)
    if request.op == FingerprintOp.DELETE:
        del memory.fingerprints[fp_id]
        memory.cyclic.pop((CyclicUserType.FINGERPRINT, fp_id), None)
    elif request.start is not None and request.end is not None:  # MODIFY
        stored.start, stored.end = request.start, request.end
    return _ack(lock, command, request.op)


# --- 0x70 weekly schedules for cards and fingerprints (spec §5.5.18) -------------------------


def cyclic(lock: VirtualTTLock, payload: bytes) -> Reply:
    """0x70: add one weekly window, or clear a user's windows (1F when there are none)."""
    request = cc.parse_cyclic_request(payload)
    memory, command = lock.memory, C.CYCLIC_CMD
    user = int.from_bytes(request.user, "big")
    if request.user_type == CyclicUserType.CARD:
        if user not in memory.cards:
            return _fail(command, ErrorCode.CARD_NOT_FOUND)
    elif request.user_type == CyclicUserType.FINGERPRINT:
        if user not in memory.fingerprints:
            return _fail(command, ErrorCode.FINGERPRINT_NOT_FOUND)
    else:
        return _fail(command, ErrorCode.INVALID_PARAMETER)  # no key fobs or faces here
    key = (request.user_type, user)
    if request.op == CyclicOp.ADD and request.entry is not None:
        entries = memory.cyclic.setdefault(key, [])
        if request.entry not in entries:
            entries.append(request.entry)
        return _ack(lock, command, request.op)
    if request.op == CyclicOp.CLEAR:
        if memory.cyclic.pop(key, None) is None:
            return _fail(command, ErrorCode.RECORD_NOT_FOUND)  # the app counts it as done
        return _ack(lock, command, request.op)
    return _fail(command, ErrorCode.INVALID_PARAMETER)


# --- 0x25 operation log (spec §5.5.20) ------------------------------------------------------


def operation_log(lock: VirtualTTLock, payload: bytes) -> Reply:
    """0x25: a page of records; reading the new ones lowers advert flag bit 1 (spec §4.5)."""
    records, next_seq = lock.memory.log.page(parse_log_request(payload), LOG_PAGE)
    lock.refresh_advert()
    return Response.success(C.GET_OPERATE_LOG, build_log_page(records, next_seq))


F = Feature
COMMANDS: dict[int, CommandSpec] = {
    C.MANAGE_KEYBOARD_PASSWORD: CommandSpec(passcode, Auth.ADMIN, F.PASSCODE),
    C.PWD_LIST: CommandSpec(passcode_list, Auth.ADMIN, F.PASSCODE),
    C.IC_MANAGE: CommandSpec(card, Auth.ADMIN, F.IC),
    C.FR_MANAGE: CommandSpec(fingerprint, Auth.ADMIN, F.FINGER_PRINT),
    C.CYCLIC_CMD: CommandSpec(cyclic, Auth.ADMIN, F.CYCLIC_IC_OR_FINGER_PRINT),
    C.GET_OPERATE_LOG: CommandSpec(operation_log),
}
