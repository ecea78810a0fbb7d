"""TTLock settings: auto-lock 0x36, audio 0x62, remote unlock 0x37, display 0x59, 0x68, 0x66."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import time
from enum import IntEnum, IntFlag

from ._buf import FieldError, Reader, u8, u16, u32
from .dates import hhmm, read_hhmm

# All of these need an admin session (spec §5.5.8-§5.5.11, §5.5.19, §5.5.24).

END_OF_PASSAGE = 0xFF  # spec §5.5.19: nextSeq FF = no more entries
KEEP_AUTO_LOCK_TIME = 0xFFFF  # spec §5.5.8: door-sensor variant, "keep time"


class SettingOp(IntEnum):
    """First request byte of the query/set commands (spec §5.5.8-§5.5.11, §5.5.24)."""

    QUERY = 1
    SET = 2


@dataclass(frozen=True, slots=True)
class SettingRequest:
    """Lock side: a query (no value) or a set with its raw value bytes."""

    op: int
    value: bytes = b""


def build_query() -> bytes:
    """`[01]`: the query form of 0x36, 0x62, 0x37, 0x59, 0x68."""
    return bytes([SettingOp.QUERY])


def parse_setting_request(data: bytes, what: str) -> SettingRequest:
    """Lock side: op byte and the rest, for 0x36, 0x62, 0x37, 0x59, 0x68."""
    reader = Reader(data, what)
    return SettingRequest(reader.u8("operation"), reader.rest())


def _answer(data: bytes, what: str, op: SettingOp) -> tuple[Reader, int]:
    reader = Reader(data, what)
    battery = reader.u8("battery")
    reader.expect(op, "operation")
    return reader, battery


# --- 0x36 AUTO_LOCK_MANAGE -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AutoLockState:
    """Answer to the auto-lock query: seconds (0 = off) and the lock's limits."""

    battery: int
    seconds: int
    minimum: int | None = None
    maximum: int | None = None


def build_auto_lock_set(seconds: int) -> bytes:
    """`[02] seconds u16`; 0 turns auto-lock off (spec §5.5.8). The answer is `battery 02`."""
    return bytes([SettingOp.SET]) + u16(seconds, "auto-lock seconds")


def parse_auto_lock_set(value: bytes) -> int:
    """Lock side: seconds from a SettingRequest value (FFFF = keep, door-sensor variant)."""
    return Reader(value, "auto-lock set (0x36)").u16("seconds")


def parse_auto_lock_state(data: bytes) -> AutoLockState:
    """`battery 01 current u16 [min u16 max u16]` (spec §5.5.8)."""
    reader, battery = _answer(data, "auto-lock answer (0x36)", SettingOp.QUERY)
    seconds = reader.u16("seconds")
    if reader.remaining < 4:
        return AutoLockState(battery, seconds)
    return AutoLockState(battery, seconds, reader.u16("minimum"), reader.u16("maximum"))


def build_auto_lock_state(battery: int, seconds: int, minimum: int, maximum: int) -> bytes:
    """Lock side: the query answer."""
    return (
        u8(battery, "battery")
        + bytes([SettingOp.QUERY])
        + u16(seconds, "seconds")
        + u16(minimum, "minimum")
        + u16(maximum, "maximum")
    )


# --- on/off settings: 0x37 remote unlock, 0x59 passcode display ----------------------------


@dataclass(frozen=True, slots=True)
class OnOffState:
    """Answer to a query of 0x37 or 0x59 (`battery 01 value`)."""

    battery: int
    on: bool


def build_on_off_set(on: bool) -> bytes:
    """`[02] 00|01` for 0x37, 0x59 (and audio without volume). The answer is `battery 02`."""
    return bytes([SettingOp.SET, int(on)])


def parse_on_off_set(value: bytes, what: str) -> bool:
    """Lock side: the on/off byte from a SettingRequest value."""
    return Reader(value, what).u8("value") != 0


def parse_on_off_state(data: bytes, what: str) -> OnOffState:
    """`battery 01 value` (spec §5.5.10, §5.5.11)."""
    reader, battery = _answer(data, what, SettingOp.QUERY)
    return OnOffState(battery, reader.u8("value") != 0)


def build_on_off_state(battery: int, on: bool) -> bytes:
    """Lock side: the query answer."""
    return u8(battery, "battery") + bytes([SettingOp.QUERY, int(on)])


# --- 0x62 AUDIO_MANAGE -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AudioState:
    """Sound on/off and, on volume locks (feature 43), the volume 1-5."""

    battery: int
    on: bool
    volume: int | None = None


def build_audio_set(on: bool, volume: int | None = None) -> bytes:
    """`[02] 00|01`, or `[02] 01 volume 00` on volume locks (spec §5.5.9)."""
    out = build_on_off_set(on)
    if volume is None:
        return out
    if not 1 <= volume <= 5:
        raise FieldError("The sound volume must be 1 to 5.")
    return out + bytes([volume, 0])


def parse_audio_set(value: bytes) -> tuple[bool, int | None]:
    """Lock side: (on, volume or None) from a SettingRequest value."""
    reader = Reader(value, "audio set (0x62)")
    on = reader.u8("value") != 0
    return on, (reader.u8("volume") if reader.remaining else None)


def parse_audio_state(data: bytes) -> AudioState:
    """`battery 01 on [volume]` (spec §5.5.9)."""
    reader, battery = _answer(data, "audio answer (0x62)", SettingOp.QUERY)
    on = reader.u8("value") != 0
    return AudioState(battery, on, reader.u8("volume") if reader.remaining else None)


def build_audio_state(battery: int, on: bool, volume: int | None = None) -> bytes:
    """Lock side: the query answer."""
    out = build_on_off_state(battery, on)
    return out if volume is None else out + u8(volume, "volume")


