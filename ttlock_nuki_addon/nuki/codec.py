"""Nuki message codec (pure): protocol numbers, CRC-16, plain and secretbox messages, reassembly."""

from __future__ import annotations

import os
import struct
from collections.abc import Mapping
from dataclasses import dataclass
from enum import IntEnum

from nacl.exceptions import CryptoError
from nacl.secret import SecretBox

from ..errors import ProtocolError


class Command(IntEnum):
    """Command identifiers (spec §4.2)."""

    REQUEST_DATA = 0x0001
    PUBLIC_KEY = 0x0003
    CHALLENGE = 0x0004
    AUTHORIZATION_AUTHENTICATOR = 0x0005
    AUTHORIZATION_DATA = 0x0006
    AUTHORIZATION_ID = 0x0007
    REMOVE_AUTHORIZATION_ENTRY = 0x0008
    REQUEST_AUTHORIZATION_ENTRIES = 0x0009
    AUTHORIZATION_ENTRY = 0x000A
    AUTHORIZATION_DATA_INVITE = 0x000B
    KEYTURNER_STATES = 0x000C
    LOCK_ACTION = 0x000D
    STATUS = 0x000E
    MOST_RECENT_COMMAND = 0x000F
    OPENINGS_CLOSINGS_SUMMARY = 0x0010
    BATTERY_REPORT = 0x0011
    ERROR_REPORT = 0x0012
    SET_CONFIG = 0x0013
    REQUEST_CONFIG = 0x0014
    CONFIG = 0x0015
    SET_SECURITY_PIN = 0x0019
    REQUEST_CALIBRATION = 0x001A
    REQUEST_REBOOT = 0x001D
    AUTHORIZATION_ID_CONFIRMATION = 0x001E
    AUTHORIZATION_ID_INVITE = 0x001F
    VERIFY_SECURITY_PIN = 0x0020
    UPDATE_TIME = 0x0021
    UPDATE_AUTHORIZATION_ENTRY = 0x0025
    AUTHORIZATION_ENTRY_COUNT = 0x0027
    START_BUS_SIGNAL_RECORDING = 0x002F
    REQUEST_LOG_ENTRIES = 0x0031
    LOG_ENTRY = 0x0032
    LOG_ENTRY_COUNT = 0x0033
    ENABLE_LOGGING = 0x0034
    SET_ADVANCED_CONFIG = 0x0035
    REQUEST_ADVANCED_CONFIG = 0x0036
    ADVANCED_CONFIG = 0x0037
    ADD_TIME_CONTROL_ENTRY = 0x0039
    TIME_CONTROL_ENTRY_ID = 0x003A
    REMOVE_TIME_CONTROL_ENTRY = 0x003B
    REQUEST_TIME_CONTROL_ENTRIES = 0x003C
    TIME_CONTROL_ENTRY_COUNT = 0x003D
    TIME_CONTROL_ENTRY = 0x003E
    UPDATE_TIME_CONTROL_ENTRY = 0x003F
    ADD_KEYPAD_CODE = 0x0041
    KEYPAD_CODE_ID = 0x0042
    REQUEST_KEYPAD_CODES = 0x0043
    KEYPAD_CODE_COUNT = 0x0044
    KEYPAD_CODE = 0x0045
    UPDATE_KEYPAD_CODE = 0x0046
    REMOVE_KEYPAD_CODE = 0x0047
    KEYPAD_ACTION = 0x0048
    RESTORE_CONFIG = 0x004B
    AUTHORIZATION_INFO = 0x004C
    CONTINUOUS_MODE_ACTION = 0x0057
    REQUEST_DOOR_SENSOR_CONFIG = 0x0058
    DOOR_SENSOR_CONFIG = 0x0059
    SIMPLE_LOCK_ACTION = 0x0100


