"""The state and security-PIN plumbing under NukiDriver: snapshot, store record, pushes, setup."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any, TypeVar

from ..ble.link import LinkTimings
from ..ble.transport import TransportFactory
from ..errors import AuthError, LockError, NotReachableError, PairingError, StoreError
from ..model import AdvertResult
from ..snapshot import Brand, Capability, LockSnapshot
from ..store import Store
from ..validity import ValidationError, check_name
from . import commands as cmds
from .channels import is_status
from .codec import Command, Message, StatusCode
from .driver_actions import ActionRunner, States, battery_of, door_of, status_of
from .driver_creds import NukiKeypad
from .driver_events import APP_FETCH_INTERVAL, BeaconWatch
from .driver_history import History
from .driver_settings import (
    AnyConfig,
    NukiSettings,
    capabilities_of,
    has_keypad,
    model_name,
    version,
)
from .gatt import Family
from .pairing import parse_pin
from .pairing_msgs import IdType
from .record import NukiRecord, load_record, save_record
from .session import BUSY_BACKOFF, NukiSession, PinNeededError

_LOGGER = logging.getLogger(__name__)
T = TypeVar("T")
Clock = Callable[[], datetime]
PushListener = Callable[[AdvertResult], None]
StateListener = Callable[[LockSnapshot], None]
BATTERY_LOW = 20  # percent, when the lock reports a percentage but no critical flag
PIN_CLEARED = (
    "The lock refused the stored security PIN, so it was removed here. Enter the PIN set in "
    "the Nuki app (Features & Configuration > General) in this lock's settings."
)
BAD_PIN = (
    "The lock refused that security PIN; it was not stored. Enter the PIN set in the Nuki app "
    "(Features & Configuration > General). The add-on tries each PIN only once."
)


class DriverBase:
    """A paired Nuki's record, snapshot, session parts and security PIN (see driver.py)."""

    def __init__(
        self,
        lock_id: str,
        store: Store,
        transport_factory: TransportFactory,
        *,
        timings: LinkTimings | None = None,
        on_push: PushListener | None = None,
        on_state: StateListener | None = None,
        app_fetch_interval: float = APP_FETCH_INTERVAL,
        busy_backoff: tuple[float, ...] = BUSY_BACKOFF,
        clock: Clock = lambda: datetime.now(UTC),
    ) -> None:
        record = load_record(store, lock_id)
        if record is None:
            raise StoreError(f"No Nuki with id {lock_id} is stored.")
        if not record.complete:
            raise PairingError("Pairing this lock was never finished; resume() settles it.")
        self._record, self._store, self._clock = record, store, clock
        self._on_push, self._on_state = on_push, on_state
        self._session = NukiSession(
            record.address, transport_factory, family=record.family, key=record.shared_key,
            auth_id=record.auth_id, name=record.name, timings=timings, on_push=self._pushed,
            busy_backoff=busy_backoff,
        )  # fmt: skip
        self._actions = ActionRunner(self._session, record.family, record.app_id, self._seen)
        self._keypad = NukiKeypad(self._session, store, lock_id, self._pin, self._pinned)
        self._settings = NukiSettings(self._session, record.family)
        self._beacon = BeaconWatch(
            bridge=record.id_type is IdType.BRIDGE, interval=app_fetch_interval
        )
        self._history = History(self._session, record.family, lock_id, clock)
        self._door_sensor = record.door_sensor
        self._gone = False
        self._snapshot = LockSnapshot(
            id=lock_id, brand=Brand.NUKI, name=record.name, model=record.model,
            address=record.address, capabilities=self._capabilities(),
        )  # fmt: skip

    # --- state -------------------------------------------------------------------------------

    @property
    def lock_id(self) -> str:
        """The lock id (12 hex digits of the address)."""
        return self._snapshot.id

    @property
    def record(self) -> NukiRecord:
        """The stored record (secrets are hidden from its repr)."""
        return self._record

    @property
    def capabilities(self) -> frozenset[Capability]:
        """What this lock can do (keypad from Config, door sensor from Keyturner States)."""
        return self._snapshot.capabilities

    @property
    def snapshot(self) -> LockSnapshot:
        """The latest known state; no I/O."""
        return self._snapshot

    @property
    def connected(self) -> bool:
        """Whether a link to the lock is up now."""
        return self._session.connected

    @property
    def pin_known(self) -> bool:
        """Whether a security PIN the lock accepted is stored."""
        return self._record.security_pin is not None

    def _capabilities(self) -> frozenset[Capability]:
        record = self._record
        return capabilities_of(
            record.family, has_keypad=record.has_keypad, door_sensor=self._door_sensor
        )

    def _save(self, **changes: Any) -> None:
        self._record = self._record.but(**changes)
        if not self._gone:
            save_record(self._store, self._record)

    def _update(self, **changes: Any) -> None:
        self._snapshot = replace(self._snapshot, **changes)

    def rename(self, name: str) -> None:
        """Use `name` from now on (snapshot, logs) and store it; no I/O. ValidationError."""
        name = check_name(name)
        record = self._record.but(name=name)
        if not self._gone:  # an unpaired lock's record is gone; do not bring it back
            save_record(self._store, record)
        self._record = record
        self._session.link.name = name
        self._update(name=name)

    def _seen(self, states: States) -> None:
        """Keyturner States from any exchange or push: fold them in and tell the listener."""
        percent, critical = battery_of(states)
        door = door_of(states)
        if door is not None and not self._door_sensor:
            self._door_sensor = True
            self._save(door_sensor=True)
            self._update(capabilities=self._capabilities())
        low = critical or (percent is not None and percent <= BATTERY_LOW)
        status = status_of(self._record.family, states)
        self._update(status=status, battery=percent, battery_low=low, door=door)
        self._history.seen(states)
        self._beacon.read()
        if self._on_state is not None:
            try:
                self._on_state(self._snapshot)
            except Exception:
                _LOGGER.exception("%s: state listener failed", self._record.name)

    async def _io(self, op: Callable[[], Awaitable[T]]) -> T:
        """Run an I/O operation and keep `available` / `last_seen` current."""
        if self._gone:
            raise AuthError("This lock was removed from the add-on; pair it again.")
        try:
            result = await op()
        except NotReachableError:
            self._update(available=False)
            raise
        self._update(available=True, last_seen=self._clock())
        return result

    # --- the security PIN --------------------------------------------------------------------

    def _pin(self) -> int:
        pin = self._record.security_pin
        if pin is None:
            raise PinNeededError()
        return pin

    async def _pinned(self, op: Callable[[], Awaitable[T]]) -> T:
        """Run a PIN-protected operation; a refused stored PIN is dropped, never retried."""
        try:
            return await op()
        except cmds.BadPinError as exc:
            self._save(security_pin=None, pin_rejected=True)
            _LOGGER.warning("%s: the lock refused the stored security PIN", self._record.name)
            raise cmds.BadPinError(exc.lock_code, PIN_CLEARED) from None

    async def set_security_pin(self, pin: str) -> None:
        """Check `pin` once (Verify Security PIN, spec §4.2 0x0020); store it if accepted."""
        if not (pin.isascii() and pin.isdigit()) or not 4 <= len(pin) <= 8:
            raise ValidationError("The security PIN must be 4 to 8 digits.")
        try:
            value = parse_pin(pin, self._record.family)
        except PairingError as exc:
            raise ValidationError(exc.message) from None
        assert value is not None

        async def verify() -> Message:
            return await self._session.call(Command.VERIFY_SECURITY_PIN, b"", pin=value)

        try:
            await self._io(lambda: self._session.run(verify, retry_transient=False))
        except cmds.BadPinError as exc:
            raise cmds.BadPinError(exc.lock_code, BAD_PIN) from None
        self._save(security_pin=value, pin_rejected=False)
        _LOGGER.info("%s: security PIN checked and stored", self._record.name)
        await self._best_effort("set the clock", self._update_time)
        if self._record.last_log_index is None:
            await self._best_effort("read the log position", self._log_baseline)

    async def _update_time(self) -> None:
        """Update Time (spec §4.2 0x0021, UTC) with the PIN."""
        fields = cmds.build_update_time(self._clock())
        await self._pinned(
            lambda: self._session.run(
                lambda: self._session.call(Command.UPDATE_TIME, fields, pin=self._pin())
            )
        )

    async def _log_baseline(self) -> None:
        index = await self._pinned(lambda: self._history.newest_index(self._pin()))
        self._save(last_log_index=index)

    async def _best_effort(self, what: str, op: Callable[[], Awaitable[None]]) -> None:
        try:
            await self._io(op)
        except LockError as exc:
            _LOGGER.warning("%s: could not %s: %s", self._record.name, what, exc.message)

    # --- after pairing -----------------------------------------------------------------------

    def _fold_config(self, config: AnyConfig) -> None:
        model = model_name(self._record.family, config)
        self._save(
            nuki_id=config.nuki_id, firmware=version(config.firmware_version), model=model,
            hardware=version(config.hardware_revision), has_keypad=has_keypad(config),
        )  # fmt: skip
        self._update(model=model, capabilities=self._capabilities())

    async def _read_config(self) -> None:
        self._fold_config(await self._session.run(self._settings.any_config))

    async def _read_states(self) -> None:
        await self._session.run(self._actions.read_states)
        self._beacon.forget_reads()  # a knob turned right after pairing must still be read

    async def _after_pairing(self, pin_text: str | None) -> None:
        """Config (model, keypad), state and battery, the PIN, the clock, the log position."""
        await self._best_effort("read its Config", self._read_config)
        await self._best_effort("read its state", self._read_states)  # shown at once, not "unknown"
        if self._record.family is not Family.SMART_LOCK_5G and pin_text is not None:
            try:
                await self.set_security_pin(pin_text)
            except cmds.BadPinError:
                self._save(pin_rejected=True)
                _LOGGER.warning(
                    "%s: paired, but the lock refused the security PIN given; it was not "
                    "stored. Enter the right one in the lock's settings.", self._record.name,
                )  # fmt: skip
            except LockError as exc:
                _LOGGER.warning("%s: the PIN could not be checked: %s", self._record.name, exc)
        elif self.pin_known:
            await self._best_effort("set the clock", self._update_time)
            await self._best_effort("read the log position", self._log_baseline)

    def _pushed(self, message: Message) -> None:
        """A message the lock sent outside an exchange: states, or the 0xF1 notice (§1.4)."""
        try:
            if message.command == Command.KEYTURNER_STATES:
                self._seen(self._actions.parse(message.payload))
            elif is_status(message, StatusCode.STATE_CHANGED) and self._on_push is not None:
                self._on_push(AdvertResult(fetch=True))
        except Exception:
            _LOGGER.exception("%s: could not fold a pushed message", self._record.name)
