"""Type-specific tails of TTLock operation-log records (spec §5.5.20)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from ..errors import ProtocolError
from ._buf import Reader, short_bytes, u8, u32
from .dates import DATE5_LEN, encode_date5, read_date_lenient

MAC_LEN = 6


def _ascii(reader: Reader, field_name: str) -> str:
    raw = reader.short_bytes(field_name)
    if not raw.isascii():
        raise reader.fail(f"{field_name} is not ASCII")
    return raw.decode("ascii")


def _mac_text(raw: bytes) -> str:
    return ":".join(f"{b:02X}" for b in reversed(raw))  # spec §5.5.20: LSB first on the wire


def _mac_bytes(mac: str) -> bytes:
    return bytes(reversed(bytes.fromhex(mac.replace(":", ""))))


@dataclass(frozen=True, slots=True)
class AppTail:
    """Types 1, 26, 28, 41: who (uid) and the app's record id."""

    uid: int
    record_id: int

    def to_bytes(self) -> bytes:
        """Wire form."""
        return u32(self.uid, "uid") + u32(self.record_id, "record id")


@dataclass(frozen=True, slots=True)
class RemoteKeyTail:
    """Type 37: remote-control key; key_id 1 = unlock, 2 = lock."""

    uid: int
    record_id: int
    key_id: int

    def to_bytes(self) -> bytes:
        """Wire form."""
        return u32(self.uid, "uid") + u32(self.record_id, "record id") + u8(self.key_id, "key")


@dataclass(frozen=True, slots=True)
class PasscodeTail:
    """Types 4, 10-13, 34, 38: the passcode as created and the one typed (secrets)."""

    original: str = field(repr=False)
    used: str = field(repr=False)

    def to_bytes(self) -> bytes:
        """Wire form."""
        return short_bytes(self.original.encode(), "original") + short_bytes(
            self.used.encode(), "used"
        )


@dataclass(frozen=True, slots=True)
class PasscodeChangeTail:
    """Types 5, 6, 9: a passcode and its new/removed/squeezed-out counterpart."""

    original: str = field(repr=False)
    other: str = field(repr=False)

    def to_bytes(self) -> bytes:
        """Wire form."""
        return short_bytes(self.original.encode(), "original") + short_bytes(
            self.other.encode(), "other"
        )


@dataclass(frozen=True, slots=True)
class WrongPasscodeTail:
    """Type 7: what was typed."""

    code: str = field(repr=False)

    def to_bytes(self) -> bytes:
        """Wire form."""
        return short_bytes(self.code.encode(), "code")


@dataclass(frozen=True, slots=True)
class PasscodesClearedTail:
    """Type 8: when (date5) and optionally the code used."""

    time: datetime | None
    code: str | None = field(default=None, repr=False)

    def to_bytes(self) -> bytes:
        """Wire form."""
        out = encode_date5(self.time) if self.time is not None else bytes(DATE5_LEN)
        return out if self.code is None else out + short_bytes(self.code.encode(), "code")


@dataclass(frozen=True, slots=True)
class CardTail:
    """Types 15-18, 25, 35, 39, 51, 74: the card number (4 or 8 bytes)."""

    number: int
    width: int = 4

    def to_bytes(self) -> bytes:
        """Wire form."""
        return self.number.to_bytes(self.width, "big")


@dataclass(frozen=True, slots=True)
class MacTail:
    """Type 19: wristband MAC (written normally, AA:BB:...)."""

    mac: str

    def to_bytes(self) -> bytes:
        """Wire form."""
        return _mac_bytes(self.mac)


@dataclass(frozen=True, slots=True)
class FingerprintTail:
    """Types 20-23, 33, 40: fingerprint id [+ a passcode, when the lock adds one]."""

    fp_id: int
    passcode: str | None = field(default=None, repr=False)

    def to_bytes(self) -> bytes:
        """Wire form."""
        out = self.fp_id.to_bytes(6, "big")
        return out if self.passcode is None else out + short_bytes(self.passcode.encode(), "pwd")


@dataclass(frozen=True, slots=True)
class KeyFobTail:
    """Type 55: wireless key fob MAC, key id and its battery."""

    mac: str
    key_id: int
    battery: int

    def to_bytes(self) -> bytes:
        """Wire form."""
        return _mac_bytes(self.mac) + u8(self.key_id, "key") + u8(self.battery, "battery")


