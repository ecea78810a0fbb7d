"""Named fields of TTLock payloads, for people reading logs (the `decode` command)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from enum import IntEnum
from typing import TYPE_CHECKING

from ..errors import ProtocolError
from . import auth_cmds as auth
from . import card_cmds as card
from . import commands as cmds
from . import features as feat
from . import fingerprint_cmds as fp
from . import oplog
from . import passcode_cmds as pwd
from . import settings_cmds as sets
from .codec import Command

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

Parsed = dict[str, object]
Parser = Callable[[bytes], object]
C = Command
_NAMES: dict[int, str] = {int(member): name for name, member in Command.__members__.items()}


def command_name(code: int) -> str | None:
    """The command's name (the spec's cleaner alias where there is one), None if unknown."""
    return _NAMES.get(code)


def enum_name(enum: type[IntEnum], value: int | None) -> str | None:
    """The member name of `value`, or None."""
    try:
        return None if value is None else enum(value).name
    except ValueError:
        return None


def _fields(obj: DataclassInstance, **enums: type[IntEnum]) -> Parsed:
    """A dataclass's fields, plus `<field>_name` for the int fields named in enums."""
    out: Parsed = {f.name: getattr(obj, f.name) for f in dataclasses.fields(obj)}
    for name, enum in enums.items():
        value = out.get(name)
        out[f"{name}_name"] = enum_name(enum, value) if isinstance(value, int) else None
    return out


# --- requests (plaintext payload -> fields) -------------------------------------------------


def _no_payload(data: bytes) -> Parsed:
    return {} if not data else {"unexpected_payload": data}


def _vendor(data: bytes) -> Parsed:
    return {"vendor": data.decode("latin-1"), "vendor_ok": cmds.vendor_ok(data)}


def _add_admin(data: bytes) -> Parsed:
    request = cmds.parse_add_admin_request(data)
    keys = request.keys
    return {
        "admin_ps": keys.admin_ps,
        "unlock_key": keys.unlock_key,
        "vendor_ok": request.vendor_ok,
    }


def _operate(data: bytes) -> Parsed:
    request = auth.parse_operate_request(data)
    when = datetime.fromtimestamp(request.timestamp, UTC)
    return {"check_sum": request.check_sum, "timestamp": request.timestamp, "timestamp_utc": when}


def _setting(value: Callable[[bytes], Parsed]) -> Parser:
    def parse(data: bytes) -> Parsed:
        request = sets.parse_setting_request(data, "setting request")
        out: Parsed = {"op": request.op, "op_name": enum_name(sets.SettingOp, request.op)}
        if request.op == sets.SettingOp.SET:
            out.update(value(request.value))
        elif request.value:
            out["value"] = request.value
        return out

    return parse


def _audio_set(value: bytes) -> Parsed:
    on, volume = sets.parse_audio_set(value)
    return {"on": on, "volume": volume}


def _switches(state: sets.SwitchState) -> Parsed:
    named = {i.name: state.is_on(i) for i in sets.SwitchItem if state.items & i}
    return {"items": state.items, "values": state.values, "switches": named}


def _log_request(data: bytes) -> Parsed:
    seq = oplog.parse_log_request(data)
    return {"sequence": seq, "new_only": seq == oplog.LOG_NEW}


def _device_info_request(data: bytes) -> Parsed:
    kind = cmds.parse_device_info_request(data)
    return {"info_type": kind, "info_type_name": enum_name(cmds.DeviceInfoType, kind)}


