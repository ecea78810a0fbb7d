"""Home Assistant MQTT payloads for one lock: device discovery, state, events (ha-addon.md §4).

Pure functions of brand-neutral data; no asyncio, no I/O. One retained JSON state message per lock
feeds every entity through `value_template`s; null fields render HA's reset payload "None"
(state unknown). Requires HA 2024.11+ (device-based discovery, §4.5).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from .. import __version__
from ..model import EventKind, LockEvent
from ..params import AUTO_LOCK_MAX, LockSettings
from ..snapshot import Brand, Capability, LockSnapshot, LockStatus, lock_id_from_address
from ..validity import JSONObject, JSONValue
from .topics import DEFAULT_TOPICS, OFFLINE, ONLINE, UID_PREFIX, Target, Topics, node_id

ORIGIN_NAME = "TTLock & Nuki Bluetooth add-on"
SUPPORT_URL = "https://github.com/ttlock-nuki-addon/ttlock-nuki-addon"
QOS = 1
MANUFACTURERS: dict[Brand, str] = {Brand.TTLOCK: "TTLock", Brand.NUKI: "Nuki"}
EVENT_TYPES: tuple[str, ...] = tuple(kind.value for kind in EventKind)
# §4.4: payload_reset defaults to "None" for lock and number; sensors, binary sensors and
# switches treat the payload "None" as unknown too.
PAYLOAD_NONE = "None"
_LOCK_STATES: dict[LockStatus, str] = {
    status: status.value.upper() for status in LockStatus if status is not LockStatus.UNKNOWN
}
# §4.4 lock: command and state payloads, upper-case on the wire.
_LOCK_PAYLOADS: JSONObject = {
    "payload_lock": "LOCK",
    "payload_unlock": "UNLOCK",
    "state_locked": "LOCKED",
    "state_unlocked": "UNLOCKED",
    "state_locking": "LOCKING",
    "state_unlocking": "UNLOCKING",
    "state_open": "OPEN",
    "state_opening": "OPENING",
    "state_jammed": "JAMMED",
}
# Boolean settings shown as config switches: (entity key = state field, name, icon).
_SWITCHES: tuple[tuple[Target, Capability, str, str], ...] = (
    (Target.SOUND, Capability.SOUND, "Sound", "mdi:volume-high"),
    (Target.PASSAGE_MODE, Capability.PASSAGE_MODE, "Passage mode", "mdi:lock-open-variant"),
    (Target.LED, Capability.LED, "LED", "mdi:led-on"),
    (Target.AUTO_UNLATCH, Capability.AUTO_UNLATCH, "Auto unlatch", "mdi:door-open"),
    (Target.REMOTE_UNLOCK, Capability.REMOTE_UNLOCK, "Remote unlock", "mdi:remote"),
)


@dataclass(frozen=True, slots=True)
class Origin:
    """The discovery `o` block: who publishes these entities (HA logs it)."""

    name: str = ORIGIN_NAME
    sw_version: str = __version__
    support_url: str = SUPPORT_URL

    def to_json(self) -> JSONObject:
        """The origin block."""
        return {"name": self.name, "sw_version": self.sw_version, "support_url": self.support_url}


DEFAULT_ORIGIN = Origin()


def _value(key: str) -> str:
    return "{% set v = value_json.get('" + key + "') %}{{ 'None' if v is none else v }}"


def _on_off(key: str) -> str:
    return (
        "{% set v = value_json.get('" + key + "') %}"
        "{{ 'None' if v is none else ('ON' if v else 'OFF') }}"
    )


_DOOR = "{{ {'open': 'ON', 'closed': 'OFF'}.get(value_json.get('door'), 'None') }}"


def unique_id(snapshot: LockSnapshot, key: str) -> str:
    """A stable unique id from the lock's Bluetooth address and the entity key."""
    return f"{UID_PREFIX}_{lock_id_from_address(snapshot.address)}_{key}"


def device_block(
    snapshot: LockSnapshot, *, sw_version: str | None = None, configuration_url: str | None = None
) -> JSONObject:
    """The discovery `dev` block: identifiers and Bluetooth connection from the address."""
    device: JSONObject = {
        "identifiers": [node_id(lock_id_from_address(snapshot.address))],
        "connections": [["bluetooth", snapshot.address.lower()]],
        "name": snapshot.name,
        "manufacturer": MANUFACTURERS[snapshot.brand],
        "model": snapshot.model,
    }
    if sw_version:
        device["sw_version"] = sw_version
    if configuration_url:
        device["configuration_url"] = configuration_url
    return device


