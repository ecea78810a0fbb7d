"""MQTT topic layout, availability payloads and the parsing of commands from Home Assistant.

Layout under a base (default ``ttlock_nuki``), lock ids being 12 lower-case hex digits:
``<base>/bridge/availability`` (LWT), ``<base>/<id>/availability``, ``<base>/<id>/state`` (one
retained JSON message), ``<base>/<id>/event`` (never retained), ``<base>/<id>/<target>/set``
(commands, never retained) and ``<prefix>/device/ttlock_nuki_<id>/config`` (discovery).
Pure: no asyncio, no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import TypeAlias

from ..params import AUTO_LOCK_MAX, SettingsUpdate
from ..snapshot import SETTING_CAPABILITIES, Capability
from ..validity import ValidationError

DEFAULT_BASE = "ttlock_nuki"
DISCOVERY_PREFIX = "homeassistant"
# Prefix of node ids, device identifiers and unique ids; independent of the base topic so that
# changing the base never orphans entities in HA's registry.
UID_PREFIX = "ttlock_nuki"
ONLINE = "online"
OFFLINE = "offline"
# HA sends at most "UNLOCK" or a 5-digit number; anything longer is refused before decoding.
MAX_COMMAND_BYTES = 32
_SEGMENT = re.compile(r"[A-Za-z0-9_-]+")
_LOCK_ID = re.compile(r"[0-9a-f]{12}")
_NUMBER = re.compile(r"([0-9]{1,6})(?:\.0*)?")
_WHITESPACE = " \t\r\n"


class Target(StrEnum):
    """The entity a command topic addresses: ``<base>/<lock id>/<target>/set``."""

    LOCK = "lock"
    LOCK_N_GO = "lock_n_go"
    REFRESH = "refresh"
    AUTO_LOCK = "auto_lock"
    SOUND = "sound"
    PASSAGE_MODE = "passage_mode"
    LED = "led"
    AUTO_UNLATCH = "auto_unlatch"
    REMOTE_UNLOCK = "remote_unlock"


class Action(StrEnum):
    """A lock action requested from HA; each is one LockManager call of the same name."""

    LOCK = "lock"
    UNLOCK = "unlock"
    OPEN = "open"
    LOCK_N_GO = "lock_n_go"
    REFRESH = "refresh"


# The capability each action needs; refresh works on every lock.
ACTION_CAPABILITY: dict[Action, Capability | None] = {
    Action.LOCK: Capability.LOCK,
    Action.UNLOCK: Capability.UNLOCK,
    Action.OPEN: Capability.OPEN,
    Action.LOCK_N_GO: Capability.LOCK_N_GO,
    Action.REFRESH: None,
}

_LOCK_WORDS = {"LOCK": Action.LOCK, "UNLOCK": Action.UNLOCK, "OPEN": Action.OPEN}
_SWITCHES: dict[Target, Callable[[bool], SettingsUpdate]] = {
    Target.SOUND: lambda on: SettingsUpdate(sound=on),
    Target.PASSAGE_MODE: lambda on: SettingsUpdate(passage_mode=on),
    Target.LED: lambda on: SettingsUpdate(led=on),
    Target.AUTO_UNLATCH: lambda on: SettingsUpdate(auto_unlatch=on),
    Target.REMOTE_UNLOCK: lambda on: SettingsUpdate(remote_unlock=on),
}


@dataclass(frozen=True, slots=True)
class ActionCommand:
    """Lock, unlock, open, lock'n'go or refresh one lock."""

    lock_id: str
    action: Action

    @property
    def capability(self) -> Capability | None:
        """The capability the lock needs for this command (None: every lock can)."""
        return ACTION_CAPABILITY[self.action]


@dataclass(frozen=True, slots=True)
class SettingCommand:
    """Change one setting of one lock (exactly one field of `update` is set)."""

    lock_id: str
    update: SettingsUpdate

    @property
    def capability(self) -> Capability:
        """The capability the lock needs for this setting."""
        (name,) = self.update.changes()
        return SETTING_CAPABILITIES[name]


Command: TypeAlias = ActionCommand | SettingCommand


def _check_topic(value: str, what: str) -> str:
    if not all(_SEGMENT.fullmatch(level) for level in value.split("/")):
        raise ValidationError(
            f"The MQTT {what} must be levels of letters, digits, '_' or '-' joined by '/'."
        )
    return value


def check_lock_id(lock_id: str) -> str:
    """`lock_id` if it is 12 lower-case hex digits; ValidationError otherwise."""
    if not _LOCK_ID.fullmatch(lock_id):
        raise ValidationError("A lock id must be 12 lower-case hex digits.")
    return lock_id


def node_id(lock_id: str) -> str:
    """The discovery node id and device identifier of a lock."""
    return f"{UID_PREFIX}_{check_lock_id(lock_id)}"


@dataclass(frozen=True, slots=True)
class Topics:
    """Every topic the bridge publishes or subscribes to, under `base` and `discovery_prefix`."""

    base: str = DEFAULT_BASE
    discovery_prefix: str = DISCOVERY_PREFIX

    def __post_init__(self) -> None:
        _check_topic(self.base, "base topic")
        _check_topic(self.discovery_prefix, "discovery prefix")

    @property
    def bridge_availability(self) -> str:
        """The bridge's LWT topic: retained `offline` as will, retained `online` after connect."""
        return f"{self.base}/bridge/availability"

    @property
    def ha_status(self) -> str:
        """HA's birth/will topic; `online` there asks for discovery and state again."""
        return f"{self.discovery_prefix}/status"

    @property
    def command_filter(self) -> str:
        """The subscription that receives every command topic."""
        return f"{self.base}/+/+/set"

    @property
    def subscriptions(self) -> tuple[str, ...]:
        """What the bridge subscribes to after every connect."""
        return (self.command_filter, self.ha_status)

    def discovery(self, lock_id: str) -> str:
        """The device-based discovery topic of a lock (retained)."""
        return f"{self.discovery_prefix}/device/{node_id(lock_id)}/config"

    def availability(self, lock_id: str) -> str:
        """The per-lock availability topic (retained `online`/`offline`)."""
        return f"{self.base}/{check_lock_id(lock_id)}/availability"

    def state(self, lock_id: str) -> str:
        """The per-lock JSON state topic (retained)."""
        return f"{self.base}/{check_lock_id(lock_id)}/state"

    def event(self, lock_id: str) -> str:
        """The per-lock activity event topic (never retained: HA ignores retained events)."""
        return f"{self.base}/{check_lock_id(lock_id)}/event"

    def command(self, lock_id: str, target: Target) -> str:
        """The command topic HA publishes to for `target` (never retained)."""
        return f"{self.base}/{check_lock_id(lock_id)}/{target.value}/set"

    def retained(self, lock_id: str) -> tuple[str, ...]:
        """Topics to clear with empty retained payloads when a lock is removed, in this order."""
        return (self.discovery(lock_id), self.state(lock_id), self.availability(lock_id))

    def match_command(self, topic: str) -> tuple[str, Target] | None:
        """(lock id, target) if `topic` is one of our command topics, else None."""
        head = f"{self.base}/"
        if not topic.startswith(head):
            return None
        parts = topic[len(head) :].split("/")
        if len(parts) != 3 or parts[2] != "set" or not _LOCK_ID.fullmatch(parts[0]):
            return None
        try:
            return parts[0], Target(parts[1])
        except ValueError:
            return None


