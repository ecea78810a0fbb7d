"""When a credential works (permanent, period, once, weekly) and strict JSON field helpers."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from enum import IntEnum, StrEnum
from typing import ClassVar, TypeAlias, TypeVar

JSONValue: TypeAlias = "str | int | float | bool | list[JSONValue] | dict[str, JSONValue] | None"
JSONObject: TypeAlias = "dict[str, JSONValue]"

_HHMM = re.compile(r"([01][0-9]|2[0-3]):([0-5][0-9])")
_E = TypeVar("_E", bound=StrEnum)
MAX_NAME = 64
_DAY = timedelta(days=1)


class ValidationError(ValueError):
    """Input (usually JSON from the panel) is malformed; the message names the field and why."""


def _shown(key: object) -> str:
    text = str(key)
    return text if len(text) <= 40 else text[:37] + "..."


def expect_object(
    value: object,
    what: str,
    *,
    required: Iterable[str] = (),
    optional: Iterable[str] = (),
    ignore: Iterable[str] = (),
) -> dict[str, object]:
    """Return `value` as a dict holding all `required` keys and nothing unknown, else raise."""
    if not isinstance(value, dict):
        raise ValidationError(f"{what} must be a JSON object.")
    needed, ignored = set(required), set(ignore)
    allowed = needed | set(optional) | ignored
    unknown = sorted(_shown(key) for key in value if key not in allowed)
    if unknown:
        raise ValidationError(f"{what} has unknown field(s): {', '.join(unknown[:3])}.")
    missing = sorted(needed - value.keys())
    if missing:
        raise ValidationError(f"{what} lacks field(s): {', '.join(missing)}.")
    return {key: item for key, item in value.items() if key not in ignored}


def req_str(obj: dict[str, object], key: str) -> str:
    """The string at `key`; ValidationError when absent or not a string."""
    value = obj.get(key)
    if not isinstance(value, str):
        raise ValidationError(f"'{key}' must be a string.")
    return value


def opt_str(obj: dict[str, object], key: str) -> str | None:
    """The string at `key`, or None when absent or null."""
    return None if obj.get(key) is None else req_str(obj, key)


def req_bool(obj: dict[str, object], key: str) -> bool:
    """The boolean at `key`; ValidationError otherwise."""
    value = obj.get(key)
    if not isinstance(value, bool):
        raise ValidationError(f"'{key}' must be true or false.")
    return value


def opt_bool(obj: dict[str, object], key: str) -> bool | None:
    """The boolean at `key`, or None when absent or null."""
    return None if obj.get(key) is None else req_bool(obj, key)


def opt_int(obj: dict[str, object], key: str, low: int, high: int) -> int | None:
    """The integer in [low, high] at `key` (booleans refused), or None when absent or null."""
    value = obj.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValidationError(f"'{key}' must be a whole number from {low} to {high}.")
    return value


def parse_enum(cls: type[_E], value: object, key: str) -> _E:
    """The member of `cls` whose value is `value`; ValidationError listing the choices."""
    if isinstance(value, str):
        for member in cls:
            if member.value == value:
                return member
    raise ValidationError(f"'{key}' must be one of {', '.join(m.value for m in cls)}.")


def check_name(value: object, key: str = "name") -> str:
    """A trimmed, non-empty name of at most 64 printable characters."""
    if not isinstance(value, str):
        raise ValidationError(f"'{key}' must be a string.")
    name = value.strip()
    if not name or len(name) > MAX_NAME or not name.isprintable():
        raise ValidationError(f"'{key}' must be 1 to {MAX_NAME} printable characters.")
    return name


def _parse_iso(value: object, key: str) -> datetime:
    """Any ISO datetime string, or a ValidationError naming `key`."""
    if not isinstance(value, str):
        raise ValidationError(f"'{key}' must be an ISO date and time string.")
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        raise ValidationError(f"'{key}' is not an ISO date and time: {_shown(value)!r}.") from None


def parse_local(value: object, key: str) -> datetime:
    """A naive ISO datetime (lock-local wall time, no offset), e.g. '2025-03-01T08:00'."""
    moment = _parse_iso(value, key)
    if moment.tzinfo is not None:
        raise ValidationError(f"'{key}' must be the lock's local time without a UTC offset.")
    return moment


def parse_aware(value: object, key: str) -> datetime:
    """An ISO datetime that carries a UTC offset, e.g. '2025-03-01T08:00:00+00:00'."""
    moment = _parse_iso(value, key)
    if moment.utcoffset() is None:
        raise ValidationError(f"'{key}' must carry a UTC offset.")
    return moment


def format_local(moment: datetime) -> str:
    """ISO text for a naive datetime, 'YYYY-MM-DDTHH:MM' when seconds are zero."""
    exact = moment.second or moment.microsecond
    return moment.isoformat(timespec="auto" if exact else "minutes")


def parse_hhmm(value: object, key: str) -> time:
    """A time of day written 'HH:MM' (24-hour clock)."""
    match = _HHMM.fullmatch(value) if isinstance(value, str) else None
    if match is None:
        raise ValidationError(f"'{key}' must be a time of day written HH:MM.")
    return time(int(match[1]), int(match[2]))


def _naive(moment: datetime, key: str) -> None:
    if moment.tzinfo is not None:
        raise ValidationError(f"'{key}' must be the lock's local time without a UTC offset.")


class Weekday(IntEnum):
    """A day of the week numbered like datetime.weekday(): MON 0 ... SUN 6; JSON 'mon'..'sun'."""

    MON = 0
    TUE = 1
    WED = 2
    THU = 3
    FRI = 4
    SAT = 5
    SUN = 6

    @property
    def abbr(self) -> str:
        """The JSON name, 'mon' .. 'sun'."""
        return self.name.lower()

    @classmethod
    def parse(cls, value: object) -> Weekday:
        """The day named 'mon' .. 'sun'; ValidationError otherwise."""
        for day in cls:
            if value == day.abbr:
                return day
        raise ValidationError("'days' must list days named mon, tue, wed, thu, fri, sat, sun.")

    @classmethod
    def of(cls, moment: datetime) -> Weekday:
        """The weekday of `moment`."""
        return cls(moment.weekday())


class ValidityType(StrEnum):
    """The JSON 'type' of a validity."""

    PERMANENT = "permanent"
    PERIOD = "period"
    ONCE = "once"
    WEEKLY = "weekly"


@dataclass(frozen=True, slots=True)
class Validity:
    """When a credential works; all times are naive lock-local wall times, ends are exclusive."""

    kind: ClassVar[ValidityType]

    def allows(self, moment: datetime) -> bool:
        """Whether the credential works at naive lock-local `moment` (aware: ValidationError)."""
        raise NotImplementedError

    def to_json(self) -> JSONObject:
        """The panel's JSON shape of this validity."""
        raise NotImplementedError

    @staticmethod
    def from_json(value: object) -> Validity:
        """Parse the panel's JSON shape strictly; ValidationError on any malformed input."""
        if not isinstance(value, dict):
            raise ValidationError("validity must be a JSON object.")
        kind = value.get("type")
        if kind == ValidityType.PERMANENT:
            expect_object(value, "validity", required=("type",))
            return Permanent()
        if kind in (ValidityType.PERIOD, ValidityType.ONCE):
            obj = expect_object(value, "validity", required=("type", "from", "until"))
            start, end = parse_local(obj["from"], "from"), parse_local(obj["until"], "until")
            return Period(start, end) if kind == ValidityType.PERIOD else Once(start, end)
        if kind == ValidityType.WEEKLY:
            obj = expect_object(
                value,
                "validity",
                required=("type", "days", "from_time", "until_time"),
                optional=("from", "until"),
            )
            raw_days = obj["days"]
            if not isinstance(raw_days, list):
                raise ValidationError("'days' must be a list of day names.")
            days = [Weekday.parse(day) for day in raw_days]
            if len(set(days)) != len(days):
                raise ValidationError("'days' names a day twice.")
            return Weekly(
                frozenset(days),
                parse_hhmm(obj["from_time"], "from_time"),
                parse_hhmm(obj["until_time"], "until_time"),
                None if obj.get("from") is None else parse_local(obj["from"], "from"),
                None if obj.get("until") is None else parse_local(obj["until"], "until"),
            )
        raise ValidationError("'type' must be one of permanent, period, once, weekly.")