# --- 0x68 SWITCH -------------------------------------------------------------------------------


class SwitchItem(IntFlag):
    """Bits of the 0x68 item/value words (spec §5.5.24)."""

    TAMPER_ALERT = 0x01
    RESET_BUTTON = 0x02
    PRIVACY_LOCK = 0x04
    UNLOCK_DIRECTION = 0x10  # 1 = left
    PASSAGE_MODE_AUTO_UNLOCK = 0x20
    WIFI_POWER_SAVING = 0x80  # inverted


@dataclass(frozen=True, slots=True)
class SwitchState:
    """0x68 words: `items` which switches are meant, `values` their states."""

    items: int
    values: int

    def is_on(self, item: SwitchItem) -> bool:
        """Whether `item` is set in values."""
        return bool(self.values & item)


def build_switch_set(state: SwitchState) -> bytes:
    """`[02] item u32 value u32`; the SDK reads, changes one bit, writes back (spec §5.5.24)."""
    return bytes([SettingOp.SET]) + u32(state.items, "items") + u32(state.values, "values")


def parse_switch_words(value: bytes, what: str) -> SwitchState:
    """`item u32 value u32` (a SettingRequest value, or an answer after `battery 01`)."""
    reader = Reader(value, what)
    return SwitchState(reader.u32("items"), reader.u32("values"))


def parse_switch_state(data: bytes) -> tuple[int, SwitchState]:
    """(battery, state) from `battery 01 item u32 value u32`."""
    reader, battery = _answer(data, "switch answer (0x68)", SettingOp.QUERY)
    return battery, parse_switch_words(reader.rest(), "switch answer (0x68)")


def build_switch_state(battery: int, state: SwitchState) -> bytes:
    """Lock side: the query answer."""
    return (
        u8(battery, "battery")
        + bytes([SettingOp.QUERY])
        + u32(state.items, "items")
        + u32(state.values, "values")
    )


# --- 0x66 CONFIGURE_PASSAGE_MODE -----------------------------------------------------------


class PassageOp(IntEnum):
    """0x66 operations (spec §5.5.19)."""

    QUERY = 1
    ADD = 2
    DELETE = 3
    CLEAR = 4


class PassageType(IntEnum):
    """Passage-mode entry kinds: weekly (day 1-7 = Mon-Sun, 0 = every day) or monthly."""

    WEEKLY = 1
    MONTHLY = 2


@dataclass(frozen=True, slots=True)
class PassageEntry:
    """One passage-mode window; 00:00-00:00 means all day (spec §5.5.19)."""

    type: int
    week_or_day: int
    month: int
    start: time
    end: time

    def to_bytes(self) -> bytes:
        """`type weekOrDay month sH sM eH eM`."""
        return (
            u8(self.type, "passage type")
            + u8(self.week_or_day, "week day")
            + u8(self.month, "month")
            + hhmm(self.start)
            + hhmm(self.end)
        )


def _read_entry(reader: Reader) -> PassageEntry:
    kind, day, month = reader.u8("type"), reader.u8("week day"), reader.u8("month")
    return PassageEntry(kind, day, month, read_hhmm(reader, "start"), read_hhmm(reader, "end"))


@dataclass(frozen=True, slots=True)
class PassageRequest:
    """Lock side: a 0x66 request (seq for a query, entry for add/delete)."""

    op: int
    seq: int | None = None
    entry: PassageEntry | None = None


def build_passage_query(seq: int = 0) -> bytes:
    """`01 seq` (u8, start 0)."""
    return bytes([PassageOp.QUERY]) + u8(seq, "sequence")


def build_passage_change(op: PassageOp, entry: PassageEntry) -> bytes:
    """`02` add or `03` delete + the entry; one per day as the SDK does (spec §5.5.19)."""
    if op not in (PassageOp.ADD, PassageOp.DELETE):
        raise FieldError("A passage-mode entry is added or deleted.")
    return bytes([op]) + entry.to_bytes()


def build_passage_clear() -> bytes:
    """`04`: remove every passage-mode entry."""
    return bytes([PassageOp.CLEAR])


def parse_passage_request(data: bytes) -> PassageRequest:
    """Lock side: parse a 0x66 request."""
    reader = Reader(data, "passage-mode request (0x66)")
    op = reader.u8("operation")
    if op == PassageOp.QUERY:
        return PassageRequest(op, seq=reader.u8("sequence"))
    if op in (PassageOp.ADD, PassageOp.DELETE):
        return PassageRequest(op, entry=_read_entry(reader))
    return PassageRequest(op)


@dataclass(frozen=True, slots=True)
class PassagePage:
    """Answer to a passage-mode query; next_seq FF ends the list."""

    battery: int
    next_seq: int
    entries: tuple[PassageEntry, ...]

    @property
    def is_last(self) -> bool:
        """Whether no further page should be asked for."""
        return self.next_seq == END_OF_PASSAGE


def parse_passage_page(data: bytes) -> PassagePage:
    """`battery 01 nextSeq(u8) entries (7 bytes each)` (spec §5.5.19)."""
    reader, battery = _answer(data, "passage-mode answer (0x66)", SettingOp.QUERY)
    next_seq = reader.u8("next sequence")
    entries = []
    while reader.remaining:
        entries.append(_read_entry(reader))
    return PassagePage(battery, next_seq, tuple(entries))


def build_passage_page(
    battery: int, entries: tuple[PassageEntry, ...] | list[PassageEntry], next_seq: int
) -> bytes:
    """Lock side: one page of entries."""
    body = b"".join(entry.to_bytes() for entry in entries)
    return u8(battery, "battery") + bytes([PassageOp.QUERY]) + u8(next_seq, "next seq") + body