def _availability(topics: Topics, lock_id: str | None) -> JSONObject:
    """Bridge LWT, plus the lock's own topic unless None; all must say online (§4.3)."""
    names = [topics.bridge_availability]
    if lock_id is not None:
        names.append(topics.availability(lock_id))
    entries: list[JSONValue] = [
        {"topic": name, "payload_available": ONLINE, "payload_not_available": OFFLINE}
        for name in names
    ]
    return {"availability": entries, "availability_mode": "all"}


class _Builder:
    """Collects the components of one lock's discovery message."""

    def __init__(self, snapshot: LockSnapshot, topics: Topics) -> None:
        self.snapshot, self.topics = snapshot, topics
        self.state_topic = topics.state(snapshot.id)
        self.lock_avail = _availability(topics, snapshot.id)
        self.bridge_avail = _availability(topics, None)
        self.components: dict[str, JSONValue] = {}

    def has(self, *caps: Capability) -> bool:
        return any(cap in self.snapshot.capabilities for cap in caps)

    def put(
        self, key: str, platform: str, name: str | None, avail: JSONObject, extra: JSONObject
    ) -> None:
        config: JSONObject = {
            "p": platform,
            "unique_id": unique_id(self.snapshot, key),
            "name": name,
            "qos": QOS,
        }
        config.update(avail)
        config.update(extra)
        self.components[key] = config

    def add(self, key: str, platform: str, name: str | None, **extra: JSONValue) -> None:
        self.put(key, platform, name, self.lock_avail, extra)

    def link(self, key: str, platform: str, name: str, **extra: JSONValue) -> None:
        """A component that stays available while the lock is away: bridge availability only."""
        self.put(key, platform, name, self.bridge_avail, extra)

    def reading(
        self, key: str, platform: str, name: str, template: str, **extra: JSONValue
    ) -> None:
        self.add(
            key, platform, name, state_topic=self.state_topic, value_template=template, **extra
        )

    def command(self, target: Target, platform: str, name: str | None, **extra: JSONValue) -> None:
        topic = self.topics.command(self.snapshot.id, target)
        self.add(target.value, platform, name, command_topic=topic, retain=False, **extra)


def _controls(b: _Builder, settings: LockSettings | None) -> None:
    if b.has(Capability.LOCK, Capability.UNLOCK):
        extra = dict(_LOCK_PAYLOADS)
        if b.has(Capability.OPEN):
            extra["payload_open"] = "OPEN"  # §4.4: OPEN exists only if payload_open is set
        b.command(
            Target.LOCK, "lock", None, state_topic=b.state_topic, value_template=_value("lock"),
            optimistic=False, **extra,
        )  # fmt: skip
    if b.has(Capability.LOCK_N_GO):
        b.command(
            Target.LOCK_N_GO, "button", "Lock 'n' Go", payload_press="PRESS", icon="mdi:exit-run"
        )
    if b.has(Capability.AUTO_LOCK):
        high = (settings.auto_lock_max if settings else None) or AUTO_LOCK_MAX
        # min stays 0 (= off); a lock's lower limit for "on" is enforced by LockSettings.apply.
        b.command(
            Target.AUTO_LOCK, "number", "Auto-lock", state_topic=b.state_topic,
            value_template=_value("auto_lock"), min=0, max=high, step=1, mode="box",
            unit_of_measurement="s", device_class="duration", entity_category="config",
            icon="mdi:lock-clock",
        )  # fmt: skip
    for target, cap, name, icon in _SWITCHES:
        if b.has(cap):
            b.command(
                target, "switch", name, state_topic=b.state_topic,
                value_template=_on_off(target.value), payload_on="ON", payload_off="OFF",
                entity_category="config", icon=icon,
            )  # fmt: skip
    b.command(
        Target.REFRESH, "button", "Refresh", payload_press="PRESS", entity_category="diagnostic",
        icon="mdi:refresh",
    )  # fmt: skip


