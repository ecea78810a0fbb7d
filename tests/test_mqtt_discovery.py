"""MQTT discovery, state, event and command payloads checked against HA's schemas (ha-addon §4)."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from jinja2.sandbox import ImmutableSandboxedEnvironment

from ttlock_nuki_addon import __version__
from ttlock_nuki_addon.model import (
    Brand,
    Capability,
    Credential,
    CredentialKind,
    DoorState,
    EventKind,
    EventSource,
    LockEvent,
    LockSettings,
    LockSnapshot,
    LockStatus,
)
from ttlock_nuki_addon.mqtt.discovery import (
    discovery_payload,
    encode,
    event_payload,
    lock_state,
    removal_topics,
    state_payload,
    with_removed,
)
from ttlock_nuki_addon.mqtt.topics import (
    Topics,
    availability_payload,
    parse_command,
)
from ttlock_nuki_addon.nuki import driver_settings as nuki_caps
from ttlock_nuki_addon.nuki.gatt import Family
from ttlock_nuki_addon.ttlock import driver_settings as ttlock_caps
from ttlock_nuki_addon.ttlock.features import Feature, FeatureMask

C, F = Capability, Feature
NOW = datetime(2025, 3, 5, 12, 0, tzinfo=UTC)
# ha-addon.md §4.4/§4.5: keys HA requires per platform (device-based discovery adds p + unique_id).
REQUIRED = {
    "lock": {"command_topic"},
    "sensor": {"state_topic"},  # RO schema
    "binary_sensor": {"state_topic"},  # RO schema
    "event": {"state_topic", "event_types"},
    "number": {"command_topic"},
    "switch": {"command_topic"},
    "button": {"command_topic"},
}
COMMON = {"p", "unique_id", "name", "qos", "availability", "availability_mode", "icon"}
COMMON |= {"entity_category", "enabled_by_default", "device_class", "state_topic", "value_template"}
# §4.4 options per platform; anything else would be a typo HA rejects.
ALLOWED = {
    "lock": {"command_topic", "payload_lock", "payload_unlock", "payload_open", "retain"}
    | {"optimistic"}
    | {f"state_{s}" for s in ("locked", "unlocked", "locking", "unlocking", "open", "opening")}
    | {"state_jammed"},
    "sensor": {"unit_of_measurement", "state_class", "expire_after"},
    "binary_sensor": {"payload_on", "payload_off", "expire_after", "off_delay"},
    "event": {"event_types"},
    "number": {"command_topic", "min", "max", "step", "mode", "unit_of_measurement", "retain"},
    "switch": {"command_topic", "payload_on", "payload_off", "retain"},
    "button": {"command_topic", "payload_press", "retain"},
}
DEVICE_CLASSES = {
    "sensor": {"battery", "signal_strength", "timestamp"},
    "binary_sensor": {"battery", "door", "connectivity"},
    "number": {"duration"},
    "event": set(),
    "lock": set(),
    "switch": set(),
    "button": {"identify", "restart", "update"},
}
LOCK_PAYLOADS = {
    "locked": "LOCKED",
    "unlocked": "UNLOCKED",
    "locking": "LOCKING",
    "unlocking": "UNLOCKING",
    "open": "OPEN",
    "opening": "OPENING",
    "jammed": "JAMMED",
}
TTLOCK_FULL = FeatureMask.of(
    F.PASSCODE, F.IC, F.FINGER_PRINT, F.AUTO_LOCK, F.MANUAL_LOCK, F.CONFIG_GATEWAY_UNLOCK,
    F.AUDIO_MANAGEMENT, F.PASSAGE_MODE, F.CYCLIC_PASSWORD, F.DOOR_SENSOR,
)  # fmt: skip
CAPS = {
    "ttlock": ttlock_caps.capabilities_of(TTLOCK_FULL),
    "ttlock_bare": ttlock_caps.capabilities_of(FeatureMask(0)),
    "nuki": nuki_caps.capabilities_of(Family.SMART_LOCK, has_keypad=True, door_sensor=True),
    "nuki_plain": nuki_caps.capabilities_of(
        Family.SMART_LOCK_5G, has_keypad=False, door_sensor=False
    ),
    "opener": nuki_caps.capabilities_of(Family.OPENER, has_keypad=False, door_sensor=False),
}
ADDRESSES = {
    "ttlock": "AA:BB:CC:00:11:22",
    "ttlock_bare": "AA:BB:CC:00:11:23",
    "nuki": "54:D2:72:AB:CD:EF",
    "nuki_plain": "54:D2:72:AB:CD:F0",
    "opener": "54:D2:72:AB:CD:F1",
}


def snap(kind: str, **changes: Any) -> LockSnapshot:
    address = ADDRESSES[kind]
    brand = Brand.NUKI if kind in ("nuki", "nuki_plain", "opener") else Brand.TTLOCK
    base = LockSnapshot(
        id=address.replace(":", "").lower(), brand=brand, name=f"Door {kind}", model="M1",
        address=address, status=LockStatus.LOCKED, battery=87, rssi=-61, door=DoorState.CLOSED,
        available=True, last_seen=NOW, capabilities=CAPS[kind],
    )  # fmt: skip
    return replace(base, **changes)


def expected_keys(caps: frozenset[Capability]) -> set[str]:
    """Entities each lock should get, written from the issue's list independently of the code."""
    keys = {"signal", "refresh", "last_seen", "connectivity"}
    table = {
        "battery": C.BATTERY, "battery_low": C.BATTERY, "door": C.DOOR_SENSOR,
        "activity": C.EVENTS, "auto_lock": C.AUTO_LOCK, "sound": C.SOUND,
        "passage_mode": C.PASSAGE_MODE, "led": C.LED, "auto_unlatch": C.AUTO_UNLATCH,
        "remote_unlock": C.REMOTE_UNLOCK, "lock_n_go": C.LOCK_N_GO,
    }  # fmt: skip
    keys |= {key for key, cap in table.items() if cap in caps}
    if caps & {C.LOCK, C.UNLOCK}:
        keys.add("lock")
    return keys


