"""TTLockDriver: the LockDriver contract for one paired TTLock V3 lock, over ble/link.py.

The manager's part:
- On start, call ``TTLockDriver.resume()`` for every stored TTLock record. A record left
  ``complete: false`` (pairing interrupted) is settled: completed if the lock accepts its keys,
  removed (None) if the lock undid it. Never delete such a record blindly: the lock may have
  committed. If resume() raises a link error, keep the record and try again later.
- Feed every advert to ``on_advert()``; publish ``AdvertResult.events`` and, when ``fetch`` is
  set, call ``read_events(new_only=True)`` on the lock's queue and publish what it returns.
  ``on_push`` delivers the same kind of result for frames pushed while a link is up.
- Events name credentials from the store (TTLock keeps no names); PIN codes never appear.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from ..ble.link import LinkTimings
from ..ble.scanner import ParsedAdvert
from ..ble.transport import TransportFactory
from ..credentials import Credential, CredentialKind, CredentialSpec, ProgressCallback
from ..errors import (
    AuthError,
    CommandRejectedError,
    LockError,
    NotReachableError,
    NotSupportedError,
    PairingError,
    StoreError,
)
from ..model import AdvertResult, LockEvent
from ..params import LockSettings, PairingParams, SettingsUpdate
from ..snapshot import Brand, Capability, LockSnapshot, LockStatus
from ..store import Store
from ..validity import check_name
from .advert import TTLockAdvert
from .auth_cmds import (
    LockState,
    OperateResponse,
    OperationPush,
    StatusResponse,
    build_operate_request,
    parse_operate_response,
    parse_status_response,
)
from .codec import Command, ErrorCode, Response
from .credential_book import CredentialBook
from .dates import from_lock_local
from .driver_creds import TTLockCredentials
from .driver_events import BoltWatch, log_event, read_log
from .driver_settings import TTLockSettings, capabilities_of
from .oplog import LogRecord
from .pairing import TTLockRecord, load_record, pair_lock, save_record, settle
from .session import TTLockSession

_LOGGER = logging.getLogger(__name__)
C = Command
T = TypeVar("T")
Clock = Callable[[], datetime]
PushListener = Callable[[AdvertResult], None]
BATTERY_LOW = 20  # percent; TTLock reports no low flag of its own
# While and just after our link is up, BlueZ re-reports the advert data cached from before the
# connection (on every Connected/ServicesResolved change); bolt and battery of those are stale.
ADVERT_GRACE = 2.0


class TTLockDriver:
    """One paired TTLock; construct it from a complete store record, or pair()/resume() it."""

    def __init__(
        self,
        lock_id: str,
        store: Store,
        transport_factory: TransportFactory,
        *,
        timings: LinkTimings | None = None,
        enrol_timeout: float = 60.0,
        on_push: PushListener | None = None,
        clock: Clock = lambda: datetime.now(UTC),
    ) -> None:
        record = load_record(store, lock_id)
        if record is None:
            raise StoreError(f"No TTLock with id {lock_id} is stored.")
        if not record.complete:
            raise PairingError("Pairing this lock was never finished; resume() settles it.")
        self._record, self._store, self._clock, self._on_push = record, store, clock, on_push
        self._session = TTLockSession(
            record.address, transport_factory, key=record.aes_key, admin=record.keys,
            name=record.name, timings=timings, lock_flag_pos=record.lock_flag_pos,
            uid=record.uid, on_frame=self._on_frame,
        )  # fmt: skip
        book = CredentialBook(store, lock_id)
        self._creds = TTLockCredentials(
            self._session, book, record.features, enrol_timeout=enrol_timeout
        )
        self._snapshot = LockSnapshot(
            id=lock_id, brand=Brand.TTLOCK, name=record.name, model=record.model,
            address=record.address, capabilities=capabilities_of(record.features),
        )  # fmt: skip
        self.last_operation: datetime | None = None  # lock time of the last lock/unlock
        self._watch = BoltWatch(lock_id, clock)
        self._settings = TTLockSettings(self._session, record.features)
        self._gone = False

    @classmethod
    async def pair(
        cls,
        advert: TTLockAdvert,
        store: Store,
        params: PairingParams,
        transport_factory: TransportFactory,
        *,
        timings: LinkTimings | None = None,
        utc_offset: timedelta | None = None,
        enrol_timeout: float = 60.0,
        on_push: PushListener | None = None,
        clock: Clock = lambda: datetime.now(UTC),
    ) -> TTLockDriver:
        """Pair a lock in setting mode (spec §5.4), store it, return its driver; PairingError."""
        record = await pair_lock(
            advert, store, params, transport_factory,
            timings=timings, utc_offset=utc_offset, clock=clock,
        )  # fmt: skip
        return cls(
            record.lock_id, store, transport_factory,
            timings=timings, enrol_timeout=enrol_timeout, on_push=on_push, clock=clock,
        )  # fmt: skip

    @classmethod
    async def resume(
        cls,
        lock_id: str,
        store: Store,
        transport_factory: TransportFactory,
        *,
        timings: LinkTimings | None = None,
        utc_offset: timedelta | None = None,
        enrol_timeout: float = 60.0,
        on_push: PushListener | None = None,
        clock: Clock = lambda: datetime.now(UTC),
    ) -> TTLockDriver | None:
        """A stored lock's driver; an incomplete record is settled first (None: removed).

        `utc_offset` is accepted like pair()'s and ignored: the stored offset is the lock's.
        """
        del utc_offset
        record = load_record(store, lock_id)
        if record is not None and not record.complete:
            record = await settle(store, lock_id, transport_factory, timings=timings, clock=clock)
        if record is None:
            return None
        return cls(
            lock_id, store, transport_factory,
            timings=timings, enrol_timeout=enrol_timeout, on_push=on_push, clock=clock,
        )  # fmt: skip

    # --- state ---------------------------------------------------------------------------

    @property
    def lock_id(self) -> str:
        """The lock id (12 hex digits of the address)."""
        return self._snapshot.id

    @property
    def record(self) -> TTLockRecord:
        """The stored record (secrets are hidden from its repr)."""
        return self._record

    @property
    def capabilities(self) -> frozenset[Capability]:
        """What this lock can do, from its feature mask."""
        return self._snapshot.capabilities

    @property
    def snapshot(self) -> LockSnapshot:
        """The latest known state; no I/O."""
        return self._snapshot

    @property
    def connected(self) -> bool:
        """Whether a link to the lock is up now."""
        return self._session.connected

    def rename(self, name: str) -> None:
        """Use `name` from now on (snapshot, logs) and store it; no I/O. ValidationError."""
        name = check_name(name)
        record = replace(self._record, name=name)
        if not self._gone:  # a reset lock's record is gone; do not bring it back
            save_record(self._store, record)
        self._record = record
        self._session.link.name = name
        self._update(name=name)

    def _now(self) -> datetime:
        return self._clock()

    def _lock_time(self, moment: datetime | None) -> datetime:
        """Aware time of a lock-local date (spec §6.5: the stored offset); now if none."""
        if moment is None:
            return self._now()
        return from_lock_local(moment, self._record.utc_offset)

    def _update(self, **changes: Any) -> None:
        battery = changes.get("battery", self._snapshot.battery)
        if isinstance(battery, int):
            changes["battery_low"] = battery <= BATTERY_LOW
        self._snapshot = replace(self._snapshot, **changes)

    async def _io(self, op: Callable[[], Awaitable[T]]) -> T:
        """Run an I/O operation and keep `available` / `last_seen` current."""
        if self._gone:
            raise AuthError("This lock was reset and removed from the add-on; pair it again.")
        try:
            result = await op()
        except NotReachableError:
            self._update(available=False)
            raise
        self._update(available=True, last_seen=self._now())
        return result

    # --- the bolt (spec §5.5.5, §5.5.6) --------------------------------------------------

    async def lock(self) -> LockSnapshot:
        """Lock (0x58); NotSupportedError without feature 8 (MANUAL_LOCK)."""
        if Capability.LOCK not in self.capabilities:
            raise NotSupportedError("This lock cannot be locked over Bluetooth.")
        return await self._operate(unlock=False)

    async def unlock(self) -> LockSnapshot:
        """Unlock (0x47)."""
        return await self._operate(unlock=True)

    async def _operate(self, *, unlock: bool) -> LockSnapshot:
        command = C.UNLOCK if unlock else C.FUNCTION_LOCK
        target = LockStatus.UNLOCKED if unlock else LockStatus.LOCKED

        async def send() -> OperateResponse:
            # spec §5.3: admin unlock = CHECK_ADMIN, then the command with a fresh psFromLock.
            ps_from_lock = await self._session.challenge()
            assert self._session.admin is not None
            stamp = int(self._now().timestamp()) & 0xFFFFFFFF
            payload = build_operate_request(ps_from_lock, self._session.admin.unlock_key, stamp)
            return parse_operate_response(await self._session.call(command, payload))

        async def took_effect() -> OperateResponse | None:
            status = await self._query_status()
            return OperateResponse(status.battery) if self._snapshot.status is target else None

        self._watch.expected = target
        try:
            # Not idempotent (a log record, a motor run): re-sent only when the bolt says no.
            result = await self._io(
                lambda: self._session.run_checked(send, took_effect, admin=False)
            )
        except CommandRejectedError as exc:
            if exc.lock_code == ErrorCode.PARKING_OBSTRUCTED:  # the bolt could not move
                self._update(status=LockStatus.JAMMED)
            raise
        finally:
            self._watch.expected = None
        self.last_operation = self._lock_time(result.time)
        self._watch.operated()
        self._update(status=target, battery=result.battery)
        return self._snapshot

    async def open(self) -> LockSnapshot:
        """TTLock has no unlatch; NotSupportedError."""
        raise NotSupportedError("TTLock locks cannot unlatch the door (open).")

    async def lock_n_go(self) -> LockSnapshot:
        """TTLock has no lock'n'go; NotSupportedError."""
        raise NotSupportedError("TTLock locks have no lock 'n' go.")

    async def _query_status(self) -> StatusResponse:
        """0x14, no authentication (spec §5.5.6); folds bolt and battery into the snapshot."""
        status = await self._session.query_status()
        if status.state is not LockState.UNKNOWN:
            unlocked = status.state is LockState.UNLOCKED
            self._update(status=LockStatus.UNLOCKED if unlocked else LockStatus.LOCKED)
        self._update(battery=status.battery)
        return status

    async def refresh(self) -> LockSnapshot:
        """Read bolt and battery (0x14)."""
        await self._io(lambda: self._session.run(self._query_status, admin=False))
        return self._snapshot

    # --- credentials -----------------------------------------------------------------------

    async def list_credentials(self, kind: CredentialKind | None = None) -> list[Credential]:
        """Credentials on the lock, named from the store; NotSupportedError for absent kinds."""
        kinds = self._creds.kinds() if kind is None else [kind]

        async def read() -> list[Credential]:
            return [credential for each in kinds for credential in await self._creds.read(each)]

        return await self._io(read)

    async def add_credential(
        self, spec: CredentialSpec, progress: ProgressCallback | None = None
    ) -> Credential | None:
        """Add a PIN or enrol a card/fingerprint (progress reported); None if cancelled."""
        return await self._io(lambda: self._creds.add(spec, progress))

    async def update_credential(self, credential: Credential) -> Credential:
        """Change name, code and validity; names live in the store."""
        return await self._io(lambda: self._creds.update(credential))

    async def delete_credential(self, kind: CredentialKind, credential_id: str) -> None:
        """Delete; one already gone counts as deleted."""
        await self._io(lambda: self._creds.delete(kind, credential_id))

    async def cancel_enrolment(self) -> None:
        """Stop a running enrolment (drops the link: the lock has no cancel command)."""
        await self._creds.cancel()

    # --- settings (spec §5.5.8-§5.5.10, §5.5.19) -------------------------------------------

    async def get_settings(self) -> LockSettings:
        """Auto-lock, sound, passage mode and remote unlock, as the lock supports them."""
        return await self._io(lambda: self._session.run(self._settings.read))

    async def set_settings(self, update: SettingsUpdate) -> LockSettings:
        """Apply `update` (each write is idempotent); NotSupportedError, ValidationError."""
        wanted = (await self.get_settings()).apply(update)
        await self._io(lambda: self._session.run(lambda: self._settings.apply(update)))
        return wanted

    # --- events: adverts, pushes and the operation log (spec §4.5, §5.5.20) ----------------

    def _bolt_seen(self, unlocked: bool, *, records_waiting: bool) -> tuple[LockEvent, ...]:
        """Fold an observed bolt state; a 1 -> 0 change with no new record is an auto-lock."""
        before = self._snapshot.status
        self._update(status=LockStatus.UNLOCKED if unlocked else LockStatus.LOCKED)
        return self._watch.seen(before, unlocked, records_waiting=records_waiting)

    def on_advert(self, advert: object) -> AdvertResult:
        """Fold battery, bolt (bit 0) and rssi in; fetch when bit 1 says new records."""
        try:
            value = advert.value if isinstance(advert, ParsedAdvert) else advert
            if not isinstance(value, TTLockAdvert) or value.address.upper() != self._record.address:
                return AdvertResult()
            self._update(rssi=value.rssi, last_seen=self._now(), available=True)
            if value.setting_mode or self._gone:
                return AdvertResult()  # reset by hand: our keys are gone, nothing to read
            if self._session.recently_linked(ADVERT_GRACE):
                # The link told us newer state; a stale bit 1 at worst costs one empty read.
                return AdvertResult(fetch=value.new_records or self._watch.fetch)
            if value.battery is not None:
                self._update(battery=value.battery)
            events = self._bolt_seen(value.unlocked, records_waiting=value.new_records)
            return AdvertResult(fetch=value.new_records or self._watch.fetch, events=events)
        except Exception:
            _LOGGER.exception("%s: could not fold an advert", self._record.name)
            return AdvertResult()

    def _on_frame(self, response: Response) -> None:
        """A frame the lock pushed while linked: 0x14 bolt state or a new-record notice."""
        if response.command != C.SEARCH_BICYCLE_STATUS or not response.ok:
            return
        try:
            push = parse_status_response(response.data)
        except LockError:
            return
        events: tuple[LockEvent, ...] = ()
        self._update(battery=push.battery)
        if isinstance(push, OperationPush):
            self._watch.records_waiting = True
        elif push.state is not LockState.UNKNOWN:
            unlocked = push.state is LockState.UNLOCKED
            events = self._bolt_seen(unlocked, records_waiting=self._watch.records_waiting)
        result = AdvertResult(fetch=self._watch.fetch, events=events)
        if self._on_push is not None:
            try:
                self._on_push(result)
            except Exception:
                _LOGGER.exception("%s: push listener failed", self._record.name)

    async def read_events(self, new_only: bool = True) -> list[LockEvent]:
        """Log records as events, oldest first (0xFFFF = unread only), then the bolt (0x14)."""
        records: list[LogRecord] = []

        async def read() -> StatusResponse:
            if not new_only:
                records.clear()  # a retry starts over; unread ones were consumed already
            await read_log(self._session, records, new_only=new_only)
            return await self._query_status()

        status = await self._io(lambda: self._session.run(read, admin=False))
        now, book, record = self._now(), self._creds.book, self._record
        events = [
            log_event(
                self.lock_id, entry, book,
                admin_code=record.admin_passcode, utc_offset=record.utc_offset, now=now,
            )
            for entry in records
        ]  # fmt: skip
        locked = status.state is LockState.LOCKED
        return self._watch.after_log(events, locked, whole=not new_only)

    # --- reset ------------------------------------------------------------------------------

    async def reset(self) -> None:
        """Factory reset (0x52); the store entry goes only once the lock has confirmed it."""

        async def send() -> bool:
            await self._session.login()
            await self._session.call(C.RESET_LOCK)
            return True

        async def took_effect() -> bool | None:
            try:
                await self._session.challenge()
            except AuthError:
                return True  # our keys are gone: the lock did reset (spec §5.5.21)
            return None

        await self._io(lambda: self._session.run_checked(send, took_effect, admin=False))
        self._gone = True
        self._store.remove_lock(self.lock_id)
        await self._session.disconnect()
        _LOGGER.info("%s: reset; the lock is back in setting mode", self._record.name)

    async def unpair(self) -> None:
        """TTLock has no way to remove only our admin; NotSupportedError (use reset)."""
        raise NotSupportedError("TTLock locks cannot remove only this add-on; reset the lock.")

    async def disconnect(self) -> None:
        """Drop the link now (the lock advertises again); the next command reconnects."""
        await self._session.disconnect()

    async def close(self) -> None:
        """Drop the link for good; idempotent, never raises."""
        await self._session.close()


pair = TTLockDriver.pair
"""Pair a lock in setting mode and return its driver; PairingError with a sentence."""
