"""Nuki Request Data, the challenge nonce and the challenge/PIN suffixes (spec §4.1, §4.2)."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum

from .codec import Command, command_name
from .fields import FieldError, Reader, encode_pin, u16

__all__ = [
    "CHALLENGE_LEN",
    "PROTECTION",
    "Protection",
    "Unprotected",
    "build_challenge",
    "new_challenge",
    "parse_challenge",
    "parse_request_data",
    "protect",
    "protection_of",
    "request_data",
    "split_challenge",
    "split_challenge_pin",
    "unprotect",
    "with_challenge",
    "with_pin",
]

CHALLENGE_LEN = 32  # spec §4.2: nK is 32 bytes


class Protection(Enum):
    """What a client command carries after its own fields (spec §4.1 patterns B and C)."""

    NONE = "none"
    CHALLENGE = "challenge"
    CHALLENGE_PIN = "challenge_pin"


_C = Command
_CHALLENGE = (
    _C.LOCK_ACTION,
    _C.REQUEST_CONFIG,
    _C.REQUEST_ADVANCED_CONFIG,
    _C.KEYPAD_ACTION,
    _C.SIMPLE_LOCK_ACTION,
    _C.REQUEST_DOOR_SENSOR_CONFIG,  # spec §4.2: S5 sends it without PIN
)
_CHALLENGE_PIN = (
    _C.REMOVE_AUTHORIZATION_ENTRY,
    _C.REQUEST_AUTHORIZATION_ENTRIES,
    _C.AUTHORIZATION_DATA_INVITE,
    _C.SET_CONFIG,
    _C.SET_SECURITY_PIN,
    _C.REQUEST_CALIBRATION,
    _C.REQUEST_REBOOT,
    _C.VERIFY_SECURITY_PIN,
    _C.UPDATE_TIME,
    _C.UPDATE_AUTHORIZATION_ENTRY,
    _C.REQUEST_LOG_ENTRIES,
    _C.ENABLE_LOGGING,
    _C.SET_ADVANCED_CONFIG,
    _C.ADD_TIME_CONTROL_ENTRY,
    _C.REMOVE_TIME_CONTROL_ENTRY,
    _C.REQUEST_TIME_CONTROL_ENTRIES,
    _C.UPDATE_TIME_CONTROL_ENTRY,
    _C.ADD_KEYPAD_CODE,
    _C.REQUEST_KEYPAD_CODES,
    _C.UPDATE_KEYPAD_CODE,
    _C.REMOVE_KEYPAD_CODE,
    _C.CONTINUOUS_MODE_ACTION,
)
# spec §4.2: 0x002F and 0x004B have unknown protection; they are left out on purpose.
_UNKNOWN = (_C.START_BUS_SIGNAL_RECORDING, _C.RESTORE_CONFIG)

PROTECTION: Mapping[Command, Protection] = {
    **{c: Protection.NONE for c in Command if c not in _UNKNOWN},
    **dict.fromkeys(_CHALLENGE, Protection.CHALLENGE),
    **dict.fromkeys(_CHALLENGE_PIN, Protection.CHALLENGE_PIN),
}


def new_challenge() -> bytes:
    """A fresh random 32-byte challenge nonce (lock side; spec §4.1)."""
    return secrets.token_bytes(CHALLENGE_LEN)


def _check_challenge(challenge: bytes) -> bytes:
    if len(challenge) != CHALLENGE_LEN:
        raise FieldError(f"A Nuki challenge has {CHALLENGE_LEN} bytes, not {len(challenge)}.")
    return bytes(challenge)


# --- Request Data (0x0001) and Challenge (0x0004) -------------------------------------------


def request_data(command: int, extra: bytes = b"") -> bytes:
    """Request Data payload: the wanted command u16 and optional extra data (spec §4.2)."""
    return u16(int(command), "The requested command") + bytes(extra)


def parse_request_data(payload: bytes) -> tuple[int, bytes]:
    """The requested command id and any extra data."""
    reader = Reader(payload, "Request Data (0x0001)")
    return reader.u16("command"), reader.rest()


def build_challenge(challenge: bytes) -> bytes:
    """Lock side: the Challenge payload, nK[32] (spec §4.2)."""
    return _check_challenge(challenge)


def parse_challenge(payload: bytes) -> bytes:
    """The 32-byte nonce of a Challenge; extra bytes are ignored."""
    return Reader(payload, "Challenge (0x0004)").take(CHALLENGE_LEN, "nonce")


# --- challenge and PIN suffixes ---------------------------------------------------------------


def with_challenge(fields: bytes, challenge: bytes) -> bytes:
    """`fields || nK`: a challenge-protected payload (spec §4.1 pattern B)."""
    return bytes(fields) + _check_challenge(challenge)


def with_pin(fields: bytes, challenge: bytes, pin: int, width: int) -> bytes:
    """`fields || nK || PIN`: an admin payload; PIN is u16 or (5th gen) u32 (spec §4.1 C)."""
    return with_challenge(fields, challenge) + encode_pin(pin, width)


def split_challenge(payload: bytes, what: str = "command") -> tuple[bytes, bytes]:
    """Lock side: `(fields, nK)` of a challenge-protected payload."""
    reader = Reader(payload, what)
    if reader.remaining < CHALLENGE_LEN:
        raise reader.fail(f"{reader.remaining} bytes cannot hold the 32-byte challenge")
    fields = reader.take(reader.remaining - CHALLENGE_LEN, "fields")
    return fields, reader.rest()


def split_challenge_pin(
    payload: bytes, width: int, what: str = "command"
) -> tuple[bytes, bytes, int]:
    """Lock side: `(fields, nK, PIN)` of an admin payload with a `width`-byte PIN."""
    reader = Reader(payload, what)
    if width not in (2, 4):
        raise FieldError("A Nuki security PIN is 2 or 4 bytes wide.")
    if reader.remaining < CHALLENGE_LEN + width:
        raise reader.fail(f"{reader.remaining} bytes cannot hold the challenge and the PIN")
    fields = reader.take(reader.remaining - CHALLENGE_LEN - width, "fields")
    challenge = reader.take(CHALLENGE_LEN, "challenge")
    return fields, challenge, reader.uint(width, "PIN")


@dataclass(frozen=True, slots=True)
class Unprotected:
    """A client payload split by its protection: own fields, nK and PIN where present."""

    fields: bytes
    challenge: bytes | None
    pin: int | None = field(default=None, repr=False)


def protection_of(command: int) -> Protection | None:
    """The protection of a command id; None for ids whose protection no source gives."""
    try:
        return PROTECTION.get(Command(command))
    except ValueError:
        return None


def protect(command: int, fields: bytes, challenge: bytes, pin: int | None, width: int) -> bytes:
    """Client side: `fields` with the suffix PROTECTION asks for (FieldError if pin is None)."""
    protection = protection_of(command)
    if protection is Protection.CHALLENGE_PIN:
        if pin is None:
            raise FieldError("This command needs the lock's security PIN.")
        return with_pin(fields, challenge, pin, width)
    if protection is Protection.CHALLENGE:
        return with_challenge(fields, challenge)
    return bytes(fields)


def unprotect(command: int, payload: bytes, width: int) -> Unprotected:
    """Lock side: split a client payload by the command's protection (ProtocolError if short)."""
    protection = protection_of(command)
    what = command_name(command)
    if protection is Protection.CHALLENGE_PIN:
        fields, challenge, pin = split_challenge_pin(payload, width, what)
        return Unprotected(fields, challenge, pin)
    if protection is Protection.CHALLENGE:
        fields, challenge = split_challenge(payload, what)
        return Unprotected(fields, challenge)
    return Unprotected(bytes(payload), None)