class ErrorCode(IntEnum):
    """Error Report codes (spec §4.11); the lock may send codes not listed here."""

    P_ERROR_NOT_PAIRING = 0x10
    P_ERROR_BAD_AUTHENTICATOR = 0x11
    P_ERROR_BAD_PARAMETER = 0x12
    P_ERROR_MAX_USER = 0x13
    K_ERROR_NOT_AUTHORIZED = 0x20
    K_ERROR_BAD_PIN = 0x21
    K_ERROR_BAD_NONCE = 0x22
    K_ERROR_BAD_PARAMETER = 0x23
    K_ERROR_INVALID_AUTH_ID = 0x24
    K_ERROR_DISABLED = 0x25
    K_ERROR_REMOTE_NOT_ALLOWED = 0x26
    K_ERROR_TIME_NOT_ALLOWED = 0x27
    K_ERROR_TOO_MANY_PIN_ATTEMPTS = 0x28
    K_ERROR_TOO_MANY_ENTRIES = 0x29
    K_ERROR_CODE_ALREADY_EXISTS = 0x2A
    K_ERROR_CODE_INVALID = 0x2B
    K_ERROR_CODE_INVALID_TIMEOUT_1 = 0x2C
    K_ERROR_CODE_INVALID_TIMEOUT_2 = 0x2D
    K_ERROR_CODE_INVALID_TIMEOUT_3 = 0x2E
    K_ERROR_AUTO_UNLOCK_TOO_RECENT = 0x40
    K_ERROR_POSITION_UNKNOWN = 0x41
    K_ERROR_MOTOR_BLOCKED = 0x42
    K_ERROR_CLUTCH_FAILURE = 0x43
    K_ERROR_MOTOR_TIMEOUT = 0x44
    K_ERROR_BUSY = 0x45
    K_ERROR_CANCELED = 0x46
    K_ERROR_NOT_CALIBRATED = 0x47
    K_ERROR_MOTOR_POSITION_LIMIT = 0x48
    K_ERROR_MOTOR_LOW_VOLTAGE = 0x49
    K_ERROR_MOTOR_POWER_FAILURE = 0x4A
    K_ERROR_CLUTCH_POWER_FAILURE = 0x4B
    K_ERROR_VOLTAGE_TOO_LOW = 0x4C
    K_ERROR_FIRMWARE_UPDATE_NEEDED = 0x4D
    K_ERROR_REJECTED = 0x4E
    K_ERROR_REJECTED_NIGHTMODE = 0x4F
    K_ERROR_NOT_IN_MAINTENANCE_MODE = 0xE0
    K_ERROR_ALREADY_CONFIGURED = 0xE1
    K_ERROR_TIMEOUT = 0xE2
    K_ERROR_NO_NUKI_ID = 0xE3
    ERROR_BAD_CRC = 0xFD
    ERROR_BAD_LENGTH = 0xFE
    ERROR_UNKNOWN = 0xFF


class StatusCode(IntEnum):
    """Status message values (spec §4.10, §1.4)."""

    COMPLETE = 0x00
    ACCEPTED = 0x01
    STATE_CHANGED = 0xF1  # unencrypted on the keyturner GDIO, bridge authorizations only


NONCE_LEN = 24  # spec §2.3: secretbox nonce in ADATA
ADATA_LEN = 30  # nonce 24 + auth id u32 + length u16
MAC_LEN = SecretBox.MACBYTES  # 16: Poly1305 tag before the ciphertext
KEY_LEN = SecretBox.KEY_SIZE  # 32
MAX_MESSAGE_LEN = 512  # longest attribute value; nothing a Nuki sends comes near it
# spec §3.4: auth id of the encrypted 5G Authorization Data. Named "0x7FFFFFFF", but S3 and S4
# (and the pynukibt_pairing_ultra vector) send the bytes 7F FF FF FF, i.e. LE u32 0xFFFFFF7F.
AUTH_ID_5G_PAIRING = int.from_bytes(b"\x7f\xff\xff\xff", "little")


def command_name(command: int) -> str:
    """The spec name of a command id, or its hex form when unknown."""
    try:
        return Command(command).name
    except ValueError:
        return f"0x{command:04X}"


def error_name(code: int) -> str:
    """The spec name of an error code, or its hex form when unknown."""
    try:
        return ErrorCode(code).name
    except ValueError:
        return f"0x{code:02X}"


