"""Nuki Status, Error Report and Battery Report messages (spec §4.2, §4.6, §4.11)."""

from __future__ import annotations

from dataclasses import dataclass

from .fields import Reader, sint, u8, u16

__all__ = [
    "BatteryReport",
    "ErrorReport",
    "build_error_report",
    "build_status",
    "parse_battery_report",
    "parse_error_report",
    "parse_status",
]


def build_status(code: int) -> bytes:
    """Lock side: Status payload, one byte (StatusCode; spec §4.2)."""
    return u8(int(code), "The status")


def parse_status(payload: bytes) -> int:
    """The status byte (compare with codec.StatusCode); extra bytes are ignored."""
    return Reader(payload, "Status (0x000E)").u8("status")


@dataclass(frozen=True, slots=True)
class ErrorReport:
    """Error Report (spec §4.11): the lock's error code and the command it refers to."""

    code: int  # codec.ErrorCode when known
    command: int  # 0 when the lock could not read the command (spec §1.4)

    def to_payload(self) -> bytes:
        """error u8 || command u16."""
        return u8(self.code, "The error code") + u16(self.command, "The command id")


def build_error_report(code: int, command: int) -> bytes:
    """Lock side: Error Report payload."""
    return ErrorReport(int(code), int(command)).to_payload()


def parse_error_report(payload: bytes) -> ErrorReport:
    """Parse an Error Report; the error byte is read unsigned (spec §4.2)."""
    reader = Reader(payload, "Error Report (0x0012)")
    return ErrorReport(reader.u8("error code"), reader.u16("command id"))


@dataclass(frozen=True, slots=True)
class BatteryReport:
    """Battery Report (spec §4.6), 17 bytes."""

    battery_drain: int  # mWs of the last action
    battery_voltage: int  # mV
    critical: bool
    lock_action: int  # last LockAction
    start_voltage: int  # mV
    lowest_voltage: int  # mV
    lock_distance: int  # degrees
    start_temperature: int  # degrees Celsius, signed
    max_turn_current: int
    battery_resistance: int

    def to_payload(self) -> bytes:
        """The 17-byte payload."""
        return (
            u16(self.battery_drain, "battery drain")
            + u16(self.battery_voltage, "battery voltage")
            + u8(int(self.critical), "critical battery")
            + u8(self.lock_action, "lock action")
            + u16(self.start_voltage, "start voltage")
            + u16(self.lowest_voltage, "lowest voltage")
            + u16(self.lock_distance, "lock distance")
            + sint(self.start_temperature, 1, "start temperature")
            + u16(self.max_turn_current, "maximum turn current")
            + u16(self.battery_resistance, "battery resistance")
        )


def parse_battery_report(payload: bytes) -> BatteryReport:
    """Parse a Battery Report; bytes past the 17 known ones are ignored."""
    r = Reader(payload, "Battery Report (0x0011)")
    return BatteryReport(
        battery_drain=r.u16("battery drain"),
        battery_voltage=r.u16("battery voltage"),
        critical=r.flag("critical battery"),
        lock_action=r.u8("lock action"),
        start_voltage=r.u16("start voltage"),
        lowest_voltage=r.u16("lowest voltage"),
        lock_distance=r.u16("lock distance"),
        start_temperature=r.sint(1, "start temperature"),
        max_turn_current=r.u16("maximum turn current"),
        battery_resistance=r.u16("battery resistance"),
    )
