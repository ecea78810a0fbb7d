"""TTLock V3 codec (pure): protocol numbers, CRC-8, AES-128-CBC and the answer envelope."""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from ..errors import CommandRejectedError, ProtocolError


class Command(IntEnum):
    """Command codes (spec §5.2); aliases after the table give the spec's cleaner names."""

    SEARCHE_DEVICE_FEATURE = 0x01
    ENTER_DFU_MODE = 0x02
    MANAGE_KEYBOARD_PASSWORD = 0x03
    GET_VALID_KEYBOARD_PASSWORD = 0x04
    IC_MANAGE = 0x05
    FR_MANAGE = 0x06
    PWD_LIST = 0x07
    CONFIGURE_NB_ADDRESS = 0x12
    NB_ACTIVATE_CONFIGURATION = 0x13
    SEARCH_BICYCLE_STATUS = 0x14
    GET_AES_KEY = 0x19
    GET_OPERATE_LOG = 0x25
    CHECK_RANDOM = 0x30
    INIT_PASSWORDS = 0x31
    READ_PWD_PARA = 0x32
    RESET_KEYBOARD_PWD_COUNT = 0x33
    GET_LOCK_TIME = 0x34
    SET_WRIST_BAND_KEY = 0x35
    AUTO_LOCK_MANAGE = 0x36
    CONTROL_REMOTE_UNLOCK = 0x37
    CHECK_ADMIN = 0x41
    TIME_CALIBRATE = 0x43
    SET_DELETE_PWD = 0x44
    INITIALIZATION = 0x45
    UNLOCK = 0x47
    SYN_KEYBOARD_PWD = 0x49
    LOCK = 0x4C
    SET_LOCK_NAME = 0x4E
    RESET_LOCK = 0x52
    SET_ADMIN_KEYBOARD_PWD = 0x53
    RESPONSE = 0x54
    CHECK_USER_TIME = 0x55
    ADD_ADMIN = 0x56
    GET_ALARM_ERRCORD_OR_OPERATION_FINISHED = 0x57
    FUNCTION_LOCK = 0x58
    SHOW_PASSWORD = 0x59
    FREEZE_LOCK = 0x61
    AUDIO_MANAGE = 0x62
    REMOTE_CONTROL_DEVICE_MANAGE = 0x63
    CONFIGURE_HOTEL_DATA = 0x64
    GET_ADMIN_CODE = 0x65
    CONFIGURE_PASSAGE_MODE = 0x66
    LAMP = 0x67
    SWITCH = 0x68
    DEAD_LOCK = 0x69
    CYCLIC_CMD = 0x70
    KEY_FOB_MANAG = 0x73
    ACCESSORY_BATTERY = 0x74
    DOOR_SENSOR_MANAGE = 0x76
    SENSITIVITY_MANAGE = 0x80
    READ_DEVICE_INFO = 0x90
    SCAN_WIFI = 0xF2
    CONFIG_WIFI_AP = 0xF3
    CONFIG_STATIC_IP = 0xF4
    CONFIG_SERVER = 0xF5
    GET_WIFI_INFO = 0xF6
    AT_COMMAND = 0xFF
    SEARCH_DEVICE_FEATURE = 0x01
    OPERATE_FINISHED = 0x57
    KEY_FOB_MANAGE = 0x73


class ResponseStatus(IntEnum):
    """The status byte after the echoed command (spec §5.1)."""

    FAILURE = 0x00
    SUCCESS = 0x01


