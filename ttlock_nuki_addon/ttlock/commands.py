"""TTLock pairing-set payloads: 0x19, 0x56, 0x43, 0x34, 0x90, 0x65, 0x53, 0x31, 0x57, 0x52."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import IntEnum

from ._buf import FieldError, Reader, digits_text, short_bytes, u8, u32
from .codec import KEY_LEN, VENDOR
from .dates import encode_date6, read_date
from .passcode_cmds import check_code

# Builders return the plaintext `data` of a request or, lock side, of an answer after its echo
# and status bytes (codec.Response.data); parsers take those bytes and raise only ProtocolError.

RandBelow = Callable[[int], int]
ADMIN_SECRET_LIMIT = 10**9  # spec §5.4: '0' + 9 random digits, sent as u32
ADMIN_PASSCODE_DIGITS = 7  # spec §5.4 step 11: the SDK generates 7 digits
SEED_COUNT = 10  # spec §5.5.12
MAX_SEED_CODE = 1070


@dataclass(frozen=True, slots=True)
class OpAck:
    """The common 'battery op' answer of management commands (spec §5.5.8 ff.)."""

    battery: int
    op: int


def parse_op_ack(data: bytes, what: str) -> OpAck:
    """Parse `battery op` (extra bytes are ignored)."""
    reader = Reader(data, what)
    return OpAck(reader.u8("battery"), reader.u8("operation"))


def build_op_ack(battery: int, op: int) -> bytes:
    """Lock side: `battery op`."""
    return u8(battery, "battery") + u8(op, "operation")


def parse_battery(data: bytes) -> int | None:
    """The leading battery byte of an answer, None when the answer has no data."""
    return data[0] if data else None


def build_battery(battery: int) -> bytes:
    """Lock side: an answer carrying only the battery percent."""
    return u8(battery, "battery")


# --- 0x19 GET_AES_KEY, 0x14 status request and 0x56 answer: the vendor string -----------


def build_vendor() -> bytes:
    """ASCII 'SCIENER': request of 0x19 and 0x14, answer of 0x56 (spec §3.3, §5.5.6)."""
    return VENDOR


def build_get_aes_key_request() -> bytes:
    """GET_AES_KEY payload, sent with the default key (spec §3.3)."""
    return VENDOR


def build_status_request() -> bytes:
    """SEARCH_BICYCLE_STATUS (0x14) payload; no authentication (spec §5.5.6)."""
    return VENDOR


def vendor_ok(data: bytes) -> bool:
    """Whether `data` is the vendor string (the lock answers a bad one with error 0x1D)."""
    return bytes(data) == VENDOR


@dataclass(frozen=True, slots=True)
class AesKeyResponse:
    """Answer to GET_AES_KEY: the lock's 16-byte session key (spec §3.3)."""

    key: bytes = field(repr=False)


def parse_aes_key_response(data: bytes) -> AesKeyResponse:
    """Parse `key[16]` (decrypted with the default key)."""
    reader = Reader(data, "AES key answer (0x19)")
    return AesKeyResponse(reader.take(KEY_LEN, "key"))


def build_aes_key_response(key: bytes) -> bytes:
    """Lock side: the session key."""
    if len(key) != KEY_LEN:
        raise FieldError(f"An AES key has {KEY_LEN} bytes, not {len(key)}.")
    return bytes(key)


# --- 0x56 ADD_ADMIN ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AdminKeys:
    """adminPs and unlockKey chosen at pairing (spec §5.4, §6.7)."""

    admin_ps: int = field(repr=False)
    unlock_key: int = field(repr=False)


def new_admin_keys(randbelow: RandBelow = secrets.randbelow) -> AdminKeys:
    """Fresh keys as the official SDK makes them: 9 random decimal digits each (spec §5.4)."""
    return AdminKeys(randbelow(ADMIN_SECRET_LIMIT), randbelow(ADMIN_SECRET_LIMIT))


@dataclass(frozen=True, slots=True)
class AddAdminRequest:
    """ADD_ADMIN as the lock receives it; vendor_ok is false for a wrong vendor string."""

    keys: AdminKeys
    vendor_ok: bool


def build_add_admin_request(keys: AdminKeys) -> bytes:
    """adminPs u32 | unlockKey u32 | 'SCIENER' (spec §5.4 step 2)."""
    return u32(keys.admin_ps, "adminPs") + u32(keys.unlock_key, "unlockKey") + VENDOR


