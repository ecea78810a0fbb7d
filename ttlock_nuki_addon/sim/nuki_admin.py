"""Virtual Nuki admin commands: Request Data, config, PIN, time, log, authorizations (§4)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from ..nuki.advanced_config import parse_new_advanced_config
from ..nuki.auth_cmds import (
    build_authorization_entry,
    build_authorization_entry_count,
    build_authorization_id_invite,
    parse_authorization_invite,
    parse_remove_authorization_entry,
    parse_request_authorization_entries,
    parse_update_authorization_entry,
)
from ..nuki.codec import Command, ErrorCode, StatusCode
from ..nuki.commands import BatteryReport, parse_request_data
from ..nuki.config_cmds import parse_new_config, parse_set_security_pin, parse_update_time
from ..nuki.fields import FieldError, Reader
from ..nuki.log_cmds import (
    LogEntryCount,
    LogEntryType,
    LoggingToggle,
    SortOrder,
    build_log_entry,
    build_log_entry_count,
    parse_enable_logging,
    parse_request_log_entries,
)
from ..nuki.pairing_msgs import IdType
from . import nuki_motor
from .nuki_settings import Settings
from .nuki_state import Authorization

if TYPE_CHECKING:
    from .nuki_core import NukiCore
    from .nuki_io import Handler, Request

C = Command


def _done(core: NukiCore, request: Request) -> None:
    core.status(request, StatusCode.COMPLETE)


def _send(core: NukiCore, request: Request, command: int, payload: bytes) -> None:
    core.send_encrypted(request.auth, command, payload, request.link)


def _no_fields(request: Request) -> None:
    Reader(request.fields, f"command 0x{request.command:04X}").done()


# --- Request Data (spec §4.1 pattern A) -----------------------------------------------------


def battery_report(core: NukiCore) -> bytes:
    """Battery Report (spec §4.6) with figures that follow the charge level."""
    millivolts = 4400 + core.battery * 16
    return BatteryReport(
        battery_drain=920,
        battery_voltage=millivolts,
        critical=core.battery < 20,
        lock_action=core.last_action,
        start_voltage=millivolts,
        lowest_voltage=millivolts - 300,
        lock_distance=560,
        start_temperature=21,
        max_turn_current=480,
        battery_resistance=150,
    ).to_payload()


def request_data(core: NukiCore, request: Request) -> None:
    """Keyturner States, Challenge or Battery Report; others are a bad parameter."""
    wanted, _extra = parse_request_data(request.payload)
    auth = request.auth
    if wanted == C.KEYTURNER_STATES:
        core.send_states(auth, request.link)
        if auth.is_bridge and core.new_state:
            core.new_state = False  # spec §1.5: only a bridge reading the states clears it
            core.changed()
    elif wanted == C.CHALLENGE:
        challenge = core.inj.challenge_source()
        core.challenges[auth.auth_id] = challenge  # spec §4.1: only the last one counts
        _send(core, request, C.CHALLENGE, challenge)
    elif wanted == C.BATTERY_REPORT:
        _send(core, request, C.BATTERY_REPORT, battery_report(core))
    else:
        raise FieldError(f"Request Data for 0x{wanted:04X} is not supported")


# --- configuration (spec §4.4, §4.5) --------------------------------------------------------


def request_config(core: NukiCore, request: Request) -> None:
    """Config (0x0015) as long as this firmware sends it."""
    _no_fields(request)
    config = core.settings.config_message(core.nuki_id, core.lock_time(), has_keypad=True)
    _send(core, request, C.CONFIG, config.to_payload())


def set_config(core: NukiCore, request: Request) -> None:
    """Set Config: every field at once; a change counts and raises the new-state bit."""
    settings = core.settings.with_config(parse_new_config(request.fields))
    _apply(core, settings)
    if core.pairing_mode and not settings.config.pairing_enabled:
        core.end_pairing_mode()
    _done(core, request)


def request_advanced_config(core: NukiCore, request: Request) -> None:
    """Advanced Config (0x0037)."""
    _no_fields(request)
    _send(core, request, C.ADVANCED_CONFIG, core.settings.advanced_message().to_payload())


def set_advanced_config(core: NukiCore, request: Request) -> None:
    """Set Advanced Config: exactly this firmware's fields; auto lock follows at once."""
    _apply(core, core.settings.with_advanced(parse_new_advanced_config(request.fields)))
    nuki_motor.arm_auto_lock(core)
    _done(core, request)


def _apply(core: NukiCore, settings: Settings) -> None:
    if settings != core.settings:
        core.settings = settings
        core.memory.bump_config()
        core.note("configuration changed")
        core.state_changed()


def verify_security_pin(core: NukiCore, request: Request) -> None:
    """Verify Security PIN: the check already happened, so COMPLETE (spec §4.2)."""
    _no_fields(request)
    _done(core, request)


def set_security_pin(core: NukiCore, request: Request) -> None:
    """Set Security PIN: u16, or u32 up to 999999 on 5th gen (spec §2.4)."""
    pin = parse_set_security_pin(request.fields, core.variant.pin_bytes)
    if pin > core.variant.layout.max_pin:
        raise FieldError("the security PIN is too large")
    core.memory.security_pin = pin
    core.note("security PIN changed")
    _done(core, request)


def update_time(core: NukiCore, request: Request) -> None:
    """Update Time: the lock clock follows the given UTC time (spec §4.2)."""
    moment = parse_update_time(request.fields)
    if moment is None:
        raise FieldError("impossible time")
    core.clock_offset = moment - core.inj.clock().replace(microsecond=0)
    core.note("clock set")
    _done(core, request)


