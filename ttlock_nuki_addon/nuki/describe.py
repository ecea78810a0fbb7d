"""Named, JSON-able fields of any Nuki payload, for logs and the `decode` command; never raises.

Direction: every command id is sent by one side only, except Public Key (0x0003), whose
layout is the same both ways; so `from_lock=None` picks the side from the command id. An
explicit `from_lock` that contradicts the command's only side yields an error entry.
Client payloads are split by `PROTECTION` into own fields, "challenge" and "pin" first.
"""

from __future__ import annotations

import dataclasses
from enum import IntEnum, IntFlag
from typing import TYPE_CHECKING, cast

from . import actions, advanced_config, config_cmds, opener_config, reports, states
from .codec import Command, ErrorCode, StatusCode, command_name
from .describe_extra import (
    EXTRA_CLIENT,
    EXTRA_LOCK,
    PAIRING_CLIENT,
    PAIRING_LOCK,
    Context,
    Formatter,
    Parsed,
    jsonable,
)
from .lock_errors import error_text
from .protected import Protection, parse_challenge, parse_request_data, protection_of, unprotect

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

__all__ = ["REDACTED", "SECRET_FIELDS", "describe", "jsonable", "sent_by_lock"]

REDACTED = "***"
# Field names that hold secrets anywhere in the output (security PIN, keypad codes, keys).
SECRET_FIELDS = frozenset({"pin", "new_pin", "security_pin", "code", "shared_key"})


def _name(enum: type[IntEnum], value: object) -> object:
    if isinstance(value, int) and not isinstance(value, bool):
        try:
            return enum(value).name
        except ValueError:
            return value
    return jsonable(value)


def _flags(enum: type[IntFlag], value: int) -> list[str]:
    return [member.name or "" for member in enum if value & member]


def named(obj: DataclassInstance, **enums: type[IntEnum]) -> Parsed:
    """A dataclass as a dict, with the int fields named in `enums` as member names."""
    out: Parsed = {}
    for f in dataclasses.fields(obj):
        value = getattr(obj, f.name)
        out[f.name] = _name(enums[f.name], value) if f.name in enums else jsonable(value)
    return out


# --- lock -> client ----------------------------------------------------------------------------

_S = states


def _keyturner(data: bytes, ctx: Context) -> Parsed:
    common = {
        "nuki_state": _S.NukiState,
        "trigger": _S.Trigger,
        "last_lock_action_trigger": _S.Trigger,
        "last_lock_action_completion_status": _S.CompletionStatus,
        "door_sensor_state": _S.DoorSensorState,
    }
    if ctx.opener:
        opener = _S.parse_opener_states(data)
        out = named(opener, lock_state=_S.OpenerState, last_lock_action=_S.OpenerAction, **common)
        return {**out, "battery_critical": opener.battery_critical}
    lock = _S.parse_keyturner_states(data)
    out = named(lock, lock_state=_S.LockState, last_lock_action=_S.LockAction, **common)
    extra: Parsed = {
        "battery_percent": lock.battery_percent,
        "battery_critical": lock.battery_critical,
        "battery_charging": lock.battery_charging,
    }
    if lock.accessory_battery_state is not None:
        flags = _flags(_S.AccessoryBattery, lock.accessory_battery_state)
        extra["accessory_battery_flags"] = flags
    return {**out, **extra}


_CONFIG_ENUMS: dict[str, type[IntEnum]] = {
    "dst_mode": config_cmds.DstMode,
    "fob_action_1": config_cmds.FobAction,
    "fob_action_2": config_cmds.FobAction,
    "fob_action_3": config_cmds.FobAction,
    "advertising_mode": config_cmds.AdvertisingMode,
}


def _config(data: bytes, ctx: Context) -> Parsed:
    if ctx.opener:
        return named(opener_config.parse_opener_config(data), **_CONFIG_ENUMS)
    return named(
        config_cmds.parse_config(data),
        homekit_status=config_cmds.HomeKitStatus,
        device_type=config_cmds.DeviceType,
        **_CONFIG_ENUMS,
    )


_ADVANCED_ENUMS: dict[str, type[IntEnum]] = {
    "single_button_press_action": advanced_config.ButtonPressAction,
    "double_button_press_action": advanced_config.ButtonPressAction,
    "battery_type": advanced_config.BatteryType,
    "motor_speed": advanced_config.MotorSpeed,
}


def _advanced(data: bytes, ctx: Context) -> Parsed:
    if ctx.opener:
        return {"payload": data.hex(), "note": "Opener Advanced Config is not decoded."}
    return named(advanced_config.parse_advanced_config(data), **_ADVANCED_ENUMS)


def _error_report(data: bytes, ctx: Context) -> Parsed:
    report = reports.parse_error_report(data)
    return {
        "error_code": _name(ErrorCode, report.code),
        "command": _name(Command, report.command),
        "text": error_text(report.code),
    }


def _battery_report(data: bytes, ctx: Context) -> Parsed:
    return named(reports.parse_battery_report(data), lock_action=_S.LockAction)


