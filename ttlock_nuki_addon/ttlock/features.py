"""SEARCHE_DEVICE_FEATURE (0x01): battery and the full feature bit mask (spec §5.5.1)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

from ._buf import FieldError, Reader, u8

_WORD = 4


class Feature(IntEnum):
    """Bit numbers of the feature mask (spec §5.5.1, AND FeatureValue 3.3.1)."""

    PASSCODE = 0
    IC = 1
    FINGER_PRINT = 2
    WRIST_BAND = 3
    AUTO_LOCK = 4
    PASSCODE_WITH_DELETE_FUNCTION = 5
    FIRMWARE_SETTING = 6
    MODIFY_PASSCODE_FUNCTION = 7
    MANUAL_LOCK = 8  # the lock command 0x58 is supported
    PASSWORD_DISPLAY_OR_HIDE = 9
    GATEWAY_UNLOCK = 10
    FREEZE_LOCK = 11
    CYCLIC_PASSWORD = 12
    MAGNETOMETER = 13  # door sensor
    CONFIG_GATEWAY_UNLOCK = 14  # remote-unlock switch (0x37)
    AUDIO_MANAGEMENT = 15
    NB_LOCK = 16
    GET_ADMIN_CODE = 18
    HOTEL_LOCK = 19
    LOCK_NO_CLOCK_CHIP = 20
    CAN_NOT_CLICK_UNLOCK = 21  # BLE does not broadcast; needs a keypad touch to connect
    PASSAGE_MODE = 22
    PASSAGE_MODE_AND_AUTO_LOCK_AND_CAN_CLOSE = 23
    WIRELESS_KEYBOARD = 24
    LAMP = 25
    TAMPER_ALERT = 28
    RESET_BUTTON = 29
    PRIVACY_LOCK = 30
    DEAD_LOCK = 32
    CYCLIC_IC_OR_FINGER_PRINT = 34
    UNLOCK_DIRECTION = 36
    FINGER_VEIN = 37
    TELINK_CHIP = 38
    NB_ACTIVITE_CONFIGURATION = 39
    CYCLIC_PASSCODE_CAN_RECOVERY = 40
    WIRELESS_KEY_FOB = 41
    ACCESSORY_BATTERY = 42
    SOUND_VOLUME_AND_LANGUAGE_SETTING = 43
    QR_CODE = 44
    DOOR_SENSOR = 45
    PASSAGE_MODE_AUTO_UNLOCK_SETTING = 46
    FINGERPRINT_DISTRIBUTION = 47
    ZHONG_ZHENG = 48
    SYNO = 49
    WIRELESS_DOOR_SENSOR = 50
    DOOR_OPEN_ALARM = 51
    SENSITIVITY = 52
    FACE_3D = 53
    CPU_CARD = 55
    WIFI_LOCK = 56
    WIFI_LOCK_SUPPORT_STATIC_IP = 58
    INCOMPLETE_PASSCODE = 60


@dataclass(frozen=True, slots=True)
class FeatureMask:
    """The lock's whole feature value as one integer (bits >= 32 included)."""

    value: int = 0

    def __post_init__(self) -> None:
        if self.value < 0:
            raise FieldError("A feature mask cannot be negative.")

    def has(self, feature: Feature | int) -> bool:
        """Whether bit `feature` is set."""
        return bool(self.value >> int(feature) & 1)

    @property
    def bits(self) -> tuple[int, ...]:
        """Every set bit number, ascending (unnamed ones too)."""
        return tuple(bit for bit in range(self.value.bit_length()) if self.value >> bit & 1)

    @property
    def features(self) -> frozenset[Feature]:
        """The named features that are set."""
        return frozenset(f for f in Feature if self.has(f))

    @property
    def special_value(self) -> int:
        """The first 32-bit group alone (the SDK's legacy 'specialValue')."""
        return self.value & 0xFFFFFFFF

    def to_hex(self) -> str:
        """Lowercase hex of the value, for the store."""
        return f"{self.value:x}"

    @classmethod
    def from_hex(cls, text: str) -> FeatureMask:
        """Inverse of to_hex; FieldError on anything but hex digits."""
        try:
            return cls(int(text, 16))
        except ValueError:
            raise FieldError("A feature mask must be written in hex digits.") from None

    @classmethod
    def of(cls, *features: Feature | int) -> FeatureMask:
        """A mask with exactly these bits set."""
        value = 0
        for feature in features:
            value |= 1 << int(feature)
        return cls(value)

    def to_bytes(self, words: int | None = None) -> bytes:
        """The wire form: 4-byte BE groups, least significant group first (spec §5.5.1)."""
        needed = max(1, -(-self.value.bit_length() // 32))
        count = needed if words is None else words
        if count < needed:
            raise FieldError(f"The feature mask needs {needed} words, not {count}.")
        return b"".join(
            ((self.value >> (32 * i)) & 0xFFFFFFFF).to_bytes(_WORD, "big") for i in range(count)
        )

    @classmethod
    def from_bytes(cls, raw: bytes) -> FeatureMask:
        """Parse the wire form; a trailing partial group (never seen) is ignored."""
        value = 0
        for i in range(len(raw) // _WORD):
            # spec §5.5.1: each group is a BE word and later groups are more significant.
            value |= int.from_bytes(raw[_WORD * i : _WORD * (i + 1)], "big") << (32 * i)
        return cls(value)


@dataclass(frozen=True, slots=True)
class FeatureResponse:
    """Answer to 0x01: battery percent and features (spec §5.5.1)."""

    battery: int
    features: FeatureMask


def build_features_request() -> bytes:
    """0x01 has no payload (spec §5.5.1)."""
    return b""


def parse_features_response(data: bytes) -> FeatureResponse:
    """Parse the data after echo/status: battery + at least one 4-byte feature group."""
    reader = Reader(data, "feature answer (0x01)")
    battery = reader.u8("battery")
    raw = reader.rest()
    if len(raw) < _WORD:
        raise reader.fail(f"{len(raw)} feature bytes, at least 4 expected")
    return FeatureResponse(battery, FeatureMask.from_bytes(raw))


def build_features_response(battery: int, features: FeatureMask, words: int = 4) -> bytes:
    """Lock side: battery + the mask in `words` groups (real locks send 1 or 4)."""
    return u8(battery, "battery") + features.to_bytes(words)
