"""Virtual TTLock, lock side of pairing, authentication, bolt, status and settings (spec §5)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..ttlock import auth_cmds as auth
from ..ttlock import commands as cmds
from ..ttlock import settings_cmds as st
from ..ttlock.codec import Command, ErrorCode, Response
from ..ttlock.commands import DeviceInfoType
from ..ttlock.features import Feature, build_features_response
from ..ttlock.oplog import LogType
from ..ttlock.oplog_tails import AppTail
from ..ttlock.settings_cmds import PassageOp, SettingOp, SwitchState
from .ttlock_state import SUPPORTED_SWITCHES, Auth, CommandSpec, Reply

if TYPE_CHECKING:
    from .ttlock import VirtualTTLock

C = Command
PASSAGE_PAGE = 5
MAX_PASSAGE = 20


def _ok(lock: VirtualTTLock, command: int, data: bytes | None = None) -> Response:
    """Success; without data the answer carries the battery byte, as most answers do (§5.1)."""
    return Response.success(command, cmds.build_battery(lock.battery) if data is None else data)


def _fail(command: int, code: ErrorCode) -> Response:
    return Response.failure(command, code)


def _ack(lock: VirtualTTLock, command: int, op: int) -> Response:
    return Response.success(command, cmds.build_op_ack(lock.battery, op))


# --- pairing (spec §5.4) ------------------------------------------------------------------


def get_aes_key(lock: VirtualTTLock, payload: bytes) -> Reply:
    """0x19: a fresh session key, only in setting mode (spec §3.3)."""
    if not lock.setting_mode:
        # spec §3.3: a paired lock answers with a frame the default key does not decrypt.
        lock.send_undecryptable(C.GET_AES_KEY)
        return None
    if not cmds.vendor_ok(payload):
        return _fail(C.GET_AES_KEY, ErrorCode.INVALID_VENDOR)
    return Response.success(C.GET_AES_KEY, cmds.build_aes_key_response(lock.new_session_key()))


def initialization(lock: VirtualTTLock, payload: bytes) -> Reply:
    """0x45: answered with data no known key decrypts; the app ignores it (spec §5.4, §7.2)."""
    lock.send_undecryptable(C.RESPONSE)
    return None


def add_admin(lock: VirtualTTLock, payload: bytes) -> Reply:
    """0x56: store adminPs/unlockKey; counts only after 0x57 (spec §5.4 step 2)."""
    memory = lock.memory
    if memory.admin is not None or memory.aes_key is None:
        return _fail(C.ADD_ADMIN, ErrorCode.NOT_IN_SETTING_MODE)
    request = cmds.parse_add_admin_request(payload)
    if not request.vendor_ok:
        return _fail(C.ADD_ADMIN, ErrorCode.INVALID_VENDOR)
    memory.admin = request.keys
    lock.session.admin = True  # the pairing link needs no CHECK_ADMIN (spec §5.4)
    lock.note("voice: administrator added")
    return Response.success(C.ADD_ADMIN, cmds.build_vendor())


def operate_finished(lock: VirtualTTLock, payload: bytes) -> Reply:
    """0x57: commit the pairing (spec §5.5.23)."""
    if not lock.memory.paired:
        lock.memory.paired = True
        lock.note("pairing committed")
        lock.refresh_advert()
    return _ok(lock, C.OPERATE_FINISHED)


def time_calibrate(lock: VirtualTTLock, payload: bytes) -> Reply:
    """0x43: set the lock clock (lock-local wall time); answer `battery` (spec §5.5.7)."""
    lock.set_lock_time(cmds.parse_time_calibrate_request(payload))
    return _ok(lock, C.TIME_CALIBRATE)


def get_lock_time(lock: VirtualTTLock, payload: bytes) -> Reply:
    """0x34: the lock clock as date6 (spec §5.5.7)."""
    return _ok(lock, C.GET_LOCK_TIME, cmds.build_lock_time_response(lock.lock_time()))


def features(lock: VirtualTTLock, payload: bytes) -> Reply:
    """0x01: battery and four feature words, as the lock in spec §5.5.1's example."""
    return _ok(lock, C.SEARCH_DEVICE_FEATURE, build_features_response(lock.battery, lock.features))


def device_info(lock: VirtualTTLock, payload: bytes) -> Reply:
    """0x90: model, hardware, firmware, manufacture date, clock (spec §5.5.22)."""
    kind = cmds.parse_device_info_request(payload)
    values: dict[int, bytes | str] = {
        DeviceInfoType.MODEL: lock.model_number,
        DeviceInfoType.HARDWARE: lock.hardware_revision,
        DeviceInfoType.FIRMWARE: lock.firmware_revision,
        DeviceInfoType.MANUFACTURE_DATE: lock.manufacture_date,
        DeviceInfoType.CLOCK: cmds.build_lock_time_response(lock.lock_time()),
    }
    value = values.get(kind)
    if value is None:
        return _fail(C.READ_DEVICE_INFO, ErrorCode.INVALID_PARAMETER)
    return _ok(lock, C.READ_DEVICE_INFO, cmds.build_device_info_response(value))