def parse_add_admin_request(data: bytes) -> AddAdminRequest:
    """Lock side: parse ADD_ADMIN."""
    reader = Reader(data, "ADD_ADMIN request (0x56)")
    keys = AdminKeys(reader.u32("adminPs"), reader.u32("unlockKey"))
    return AddAdminRequest(keys, reader.rest() == VENDOR)


def add_admin_answer_ok(data: bytes) -> bool:
    """Whether the ADD_ADMIN answer echoes 'SCIENER' as the V3 SDK checks (spec §5.4)."""
    return vendor_ok(data)


# --- 0x43 TIME_CALIBRATE and 0x34 GET_LOCK_TIME -------------------------------------------


def build_time_calibrate_request(now_local: datetime) -> bytes:
    """date6 of the lock's local wall time (spec §5.5.7); the answer is only a battery."""
    return encode_date6(now_local)


def parse_time_calibrate_request(data: bytes) -> datetime:
    """Lock side: the wall time to set."""
    return read_date(Reader(data, "TIME_CALIBRATE request (0x43)"), "time", seconds=True)


def build_get_lock_time_request() -> bytes:
    """0x34 has no payload and needs no authentication (spec §5.3, §5.5.7)."""
    return b""


def parse_lock_time_response(data: bytes) -> datetime:
    """Answer to 0x34 (empty request): the lock clock as date6 (spec §5.5.7)."""
    return read_date(Reader(data, "lock time answer (0x34)"), "time", seconds=True)


def build_lock_time_response(now_local: datetime) -> bytes:
    """Lock side: its clock as date6."""
    return encode_date6(now_local)


# --- 0x90 READ_DEVICE_INFO --------------------------------------------------------------


class DeviceInfoType(IntEnum):
    """What 0x90 reads (spec §5.5.22)."""

    MODEL = 1
    HARDWARE = 2
    FIRMWARE = 3
    MANUFACTURE_DATE = 4
    MAC = 5
    CLOCK = 6
    NB_OPERATOR = 7
    NB_IMEI = 8
    NB_CARD = 9
    NB_RSSI = 10
    PASSCODE_KEY_NUMBER = 12


PAIRING_DEVICE_INFO = (
    DeviceInfoType.MODEL,
    DeviceInfoType.HARDWARE,
    DeviceInfoType.FIRMWARE,
    DeviceInfoType.MANUFACTURE_DATE,
)


@dataclass(frozen=True, slots=True)
class DeviceInfo:
    """One 0x90 value: the raw bytes (terminator removed) and a readable text."""

    info_type: int
    raw: bytes

    @property
    def text(self) -> str:
        """The value as text; the clock is rendered two digits per byte like the SDK."""
        if self.info_type == DeviceInfoType.CLOCK:
            return "".join(f"{b:02d}" for b in self.raw)
        return self.raw.decode("utf-8", errors="replace").rstrip("\x00").strip()


def build_device_info_request(info_type: int) -> bytes:
    """`[infoType]`."""
    return u8(info_type, "info type")


def parse_device_info_request(data: bytes) -> int:
    """Lock side: the info type asked for."""
    return Reader(data, "READ_DEVICE_INFO request (0x90)").u8("info type")


def parse_device_info_response(data: bytes, info_type: int) -> DeviceInfo:
    """The value; spec §5.5.22: the last byte is a terminator and is dropped."""
    return DeviceInfo(info_type, bytes(data[:-1]))


def build_device_info_response(value: bytes | str) -> bytes:
    """Lock side: the value plus the terminator byte the app drops."""
    raw = value.encode("utf-8") if isinstance(value, str) else bytes(value)
    return raw + b"\x00"


# --- 0x65 GET_ADMIN_CODE and 0x53 SET_ADMIN_KEYBOARD_PWD ------------------------------------


def new_admin_passcode(randbelow: RandBelow = secrets.randbelow) -> str:
    """A random 7-digit keypad super passcode (spec §5.4 step 11)."""
    return "".join(str(randbelow(10)) for _ in range(ADMIN_PASSCODE_DIGITS))


def build_set_admin_code_request(code: str) -> bytes:
    """One byte per digit, values 0-9, not ASCII (spec §5.5.13); the answer carries nothing."""
    return bytes(d - 0x30 for d in check_code(code, "The admin passcode"))