LOCK_FORMATTERS: dict[int, Formatter] = {
    Command.CHALLENGE: lambda d, c: {"nonce": parse_challenge(d).hex()},
    Command.KEYTURNER_STATES: _keyturner,
    Command.STATUS: lambda d, c: {"status": _name(StatusCode, reports.parse_status(d))},
    Command.ERROR_REPORT: _error_report,
    Command.BATTERY_REPORT: _battery_report,
    Command.CONFIG: _config,
    Command.ADVANCED_CONFIG: _advanced,
    **EXTRA_LOCK,
    **PAIRING_LOCK,
}

# --- client -> lock (own fields, after the challenge/PIN split) -------------------------------


def _request_data(data: bytes, ctx: Context) -> Parsed:
    command, extra = parse_request_data(data)
    out: Parsed = {"requested": _name(Command, command)}
    if extra:
        out["extra"] = extra.hex()
    return out


def _empty(data: bytes, ctx: Context) -> Parsed:
    return {"unexpected_bytes": data.hex()} if data else {}


def _lock_action(data: bytes, ctx: Context) -> Parsed:
    request = actions.parse_lock_action(data)
    action = _S.OpenerAction if ctx.opener else _S.LockAction
    out = named(request, action=action)
    return {**out, "flag_names": _flags(_S.LockActionFlag, request.flags)}


def _set_config(data: bytes, ctx: Context) -> Parsed:
    if ctx.opener:
        return named(opener_config.parse_opener_new_config(data), **_CONFIG_ENUMS)
    return named(config_cmds.parse_new_config(data), **_CONFIG_ENUMS)


CLIENT_FORMATTERS: dict[int, Formatter] = {
    Command.REQUEST_DATA: _request_data,
    Command.LOCK_ACTION: _lock_action,
    Command.KEYPAD_ACTION: lambda d, c: named(
        actions.parse_keypad_action(d),
        source=actions.KeypadSource,
        action=actions.KeypadActionKind,
    ),
    Command.SIMPLE_LOCK_ACTION: lambda d, c: {
        "action": _name(_S.LockAction, actions.parse_simple_lock_action(d))
    },
    Command.REQUEST_CONFIG: _empty,
    Command.REQUEST_ADVANCED_CONFIG: _empty,
    Command.VERIFY_SECURITY_PIN: _empty,
    Command.REQUEST_CALIBRATION: _empty,
    Command.REQUEST_REBOOT: _empty,
    Command.SET_CONFIG: _set_config,
    Command.SET_ADVANCED_CONFIG: lambda d, c: named(
        advanced_config.parse_new_advanced_config(d), **_ADVANCED_ENUMS
    ),
    Command.UPDATE_TIME: lambda d, c: {"time": jsonable(config_cmds.parse_update_time(d))},
    Command.SET_SECURITY_PIN: lambda d, c: {
        "new_pin": config_cmds.parse_set_security_pin(d, c.pin_width)
    },
    **EXTRA_CLIENT,
    **PAIRING_CLIENT,
}

_BOTH = frozenset({Command.PUBLIC_KEY})


def sent_by_lock(command: int) -> bool | None:
    """True if only the lock sends this command, False if only the client, None if both/unknown."""
    if command in _BOTH:
        return None
    if command in LOCK_FORMATTERS:
        return True
    if command in CLIENT_FORMATTERS or protection_of(command) is not None:
        return False
    return None


def _redact(value: object) -> object:
    if isinstance(value, dict):
        return {k: REDACTED if k in SECRET_FIELDS else _redact(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_redact(v) for v in value]
    return value


def _client(command: int, payload: bytes, ctx: Context, formatter: Formatter) -> Parsed:
    split = unprotect(command, payload, ctx.pin_width)
    out = formatter(split.fields, ctx)
    if split.challenge is not None:
        out["challenge"] = split.challenge.hex()
    if split.pin is not None:
        out["pin"] = split.pin
    return out


def _describe(
    command: int, payload: bytes, from_lock: bool | None, ctx: Context, redact: bool
) -> Parsed:
    side = sent_by_lock(command)
    if from_lock is None:
        from_lock = bool(side)
    if side is not None and side != from_lock:
        who = "lock" if side else "client"
        return {"error": f"{command_name(command)} is only sent by the {who}."}
    table = LOCK_FORMATTERS if from_lock else CLIENT_FORMATTERS
    formatter = table.get(command)
    if formatter is None:
        return {"payload": payload.hex()}
    if from_lock or protection_of(command) in (None, Protection.NONE):
        out = formatter(payload, ctx)
    else:
        out = _client(command, payload, ctx, formatter)
    return cast(Parsed, _redact(out)) if redact else out


def describe(
    command: int,
    payload: bytes,
    *,
    from_lock: bool | None = None,
    pin_width: int = 2,
    redact: bool = False,
    opener: bool = False,
) -> dict[str, object]:
    """JSON-able fields of a payload; {"payload": hex} if unknown, {"error": ...} if malformed.

    `opener` selects the Opener layouts of Keyturner States, Config and Lock Action; with
    `redact` security PINs, keypad codes and shared keys read "***".
    """
    ctx = Context(pin_width if pin_width in (2, 4) else 2, opener)
    try:
        return _describe(command, bytes(payload), from_lock, ctx, redact)
    except Exception as exc:  # a diagnostic view must show every message, never fail
        out: Parsed = {"error": str(exc) or type(exc).__name__}
        if not redact:
            out["payload"] = bytes(payload).hex()
        return out
