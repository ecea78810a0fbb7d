"""TTLock auth and operation payloads: 0x41, 0x30, 0x55, unlock 0x47, lock 0x58, status 0x14."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import IntEnum

from ._buf import Reader, u8, u32, uint
from .dates import (
    USER_TIME_END,
    USER_TIME_START,
    encode_date5,
    encode_date6,
    read_date,
    read_date_lenient,
)

# spec §5.3: admin session = CHECK_ADMIN (0x41) -> psFromLock -> CHECK_RANDOM (0x30) with
# (psFromLock + unlockKey) mod 2^32. Unlock/lock need a fresh psFromLock from 0x41 or 0x55 on
# the same connection and send the same sum (spec §5.5.5).

AUTH_MODULUS = 1 << 32  # spec §5.5.3: Java int wrap-around
_FLAG_POS_LEN = 3  # spec §5.5.2: the low 3 bytes of lockFlagPos
_OPERATE_LONG = 15  # spec §5.5.5: battery + uid u32 + uniqueId u32 + date6
_PUSH_LEN = 15  # spec §1.4: battery + uid u32 + record u32 + date6


def auth_sum(ps_from_lock: int, unlock_key: int) -> int:
    """(psFromLock + unlockKey) mod 2^32, the proof sent by 0x30, 0x47 and 0x58 (spec §5.3)."""
    return (ps_from_lock + unlock_key) % AUTH_MODULUS


# --- 0x41 CHECK_ADMIN ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CheckAdminRequest:
    """CHECK_ADMIN fields; offline admins use uid 0 and lockFlagPos 0 (spec §5.5.2)."""

    admin_ps: int = field(repr=False)
    lock_flag_pos: int = 0
    uid: int = 0


def build_check_admin_request(admin_ps: int, *, lock_flag_pos: int = 0, uid: int = 0) -> bytes:
    """adminPs u32 | lockFlagPos (3 bytes) | uid u32 (11 bytes)."""
    return (
        u32(admin_ps, "adminPs")
        + uint(lock_flag_pos, _FLAG_POS_LEN, "lockFlagPos")
        + u32(uid, "uid")
    )


def parse_check_admin_request(data: bytes) -> CheckAdminRequest:
    """Lock side: parse CHECK_ADMIN."""
    reader = Reader(data, "CHECK_ADMIN request (0x41)")
    admin_ps = reader.u32("adminPs")
    flag_pos = reader.uint(_FLAG_POS_LEN, "lockFlagPos")
    return CheckAdminRequest(admin_ps, flag_pos, reader.u32("uid"))


def parse_ps_from_lock(data: bytes) -> int:
    """psFromLock from the answer to 0x41 or 0x55: its first 4 bytes (spec §5.5.2, §5.5.4)."""
    return Reader(data, "psFromLock answer (0x41/0x55)").u32("psFromLock")


def build_ps_from_lock_response(ps_from_lock: int) -> bytes:
    """Lock side: the random psFromLock as u32."""
    return u32(ps_from_lock, "psFromLock")


# --- 0x30 CHECK_RANDOM ---------------------------------------------------------------------


def build_check_random_request(ps_from_lock: int, unlock_key: int) -> bytes:
    """The u32 sum (spec §5.5.3); its answer carries nothing useful."""
    return u32(auth_sum(ps_from_lock, unlock_key), "check sum")


def parse_check_random_request(data: bytes) -> int:
    """Lock side: the sum the app sent."""
    return Reader(data, "CHECK_RANDOM request (0x30)").u32("check sum")


def check_random_ok(data: bytes, ps_from_lock: int, unlock_key: int) -> bool:
    """Lock side: whether a CHECK_RANDOM payload proves the unlock key (False if malformed)."""
    return len(data) >= 4 and int.from_bytes(data[:4], "big") == auth_sum(ps_from_lock, unlock_key)


# --- 0x55 CHECK_USER_TIME --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CheckUserTimeRequest:
    """CHECK_USER_TIME fields: the eKey window (lock-local) and identity (spec §5.5.4)."""

    start: datetime
    end: datetime
    lock_flag_pos: int = 0
    uid: int = 0


def build_check_user_time_request(
    start: datetime = USER_TIME_START,
    end: datetime = USER_TIME_END,
    *,
    lock_flag_pos: int = 0,
    uid: int = 0,
) -> bytes:
    """start date5 | end date5 | lockFlagPos (3) | uid u32 (17 bytes); default = permanent."""
    return (
        encode_date5(start)
        + encode_date5(end)
        + uint(lock_flag_pos, _FLAG_POS_LEN, "lockFlagPos")
        + u32(uid, "uid")
    )


def parse_check_user_time_request(data: bytes) -> CheckUserTimeRequest:
    """Lock side: parse CHECK_USER_TIME."""
    reader = Reader(data, "CHECK_USER_TIME request (0x55)")
    start, end = read_date(reader, "start"), read_date(reader, "end")
    flag_pos = reader.uint(_FLAG_POS_LEN, "lockFlagPos")
    return CheckUserTimeRequest(start, end, flag_pos, reader.u32("uid"))


# --- 0x47 UNLOCK, 0x58 FUNCTION_LOCK (and 0x69 DEAD_LOCK) -------------------------------------


@dataclass(frozen=True, slots=True)
class OperateRequest:
    """Unlock/lock request: the auth sum and a record id (unix seconds) (spec §5.5.5)."""

    check_sum: int = field(repr=False)
    timestamp: int = 0

    def proves(self, ps_from_lock: int, unlock_key: int) -> bool:
        """Lock side: whether the sum matches psFromLock + unlockKey (mod 2^32)."""
        return self.check_sum == auth_sum(ps_from_lock, unlock_key)


def build_operate_request(ps_from_lock: int, unlock_key: int, timestamp: int) -> bytes:
    """sum u32 | unix seconds u32, for 0x47, 0x58 and 0x69 alike (spec §5.5.5)."""
    return u32(auth_sum(ps_from_lock, unlock_key), "check sum") + u32(timestamp, "timestamp")


def parse_operate_request(data: bytes) -> OperateRequest:
    """Lock side: parse an unlock/lock request."""
    reader = Reader(data, "unlock/lock request (0x47/0x58)")
    return OperateRequest(reader.u32("check sum"), reader.u32("timestamp"))


@dataclass(frozen=True, slots=True)
class OperateResponse:
    """Unlock/lock answer: battery and, in the long form, who/which record/when (lock-local)."""

    battery: int
    uid: int | None = None
    unique_id: int | None = None
    time: datetime | None = None


def parse_operate_response(data: bytes) -> OperateResponse:
    """`battery` [uid u32 uniqueId u32 date6] - long form when >= 15 bytes (spec §5.5.5)."""
    reader = Reader(data, "unlock/lock answer (0x47/0x58)")
    battery = reader.u8("battery")
    if len(data) < _OPERATE_LONG:
        return OperateResponse(battery)
    uid, unique_id = reader.u32("uid"), reader.u32("uniqueId")
    # A lock without a clock chip (feature 20) may send no real date: keep None then.
    return OperateResponse(battery, uid, unique_id, read_date_lenient(reader, "time", seconds=True))


def build_operate_response(
    battery: int, uid: int | None = None, unique_id: int | None = None, time: datetime | None = None
) -> bytes:
    """Lock side: the short form, or the long one when `time` is given."""
    out = u8(battery, "battery")
    if time is not None:
        out += u32(uid or 0, "uid") + u32(unique_id or 0, "uniqueId") + encode_date6(time)
    return out


# --- 0x14 SEARCH_BICYCLE_STATUS (lock status, request = 'SCIENER') --------------------------


class LockState(IntEnum):
    """lockStatus of a 0x14 answer (spec §5.5.6)."""

    LOCKED = 0
    UNLOCKED = 1
    UNKNOWN = 2


@dataclass(frozen=True, slots=True)
class StatusResponse:
    """Answer to 0x14, also pushed unasked after lock/unlock: battery, bolt, door byte."""

    battery: int
    state: LockState
    door: int | None = None
    raw_state: int | None = None  # the byte when it is not a known LockState


@dataclass(frozen=True, slots=True)
class OperationPush:
    """A pushed 0x14 frame announcing a new log record (spec §1.4, TTB's long shape)."""

    battery: int
    uid: int
    record_id: int
    time: datetime | None


def parse_status_response(data: bytes) -> StatusResponse | OperationPush:
    """`battery lockStatus [door]`, or the >= 15-byte pushed record shape (spec §1.4, §5.5.6)."""
    reader = Reader(data, "lock status (0x14)")
    battery = reader.u8("battery")
    if len(data) >= _PUSH_LEN:
        uid, record_id = reader.u32("uid"), reader.u32("record id")
        return OperationPush(
            battery, uid, record_id, read_date_lenient(reader, "time", seconds=True)
        )
    raw = reader.u8("lock status")
    door = reader.u8("door sensor") if reader.remaining else None
    try:
        return StatusResponse(battery, LockState(raw), door)
    except ValueError:
        return StatusResponse(battery, LockState.UNKNOWN, door, raw)


def build_status_response(battery: int, state: LockState, door: int | None = None) -> bytes:
    """Lock side: `battery lockStatus [door]` (also the 3-byte push after lock/unlock)."""
    out = u8(battery, "battery") + u8(state, "lock status")
    return out if door is None else out + u8(door, "door sensor")


def build_operation_push(battery: int, uid: int, record_id: int, time: datetime) -> bytes:
    """Lock side: the pushed 0x14 record shape."""
    return (
        u8(battery, "battery")
        + u32(uid, "uid")
        + u32(record_id, "record id")
        + (encode_date6(time))
    )
