"""Silence timers, resume retries and the list of heard-but-unpaired locks of LockManager."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from .manager_brands import BrandAdvert, discovery_of, ready_to_pair
from .snapshot import Discovery, LockSnapshot

RSSI_STEP = 5  # dBm; smaller swings are radio noise and are not published


class Watchdog:
    """Calls `on_silence` once `seconds` pass without `feed()`; at most one timer handle."""

    def __init__(self, seconds: float, on_silence: Callable[[], None]) -> None:
        self.seconds = seconds
        self._on_silence = on_silence
        self._last = 0.0
        self._handle: asyncio.TimerHandle | None = None

    @property
    def armed(self) -> bool:
        """Whether the silence has not been reported yet."""
        return self._handle is not None

    def feed(self) -> None:
        """Something was heard now; (re)start the wait."""
        loop = asyncio.get_running_loop()
        self._last = loop.time()
        if self._handle is None:
            self._handle = loop.call_at(self._last + self.seconds, self._fire)

    def _fire(self) -> None:
        self._handle = None
        loop = asyncio.get_running_loop()
        due = self._last + self.seconds
        if loop.time() < due:  # fed meanwhile: wait for the rest instead of re-arming per feed
            self._handle = loop.call_at(due, self._fire)
            return
        self._on_silence()

    def cancel(self) -> None:
        """Stop waiting; nothing is reported."""
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None


class RetryWait:
    """Backoff between resume attempts that a sign of life cuts short (never below step one).

    A lock whose pairing was cut off (a crash) may have rolled back and gone to sleep: only a
    touch wakes it, for a few seconds, so the next attempt must come then, not minutes later.
    """

    def __init__(self, steps: Sequence[float]) -> None:
        self._steps = tuple(steps)
        self._attempt = 0
        self._heard = asyncio.Event()

    def poke(self) -> None:
        """The lock was heard: it is awake, try soon."""
        self._heard.set()

    async def wait(self) -> None:
        """Wait the next step (the last one repeats), or less once poked."""
        loop = asyncio.get_running_loop()
        delay = self._steps[min(self._attempt, len(self._steps) - 1)]
        self._attempt += 1
        started = loop.time()
        self._heard.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._heard.wait(), delay)
        rest = min(delay, self._steps[0]) - (loop.time() - started)  # a chatty lock: no storm
        if rest > 0:
            await asyncio.sleep(rest)


def worth_telling(old: LockSnapshot, new: LockSnapshot, quiet_for: float, heartbeat: float) -> bool:
    """Whether a snapshot change is worth publishing: not a small RSSI swing, heartbeat apart."""
    if replace(old, rssi=None, last_seen=None) != replace(new, rssi=None, last_seen=None):
        return True
    if (old.rssi is None) != (new.rssi is None):
        return True
    if old.rssi is not None and new.rssi is not None and abs(old.rssi - new.rssi) >= RSSI_STEP:
        return True
    return old.last_seen != new.last_seen and quiet_for >= heartbeat


def differs(old: Discovery | None, new: Discovery | None) -> bool:
    """Whether a change is worth telling: anything but a small RSSI swing."""
    if old is None or new is None:
        return old is not new
    if replace(old, rssi=None) != replace(new, rssi=None):
        return True
    if old.rssi is None or new.rssi is None:
        return old.rssi != new.rssi
    return abs(old.rssi - new.rssi) >= RSSI_STEP


@dataclass(eq=False)
class _Heard:
    advert: BrandAdvert
    expiry: Watchdog
    window: Watchdog
    shown: Discovery | None = None
    fresh: bool = False


class Discoveries:
    """Unpaired locks by address: pairable while ready adverts keep coming, gone when silent."""

    def __init__(
        self, expiry_seconds: float, pairable_seconds: float, on_change: Callable[[], None]
    ) -> None:
        self._expiry = expiry_seconds
        self._window = min(pairable_seconds, expiry_seconds)
        self._on_change = on_change
        self._heard: dict[str, _Heard] = {}

    def list(self) -> list[Discovery]:
        """The current discoveries, by brand, name and address."""
        shown = [heard.shown for heard in self._heard.values() if heard.shown is not None]
        return sorted(shown, key=lambda d: (d.brand.value, d.name, d.address))

    def latest(self, address: str) -> BrandAdvert | None:
        """The newest advert of an unpaired lock, None if not heard lately."""
        heard = self._heard.get(address.upper())
        return None if heard is None else heard.advert

    def heard(self, value: BrandAdvert) -> None:
        """Fold an advert of a lock that is not paired with us."""
        address = value.address.upper()
        heard = self._heard.get(address)
        if heard is None:
            heard = _Heard(
                value,
                Watchdog(self._expiry, lambda: self.forget(address)),
                Watchdog(self._window, lambda: self._stale(address)),
            )
            self._heard[address] = heard
        heard.advert = value
        heard.expiry.feed()
        if ready_to_pair(value):
            heard.fresh = True
            heard.window.feed()
        self._show(heard)

    def _stale(self, address: str) -> None:
        heard = self._heard.get(address)
        if heard is not None:
            heard.fresh = False
            self._show(heard)

    def _show(self, heard: _Heard) -> None:
        new = discovery_of(heard.advert, fresh=heard.fresh)
        if differs(heard.shown, new):
            heard.shown = new
            self._on_change()

    def forget(self, address: str) -> None:
        """Drop an address (silent for too long, or paired now)."""
        heard = self._heard.pop(address.upper(), None)
        if heard is None:
            return
        heard.expiry.cancel()
        heard.window.cancel()
        self._on_change()

    def close(self) -> None:
        """Forget everything silently and stop every timer."""
        for heard in self._heard.values():
            heard.expiry.cancel()
            heard.window.cancel()
        self._heard.clear()
