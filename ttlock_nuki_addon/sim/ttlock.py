"""A virtual TTLock V3 lock for the simulated world: the lock side of spec §1-§5."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import datetime
from typing import Any, ClassVar

from ..errors import ProtocolError
from ..ttlock.auth_cmds import LockState, build_operation_push, build_status_response
from ..ttlock.codec import Command, ErrorCode, Response
from ..ttlock.commands import new_admin_keys
from ..ttlock.features import Feature, FeatureMask
from ..ttlock.framing import LockVersion
from ..ttlock.oplog import LogRecord, LogType
from ..ttlock.oplog_tails import LogTail
from ..ttlock.settings_cmds import SwitchItem
from . import ttlock_admin, ttlock_creds, ttlock_physical
from .peripheral import ActionError
from .ttlock_physical import Enrolment, Outcome
from .ttlock_radio import TTLockRadio
from .ttlock_state import Auth, LockMemory, Reply, Session, passage_allows

COMMANDS = {**ttlock_admin.COMMANDS, **ttlock_creds.COMMANDS}
F = Feature
# A door lock with keypad, card reader and fingerprint sensor (spec §5.5.1 feature bits).
DEFAULT_FEATURES = FeatureMask.of(
    F.PASSCODE, F.IC, F.FINGER_PRINT, F.AUTO_LOCK, F.MODIFY_PASSCODE_FUNCTION, F.MANUAL_LOCK,
    F.PASSWORD_DISPLAY_OR_HIDE, F.GATEWAY_UNLOCK, F.CYCLIC_PASSWORD, F.CONFIG_GATEWAY_UNLOCK,
    F.AUDIO_MANAGEMENT, F.GET_ADMIN_CODE, F.PASSAGE_MODE, F.RESET_BUTTON,
    F.CYCLIC_IC_OR_FINGER_PRINT,
)  # fmt: skip


class VirtualTTLock(TTLockRadio):
    """A V3 door lock: setting mode, pairing, auth, bolt, credentials, log, physical world."""

    kind: ClassVar[str] = "ttlock"

    def __init__(
        self,
        address: str,
        name: str | None = None,
        *,
        battery: int = 90,
        paired: bool = False,
        wake_seconds: float = 10.0,
        features: FeatureMask = DEFAULT_FEATURES,
        push_status: bool = True,
        version: LockVersion | None = None,
        clock: Callable[[], datetime] = datetime.now,
        key_source: Callable[[], bytes] = lambda: secrets.token_bytes(16),
        ps_source: Callable[[], int] = lambda: secrets.randbits(32),
    ) -> None:
        super().__init__(
            address,
            name,
            battery=battery,
            wake_seconds=wake_seconds,
            version=version,
            clock=clock,
            key_source=key_source,
        )
        self.features = features
        self.push_status = push_status
        self.ps_source = ps_source
        self.enrol_timeout = 15.0
        self.fingerprint_touches = 4
        self.auto_lock_min, self.auto_lock_max = 1, 900
        self.empty_reset_answer = False  # spec §5.5.21: some locks answer 0x52 with no data
        self.enrolment: Enrolment | None = None
        if paired:
            self.memory.admin, self.memory.paired = new_admin_keys(), True
            self.new_session_key()
        self.refresh_advert()

    def advertises_unprompted(self) -> bool:
        """Paired locks advertise, unless feature 21 says BLE needs a touch (spec §6.2)."""
        return self.memory.paired and not self.features.has(Feature.CAN_NOT_CLICK_UNLOCK)

    # --- commands ------------------------------------------------------------------------

    def dispatch(self, command: int, payload: bytes) -> Reply:
        """Check feature and authentication (spec §5.3), then run the command's handler."""
        spec = COMMANDS.get(command)
        if spec is None or (spec.feature is not None and not self.features.has(spec.feature)):
            return Response.failure(command, ErrorCode.INVALID_COMMAND)
        if spec.auth != Auth.NONE:
            if self.memory.admin is None:
                return Response.failure(command, ErrorCode.IN_SETTING_MODE)
            session = self.session
            if not (session.admin or (spec.auth == Auth.SESSION and session.user)):
                return Response.failure(command, ErrorCode.NOT_LOGGED_IN)
        try:
            return spec.handler(self, payload)
        except ProtocolError:
            return Response.failure(command, ErrorCode.PARAMETER_LENGTH_ERROR)
        except ValueError:
            return Response.failure(command, ErrorCode.INVALID_PARAMETER)

    def on_disconnect(self) -> None:
        """Forget the session; an unfinished pairing rolls back (spec §5.4)."""
        self._framer.reset()
        self.session = Session()
        if self.enrolment is not None:
            self.enrolment = None
            self.timers.cancel("enrol")
            self.note("enrolment cancelled: the link dropped")
        if self.memory.admin is not None and not self.memory.paired:
            self.note("voice: administrator deleted")
            self.factory_reset("pairing not finished")
        if self.setting_mode:
            self._wake(touched=False)  # awake a while after a link, so pairing can be retried
        self.refresh_advert()

    def status_data(self) -> bytes:
        """`battery lockStatus` (spec §5.5.6; this lock has no door sensor)."""
        state = LockState.UNLOCKED if self.unlocked else LockState.LOCKED
        return build_status_response(self.battery, state)

    def status_push(self) -> tuple[Response, ...]:
        """The unsolicited 0x14 status frame, if pushes are on (spec §1.4)."""
        if not self.push_status:
            return ()
        return (Response.success(Command.SEARCH_BICYCLE_STATUS, self.status_data()),)

    # --- bolt, auto-lock, log --------------------------------------------------------------

    def operate(
        self, unlock: bool, kind: LogType, tail: LogTail, *, physical: bool = False
    ) -> LogRecord:
        """Move the bolt and log who did it; physical actions push while a link is up."""
        record = self.add_log(kind, tail, push=physical)
        self.unlocked = unlock
        self.arm_auto_lock()
        self.refresh_advert()
        if physical and self.connected:
            for response in self.status_push():
                self.reply(response)
        return record

    def add_log(self, kind: LogType, tail: LogTail, *, push: bool = True) -> LogRecord:
        """Append a log record; advert flag bit 1 goes up (spec §4.2)."""
        record = LogRecord(kind, self.lock_time(), self.battery, tail)
        entry = self.memory.log.add(record)
        self.refresh_advert()
        if push and self.push_status and self.connected:
            # spec §1.4: a pushed 0x14 announces a new record while the link is up.
            data = build_operation_push(self.battery, 0, entry.seq, self.lock_time())
            self.reply(Response.success(Command.SEARCH_BICYCLE_STATUS, data))
        return record

    def arm_auto_lock(self) -> None:
        """(Re)start the auto-lock timer while unlocked (0 seconds = off)."""
        seconds = self.memory.settings.auto_lock_seconds
        if self.unlocked and seconds:
            self.timers.start("auto_lock", seconds, self._auto_lock)
        else:
            self.timers.cancel("auto_lock")

    def _auto_lock(self) -> None:
        if not self.unlocked or passage_allows(self.memory.settings.passage, self.lock_time()):
            return
        # spec §4.5: auto-lock writes no log record; only advert bit 0 (and 0x14) show it.
        self.note("auto-lock")
        self.unlocked = False
        self.refresh_advert()
        if self.connected:
            for response in self.status_push():
                self.reply(response)

    # --- the physical world (sync; needs a running event loop for its timers) -------------

    def enter_pin(self, code: str) -> Outcome:
        """Type a code on the keypad; a valid passcode unlocks, every try is logged."""
        return ttlock_physical.enter_pin(self, code)

    def present_card(self, number: int) -> Outcome:
        """Hold a card to the reader: finishes a card enrolment, or unlocks if valid now."""
        return ttlock_physical.present_card(self, number)

    def place_finger(self, finger: str) -> Outcome:
        """Put a finger on the sensor: one enrolment step, or unlocks if enrolled and valid."""
        return ttlock_physical.place_finger(self, finger)

    def turn_knob(self) -> Outcome:
        """Turn the inside knob: toggles the bolt."""
        return ttlock_physical.turn_knob(self)

    def reset_button(self) -> None:
        """Hold the reset button: factory state, link dropped, awake in setting mode."""
        settings = self.memory.settings
        if self.memory.admin is not None and not settings.switches & SwitchItem.RESET_BUTTON:
            raise ActionError("the reset button is disabled (switch 0x68)")
        self.factory_reset("reset button")
        self.drop_link()
        self.touch()

    def set_battery(self, percent: int) -> None:
        """Change the battery level shown in adverts and answers."""
        self.battery = percent
        self.refresh_advert()

    def start_enrolment(self, command: int) -> Reply:
        """Enter card/fingerprint add mode; the person's actions complete it."""
        return ttlock_physical.start_enrolment(self, command)

    def enrolment_timed_out(self) -> None:
        """The enrolment timer fired."""
        ttlock_physical.enrolment_timed_out(self)

    def factory_reset(self, reason: str) -> None:
        """Wipe keys, credentials, settings and log; back to setting mode."""
        self.note(f"factory reset: {reason}")
        self.memory = LockMemory()
        self.session = Session()
        self.enrolment = None
        self.timers.cancel("enrol")
        self.timers.cancel("auto_lock")
        self.refresh_advert()

    # --- control API ---------------------------------------------------------------------

    def actions(self) -> dict[str, Callable[[dict[str, Any]], dict[str, Any]]]:
        """The base actions plus the physical world."""
        return {**super().actions(), **ttlock_physical.control_actions(self)}

    def describe(self) -> dict[str, Any]:
        """Bolt, battery, pairing, settings, credentials and log, as the simulator sees them."""
        memory, settings = self.memory, self.memory.settings
        enrolling = None
        if self.enrolment is not None:
            is_card = self.enrolment.command == Command.IC_MANAGE
            enrolling = "card" if is_card else "fingerprint"
        return {
            **super().describe(),
            "bolt": self.bolt,
            "battery": self.battery,
            "paired": memory.paired,
            "setting_mode": self.setting_mode,
            "awake": self.awake,
            "lock_time": self.lock_time().isoformat(),
            "auto_lock_seconds": settings.auto_lock_seconds,
            "settings": {
                "audio": settings.audio_on,
                "show_passcode": settings.show_passcode,
                "remote_unlock": settings.remote_unlock,
                "reset_button": bool(settings.switches & SwitchItem.RESET_BUTTON),
                "passage_entries": len(settings.passage),
            },
            "features": list(self.features.bits),
            "credentials": memory.describe(),
            "enrolling": enrolling,
            "log_length": len(memory.log.entries),
            "log_unread": memory.log.unread,
            "knobs": {
                "wake_seconds": self.wake_seconds,
                "enrol_timeout": self.enrol_timeout,
                "push_status": self.push_status,
                "refuse_to_advertise": self.refuse_to_advertise,
                "empty_reset_answer": self.empty_reset_answer,
            },
        }


