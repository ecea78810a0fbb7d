"""Fuzzing the MQTT command path: random topics and payloads give a command, None (not ours) or
a ValidationError; the bridge's whole handler (parse, dispatch, the manager call, the board)
ends every message without an exception and without logging an unexpected failure."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime

import pytest
from hypothesis import strategies as st

from ttlock_nuki_addon.broker import MqttSettings, parse_mqtt_url
from ttlock_nuki_addon.manager_events import NotFoundError, Subscriber, Unsubscribe
from ttlock_nuki_addon.mqtt.bridge import MqttBridge
from ttlock_nuki_addon.mqtt.topics import (
    ActionCommand,
    SettingCommand,
    Target,
    Topics,
    is_ha_online,
    parse_command,
)
from ttlock_nuki_addon.params import LockSettings, SettingsUpdate
from ttlock_nuki_addon.snapshot import Brand, Capability, LockSnapshot, LockStatus
from ttlock_nuki_addon.validity import ValidationError

from .support import Case, params, run_case, texts

SEEN = datetime(2025, 3, 5, 12, 0, tzinfo=UTC)
LOCKS = {
    s.id: s
    for s in (
        LockSnapshot(
            id="aabbcc001122", brand=Brand.TTLOCK, name="Front Door", model="TTLock",
            address="AA:BB:CC:00:11:22", status=LockStatus.LOCKED, battery=80, rssi=-60,
            available=True, last_seen=SEEN, capabilities=frozenset(Capability),
        ),
        LockSnapshot(
            id="54d272aa0001", brand=Brand.NUKI, name="Back Door", model="Nuki",
            address="54:D2:72:AA:00:01", status=LockStatus.UNLOCKED, battery=None,
            available=False, capabilities=frozenset({Capability.LOCK, Capability.UNLOCK}),
        ),
    )
}  # fmt: skip
SETTINGS = LockSettings(auto_lock_seconds=0, sound=True, auto_lock_min=5, auto_lock_max=900)

# --- inputs -----------------------------------------------------------------------------------

levels = st.sampled_from(["aabbcc00112", "AABBCC001122", "+", "#", ""]) | st.text(max_size=14)
targets = st.sampled_from(["LOCK", "set", ""]) | st.text(max_size=12)
bases = st.sampled_from(["ttlock_nuki", "home/locks", "a"]) | st.text(max_size=12)
BASE = "ttlock_nuki"


@st.composite
def topics_(draw: st.DrawFn, base: str = BASE) -> str:
    """Mostly our command topics (some with one level changed or cut short), or any text."""
    roll = draw(st.integers(0, 9))
    if roll == 0:
        return draw(st.text(max_size=60))
    parts = [
        base,
        draw(st.sampled_from(sorted(LOCKS))),
        draw(st.sampled_from([t.value for t in Target])),
        "set",
    ]
    if roll > 6:
        at = draw(st.integers(0, 3))
        parts[at] = draw([bases, levels, targets, st.sampled_from(["get", "", "set/x"])][at])
    if roll == 9:
        parts = parts[: draw(st.integers(1, 3))]
    return "/".join(parts)


words = st.sampled_from(
    ["LOCK", "unlock", "Open", "PRESS", "ON", "off", " 42 ", "65535", "65536", "0", "12.0",
     "12.5", "-1", "1e3", "\u0663", "\uff2f\uff2e", "\u0131", "\x00ON", "LOCK\n", "on\r\n",
     "x" * 33]
) | texts  # fmt: skip
payloads = (
    words.map(lambda w: w.encode("utf-8", "surrogatepass"))
    | st.binary(max_size=40)
    | st.binary(max_size=8).map(bytearray)
)
# What HA sends on each target, so that most messages get past parsing to the manager.
_FITTING = {"lock": ["LOCK", "UNLOCK", "OPEN"], "refresh": ["PRESS"], "lock_n_go": ["PRESS"]}
_FITTING["auto_lock"] = ["0", "5", "30", "900", "65535", " 7 ", "10.0"]


@st.composite
def messages(draw: st.DrawFn, base: str = BASE) -> tuple[str, bytes | bytearray | str]:
    """A topic and a payload: mostly one HA would send there, sometimes anything."""
    topic = draw(topics_(base))
    target = topic.split("/")[-2] if topic.count("/") >= 3 else ""
    if draw(st.integers(0, 2)) == 0:
        return topic, draw(payloads | words)
    word = draw(st.sampled_from(_FITTING.get(target, ["ON", "OFF"])))
    if draw(st.booleans()):
        word = word.lower()
    return topic, word if draw(st.booleans()) else word.encode()


# --- the bridge with an in-memory manager --------------------------------------------------


class Manager:
    """Every LockManagerApi call answers at once: snapshots, settings, NotFoundError."""

    def subscribe(self, callback: Subscriber) -> Unsubscribe:
        """No events come."""
        return lambda: None

    def locks(self) -> list[LockSnapshot]:
        """Both locks."""
        return list(LOCKS.values())

    def snapshot(self, lock_id: str) -> LockSnapshot:
        """One lock, NotFoundError for others."""
        if lock_id not in LOCKS:
            raise NotFoundError()
        return LOCKS[lock_id]

    async def _act(self, lock_id: str) -> LockSnapshot:
        return self.snapshot(lock_id)

    lock = unlock = open = lock_n_go = refresh = _act

    async def get_settings(self, lock_id: str) -> LockSettings:
        """The fixed settings."""
        self.snapshot(lock_id)
        return SETTINGS

    async def set_settings(self, lock_id: str, update: SettingsUpdate) -> LockSettings:
        """The fixed settings with `update` applied."""
        return SETTINGS.apply(update)  # NotSupportedError or ValidationError when unfit


class _Errors(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        """Keep the message."""
        self.messages.append(record.getMessage())


async def _handle(topic: str, payload: bytes, retained: bool, base: str) -> int:
    bridge = MqttBridge(Manager(), MqttSettings(host="localhost", base_topic=base))
    bridge._board.go_live(LOCKS.values())
    bridge._on_message(topic, payload, retained=retained)
    jobs = list(bridge._jobs)
    async with asyncio.timeout(5):
        await asyncio.gather(*jobs)  # a job that raised fails here
    return len(jobs)


def _bridge(item: tuple[tuple[str, bytes | bytearray | str], bool]) -> object:
    """One message through MqttBridge's handler and whatever it starts, to the end."""
    errors, logger = _Errors(), logging.getLogger("ttlock_nuki_addon.mqtt")
    logger.addHandler(errors)
    loop = asyncio.new_event_loop()
    try:
        (topic, payload), retained = item
        raw = payload.encode() if isinstance(payload, str) else bytes(payload)
        return loop.run_until_complete(_handle(topic, raw, retained, BASE))
    finally:
        loop.close()
        logger.removeHandler(errors)
        assert not errors.messages, errors.messages