def reboot(core: NukiCore, request: Request) -> None:
    """Request Reboot: COMPLETE, then the link goes (spec §8 item 8: assumed)."""
    _no_fields(request)
    _done(core, request)
    core.drop_link("reboot")


# --- activity log (spec §4.7) ---------------------------------------------------------------


def request_log_entries(core: NukiCore, request: Request) -> None:
    """[Log Entry Count] + entries + Status COMPLETE (spec §4.1)."""
    asked = parse_request_log_entries(request.fields)
    log = core.memory.log
    if asked.total_count:
        counts = LogEntryCount(log.enabled, len(log.entries), True, True)
        _send(core, request, C.LOG_ENTRY_COUNT, build_log_entry_count(counts))
    descending = asked.sort_order == SortOrder.DESCENDING
    for entry in log.select(asked.start_index, asked.count, descending):
        _send(core, request, C.LOG_ENTRY, build_log_entry(entry))
    _done(core, request)


def enable_logging(core: NukiCore, request: Request) -> None:
    """Enable Logging: the switch itself is logged while logging is on."""
    enabled = parse_enable_logging(request.fields)
    log, auth = core.memory.log, request.auth
    log.enabled = True
    log.add(
        core.lock_time(), auth.auth_id, auth.name, LogEntryType.LOGGING_ENABLED,
        LoggingToggle(enabled),
    )  # fmt: skip
    log.enabled = enabled
    _done(core, request)


# --- authorizations (spec §4.8) --------------------------------------------------------------


def request_authorization_entries(core: NukiCore, request: Request) -> None:
    """Count + entries (the caller's own first) + Status COMPLETE."""
    asked = parse_request_authorization_entries(request.fields)
    auths = core.memory.authorizations
    mine = request.auth.auth_id
    ordered = [auths[mine]] if mine in auths else []
    ordered += [a for a in auths.values() if a.auth_id != mine]
    _send(core, request, C.AUTHORIZATION_ENTRY_COUNT, build_authorization_entry_count(len(auths)))
    for auth in ordered[asked.offset : asked.offset + asked.count]:
        _send(core, request, C.AUTHORIZATION_ENTRY, build_authorization_entry(auth.entry()))
    _done(core, request)


def update_authorization_entry(core: NukiCore, request: Request) -> None:
    """Rewrite name, enabled, remote allowed and time limit of one authorization."""
    update = parse_update_authorization_entry(request.fields)
    auth = core.memory.authorizations.get(update.auth_id)
    if auth is None:
        core.error(request, ErrorCode.K_ERROR_INVALID_AUTH_ID)
        return
    if not update.name:
        raise FieldError("empty name")
    auth.name, auth.enabled = update.name, update.enabled
    auth.remote_allowed, auth.time_limit = update.remote_allowed, update.time_limit
    core.note(f"authorization {auth.auth_id} updated")
    _done(core, request)


def remove_authorization_entry(core: NukiCore, request: Request) -> None:
    """Remove one authorization; its key stops working at once."""
    auth_id = parse_remove_authorization_entry(request.fields)
    if auth_id not in core.memory.authorizations:
        core.error(request, ErrorCode.K_ERROR_INVALID_AUTH_ID)
        return
    _done(core, request)  # still under the caller's key, even when it removes itself
    del core.memory.authorizations[auth_id]
    core.challenges.pop(auth_id, None)
    core.note(f"authorization {auth_id} removed")


def authorization_invite(core: NukiCore, request: Request) -> None:
    """Authorization Data (Invite): a new authorization with the client's key (spec §4.8)."""
    invite = parse_authorization_invite(request.fields)
    if invite.id_type not in set(IdType) or not invite.name:
        raise FieldError("bad id type or name")
    if not core.has_room(invite.id_type, -1):
        core.error(request, ErrorCode.K_ERROR_TOO_MANY_ENTRIES)
        return
    auth = Authorization(
        auth_id=core.inj.auth_ids(),
        id_type=invite.id_type,
        app_id=0,
        name=invite.name,
        shared_key=invite.shared_key,
        created=core.lock_time(),
        remote_allowed=invite.remote_allowed,
        time_limit=invite.time_limit,
    )
    core.add_authorization(auth, same_app=False)
    payload = build_authorization_id_invite(auth.auth_id, auth.created)
    _send(core, request, C.AUTHORIZATION_ID_INVITE, payload)


HANDLERS: Mapping[int, Handler] = {
    C.REQUEST_DATA: request_data,
    C.REQUEST_CONFIG: request_config,
    C.SET_CONFIG: set_config,
    C.REQUEST_ADVANCED_CONFIG: request_advanced_config,
    C.SET_ADVANCED_CONFIG: set_advanced_config,
    C.VERIFY_SECURITY_PIN: verify_security_pin,
    C.SET_SECURITY_PIN: set_security_pin,
    C.UPDATE_TIME: update_time,
    C.REQUEST_REBOOT: reboot,
    C.REQUEST_LOG_ENTRIES: request_log_entries,
    C.ENABLE_LOGGING: enable_logging,
    C.REQUEST_AUTHORIZATION_ENTRIES: request_authorization_entries,
    C.UPDATE_AUTHORIZATION_ENTRY: update_authorization_entry,
    C.REMOVE_AUTHORIZATION_ENTRY: remove_authorization_entry,
    C.AUTHORIZATION_DATA_INVITE: authorization_invite,
}
