"""Virtual Nuki protocol engine without a radio: whole messages in, messages to send out."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from ..errors import ProtocolError
from ..nuki import codec
from ..nuki.codec import CodecError, Command, ErrorCode, StatusCode
from ..nuki.commands import (
    PROTECTION,
    AccessoryBattery,
    KeyturnerStates,
    LockState,
    NukiState,
    Protection,
    Trigger,
    battery_byte,
    build_error_report,
    build_status,
    split_challenge,
    split_challenge_pin,
)
from ..nuki.pairing_msgs import IdType
from ..nuki.states import CompletionStatus, DoorSensorState
from . import nuki_motor, nuki_pairing
from .nuki_io import Drop, Handler, Injected, NukiKnobs, Out, Request, Scheduler, Send
from .nuki_settings import Settings
from .nuki_state import Authorization, KeypadGuard, NukiMemory, PinGuard, Variant

_LOGGER = logging.getLogger(__name__)
_STATES_HEAD = 13  # spec §4.3: bytes before the first optional Keyturner States field
_STATES_TAIL = (
    "config_update_count",
    "lock_n_go_timer",
    "last_lock_action",
    "last_lock_action_trigger",
    "last_lock_action_completion_status",
    "door_sensor_state",
    "night_mode_active",
    "accessory_battery_state",
    "remote_access_status",
    "ble_strength",
    "wifi_strength",
    "wifi_status",
    "mqtt_status",
    "thread_status",
)


class NukiCore:
    """The lock side of spec §3-§4 for one virtual Smart Lock; radio-free and deterministic."""

    def __init__(
        self,
        variant: Variant,
        handlers: Mapping[int, Handler],
        *,
        nuki_id: int,
        name: str,
        security_pin: int,
        battery: int = 80,
        motor_ms: int = 800,
        pairing_seconds: float = 300.0,
        injected: Injected | None = None,
    ) -> None:
        self.variant = variant
        self.handlers = handlers
        self.nuki_id = nuki_id
        self.inj = injected or Injected()
        self.memory = NukiMemory(security_pin=security_pin)
        self.settings = Settings.defaults(variant, name)
        self.battery, self.charging = battery, False
        self.motor_ms, self.pairing_seconds = motor_ms, pairing_seconds
        self.lock_state: int = LockState.LOCKED
        self.trigger: int = Trigger.SYSTEM
        self.last_action, self.last_trigger = 0, int(Trigger.SYSTEM)
        self.last_completion: int = CompletionStatus.SUCCESS
        self.door: int = DoorSensorState.DOOR_CLOSED
        self.pairing_mode = False
        self.new_state = False
        self.ultra_id_type: int = IdType.APP  # spec §8 item 3: 5G sends no id type
        self.knobs = NukiKnobs()
        self.pin_guard, self.keypad_guard = PinGuard(), KeypadGuard()
        self.clock_offset = timedelta(0)
        self.lock_n_go_until: datetime | None = None
        self.connected, self.link_id = False, 0
        self.link_auth: Authorization | None = None
        self.challenges: dict[int, bytes] = {}
        self.pairing: nuki_pairing.PairingSession | None = None
        self.motion: nuki_motor.Motion | None = None
        self.notes: list[str] = []
        self.sink: Callable[[list[Out]], None] | None = None
        self.on_change: Callable[[], None] | None = None
        self._out: list[Out] = []
        self._handling = False

    # --- time --------------------------------------------------------------------------

    @property
    def timers(self) -> Scheduler:
        """The lock's timers."""
        return self.inj.timers

    def lock_time(self) -> datetime:
        """The lock clock in UTC (naive, whole seconds), moved by Update Time (spec §4.2)."""
        return (self.inj.clock() + self.clock_offset).replace(microsecond=0)

    def local_time(self) -> datetime:
        """Lock-local time for time limits: UTC plus the configured offset (spec §4.4)."""
        return self.lock_time() + timedelta(minutes=self.settings.config.timezone_offset)

    def note(self, text: str) -> None:
        """Record what the lock did in its device log; never secrets."""
        self.notes.append(text)
        _LOGGER.debug("nuki %08X: %s", self.nuki_id, text)

    # --- output ------------------------------------------------------------------------

    def emit(self, out: Out) -> None:
        """Queue one output; outside `handle` it goes to the sink at once."""
        if self._handling or self.sink is None:
            self._out.append(out)
        else:
            self.sink([out])

    def drop_link(self, reason: str) -> None:
        """Drop the link at once (after whatever was queued before)."""
        self.note(f"dropping the link: {reason}")
        self.emit(Drop(reason))

    def take_output(self) -> list[Out]:
        """Outputs queued while no sink was set (tests driving timers by hand)."""
        out, self._out = self._out, []
        return out

    def send_raw(self, char: str, message: bytes) -> None:
        """A whole message as built elsewhere."""
        self.emit(Send(char, message))

    def send_plain(self, char: str, command: int, payload: bytes) -> None:
        """An unencrypted message (spec §2.2)."""
        self.emit(Send(char, codec.encode_plain(command, payload)))

    def plain_error(self, char: str, code: int, command: int) -> None:
        """An unencrypted Error Report (spec §1.4, §4.11)."""
        self.send_plain(char, Command.ERROR_REPORT, build_error_report(code, command))

    def send_encrypted(
        self, auth: Authorization, command: int, payload: bytes, link: int | None = None
    ) -> None:
        """An encrypted message on the USDIO, only while the asking link is still up."""
        if not self.connected or (link is not None and link != self.link_id):
            return
        wire = codec.encrypt(
            auth.shared_key, auth.auth_id, command, payload, self.inj.nonce_source()
        )
        self.emit(Send(self.variant.layout.usdio, wire))

    def error(self, request: Request, code: int, command: int | None = None) -> None:
        """An encrypted Error Report about `request` (spec §4.11)."""
        report = build_error_report(code, request.command if command is None else command)
        self.send_encrypted(request.auth, Command.ERROR_REPORT, report, request.link)

    def status(self, request: Request, code: StatusCode) -> None:
        """An encrypted Status (spec §4.10)."""
        self.send_encrypted(request.auth, Command.STATUS, build_status(code), request.link)

    # --- link --------------------------------------------------------------------------

    def link_up(self) -> None:
        """A central connected: nothing is known about it yet."""
        self.connected = True
        self.link_id += 1
        self.link_auth, self.pairing = None, None

    def link_down(self) -> None:
        """The link went down: challenges and an unfinished pairing are forgotten."""
        self.connected = False
        self.link_auth, self.pairing = None, None
        self.challenges.clear()

    def handle(self, char: str, data: bytes) -> list[Out]:
        """One whole write from the central; returns what to send (or to drop the link)."""
        self._handling = True
        try:
            layout = self.variant.layout
            if char == layout.pairing_gdio:
                nuki_pairing.on_write(self, bytes(data))
            elif char == layout.usdio:
                self._on_usdio(bytes(data))
            else:
                self.note(f"ignored a write on {char}")
        finally:
            self._handling = False
        return self.take_output()

    # --- encrypted traffic (spec §2.3, §4.1) -------------------------------------------

    def _not_authorized(self) -> None:
        # spec §1.4: unencrypted, command 0, on the keyturner GDIO.
        self.plain_error(self.variant.layout.keyturner_gdio, ErrorCode.K_ERROR_NOT_AUTHORIZED, 0)

    def _on_usdio(self, data: bytes) -> None:
        usdio = self.variant.layout.usdio
        try:
            header = codec.parse_header(data)
        except CodecError:
            self.plain_error(usdio, ErrorCode.ERROR_BAD_LENGTH, 0)
            return
        auth = self.memory.authorizations.get(header.auth_id)
        if auth is None:
            self._not_authorized()
            return
        try:
            opened = codec.open_message(auth.shared_key, data)
        except CodecError:
            self._not_authorized()
            return
        if opened.auth_id != header.auth_id:
            self._not_authorized()
            return
        self.link_auth = auth
        auth.last_active = self.lock_time()
        request = Request(auth, opened.command, opened.payload, opened.payload, self.link_id)
        if not opened.crc_ok:
            self.error(request, ErrorCode.ERROR_BAD_CRC)
        elif not auth.enabled:
            self.error(request, ErrorCode.K_ERROR_DISABLED)
        else:
            self._dispatch(request)

    def _dispatch(self, request: Request) -> None:
        command = request.command
        handler = self.handlers.get(command)
        if handler is None:
            self.error(request, ErrorCode.ERROR_UNKNOWN)
            return
        try:
            checked = self._check_protection(request)
            if checked is None:
                return
            handler(self, checked)
        except ProtocolError:
            self.error(request, ErrorCode.ERROR_BAD_LENGTH)
        except ValueError:  # FieldError and friends: a value out of range
            self.error(request, ErrorCode.K_ERROR_BAD_PARAMETER)

    def _check_protection(self, request: Request) -> Request | None:
        """Strip and check nK (and PIN): the last challenge of this authorization only."""
        protection = PROTECTION.get(request.command, Protection.NONE)  # type: ignore[call-overload]
        if protection is Protection.NONE:
            return request
        pin: int | None = None
        if protection is Protection.CHALLENGE:
            fields, nonce = split_challenge(request.payload)
        else:
            fields, nonce, pin = split_challenge_pin(request.payload, self.variant.pin_bytes)
        expected = self.challenges.pop(request.auth.auth_id, None)
        if self.knobs.stale_challenge > 0:
            self.knobs.stale_challenge -= 1
            expected = None
        if expected is None or expected != nonce:
            self.error(request, ErrorCode.K_ERROR_BAD_NONCE)
            return None
        if pin is not None:
            failure = self.pin_guard.check(pin, self.memory.security_pin, self.lock_time())
            if failure is not None:
                self.note(f"refused a security PIN ({failure.name})")
                self.error(request, failure)
                return None
        return replace(request, fields=fields)

    # --- state --------------------------------------------------------------------------

    def changed(self) -> None:
        """Something the advert shows changed (pairing mode, the new-state bit)."""
        if self.on_change is not None:
            self.on_change()

    def state_changed(self) -> None:
        """A state change: beacon bit 0 up; a connected bridge also gets 0xF1 (spec §1.4)."""
        self.new_state = True
        auth = self.link_auth
        if self.connected and auth is not None and auth.is_bridge:
            payload = build_status(StatusCode.STATE_CHANGED)
            self.send_plain(self.variant.layout.keyturner_gdio, Command.STATUS, payload)
        self.changed()

    def battery_byte(self) -> int:
        """Keyturner States offset 12 (spec §4.3): half the percentage, critical below 20 %."""
        even = min(self.battery, 100) // 2 * 2
        return battery_byte(even, critical=self.battery < 20, charging=self.charging)

    def nuki_state(self) -> int:
        """Pairing mode or door mode (spec §4.3 offset 0)."""
        return NukiState.PAIRING_MODE if self.pairing_mode else NukiState.DOOR_MODE

    def keyturner_states(self) -> KeyturnerStates:
        """Keyturner States as long as this variant sends them (spec §4.3)."""
        timer = 0
        if self.lock_n_go_until is not None:
            timer = max(0, round((self.lock_n_go_until - self.lock_time()).total_seconds()))
        states = KeyturnerStates(
            nuki_state=self.nuki_state(),
            lock_state=self.lock_state,
            trigger=self.trigger,
            current_time=self.lock_time(),
            timezone_offset=self.settings.config.timezone_offset,
            battery=self.battery_byte(),
            config_update_count=self.memory.config_update_count,
            lock_n_go_timer=min(timer, 0xFF),
            last_lock_action=self.last_action,
            last_lock_action_trigger=self.last_trigger,
            last_lock_action_completion_status=self.last_completion,
            door_sensor_state=self.door,
            night_mode_active=False,
            accessory_battery_state=AccessoryBattery.KEYPAD_SUPPORTED
            | AccessoryBattery.DOOR_SENSOR_SUPPORTED,
            remote_access_status=0x02 if self._has_bridge() else 0x00,
            ble_strength=-60,
            wifi_strength=1,  # spec §4.3: 1 = not supported
            wifi_status=0,
            mqtt_status=0,
            thread_status=0,
        )
        cut = self.variant.states_length - _STATES_HEAD
        cut_fields: dict[str, Any] = dict.fromkeys(_STATES_TAIL[cut:])
        return replace(states, **cut_fields)

    def _has_bridge(self) -> bool:
        return any(a.is_bridge for a in self.memory.authorizations.values())

    def send_states(self, auth: Authorization, link: int | None = None) -> None:
        """Keyturner States to one authorization; a bridge reading them clears bit 0."""
        payload = self.keyturner_states().to_payload()
        self.send_encrypted(auth, Command.KEYTURNER_STATES, payload, link)

    # --- pairing mode and authorizations -----------------------------------------------

    def start_pairing_mode(self) -> None:
        """Pairing mode for `pairing_seconds`: service data in the advert (spec §1.5)."""
        self.pairing_mode = True
        self.timers.start("pairing", self.pairing_seconds, self.end_pairing_mode)
        self.note("pairing mode on")
        self.changed()

    def end_pairing_mode(self) -> None:
        """Leave pairing mode (timeout or a finished pairing)."""
        self.timers.cancel("pairing")
        if self.pairing_mode:
            self.pairing_mode = False
            self.note("pairing mode off")
            self.changed()

    def replaced_by(self, id_type: int, app_id: int) -> list[Authorization]:
        """Who a new authorization replaces: same app id and type; any bridge for a bridge."""
        return [
            a
            for a in self.memory.authorizations.values()
            if (a.app_id == app_id and a.id_type == id_type)
            or (id_type == IdType.BRIDGE and a.is_bridge)
        ]

    def has_room(self, id_type: int, app_id: int) -> bool:
        """Whether another authorization fits (spec §3.1: P_ERROR_MAX_USER otherwise)."""
        taken = len(self.memory.authorizations) - len(self.replaced_by(id_type, app_id))
        return taken < self.memory.max_authorizations

    def add_authorization(self, auth: Authorization, *, same_app: bool = True) -> None:
        """Store a new authorization, replacing the same client's and any bridge (spec §3.3)."""
        for old in self.replaced_by(auth.id_type, auth.app_id if same_app else -1):
            del self.memory.authorizations[old.auth_id]
            self.challenges.pop(old.auth_id, None)
            self.note(f"authorization {old.auth_id} replaced")
        self.memory.authorizations[auth.auth_id] = auth
        self.note(f"new authorization {auth.auth_id} ({auth.name!r})")
