"""MqttBridge against a real mosquitto and an in-memory manager: retained discovery and state,
last will, commands, malformed input, HA's birth message, removal, reconnects, clean stop."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from mosquitto import HOST, Mosquitto, Observer, TcpRelay, mosquitto, retained

from ttlock_nuki_addon.broker import MqttSettings
from ttlock_nuki_addon.errors import (
    CommandRejectedError,
    LockError,
    NotReachableError,
)
from ttlock_nuki_addon.manager import LockManager
from ttlock_nuki_addon.manager_events import (
    LockActivity,
    LockAdded,
    LockRemoved,
    LockUpdated,
    ManagerEvent,
    NotFoundError,
    Subscriber,
    Unsubscribe,
)
from ttlock_nuki_addon.model import EventKind, EventSource, LockEvent
from ttlock_nuki_addon.mqtt import bridge as bridge_module
from ttlock_nuki_addon.mqtt.bridge import LockManagerApi, MqttBridge, cancel_all
from ttlock_nuki_addon.mqtt.discovery import Origin, discovery_payload, event_payload
from ttlock_nuki_addon.mqtt.discovery import state_payload as expected_state
from ttlock_nuki_addon.mqtt.topics import Target, Topics
from ttlock_nuki_addon.params import LockSettings, SettingsUpdate
from ttlock_nuki_addon.snapshot import Brand, Capability, LockSnapshot, LockStatus
from ttlock_nuki_addon.validity import JSONObject, ValidationError

__all__ = ["mosquitto"]  # the fixture, imported for pytest

C = Capability
VERSION = "9.8.7"
TOPICS = Topics()
SEEN = datetime(2025, 3, 5, 12, 0, tzinfo=UTC)
TTLOCK = LockSnapshot(
    id="aabbcc001122",
    brand=Brand.TTLOCK,
    name="Front Door",
    model="TTLock keypad",
    address="AA:BB:CC:00:11:22",
    status=LockStatus.LOCKED,
    battery=80,
    rssi=-60,
    available=True,
    last_seen=SEEN,
    capabilities=frozenset({C.LOCK, C.UNLOCK, C.AUTO_LOCK, C.SOUND, C.BATTERY, C.EVENTS, C.PIN}),
)
NUKI = LockSnapshot(
    id="54d272aa0001",
    brand=Brand.NUKI,
    name="Back Door",
    model="Nuki Smart Lock 3.0",
    address="54:D2:72:AA:00:01",
    status=LockStatus.UNLOCKED,
    battery=55,
    available=False,
    capabilities=frozenset(
        {C.LOCK, C.UNLOCK, C.OPEN, C.LOCK_N_GO, C.DOOR_SENSOR, C.BATTERY, C.EVENTS, C.LED}
    ),
)
TTLOCK_SETTINGS = LockSettings(auto_lock_seconds=0, sound=True, auto_lock_min=5, auto_lock_max=900)
WAIT = 10.0


class FakeManager:
    """An in-memory LockManagerApi: recorded calls, settable snapshots, gates and failures."""

    def __init__(self, *snapshots: LockSnapshot) -> None:
        self.snapshots = {s.id: s for s in snapshots}
        self.settings = {TTLOCK.id: TTLOCK_SETTINGS}
        self.calls: list[tuple[str, str]] = []
        self.updates: list[SettingsUpdate] = []
        self.subscribers: list[Subscriber] = []
        self.gate: asyncio.Event | None = None
        self.failures: dict[str, Exception] = {}
        self.jam_on_failure = False

    def subscribe(self, callback: Subscriber) -> Unsubscribe:
        self.subscribers.append(callback)
        return lambda: self.subscribers.remove(callback)

    def emit(self, event: ManagerEvent) -> None:
        for callback in list(self.subscribers):
            callback(event)

    def change(self, lock_id: str, **fields: object) -> LockSnapshot:
        snapshot = replace(self.snapshots[lock_id], **fields)  # type: ignore[arg-type]
        self.snapshots[lock_id] = snapshot
        self.emit(LockUpdated(snapshot))
        return snapshot

    def locks(self) -> list[LockSnapshot]:
        return list(self.snapshots.values())

    def snapshot(self, lock_id: str) -> LockSnapshot:
        if lock_id not in self.snapshots:
            raise NotFoundError()
        return self.snapshots[lock_id]

    async def _act(self, action: str, lock_id: str, status: LockStatus | None) -> LockSnapshot:
        self.calls.append((action, lock_id))
        self.snapshot(lock_id)
        if self.gate is not None:
            await self.gate.wait()
        failure = self.failures.get(action)
        if failure is not None:
            if self.jam_on_failure:
                self.change(lock_id, status=LockStatus.JAMMED)
            raise failure
        if status is not None:
            self.change(lock_id, status=status)
        return self.snapshots[lock_id]

    async def lock(self, lock_id: str) -> LockSnapshot:
        return await self._act("lock", lock_id, LockStatus.LOCKED)

    async def unlock(self, lock_id: str) -> LockSnapshot:
        return await self._act("unlock", lock_id, LockStatus.UNLOCKED)

    async def open(self, lock_id: str) -> LockSnapshot:
        return await self._act("open", lock_id, LockStatus.OPEN)

    async def lock_n_go(self, lock_id: str) -> LockSnapshot:
        return await self._act("lock_n_go", lock_id, LockStatus.UNLOCKED)

    async def refresh(self, lock_id: str) -> LockSnapshot:
        return await self._act("refresh", lock_id, None)

    async def get_settings(self, lock_id: str) -> LockSettings:
        self.calls.append(("get_settings", lock_id))
        self.snapshot(lock_id)
        failure = self.failures.get("get_settings")
        if failure is not None:
            raise failure
        return self.settings.get(lock_id, LockSettings())

    async def set_settings(self, lock_id: str, update: SettingsUpdate) -> LockSettings:
        self.calls.append(("set_settings", lock_id))
        self.updates.append(update)
        failure = self.failures.get("set_settings")
        if failure is not None:
            raise failure
        self.settings[lock_id] = self.settings[lock_id].apply(update)
        return self.settings[lock_id]


def states(observer: Observer, lock_id: str, since: int = 0) -> list[JSONObject]:
    """The lock's state messages seen from `since` on (removals skipped)."""
    return [json.loads(p) for p in observer.payloads(TOPICS.state(lock_id), since) if p]