def walk_keys(value: object) -> set[str]:
    if isinstance(value, dict):
        return set(value) | {k for v in value.values() for k in walk_keys(v)}
    if isinstance(value, list):
        return {k for v in value for k in walk_keys(v)}
    return set()


def cmps(
    snapshot: LockSnapshot, topics: Topics | None = None, settings: LockSettings | None = None
) -> dict[str, dict[str, Any]]:
    """The components of a discovery message, as HA reads them from the wire."""
    message = discovery_payload(snapshot, topics or Topics(), settings=settings)
    payload = json.loads(encode(message))
    return payload["cmps"]  # type: ignore[no-any-return]


@pytest.mark.parametrize("kind", sorted(CAPS))
def test_every_component_meets_ha_schema(kind: str) -> None:
    snapshot = snap(kind)
    for key, config in cmps(snapshot).items():
        platform = config["p"]
        assert REQUIRED[platform] | {"p", "unique_id"} <= set(config), key
        assert set(config) <= COMMON | ALLOWED[platform], (key, set(config) - COMMON)
        assert config.get("device_class") in DEVICE_CLASSES[platform] | {None}, key
        if platform == "sensor":
            assert config.get("entity_category") != "config", key  # §4.4
        for topic_key in ("state_topic", "command_topic"):
            if topic_key in config:
                assert re.fullmatch(r"[A-Za-z0-9_/-]+", config[topic_key]), key
    assert set(cmps(snapshot)) == expected_keys(snapshot.capabilities)


def test_device_origin_and_topic() -> None:
    snapshot = snap("nuki")
    payload = discovery_payload(snapshot, sw_version="3.9.2", configuration_url="homeassistant://x")
    assert set(payload) == {"dev", "o", "cmps"}
    assert payload["dev"] == {
        "identifiers": ["ttlock_nuki_54d272abcdef"],
        "connections": [["bluetooth", "54:d2:72:ab:cd:ef"]],
        "name": "Door nuki",
        "manufacturer": "Nuki",
        "model": "M1",
        "sw_version": "3.9.2",
        "configuration_url": "homeassistant://x",
    }
    assert payload["o"] == {
        "name": "TTLock & Nuki Bluetooth add-on",
        "sw_version": __version__,
        "support_url": "https://github.com/ttlock-nuki-addon/ttlock-nuki-addon",
    }
    bare = discovery_payload(snap("ttlock"))["dev"]
    assert isinstance(bare, dict)
    assert bare["manufacturer"] == "TTLock" and "sw_version" not in bare
    topic = Topics().discovery(snapshot.id)
    assert topic == "homeassistant/device/ttlock_nuki_54d272abcdef/config"
    assert re.fullmatch(r"homeassistant/device/[a-zA-Z0-9_-]+/config", topic)  # §4.1


