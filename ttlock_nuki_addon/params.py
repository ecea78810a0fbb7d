"""Lock settings (read and partial update) and pairing parameters, with strict JSON parsing."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field, fields
from enum import StrEnum
from typing import TypeVar

from .errors import NotSupportedError
from .validity import (
    JSONObject,
    ValidationError,
    check_name,
    expect_object,
    opt_bool,
    opt_int,
    opt_str,
    parse_enum,
)

# Both protocols carry the auto-lock time as u16 seconds (ttlock §5.5.8, nuki §4.5).
AUTO_LOCK_MAX = 0xFFFF
# Nuki security PIN: u16 (4 digits in practice) or a 6-digit u32 on 5th gen (nuki §2.4).
_PAIRING_PIN = re.compile(r"[0-9]{4,8}")
_LIMITS = ("auto_lock_min", "auto_lock_max")
_T = TypeVar("_T")


def _pick(new: _T | None, old: _T | None) -> _T | None:
    return old if new is None else new


@dataclass(frozen=True, slots=True)
class SettingsUpdate:
    """A partial settings change: None leaves a setting alone; auto_lock_seconds 0 turns it off."""

    auto_lock_seconds: int | None = None
    sound: bool | None = None
    passage_mode: bool | None = None
    remote_unlock: bool | None = None
    led: bool | None = None
    auto_unlatch: bool | None = None

    def changes(self) -> dict[str, int | bool]:
        """The settings this update changes, by name."""
        found = ((f.name, getattr(self, f.name)) for f in fields(self))
        return {name: value for name, value in found if value is not None}

    def to_json(self) -> JSONObject:
        """Only the changed settings, by name."""
        return dict(self.changes())

    @classmethod
    def from_json(cls, value: object, *, ignore: Iterable[str] = ()) -> SettingsUpdate:
        """Parse settings.set parameters (minus `ignore` keys) strictly; null means unchanged."""
        names = [f.name for f in fields(cls)]
        obj = expect_object(value, "settings", optional=names, ignore=ignore)
        return cls(
            auto_lock_seconds=opt_int(obj, "auto_lock_seconds", 0, AUTO_LOCK_MAX),
            sound=opt_bool(obj, "sound"),
            passage_mode=opt_bool(obj, "passage_mode"),
            remote_unlock=opt_bool(obj, "remote_unlock"),
            led=opt_bool(obj, "led"),
            auto_unlatch=opt_bool(obj, "auto_unlatch"),
        )


@dataclass(frozen=True, slots=True)
class LockSettings:
    """A lock's settings; None means the lock lacks that setting, auto_lock_seconds 0 means off."""

    auto_lock_seconds: int | None = None
    sound: bool | None = None
    passage_mode: bool | None = None
    remote_unlock: bool | None = None
    led: bool | None = None
    auto_unlatch: bool | None = None
    auto_lock_min: int | None = None
    auto_lock_max: int | None = None

    def apply(self, update: SettingsUpdate) -> LockSettings:
        """These settings with `update` applied; NotSupportedError or ValidationError if unfit."""
        changes = update.changes()
        for name in changes:
            if getattr(self, name) is None:
                label = name.replace("_", " ")
                raise NotSupportedError(f"This lock has no {label} setting.")
        seconds = update.auto_lock_seconds
        low, high = self.auto_lock_min or 0, self.auto_lock_max or AUTO_LOCK_MAX
        if seconds and not low <= seconds <= high:
            raise ValidationError(f"Auto-lock must be off (0) or from {low} to {high} seconds.")
        return LockSettings(
            auto_lock_seconds=_pick(update.auto_lock_seconds, self.auto_lock_seconds),
            sound=_pick(update.sound, self.sound),
            passage_mode=_pick(update.passage_mode, self.passage_mode),
            remote_unlock=_pick(update.remote_unlock, self.remote_unlock),
            led=_pick(update.led, self.led),
            auto_unlatch=_pick(update.auto_unlatch, self.auto_unlatch),
            auto_lock_min=self.auto_lock_min,
            auto_lock_max=self.auto_lock_max,
        )

    def to_json(self) -> JSONObject:
        """Every setting by name, null where the lock lacks it."""
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @classmethod
    def from_json(cls, value: object) -> LockSettings:
        """Parse settings.get's shape strictly; ValidationError on malformed input."""
        obj = expect_object(value, "settings", optional=[f.name for f in fields(cls)])
        given = SettingsUpdate.from_json(obj, ignore=_LIMITS)
        return cls(
            auto_lock_seconds=given.auto_lock_seconds,
            sound=given.sound,
            passage_mode=given.passage_mode,
            remote_unlock=given.remote_unlock,
            led=given.led,
            auto_unlatch=given.auto_unlatch,
            auto_lock_min=opt_int(obj, "auto_lock_min", 0, AUTO_LOCK_MAX),
            auto_lock_max=opt_int(obj, "auto_lock_max", 0, AUTO_LOCK_MAX),
        )


class PairAs(StrEnum):
    """The role a Nuki pairing takes; bridge (default) replaces an official Nuki Bridge."""

    BRIDGE = "bridge"
    APP = "app"


@dataclass(frozen=True, slots=True)
class PairingParams:
    """What a person supplies to pair: a name, the Nuki security PIN, bridge or app role."""

    name: str | None = None
    pin: str | None = field(default=None, repr=False)
    pair_as: PairAs = PairAs.BRIDGE

    def __post_init__(self) -> None:
        if self.name is not None:
            check_name(self.name)
        if self.pin is not None and not _PAIRING_PIN.fullmatch(self.pin):
            raise ValidationError("'pin' must be 4 to 8 digits.")

    @classmethod
    def from_json(cls, value: object, *, ignore: Iterable[str] = ()) -> PairingParams:
        """Parse lock.pair parameters (minus `ignore` keys) strictly; a blank name is None."""
        obj = expect_object(value, "pairing", optional=("name", "pin", "pair_as"), ignore=ignore)
        name = opt_str(obj, "name")
        raw_as = obj.get("pair_as")
        return cls(
            name=check_name(name) if name and name.strip() else None,
            pin=opt_str(obj, "pin"),
            pair_as=PairAs.BRIDGE if raw_as is None else parse_enum(PairAs, raw_as, "pair_as"),
        )