def _of_day(clock: time) -> timedelta:
    return timedelta(
        hours=clock.hour, minutes=clock.minute, seconds=clock.second, microseconds=clock.microsecond
    )


def _check_moment(moment: datetime) -> None:
    _naive(moment, "moment")


@dataclass(frozen=True, slots=True)
class Permanent(Validity):
    """Works at any time."""

    kind: ClassVar[ValidityType] = ValidityType.PERMANENT

    def allows(self, moment: datetime) -> bool:
        """Always true."""
        _check_moment(moment)
        return True

    def to_json(self) -> JSONObject:
        """{"type": "permanent"}."""
        return {"type": self.kind.value}


@dataclass(frozen=True, slots=True)
class _Window(Validity):
    """Works from `valid_from` (inclusive) until `valid_until` (exclusive)."""

    valid_from: datetime
    valid_until: datetime

    def __post_init__(self) -> None:
        _naive(self.valid_from, "from")
        _naive(self.valid_until, "until")
        if self.valid_from >= self.valid_until:
            raise ValidationError("'from' must be before 'until'.")

    def allows(self, moment: datetime) -> bool:
        """Whether valid_from <= moment < valid_until."""
        _check_moment(moment)
        return self.valid_from <= moment < self.valid_until

    def to_json(self) -> JSONObject:
        """{"type", "from", "until"} with naive ISO times."""
        return {
            "type": self.kind.value,
            "from": format_local(self.valid_from),
            "until": format_local(self.valid_until),
        }