def last_state(observer: Observer, lock_id: str) -> JSONObject | None:
    """The lock's last state message."""
    found = states(observer, lock_id)
    return found[-1] if found else None


def lock_states(observer: Observer, lock_id: str, since: int = 0) -> list[object]:
    """The `lock` field of each state message from `since` on."""
    return [s["lock"] for s in states(observer, lock_id, since)]


async def until(check: Callable[[], object], what: str, timeout: float = WAIT) -> None:
    """Wait (bounded) until `check()` is truthy."""
    try:
        async with asyncio.timeout(timeout):
            while not check():
                await asyncio.sleep(0.01)
    except TimeoutError:
        raise AssertionError(f"timed out waiting for {what}") from None


def make_bridge(manager: LockManagerApi, port: int, **settings: object) -> MqttBridge:
    mqtt = MqttSettings(host=HOST, port=port, **settings)  # type: ignore[arg-type]
    return MqttBridge(manager, mqtt, version=VERSION, min_backoff=0.05, max_backoff=0.4)


@contextlib.asynccontextmanager
async def running(bridge: MqttBridge) -> AsyncIterator[MqttBridge]:
    bridge.start()
    try:
        yield bridge
    finally:
        await bridge.stop()


def online(observer: Observer, since: int = 0) -> bool:
    return observer.payloads(TOPICS.bridge_availability, since)[-1:] == [b"online"]


def settled(observer: Observer) -> bool:
    """Bridge online and the TTLock's state carries the settings read from the lock."""
    state = last_state(observer, TTLOCK.id)
    return online(observer) and state is not None and state["sound"] is True


@pytest.fixture
def manager() -> FakeManager:
    return FakeManager(TTLOCK, NUKI)


@pytest.fixture
async def observer(mosquitto: Mosquitto) -> AsyncIterator[Observer]:
    async with Observer(mosquitto) as seen:
        yield seen


