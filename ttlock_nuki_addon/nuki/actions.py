"""Nuki Lock Action, Keypad Action and Simple Lock Action fields (spec §4.2, §4.10).

Builders return the command's own fields; `protected.with_challenge` appends nK, and the lock
strips it with `protected.split_challenge` before parsing here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum

from .fields import FieldError, Reader, encode_name, u8, u32

__all__ = [
    "NAME_SUFFIX_LEN",
    "KeypadActionKind",
    "KeypadActionRequest",
    "KeypadSource",
    "LockActionRequest",
    "build_keypad_action",
    "build_lock_action",
    "build_simple_lock_action",
    "parse_keypad_action",
    "parse_lock_action",
    "parse_simple_lock_action",
]

NAME_SUFFIX_LEN = 20  # spec §4.10: always padded to 20 bytes
_LOCK_ACTION_FIELDS = 6  # action u8, app id u32, flags u8


class KeypadSource(IntEnum):
    """Where a Keypad Action came from (spec §4.2 0x0048)."""

    ARROW_KEY = 0x00
    CODE = 0x01
    FINGERPRINT = 0x02


class KeypadActionKind(IntEnum):
    """Keypad Action action codes (spec §4.2 0x0048)."""

    INTELLIGENT = 0x00
    UNLOCK = 0x01
    LOCK = 0x02
    UNLATCH = 0x03
    LOCK_N_GO = 0x04


@dataclass(frozen=True, slots=True)
class LockActionRequest:
    """Lock Action (0x000D) fields; name_suffix None when not sent."""

    action: int  # states.LockAction / OpenerAction
    app_id: int
    flags: int = 0  # states.LockActionFlag bits
    name_suffix: str | None = None

    def to_payload(self) -> bytes:
        """action u8 || app id u32 || flags u8 || [suffix 20]: 6 or 26 bytes."""
        return build_lock_action(self.action, self.app_id, self.flags, self.name_suffix)


def build_lock_action(
    action: int, app_id: int, flags: int = 0, name_suffix: str | None = None
) -> bytes:
    """Lock Action fields (spec §4.10); the suffix is appended to the log entry's name."""
    fields = u8(int(action), "The lock action") + u32(app_id, "The app id")
    fields += u8(int(flags), "The lock action flags")
    if name_suffix is not None:
        fields += encode_name(name_suffix, NAME_SUFFIX_LEN, "name suffix")
    return fields


def parse_lock_action(fields: bytes) -> LockActionRequest:
    """Lock side: 6 or 26 bytes of Lock Action fields (38 or 58 with nK, spec §4.10)."""
    reader = Reader(fields, "Lock Action (0x000D)")
    if reader.remaining not in (_LOCK_ACTION_FIELDS, _LOCK_ACTION_FIELDS + NAME_SUFFIX_LEN):
        raise reader.fail(f"{reader.remaining} bytes before the challenge, 6 or 26 expected")
    action, app_id, flags = reader.u8("action"), reader.u32("app id"), reader.u8("flags")
    suffix = reader.name(NAME_SUFFIX_LEN, "name suffix") if reader.remaining else None
    return LockActionRequest(action, app_id, flags, suffix)


@dataclass(frozen=True, slots=True)
class KeypadActionRequest:
    """Keypad Action (0x0048) fields; `code` is a keypad code (secret)."""

    source: int  # KeypadSource
    code: int = field(repr=False)
    action: int  # KeypadActionKind

    def to_payload(self) -> bytes:
        """source u8 || code u32 || action u8."""
        return build_keypad_action(self.source, self.code, self.action)


def build_keypad_action(source: int, code: int, action: int) -> bytes:
    """Keypad Action fields (spec §4.2 0x0048)."""
    fields = u8(int(source), "The keypad source") + u32(code, "The keypad code")
    return fields + u8(int(action), "The keypad action")


def parse_keypad_action(fields: bytes) -> KeypadActionRequest:
    """Lock side: exactly 6 bytes of Keypad Action fields."""
    reader = Reader(fields, "Keypad Action (0x0048)")
    source, code, action = reader.u8("source"), reader.u32("code"), reader.u8("action")
    reader.done()
    return KeypadActionRequest(source, code, action)


def build_simple_lock_action(action: int) -> bytes:
    """Simple Lock Action fields (API 2.1, spec §4.2 0x0100): unlock 0x01 or lock 0x02."""
    if action not in (0x01, 0x02):
        raise FieldError("A Simple Lock Action is unlock (0x01) or lock (0x02).")
    return u8(int(action), "The lock action")


def parse_simple_lock_action(fields: bytes) -> int:
    """Lock side: the action byte of a Simple Lock Action (exactly 1 byte)."""
    reader = Reader(fields, "Simple Lock Action (0x0100)")
    action = reader.u8("action")
    reader.done()
    return action