def parse_set_admin_code_request(data: bytes) -> str:
    """Lock side: the new admin passcode."""
    reader = Reader(data, "SET_ADMIN_KEYBOARD_PWD request (0x53)")
    raw = reader.rest()
    if not 4 <= len(raw) <= 9 or any(b > 9 for b in raw):
        raise reader.fail("the admin passcode must be 4 to 9 digit values 0-9")
    return "".join(str(b) for b in raw)


def parse_admin_code_response(data: bytes) -> str | None:
    """Answer to 0x65 (empty request): `battery len code` in ASCII; None when none is set."""
    reader = Reader(data, "admin code answer (0x65)")
    reader.u8("battery")
    if reader.remaining == 0:
        return None
    # spec §5.5.13: use the declared length (ttlock-sdk-js truncated the code by 2).
    raw = reader.short_bytes("admin code")
    return digits_text(raw, reader, "admin code") if raw else None


def build_admin_code_response(battery: int, code: str | None) -> bytes:
    """Lock side: `battery len code`."""
    raw = b"" if code is None else check_code(code, "The admin passcode")
    return u8(battery, "battery") + short_bytes(raw, "admin code")


# --- 0x31 INIT_PASSWORDS (optional offline passcode seeds) ---------------------------------


@dataclass(frozen=True, slots=True)
class PasscodeSeed:
    """One year's seed: a 12-bit code and a secret (a permutation of 0-9 as a number)."""

    code: int
    secret: int = field(repr=False)


@dataclass(frozen=True, slots=True)
class InitPasswords:
    """The 0x31 payload: two-digit start year and ten seeds (spec §5.5.12)."""

    year: int
    seeds: tuple[PasscodeSeed, ...]


def new_init_passwords(today: date, randbelow: RandBelow = secrets.randbelow) -> InitPasswords:
    """Fresh seeds as the official SDK makes them: distinct codes, digit permutations."""
    # spec §5.5.12: the first year is the current one, minus one on 1 January.
    year = today.year - 1 if (today.month, today.day) == (1, 1) else today.year
    codes: list[int] = []
    while len(codes) < SEED_COUNT:
        code = randbelow(MAX_SEED_CODE + 1)
        if code not in codes:
            codes.append(code)
    seeds = []
    for code in codes:
        digits = list("0123456789")
        for i in range(len(digits) - 1, 0, -1):  # Fisher-Yates with the given source
            j = randbelow(i + 1)
            digits[i], digits[j] = digits[j], digits[i]
        seeds.append(PasscodeSeed(code, int("".join(digits))))
    return InitPasswords(year % 100, tuple(seeds))


def build_init_passwords_request(value: InitPasswords) -> bytes:
    """year%100 then per seed b0=code>>4, b1=code<<4|secret>>32, b2..b5=secret (spec §5.5.12)."""
    if len(value.seeds) != SEED_COUNT:
        raise FieldError(f"INIT_PASSWORDS takes {SEED_COUNT} seeds, not {len(value.seeds)}.")
    out = bytearray(u8(value.year % 100, "year"))
    for seed in value.seeds:
        if not 0 <= seed.code <= MAX_SEED_CODE or not 0 <= seed.secret < 1 << 36:
            raise FieldError("A passcode seed has a 12-bit code (<= 1070) and a 36-bit secret.")
        out += bytes([seed.code >> 4, (seed.code << 4 & 0xF0) | (seed.secret >> 32 & 0x0F)])
        out += (seed.secret & 0xFFFFFFFF).to_bytes(4, "big")
    return bytes(out)


def parse_init_passwords_request(data: bytes) -> InitPasswords:
    """Lock side: the year and the ten seeds."""
    reader = Reader(data, "INIT_PASSWORDS request (0x31)")
    year = reader.u8("year")
    seeds = []
    for index in range(SEED_COUNT):
        raw = reader.take(6, f"seed {index}")
        code = raw[0] << 4 | raw[1] >> 4
        seeds.append(PasscodeSeed(code, (raw[1] & 0x0F) << 32 | int.from_bytes(raw[2:], "big")))
    return InitPasswords(year, tuple(seeds))


# --- 0x57 OPERATE_FINISHED, 0x52 RESET_LOCK ----------------------------------------------


def build_operate_finished_request() -> bytes:
    """0x57 has no payload; success ends pairing (spec §5.5.23)."""
    return b""


def build_reset_request() -> bytes:
    """0x52 has no payload; success may come as an empty frame or `52 01` (spec §5.5.21)."""
    return b""