@pytest.fixture
async def bridge(
    mosquitto: Mosquitto, manager: FakeManager, observer: Observer
) -> AsyncIterator[MqttBridge]:
    """A connected bridge whose first publications (incl. the TTLock's settings) are done."""
    async with running(make_bridge(manager, mosquitto.port)) as started:
        await until(lambda: settled(observer), "the first publications")
        yield started


def expected_discovery(snapshot: LockSnapshot, settings: LockSettings | None) -> JSONObject:
    return discovery_payload(snapshot, TOPICS, origin=Origin(sw_version=VERSION), settings=settings)


async def test_connect_publishes_retained_discovery_state_and_availability(
    mosquitto: Mosquitto, manager: FakeManager, bridge: MqttBridge
) -> None:
    held = await retained(mosquitto, "homeassistant/#", "ttlock_nuki/#")
    assert held[TOPICS.bridge_availability] == b"online"
    assert held[TOPICS.availability(TTLOCK.id)] == b"online"
    assert held[TOPICS.availability(NUKI.id)] == b"offline"  # the Nuki is out of range
    assert json.loads(held[TOPICS.discovery(TTLOCK.id)]) == expected_discovery(
        TTLOCK, TTLOCK_SETTINGS
    )
    assert json.loads(held[TOPICS.discovery(NUKI.id)]) == expected_discovery(NUKI, None)
    assert json.loads(held[TOPICS.state(TTLOCK.id)]) == expected_state(TTLOCK, TTLOCK_SETTINGS)
    assert json.loads(held[TOPICS.state(NUKI.id)]) == expected_state(NUKI, None)
    # Settings are read once, only from the lock in range; no command topic is ever retained.
    assert manager.calls == [("get_settings", TTLOCK.id)]
    assert not [topic for topic in held if topic.endswith("/set")]
    assert bridge.connected and bridge.last_error is None


async def test_unlock_goes_unlocking_then_unlocked(
    manager: FakeManager, observer: Observer, bridge: MqttBridge
) -> None:
    manager.gate = asyncio.Event()
    mark = len(observer.log)
    await observer.publish(TOPICS.command(TTLOCK.id, Target.LOCK), "UNLOCK")
    await until(lambda: lock_states(observer, TTLOCK.id, mark) == ["UNLOCKING"], "UNLOCKING")
    assert ("unlock", TTLOCK.id) in manager.calls
    manager.gate.set()
    await until(lambda: lock_states(observer, TTLOCK.id, mark)[-1:] == ["UNLOCKED"], "UNLOCKED")
    assert lock_states(observer, TTLOCK.id, mark) == ["UNLOCKING", "UNLOCKED"]
    assert not [m for m in observer.log[mark:] if m.topic == TOPICS.state(TTLOCK.id) and m.retain]
    # OPEN on the Nuki (it has the capability) shows OPENING, then the lock's OPEN.
    mark = len(observer.log)
    await observer.publish(TOPICS.command(NUKI.id, Target.LOCK), "OPEN")
    await until(lambda: lock_states(observer, NUKI.id, mark)[-1:] == ["OPEN"], "OPEN")
    assert lock_states(observer, NUKI.id, mark) == ["OPENING", "OPEN"]


async def test_errors_restore_the_real_state_and_are_logged(
    manager: FakeManager,
    observer: Observer,
    bridge: MqttBridge,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, "ttlock_nuki_addon.mqtt.bridge")
    manager.failures["unlock"] = NotReachableError()
    mark = len(observer.log)
    await observer.publish(TOPICS.command(TTLOCK.id, Target.LOCK), "UNLOCK")
    await until(lambda: lock_states(observer, TTLOCK.id, mark) == ["UNLOCKING", "LOCKED"], "back")
    assert "NotReachableError: The lock cannot be reached" in caplog.text
    # A blocked motor: the manager's snapshot says JAMMED, and so does the state topic.
    manager.failures["lock"] = CommandRejectedError(0x16, "motor blocked")
    manager.jam_on_failure = True
    mark = len(observer.log)
    await observer.publish(TOPICS.command(TTLOCK.id, Target.LOCK), "LOCK")
    await until(lambda: lock_states(observer, TTLOCK.id, mark) == ["LOCKING", "JAMMED"], "JAMMED")
    assert "CommandRejectedError: The lock refused the command: motor blocked" in caplog.text