def _parse(item: tuple[tuple[str, bytes | bytearray | str], str]) -> object:
    (topic, payload), base = item
    try:
        topics = Topics(base)
    except ValidationError:
        topics = Topics()
    return parse_command(topic, payload, topics)


with_base = st.sampled_from([BASE, "home/locks"]).flatmap(
    lambda base: st.tuples(messages(base), st.just(base))
) | st.tuples(messages(), bases)
CASES = [
    Case("topics.parse_command", _parse, with_base, (ValidationError,),
         (ActionCommand, SettingCommand, type(None))),
    Case("topics.Topics.match_command", lambda t: Topics().match_command(t), topics_(), ()),
    Case("topics.Topics(base, prefix)", lambda p: Topics(*p), st.tuples(bases, bases),
         (ValidationError,), Topics),
    Case("topics.is_ha_online", lambda p: is_ha_online(*p),
         st.tuples(st.just("homeassistant/status") | topics_(), payloads), (), bool),
    Case("bridge.MqttBridge._on_message", _bridge,
         st.tuples(messages(), st.integers(0, 9).map(lambda n: n == 0)), (), int),
    Case("broker.parse_mqtt_url", parse_mqtt_url,
         st.from_regex(r"mqtts?://([a-z:@%]{0,8}@)?[a-z0-9.\[\]:-]{0,20}(:[0-9]{0,6})?/?")
         | st.text(max_size=40), (ValidationError,), MqttSettings),
]  # fmt: skip


@pytest.mark.parametrize("case", params(CASES))
def test_mqtt_input_gives_a_command_or_a_typed_rejection(case: Case) -> None:
    """Topics and payloads from the broker: a command, None, or a ValidationError."""
    run_case(case)