@pytest.mark.parametrize("kind", sorted(CAPS))
def test_names_ids_and_no_object_id(kind: str) -> None:
    snapshot = snap(kind)
    found = cmps(snapshot)
    assert not walk_keys(found) & {"object_id", "obj_id", "default_entity_id", "def_ent_id"}
    if "lock" in found:
        assert found["lock"]["name"] is None
    others = [c["name"] for k, c in found.items() if k != "lock"]
    assert all(isinstance(n, str) and 0 < len(n) <= 20 for n in others)
    ids = [c["unique_id"] for c in found.values()]
    mac = snapshot.address.replace(":", "").lower()
    assert len(set(ids)) == len(ids) and all(mac in uid for uid in ids)
    moved = replace(snapshot, name="Renamed", status=LockStatus.UNLOCKED, battery=3, rssi=-90)
    assert [c["unique_id"] for c in cmps(moved).values()] == ids


def test_unique_ids_differ_between_locks() -> None:
    ids = [{c["unique_id"] for c in cmps(snap(kind)).values()} for kind in CAPS]
    assert sum(map(len, ids)) == len(set().union(*ids))


@pytest.mark.parametrize("kind", sorted(CAPS))
def test_availability_is_combined(kind: str) -> None:
    snapshot, topics = snap(kind), Topics(base="home/locks")
    bridge, own = "home/locks/bridge/availability", f"home/locks/{snapshot.id}/availability"
    assert topics.bridge_availability == bridge and topics.availability(snapshot.id) == own
    for key, config in cmps(snapshot, topics).items():
        wanted = [bridge] if key in ("last_seen", "connectivity") else [bridge, own]
        assert [a["topic"] for a in config["availability"]] == wanted, key
        assert config["availability_mode"] == "all"
        for entry in config["availability"]:
            assert (entry["payload_available"], entry["payload_not_available"]) == (
                "online",
                "offline",
            )
    assert (availability_payload(True), availability_payload(False)) == ("online", "offline")


@pytest.mark.parametrize("kind", sorted(CAPS))
def test_lock_and_event_components(kind: str) -> None:
    snapshot = snap(kind)
    found = cmps(snapshot)
    lock = found["lock"]
    assert ("payload_open" in lock) == (C.OPEN in snapshot.capabilities)
    assert (lock["payload_lock"], lock["payload_unlock"]) == ("LOCK", "UNLOCK")
    assert {k: lock[f"state_{k}"] for k in LOCK_PAYLOADS} == LOCK_PAYLOADS
    assert lock.get("retain") is False
    event = found["activity"]
    assert set(event["event_types"]) >= {"locked", "unlocked", "opened", "jammed", "failed_attempt"}
    assert event["event_types"] == [k.value for k in EventKind]
    topics = Topics()
    assert event["state_topic"] == topics.event(snapshot.id) != topics.state(snapshot.id)
    assert "retain" not in event and event["state_topic"] not in removal_topics(snapshot.id)


def test_auto_lock_number_limits() -> None:
    snapshot = snap("ttlock")
    number = cmps(snapshot)["auto_lock"]
    assert (number["min"], number["max"], number["mode"]) == (0, 0xFFFF, "box")
    assert (number["unit_of_measurement"], number["entity_category"]) == ("s", "config")
    limits = LockSettings(5, auto_lock_min=5, auto_lock_max=900)
    assert cmps(snapshot, settings=limits)["auto_lock"]["max"] == 900


def render(template: str, payload: dict[str, Any]) -> str:
    env = ImmutableSandboxedEnvironment()
    wire = json.loads(encode(payload))
    return env.from_string(template).render(value_json=wire, value=json.dumps(wire)).strip()


STATES = st.builds(
    snap,
    st.sampled_from(sorted(CAPS)),
    status=st.sampled_from(LockStatus),
    battery=st.none() | st.integers(0, 100),
    battery_low=st.booleans(),
    rssi=st.none() | st.integers(-128, 0),
    door=st.none() | st.sampled_from(DoorState),
    available=st.booleans(),
    last_seen=st.none() | st.datetimes(timezones=st.just(UTC)),
)
SETTINGS = st.none() | st.builds(
    LockSettings,
    auto_lock_seconds=st.none() | st.integers(0, 0xFFFF),
    sound=st.none() | st.booleans(),
    passage_mode=st.none() | st.booleans(),
    led=st.none() | st.booleans(),
)


def on_off(value: bool | None) -> str:
    return "None" if value is None else ("ON" if value else "OFF")