@pytest.mark.parametrize(
    ("target", "payload"),
    [
        (Target.LOCK, b""),
        (Target.LOCK, b"DANCE"),
        (Target.LOCK, bytes(range(256))),
        (Target.LOCK, b"\xff\xfeUN\x00LOCK"),
        (Target.LOCK, b"UNLOCK" * 200_000),
        (Target.AUTO_LOCK, b"{not json"),
        (Target.SOUND, b"MAYBE"),
        (Target.REFRESH, b"UNLOCK"),
    ],
    ids=["empty", "unknown", "binary", "garbage", "1MB", "json", "switch", "button"],
)
async def test_malformed_commands_change_nothing(
    manager: FakeManager,
    observer: Observer,
    bridge: MqttBridge,
    caplog: pytest.LogCaptureFixture,
    target: Target,
    payload: bytes,
) -> None:
    caplog.set_level(logging.WARNING, "ttlock_nuki_addon.mqtt.bridge")
    calls, mark = list(manager.calls), len(observer.log)
    await observer.publish(TOPICS.command(TTLOCK.id, target), payload)
    await until(lambda: "Ignored a command" in caplog.text, "the warning")
    # The bridge keeps serving: a valid command afterwards works.
    await observer.publish(TOPICS.command(TTLOCK.id, Target.LOCK), "UNLOCK")
    await until(lambda: lock_states(observer, TTLOCK.id, mark)[-1:] == ["UNLOCKED"], "UNLOCKED")
    assert manager.calls == [*calls, ("unlock", TTLOCK.id)]
    assert lock_states(observer, TTLOCK.id, mark) == ["UNLOCKING", "UNLOCKED"]
    ours = [m for m in observer.log[mark:] if not m.topic.endswith("/set")]
    assert {m.topic for m in ours} == {TOPICS.state(TTLOCK.id)}
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert len(warnings[0].getMessage()) < 300  # the payload is never echoed


async def test_commands_for_unknown_locks_or_missing_capabilities_are_ignored(
    manager: FakeManager,
    observer: Observer,
    bridge: MqttBridge,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, "ttlock_nuki_addon.mqtt.bridge")
    calls = list(manager.calls)
    await observer.publish(TOPICS.command("00aa00bb00cc", Target.LOCK), "UNLOCK")
    await observer.publish(TOPICS.command(TTLOCK.id, Target.LOCK), "OPEN")  # no unlatch
    await observer.publish(TOPICS.command(TTLOCK.id, Target.LOCK_N_GO), "PRESS")
    await observer.publish(TOPICS.command(NUKI.id, Target.SOUND), "ON")
    await observer.publish("ttlock_nuki/aabbcc001122/dance/set", "ON")  # not our topic: silent
    await until(lambda: len(caplog.records) >= 4, "four warnings")
    await observer.publish(TOPICS.command(TTLOCK.id, Target.REFRESH), "PRESS")
    await until(lambda: ("refresh", TTLOCK.id) in manager.calls, "the refresh")
    assert manager.calls == [*calls, ("refresh", TTLOCK.id)]
    assert "no such lock is paired" in caplog.records[0].getMessage()
    assert "Front Door cannot do open" in caplog.records[1].getMessage()
    assert len(caplog.records) == 4


async def test_retained_commands_are_never_executed(
    mosquitto: Mosquitto,
    manager: FakeManager,
    observer: Observer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, "ttlock_nuki_addon.mqtt.bridge")
    topic = TOPICS.command(TTLOCK.id, Target.LOCK)
    await observer.publish(topic, "UNLOCK", retain=True)
    async with running(make_bridge(manager, mosquitto.port)):
        await until(lambda: "Ignored a retained command" in caplog.text, "the warning")
        await until(lambda: settled(observer), "the first publications")
    assert ("unlock", TTLOCK.id) not in manager.calls
    await observer.publish(topic, b"", retain=True)


