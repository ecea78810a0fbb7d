"""What goes in and out of the virtual Nuki's engine, and what tests inject into it."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Protocol

from ..nuki import codec
from ..nuki.commands import new_challenge
from ..nuki.pairing_msgs import KeyPair, generate_keypair, shared_key
from .nuki_state import Authorization, counter
from .ttlock_state import Timers

if TYPE_CHECKING:
    from .nuki_core import NukiCore


@dataclass(frozen=True, slots=True)
class Send:
    """One whole message for the central on one characteristic."""

    char: str
    data: bytes


@dataclass(frozen=True, slots=True)
class Drop:
    """Drop the link at once."""

    reason: str


Out = Send | Drop


class KeyAgreement(Protocol):
    """The lock's X25519 key pair as the pairing flow needs it (injectable for tests)."""

    @property
    def public_key(self) -> bytes:
        """The lock's public key (spec §3.1 step 2)."""
        ...

    def shared_key(self, client_public: bytes) -> bytes:
        """crypto_box_beforenm(clientPub, lockPriv) (spec §3.2); FieldError on a bad key."""
        ...


class X25519Agreement:
    """A real key pair; the private half stays inside."""

    def __init__(self, pair: KeyPair | None = None) -> None:
        self._pair = pair or generate_keypair()

    @property
    def public_key(self) -> bytes:
        """The lock's public key."""
        return self._pair.public

    def shared_key(self, client_public: bytes) -> bytes:
        """The long-term key with this client."""
        return shared_key(client_public, self._pair.private)


class Scheduler(Protocol):
    """Named one-shot timers (ttlock_state.Timers in the world, a manual one in tests)."""

    def start(self, name: str, delay: float, callback: Callable[[], None]) -> None:
        """(Re)start timer `name`."""
        ...

    def cancel(self, name: str) -> None:
        """Stop timer `name` if it runs."""
        ...

    def running(self, name: str) -> bool:
        """Whether timer `name` is pending."""
        ...

    def cancel_all(self) -> None:
        """Stop every timer."""
        ...


@dataclass(slots=True)
class NukiKnobs:
    """Nuki fault knobs; counters are consumed one event at a time."""

    busy: int = 0  # K_ERROR_BUSY for the next N lock actions
    stale_challenge: int = 0  # K_ERROR_BAD_NONCE for the next N protected commands
    jam: int = 0  # the next N movements end with the motor blocked


@dataclass(frozen=True, slots=True)
class Request:
    """One verified encrypted command: who sent it, the payload and its own fields."""

    auth: Authorization
    command: int
    payload: bytes  # everything after the command id
    fields: bytes  # without nK and PIN
    link: int


Handler = Callable[["NukiCore", Request], None]


@dataclass(slots=True)
class Injected:
    """Everything random or time-bound the engine uses; tests replace any of it."""

    agreement: KeyAgreement = field(default_factory=X25519Agreement)
    challenge_source: Callable[[], bytes] = new_challenge
    nonce_source: Callable[[], bytes] = lambda: os.urandom(codec.NONCE_LEN)
    lock_uuid: bytes = field(default_factory=lambda: os.urandom(16))
    auth_ids: Callable[[], int] = field(default_factory=counter)
    clock: Callable[[], datetime] = lambda: datetime.now(UTC).replace(tzinfo=None)
    timers: Scheduler = field(default_factory=Timers)
