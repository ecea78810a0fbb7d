"""LockManager's registry: drivers from the store, adverts routed, availability, fetches, events."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from .ble.link import LinkTimings
from .ble.scanner import ParsedAdvert, Scanner
from .ble.transport import TransportFactory
from .credentials import Credential, CredentialKind
from .errors import LockError
from .manager_activity import Activity
from .manager_brands import (
    PARSERS,
    DriverOptions,
    Hooks,
    brand_of_advert,
    brand_of_record,
    resume_driver,
)
from .manager_events import (
    DiscoveryUpdated,
    LockActivity,
    LockAdded,
    LockRemoved,
    LockUpdated,
    ManagerEvent,
    NotFoundError,
    ScanState,
    Subscriber,
    Unsubscribe,
)
from .manager_watch import Discoveries, RetryWait, Watchdog, worth_telling
from .model import LINK_ERRORS, AdvertResult, LockDriver, LockEvent
from .snapshot import Brand, Discovery, LockSnapshot, lock_id_from_address
from .store import Store
from .validity import ValidationError

_LOGGER = logging.getLogger(__name__)
Clock = Callable[[], datetime]
AVAILABILITY_SECONDS = 180.0  # HA's own Bluetooth integration calls a device gone after ~3 min
PAIRABLE_SECONDS = 5.0  # a sleeping TTLock stops advertising; needs a touch again after this
RESUME_BACKOFF = (10.0, 30.0, 60.0, 300.0)  # the last one repeats
SCAN_RETRY_SECONDS = 30.0
HEARTBEAT_SECONDS = 60.0  # last_seen alone is republished at most this often


@dataclass(eq=False)
class LockEntry:
    """One registered lock: its driver, display name, serial queue and publication state."""

    driver: LockDriver
    name: str
    presence: Watchdog
    queue: asyncio.Lock = field(default_factory=asyncio.Lock)
    available: bool = False
    fetch: asyncio.Task[None] | None = None
    shown: LockSnapshot | None = None
    shown_at: float = 0.0
    removed: bool = False
    credentials: dict[tuple[CredentialKind, str], Credential] = field(default_factory=dict)
    activity: Activity = field(default_factory=Activity)

    @property
    def lock_id(self) -> str:
        """The lock id."""
        return self.driver.snapshot.id


class ManagerCore:
    """The registry half of LockManager (see manager.py for the operations)."""

    def __init__(
        self,
        store: Store,
        scanner: Scanner,
        transport_factory: TransportFactory,
        *,
        availability_seconds: float = AVAILABILITY_SECONDS,
        clock: Clock = lambda: datetime.now(UTC),
        timings: LinkTimings | None = None,
        driver_options: Mapping[Brand, DriverOptions] | None = None,
        pairable_seconds: float = PAIRABLE_SECONDS,
        resume_backoff: Sequence[float] = RESUME_BACKOFF,
        scan_retry_seconds: float = SCAN_RETRY_SECONDS,
        heartbeat_seconds: float = HEARTBEAT_SECONDS,
    ) -> None:
        if availability_seconds <= 0 or not resume_backoff:
            raise ValueError("availability_seconds must be positive and resume_backoff non-empty")
        self._store, self._scanner, self._factory = store, scanner, transport_factory
        self._availability, self._clock, self._timings = availability_seconds, clock, timings
        self._driver_options = dict(driver_options or {})
        self._backoff = tuple(resume_backoff)
        self._scan_retry, self._heartbeat = scan_retry_seconds, heartbeat_seconds
        self._locks: dict[str, LockEntry] = {}
        self._settling: dict[str, RetryWait] = {}  # unsettled stored locks: their next try
        self._subscribers: dict[object, Subscriber] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self._undo: list[Callable[[], None]] = []
        self._started = self._owns_scan = False
        self._discovering_until: datetime | None = None
        self._discovery_end: asyncio.TimerHandle | None = None
        self._discoveries = Discoveries(availability_seconds, pairable_seconds, self._discovered)

    # --- the event stream ------------------------------------------------------------------

    def subscribe(self, callback: Subscriber) -> Unsubscribe:
        """Receive every manager event from now on; returns a callable that stops it."""
        token = object()  # the same callback may subscribe twice; each undoes only itself
        self._subscribers[token] = callback

        def unsubscribe() -> None:
            self._subscribers.pop(token, None)

        return unsubscribe

    def _publish(self, event: ManagerEvent) -> None:
        for callback in list(self._subscribers.values()):
            try:
                callback(event)
            except Exception:
                _LOGGER.exception("A manager event subscriber failed on %s", event.type)

    def _scan_state(self, error: str | None = None) -> ScanState:
        until = self._discovering_until
        return ScanState(self._scanner.running, error, until is not None, until)

    def _record(self, entry: LockEntry, event: LockEvent) -> None:
        """Keep an event in the lock's activity (with who asked for it) and publish it."""
        self._publish(LockActivity(entry.activity.record(event)))

    def _discovered(self) -> None:
        self._publish(DiscoveryUpdated(tuple(self._discoveries.list())))

    # --- queries (no I/O) --------------------------------------------------------------------

    @property
    def scanning(self) -> bool:
        """Whether the Bluetooth scan runs."""
        return self._scanner.running

    def locks(self) -> list[LockSnapshot]:
        """Every paired lock's snapshot, by name."""
        views = [self._view(entry) for entry in self._locks.values()]
        return sorted(views, key=lambda s: (s.name.lower(), s.id))

    def snapshot(self, lock_id: str) -> LockSnapshot:
        """One lock's snapshot; NotFoundError if it is not paired."""
        return self._view(self._entry(lock_id))

    def discoveries(self) -> list[Discovery]:
        """Locks heard lately that are not paired with the add-on."""
        return self._discoveries.list()

    def driver_of(self, lock_id: str) -> LockDriver:
        """A lock's driver, for diagnostics and tests: calls on it bypass the lock's queue."""
        return self._entry(lock_id).driver

    def _entry(self, lock_id: str) -> LockEntry:
        entry = self._locks.get(lock_id)
        if entry is None or entry.removed:
            raise NotFoundError(f"No lock with id {lock_id} is paired with the add-on.")
        return entry

    def _view(self, entry: LockEntry) -> LockSnapshot:
        return replace(entry.driver.snapshot, name=entry.name, available=entry.available)

    def _changed(self, entry: LockEntry, *, force: bool = False) -> None:
        """Publish the lock's snapshot if it changed in a way worth telling."""
        if entry.removed:
            return
        view, old = self._view(entry), entry.shown
        now = asyncio.get_running_loop().time()
        if force or old is None or worth_telling(old, view, now - entry.shown_at, self._heartbeat):
            entry.shown, entry.shown_at = view, now
            self._publish(LockUpdated(view))

    # --- lifecycle -----------------------------------------------------------------------

    def _spawn(self, coro: Coroutine[Any, Any, Any], name: str) -> asyncio.Task[Any]:
        task = asyncio.create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def start(self) -> None:
        """Load every stored lock, listen to adverts, start scanning (retried in the background)."""
        if self._started:
            return
        self._started = True
        for brand, (predicate, parse) in PARSERS.items():
            self._undo.append(self._scanner.register_parser(brand.value, predicate, parse))
            self._undo.append(self._scanner.subscribe(self._on_advert, parser=brand.value))
        for lock_id in self._store.lock_ids():
            await self._load(lock_id)
        self._owns_scan = not self._scanner.running
        if self._owns_scan:
            self._spawn(self._keep_scanning(), "manager: start scanning")
        else:
            self._publish(self._scan_state())

    async def stop(self) -> None:
        """Stop listening, cancel background work, close every link; no task is left behind."""
        if not self._started:
            return
        self._started = False
        if self._discovery_end is not None:
            self._discovery_end.cancel()
        self._discovery_end = self._discovering_until = None
        for undo in reversed(self._undo):
            undo()
        self._undo.clear()
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._discoveries.close()
        entries, self._locks = list(self._locks.values()), {}
        self._settling.clear()
        for entry in entries:
            entry.presence.cancel()
            await entry.driver.close()
        if self._owns_scan:
            self._owns_scan = False
            await self._scanner.stop()
            self._publish(self._scan_state())

    async def _keep_scanning(self) -> None:
        while True:
            try:
                await self._scanner.start()
            except LockError as exc:
                _LOGGER.error("%s Retrying in %.0f s.", exc.message, self._scan_retry)
                self._publish(self._scan_state(exc.message))
                await asyncio.sleep(self._scan_retry)
                continue
            self._publish(self._scan_state())
            return

    # --- the registry --------------------------------------------------------------------

    def _options(self, brand: Brand) -> dict[str, Any]:
        options = dict(self._driver_options.get(brand, {}))
        if self._timings is not None:
            options.setdefault("timings", self._timings)
        options.setdefault("clock", self._clock)
        return options

    def _hooks(self, lock_id: str) -> Hooks:
        return Hooks(
            on_push=lambda result: self._pushed(lock_id, result),
            on_state=lambda _snapshot: self._state(lock_id),
        )

    async def _resume_driver(self, brand: Brand, lock_id: str) -> LockDriver | None:
        hooks, options = self._hooks(lock_id), self._options(brand)
        return await resume_driver(
            brand, lock_id, self._store, self._factory, hooks=hooks, options=options
        )

    def _register(self, driver: LockDriver, *, present: bool) -> LockEntry:
        snapshot = driver.snapshot
        lock_id = snapshot.id
        presence = Watchdog(self._availability, lambda: self._silent(lock_id))
        entry = LockEntry(driver, snapshot.name, presence)
        self._locks[lock_id] = entry
        self._discoveries.forget(snapshot.address)
        if present:
            entry.available = True
            entry.presence.feed()
        entry.shown, entry.shown_at = self._view(entry), asyncio.get_running_loop().time()
        self._publish(LockAdded(entry.shown))
        return entry

    async def _load(self, lock_id: str) -> None:
        """Resume a stored lock: complete records now, unfinished pairings in the background."""
        record = self._store.get_lock(lock_id) or {}
        brand = brand_of_record(record)
        if brand is None:
            _LOGGER.warning("Skipping stored lock %s: unknown brand", lock_id)
            return
        if record.get("complete") is True and await self._resume(brand, lock_id):
            return
        self._settling[lock_id] = RetryWait(self._backoff)
        retry = record.get("complete") is True  # the attempt above failed: wait before the next
        self._spawn(self._keep_resuming(brand, lock_id, retry), f"manager: resume {lock_id}")

    async def _resume(self, brand: Brand, lock_id: str) -> bool:
        """One resume attempt; True when settled (registered, dropped or hopeless)."""
        try:
            driver = await self._resume_driver(brand, lock_id)
        except LINK_ERRORS as exc:
            _LOGGER.warning("Lock %s could not be loaded yet: %s", lock_id, exc.message)
            return False
        except LockError as exc:
            _LOGGER.error("Lock %s cannot be loaded: %s", lock_id, exc.message)
            return True
        self._settling.pop(lock_id, None)
        if driver is None:
            _LOGGER.info("Lock %s: its pairing was never finished and was undone", lock_id)
        else:
            self._register(driver, present=False)
        return True

    async def _keep_resuming(self, brand: Brand, lock_id: str, wait_first: bool) -> None:
        while wait_first or not await self._resume(brand, lock_id):
            wait_first = False
            await self._settling[lock_id].wait()
        self._settling.pop(lock_id, None)

    async def _forget(self, entry: LockEntry) -> None:
        """Drop a lock from the registry and the store; publish its removal."""
        lock_id = entry.lock_id
        self._store.remove_lock(lock_id)  # a StoreError here changes nothing else
        entry.removed = True
        entry.presence.cancel()
        if entry.fetch is not None and entry.fetch is not asyncio.current_task():
            entry.fetch.cancel()
        await entry.driver.close()
        if self._locks.get(lock_id) is entry:
            del self._locks[lock_id]
        self._publish(LockRemoved(lock_id))

    # --- adverts, pushes and availability ------------------------------------------------

    def _on_advert(self, parsed: ParsedAdvert[Any]) -> None:
        value = parsed.value
        if brand_of_advert(value) is None:
            return
        try:
            lock_id = lock_id_from_address(value.address)
        except ValidationError:
            return
        entry = self._locks.get(lock_id)
        if entry is None or entry.removed:
            if lock_id in self._settling:  # awake now: settle its stored pairing without waiting
                self._settling[lock_id].poke()
            else:
                self._discoveries.heard(value)
            return
        result = entry.driver.on_advert(parsed)
        entry.presence.feed()
        entry.available = True
        self._fold(entry, result)
        self._changed(entry)

    def _pushed(self, lock_id: str, result: AdvertResult) -> None:
        entry = self._locks.get(lock_id)
        if entry is not None and not entry.removed:
            self._fold(entry, result)
            self._changed(entry)

    def _state(self, lock_id: str) -> None:
        entry = self._locks.get(lock_id)
        if entry is not None:
            self._changed(entry)

    def _fold(self, entry: LockEntry, result: AdvertResult) -> None:
        for event in result.events:
            self._record(entry, event)
        if result.fetch:
            self._want_fetch(entry)

    def _silent(self, lock_id: str) -> None:
        entry = self._locks.get(lock_id)
        if entry is None or entry.removed:
            return
        if entry.queue.locked() or getattr(entry.driver, "connected", False) is True:
            entry.presence.feed()  # a linked lock does not advertise; it is plainly there
            return
        entry.available = False
        self._changed(entry)

    def _want_fetch(self, entry: LockEntry) -> None:
        """Queue one read of new events; requests while one is pending or running merge."""
        if entry.fetch is None and not entry.removed and self._started:
            entry.fetch = self._spawn(self._fetch(entry), f"manager: fetch {entry.lock_id}")

    async def _fetch(self, entry: LockEntry) -> None:
        try:
            async with entry.queue:
                if entry.removed:
                    return
                events = await entry.driver.read_events(new_only=True)
        except LockError as exc:
            _LOGGER.warning("%s: reading new events failed: %s", entry.name, exc.message)
            return
        except Exception:
            _LOGGER.exception("%s: reading new events failed", entry.name)
            return
        finally:
            entry.fetch = None
            self._changed(entry)
        for event in events:
            self._record(entry, event)