class CodecError(ProtocolError):
    """A Nuki message could not be decoded; `reason` is a stable short word."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


def crc16(data: bytes) -> int:
    """CRC-16/CCITT-FALSE: poly 0x1021, init 0xFFFF, no reflection, no xorout (spec §2.1)."""
    crc = 0xFFFF
    for byte in data:
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) & 0xFFFF if crc & 0x8000 else (crc << 1) & 0xFFFF
    return crc


def _with_crc(body: bytes) -> bytes:
    return body + struct.pack("<H", crc16(body))  # spec §2.1: appended little-endian


@dataclass(frozen=True, slots=True)
class Message:
    """One decoded, verified message: command id and payload."""

    command: int
    payload: bytes

    @property
    def name(self) -> str:
        """The command's spec name."""
        return command_name(self.command)


@dataclass(frozen=True, slots=True)
class PlainMessage:
    """An unencrypted message as received: crc is the value on the wire (spec §2.2)."""

    command: int
    payload: bytes
    crc: int
    crc_ok: bool

    def verified(self) -> Message:
        """The message, or CodecError when the CRC is wrong."""
        if not self.crc_ok:
            raise CodecError("crc", "A message from the lock failed its CRC check.")
        return Message(self.command, self.payload)


def encode_plain(command: int, payload: bytes = b"") -> bytes:
    """An unencrypted message: command u16 || payload || CRC (spec §2.2)."""
    return _with_crc(struct.pack("<H", command) + payload)


def parse_plain(data: bytes) -> PlainMessage:
    """Split an unencrypted message; CodecError when it is shorter than command + CRC."""
    if len(data) < 4:
        raise CodecError("length", f"A {len(data)}-byte message is too short to be a Nuki one.")
    body = data[:-2]
    (crc,) = struct.unpack_from("<H", data, len(data) - 2)
    (command,) = struct.unpack_from("<H", body)
    return PlainMessage(command, bytes(body[2:]), crc, crc == crc16(body))


@dataclass(frozen=True, slots=True)
class EncryptedHeader:
    """ADATA of an encrypted message (spec §2.3): length counts MAC + PDATA."""

    nonce: bytes
    auth_id: int
    length: int


def parse_header(data: bytes) -> EncryptedHeader:
    """Read ADATA and check the length field against the message (CodecError otherwise)."""
    if len(data) < ADATA_LEN:
        raise CodecError("length", f"A {len(data)}-byte message is too short to be encrypted.")
    auth_id, length = struct.unpack_from("<IH", data, NONCE_LEN)
    if len(data) != ADATA_LEN + length:
        raise CodecError(
            "length",
            f"An encrypted message says it has {length} bytes after its header "
            f"but has {len(data) - ADATA_LEN}.",
        )
    if length < MAC_LEN + 8:
        raise CodecError("length", "An encrypted message is too short to hold a command.")
    return EncryptedHeader(bytes(data[:NONCE_LEN]), auth_id, length)


def encrypt(
    key: bytes, auth_id: int, command: int, payload: bytes = b"", nonce: bytes | None = None
) -> bytes:
    """ADATA || secretbox(auth id || command || payload || CRC) with a fresh nonce (spec §2.3)."""
    nonce = os.urandom(NONCE_LEN) if nonce is None else nonce
    if len(nonce) != NONCE_LEN or len(key) != KEY_LEN:
        raise ValueError("a Nuki message needs a 24-byte nonce and a 32-byte key")
    pdata = _with_crc(struct.pack("<IH", auth_id, command) + payload)
    sealed = SecretBox(key).encrypt(pdata, nonce).ciphertext
    return nonce + struct.pack("<IH", auth_id, len(sealed)) + sealed


@dataclass(frozen=True, slots=True)
class Decrypted:
    """The opened PDATA of an encrypted message, before its CRC and auth id are judged."""

    header: EncryptedHeader
    auth_id: int
    command: int
    payload: bytes
    crc: int
    crc_ok: bool


def open_message(key: bytes, data: bytes) -> Decrypted:
    """Check length and MAC and split PDATA; CodecError when either is wrong."""
    header = parse_header(data)
    try:
        pdata = SecretBox(key).decrypt(bytes(data[ADATA_LEN:]), header.nonce)
    except CryptoError:
        raise CodecError(
            "mac", "A message from the lock could not be decrypted with the stored key."
        ) from None
    body = pdata[:-2]
    (crc,) = struct.unpack_from("<H", pdata, len(pdata) - 2)
    auth_id, command = struct.unpack_from("<IH", body)
    return Decrypted(header, auth_id, command, bytes(body[6:]), crc, crc == crc16(body))