def _readings(b: _Builder) -> None:
    diagnostic = "diagnostic"
    if b.has(Capability.BATTERY):
        b.reading(
            "battery", "sensor", "Battery", _value("battery"), device_class="battery",
            unit_of_measurement="%", state_class="measurement", entity_category=diagnostic,
        )  # fmt: skip
        b.reading(
            "battery_low", "binary_sensor", "Battery low", _on_off("battery_low"),
            device_class="battery", entity_category=diagnostic,
        )  # fmt: skip
    b.reading(
        "signal", "sensor", "Signal strength", _value("rssi"), device_class="signal_strength",
        unit_of_measurement="dBm", state_class="measurement", entity_category=diagnostic,
        enabled_by_default=False,
    )  # fmt: skip
    if b.has(Capability.DOOR_SENSOR):
        b.reading("door", "binary_sensor", "Door", _DOOR, device_class="door")
    if b.has(Capability.EVENTS):
        b.add(
            "activity", "event", "Activity", state_topic=b.topics.event(b.snapshot.id),
            event_types=list(EVENT_TYPES),
        )  # fmt: skip
    # Last seen and connectivity matter most while the lock is away: bridge availability only.
    b.link(
        "last_seen", "sensor", "Last seen", state_topic=b.state_topic,
        value_template=_value("last_seen"), device_class="timestamp", entity_category=diagnostic,
    )  # fmt: skip
    b.link(
        "connectivity", "binary_sensor", "Connectivity", state_topic=b.state_topic,
        value_template=_on_off("available"), device_class="connectivity",
        entity_category=diagnostic,
    )  # fmt: skip


def discovery_payload(
    snapshot: LockSnapshot,
    topics: Topics = DEFAULT_TOPICS,
    *,
    origin: Origin = DEFAULT_ORIGIN,
    settings: LockSettings | None = None,
    sw_version: str | None = None,
    configuration_url: str | None = None,
) -> JSONObject:
    """The retained device discovery message (`dev`, `o`, `cmps`) for `topics.discovery(id)`.

    One component per entity the lock's capabilities allow; `settings` (when read) gives the
    auto-lock maximum. Republish it when capabilities, name, model or settings limits change.
    """
    builder = _Builder(snapshot, topics)
    _controls(builder, settings)
    _readings(builder)
    return {
        "dev": device_block(snapshot, sw_version=sw_version, configuration_url=configuration_url),
        "o": origin.to_json(),
        "cmps": builder.components,
    }


def with_removed(payload: JSONObject, previous: JSONObject | None) -> JSONObject:
    """`payload` plus `{"p": platform}` for each component `previous` had and `payload` lacks.

    That is how HA drops one component of a device (§4.5); stubs are not carried further.
    """
    old = None if previous is None else previous.get("cmps")
    new = payload.get("cmps")
    if not isinstance(old, dict) or not isinstance(new, dict):
        return payload
    merged: dict[str, JSONValue] = dict(new)
    for key, config in old.items():
        if key in merged or not isinstance(config, dict) or len(config) < 2:
            continue
        platform = config.get("p")
        if isinstance(platform, str):
            merged[key] = {"p": platform}
    return {**payload, "cmps": merged}


def removal_topics(lock_id: str, topics: Topics = DEFAULT_TOPICS) -> tuple[str, ...]:
    """Topics to publish an empty retained payload to when a lock is removed, in order."""
    return topics.retained(lock_id)


def lock_state(status: LockStatus) -> str | None:
    """The HA lock state payload (LOCKED, ..., JAMMED); None for UNKNOWN (publish nothing)."""
    return _LOCK_STATES.get(status)


def state_payload(snapshot: LockSnapshot, settings: LockSettings | None = None) -> JSONObject:
    """The retained JSON state of one lock; settings fields are null until settings are read."""
    given = settings or LockSettings()
    return {
        "lock": lock_state(snapshot.status),
        "battery": snapshot.battery,
        "battery_low": snapshot.battery_low,
        "rssi": snapshot.rssi,
        "door": None if snapshot.door is None else snapshot.door.value,
        "available": snapshot.available,
        "last_seen": None if snapshot.last_seen is None else snapshot.last_seen.isoformat(),
        "auto_lock": given.auto_lock_seconds,
        "sound": given.sound,
        "passage_mode": given.passage_mode,
        "led": given.led,
        "auto_unlatch": given.auto_unlatch,
        "remote_unlock": given.remote_unlock,
    }


def event_payload(event: LockEvent) -> JSONObject:
    """The activity event message: `event_type` plus attributes; a LockEvent holds no codes."""
    return {
        "event_type": event.kind.value,
        "source": event.source.value,
        "credential_id": event.credential_id,
        "credential_name": event.credential_name,
        "user": event.user,
        "time": event.time.isoformat(),
    }


def encode(payload: JSONObject) -> bytes:
    """Compact UTF-8 JSON bytes for publishing."""
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()
