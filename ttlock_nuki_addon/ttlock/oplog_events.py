"""What a TTLock log record means in brand-neutral terms: event kind, source, credential."""

from __future__ import annotations

from dataclasses import dataclass

from ..credentials import CredentialKind
from ..model import EventKind, EventSource
from .oplog import LogRecord, LogType
from .oplog_tails import (
    CardTail,
    FingerprintTail,
    KeyFobTail,
    PasscodeChangeTail,
    PasscodeTail,
    RemoteKeyTail,
    WrongPasscodeTail,
)

# sdk-js LogOperateCategory (spec §4.5): which types unlock and which lock the bolt.
UNLOCK_TYPES = frozenset({1, 4, 17, 19, 20, 27, 28, 29, 31})
LOCK_TYPES = frozenset({26, 30, 33, 34, 35, 36})

_K, _S = EventKind, EventSource
_L = LogType
_MEANING: dict[int, tuple[EventKind, EventSource]] = {
    _L.APP_UNLOCK: (_K.UNLOCKED, _S.APP),
    _L.PASSCODE_UNLOCK: (_K.UNLOCKED, _S.KEYPAD),
    _L.PASSCODE_MODIFIED_ON_KEYPAD: (_K.CREDENTIAL_CHANGED, _S.KEYPAD),
    _L.PASSCODE_DELETED_ON_KEYPAD: (_K.CREDENTIAL_REMOVED, _S.KEYPAD),
    _L.WRONG_PASSCODE: (_K.FAILED_ATTEMPT, _S.KEYPAD),
    _L.ALL_PASSCODES_DELETED_ON_KEYPAD: (_K.CREDENTIAL_REMOVED, _S.KEYPAD),
    _L.PASSCODE_SQUEEZED_OUT: (_K.CREDENTIAL_REMOVED, _S.KEYPAD),
    _L.DELETE_CODE_USED: (_K.CREDENTIAL_REMOVED, _S.KEYPAD),
    _L.PASSCODE_EXPIRED: (_K.FAILED_ATTEMPT, _S.KEYPAD),
    _L.PASSCODE_MEMORY_FULL: (_K.FAILED_ATTEMPT, _S.KEYPAD),
    _L.PASSCODE_BLACKLISTED: (_K.FAILED_ATTEMPT, _S.KEYPAD),
    _L.REBOOT: (_K.OTHER, _S.UNKNOWN),
    _L.CARD_ADDED: (_K.CREDENTIAL_ADDED, _S.CARD),
    _L.CARDS_CLEARED: (_K.CREDENTIAL_REMOVED, _S.CARD),
    _L.CARD_UNLOCK: (_K.UNLOCKED, _S.CARD),
    _L.CARD_DELETED: (_K.CREDENTIAL_REMOVED, _S.CARD),
    _L.WRISTBAND_UNLOCK: (_K.UNLOCKED, _S.FOB),
    _L.FINGERPRINT_UNLOCK: (_K.UNLOCKED, _S.FINGERPRINT),
    _L.FINGERPRINT_ADDED: (_K.CREDENTIAL_ADDED, _S.FINGERPRINT),
    _L.FINGERPRINT_FAILED: (_K.FAILED_ATTEMPT, _S.FINGERPRINT),
    _L.FINGERPRINT_DELETED: (_K.CREDENTIAL_REMOVED, _S.FINGERPRINT),
    _L.FINGERPRINTS_CLEARED: (_K.CREDENTIAL_REMOVED, _S.FINGERPRINT),
    _L.CARD_FAILED: (_K.FAILED_ATTEMPT, _S.CARD),
    _L.APP_LOCK: (_K.LOCKED, _S.APP),
    _L.MECHANICAL_KEY_UNLOCK: (_K.UNLOCKED, _S.KEY),
    _L.GATEWAY_UNLOCK: (_K.UNLOCKED, _S.REMOTE),
    # sdk-js counts 29 as an unlock; it is an alarm ("illegal unlock"), so report tamper.
    _L.ILLEGAL_UNLOCK: (_K.TAMPER, _S.UNKNOWN),
    _L.DOOR_SENSOR_CLOSED: (_K.DOOR_CLOSED, _S.UNKNOWN),
    _L.DOOR_SENSOR_OPEN: (_K.DOOR_OPENED, _S.UNKNOWN),
    _L.EXIT_BUTTON: (_K.UNLOCKED, _S.BUTTON),
    _L.FINGERPRINT_LOCK: (_K.LOCKED, _S.FINGERPRINT),
    _L.PASSCODE_LOCK: (_K.LOCKED, _S.KEYPAD),
    _L.CARD_LOCK: (_K.LOCKED, _S.CARD),
    _L.MECHANICAL_KEY_LOCK: (_K.LOCKED, _S.KEY),
    _L.PASSCODE_FAILED_DOUBLE_LOCKED: (_K.FAILED_ATTEMPT, _S.KEYPAD),
    _L.CARD_FAILED_DOUBLE_LOCKED: (_K.FAILED_ATTEMPT, _S.CARD),
    _L.FINGERPRINT_FAILED_DOUBLE_LOCKED: (_K.FAILED_ATTEMPT, _S.FINGERPRINT),
    _L.APP_UNLOCK_FAILED_DOUBLE_LOCKED: (_K.FAILED_ATTEMPT, _S.APP),
    _L.CARD_BLACKLISTED: (_K.FAILED_ATTEMPT, _S.CARD),
    _L.WIRELESS_KEYPAD: (_K.OTHER, _S.KEYPAD),
    _L.CPU_CARD_FAILED: (_K.FAILED_ATTEMPT, _S.CARD),
}
_KEY_ACTION = {1: _K.UNLOCKED, 2: _K.LOCKED}  # spec §5.5.20 type 37: keyId 1 unlock, 2 lock


def classify(record: LogRecord) -> tuple[EventKind, EventSource]:
    """The event kind and source of a record (OTHER/UNKNOWN for types nobody has named)."""
    tail = record.tail
    if isinstance(tail, RemoteKeyTail | KeyFobTail):
        return _KEY_ACTION.get(tail.key_id, _K.OTHER), _S.FOB
    return _MEANING.get(record.type, (_K.OTHER, _S.UNKNOWN))


@dataclass(frozen=True, slots=True)
class CredentialRef:
    """Which credential a record names, by its lock-side identity (a PIN's code is secret)."""

    kind: CredentialKind
    key: str
    alternate: str | None = None  # PINs: the code typed, when it differs from the original

    def __repr__(self) -> str:
        shown = "***" if self.kind is CredentialKind.PIN else self.key
        return f"CredentialRef({self.kind.value}, {shown})"


def credential_ref(record: LogRecord) -> CredentialRef | None:
    """The credential a record names: PIN code (try `alternate` too), card or fingerprint id."""
    tail = record.tail
    if isinstance(tail, PasscodeTail):
        other = tail.used if tail.used != tail.original else None
        return CredentialRef(CredentialKind.PIN, tail.original, other)
    if isinstance(tail, PasscodeChangeTail):
        return CredentialRef(CredentialKind.PIN, tail.original, tail.other)
    if isinstance(tail, WrongPasscodeTail):
        return None  # a wrong code names no credential
    if isinstance(tail, CardTail):
        return CredentialRef(CredentialKind.CARD, str(tail.number))
    if isinstance(tail, FingerprintTail):
        return CredentialRef(CredentialKind.FINGERPRINT, str(tail.fp_id))
    return None
