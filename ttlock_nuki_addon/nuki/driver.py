"""NukiDriver: the LockDriver contract for one paired Nuki (Smart Lock 1.0-5th gen, Opener).

The manager's part:
- Pair with ``NukiDriver.pair(advert, store, params, transport_factory, timings=, on_push=,
  on_state=)`` once the lock is in pairing mode (button held ~5 s; its adverts then have
  ``pairing_mode``; ``advert.family`` may be None, the characteristics tell). ``params.pair_as``
  BRIDGE (default) replaces an official Nuki Bridge paired to the lock but lets the add-on clear
  the beacon's new-state bit and get 0xF1 notices; APP leaves the bridge alone. 5th-gen locks
  pair only with ``params.pin`` (the 6-digit security code) and send no id type, so they are
  stored as APP. For the others ``params.pin`` is checked once after pairing and kept only if the
  lock accepts it (``driver.record.pin_rejected`` and a warning say when not; pairing succeeds).
  PairingError sentences say what to do (pairing mode, max users, wrong 6-digit code: never
  retried automatically because the lock bans repeated attempts). Pairing a stored lock again
  replaces its record: close the old driver first.
- Pass ``timings=None`` (session.NUKI_TIMINGS: idle close after 1.5 s to spare the battery)
  unless there is a reason; every exchange is bounded by them, a lock action by 30 s in all.
- On start, call ``NukiDriver.resume()`` for every stored record with ``record.is_nuki``. An
  unfinished legacy pairing (keys stored at the Authorization-ID, ``complete: false``) is settled
  by trying its keys: kept if the lock answers, removed (None) on K_ERROR_NOT_AUTHORIZED. If
  resume() raises a link error, keep the record and try again later.
- The installation's app id is ``store.installation()["nuki_app_id"]`` (random u32, made once):
  pairing the same lock again overwrites our earlier authorization instead of adding one.
- Feed every advert to ``on_advert()``; when ``AdvertResult.fetch`` is set, call
  ``read_events(new_only=True)`` on the lock's queue (coalesce: one pending read is enough). As
  bridge every set new-state bit asks for a read (the read clears it); as app only a rising edge
  does, at most once per ``app_fetch_interval`` (default 10 min), so a stuck bit never polls.
  ``on_push`` gets ``AdvertResult(fetch=True)`` for a state-changed notice (status 0xF1 on the
  keyturner GDIO, bridges only) while a link is up - also for our own actions. ``on_state`` gets
  the snapshot after every Keyturner States seen, so a lock action's intermediate states
  (unlocking, locking, opening) show live; the returned snapshot holds the final one.
- The security PIN (u16; 6-digit u32 on 5th gen) is needed for keypad codes, settings writes,
  the log (events), the clock and unpair; Config, Advanced Config and lock actions need none.
  ``set_security_pin(pin)`` checks a PIN once (Verify Security PIN) and stores it only if the lock
  accepts it (BadPinError otherwise). Without a stored PIN those calls raise ``PinNeededError``
  (code "pin_needed"); a stored PIN the lock refuses is removed and BadPinError raised - never
  retried, never looped. ``driver.pin_known`` tells the UI whether to ask for it.
- Retries: K_ERROR_BUSY with backoff (3 attempts), a stale challenge (K_ERROR_BAD_NONCE) once, an
  idempotent exchange once more on a new connection after a lost answer. A lock action whose
  answer was lost is never re-sent blindly: the states decide (reached or newly recorded as the
  last action -> success; moving -> wait; unchanged -> lock/unlock sent once more, unlatch and
  lock'n'go raise LockTimeoutError/DisconnectedError saying the lock may not have acted). A
  blocked motor is CommandRejectedError(K_ERROR_MOTOR_BLOCKED) with the snapshot JAMMED. An
  unencrypted K_ERROR_NOT_AUTHORIZED (spec §1.4) is AuthError: the lock forgot us, pair again.
- Credentials are keypad codes only (PIN kind; id = the lock's code id; names live on the lock,
  at most 20 bytes; codes 6 digits 1-9, not starting with 12). Validity: Permanent, Period and
  Weekly map to the code's time limit; Once, cards and fingerprints raise NotSupportedError.
  ``list_credentials()`` returns [] when Config says no keypad is paired.
- Settings: auto_lock_seconds (Advanced Config: auto lock enabled + timeout, 0 = off), led and
  auto_unlatch (Config); the rest is None. Writes send the whole (Advanced) Config back.
- Events come from the lock's log (needs the PIN): lock actions by trigger (system -> app with
  the authorization's name as ``user``, manual, button, auto lock -> auto, time control ->
  schedule), keypad codes (source keypad, code id and name), wrong codes (failed_attempt), the
  door sensor, a blocked motor (jammed). The last log index read is kept in the store; the first
  read after pairing without one returns only entries since pairing. Without the PIN only state
  changes seen in Keyturner States are reported. Codes never appear in events or logs.
- Capabilities: lock, unlock, open, battery, events, unpair; lock_n_go, auto_lock, led and
  auto_unlatch on Smart Locks; pin and validity period/weekly when Config says a keypad is
  paired; door_sensor once the states show an active sensor. No reset: ``reset()`` raises
  NotSupportedError. ``unpair()`` removes this add-on's authorization (with the PIN; without it
  the record is only forgotten and a warning says to remove "Home Assistant" in the Nuki app).
"""