async def test_settings_commands_and_the_state_they_leave(
    manager: FakeManager,
    observer: Observer,
    bridge: MqttBridge,
    caplog: pytest.LogCaptureFixture,
) -> None:
    await observer.publish(TOPICS.command(TTLOCK.id, Target.SOUND), "OFF")
    await until(lambda: (last_state(observer, TTLOCK.id) or {}).get("sound") is False, "sound off")
    await observer.publish(TOPICS.command(TTLOCK.id, Target.AUTO_LOCK), "30")
    await until(lambda: (last_state(observer, TTLOCK.id) or {}).get("auto_lock") == 30, "30 s")
    assert manager.updates == [SettingsUpdate(sound=False), SettingsUpdate(auto_lock_seconds=30)]
    assert last_state(observer, TTLOCK.id) == expected_state(TTLOCK, manager.settings[TTLOCK.id])
    # Below the lock's minimum: the manager refuses, the state stays, a warning says why.
    caplog.set_level(logging.WARNING, "ttlock_nuki_addon.mqtt.bridge")
    mark = len(observer.log)
    await observer.publish(TOPICS.command(TTLOCK.id, Target.AUTO_LOCK), "2")
    await until(lambda: "changing auto lock seconds" in caplog.text, "the warning")
    assert "ValidationError: Auto-lock must be off (0) or from 5 to 900" in caplog.text
    assert states(observer, TTLOCK.id, mark) == []
    assert manager.settings[TTLOCK.id].auto_lock_seconds == 30


async def test_settings_read_errors_are_tolerated(
    mosquitto: Mosquitto,
    manager: FakeManager,
    observer: Observer,
) -> None:
    manager.failures["get_settings"] = NotReachableError()
    async with running(make_bridge(manager, mosquitto.port)):
        await until(lambda: last_state(observer, TTLOCK.id) is not None, "the state")
        await until(lambda: ("get_settings", TTLOCK.id) in manager.calls, "the read")
        assert last_state(observer, TTLOCK.id) == expected_state(TTLOCK, None)
        # Back in range after being away: one more try, which now succeeds.
        del manager.failures["get_settings"]
        manager.change(TTLOCK.id, available=False)
        manager.change(TTLOCK.id, available=True)
        await until(lambda: settled(observer), "the settings")
    assert manager.calls.count(("get_settings", TTLOCK.id)) == 2


async def test_updates_republish_state_availability_and_changed_discovery(
    mosquitto: Mosquitto, manager: FakeManager, observer: Observer, bridge: MqttBridge
) -> None:
    mark = len(observer.log)
    manager.change(TTLOCK.id, battery=40)
    await until(lambda: states(observer, TTLOCK.id, mark), "the battery")
    assert states(observer, TTLOCK.id, mark)[-1]["battery"] == 40
    assert not observer.payloads(TOPICS.discovery(TTLOCK.id), mark)  # nothing else changed
    # A new name and a lost capability: discovery again, the lost component as a stub.
    snapshot = manager.change(
        NUKI.id, name="Garden Gate", capabilities=NUKI.capabilities - {C.DOOR_SENSOR}
    )
    await until(lambda: observer.payloads(TOPICS.discovery(NUKI.id), mark), "discovery")
    (published,) = [json.loads(p) for p in observer.payloads(TOPICS.discovery(NUKI.id), mark)]
    fresh = expected_discovery(snapshot, None)
    assert published["dev"]["name"] == "Garden Gate"
    assert published["cmps"] == {**fresh["cmps"], "door": {"p": "binary_sensor"}}  # type: ignore[dict-item]
    # Availability per lock follows the snapshot.
    manager.change(NUKI.id, available=True)
    await until(lambda: observer.payloads(TOPICS.availability(NUKI.id), mark), "availability")
    held = await retained(mosquitto, "ttlock_nuki/#")
    assert held[TOPICS.availability(NUKI.id)] == b"online"


