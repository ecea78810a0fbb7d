"""One exception tree for the whole add-on; every class tells a person what to do."""

from __future__ import annotations


class LockError(Exception):
    """Root of every error the add-on raises on purpose."""

    code = "error"
    default_message = "Something went wrong while talking to the lock."

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or self.default_message)

    @property
    def message(self) -> str:
        """The sentence shown to a person."""
        return str(self.args[0])


class NotReachableError(LockError):
    """No adapter, no BlueZ, or the lock is asleep or out of range."""

    code = "not_reachable"
    default_message = (
        "The lock cannot be reached. Touch its keypad to wake it, move the Bluetooth "
        "adapter closer, and try again."
    )


class LockTimeoutError(LockError):
    """The lock did not answer within the allowed time."""

    code = "timeout"
    default_message = (
        "The lock did not answer in time. Try again; if it keeps happening, move the "
        "Bluetooth adapter closer."
    )


class DisconnectedError(LockError):
    """The Bluetooth link dropped while a command was under way."""

    code = "disconnected"
    default_message = "The Bluetooth connection to the lock dropped. Try again."


class ProtocolError(LockError):
    """A malformed frame, a bad checksum or a bad MAC came from the lock."""

    code = "protocol"
    default_message = "The lock sent a message that could not be understood."


class AuthError(LockError):
    """The lock rejected our keys: it was reset or paired elsewhere."""

    code = "auth"
    default_message = (
        "The lock rejected this add-on's keys. It was probably reset or paired with another "
        "app; remove it here and pair it again."
    )


class CommandRejectedError(LockError):
    """The lock refused a command and said why with its own error code."""

    code = "rejected"

    def __init__(self, lock_code: int, text: str | None = None) -> None:
        self.lock_code = lock_code
        self.text = text or "no reason given"
        super().__init__(f"The lock refused the command: {self.text} (code 0x{lock_code:02x}).")


class NotSupportedError(LockError):
    """The lock lacks the capability asked for."""

    code = "not_supported"
    default_message = "This lock does not support that."


class PairingError(LockError):
    """Pairing failed: not in pairing mode, wrong PIN, too many users and the like."""

    code = "pairing"
    default_message = "Pairing failed. Put the lock into pairing mode and try again."


class BusyError(LockError):
    """The lock or the add-on is busy with another operation."""

    code = "busy"
    default_message = "The lock is busy with another operation. Try again in a moment."


class StoreError(LockError):
    """The data directory cannot be read or written safely."""

    code = "store"
    default_message = "The add-on's saved data cannot be read or written."
