"""Home Assistant style logging in which registered secrets are masked in every spelling."""

from __future__ import annotations

import base64
import logging
import re
import sys
import threading
from enum import StrEnum
from types import TracebackType
from typing import Literal, TextIO
from urllib.parse import quote

REDACTED = "**REDACTED**"
# Shorter spellings would mask unrelated text everywhere (a 1-byte key is "0a" in hex).
MIN_FORM_LENGTH = 4
# The layout of Home Assistant core's own log lines.
LOG_FORMAT = "%(asctime)s.%(msecs)03d %(levelname)s (%(threadName)s) [%(name)s] %(message)s"
DATE_FORMAT = "%Y-%m-%d %H:%M:%S"
# Chatty libraries stay at WARNING unless the level is `trace`.
LIBRARY_LOGGERS = ("bleak", "bleak_retry_connector", "dbus_fast", "aiomqtt", "aiohttp.access")

SecretValue = str | bytes | bytearray | memoryview | int
_ORDERS: tuple[Literal["big", "little"], ...] = ("big", "little")


class LogLevel(StrEnum):
    """The add-on's `log_level` option (HA add-on convention: trace ... fatal)."""

    TRACE = "trace"
    DEBUG = "debug"
    INFO = "info"
    NOTICE = "notice"
    WARNING = "warning"
    ERROR = "error"
    FATAL = "fatal"

    @property
    def python_level(self) -> int:
        """The `logging` level this option stands for."""
        return _PYTHON_LEVELS[self]


_PYTHON_LEVELS = {
    LogLevel.TRACE: logging.DEBUG,
    LogLevel.DEBUG: logging.DEBUG,
    LogLevel.INFO: logging.INFO,
    LogLevel.NOTICE: logging.INFO,
    LogLevel.WARNING: logging.WARNING,
    LogLevel.ERROR: logging.ERROR,
    LogLevel.FATAL: logging.CRITICAL,
}


def _bytes_forms(data: bytes) -> set[str]:
    forms = {data.hex(), data.hex(" "), data.hex(":")}
    for encoded in (base64.b64encode(data).decode(), base64.urlsafe_b64encode(data).decode()):
        forms |= {encoded, encoded.rstrip("=")}  # padded too: its unpadded part may be too short
    forms |= {str(int.from_bytes(data, order)) for order in _ORDERS}
    if len(data) >= 8:  # repr of short bytes is too likely to occur by chance
        forms.add(repr(data)[2:-1])
    return forms