@dataclass(frozen=True, slots=True)
class KeypadTail:
    """Type 56: wireless keypad MAC and its battery (sdk-js reads a key id too; AND not)."""

    mac: str
    battery: int

    def to_bytes(self) -> bytes:
        """Wire form."""
        return _mac_bytes(self.mac) + u8(self.battery, "battery")


@dataclass(frozen=True, slots=True)
class NoTail:
    """Types without a tail (14, 16, 24, 27, 29-32, 36, 42-48)."""

    def to_bytes(self) -> bytes:
        """Wire form."""
        return b""


@dataclass(frozen=True, slots=True)
class RawTail:
    """An unknown type's tail, or one that does not match its type's layout."""

    data: bytes = field(repr=False)

    def to_bytes(self) -> bytes:
        """Wire form."""
        return self.data


LogTail = (
    AppTail
    | RemoteKeyTail
    | PasscodeTail
    | PasscodeChangeTail
    | WrongPasscodeTail
    | PasscodesClearedTail
    | CardTail
    | MacTail
    | FingerprintTail
    | KeyFobTail
    | KeypadTail
    | NoTail
    | RawTail
)


def _app(reader: Reader) -> AppTail:
    return AppTail(reader.u32("uid"), reader.u32("record id"))


def _remote_key(reader: Reader) -> RemoteKeyTail:
    return RemoteKeyTail(reader.u32("uid"), reader.u32("record id"), reader.u8("key id"))


def _passcode(reader: Reader) -> PasscodeTail:
    return PasscodeTail(_ascii(reader, "original"), _ascii(reader, "used"))


def _passcode_change(reader: Reader) -> PasscodeChangeTail:
    return PasscodeChangeTail(_ascii(reader, "original"), _ascii(reader, "other"))


def _wrong_passcode(reader: Reader) -> WrongPasscodeTail:
    return WrongPasscodeTail(_ascii(reader, "code"))


def _cleared(reader: Reader) -> PasscodesClearedTail:
    when = read_date_lenient(reader, "time")
    return PasscodesClearedTail(when, _ascii(reader, "code") if reader.remaining else None)


def _card(reader: Reader) -> CardTail:
    raw = reader.rest()
    if len(raw) not in (4, 8):
        raise reader.fail(f"a card number of {len(raw)} bytes")
    return CardTail(int.from_bytes(raw, "big"), len(raw))


def _wristband(reader: Reader) -> MacTail:
    return MacTail(_mac_text(reader.take(MAC_LEN, "MAC")))


def _fingerprint(reader: Reader) -> FingerprintTail:
    fp_id = reader.uint(6, "fingerprint id")
    return FingerprintTail(fp_id, _ascii(reader, "passcode") if reader.remaining else None)


def _key_fob(reader: Reader) -> KeyFobTail:
    mac = _mac_text(reader.take(MAC_LEN, "MAC"))
    return KeyFobTail(mac, reader.u8("key id"), reader.u8("battery"))


def _keypad(reader: Reader) -> KeypadTail:
    return KeypadTail(_mac_text(reader.take(MAC_LEN, "MAC")), reader.u8("battery"))


def _none(reader: Reader) -> NoTail:
    return NoTail()


# spec §5.5.20: record types and their tail layouts.
_LAYOUTS: tuple[tuple[tuple[int, ...], Callable[[Reader], LogTail]], ...] = (
    ((1, 26, 28, 41), _app),
    ((37,), _remote_key),
    ((4, 10, 11, 12, 13, 34, 38), _passcode),
    ((5, 6, 9), _passcode_change),
    ((7,), _wrong_passcode),
    ((8,), _cleared),
    ((15, 17, 18, 25, 35, 39, 51, 74), _card),
    ((19,), _wristband),
    ((20, 21, 22, 23, 33, 40), _fingerprint),
    ((55,), _key_fob),
    ((56,), _keypad),
    ((14, 16, 24, 27, 29, 30, 31, 32, 36, *range(42, 49)), _none),
)
_TAILS = {kind: parser for kinds, parser in _LAYOUTS for kind in kinds}
KNOWN_TAIL_TYPES = frozenset(_TAILS)


def parse_tail(kind: int, raw: bytes) -> LogTail:
    """The tail of a type-`kind` record; RawTail for unknown types or a mismatched layout."""
    parser = _TAILS.get(kind)
    if parser is None:
        return RawTail(raw)
    try:
        tail = parser(Reader(raw, f"log record type {kind}"))
    except ProtocolError:
        return RawTail(raw)
    # Bytes where the layout has none are kept rather than dropped.
    return RawTail(raw) if isinstance(tail, NoTail) and raw else tail
