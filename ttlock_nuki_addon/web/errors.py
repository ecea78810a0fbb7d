"""Error replies of the websocket API: the contract's codes and a sentence a person can act on."""

from __future__ import annotations

import logging

from ..errors import LockError
from ..validity import ValidationError

_LOGGER = logging.getLogger(__name__)

KNOWN_CODES = frozenset(
    {
        "bad_request",
        "not_found",
        "not_reachable",
        "timeout",
        "disconnected",
        "protocol",
        "auth",
        "rejected",
        "not_supported",
        "pairing",
        "busy",
        "store",
        "internal",
        "backup",
    }
)
INTERNAL_MESSAGE = (
    "The add-on failed on this request; this is a bug. The add-on's log has the details."
)


class BadRequestError(LockError):
    """A request the API cannot take: not JSON, unknown verb, wrong or unknown parameters."""

    code = "bad_request"
    default_message = "The request is malformed."


class BackupError(LockError):
    """A backup cannot be read: wrong passphrase, damaged file, not a backup, newer format."""

    code = "backup"
    default_message = "The passphrase is wrong, or the backup file is damaged."


class RequestTimeoutError(LockError):
    """The add-on gave up waiting for a request to finish."""

    code = "timeout"


def describe(exc: BaseException, what: str = "request") -> tuple[str, str]:
    """(code, message) for a failed request; unexpected exceptions are logged with traceback."""
    if isinstance(exc, ValidationError):
        return "bad_request", str(exc)
    if isinstance(exc, LockError) and exc.code in KNOWN_CODES:
        return exc.code, exc.message
    _LOGGER.error("The %s failed unexpectedly", what, exc_info=exc)
    return "internal", INTERNAL_MESSAGE