REQUEST_PARSERS: dict[int, Parser] = {
    C.INITIALIZATION: _no_payload,
    C.SEARCH_DEVICE_FEATURE: _no_payload,
    C.GET_LOCK_TIME: _no_payload,
    C.GET_ADMIN_CODE: _no_payload,
    C.OPERATE_FINISHED: _no_payload,
    C.RESET_LOCK: _no_payload,
    C.GET_AES_KEY: _vendor,
    C.SEARCH_BICYCLE_STATUS: _vendor,
    C.ADD_ADMIN: _add_admin,
    C.TIME_CALIBRATE: lambda d: {"time": cmds.parse_time_calibrate_request(d)},
    C.CHECK_ADMIN: lambda d: _fields(auth.parse_check_admin_request(d)),
    C.CHECK_RANDOM: lambda d: {"check_sum": auth.parse_check_random_request(d)},
    C.CHECK_USER_TIME: lambda d: _fields(auth.parse_check_user_time_request(d)),
    C.UNLOCK: _operate,
    C.FUNCTION_LOCK: _operate,
    C.DEAD_LOCK: _operate,
    C.MANAGE_KEYBOARD_PASSWORD: lambda d: _fields(
        pwd.parse_passcode_request(d), op=pwd.PasscodeOp, type=pwd.PasscodeType
    ),
    C.PWD_LIST: lambda d: {"sequence": pwd.parse_passcode_list_request(d)},
    C.IC_MANAGE: lambda d: _fields(card.parse_card_request(d), op=card.CardOp),
    C.FR_MANAGE: lambda d: _fields(fp.parse_fingerprint_request(d), op=fp.FingerprintOp),
    C.CYCLIC_CMD: lambda d: _fields(
        card.parse_cyclic_request(d), op=card.CyclicOp, user_type=card.CyclicUserType
    ),
    C.AUTO_LOCK_MANAGE: _setting(lambda v: {"seconds": sets.parse_auto_lock_set(v)}),
    C.AUDIO_MANAGE: _setting(_audio_set),
    C.CONTROL_REMOTE_UNLOCK: _setting(lambda v: {"on": sets.parse_on_off_set(v, "0x37")}),
    C.SHOW_PASSWORD: _setting(lambda v: {"on": sets.parse_on_off_set(v, "0x59")}),
    C.SWITCH: _setting(lambda v: _switches(sets.parse_switch_words(v, "switch set (0x68)"))),
    C.CONFIGURE_PASSAGE_MODE: lambda d: _fields(sets.parse_passage_request(d), op=sets.PassageOp),
    C.GET_OPERATE_LOG: _log_request,
    C.READ_DEVICE_INFO: _device_info_request,
    C.SET_ADMIN_KEYBOARD_PWD: lambda d: {"admin_passcode": cmds.parse_set_admin_code_request(d)},
    C.INIT_PASSWORDS: lambda d: _fields(cmds.parse_init_passwords_request(d)),
}

# --- answers (data after echo and status -> fields) -----------------------------------------


def _battery(data: bytes) -> Parsed:
    return {"battery": cmds.parse_battery(data)}


def _features(data: bytes) -> Parsed:
    answer = feat.parse_features_response(data)
    mask = answer.features
    names = [f.name for f in sorted(mask.features)]
    return {
        "battery": answer.battery,
        "features": {"hex": mask.to_hex(), "bits": mask.bits, "names": names},
    }


def _status(data: bytes) -> Parsed:
    answer = auth.parse_status_response(data)
    kind = "log_push" if isinstance(answer, auth.OperationPush) else "status"
    return {"kind": kind, **_fields(answer)}


def _op_ack(enum: type[IntEnum], what: str) -> Callable[[bytes], Parsed]:
    def parse(data: bytes) -> Parsed:
        ack = cmds.parse_op_ack(data, what)
        return {"battery": ack.battery, "op": ack.op, "op_name": enum_name(enum, ack.op)}

    return parse


def _by_op(enum: type[IntEnum], what: str, parsers: Mapping[int, Parser]) -> Parser:
    """Answers shaped by their op byte (data[1]); a bare `battery op` is the common ack."""
    ack = _op_ack(enum, what)

    def parse(data: bytes) -> object:
        parser = parsers.get(data[1]) if len(data) > 2 else None
        if parser is not None:
            try:
                return parser(data)
            except ProtocolError:
                pass  # e.g. an add answered `battery 02 01` without the enrolment fields
        return {**ack(data), "rest": data[2:]} if len(data) > 2 else ack(data)

    return parse


def _passcode_page(data: bytes) -> Parsed:
    page = pwd.parse_passcode_page(data)
    records = [_fields(r, type=pwd.PasscodeType) for r in page.records]
    return {"next_seq": page.next_seq, "is_last": page.is_last, "records": records}


def _log_page(data: bytes) -> Parsed:
    page = oplog.parse_log_page(data)
    records = [
        {**_fields(r), "type_name": r.log_type, "tail_kind": type(r.tail).__name__}
        for r in page.records
    ]
    return {"next_seq": page.next_seq, "records": records}


