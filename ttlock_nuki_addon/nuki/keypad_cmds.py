"""Nuki keypad code messages 0x0041-0x0047, both directions (spec §4.9).

Builders return only the command's own fields; `commands` explains the nK and PIN suffix.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from .codec import Command
from .fields import FieldError, Reader, encode_name, encode_optional_timestamp, flag, u16, u32
from .lists import ListMessages, build_slice_request
from .time_limits import TimeLimit, encode_time_limit, read_time_limit, read_time_limit_lenient

__all__ = [
    "KEYPAD_CODE_ENTRY_LEN",
    "KEYPAD_NAME_LEN",
    "PARSERS",
    "AddKeypadCode",
    "KeypadCodeEntry",
    "KeypadCodeId",
    "UpdateKeypadCode",
    "build_add_keypad_code",
    "build_keypad_code_count",
    "build_keypad_code_entry",
    "build_keypad_code_id",
    "build_remove_keypad_code",
    "build_request_keypad_codes",
    "build_update_keypad_code",
    "is_valid_keypad_code",
    "parse_add_keypad_code",
    "parse_keypad_code_count",
    "parse_keypad_code_entry",
    "parse_keypad_code_id",
    "parse_remove_keypad_code",
    "parse_request_keypad_codes",
    "parse_update_keypad_code",
    "validate_keypad_code",
]

KEYPAD_NAME_LEN = 20  # spec §2.4: keypad-code names are 20 bytes
KEYPAD_CODE_ENTRY_LEN = 63  # spec §4.9: full Keypad Code entry


def validate_keypad_code(code: str | int) -> int:
    """The code as a number: 6 digits 1-9, not starting with 12 (spec §4.9); else FieldError."""
    if isinstance(code, bool) or not isinstance(code, str | int):
        raise FieldError("A Nuki keypad code must be given as digits.")
    text = str(code) if isinstance(code, int) else code
    if len(text) != 6 or not all("1" <= char <= "9" for char in text):
        raise FieldError("A Nuki keypad code must be exactly 6 digits, each from 1 to 9 (no 0).")
    if text.startswith("12"):
        raise FieldError("A Nuki keypad code must not start with 12.")
    return int(text)


def is_valid_keypad_code(code: int) -> bool:
    """Whether a code from the wire is one the lock accepts (the virtual lock's check)."""
    try:
        validate_keypad_code(code)
    except FieldError:
        return False
    return True


def _name(name: str) -> bytes:
    return encode_name(name, KEYPAD_NAME_LEN, "keypad code name")


# --- Add Keypad Code (0x0041) -> Keypad Code ID (0x0042) -------------------------------------


@dataclass(frozen=True, slots=True)
class AddKeypadCode:
    """Add Keypad Code fields; `time_limit` None = works at any time."""

    code: int = field(repr=False)
    name: str
    time_limit: TimeLimit | None = None


def build_add_keypad_code(code: str | int, name: str, time_limit: TimeLimit | None = None) -> bytes:
    """code u32 ‖ name[20] ‖ time-limit block (spec §4.9); the code is validated first."""
    return (
        u32(validate_keypad_code(code), "The keypad code")
        + _name(name)
        + encode_time_limit(time_limit)
    )


def parse_add_keypad_code(payload: bytes) -> AddKeypadCode:
    """Lock side: the fields of an Add Keypad Code; the code itself is not judged here."""
    reader = Reader(payload, "Add Keypad Code (0x0041)")
    request = AddKeypadCode(
        code=reader.u32("code"),
        name=reader.name(KEYPAD_NAME_LEN, "name"),
        time_limit=read_time_limit(reader),
    )
    reader.done()
    return request


@dataclass(frozen=True, slots=True)
class KeypadCodeId:
    """Keypad Code ID: the id the lock gave a new code and when."""

    code_id: int
    date_created: datetime | None


def build_keypad_code_id(code_id: int, date_created: datetime | None) -> bytes:
    """Lock side: codeId u16 ‖ dateCreated[7] (spec §4.9)."""
    return u16(code_id, "The keypad code id") + encode_optional_timestamp(date_created)


def parse_keypad_code_id(payload: bytes) -> KeypadCodeId:
    """A Keypad Code ID; extra trailing bytes are ignored."""
    reader = Reader(payload, "Keypad Code ID (0x0042)")
    return KeypadCodeId(reader.u16("code id"), reader.timestamp("date created"))


# --- Request Keypad Codes (0x0043) -> Keypad Code Count (0x0044) + N x Keypad Code (0x0045) ---


_LIST = ListMessages(
    request="Request Keypad Codes (0x0043)",
    count="Keypad Code Count (0x0044)",
    count_field="The keypad code count",
)
build_request_keypad_codes = build_slice_request
parse_request_keypad_codes = _LIST.parse_request
build_keypad_code_count = _LIST.build_count
parse_keypad_code_count = _LIST.parse_count


@dataclass(frozen=True, slots=True)
class KeypadCodeEntry:
    """One Keypad Code entry as the lock lists it; unset dates are None."""

    code_id: int
    code: int = field(repr=False)
    name: str
    enabled: bool = True
    date_created: datetime | None = None
    date_last_active: datetime | None = None
    lock_count: int = 0
    time_limit: TimeLimit | None = None


def build_keypad_code_entry(entry: KeypadCodeEntry) -> bytes:
    """Lock side: the full 63-byte Keypad Code entry (spec §4.9)."""
    return (
        u16(entry.code_id, "The keypad code id")
        + u32(entry.code, "The keypad code")
        + _name(entry.name)
        + flag(entry.enabled)
        + encode_optional_timestamp(entry.date_created)
        + encode_optional_timestamp(entry.date_last_active)
        + u16(entry.lock_count, "The lock count")
        + encode_time_limit(entry.time_limit)
    )


def parse_keypad_code_entry(payload: bytes) -> KeypadCodeEntry:
    """A Keypad Code entry, by length: the time-limit block may be missing when unlimited."""
    reader = Reader(payload, "Keypad Code (0x0045)")
    return KeypadCodeEntry(
        code_id=reader.u16("code id"),
        code=reader.u32("code"),
        name=reader.name(KEYPAD_NAME_LEN, "name"),
        enabled=reader.flag("enabled"),
        date_created=reader.timestamp("date created"),
        date_last_active=reader.timestamp("date last active"),
        lock_count=reader.u16("lock count"),
        time_limit=read_time_limit_lenient(reader),
    )


# --- Update Keypad Code (0x0046), Remove Keypad Code (0x0047) --------------------------------


@dataclass(frozen=True, slots=True)
class UpdateKeypadCode:
    """Update Keypad Code fields: every setting of one code is rewritten."""

    code_id: int
    code: int = field(repr=False)
    name: str
    enabled: bool = True
    time_limit: TimeLimit | None = None


def build_update_keypad_code(
    code_id: int,
    code: str | int,
    name: str,
    enabled: bool = True,
    time_limit: TimeLimit | None = None,
) -> bytes:
    """codeId u16 ‖ code u32 ‖ name[20] ‖ enabled u8 ‖ time-limit block (spec §4.9)."""
    return (
        u16(code_id, "The keypad code id")
        + u32(validate_keypad_code(code), "The keypad code")
        + _name(name)
        + flag(enabled)
        + encode_time_limit(time_limit)
    )


def parse_update_keypad_code(payload: bytes) -> UpdateKeypadCode:
    """Lock side: the fields of an Update Keypad Code; the code itself is not judged here."""
    reader = Reader(payload, "Update Keypad Code (0x0046)")
    request = UpdateKeypadCode(
        code_id=reader.u16("code id"),
        code=reader.u32("code"),
        name=reader.name(KEYPAD_NAME_LEN, "name"),
        enabled=reader.flag("enabled"),
        time_limit=read_time_limit(reader),
    )
    reader.done()
    return request


def build_remove_keypad_code(code_id: int) -> bytes:
    """codeId u16 (spec §4.9)."""
    return u16(code_id, "The keypad code id")


def parse_remove_keypad_code(payload: bytes) -> int:
    """Lock side: the id of the code to remove."""
    reader = Reader(payload, "Remove Keypad Code (0x0047)")
    code_id = reader.u16("code id")
    reader.done()
    return code_id


PARSERS: dict[Command, Callable[[bytes], object]] = {
    Command.ADD_KEYPAD_CODE: parse_add_keypad_code,
    Command.KEYPAD_CODE_ID: parse_keypad_code_id,
    Command.REQUEST_KEYPAD_CODES: parse_request_keypad_codes,
    Command.KEYPAD_CODE_COUNT: parse_keypad_code_count,
    Command.KEYPAD_CODE: parse_keypad_code_entry,
    Command.UPDATE_KEYPAD_CODE: parse_update_keypad_code,
    Command.REMOVE_KEYPAD_CODE: parse_remove_keypad_code,
}
