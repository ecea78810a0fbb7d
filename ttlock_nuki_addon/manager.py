"""LockManager: every lock behind one serial queue each, pairing, rename, remove, one event stream.

Use: ``manager = LockManager(store, scanner, transport_factory, availability_seconds=...)``,
``unsubscribe = manager.subscribe(callback)``, ``await manager.start()``, operations by lock id,
``await manager.stop()``. Events are the types in manager_events.py. Every operation on a lock
waits for the one before it on the same lock (``cancel_enrolment`` excepted); locks run in
parallel. Errors from drivers pass through typed; an unknown lock id is NotFoundError.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import TypeVar

from .credentials import (
    Credential,
    CredentialKind,
    CredentialSpec,
    EnrolmentProgress,
    ProgressCallback,
)
from .errors import (
    BusyError,
    LockError,
    NotReachableError,
    NotSupportedError,
    PairingError,
    StoreError,
)
from .manager_brands import PinDriver, brand_of_advert, brand_of_record, pair_driver
from .manager_core import LockEntry, ManagerCore
from .manager_events import (
    CredentialProgress,
    LockActivity,
    NotFoundError,
    ScanState,
    SettingsUpdated,
)
from .model import LINK_ERRORS, EventKind, LockEvent
from .params import LockSettings, PairingParams, SettingsUpdate
from .snapshot import Brand, Capability, LockSnapshot, lock_id_from_address
from .store import Document
from .validity import ValidationError, check_name

__all__ = ["LockManager", "NotFoundError", "RestoreResult"]
T = TypeVar("T")
_LOGGER = logging.getLogger(__name__)
_LOCK_ID = re.compile(r"[0-9a-f]{12}")
DISCOVERY_MAX_SECONDS = 600.0


@dataclass(frozen=True, slots=True)
class RestoreResult:
    """What a restore did: locks added back, and locks already paired that were kept as they are."""

    added: tuple[str, ...]
    kept: tuple[str, ...]


class LockManager(ManagerCore):
    """The add-on's locks: registry and discovery (ManagerCore) plus every operation."""

    _pairing = False

    @property
    def pairing(self) -> bool:
        """Whether a pairing runs now."""
        return self._pairing

    async def _queued(self, lock_id: str, call: Callable[[LockEntry], Awaitable[T]]) -> T:
        """Run `call` on the lock's serial queue, then publish what changed."""
        entry = self._entry(lock_id)
        async with entry.queue:
            if self._locks.get(lock_id) is not entry or entry.removed:
                raise NotFoundError(f"The lock {lock_id} was removed meanwhile.")
            try:
                return await call(entry)
            finally:
                self._changed(entry)

    async def _act(
        self,
        lock_id: str,
        call: Callable[[LockEntry], Awaitable[object]],
        logged_as: tuple[EventKind, ...] = (),
    ) -> LockSnapshot:
        async def run(entry: LockEntry) -> LockSnapshot:
            if logged_as:
                entry.activity.claim(logged_as, self._clock())
            await call(entry)
            return self._view(entry)

        return await self._queued(lock_id, run)

    # --- the bolt ------------------------------------------------------------------------

    async def lock(self, lock_id: str) -> LockSnapshot:
        """Lock; the new snapshot. CommandRejectedError (JAMMED on a blocked motor)."""
        return await self._act(lock_id, lambda e: e.driver.lock(), (EventKind.LOCKED,))

    async def unlock(self, lock_id: str) -> LockSnapshot:
        """Unlock; the new snapshot."""
        return await self._act(lock_id, lambda e: e.driver.unlock(), (EventKind.UNLOCKED,))

    async def open(self, lock_id: str) -> LockSnapshot:
        """Unlatch (Nuki); NotSupportedError on locks without it."""
        opened = (EventKind.OPENED, EventKind.UNLOCKED)
        return await self._act(lock_id, lambda e: e.driver.open(), opened)

    async def lock_n_go(self, lock_id: str) -> LockSnapshot:
        """Unlock now, lock after the lock's timer (Nuki); NotSupportedError elsewhere."""
        logged = (EventKind.UNLOCKED, EventKind.LOCKED)
        return await self._act(lock_id, lambda e: e.driver.lock_n_go(), logged)

    async def refresh(self, lock_id: str) -> LockSnapshot:
        """Read state and battery from the lock."""
        return await self._act(lock_id, lambda e: e.driver.refresh())

    # --- credentials ---------------------------------------------------------------------

    async def list_credentials(
        self, lock_id: str, kind: CredentialKind | None = None
    ) -> list[Credential]:
        """Credentials on the lock (of `kind`, or all it has)."""

        async def run(entry: LockEntry) -> list[Credential]:
            found = await entry.driver.list_credentials(kind)
            cache = entry.credentials
            for key in [k for k in cache if kind is None or k[0] is kind]:
                del cache[key]
            cache.update({(c.kind, c.id): c for c in found})
            return found

        return await self._queued(lock_id, run)

    async def add_credential(
        self, lock_id: str, spec: CredentialSpec, progress: ProgressCallback | None = None
    ) -> Credential | None:
        """Add a PIN or enrol a card/fingerprint (progress published too); None if cancelled."""

        def report(step: EnrolmentProgress) -> None:
            self._publish(CredentialProgress(lock_id, step))
            if progress is not None:
                progress(step)

        async def run(entry: LockEntry) -> Credential | None:
            added = await entry.driver.add_credential(spec, report)
            if added is not None:
                entry.credentials[(added.kind, added.id)] = added
            return added

        return await self._queued(lock_id, run)

    async def update_credential(self, lock_id: str, credential: Credential) -> Credential:
        """Store name, code and validity of a credential."""

        async def run(entry: LockEntry) -> Credential:
            updated = await entry.driver.update_credential(credential)
            entry.credentials[(updated.kind, updated.id)] = updated
            return updated

        return await self._queued(lock_id, run)

    async def rename_credential(
        self, lock_id: str, kind: CredentialKind, credential_id: str, name: str
    ) -> Credential:
        """Give a credential a new name (TTLock: in the store only; Nuki: on the lock)."""
        name = check_name(name)

        async def run(entry: LockEntry) -> Credential:
            key = (kind, credential_id)
            if key not in entry.credentials:
                entry.credentials.update(
                    {(c.kind, c.id): c for c in await entry.driver.list_credentials(kind)}
                )
            current = entry.credentials.get(key)
            if current is None:
                raise NotFoundError(f"This lock has no {kind.value} with id {credential_id}.")
            updated = await entry.driver.update_credential(replace(current, name=name))
            entry.credentials[(updated.kind, updated.id)] = updated
            return updated

        return await self._queued(lock_id, run)

    async def delete_credential(
        self, lock_id: str, kind: CredentialKind, credential_id: str
    ) -> None:
        """Delete a credential; one already gone counts as deleted."""

        async def run(entry: LockEntry) -> None:
            await entry.driver.delete_credential(kind, credential_id)
            entry.credentials.pop((kind, credential_id), None)

        await self._queued(lock_id, run)

    async def cancel_enrolment(self, lock_id: str) -> None:
        """Stop a running enrolment; never waits behind it (it is the one being cancelled)."""
        await self._entry(lock_id).driver.cancel_enrolment()

    # --- settings, events, the security PIN ----------------------------------------------

    async def get_settings(self, lock_id: str) -> LockSettings:
        """Read the lock's settings (published as SettingsUpdated)."""
        settings = await self._queued(lock_id, lambda e: e.driver.get_settings())
        self._publish(SettingsUpdated(lock_id, settings))
        return settings

    async def set_settings(self, lock_id: str, update: SettingsUpdate) -> LockSettings:
        """Apply a settings change; the settings in force (published as SettingsUpdated)."""
        settings = await self._queued(lock_id, lambda e: e.driver.set_settings(update))
        self._publish(SettingsUpdated(lock_id, settings))
        return settings

    async def read_events(self, lock_id: str, new_only: bool = True) -> list[LockEvent]:
        """The lock's log as events, oldest first; new ones are also published."""
        entry = self._entry(lock_id)
        events = await self._queued(lock_id, lambda e: e.driver.read_events(new_only))
        if new_only:
            events = [entry.activity.record(event) for event in events]
            for event in events:
                self._publish(LockActivity(event))
        return events

    async def activity(self, lock_id: str, limit: int = 100) -> list[LockEvent]:
        """Recent events, newest first: the whole log once, then new ones; cached if unreachable."""
        entry = self._entry(lock_id)
        if Capability.EVENTS not in entry.driver.capabilities:
            return entry.activity.latest(limit)
        try:
            if entry.activity.loaded:
                await self.read_events(lock_id, new_only=True)
            else:
                whole = await self._queued(lock_id, lambda e: e.driver.read_events(False))
                entry.activity.load(whole)
        except LINK_ERRORS as exc:
            if not entry.activity.events:
                raise
            _LOGGER.info("%s: showing known events only: %s", entry.name, exc.message)
        return entry.activity.latest(limit)

    def security_pin_known(self, lock_id: str) -> bool | None:
        """Whether the lock's security PIN is stored; None for locks without one (TTLock)."""
        driver = self._entry(lock_id).driver
        return driver.pin_known if isinstance(driver, PinDriver) else None

    async def set_security_pin(self, lock_id: str, pin: str) -> None:
        """Check a Nuki security PIN once on the lock and store it if accepted."""

        async def run(entry: LockEntry) -> None:
            driver = entry.driver
            if not isinstance(driver, PinDriver):
                raise NotSupportedError("This lock has no security PIN.")
            await driver.set_security_pin(pin)

        await self._queued(lock_id, run)

    # --- pairing, renaming, removing -------------------------------------------------------

    async def pair(self, address: str, brand: Brand, params: PairingParams) -> LockSnapshot:
        """Pair a discovered lock; one pairing at a time (BusyError). Driver errors pass through."""
        if self._pairing:
            raise BusyError("Another lock is being paired now; try again when it is done.")
        lock_id = lock_id_from_address(address)
        if lock_id in self._settling:
            raise PairingError(
                "The add-on is still checking an interrupted pairing of this lock. Wake the lock "
                "(touch its keypad, or press its button) and try again in a moment."
            )
        if lock_id in self._locks:
            raise PairingError("This lock is paired with the add-on already; remove it first.")
        value = self._discoveries.latest(address)
        if value is None or brand_of_advert(value) is not brand:
            raise NotReachableError(
                f"No {brand.value} lock with address {address.upper()} was heard lately. Wake it "
                "(touch the keypad, or hold the button until it is in pairing mode) and try again."
            )
        self._pairing = True
        try:
            hooks, options = self._hooks(lock_id), self._options(brand)
            driver = await pair_driver(
                value, self._store, params, self._factory, hooks=hooks, options=options
            )
        finally:
            self._pairing = False
        if not self._started:  # stopped meanwhile: it is stored and loads on the next start
            snapshot = driver.snapshot
            await driver.close()
            return snapshot
        return self._view(self._register(driver, present=True))

    async def rename(self, lock_id: str, name: str) -> LockSnapshot:
        """Give a lock a new display name, kept in the store."""
        name = check_name(name)

        async def run(entry: LockEntry) -> LockSnapshot:
            entry.driver.rename(name)  # record, snapshot and store; the live state stays
            entry.name = name
            return self._view(entry)

        return await self._queued(lock_id, run)

    async def remove(self, lock_id: str, *, reset: bool) -> None:
        """Unpair or reset the lock first if `reset` (errors raise: a person decides); forget it."""

        async def run(entry: LockEntry) -> None:
            if reset:
                capabilities = entry.driver.capabilities
                if Capability.UNPAIR in capabilities:
                    await entry.driver.unpair()
                elif Capability.RESET in capabilities:
                    await entry.driver.reset()
                else:
                    raise NotSupportedError(
                        "This lock can be neither reset nor unpaired over Bluetooth; "
                        "remove it without resetting."
                    )
            await self._forget(entry)

        await self._queued(lock_id, run)

    # --- the panel's discovery window, restoring a backup ----------------------------------

    @property
    def scan_state(self) -> ScanState:
        """Whether the scan runs and the discovery window, now."""
        return self._scan_state()

    async def discover(self, seconds: float) -> ScanState:
        """Open (or extend) a discovery window; starts the scan now if it is not running."""
        if not 0 < seconds <= DISCOVERY_MAX_SECONDS:
            raise ValidationError(f"A scan lasts from 1 to {DISCOVERY_MAX_SECONDS:.0f} seconds.")
        if not self._scanner.running:
            try:
                await self._scanner.start()
            except LockError as exc:
                self._publish(self._scan_state(exc.message))
                raise
        if self._discovery_end is not None:
            self._discovery_end.cancel()
        self._discovering_until = self._clock() + timedelta(seconds=seconds)
        self._discovery_end = asyncio.get_running_loop().call_later(seconds, self.end_discovery)
        state = self._scan_state()
        self._publish(state)
        return state

    def end_discovery(self) -> ScanState:
        """Close the discovery window (the scan itself goes on: paired locks need adverts)."""
        if self._discovery_end is not None:
            self._discovery_end.cancel()
        self._discovery_end = self._discovering_until = None
        state = self._scan_state()
        self._publish(state)
        return state

    async def restore(self, document: Document) -> RestoreResult:
        """Add back a backup's locks that are not paired now; paired ones and local ids stay."""
        locks = document["locks"]
        for lock_id, record in locks.items():
            if not _LOCK_ID.fullmatch(lock_id) or brand_of_record(record) is None:
                raise StoreError("The backup holds a lock record this version does not know.")
        present = set(self._locks) | set(self._settling) | set(self._store.lock_ids())
        added = tuple(sorted(set(locks) - present))
        kept = tuple(sorted(set(locks) & present))

        def change(doc: Document) -> None:
            for key, value in document["installation"].items():
                doc["installation"].setdefault(key, value)  # e.g. our Nuki app id: keep ours
            for lock_id in added:
                doc["locks"][lock_id] = locks[lock_id]

        self._store.update(change)
        if self._started:
            for lock_id in added:
                await self._load(lock_id)
        _LOGGER.info(
            "Restored %d lock(s) from a backup; %d were paired already", len(added), len(kept)
        )
        return RestoreResult(added, kept)