class ErrorCode(IntEnum):
    """Lock error codes in a failed answer (spec §5.1); 0x30/0x31 are host-side only."""

    CRC_ERROR = 0x01
    NO_PERMISSION = 0x02
    WRONG_ADMIN_PASSWORD = 0x03
    IN_SETTING_MODE = 0x05
    NO_ADMIN = 0x06
    NOT_IN_SETTING_MODE = 0x07
    INVALID_DYNAMIC_CODE = 0x08
    BATTERY_EXHAUSTED = 0x0A
    INIT_PASSWORDS_FAILED = 0x0B
    EKEY_RESET = 0x0D
    EKEY_EXPIRED = 0x0E
    INVALID_PASSCODE_LENGTH = 0x0F
    ADMIN_PASSCODE_IS_DELETE_PASSCODE = 0x10
    EKEY_NOT_YET_VALID = 0x11
    NOT_LOGGED_IN = 0x12
    FAILED = 0x13
    PASSCODE_EXISTS = 0x14
    PASSCODE_NOT_FOUND = 0x15
    OUT_OF_MEMORY = 0x16
    PARAMETER_LENGTH_ERROR = 0x17
    CARD_NOT_FOUND = 0x18
    FINGERPRINT_NOT_FOUND = 0x1A
    INVALID_COMMAND = 0x1B
    LOCK_FROZEN = 0x1C
    INVALID_VENDOR = 0x1D
    DOUBLE_LOCKED = 0x1E
    RECORD_NOT_FOUND = 0x1F
    INVALID_PARAMETER = 0x20
    PARKING_OBSTRUCTED = 0x21
    PROCESSING = 0x24
    BAD_WIFI_NAME = 0x25
    BAD_WIFI_PASSWORD = 0x26
    AES_PARSE_ERROR = 0x30
    KEY_INVALID = 0x31


ERROR_TEXTS: dict[int, str] = {
    0x01: "the lock got a frame with a bad CRC",
    0x02: "not administrator, no permission",
    0x03: "wrong administrator password",
    0x05: "the lock is in setting mode",
    0x06: "the lock has no administrator",
    0x07: "the lock is not in setting mode",
    0x08: "invalid dynamic code",
    0x0A: "battery exhausted",
    0x0B: "initialising the keyboard passcodes failed",
    0x0D: "the key is invalid (it was reset)",
    0x0E: "the key has expired",
    0x0F: "invalid passcode length",
    0x10: "the admin passcode equals the delete passcode",
    0x11: "the key is not yet valid",
    0x12: "not logged in",
    0x13: "failed, undefined error",
    0x14: "the passcode already exists",
    0x15: "the passcode does not exist",
    0x16: "out of memory, too many credentials",
    0x17: "parameter length error",
    0x18: "the card does not exist",
    0x1A: "the fingerprint does not exist",
    0x1B: "invalid command",
    0x1C: "the lock is frozen",
    0x1D: "invalid vendor string",
    0x1E: "the lock is double-locked",
    0x1F: "the record does not exist",
    0x20: "invalid parameter",
    0x21: "the parking lock is obstructed",
    0x24: "command received, processing",
    0x25: "bad Wi-Fi name",
    0x26: "bad Wi-Fi password",
    0x30: "the answer could not be decrypted",
    0x31: "the key is invalid, the lock may have been reset",
}


class LockType(IntEnum):
    """The SDK's lock types (spec §2.3); this add-on speaks V3 (and V3_CAR) only."""

    V1 = 1
    V2 = 2
    V2S = 3
    V2S_PLUS = 4
    V3 = 5
    CAR = 6
    MOBI = 7
    V3_CAR = 8


V3_PROTOCOL_TYPE = 5
DEFAULT_KEY = bytes.fromhex("987623e8a923a1bb3d9e7d0378124588")  # spec §3.2
VENDOR = b"SCIENER"  # spec §3.3
KEY_LEN = 16


def error_text(code: int) -> str:
    """A person-readable text for a lock error code."""
    return ERROR_TEXTS.get(code, f"unknown error 0x{code:02x}")


def _maxim_table() -> tuple[int, ...]:
    table = []
    for value in range(256):
        crc = value
        for _ in range(8):
            crc = (crc >> 1) ^ 0x8C if crc & 1 else crc >> 1
        table.append(crc)
    # spec §2.4: the lock's native table differs from Dallas/Maxim in entry 33 (0x07, not
    # 0x7D). The old add-on (ttlock-sdk-js) used the textbook table, which is the whole cause
    # of its "bad CRC" failures (spec §6.1).
    table[33] = 0x07
    return tuple(table)


CRC_TABLE = _maxim_table()


def crc8(data: bytes) -> int:
    """TTLock CRC-8 over data (spec §2.4)."""
    crc = 0
    for byte in data:
        crc = CRC_TABLE[crc ^ byte]
    return crc


def _cipher(key: bytes) -> Cipher[modes.CBC]:
    if len(key) != KEY_LEN:
        raise ValueError(f"an AES key has 16 bytes, not {len(key)}")
    return Cipher(algorithms.AES(key), modes.CBC(key))  # spec §3.1: IV = key


class DecryptError(ProtocolError):
    """The data does not decrypt with the key: wrong key (lock reset, or not in setting mode)."""