from __future__ import annotations

import logging
from typing import Any

from ..ble.link import LinkTimings
from ..ble.scanner import ParsedAdvert
from ..ble.transport import TransportFactory
from ..credentials import Credential, CredentialKind, CredentialSpec, ProgressCallback
from ..errors import NotSupportedError
from ..model import AdvertResult, LockEvent
from ..params import LockSettings, PairingParams, SettingsUpdate
from ..snapshot import LockSnapshot
from ..store import Store
from .advert import NukiAdvert
from .driver_actions import Action, goals
from .driver_base import DriverBase, PushListener, StateListener
from .log_cmds import LogEntry
from .pairing import pair_lock, settle
from .session import PinNeededError

_LOGGER = logging.getLogger(__name__)
__all__ = ["NukiDriver", "PinNeededError", "pair"]


class NukiDriver(DriverBase):
    """One paired Nuki; construct it from a complete store record, or pair()/resume() it."""

    @classmethod
    async def pair(
        cls,
        advert: NukiAdvert,
        store: Store,
        params: PairingParams,
        transport_factory: TransportFactory,
        *,
        timings: LinkTimings | None = None,
        on_push: PushListener | None = None,
        on_state: StateListener | None = None,
        **options: Any,
    ) -> NukiDriver:
        """Pair a lock in pairing mode (spec §3), store it, read its Config, check the PIN.

        `options` are the constructor's (app_fetch_interval, busy_backoff, clock).
        """
        record = await pair_lock(advert, store, params, transport_factory, timings=timings)
        driver = cls(
            record.lock_id, store, transport_factory,
            timings=timings, on_push=on_push, on_state=on_state, **options,
        )  # fmt: skip
        await driver._after_pairing(params.pin)
        return driver

    @classmethod
    async def resume(
        cls,
        lock_id: str,
        store: Store,
        transport_factory: TransportFactory,
        *,
        timings: LinkTimings | None = None,
        on_push: PushListener | None = None,
        on_state: StateListener | None = None,
        **options: Any,
    ) -> NukiDriver | None:
        """A stored lock's driver; an unfinished pairing is settled first (None: removed)."""
        record = await settle(store, lock_id, transport_factory, timings=timings)
        if record is None:
            return None
        return cls(
            lock_id, store, transport_factory,
            timings=timings, on_push=on_push, on_state=on_state, **options,
        )  # fmt: skip

    # --- lock actions (spec §4.1 D) ------------------------------------------------------------

    async def _act(self, action: Action) -> LockSnapshot:
        if action not in goals(self._record.family):
            raise NotSupportedError("The Opener has no lock 'n' go.")
        await self._io(lambda: self._actions.run(action))
        return self._snapshot

    async def lock(self) -> LockSnapshot:
        """Lock (Lock Action 0x02; Opener: ring to open off)."""
        return await self._act(Action.LOCK)

    async def unlock(self) -> LockSnapshot:
        """Unlock (Lock Action 0x01; Opener: ring to open on)."""
        return await self._act(Action.UNLOCK)

    async def open(self) -> LockSnapshot:
        """Unlatch (Lock Action 0x03; Opener: electric strike)."""
        return await self._act(Action.UNLATCH)

    async def lock_n_go(self) -> LockSnapshot:
        """Lock 'n' go (0x04): unlock now, lock after the lock's timer. Not on the Opener."""
        return await self._act(Action.LOCK_N_GO)

    async def refresh(self) -> LockSnapshot:
        """Read Keyturner States (and Config once if never read)."""

        async def read() -> None:
            await self._session.run(self._actions.read_states)
            if self._record.firmware is None:
                await self._read_config()

        await self._io(read)
        return self._snapshot

    # --- credentials: keypad codes (spec §4.9) ------------------------------------------------

    async def list_credentials(self, kind: CredentialKind | None = None) -> list[Credential]:
        """Keypad codes on the lock; NotSupportedError for cards and fingerprints."""
        if kind is None and not self._record.has_keypad:
            return []
        self._keypad.require(kind or CredentialKind.PIN, self._record.has_keypad)
        return await self._io(self._keypad.read)

    async def add_credential(
        self, spec: CredentialSpec, progress: ProgressCallback | None = None
    ) -> Credential | None:
        """Add a keypad code (6 digits 1-9, not starting with 12)."""
        self._keypad.require(spec.kind, self._record.has_keypad)
        return await self._io(lambda: self._keypad.add(spec))

    async def update_credential(self, credential: Credential) -> Credential:
        """Rewrite a keypad code's name, code and time limit."""
        self._keypad.require(credential.kind, self._record.has_keypad)
        return await self._io(lambda: self._keypad.update(credential))

    async def delete_credential(self, kind: CredentialKind, credential_id: str) -> None:
        """Remove a keypad code; one already gone counts as deleted."""
        self._keypad.require(kind, self._record.has_keypad)
        await self._io(lambda: self._keypad.delete(credential_id))

    async def cancel_enrolment(self) -> None:
        """Nuki enrols nothing over Bluetooth; no-op."""

    # --- settings (spec §4.4, §4.5) -----------------------------------------------------------

    async def get_settings(self) -> LockSettings:
        """Auto lock, LED and auto unlatch (Smart Lock); the rest is None."""
        return await self._io(lambda: self._session.run(self._settings.read))

    async def set_settings(self, update: SettingsUpdate) -> LockSettings:
        """Apply `update` with the security PIN (each write is whole, so a retry is safe)."""
        wanted = (await self.get_settings()).apply(update)
        pin = self._pin()

        async def write() -> None:
            await self._session.run(lambda: self._settings.apply(update, pin))

        await self._io(lambda: self._pinned(write))
        return wanted

    # --- events: adverts, pushes, the log (spec §1.4, §1.5, §4.7) ------------------------------

    def on_advert(self, advert: object) -> AdvertResult:
        """Fold rssi in; say whether the beacon's new-state bit calls for read_events()."""
        try:
            value = advert.value if isinstance(advert, ParsedAdvert) else advert
            if not isinstance(value, NukiAdvert) or value.address.upper() != self._record.address:
                return AdvertResult()
            self._update(rssi=value.rssi, last_seen=self._clock(), available=True)
            if value.pairing_mode or self._gone:
                return AdvertResult()
            return AdvertResult(fetch=self._beacon.seen(value.new_state))
        except Exception:
            _LOGGER.exception("%s: could not fold an advert", self._record.name)
            return AdvertResult()

    async def read_events(self, new_only: bool = True) -> list[LockEvent]:
        """Log entries as events, oldest first (with the PIN), then Keyturner States."""
        record = self._record
        after = record.last_log_index if new_only else None
        events: list[LockEvent] = []
        if record.security_pin is not None:
            pin = record.security_pin

            async def read() -> tuple[list[LogEntry], int | None]:
                return await self._history.entries(pin, after, record.paired_at, new_only=new_only)

            entries, newest = await self._io(lambda: self._pinned(read))
            if newest is not None and newest > (record.last_log_index or 0):
                self._save(last_log_index=newest)
            events = self._history.events(entries, self._keypad.names)
        await self._io(lambda: self._session.run(self._actions.read_states))
        if record.security_pin is None:
            events = self._history.state_events()
        return events

    # --- removal ----------------------------------------------------------------------------

    async def reset(self) -> None:
        """No Nuki has a factory reset over Bluetooth; NotSupportedError."""
        raise NotSupportedError(
            "Nuki locks cannot be reset over Bluetooth; use the reset procedure in the Nuki app "
            "or the button, then remove the lock here."
        )

    async def unpair(self) -> None:
        """Remove this add-on's authorization (with the PIN, spec §4.8) and forget the lock."""
        if self._record.security_pin is None:
            _LOGGER.warning(
                "%s: no security PIN stored, so the authorization %r stays on the lock; remove "
                "it in the Nuki app.", self._record.name, "Home Assistant",
            )  # fmt: skip
        else:
            pin, auth_id = self._pin(), self._record.auth_id
            await self._io(lambda: self._pinned(lambda: self._history.remove_own(pin, auth_id)))
        self._gone = True
        self._store.remove_lock(self.lock_id)
        await self._session.close()
        _LOGGER.info("%s: unpaired and forgotten", self._record.name)

    async def disconnect(self) -> None:
        """Drop the link now; the next command reconnects."""
        await self._session.disconnect()

    async def close(self) -> None:
        """Drop the link for good; idempotent, never raises."""
        await self._session.close()


pair = NukiDriver.pair
"""Pair a Nuki in pairing mode and return its driver; PairingError with a sentence."""