async def test_ha_birth_message_republishes_discovery_and_state(
    observer: Observer, bridge: MqttBridge
) -> None:
    mark = len(observer.log)
    await observer.publish(TOPICS.ha_status, "offline")
    await observer.publish(TOPICS.ha_status, "online")
    wanted = [TOPICS.discovery(TTLOCK.id), TOPICS.discovery(NUKI.id), TOPICS.state(NUKI.id)]
    await until(lambda: all(observer.payloads(t, mark) for t in wanted), "the republish")
    assert all(len(observer.payloads(t, mark)) == 1 for t in wanted)  # `offline` did nothing


async def test_removal_clears_retained_topics(
    mosquitto: Mosquitto, manager: FakeManager, observer: Observer, bridge: MqttBridge
) -> None:
    del manager.snapshots[NUKI.id]
    manager.emit(LockRemoved(NUKI.id))
    gone = [TOPICS.discovery(NUKI.id), TOPICS.state(NUKI.id), TOPICS.availability(NUKI.id)]
    await until(lambda: all(observer.payloads(t)[-1:] == [b""] for t in gone), "the clears")
    held = await retained(mosquitto, "homeassistant/#", "ttlock_nuki/#")
    assert not set(gone) & set(held)
    assert TOPICS.discovery(TTLOCK.id) in held
    # Added again (paired anew): published again.
    manager.snapshots[NUKI.id] = NUKI
    manager.emit(LockAdded(NUKI))
    await until(lambda: observer.payloads(TOPICS.state(NUKI.id))[-1:] != [b""], "the return")


async def test_activity_events_are_published_but_never_retained(
    mosquitto: Mosquitto, manager: FakeManager, observer: Observer, bridge: MqttBridge
) -> None:
    event = LockEvent(TTLOCK.id, EventKind.UNLOCKED, EventSource.KEYPAD, SEEN, "7", "Alice", None)
    manager.emit(LockActivity(event))
    topic = TOPICS.event(TTLOCK.id)
    await until(lambda: observer.payloads(topic), "the event")
    (seen,) = [m for m in observer.log if m.topic == topic]
    assert json.loads(seen.payload) == event_payload(event)
    assert set(json.loads(seen.payload)) == {
        "event_type", "source", "credential_id", "credential_name", "user", "time",
    }  # fmt: skip
    assert not seen.retain
    assert topic not in await retained(mosquitto, "ttlock_nuki/#")


async def test_last_will_when_the_connection_dies(
    mosquitto: Mosquitto, manager: FakeManager, observer: Observer
) -> None:
    async with TcpRelay(mosquitto.port) as relay, running(make_bridge(manager, relay.port)):
        await until(lambda: settled(observer), "the first publications")
        mark = len(observer.log)
        relay.cut()  # no DISCONNECT reaches the broker: it publishes the will
        availability = TOPICS.bridge_availability
        await until(lambda: b"offline" in observer.payloads(availability, mark), "the will")
        # ...and the bridge comes back through the relay and republishes.
        await until(lambda: online(observer, mark), "online again")
        await until(lambda: observer.payloads(TOPICS.state(NUKI.id), mark), "the state")


async def test_stop_publishes_offline_and_leaves_no_task(
    mosquitto: Mosquitto, manager: FakeManager
) -> None:
    # No observer runs here: its own message loop would come and go in the task list.
    before = asyncio.all_tasks()
    bridge = make_bridge(manager, mosquitto.port)
    bridge.start()

    async def sound_known() -> bool:
        state = (await retained(mosquitto, "ttlock_nuki/#")).get(TOPICS.state(TTLOCK.id))
        return state is not None and json.loads(state)["sound"] is True

    async with asyncio.timeout(WAIT):
        while not await sound_known():
            await asyncio.sleep(0.02)
    manager.gate = asyncio.Event()  # a command still running when the stop comes
    async with mosquitto.client() as client:
        await client.publish(TOPICS.command(TTLOCK.id, Target.LOCK), "UNLOCK", qos=1)
    await until(lambda: ("unlock", TTLOCK.id) in manager.calls, "the unlock")
    await bridge.stop()
    assert asyncio.all_tasks() == before
    assert not manager.subscribers and not bridge.connected
    held = await retained(mosquitto, "ttlock_nuki/#")
    assert held[TOPICS.bridge_availability] == b"offline"
    await bridge.stop()  # twice is harmless