@dataclass(frozen=True, slots=True)
class Period(_Window):
    """Works any number of times inside [valid_from, valid_until)."""

    kind: ClassVar[ValidityType] = ValidityType.PERIOD


@dataclass(frozen=True, slots=True)
class Once(_Window):
    """Works one time inside [valid_from, valid_until); the lock tracks the single use."""

    kind: ClassVar[ValidityType] = ValidityType.ONCE


@dataclass(frozen=True, slots=True)
class Weekly(Validity):
    """Works from `from_time` on each of `days` until the next `until_time` (equal: 24 h)."""

    kind: ClassVar[ValidityType] = ValidityType.WEEKLY

    days: frozenset[Weekday]
    from_time: time
    until_time: time
    valid_from: datetime | None = None
    valid_until: datetime | None = None

    def __post_init__(self) -> None:
        if not self.days:
            raise ValidationError("'days' must name at least one day.")
        try:
            object.__setattr__(self, "days", frozenset(Weekday(day) for day in self.days))
        except ValueError:
            raise ValidationError("'days' must hold weekdays 0 (Monday) to 6.") from None
        for key, value in (("from_time", self.from_time), ("until_time", self.until_time)):
            if value.tzinfo is not None or value.second or value.microsecond:
                raise ValidationError(f"'{key}' must be a plain HH:MM time of day.")
        if self.valid_from is not None:
            _naive(self.valid_from, "from")
        if self.valid_until is not None:
            _naive(self.valid_until, "until")
        if (
            self.valid_from is not None
            and self.valid_until is not None
            and self.valid_from >= self.valid_until
        ):
            raise ValidationError("'from' must be before 'until'.")

    def allows(self, moment: datetime) -> bool:
        """Whether `moment` lies in the overall range and in a daily window of a listed day."""
        _check_moment(moment)
        if self.valid_from is not None and moment < self.valid_from:
            return False
        if self.valid_until is not None and moment >= self.valid_until:
            return False
        # The window opens at from_time on a listed day and lasts until the next until_time, so
        # only the latest opening at or before `moment` can contain it.
        day, elapsed = Weekday.of(moment), _of_day(moment.time()) - _of_day(self.from_time)
        if elapsed < timedelta(0):
            day, elapsed = Weekday((day - 1) % 7), elapsed + _DAY
        length = (_of_day(self.until_time) - _of_day(self.from_time)) % _DAY or _DAY
        return day in self.days and elapsed < length

    def to_json(self) -> JSONObject:
        """{"type", "days", "from_time", "until_time", "from", "until"}; open ends are null."""
        return {
            "type": self.kind.value,
            "days": [day.abbr for day in sorted(self.days)],
            "from_time": self.from_time.strftime("%H:%M"),
            "until_time": self.until_time.strftime("%H:%M"),
            "from": None if self.valid_from is None else format_local(self.valid_from),
            "until": None if self.valid_until is None else format_local(self.valid_until),
        }