_OPTIONS = ("battery", "features", "paired", "push_status", "wake_seconds")


def _features_option(value: object) -> FeatureMask:
    """A mask as an integer, or a list of bit numbers / feature names (e.g. 'passcode')."""
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return FeatureMask(value)
    if isinstance(value, list):
        bits: list[int] = []
        for item in value:
            if isinstance(item, int) and not isinstance(item, bool) and 0 <= item < 128:
                bits.append(item)
            elif isinstance(item, str) and item.upper() in Feature.__members__:
                bits.append(Feature[item.upper()])
            else:
                raise ActionError(f"'features' names an unknown feature: {item!r}")
        return FeatureMask.of(*bits)
    raise ActionError("'features' must be a mask (integer) or a list of bit numbers or names")


def create_ttlock(address: str, options: dict[str, Any]) -> VirtualTTLock:
    """World factory for kind 'ttlock'; options battery, paired, wake_seconds, features, push."""
    for key in sorted(options):
        if key not in _OPTIONS:
            known = ", ".join(sorted({*_OPTIONS, "address", "name", "rssi"}))
            raise ActionError(f"unknown option '{key}' for ttlock (known: {known})")
    battery = options.get("battery", 90)
    if isinstance(battery, bool) or not isinstance(battery, int) or not 0 <= battery <= 100:
        raise ActionError("'battery' must be an integer from 0 to 100")
    wake = options.get("wake_seconds", 10.0)
    if isinstance(wake, bool) or not isinstance(wake, int | float) or not 0 < wake <= 3600:
        raise ActionError("'wake_seconds' must be a number of seconds above 0, at most 3600")
    flags = {}
    for key, default in (("paired", False), ("push_status", True)):
        flags[key] = options.get(key, default)
        if not isinstance(flags[key], bool):
            raise ActionError(f"'{key}' must be true or false")
    features = _features_option(options.get("features", DEFAULT_FEATURES.value))
    return VirtualTTLock(
        address,
        battery=battery,
        wake_seconds=float(wake),
        features=features,
        paired=flags["paired"],
        push_status=flags["push_status"],
    )
