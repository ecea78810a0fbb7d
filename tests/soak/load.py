"""The soak's load: a seeded mix of operations over the five locks, through the panel and MQTT.

What "ends" means, per channel (each within OP_TIMEOUT of being sent):
- websocket: the reply to the request arrives and is `ok`, or an error whose code is one of the
  contract's codes other than `internal`.
- MQTT: per lock, only one operation that changes what the state topic shows (bolt, refresh,
  settings get/set, over either channel) runs at a time; credential and read operations on the
  same lock may run meanwhile. A lock command (LOCK/UNLOCK/OPEN) ends with a state message
  showing the moving state (LOCKING/UNLOCKING/OPENING; or it showed one already) followed by a
  settled one (LOCKED/UNLOCKED/OPEN/JAMMED): success when the bridge logged no failure for it.
  A settings command ends with a state message carrying the commanded value (always one the
  state does not show yet): success likewise. Either ends in an error when the bridge logs
  "<lock>: <action> from Home Assistant failed: <ErrorClass>: ..." (or "changing <setting>"),
  the code being that of ErrorClass; a failure logged without a class (a traceback) is untyped.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from five_locks import SPECS, LockSpec

from ttlock_nuki_addon.errors import LockError
from ttlock_nuki_addon.mqtt.topics import Target
from ttlock_nuki_addon.validity import ValidationError
from ttlock_nuki_addon.web.errors import KNOWN_CODES

from .clients import Json
from .rig import SoakRig
from .scenarios import Ledger, Person

OP_TIMEOUT = 60.0  # an operation that has not ended after this long is a failure of the soak
MQTT_SHARE = 0.45  # of the bolt and settings operations, the share sent over MQTT
TYPED_CODES = KNOWN_CODES - {"internal"}
MOVING = {"LOCKING", "UNLOCKING", "OPENING"}
SETTLED = {"LOCKED", "UNLOCKED", "OPEN", "JAMMED"}
# (action, weight, brands that do it: "t" TTLock, "n" Nuki)
MIX: tuple[tuple[str, int, str], ...] = (
    ("lock.lock", 13, "tn"),
    ("lock.unlock", 13, "tn"),
    ("lock.open", 6, "tn"),  # a TTLock answers not_supported
    ("lock.refresh", 3, "tn"),
    ("locks.list", 3, "tn"),
    ("credentials.list", 12, "tn"),
    ("credentials.add", 12, "tn"),
    ("credentials.enrol", 5, "t"),
    ("credentials.delete", 14, "tn"),
    ("settings.get", 6, "tn"),
    ("settings.set", 11, "tn"),
    ("events.list", 3, "tn"),
)
# Operations that change what the MQTT state topic shows (settings.get publishes the settings).
STATEFUL = frozenset(
    {"lock.lock", "lock.unlock", "lock.open", "lock.refresh", "settings.set", "settings.get"}
)
MQTT_ACTIONS = {"lock.lock": "LOCK", "lock.unlock": "UNLOCK", "lock.open": "OPEN"}
SETTINGS = {
    "t": (("auto_lock_seconds", Target.AUTO_LOCK), ("sound", Target.SOUND),
          ("passage_mode", Target.PASSAGE_MODE), ("remote_unlock", Target.REMOTE_UNLOCK)),
    "n": (("auto_lock_seconds", Target.AUTO_LOCK), ("led", Target.LED),
          ("auto_unlatch", Target.AUTO_UNLATCH)),
}  # fmt: skip
STATE_FIELD = {"auto_lock_seconds": "auto_lock"}
AUTO_LOCK_VALUES = (0, 600, 900)  # long enough never to fire during a run


class Channel(StrEnum):
    """How an operation reaches the add-on."""

    WS = "ws"
    MQTT = "mqtt"


@dataclass(frozen=True, slots=True)
class Op:
    """One planned operation; `roll` makes its choices at run time reproducible."""

    index: int
    spec: LockSpec
    action: str
    channel: Channel
    roll: int


def plan(seed: int, count: int) -> list[Op]:
    """`count` operations drawn with `seed`: lock, action by weight, channel."""
    rng = random.Random(seed)  # a reproducible load
    ops = []
    for index in range(count):
        spec = rng.choice(SPECS)
        brand = "t" if spec.kind == "ttlock" else "n"
        choices = [(action, weight) for action, weight, brands in MIX if brand in brands]
        action = rng.choices([a for a, _ in choices], [w for _, w in choices])[0]
        mqtt = action in STATEFUL and action != "lock.refresh" and rng.random() < MQTT_SHARE
        if action == "lock.open" and brand == "t":
            mqtt = False  # the bridge ignores OPEN for a lock without it; the panel answers
        channel = Channel.MQTT if mqtt else Channel.WS
        ops.append(Op(index, spec, action, channel, rng.randrange(2**31)))
    return ops


def code_for(run: int, index: int) -> str:
    """A PIN unique per run and operation, valid on both brands (6 digits 1-9, no leading 12)."""
    number, digits = run * 1000 + index, []
    for _ in range(5):
        number, digit = divmod(number, 9)
        digits.append(str(digit + 1))
    return "3" + "".join(reversed(digits))


@dataclass
class Tally:
    """What the operations of one run ended in."""

    outcomes: Counter[tuple[str, str]] = field(default_factory=Counter)  # (channel, outcome)
    by_action: Counter[tuple[str, str]] = field(default_factory=Counter)  # (action, outcome)
    violations: list[str] = field(default_factory=list)
    slowest: float = 0.0
    ops: int = 0
    seconds: defaultdict[str, float] = field(default_factory=lambda: defaultdict(float))

    def add(self, op: Op, outcome: str, seconds: float) -> None:
        """Count one ended operation; an untyped or missing end is a violation."""
        self.ops += 1
        self.outcomes[(op.channel.value, outcome)] += 1
        self.by_action[(op.action, outcome)] += 1
        self.slowest = max(self.slowest, seconds)
        self.seconds[op.action] += seconds
        if outcome != "ok" and outcome not in TYPED_CODES:
            where = f"op {op.index} ({op.action} on {op.spec.name} via {op.channel.value})"
            self.violations.append(f"{where}: {outcome} after {seconds:.1f} s")

    def mean_seconds(self) -> dict[str, float]:
        """Mean duration per action, rounded to 10 ms."""
        counts: Counter[str] = Counter()
        for (action, _), count in self.by_action.items():
            counts[action] += count
        return {action: round(total / counts[action], 2) for action, total in self.seconds.items()}

    def errors(self) -> Counter[str]:
        """Error codes over both channels."""
        found: Counter[str] = Counter()
        for (_, outcome), count in self.outcomes.items():
            if outcome != "ok":
                found[outcome] += count
        return found


def error_codes() -> dict[str, str]:
    """Every typed error class name the bridge may log, with its contract code."""
    codes: dict[str, str] = {}

    def walk(kind: type[Exception], code: str | None) -> None:
        for sub in kind.__subclasses__():
            found = getattr(sub, "code", None)
            walk(sub, found if isinstance(found, str) else code)
        if code is not None:
            codes[kind.__name__] = code

    walk(LockError, None)
    walk(ValidationError, "bad_request")
    return codes


class Load:
    """Runs planned operations with `workers` in flight and keeps the ledger and the tally."""

    def __init__(self, rig: SoakRig, run: int, ledgers: dict[str, Ledger]) -> None:
        self.rig, self.run, self.ledgers = rig, run, ledgers
        self.tally = Tally()
        self.codes = error_codes()
        self.state_mutex = {spec.lock_id: asyncio.Lock() for spec in SPECS}
        self.enrol_mutex = {spec.lock_id: asyncio.Lock() for spec in SPECS}

    async def run_all(self, ops: list[Op], workers: int) -> Tally:
        """Every operation, `workers` at a time, each ended or failed within OP_TIMEOUT."""
        queue: Iterator[Op] = iter(ops)

        async def worker() -> None:
            for op in queue:
                await self.one(op)

        async with asyncio.timeout(OP_TIMEOUT * len(ops) / workers + OP_TIMEOUT):
            await asyncio.gather(*(worker() for _ in range(workers)))
        return self.tally

    async def one(self, op: Op) -> None:
        """Run one operation and count how it ended."""
        lock_id = op.spec.lock_id
        if op.action in STATEFUL:
            async with self.state_mutex[lock_id]:
                started = time.monotonic()
                outcome = await self._stateful(op)
        elif op.action == "credentials.enrol":
            async with self.enrol_mutex[lock_id]:
                started = time.monotonic()
                outcome = await Person(self.rig, op.spec, self.run, op.index, op.roll).enrol(
                    self._ws, self.ledgers[lock_id]
                )
        else:
            started = time.monotonic()
            outcome = await self._plain(op)
        self.tally.add(op, outcome, time.monotonic() - started)

    async def _ws(self, verb: str, /, **params: Json) -> tuple[str, Json]:
        """('ok', result) or (error code, None); 'no reply' when none came in time."""
        try:
            reply = await self.rig.client.call(verb, OP_TIMEOUT, **params)
        except TimeoutError:
            return f"no reply within {OP_TIMEOUT:g} s", None
        if reply.get("ok") is True:
            return "ok", reply.get("result")
        error = reply.get("error") or {}
        return str(error.get("code")), None

    # --- operations that only read or touch credentials ------------------------------------

    async def _plain(self, op: Op) -> str:
        lock_id, ledger = op.spec.lock_id, self.ledgers[op.spec.lock_id]
        if op.action == "locks.list":
            return (await self._ws("locks.list"))[0]
        if op.action == "events.list":
            return (await self._ws("events.list", lock_id=lock_id, limit=50))[0]
        if op.action == "credentials.list":
            outcome, result = await self._ws("credentials.list", lock_id=lock_id)
            if outcome == "ok":
                ledger.listed(result)
            return outcome
        if op.action == "credentials.add":
            code = code_for(self.run, op.index)
            params = {"kind": "pin", "name": f"Soak {self.run}-{op.index}", "code": code}
            outcome, result = await self._ws("credentials.add", lock_id=lock_id, **params)
            ledger.added(code, outcome, result)
            return outcome
        assert op.action == "credentials.delete"
        target = ledger.pick(op.roll)
        if target is None:
            return (await self._ws("credentials.list", lock_id=lock_id, kind="pin"))[0]
        kind, cred_id = target
        ledger.deleting(kind, cred_id)
        params = {"kind": kind, "credential_id": cred_id}
        outcome, _ = await self._ws("credentials.delete", lock_id=lock_id, **params)
        ledger.deleted(kind, cred_id, outcome)
        return outcome

    # --- bolt and settings ---------------------------------------------------------------

    def _setting(self, op: Op) -> tuple[str, Target, Any]:
        choices = SETTINGS["t" if op.spec.kind == "ttlock" else "n"]
        name, target = choices[op.roll % len(choices)]
        shown = self.rig.home.topic(op.spec.lock_id).latest.get(STATE_FIELD.get(name, name))
        if name == "auto_lock_seconds":
            values: list[Any] = [v for v in AUTO_LOCK_VALUES if v != shown]
        else:
            values = [v for v in (True, False) if v != shown]
        return name, target, values[(op.roll // 7) % len(values)]

    async def _stateful(self, op: Op) -> str:
        lock_id = op.spec.lock_id
        if op.action == "settings.get":
            return (await self._ws("settings.get", lock_id=lock_id))[0]
        if op.action == "settings.set":
            name, target, value = self._setting(op)
            shown = self.rig.home.topic(lock_id).latest.get(STATE_FIELD.get(name, name))
            if op.channel is Channel.MQTT and shown is not None:
                return await self._mqtt_setting(op, name, target, value)
            return (await self._ws("settings.set", lock_id=lock_id, **{name: value}))[0]
        if op.channel is Channel.MQTT:
            return await self._mqtt_action(op)
        return (await self._ws(op.action, lock_id=lock_id))[0]

    def _warning(self, mark: int, failed: str) -> str | None:
        """The error code in the bridge's first "<failed>: <ErrorClass>: ..." line since `mark`;
        'untyped' for one logged with a traceback instead ("<failed>" alone)."""
        for line in self.rig.warnings.lines[mark:]:
            if line == failed:
                return "untyped (logged with a traceback)"
            if line.startswith(f"{failed}: "):
                name = line[len(failed) + 2 :].split(":", 1)[0].strip()
                return self.codes.get(name, f"untyped {name!r}")
        return None

    async def _mqtt_action(self, op: Op) -> str:
        word = MQTT_ACTIONS[op.action]
        prefix = f"{op.spec.name}: {word.lower()} from Home Assistant failed"
        topic = self.rig.home.topic(op.spec.lock_id)
        mark, seen = len(self.rig.warnings.lines), topic.watch()
        # Shown moving already (a failed command left it so): the overlay changes nothing.
        start = [topic.latest] if topic.latest.get("lock") in MOVING else []
        try:
            await self.rig.home.command(op.spec.lock_id, Target.LOCK, word)
            async with asyncio.timeout(OP_TIMEOUT):
                while True:
                    states = start + seen
                    moved = [i for i, s in enumerate(states) if s.get("lock") in MOVING]
                    settled = moved and any(s.get("lock") in SETTLED for s in states[moved[0] :])
                    failed = self._warning(mark, prefix)
                    if failed is not None:
                        return failed
                    if settled:
                        return "ok"
                    await _nudge(topic.changed)
        except TimeoutError:
            return f"no end within {OP_TIMEOUT:g} s; {self._diagnose(op, start + seen)}"
        finally:
            topic.unwatch()

    def _diagnose(self, op: Op, states: list[dict[str, Json]]) -> str:
        """What was seen, and whether the bridge still works on it (its task names)."""
        bridge = self.rig.running.bridge
        topic = f"mqtt bridge: ttlock_nuki/{op.spec.lock_id}/"
        running = bridge is not None and any(t.get_name().startswith(topic) for t in bridge._jobs)
        shown = [s.get("lock") for s in states]
        return (
            f"lock states shown {shown}; the bridge {'still' if running else 'no longer'} runs it"
        )

    async def _mqtt_setting(self, op: Op, name: str, target: Target, value: Any) -> str:
        field_name = STATE_FIELD.get(name, name)
        what = name.replace("_", " ")
        prefix = f"{op.spec.name}: changing {what} from Home Assistant failed"
        payload = str(value) if name == "auto_lock_seconds" else ("ON" if value else "OFF")
        topic = self.rig.home.topic(op.spec.lock_id)
        mark, seen = len(self.rig.warnings.lines), topic.watch()
        try:
            await self.rig.home.command(op.spec.lock_id, target, payload)
            async with asyncio.timeout(OP_TIMEOUT):
                while True:
                    failed = self._warning(mark, prefix)
                    if failed is not None:
                        return failed
                    if any(s.get(field_name) == value for s in seen):
                        return "ok"
                    await _nudge(topic.changed)
        except TimeoutError:
            shown = [state.get(field_name) for state in seen]
            return f"no end within {OP_TIMEOUT:g} s; {field_name} shown {shown}"
        finally:
            topic.unwatch()


async def _nudge(event: asyncio.Event) -> None:
    """Wait for the next message, or a poll interval (warnings come without one)."""
    event.clear()
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(event.wait(), 0.2)
