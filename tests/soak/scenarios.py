"""What the soak's client knows about each lock's credentials, and the person at a TTLock.

The ledger holds what the add-on's answers promised: a credential whose add was answered `ok` and
that no delete was tried on since must be on the lock at the end; one whose delete was answered
`ok` must be gone. Adds that failed may or may not have reached the lock (their answer can be
lost); for those only "at most once" is checked, at the end.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from five_locks import LockSpec

from ttlock_nuki_addon.sim.ttlock import VirtualTTLock
from ttlock_nuki_addon.ttlock.codec import Command

from .clients import Json
from .rig import SoakRig

Key = tuple[str, str]  # (kind, credential id)
WsCall = Callable[..., Awaitable[tuple[str, Json]]]
CANCEL_SHARE = 5  # one enrolment in this many is cancelled instead of finished
PERSON_DELAY = 0.2  # seconds between the lock asking and the person acting


@dataclass
class Ledger:
    """One lock's credentials as the add-on's answers described them."""

    known: dict[Key, str | None] = field(default_factory=dict)  # -> code (None: card/finger)
    present: dict[Key, str | None] = field(default_factory=dict)
    absent: set[Key] = field(default_factory=set)
    tried_codes: set[str] = field(default_factory=set)  # every PIN an add was sent for
    cards: set[int] = field(default_factory=set)  # numbers presented during an enrolment

    def listed(self, credentials: list[dict[str, Json]]) -> None:
        """A credentials.list answer: what it shows can be deleted later."""
        for credential in credentials:
            self.known[(credential["kind"], credential["id"])] = credential["code"]

    def added(self, code: str | None, outcome: str, result: Json) -> None:
        """A credentials.add answer (PIN, card or fingerprint; None result = cancelled)."""
        if code is not None:
            self.tried_codes.add(code)
        if outcome == "ok" and result is not None:
            key = (result["kind"], result["id"])
            self.known[key] = result["code"]
            self.present[key] = result["code"]
            self.absent.discard(key)

    def pick(self, roll: int) -> Key | None:
        """A known credential to delete (None if none is known)."""
        keys = sorted(self.known)
        return keys[roll % len(keys)] if keys else None

    def deleting(self, kind: str, cred_id: str) -> None:
        """A delete is sent: its credential is no longer certainly there."""
        self.present.pop((kind, cred_id), None)

    def deleted(self, kind: str, cred_id: str, outcome: str) -> None:
        """A credentials.delete answer."""
        if outcome == "ok":
            self.known.pop((kind, cred_id), None)
            self.absent.add((kind, cred_id))


class Person:
    """Someone at a TTLock while the add-on enrols a card or finger: acts, or cancels instead."""

    def __init__(self, rig: SoakRig, spec: LockSpec, run: int, index: int, roll: int) -> None:
        self.rig, self.spec = rig, spec
        self.kind = "card" if roll % 2 else "fingerprint"
        self.cancel = (roll // 2) % CANCEL_SHARE == 0
        self.number = 5_000_000 + run * 10_000 + index
        self.finger = f"soak-{run}-{index}"
        self.name = f"Soak {self.kind} {run}-{index}"
        self.cancelled: str | None = None  # the credentials.cancel outcome, if one was sent

    async def enrol(self, call: WsCall, ledger: Ledger) -> str:
        """Start the enrolment over the websocket, act at the lock; the add's outcome."""
        lock = self.rig.ttlock(self.spec)
        params = {"lock_id": self.spec.lock_id, "kind": self.kind, "name": self.name}
        request = asyncio.ensure_future(call("credentials.add", **params))
        acting = asyncio.create_task(self._act(lock, call, request, ledger))
        try:
            outcome, result = await request
        finally:
            acting.cancel()
            await asyncio.gather(acting, return_exceptions=True)
        ledger.added(None, outcome, result)
        return outcome

    def _asked(self, lock: VirtualTTLock) -> bool:
        enrolment = lock.enrolment
        command = Command.IC_MANAGE if self.kind == "card" else Command.FR_MANAGE
        return enrolment is not None and enrolment.command == command

    async def _act(
        self,
        lock: VirtualTTLock,
        call: WsCall,
        request: asyncio.Future[tuple[str, Json]],
        ledger: Ledger,
    ) -> None:
        while not request.done():
            if not self._asked(lock):
                await asyncio.sleep(0.05)
                continue
            await asyncio.sleep(PERSON_DELAY)
            if not self._asked(lock):
                continue
            if self.cancel:
                self.cancelled, _ = await call("credentials.cancel", lock_id=self.spec.lock_id)
                return
            if self.kind == "card":
                ledger.cards.add(self.number)
                lock.present_card(self.number)
            else:
                lock.place_finger(self.finger)