def encrypt(plaintext: bytes, key: bytes, *, pad_empty: bool = False) -> bytes:
    """AES-128-CBC, IV = key, PKCS#7; empty stays empty unless pad_empty (spec §2.1, §5.5.12)."""
    if not plaintext and not pad_empty:
        return b""
    padder = padding.PKCS7(128).padder()
    padded = padder.update(plaintext) + padder.finalize()
    encryptor = _cipher(key).encryptor()
    return encryptor.update(padded) + encryptor.finalize()


def decrypt(ciphertext: bytes, key: bytes) -> bytes:
    """Inverse of encrypt; DecryptError for broken blocks or padding, i.e. a wrong key."""
    if not ciphertext:
        return b""
    if len(ciphertext) % 16:
        raise DecryptError(f"The lock's message is not whole AES blocks ({len(ciphertext)} bytes).")
    decryptor = _cipher(key).decryptor()
    padded = decryptor.update(ciphertext) + decryptor.finalize()
    unpadder = padding.PKCS7(128).unpadder()
    try:
        return unpadder.update(padded) + unpadder.finalize()
    except ValueError:
        # spec §3.1: bad padding means the wrong key
        raise DecryptError(
            "The lock's message does not decrypt with the expected key "
            "(the lock was reset, paired elsewhere, or is not in setting mode)."
        ) from None


def key_for(outer_command: int, session_key: bytes | None) -> bytes:
    """The key of a frame: default for outer 0x19 or before pairing, else the session key."""
    if outer_command == Command.GET_AES_KEY or session_key is None:
        return DEFAULT_KEY  # spec §3.2
    return session_key


def lock_type_of(protocol_type: int, sub_version: int, scene: int) -> LockType | None:
    """Lock type from protocol type, sub-version and scene (spec §2.3)."""
    if protocol_type == V3_PROTOCOL_TYPE:
        if sub_version == 3:
            return LockType.V3_CAR if scene == 7 else LockType.V3
        return {4: LockType.V2S_PLUS, 1: LockType.V2S}.get(sub_version)
    if protocol_type == 3:
        return LockType.V2
    if sub_version == 1:
        return {0x0A: LockType.CAR, 0x0B: LockType.MOBI}.get(protocol_type)
    return None


@dataclass(frozen=True, slots=True)
class Response:
    """A decrypted answer: [echoed command][status][data] (spec §5.1)."""

    command: int
    status: int
    data: bytes = b""

    @property
    def ok(self) -> bool:
        """Whether the status byte says success (anything but 01 is a failure)."""
        return self.status == ResponseStatus.SUCCESS

    @property
    def error_code(self) -> int | None:
        """The lock's error code (data[0] of a failure); None on success or when absent."""
        return None if self.ok or not self.data else self.data[0]

    @property
    def error_text(self) -> str:
        """A person-readable reason for a failure."""
        code = self.error_code
        return "the lock gave no reason" if code is None else error_text(code)

    def raise_for_status(self) -> Response:
        """Self on success; CommandRejectedError(code, text) on failure (no code: 0x13)."""
        if self.ok:
            return self
        code = self.error_code
        raise CommandRejectedError(ErrorCode.FAILED if code is None else code, self.error_text)

    def to_bytes(self) -> bytes:
        """The plaintext the lock encrypts."""
        return bytes([self.command, self.status]) + self.data

    @classmethod
    def success(cls, command: int, data: bytes = b"") -> Response:
        """A success answer to command."""
        return cls(command, ResponseStatus.SUCCESS, data)

    @classmethod
    def failure(cls, command: int, code: int) -> Response:
        """A failure answer to command with a lock error code."""
        return cls(command, ResponseStatus.FAILURE, bytes([code]))


def parse_response(plaintext: bytes) -> Response:
    """Split a decrypted answer into echo, status and data (spec §5.1)."""
    if len(plaintext) < 2:
        raise ProtocolError(
            f"The lock's answer is too short ({len(plaintext)} bytes): "
            "no echoed command and status."
        )
    return Response(plaintext[0], plaintext[1], bytes(plaintext[2:]))


def outer_command(echo: int) -> int:
    """Outer command of the answer to echo: 0x19 for GET_AES_KEY, else 0x54 (spec §2.1)."""
    return Command.GET_AES_KEY if echo == Command.GET_AES_KEY else Command.RESPONSE