def get_admin_code(lock: VirtualTTLock, payload: bytes) -> Reply:
    """0x65: `battery len code`, empty after a reset (spec §5.5.13)."""
    data = cmds.build_admin_code_response(lock.battery, lock.memory.admin_code)
    return _ok(lock, C.GET_ADMIN_CODE, data)


def set_admin_code(lock: VirtualTTLock, payload: bytes) -> Reply:
    """0x53: the keypad super passcode, one byte per digit (spec §5.5.13)."""
    code = cmds.parse_set_admin_code_request(payload)
    if code in lock.memory.passcodes:
        return _fail(C.SET_ADMIN_KEYBOARD_PWD, ErrorCode.PASSCODE_EXISTS)
    lock.memory.admin_code = code
    return _ok(lock, C.SET_ADMIN_KEYBOARD_PWD)


def init_passwords(lock: VirtualTTLock, payload: bytes) -> Reply:
    """0x31: keep the offline passcode seeds (spec §5.5.12)."""
    lock.memory.seeds = cmds.parse_init_passwords_request(payload)
    return _ok(lock, C.INIT_PASSWORDS)


# --- authentication (spec §5.3) -------------------------------------------------------------


def check_admin(lock: VirtualTTLock, payload: bytes) -> Reply:
    """0x41: adminPs must match; answer a fresh psFromLock (spec §5.5.2)."""
    memory = lock.memory
    if memory.admin is None:
        return _fail(C.CHECK_ADMIN, ErrorCode.IN_SETTING_MODE)
    request = auth.parse_check_admin_request(payload)
    if request.admin_ps != memory.admin.admin_ps:
        return _fail(C.CHECK_ADMIN, ErrorCode.WRONG_ADMIN_PASSWORD)
    if request.lock_flag_pos < memory.lock_flag_pos:
        return _fail(C.CHECK_ADMIN, ErrorCode.EKEY_RESET)
    return _challenge(lock, C.CHECK_ADMIN, request.uid, by_admin=True)


def check_user_time(lock: VirtualTTLock, payload: bytes) -> Reply:
    """0x55: the eKey window must hold the lock clock; answer psFromLock (spec §5.5.4)."""
    memory = lock.memory
    if memory.admin is None:
        return _fail(C.CHECK_USER_TIME, ErrorCode.IN_SETTING_MODE)
    request = auth.parse_check_user_time_request(payload)
    now = lock.lock_time()
    if now < request.start:
        return _fail(C.CHECK_USER_TIME, ErrorCode.EKEY_NOT_YET_VALID)
    if now > request.end:
        return _fail(C.CHECK_USER_TIME, ErrorCode.EKEY_EXPIRED)
    if request.lock_flag_pos < memory.lock_flag_pos:
        return _fail(C.CHECK_USER_TIME, ErrorCode.EKEY_RESET)
    return _challenge(lock, C.CHECK_USER_TIME, request.uid, by_admin=False)


def _challenge(lock: VirtualTTLock, command: int, uid: int, *, by_admin: bool) -> Response:
    session = lock.session
    session.ps_from_lock = lock.ps_source() & 0xFFFFFFFF
    session.ps_by_admin = by_admin
    session.uid = uid
    return _ok(lock, command, auth.build_ps_from_lock_response(session.ps_from_lock))


def check_random(lock: VirtualTTLock, payload: bytes) -> Reply:
    """0x30: (psFromLock + unlockKey) mod 2^32 opens the session (spec §5.5.3)."""
    session, admin = lock.session, lock.memory.admin
    if session.ps_from_lock is None or admin is None:
        return _fail(C.CHECK_RANDOM, ErrorCode.NOT_LOGGED_IN)
    if not auth.check_random_ok(payload, session.ps_from_lock, admin.unlock_key):
        return _fail(C.CHECK_RANDOM, ErrorCode.WRONG_ADMIN_PASSWORD)
    session.admin = session.admin or session.ps_by_admin
    session.user = True
    return _ok(lock, C.CHECK_RANDOM)


