"""Who asked: the acting HA user of an operation, and each lock's recent activity with it.

The web panel runs each request inside ``acting_as(user)``. An operation started there leaves a
claim on the lock ("alice asked for an unlock at 10:02"); the first matching event from the lock's
log or pushes (same kind, caused over Bluetooth by us, close in time) carries that user's name.
"""

from __future__ import annotations

import contextlib
from collections import deque
from collections.abc import Iterable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from .model import EventKind, EventSource, LockEvent

HISTORY_SIZE = 200  # events kept per lock for the panel's activity list
CLAIM_WINDOW = timedelta(minutes=2)  # lock clocks drift; an event this close still matches
MAX_CLAIMS = 16

ACTOR: ContextVar[str | None] = ContextVar("ttlock_nuki_actor", default=None)


@contextlib.contextmanager
def acting_as(user: str | None) -> Iterator[None]:
    """Attribute the operations started inside to `user` (a person's name, or None)."""
    token = ACTOR.set(user)
    try:
        yield
    finally:
        ACTOR.reset(token)


@dataclass(frozen=True, slots=True)
class Claim:
    """A person asked for an operation that makes the lock log one of `kinds`."""

    user: str
    at: datetime
    kinds: frozenset[EventKind]


def _key(event: LockEvent) -> tuple[object, ...]:
    return (event.kind, event.source, event.time, event.credential_id)


class Activity:
    """One lock's recent events (oldest first) and the open claims on them."""

    def __init__(self, size: int = HISTORY_SIZE) -> None:
        self.events: deque[LockEvent] = deque(maxlen=size)
        self.loaded = False  # the lock's whole log was read once
        self._claims: deque[Claim] = deque(maxlen=MAX_CLAIMS)

    def claim(self, kinds: Iterable[EventKind], at: datetime) -> None:
        """Remember who asked (the current ACTOR) for an operation logged as one of `kinds`."""
        user = ACTOR.get()
        if user:
            self._claims.append(Claim(user, at, frozenset(kinds)))

    def _attribute(self, event: LockEvent) -> LockEvent:
        if event.user is not None or event.source is not EventSource.APP:
            return event
        for claim in self._claims:
            if event.kind in claim.kinds and abs(event.time - claim.at) <= CLAIM_WINDOW:
                self._claims.remove(claim)
                return replace(event, user=claim.user)
        return event

    def record(self, event: LockEvent) -> LockEvent:
        """Attribute a new event, keep it (once), and return it as it should be published."""
        event = self._attribute(event)
        if all(_key(event) != _key(known) for known in self.events):
            self.events.append(event)
        return event

    def load(self, events: Iterable[LockEvent]) -> None:
        """Merge the lock's whole log into what is known (known copies keep their user)."""
        known = {_key(event): event for event in self.events}
        for event in events:
            if _key(event) not in known:
                known[_key(event)] = self._attribute(event)
        merged = sorted(known.values(), key=lambda e: e.time)
        self.events.clear()
        self.events.extend(merged)
        self.loaded = True

    def latest(self, limit: int) -> list[LockEvent]:
        """Up to `limit` events, newest first."""
        return list(reversed(self.events))[: max(limit, 0)]
