"""Nuki Opener Config / Set Config (spec §4.12): the Smart Lock layout with three changes.

Capabilities instead of auto unlatch, no LED brightness, operating mode instead of single
lock. The timezone id after the hardware revision follows S2 (the spec leaves it open).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from .config_cmds import (
    FOBS_FIELDS,
    LOCATION_FIELDS,
    SWITCHES_FIELDS,
    TIME_FIELDS,
    U8,
    U16,
    U32,
    VERSIONS_FIELDS,
    ZONE_FIELDS,
)
from .fields import FieldError
from .layout import Flag, Layout

__all__ = [
    "OpenerConfig",
    "OpenerNewConfig",
    "parse_opener_config",
    "parse_opener_new_config",
]


@dataclass(frozen=True, slots=True)
class OpenerConfig:
    """Opener Config (spec §4.12): capabilities instead of auto unlatch, no LED brightness,
    operating mode instead of single lock. The timezone id after the hardware revision follows
    S2 (the spec leaves it open); later bytes are kept raw in `extra`."""

    nuki_id: int
    name: str
    latitude: float
    longitude: float
    capabilities: int
    pairing_enabled: bool
    button_enabled: bool
    led_enabled: bool
    current_time: datetime | None
    timezone_offset: int
    dst_mode: int
    has_fob: bool
    fob_action_1: int
    fob_action_2: int
    fob_action_3: int
    operating_mode: int
    advertising_mode: int
    has_keypad: bool
    firmware_version: tuple[int, ...]
    hardware_revision: tuple[int, ...]
    timezone_id: int | None = None
    extra: bytes = b""

    def to_payload(self) -> bytes:
        """Lock side: the Opener Config payload."""
        if self.extra and self.timezone_id is None:
            raise FieldError("Opener Config: extra bytes need the timezone id before them.")
        return OPENER_CONFIG_LAYOUT.write(self) + self.extra

    def to_new_config(self) -> OpenerNewConfig:
        """The Set Config fields that keep every setting as it is."""
        return OpenerNewConfig(**OPENER_NEW_CONFIG_LAYOUT.values_of(self))


OPENER_CONFIG_LAYOUT = Layout(
    "Opener Config (0x0015)",
    required=[
        ("nuki_id", U32),
        *LOCATION_FIELDS,
        ("capabilities", U8),
        *SWITCHES_FIELDS,
        *TIME_FIELDS,
        *ZONE_FIELDS,
        ("has_fob", Flag()),
        *FOBS_FIELDS,
        ("operating_mode", U8),
        ("advertising_mode", U8),
        ("has_keypad", Flag()),
        *VERSIONS_FIELDS,
    ],
    optional=[("timezone_id", U16)],
)


def parse_opener_config(payload: bytes) -> OpenerConfig:
    """Parse an Opener Config; bytes after the timezone id are kept in `extra`."""
    values = OPENER_CONFIG_LAYOUT.read(payload)
    extra = bytes(payload[OPENER_CONFIG_LAYOUT.max_size :])
    return OpenerConfig(**values, extra=extra)


@dataclass(frozen=True, slots=True)
class OpenerNewConfig:
    """Opener Set Config fields (spec §4.12: mirrors the Opener Config), 54 or 52 bytes."""

    name: str
    latitude: float
    longitude: float
    capabilities: int
    pairing_enabled: bool
    button_enabled: bool
    led_enabled: bool
    timezone_offset: int
    dst_mode: int
    fob_action_1: int
    fob_action_2: int
    fob_action_3: int
    operating_mode: int
    advertising_mode: int
    timezone_id: int | None = None

    def to_payload(self) -> bytes:
        """The Set Config fields (add nK and PIN with `with_pin`)."""
        return OPENER_NEW_CONFIG_LAYOUT.write(self)


OPENER_NEW_CONFIG_LAYOUT = Layout(
    "Opener Set Config (0x0013)",
    required=[
        *LOCATION_FIELDS,
        ("capabilities", U8),
        *SWITCHES_FIELDS,
        *ZONE_FIELDS,
        *FOBS_FIELDS,
        ("operating_mode", U8),
        ("advertising_mode", U8),
    ],
    optional=[("timezone_id", U16)],
)


def parse_opener_new_config(fields: bytes) -> OpenerNewConfig:
    """Lock side: Opener Set Config fields, exactly 52 or 54 bytes."""
    return OpenerNewConfig(**OPENER_NEW_CONFIG_LAYOUT.read(fields, exact=True))