def _operate(lock: VirtualTTLock, payload: bytes, command: int, unlock: bool) -> Reply:
    """0x47/0x58: one psFromLock proves one operation (spec §5.5.5)."""
    session, admin = lock.session, lock.memory.admin
    if session.ps_from_lock is None or admin is None:
        return _fail(command, ErrorCode.NOT_LOGGED_IN)
    request = auth.parse_operate_request(payload)
    if not request.proves(session.ps_from_lock, admin.unlock_key):
        return _fail(command, ErrorCode.NO_PERMISSION)
    session.ps_from_lock = None
    kind = LogType.APP_UNLOCK if unlock else LogType.APP_LOCK
    entry = lock.operate(unlock, kind, AppTail(session.uid, request.timestamp))
    data = auth.build_operate_response(lock.battery, session.uid, request.timestamp, entry.time)
    # spec §1.4: a status frame follows the answer.
    return (Response.success(command, data), *lock.status_push())


def unlock(lock: VirtualTTLock, payload: bytes) -> Reply:
    """0x47 UNLOCK."""
    return _operate(lock, payload, C.UNLOCK, unlock=True)


def function_lock(lock: VirtualTTLock, payload: bytes) -> Reply:
    """0x58 FUNCTION_LOCK, the V3 lock command (spec §5.5.5)."""
    return _operate(lock, payload, C.FUNCTION_LOCK, unlock=False)


def status(lock: VirtualTTLock, payload: bytes) -> Reply:
    """0x14: `battery lockStatus`, no authentication (spec §5.5.6)."""
    if not cmds.vendor_ok(payload):
        return _fail(C.SEARCH_BICYCLE_STATUS, ErrorCode.INVALID_VENDOR)
    return _ok(lock, C.SEARCH_BICYCLE_STATUS, lock.status_data())


def reset(lock: VirtualTTLock, payload: bytes) -> Reply:
    """0x52: answer under the old key, then wipe everything (spec §5.5.21)."""
    if lock.empty_reset_answer:
        lock.send_empty(C.RESPONSE)
    else:
        lock.reply(Response.success(C.RESET_LOCK, cmds.build_battery(lock.battery)))
    lock.factory_reset("reset by the app")
    return None


# --- settings (spec §5.5.8-§5.5.11, §5.5.19, §5.5.24) -----------------------------------------


def auto_lock(lock: VirtualTTLock, payload: bytes) -> Reply:
    """0x36: query `battery 01 cur min max`; set `[02] seconds` (0 = off)."""
    request = st.parse_setting_request(payload, "auto-lock request (0x36)")
    settings = lock.memory.settings
    if request.op == SettingOp.QUERY:
        data = st.build_auto_lock_state(
            lock.battery, settings.auto_lock_seconds, lock.auto_lock_min, lock.auto_lock_max
        )
        return _ok(lock, C.AUTO_LOCK_MANAGE, data)
    if request.op != SettingOp.SET:
        return _fail(C.AUTO_LOCK_MANAGE, ErrorCode.INVALID_PARAMETER)
    seconds = st.parse_auto_lock_set(request.value)
    if seconds != st.KEEP_AUTO_LOCK_TIME:
        if seconds and not lock.auto_lock_min <= seconds <= lock.auto_lock_max:
            return _fail(C.AUTO_LOCK_MANAGE, ErrorCode.INVALID_PARAMETER)
        settings.auto_lock_seconds = seconds
        lock.arm_auto_lock()
    return _ack(lock, C.AUTO_LOCK_MANAGE, SettingOp.SET)


def _on_off(lock: VirtualTTLock, payload: bytes, command: int, name: str) -> Reply:
    request = st.parse_setting_request(payload, f"setting request (0x{command:02x})")
    settings = lock.memory.settings
    if request.op == SettingOp.QUERY:
        return _ok(lock, command, st.build_on_off_state(lock.battery, getattr(settings, name)))
    if request.op != SettingOp.SET:
        return _fail(command, ErrorCode.INVALID_PARAMETER)
    setattr(settings, name, st.parse_on_off_set(request.value, f"0x{command:02x} set"))
    return _ack(lock, command, SettingOp.SET)


def audio(lock: VirtualTTLock, payload: bytes) -> Reply:
    """0x62: sound on/off, no volume (feature 43 is not set) (spec §5.5.9)."""
    return _on_off(lock, payload, C.AUDIO_MANAGE, "audio_on")


def show_password(lock: VirtualTTLock, payload: bytes) -> Reply:
    """0x59: passcode shown on the screen (spec §5.5.11)."""
    return _on_off(lock, payload, C.SHOW_PASSWORD, "show_passcode")


def remote_unlock(lock: VirtualTTLock, payload: bytes) -> Reply:
    """0x37: gateway/remote unlock switch (spec §5.5.10)."""
    return _on_off(lock, payload, C.CONTROL_REMOTE_UNLOCK, "remote_unlock")