def _device_info(data: bytes) -> Parsed:
    info = cmds.parse_device_info_response(data, 0)
    return {"raw": info.raw, "text": info.text}


_QUERY = sets.SettingOp.QUERY
RESPONSE_PARSERS: dict[int, Parser] = {
    C.SEARCH_DEVICE_FEATURE: _features,
    C.GET_AES_KEY: lambda d: {"key": cmds.parse_aes_key_response(d).key},
    C.ADD_ADMIN: lambda d: {"vendor_ok": cmds.add_admin_answer_ok(d)},
    C.GET_LOCK_TIME: lambda d: {"time": cmds.parse_lock_time_response(d)},
    C.CHECK_ADMIN: lambda d: {"ps_from_lock": auth.parse_ps_from_lock(d)},
    C.CHECK_USER_TIME: lambda d: {"ps_from_lock": auth.parse_ps_from_lock(d)},
    C.UNLOCK: lambda d: _fields(auth.parse_operate_response(d)),
    C.FUNCTION_LOCK: lambda d: _fields(auth.parse_operate_response(d)),
    C.DEAD_LOCK: lambda d: _fields(auth.parse_operate_response(d)),
    C.SEARCH_BICYCLE_STATUS: _status,
    C.MANAGE_KEYBOARD_PASSWORD: _op_ack(pwd.PasscodeOp, "passcode answer (0x03)"),
    C.PWD_LIST: _passcode_page,
    C.IC_MANAGE: _by_op(
        card.CardOp,
        "IC card answer (0x05)",
        {card.CardOp.LIST: card.parse_card_page, card.CardOp.ADD: card.parse_card_enrol},
    ),
    C.FR_MANAGE: _by_op(
        fp.FingerprintOp,
        "fingerprint answer (0x06)",
        {
            fp.FingerprintOp.LIST: fp.parse_fingerprint_page,
            fp.FingerprintOp.ADD: fp.parse_fingerprint_enrol,
        },
    ),
    C.CYCLIC_CMD: _op_ack(card.CyclicOp, "cyclic answer (0x70)"),
    C.AUTO_LOCK_MANAGE: _by_op(
        sets.SettingOp, "auto-lock answer (0x36)", {_QUERY: sets.parse_auto_lock_state}
    ),
    C.AUDIO_MANAGE: _by_op(sets.SettingOp, "audio answer (0x62)", {_QUERY: sets.parse_audio_state}),
    C.CONTROL_REMOTE_UNLOCK: _by_op(
        sets.SettingOp,
        "remote unlock answer (0x37)",
        {_QUERY: lambda d: sets.parse_on_off_state(d, "remote unlock answer (0x37)")},
    ),
    C.SHOW_PASSWORD: _by_op(
        sets.SettingOp,
        "passcode display answer (0x59)",
        {_QUERY: lambda d: sets.parse_on_off_state(d, "passcode display answer (0x59)")},
    ),
    C.SWITCH: _by_op(
        sets.SettingOp,
        "switch answer (0x68)",
        {_QUERY: lambda d: {"battery": d[0], **_switches(sets.parse_switch_state(d)[1])}},
    ),
    C.CONFIGURE_PASSAGE_MODE: _by_op(
        sets.PassageOp, "passage-mode answer (0x66)", {_QUERY: sets.parse_passage_page}
    ),
    C.GET_OPERATE_LOG: _log_page,
    C.READ_DEVICE_INFO: _device_info,
    C.GET_ADMIN_CODE: lambda d: {"admin_code": cmds.parse_admin_code_response(d)},
    C.TIME_CALIBRATE: _battery,
    C.CHECK_RANDOM: _battery,
    C.OPERATE_FINISHED: _battery,
    C.RESET_LOCK: _battery,
    C.SET_ADMIN_KEYBOARD_PWD: _battery,
    C.INIT_PASSWORDS: _battery,
}

# --- the frame ------------------------------------------------------------------------------


def describe(table: Mapping[int, Parser], command: int, data: bytes) -> Parsed:
    """`{"parsed": fields}` for a payload, or `parsed: None` with a `parse_error`."""
    parser = table.get(command)
    if parser is None:
        return {"parsed": None}
    try:
        return {"parsed": parser(data)}
    except ProtocolError as exc:
        return {"parsed": None, "parse_error": exc.message}
    except ValueError as exc:
        return {"parsed": None, "parse_error": str(exc)}
