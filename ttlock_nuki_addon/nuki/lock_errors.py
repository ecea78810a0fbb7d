"""Nuki error codes as sentences a person can act on, and as the add-on's exceptions (§4.11)."""

from __future__ import annotations

from ..errors import (
    AuthError,
    BusyError,
    CommandRejectedError,
    LockError,
    PairingError,
    ProtocolError,
)
from .codec import ErrorCode, command_name, error_name
from .reports import ErrorReport

__all__ = [
    "BadPinError",
    "PinLockoutError",
    "StaleChallengeError",
    "describe_report",
    "error_for",
    "error_text",
]


class StaleChallengeError(ProtocolError):
    """K_ERROR_BAD_NONCE: the challenge was stale or reused; the lock did nothing (retry-safe)."""

    code = "stale_challenge"


class BadPinError(CommandRejectedError):
    """K_ERROR_BAD_PIN: the security PIN is wrong."""


class PinLockoutError(CommandRejectedError):
    """K_ERROR_TOO_MANY_PIN_ATTEMPTS: the lock refuses PINs for a while."""


_PIN_PLACE = "in the Nuki app under the device's Features & Configuration > General"
_MOTOR = "Check that the door moves freely and the batteries are not empty, then try again."
_KEYPAD_WAIT = (
    "Too many wrong keypad codes were entered; the keypad is blocked for a while. Wait and retry."
)
E = ErrorCode
_TEXTS: dict[int, str] = {
    E.P_ERROR_NOT_PAIRING: (
        "The lock is not in pairing mode. Hold its button until the LED ring stays lit, check "
        'that "Bluetooth pairing" is switched on in the Nuki app, and try again.'
    ),
    E.P_ERROR_BAD_AUTHENTICATOR: (
        "The lock rejected the pairing handshake. Put it into pairing mode again and retry."
    ),
    E.P_ERROR_BAD_PARAMETER: (
        "The lock rejected a pairing value. Put it into pairing mode again and retry."
    ),
    E.P_ERROR_MAX_USER: (
        "The lock has no room for another authorization. Remove an unused one in the Nuki app "
        "(Lock Permissions) and pair again."
    ),
    E.K_ERROR_NOT_AUTHORIZED: (
        "The lock does not accept this add-on's keys: it was reset or the authorization was "
        "removed. Remove the lock here and pair it again."
    ),
    E.K_ERROR_BAD_PIN: f"The security PIN is wrong. Enter the PIN set {_PIN_PLACE}.",
    E.K_ERROR_BAD_NONCE: (
        "The lock's one-time challenge had expired or was used twice. Try again."
    ),
    E.K_ERROR_BAD_PARAMETER: (
        "The lock rejected a value in the command as out of range. Check the values and retry."
    ),
    E.K_ERROR_INVALID_AUTH_ID: (
        "That authorization does not exist on the lock (any more). Refresh the list."
    ),
    E.K_ERROR_DISABLED: (
        "This add-on's authorization is disabled on the lock. Enable it again in the Nuki app "
        "(Lock Permissions)."
    ),
    E.K_ERROR_REMOTE_NOT_ALLOWED: (
        "Remote access is not allowed for this authorization. Allow it in the Nuki app "
        "(Lock Permissions)."
    ),
    E.K_ERROR_TIME_NOT_ALLOWED: (
        "This authorization may not operate the lock at this time. Check its time limits in "
        "the Nuki app (Lock Permissions)."
    ),
    E.K_ERROR_TOO_MANY_PIN_ATTEMPTS: (
        "Too many wrong security PINs were tried; the lock refuses PINs for a while. Wait, then "
        f"enter the PIN set {_PIN_PLACE}."
    ),
    E.K_ERROR_TOO_MANY_ENTRIES: (
        "The lock's storage for this kind of entry is full. Delete an unused entry first."
    ),
    E.K_ERROR_CODE_ALREADY_EXISTS: (
        "That keypad code is already in use on this lock. Choose a different code."
    ),
    E.K_ERROR_CODE_INVALID: (
        "That keypad code is not valid: use 6 digits from 1 to 9, not starting with 12."
    ),
    E.K_ERROR_CODE_INVALID_TIMEOUT_1: _KEYPAD_WAIT,
    E.K_ERROR_CODE_INVALID_TIMEOUT_2: _KEYPAD_WAIT,
    E.K_ERROR_CODE_INVALID_TIMEOUT_3: _KEYPAD_WAIT,
    E.K_ERROR_AUTO_UNLOCK_TOO_RECENT: (
        "Auto unlock was refused because the lock moved very recently. Try again in a moment."
    ),
    E.K_ERROR_POSITION_UNKNOWN: (
        "The lock does not know its bolt position, so it refused to unlock remotely. Operate it "
        "once by hand or with its button, then try again."
    ),
    E.K_ERROR_MOTOR_BLOCKED: f"The lock's motor was blocked. {_MOTOR}",
    E.K_ERROR_CLUTCH_FAILURE: f"The lock's clutch failed. {_MOTOR}",
    E.K_ERROR_MOTOR_TIMEOUT: f"The lock's motor ran too long without reaching its end. {_MOTOR}",
    E.K_ERROR_BUSY: "The lock is busy with another action. Try again in a moment.",
    E.K_ERROR_CANCELED: (
        "The action was cancelled, most likely by someone pressing the lock's button."
    ),
    E.K_ERROR_NOT_CALIBRATED: (
        "The lock is not calibrated. Calibrate it in the Nuki app, then try again."
    ),
    E.K_ERROR_MOTOR_POSITION_LIMIT: (
        "Calibration failed because the lock ran out of positions. Re-calibrate in the Nuki app."
    ),
    E.K_ERROR_MOTOR_LOW_VOLTAGE: (
        "The lock's batteries are too weak to drive the motor. Replace or charge them."
    ),
    E.K_ERROR_MOTOR_POWER_FAILURE: f"The lock's motor drew no power. {_MOTOR}",
    E.K_ERROR_CLUTCH_POWER_FAILURE: f"The lock's clutch drew no power. {_MOTOR}",
    E.K_ERROR_VOLTAGE_TOO_LOW: (
        "The lock refused to calibrate because its batteries are low. Replace or charge them."
    ),
    E.K_ERROR_FIRMWARE_UPDATE_NEEDED: (
        "The lock needs a firmware update first. Update it with the Nuki app, then try again."
    ),
    E.K_ERROR_REJECTED: "The lock rejected the command. Check its state in the Nuki app.",
    E.K_ERROR_REJECTED_NIGHTMODE: (
        "The lock rejected the command because night mode is active. Try again after night "
        "mode ends or change its night mode settings in the Nuki app."
    ),
    E.K_ERROR_NOT_IN_MAINTENANCE_MODE: (
        "The lock must be in maintenance mode for this. See the Nuki app for how to enter it."
    ),
    E.K_ERROR_ALREADY_CONFIGURED: "The lock is already set up; this step is not needed.",
    E.K_ERROR_TIMEOUT: "The lock timed out while doing the command. Try again.",
    E.K_ERROR_NO_NUKI_ID: (
        "The lock has no Nuki ID yet. Finish its setup in the Nuki app, then try again."
    ),
    E.ERROR_BAD_CRC: (
        "The lock received a damaged message (bad checksum). Move the Bluetooth adapter "
        "closer and try again."
    ),
    E.ERROR_BAD_LENGTH: (
        "The lock did not expect a message of this length; its firmware may not support this "
        "command or setting."
    ),
    E.ERROR_UNKNOWN: "The lock reported an unspecified error. Try again.",
}
_PAIRING_CODES = frozenset(
    {
        E.P_ERROR_NOT_PAIRING,
        E.P_ERROR_BAD_AUTHENTICATOR,
        E.P_ERROR_BAD_PARAMETER,
        E.P_ERROR_MAX_USER,
    }
)