@given(STATES, SETTINGS)
def test_value_templates_render_what_ha_expects(snapshot: LockSnapshot, settings: Any) -> None:
    payload, given_settings = state_payload(snapshot, settings), settings or LockSettings()
    door = {DoorState.OPEN: "ON", DoorState.CLOSED: "OFF"}.get(snapshot.door, "None")  # type: ignore[arg-type]
    seen = "None" if snapshot.last_seen is None else snapshot.last_seen.isoformat()
    wanted = {
        "lock": LOCK_PAYLOADS.get(snapshot.status.value, "None"),
        "battery": str(snapshot.battery),
        "battery_low": on_off(snapshot.battery_low),
        "signal": str(snapshot.rssi),
        "door": door,
        "last_seen": seen,
        "connectivity": on_off(snapshot.available),
        "auto_lock": str(given_settings.auto_lock_seconds),
        "sound": on_off(given_settings.sound),
        "passage_mode": on_off(given_settings.passage_mode),
        "led": on_off(given_settings.led),
        "auto_unlatch": "None",
        "remote_unlock": "None",
    }
    for key, config in cmps(snapshot).items():
        if "value_template" in config:
            assert render(config["value_template"], payload) == wanted[key], key
            assert config["state_topic"] == Topics().state(snapshot.id)
    if snapshot.last_seen is not None:
        assert datetime.fromisoformat(seen).utcoffset() is not None


def test_lock_state_covers_every_status() -> None:
    for status in LockStatus:
        assert lock_state(status) == LOCK_PAYLOADS.get(status.value)
    assert lock_state(LockStatus.UNKNOWN) is None


NAMES = st.none() | st.text(max_size=30)
EVENTS = st.builds(
    LockEvent,
    lock_id=st.just("aabbcc001122"),
    kind=st.sampled_from(EventKind),
    source=st.sampled_from(EventSource),
    time=st.datetimes(timezones=st.just(UTC)),
    credential_id=NAMES,
    credential_name=NAMES,
    user=NAMES,
)


@given(EVENTS)
def test_event_payload_matches_event_entity(event: LockEvent) -> None:
    payload = json.loads(encode(event_payload(event)))
    assert payload["event_type"] in cmps(snap("ttlock"))["activity"]["event_types"]
    assert payload["event_type"] == event.kind.value and payload["source"] == event.source.value
    assert (payload["credential_id"], payload["credential_name"]) == (
        event.credential_id,
        event.credential_name,
    )
    assert payload["user"] == event.user
    assert datetime.fromisoformat(payload["time"]) == event.time


def test_event_payload_never_carries_a_code() -> None:
    cred = Credential(CredentialKind.PIN, "7", "Cleaner", code="918273")
    event = LockEvent(
        "aabbcc001122", EventKind.UNLOCKED, EventSource.KEYPAD, NOW, cred.id, cred.name
    )
    text = encode(event_payload(event)).decode()
    assert "918273" not in text and "Cleaner" in text
    assert not {"code", "pin", "passcode"} & set(json.loads(text))
    assert "918273" not in encode(state_payload(snap("ttlock"))).decode()


@pytest.mark.parametrize("kind", sorted(CAPS))
def test_discovery_commands_parse_back(kind: str) -> None:
    """Every payload HA can send on a discovered command topic parses to a command we support."""
    snapshot = snap(kind)
    for key, config in cmps(snapshot).items():
        if "command_topic" not in config:
            continue
        sent = [config.get(k) for k in ("payload_lock", "payload_unlock", "payload_open")]
        sent += [config.get(k) for k in ("payload_press", "payload_on", "payload_off")]
        if config["p"] == "number":
            sent += [str(config["min"]), str(config["max"])]
        assert any(sent), key
        for payload in filter(None, sent):
            command = parse_command(config["command_topic"], payload.encode())
            assert command is not None and command.lock_id == snapshot.id
            # HA's lock entity always offers LOCK; a TTLock without manual lock refuses it.
            allowed = snapshot.capabilities | {None, C.LOCK}
            assert command.capability in allowed, (key, payload)


def test_with_removed_drops_vanished_components() -> None:
    before = discovery_payload(snap("nuki"))
    after = discovery_payload(snap("nuki", capabilities=CAPS["nuki"] - {C.DOOR_SENSOR}))
    merged = with_removed(after, before)
    assert isinstance(merged["cmps"], dict)
    assert merged["cmps"]["door"] == {"p": "binary_sensor"}
    assert {k: v for k, v in merged["cmps"].items() if k != "door"} == after["cmps"]
    assert with_removed(after, None) == after
    assert "door" not in with_removed(after, merged)["cmps"]  # type: ignore[operator]


@given(STATES, SETTINGS)
def test_payloads_are_json(snapshot: LockSnapshot, settings: Any) -> None:
    for payload in (discovery_payload(snapshot, settings=settings), state_payload(snapshot)):
        assert json.loads(encode(payload)) == payload
    later = replace(snapshot, last_seen=NOW + timedelta(seconds=5))
    assert state_payload(later)["last_seen"] == (NOW + timedelta(seconds=5)).isoformat()