DEFAULT_TOPICS = Topics()


def availability_payload(available: bool) -> str:
    """`online` or `offline`, for the bridge and per-lock availability topics."""
    return ONLINE if available else OFFLINE


def is_ha_online(topic: str, payload: bytes | bytearray, topics: Topics = DEFAULT_TOPICS) -> bool:
    """Whether a message is HA's birth message (republish discovery and state then)."""
    return topic == topics.ha_status and bytes(payload).strip() == ONLINE.encode()


def _text(payload: bytes | bytearray | str) -> str:
    raw = payload.encode("utf-8", "replace") if isinstance(payload, str) else bytes(payload)
    if len(raw) > MAX_COMMAND_BYTES:
        raise ValidationError(f"The command payload is too long ({len(raw)} bytes).")
    try:
        text = raw.decode("utf-8").strip(_WHITESPACE)
    except UnicodeDecodeError:
        raise ValidationError("The command payload is not UTF-8 text.") from None
    if not text:
        raise ValidationError("The command payload is empty.")
    return text


def _word(text: str, allowed: tuple[str, ...]) -> str:
    word = text.upper() if text.isascii() else text
    if word not in allowed:
        raise ValidationError(f"The command payload must be {' or '.join(allowed)}.")
    return word


def _seconds(text: str) -> int:
    match = _NUMBER.fullmatch(text)
    if match is None or int(match.group(1)) > AUTO_LOCK_MAX:
        raise ValidationError(
            f"Auto-lock must be a whole number of seconds from 0 to {AUTO_LOCK_MAX}."
        )
    return int(match.group(1))


def parse_command(
    topic: str, payload: bytes | bytearray | str, topics: Topics = DEFAULT_TOPICS
) -> Command | None:
    """The command on one of our command topics; None for other topics.

    ValidationError (a sentence, never echoing the payload) for empty, unknown, non-UTF-8,
    oversized or out-of-range payloads. Capabilities are not checked here: see `.capability`.
    """
    matched = topics.match_command(topic)
    if matched is None:
        return None
    lock_id, target = matched
    text = _text(payload)
    if target is Target.LOCK:
        return ActionCommand(lock_id, _LOCK_WORDS[_word(text, tuple(_LOCK_WORDS))])
    if target in (Target.REFRESH, Target.LOCK_N_GO):
        _word(text, ("PRESS",))
        return ActionCommand(lock_id, Action(target.value))
    if target is Target.AUTO_LOCK:
        return SettingCommand(lock_id, SettingsUpdate(auto_lock_seconds=_seconds(text)))
    return SettingCommand(lock_id, _SWITCHES[target](_word(text, ("ON", "OFF")) == "ON"))