def _int_forms(value: int, width: int | None) -> set[str]:
    forms = {str(value)}
    if value < 0:
        return forms
    size = width or max(1, (value.bit_length() + 7) // 8)
    forms |= {f"{value:x}", f"{value:0{2 * size}x}"}
    for order in _ORDERS:
        forms |= _bytes_forms(value.to_bytes(size, order))
    return forms


def secret_forms(value: SecretValue, *, width: int | None = None) -> frozenset[str]:
    """Every spelling of `value` that gets masked (hex, decimal, base64, text), long enough only.

    bytes: hex (plain, space- and colon-separated), base64 (standard and URL-safe), the decimal
    number in either byte order, the repr escape form. int: decimal, hex, and the bytes forms of
    `width` bytes (default: as few as hold it) in either order. str: the text, its URL-quoted
    form, the bytes forms of its UTF-8 encoding, and the int forms when it is all digits.
    """
    forms: set[str]
    if isinstance(value, bool):
        raise TypeError("a secret cannot be a bool")
    if isinstance(value, int):
        if width is not None and value >= 1 << (8 * width):
            raise ValueError(f"{value.bit_length()}-bit secret does not fit in {width} bytes")
        forms = _int_forms(value, width)
    elif isinstance(value, str):
        forms = {value, quote(value, safe="")} | _bytes_forms(value.encode())
        if value.isascii() and value.isdigit():
            forms |= _int_forms(int(value), width)
    else:
        forms = _bytes_forms(bytes(value))
    return frozenset(form for form in forms if len(form) >= MIN_FORM_LENGTH)


class SecretRegistry:
    """The set of secret spellings to mask; thread-safe, grows as keys and PINs are loaded."""

    def __init__(self) -> None:
        self._forms: set[str] = set()
        self._pattern: re.Pattern[str] | None = None
        self._lock = threading.Lock()

    def register(self, value: SecretValue | None, *, width: int | None = None) -> None:
        """Mask `value` from now on in all its spellings (see `secret_forms`); None is ignored."""
        if value is None:
            return
        forms = secret_forms(value, width=width)
        with self._lock:
            if forms <= self._forms:
                return
            self._forms |= forms
            # Longest first, so a key's hex wins over a PIN that happens to be inside it.
            ordered = sorted(self._forms, key=lambda form: (-len(form), form))
            self._pattern = re.compile("|".join(map(re.escape, ordered)), re.IGNORECASE)
            # re keeps up to 512 compiled patterns; every superseded one (each holding all the
            # secrets of its time) would stay there, growing with each PIN ever added.
            re.purge()

    def clear(self) -> None:
        """Forget every secret (tests only)."""
        with self._lock:
            self._forms.clear()
            self._pattern = None

    def __bool__(self) -> bool:
        return self._pattern is not None

    def redact(self, text: str) -> str:
        """`text` with every registered spelling replaced by REDACTED (hex case-insensitively)."""
        pattern = self._pattern
        return text if pattern is None else pattern.sub(REDACTED, text)


SECRETS = SecretRegistry()


def register_secret(value: SecretValue | None, *, width: int | None = None) -> None:
    """Mask `value` (a key, password, PIN; `width` = its size in bytes on the wire) in all logs."""
    SECRETS.register(value, width=width)


class RedactingFilter(logging.Filter):
    """Masks secrets in a record's final message, traceback and stack before any handler sees it."""

    def __init__(self, registry: SecretRegistry | None = None) -> None:
        super().__init__()
        self._registry = registry

    @property
    def registry(self) -> SecretRegistry:
        """The given registry, else the process-wide one."""
        return SECRETS if self._registry is None else self._registry

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite `record` in place (message merged with its args); never drops a record."""
        if not self.registry:
            return True
        try:
            message = record.getMessage()
        except Exception:  # a bad format string must not break the code that logs
            message = f"{record.msg!s} (bad log arguments: {record.args!r})"
        record.msg = self.registry.redact(message)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = _FORMATTER.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.registry.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self.registry.redact(record.stack_info)
        return True


_FORMATTER = logging.Formatter()
_installed: logging.Handler | None = None
_LOGGER = logging.getLogger("ttlock_nuki_addon")


def _log_uncaught(kind: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
    if issubclass(kind, KeyboardInterrupt):
        sys.__excepthook__(kind, exc, tb)
        return
    _LOGGER.critical("Uncaught exception", exc_info=(kind, exc, tb))


def setup_logging(
    level: LogLevel | str, *, stream: TextIO | None = None, registry: SecretRegistry | None = None
) -> logging.Handler:
    """Log to `stream` (stderr) in HA's format at `level`, secrets masked; safe to call again.

    Also routes `warnings` and uncaught exceptions through logging so they are masked too.
    """
    global _installed  # noqa: PLW0603 - one root handler per process, replaced on a second call
    log_level = LogLevel(str(level).lower())
    handler = logging.StreamHandler(stream if stream is not None else sys.stderr)
    handler.setFormatter(logging.Formatter(LOG_FORMAT, DATE_FORMAT))
    handler.addFilter(RedactingFilter(registry))
    root = logging.getLogger()
    if _installed is not None:
        root.removeHandler(_installed)
    root.addHandler(handler)
    _installed = handler
    root.setLevel(log_level.python_level)
    library_level = logging.NOTSET if log_level is LogLevel.TRACE else logging.WARNING
    for name in LIBRARY_LOGGERS:
        logging.getLogger(name).setLevel(max(library_level, log_level.python_level))
    logging.captureWarnings(True)
    sys.excepthook = _log_uncaught
    return handler
