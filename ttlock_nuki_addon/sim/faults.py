"""Fault knobs of a simulated peripheral: one-shot counters and seeded random rates.

Counters (`drop_replies`, `corrupt_replies`, `drop_link_after_writes`) hit the next events, one
each. Rates hit every event with a probability: `drop_rate` and `corrupt_rate` per reply message,
`disconnect_rate` per GATT write (the link drops after the lock handled it, so a command may
have run while its answer is lost), `jitter_ms` adds up to that much latency to each reply.
The dice are a `random.Random` per peripheral, seeded from its address unless a `seed` is set,
so a run with the same traffic makes the same decisions.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from typing import Any

RATES = ("drop_rate", "corrupt_rate", "disconnect_rate")
COUNTERS = ("drop_replies", "corrupt_replies", "drop_link_after_writes")
SWITCHES = ("mute", "refuse_connect")
MAX_JITTER_MS = 60_000
MAX_COUNT = 1_000_000
MAX_SEED = 2**63 - 1


class FaultError(ValueError):
    """A fault knob was given a value it cannot take; the message names the knob."""


@dataclass(slots=True)
class Faults:
    """Fault knobs of one peripheral (see the module docstring)."""

    drop_replies: int = 0
    corrupt_replies: int = 0
    drop_link_after_writes: int = 0
    mute: bool = False
    refuse_connect: bool = False
    drop_rate: float = 0.0
    corrupt_rate: float = 0.0
    disconnect_rate: float = 0.0
    jitter_ms: int = 0
    seed: int = 0


def seed_of(address: str) -> int:
    """The default seed of a peripheral: its address as a number (stable across runs)."""
    digits = "".join(c for c in address if c.isalnum())
    try:
        return int(digits, 16)
    except ValueError:
        return sum(address.encode())


def _int(params: dict[str, Any], name: str, high: int) -> int | None:
    value = params.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= high:
        raise FaultError(f"'{name}' must be an integer from 0 to {high}")
    return value


def _rate(params: dict[str, Any], name: str) -> float | None:
    value = params.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise FaultError(f"'{name}' must be a number from 0 to 1")
    rate = float(value)
    if not math.isfinite(rate) or not 0.0 <= rate <= 1.0:
        raise FaultError(f"'{name}' must be a number from 0 to 1")
    return rate


def update_faults(faults: Faults, params: dict[str, Any]) -> bool:
    """Apply the knobs named in `params` (all checked first); True when a new seed was given."""
    counts = {name: _int(params, name, MAX_COUNT) for name in COUNTERS}
    rates = {name: _rate(params, name) for name in RATES}
    jitter = _int(params, "jitter_ms", MAX_JITTER_MS)
    seed = _int(params, "seed", MAX_SEED)
    switches: dict[str, bool] = {}
    for name in SWITCHES:
        if name in params:
            if not isinstance(params[name], bool):
                raise FaultError(f"'{name}' must be true or false")
            switches[name] = params[name]
    changes: dict[str, Any] = {**counts, **rates, "jitter_ms": jitter, "seed": seed, **switches}
    for name, value in changes.items():
        if value is not None:
            setattr(faults, name, value)
    return seed is not None


class FaultDice:
    """The random decisions of one peripheral's faults, from its own seeded generator."""

    def __init__(self, seed: int) -> None:
        self._random = random.Random(seed)  # noqa: S311  fault dice, not crypto

    def reseed(self, seed: int) -> None:
        """Start the sequence of decisions again from `seed`."""
        self._random.seed(seed)

    def _hit(self, rate: float) -> bool:
        return rate > 0.0 and self._random.random() < rate

    def reply_delay(self, faults: Faults, base_ms: int) -> float:
        """Seconds to wait before sending one reply: the link's delay plus random jitter."""
        extra = self._random.uniform(0, faults.jitter_ms) if faults.jitter_ms > 0 else 0.0
        return (base_ms + extra) / 1000

    def reply(self, faults: Faults, message: bytes) -> bytes | None:
        """One reply as it goes out: None when dropped, flipped bits when corrupted."""
        if faults.drop_replies > 0:
            faults.drop_replies -= 1
            return None
        if self._hit(faults.drop_rate):
            return None
        if faults.corrupt_replies > 0 and message:
            faults.corrupt_replies -= 1
            index = len(message) // 2
            return message[:index] + bytes([message[index] ^ 0xFF]) + message[index + 1 :]
        if message and self._hit(faults.corrupt_rate):
            index = self._random.randrange(len(message))
            mask = self._random.randrange(1, 256)
            return message[:index] + bytes([message[index] ^ mask]) + message[index + 1 :]
        return message

    def drop_after_write(self, faults: Faults) -> bool:
        """True when the link should drop after this write (counter first, then the rate)."""
        if faults.drop_link_after_writes > 0:
            faults.drop_link_after_writes -= 1
            return True
        return self._hit(faults.disconnect_rate)