def decrypt(key: bytes, data: bytes, expected_auth_id: int | None = None) -> Message:
    """Fully verify an encrypted message: length, MAC, CRC and auth id (spec §2.3)."""
    opened = open_message(key, data)
    if not opened.crc_ok:
        raise CodecError("crc", "A decrypted message from the lock failed its CRC check.")
    if opened.auth_id != opened.header.auth_id or (
        expected_auth_id is not None and opened.auth_id != expected_auth_id
    ):
        raise CodecError("auth_id", "A message from the lock names another authorization.")
    return Message(opened.command, opened.payload)


# spec §1.3: fixed lengths of the unencrypted messages, used to cut 20-byte indications.
LOCK_PLAIN_LENGTHS: Mapping[int, int] = {
    Command.PUBLIC_KEY: 36,
    Command.CHALLENGE: 36,
    Command.AUTHORIZATION_ID: 88,
    Command.STATUS: 5,
    Command.ERROR_REPORT: 7,
    Command.AUTHORIZATION_INFO: 5,
}
CLIENT_PLAIN_LENGTHS: Mapping[int, int] = {
    Command.REQUEST_DATA: 6,
    Command.PUBLIC_KEY: 36,
    Command.AUTHORIZATION_AUTHENTICATOR: 36,
    Command.AUTHORIZATION_DATA: 105,
    Command.AUTHORIZATION_ID_CONFIRMATION: 40,
}


class EncryptedFramer:
    """Reassembles encrypted messages from indications by their length field (spec §1.3)."""

    def __init__(self) -> None:
        self._buf = b""

    def feed(self, chunk: bytes) -> list[bytes]:
        """Add one indication; return the whole messages it completed."""
        self._buf += chunk
        out: list[bytes] = []
        while len(self._buf) >= ADATA_LEN:
            (length,) = struct.unpack_from("<H", self._buf, ADATA_LEN - 2)
            total = ADATA_LEN + length
            if total > MAX_MESSAGE_LEN:
                self._buf = b""
                raise CodecError("length", f"The lock announced a {total}-byte message.")
            if len(self._buf) < total:
                break
            out.append(self._buf[:total])
            self._buf = self._buf[total:]
        return out

    def reset(self) -> None:
        """Drop a partial message."""
        self._buf = b""


class PlainFramer:
    """Reassembles unencrypted messages by known length and CRC (spec §1.3).

    With `allow_encrypted` (the 5th-gen pairing GDIO, spec §3.4) a buffer that is not a
    plain message is taken as an encrypted one when its length field adds up.
    """

    def __init__(
        self, lengths: Mapping[int, int] = LOCK_PLAIN_LENGTHS, *, allow_encrypted: bool = False
    ) -> None:
        self._lengths = lengths
        self._allow_encrypted = allow_encrypted
        self._buf = b""

    def feed(self, chunk: bytes) -> list[bytes]:
        """Add one indication; return the whole messages it completed."""
        self._buf += chunk
        out: list[bytes] = []
        while self._buf:
            message = self._take()
            if message is None:
                break
            out.append(message)
        if len(self._buf) > MAX_MESSAGE_LEN:
            self._buf = b""
            raise CodecError("length", "The lock sent a message that never completed.")
        return out

    def _take(self) -> bytes | None:
        buf = self._buf
        if len(buf) < 4:
            return None
        (command,) = struct.unpack_from("<H", buf)
        need = self._lengths.get(command)
        if need is not None and len(buf) >= need and parse_plain(buf[:need]).crc_ok:
            self._buf = buf[need:]
            return buf[:need]
        if need is None and parse_plain(buf).crc_ok:
            self._buf = b""
            return buf
        if self._allow_encrypted and len(buf) >= ADATA_LEN:
            (length,) = struct.unpack_from("<H", buf, ADATA_LEN - 2)
            if len(buf) >= ADATA_LEN + length >= ADATA_LEN + MAC_LEN + 8:
                total = ADATA_LEN + length
                self._buf = buf[total:]
                return buf[:total]
        if need is not None and len(buf) >= need and not self._allow_encrypted:
            self._buf = b""
            raise CodecError("crc", "A message from the lock failed its CRC check.")
        return None

    def reset(self) -> None:
        """Drop a partial message."""
        self._buf = b""