def switch(lock: VirtualTTLock, payload: bytes) -> Reply:
    """0x68: item/value words; only the reset-button switch exists here (spec §5.5.24)."""
    request = st.parse_setting_request(payload, "switch request (0x68)")
    settings = lock.memory.settings
    if request.op == SettingOp.QUERY:
        state = SwitchState(int(SUPPORTED_SWITCHES), settings.switches)
        return _ok(lock, C.SWITCH, st.build_switch_state(lock.battery, state))
    if request.op != SettingOp.SET:
        return _fail(C.SWITCH, ErrorCode.INVALID_PARAMETER)
    change = st.parse_switch_words(request.value, "switch set (0x68)")
    items = change.items & SUPPORTED_SWITCHES
    settings.switches = (settings.switches & ~items) | (change.values & items)
    return _ack(lock, C.SWITCH, SettingOp.SET)


def passage(lock: VirtualTTLock, payload: bytes) -> Reply:
    """0x66: passage-mode windows; while one holds, auto-lock does not lock (spec §5.5.19)."""
    request = st.parse_passage_request(payload)
    entries = lock.memory.settings.passage
    if request.op == PassageOp.QUERY:
        start = request.seq or 0
        page = entries[start : start + PASSAGE_PAGE]
        more = start + PASSAGE_PAGE < len(entries)
        next_seq = start + PASSAGE_PAGE if more else st.END_OF_PASSAGE
        data = st.build_passage_page(lock.battery, page, next_seq)
        return _ok(lock, C.CONFIGURE_PASSAGE_MODE, data)
    if request.op == PassageOp.ADD and request.entry is not None:
        if request.entry not in entries:
            if len(entries) >= MAX_PASSAGE:
                return _fail(C.CONFIGURE_PASSAGE_MODE, ErrorCode.OUT_OF_MEMORY)
            entries.append(request.entry)
    elif request.op == PassageOp.DELETE and request.entry is not None:
        if request.entry in entries:
            entries.remove(request.entry)
    elif request.op == PassageOp.CLEAR:
        entries.clear()
    else:
        return _fail(C.CONFIGURE_PASSAGE_MODE, ErrorCode.INVALID_PARAMETER)
    lock.arm_auto_lock()
    return _ack(lock, C.CONFIGURE_PASSAGE_MODE, request.op)


F = Feature
COMMANDS: dict[int, CommandSpec] = {
    C.GET_AES_KEY: CommandSpec(get_aes_key),
    C.INITIALIZATION: CommandSpec(initialization),
    C.ADD_ADMIN: CommandSpec(add_admin),
    C.OPERATE_FINISHED: CommandSpec(operate_finished, Auth.ADMIN),
    C.TIME_CALIBRATE: CommandSpec(time_calibrate, Auth.SESSION),
    C.GET_LOCK_TIME: CommandSpec(get_lock_time),
    C.SEARCH_DEVICE_FEATURE: CommandSpec(features),
    C.READ_DEVICE_INFO: CommandSpec(device_info),
    C.GET_ADMIN_CODE: CommandSpec(get_admin_code, Auth.ADMIN, F.GET_ADMIN_CODE),
    C.SET_ADMIN_KEYBOARD_PWD: CommandSpec(set_admin_code, Auth.ADMIN),
    C.INIT_PASSWORDS: CommandSpec(init_passwords, Auth.ADMIN),
    C.CHECK_ADMIN: CommandSpec(check_admin),
    C.CHECK_USER_TIME: CommandSpec(check_user_time),
    C.CHECK_RANDOM: CommandSpec(check_random),
    C.UNLOCK: CommandSpec(unlock),
    C.FUNCTION_LOCK: CommandSpec(function_lock, feature=F.MANUAL_LOCK),
    C.SEARCH_BICYCLE_STATUS: CommandSpec(status),
    C.RESET_LOCK: CommandSpec(reset, Auth.ADMIN),
    C.AUTO_LOCK_MANAGE: CommandSpec(auto_lock, Auth.ADMIN, F.AUTO_LOCK),
    C.AUDIO_MANAGE: CommandSpec(audio, Auth.ADMIN, F.AUDIO_MANAGEMENT),
    C.SHOW_PASSWORD: CommandSpec(show_password, Auth.ADMIN, F.PASSWORD_DISPLAY_OR_HIDE),
    C.CONTROL_REMOTE_UNLOCK: CommandSpec(remote_unlock, Auth.ADMIN, F.CONFIG_GATEWAY_UNLOCK),
    C.SWITCH: CommandSpec(switch, Auth.ADMIN),
    C.CONFIGURE_PASSAGE_MODE: CommandSpec(passage, Auth.ADMIN, F.PASSAGE_MODE),
}