async def test_stop_while_the_broker_does_not_answer(
    manager: FakeManager, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bridge_module, "CONNECT_GRACE", 0.2)
    accepted = asyncio.Event()

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        accepted.set()
        with contextlib.suppress(OSError):
            await reader.read()  # never answers CONNECT; ends when the client goes
        writer.close()

    def ours() -> set[asyncio.Task[object]]:
        return {t for t in asyncio.all_tasks() if "silent" not in repr(t.get_coro())}

    server = await asyncio.start_server(silent, HOST, 0)
    try:
        before = ours()
        bridge = make_bridge(manager, int(server.sockets[0].getsockname()[1]))
        bridge.start()
        await asyncio.wait_for(accepted.wait(), WAIT)
        await asyncio.wait_for(bridge.stop(), WAIT)
        assert ours() == before
        assert not manager.subscribers
    finally:
        server.close()


async def test_broker_restart_reconnects_and_republishes(
    mosquitto: Mosquitto, manager: FakeManager, observer: Observer, bridge: MqttBridge
) -> None:
    await mosquitto.restart()  # retained messages are gone with it

    async def republished() -> bool:
        held = await retained(mosquitto, "homeassistant/#", "ttlock_nuki/#")
        wanted = [TOPICS.discovery(NUKI.id), TOPICS.state(TTLOCK.id), TOPICS.state(NUKI.id)]
        return held.get(TOPICS.bridge_availability) == b"online" and all(t in held for t in wanted)

    async with asyncio.timeout(15):
        while not await republished():
            await asyncio.sleep(0.05)
    assert bridge.connected
    assert manager.calls.count(("get_settings", TTLOCK.id)) == 1  # cached across connections


async def test_broker_down_at_start_then_up(manager: FakeManager) -> None:
    broker = Mosquitto()
    try:
        async with running(make_bridge(manager, broker.port)) as bridge:
            await until(lambda: bridge.last_error is not None, "a failed attempt")
            assert not bridge.connected
            await broker.start()
            await until(lambda: bridge.connected, "the connection", timeout=15)
            async with Observer(broker) as seen:
                await until(lambda: settled(seen), "the publications")
    finally:
        await broker.__aexit__(None, None, None)


async def test_username_and_password(
    manager: FakeManager, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    secret = "s3cret-pa55word"
    async with Mosquitto(users={"addon": secret}) as broker:
        wrong = make_bridge(manager, broker.port, username="addon", password="nope")
        async with running(wrong):
            await until(lambda: wrong.last_error is not None, "the refusal")
            assert not wrong.connected
        right = make_bridge(manager, broker.port, username="addon", password=secret)
        async with running(right):
            await until(lambda: right.connected, "the connection")
    assert secret not in caplog.text


async def test_cancel_all_outlasts_a_swallowed_cancel() -> None:
    swallowed = asyncio.Event()

    async def stubborn() -> None:
        try:
            await asyncio.sleep(WAIT)
        except asyncio.CancelledError:
            swallowed.set()  # what 3.11's wait_for does when its future finishes meanwhile
        await asyncio.sleep(WAIT)

    task = asyncio.create_task(stubborn())
    await asyncio.sleep(0)
    await asyncio.wait_for(cancel_all([task]), WAIT)
    assert swallowed.is_set() and task.cancelled()


async def test_invalid_backoff_bounds() -> None:
    manager = FakeManager(TTLOCK)
    with pytest.raises(ValueError, match="backoff"):
        MqttBridge(manager, MqttSettings(host=HOST), min_backoff=2.0, max_backoff=1.0)


def as_api(manager: LockManager) -> LockManagerApi:
    """Type-checked (mypy): the real manager offers everything the bridge needs."""
    return manager


def test_fake_manager_is_a_lock_manager_api() -> None:
    manager: LockManagerApi = FakeManager(TTLOCK)
    assert manager.locks() == [TTLOCK]
    with pytest.raises(LockError):
        manager.snapshot(NUKI.id)
    with pytest.raises(ValidationError):
        TTLOCK_SETTINGS.apply(SettingsUpdate(auto_lock_seconds=2))
