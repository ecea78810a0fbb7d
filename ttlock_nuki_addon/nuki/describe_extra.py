"""JSON-able values and `describe` formatters: keypad, authorization, log, time control, pairing."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time
from enum import IntEnum
from typing import Any

from . import auth_cmds, keypad_cmds, log_cmds, pairing_msgs, time_control
from .codec import Command
from .layout import Flag, Int, Layout

__all__ = [
    "EXTRA_CLIENT",
    "EXTRA_LOCK",
    "LOCK_SENT",
    "PAIRING_CLIENT",
    "PAIRING_LOCK",
    "Context",
    "Formatter",
    "Parsed",
    "jsonable",
]

Parsed = dict[str, object]
C = Command


@dataclass(frozen=True, slots=True)
class Context:
    """What a formatter needs besides the bytes."""

    pin_width: int
    opener: bool


Formatter = Callable[[bytes, Context], Parsed]


def jsonable(value: object) -> object:
    """`value` with enums as names, bytes as hex, dates ISO, dataclasses as dicts."""
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, IntEnum):
        return value.name
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else repr(value)
    if isinstance(value, bytes | bytearray):
        return bytes(value).hex()
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, set | frozenset):
        return [jsonable(v) for v in sorted(value)]
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    return repr(value)


# spec §4.2: commands only the lock sends (Public Key goes both ways).
LOCK_SENT = frozenset(
    {
        C.CHALLENGE,
        C.AUTHORIZATION_ID,
        C.AUTHORIZATION_ENTRY,
        C.KEYTURNER_STATES,
        C.STATUS,
        C.MOST_RECENT_COMMAND,
        C.OPENINGS_CLOSINGS_SUMMARY,
        C.BATTERY_REPORT,
        C.ERROR_REPORT,
        C.CONFIG,
        C.AUTHORIZATION_ID_INVITE,
        C.AUTHORIZATION_ENTRY_COUNT,
        C.LOG_ENTRY,
        C.LOG_ENTRY_COUNT,
        C.ADVANCED_CONFIG,
        C.TIME_CONTROL_ENTRY_ID,
        C.TIME_CONTROL_ENTRY_COUNT,
        C.TIME_CONTROL_ENTRY,
        C.KEYPAD_CODE_ID,
        C.KEYPAD_CODE_COUNT,
        C.KEYPAD_CODE,
        C.AUTHORIZATION_INFO,
        C.DOOR_SENSOR_CONFIG,
    }
)

# What a parser's bare number or flag means, per command.
_SCALAR_NAMES: dict[int, str] = {
    C.REMOVE_AUTHORIZATION_ENTRY: "auth_id",
    C.AUTHORIZATION_ENTRY_COUNT: "count",
    C.KEYPAD_CODE_COUNT: "count",
    C.REMOVE_KEYPAD_CODE: "code_id",
    C.ENABLE_LOGGING: "enabled",
    C.TIME_CONTROL_ENTRY_ID: "entry_id",
    C.REMOVE_TIME_CONTROL_ENTRY: "entry_id",
    C.TIME_CONTROL_ENTRY_COUNT: "count",
}


def _wrap(command: int, parse: Callable[[bytes], object]) -> Formatter:
    def format_(data: bytes, ctx: Context) -> Parsed:
        value = jsonable(parse(data))
        if isinstance(value, dict):
            return value
        return {_SCALAR_NAMES.get(command, "value"): value}

    return format_


def _layout(layout: Layout) -> Callable[[bytes], object]:
    return layout.read


U8, U16 = Int(1), Int(2)
_SMALL_LOCK: dict[int, Callable[[bytes], Any]] = {
    C.MOST_RECENT_COMMAND: _layout(Layout("Most Recent Command (0x000F)", [("command", U16)])),
    C.OPENINGS_CLOSINGS_SUMMARY: _layout(
        Layout(
            "Openings Closings Summary (0x0010)",
            [
                ("openings_total", U16),
                ("closings_total", U16),
                ("openings_since_boot", U16),
                ("closings_since_boot", U16),
            ],
        )
    ),
    C.DOOR_SENSOR_CONFIG: _layout(
        Layout(
            "Door Sensor Config (0x0059)",
            [
                ("enabled", Flag()),
                ("door_ajar_timeout", U8),
                ("door_ajar_logging_enabled", Flag()),
                ("door_status_mismatch_logging_enabled", Flag()),
            ],
        )
    ),
    C.TIME_CONTROL_ENTRY_ID: time_control.parse_time_control_entry_id,
    C.TIME_CONTROL_ENTRY_COUNT: time_control.parse_time_control_entry_count,
    C.TIME_CONTROL_ENTRY: time_control.parse_time_control_entry,
}
_SMALL_CLIENT: dict[int, Callable[[bytes], Any]] = {
    C.ADD_TIME_CONTROL_ENTRY: time_control.parse_add_time_control_entry,
    C.REMOVE_TIME_CONTROL_ENTRY: time_control.parse_remove_time_control_entry,
    C.UPDATE_TIME_CONTROL_ENTRY: time_control.parse_update_time_control_entry,
    C.REQUEST_TIME_CONTROL_ENTRIES: lambda data: Layout("request", []).read(data, exact=True),
    C.REQUEST_DOOR_SENSOR_CONFIG: lambda data: Layout("request", []).read(data, exact=True),
    C.CONTINUOUS_MODE_ACTION: _layout(
        Layout("Continuous Mode Action (0x0057)", [("enabled", Flag()), ("timeout", U8)])
    ),
}


def _split(*tables: Mapping[Any, Callable[[bytes], object]]) -> tuple[dict[int, Formatter], ...]:
    lock: dict[int, Formatter] = {}
    client: dict[int, Formatter] = {}
    for table in tables:
        for command, parse in table.items():
            (lock if command in LOCK_SENT else client)[command] = _wrap(command, parse)
    return lock, client


EXTRA_LOCK, EXTRA_CLIENT = _split(
    keypad_cmds.PARSERS, auth_cmds.PARSERS, log_cmds.PARSERS, _SMALL_LOCK, _SMALL_CLIENT
)

# --- pairing (spec §3): choose the classic or the 5th-gen layout by length ---------------------

P = pairing_msgs


def _with_name(obj: P.AuthorizationData | P.UltraAuthorizationData) -> object:
    out = jsonable(obj)
    assert isinstance(out, dict)
    out.pop("name_field", None)
    return {**out, "name": obj.name}


def _authorization_data(data: bytes) -> object:
    if len(data) == P.UltraAuthorizationData.SIZE:
        return _with_name(P.UltraAuthorizationData.parse(data))
    return _with_name(P.AuthorizationData.parse(data))


def _authorization_id(data: bytes) -> object:
    if len(data) == P.UltraAuthorizationId.SIZE:
        return P.UltraAuthorizationId.parse(data)
    return P.AuthorizationId.parse(data)


PAIRING_LOCK, PAIRING_CLIENT = _split(
    {
        C.PUBLIC_KEY: P.PublicKey.parse,
        C.AUTHORIZATION_ID: _authorization_id,
        C.AUTHORIZATION_INFO: P.AuthorizationInfo.parse,
    },
    {
        C.AUTHORIZATION_AUTHENTICATOR: P.AuthorizationAuthenticator.parse,
        C.AUTHORIZATION_DATA: _authorization_data,
        C.AUTHORIZATION_ID_CONFIRMATION: P.AuthorizationIdConfirmation.parse,
    },
)
# Public Key has one layout for both directions.
PAIRING_CLIENT[C.PUBLIC_KEY] = PAIRING_LOCK[C.PUBLIC_KEY] = _wrap(C.PUBLIC_KEY, P.PublicKey.parse)