def error_text(code: int) -> str:
    """A sentence saying what the error means and what to do (every ErrorCode has one)."""
    text = _TEXTS.get(code)
    if text is not None:
        return text
    return f"The lock reported error 0x{code:02X}, which this add-on does not know. Try again."


def error_for(report: ErrorReport) -> LockError:
    """The add-on exception for an Error Report (to raise)."""
    code = report.code
    text = error_text(code)
    if code in _PAIRING_CODES:
        return PairingError(text)
    if code in (E.K_ERROR_NOT_AUTHORIZED, E.K_ERROR_DISABLED):
        return AuthError(text)
    if code == E.K_ERROR_BUSY:
        return BusyError(text)
    if code == E.K_ERROR_BAD_NONCE:
        return StaleChallengeError(text)
    if code == E.K_ERROR_BAD_PIN:
        return BadPinError(code, text)
    if code == E.K_ERROR_TOO_MANY_PIN_ATTEMPTS:
        return PinLockoutError(code, text)
    return CommandRejectedError(code, text)  # motor, keypad-code and all other refusals


def describe_report(report: ErrorReport) -> str:
    """One line for logs: error name, the command it refers to and the sentence."""
    name = error_name(report.code)
    return f"{name} on {command_name(report.command)}: {error_text(report.code)}"
