"""A registered secret never reaches formatted log output, in any spelling, tracebacks included."""

from __future__ import annotations

import base64
import io
import itertools
import logging
import re
import sys
import warnings
from collections.abc import Iterator
from urllib.parse import quote

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ttlock_nuki_addon import log_redact
from ttlock_nuki_addon.log_redact import (
    DATE_FORMAT,
    LOG_FORMAT,
    MIN_FORM_LENGTH,
    REDACTED,
    LogLevel,
    RedactingFilter,
    SecretRegistry,
    register_secret,
    secret_forms,
    setup_logging,
)


@pytest.fixture(autouse=True, scope="module")
def private_secrets() -> Iterator[None]:
    """Secrets registered by these tests stay out of the process-wide registry."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(log_redact, "SECRETS", log_redact.SecretRegistry())
        yield


_counter = itertools.count()


def long_enough(forms: set[str]) -> set[str]:
    """The documented floor: shorter spellings are not masked."""
    return {form for form in forms if len(form) >= MIN_FORM_LENGTH}


def byte_spellings(value: bytes) -> set[str]:
    """Hex (lower, upper, alternating case, separated), base64 (both alphabets), decimal, repr."""
    hex_lower = value.hex()
    forms = {hex_lower, hex_lower.upper(), value.hex(" ").upper(), value.hex(":")}
    forms.add("".join(c.upper() if i % 2 else c for i, c in enumerate(hex_lower)))
    forms |= {base64.b64encode(value).decode(), base64.urlsafe_b64encode(value).decode()}
    forms |= {str(int.from_bytes(value, "little")), str(int.from_bytes(value, "big"))}
    if len(value) >= 8:
        forms.add(repr(value)[2:-1])
    return long_enough(forms)


def int_spellings(value: int, width: int) -> set[str]:
    """A PIN: decimal, hex, and the spellings of its bytes in either order."""
    forms = {str(value), f"{value:x}", f"{value:X}", f"{value:0{2 * width}X}"}
    forms |= byte_spellings(value.to_bytes(width, "little"))
    forms |= byte_spellings(value.to_bytes(width, "big"))
    return long_enough(forms)


def capture(registry: SecretRegistry) -> tuple[logging.Logger, io.StringIO]:
    """A private logger whose one handler formats like setup_logging and redacts."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter(LOG_FORMAT, DATE_FORMAT))
    handler.addFilter(RedactingFilter(registry))
    logger = logging.getLogger(f"test_log_redact.{next(_counter)}")
    logger.handlers[:] = [handler]
    logger.propagate = False
    logger.setLevel(logging.DEBUG)
    return logger, stream


def log_everywhere(logger: logging.Logger, spelling: str) -> None:
    """The spelling as an argument, in the message itself, and inside a chained traceback."""
    logger.info("as an argument: %s and %r", spelling, spelling)
    logger.warning(f"inside the message: <{spelling}>")

    def explode() -> None:
        raise ValueError(f"inner {spelling}")

    try:
        try:
            explode()
        except ValueError as exc:
            raise RuntimeError(f"outer {spelling}") from exc
    except RuntimeError:
        logger.exception("failed with %s", spelling)
    logger.error("stack for %s", spelling, stack_info=True)


def assert_clean(text: str, spellings: set[str]) -> None:
    """No spelling appears, case-insensitively."""
    lowered = text.lower()
    leaked = sorted(s for s in spellings if s.lower() in lowered)
    assert not leaked, f"leaked {leaked}"


@given(key=st.binary(min_size=6, max_size=32))
def test_key_never_logged_in_any_spelling(key: bytes) -> None:
    registry = SecretRegistry()
    registry.register(key)
    logger, stream = capture(registry)
    spellings = byte_spellings(key)
    for spelling in spellings:
        log_everywhere(logger, spelling)
    output = stream.getvalue()
    assert_clean(output, spellings)
    assert "Traceback" in output
    assert "RuntimeError: outer " + REDACTED in output
    assert "ValueError: inner " + REDACTED in output


@given(pin=st.integers(1000, 99_999_999), width=st.sampled_from([4, 8]))
def test_pin_never_logged_in_any_spelling(pin: int, width: int) -> None:
    registry = SecretRegistry()
    registry.register(pin, width=width)
    logger, stream = capture(registry)
    spellings = int_spellings(pin, width)
    assert str(pin) in spellings
    for spelling in spellings:
        log_everywhere(logger, spelling)
    assert_clean(stream.getvalue(), spellings)


def test_digit_string_pin_is_masked_as_number_and_text() -> None:
    registry = SecretRegistry()
    registry.register("738159", width=4)
    logger, stream = capture(registry)
    spellings = int_spellings(738159, 4) | byte_spellings(b"738159")
    for spelling in spellings:
        log_everywhere(logger, spelling)
    assert_clean(stream.getvalue(), spellings)


def test_password_text_is_masked_with_its_encodings() -> None:
    password = "Hunter2 & co/secret!"
    registry = SecretRegistry()
    registry.register(password)
    logger, stream = capture(registry)
    spellings = {password, quote(password, safe="")} | byte_spellings(password.encode())
    for spelling in spellings:
        log_everywhere(logger, spelling)
    assert_clean(stream.getvalue(), spellings)


def test_other_text_is_left_alone() -> None:
    registry = SecretRegistry()
    registry.register(bytes.fromhex("c0ffee00deadbeef5ec2e7aa11223344"))
    assert registry.redact("Lock AA:BB:CC:DD:EE:FF unlocked by keypad") == (
        "Lock AA:BB:CC:DD:EE:FF unlocked by keypad"
    )
    assert registry.redact("key=C0FFEE00DEADBEEF5EC2E7AA11223344.") == f"key={REDACTED}."


def test_short_spellings_are_not_masked() -> None:
    # A 2-byte secret's base64 without padding ("ZeM") would mask ordinary words everywhere.
    forms = secret_forms(58213, width=2)
    assert all(len(form) >= MIN_FORM_LENGTH for form in forms)
    assert {"58213", "e365", "65e3", "ZeM="} <= forms


def test_bad_secrets_are_refused() -> None:
    with pytest.raises(TypeError):
        secret_forms(True)
    with pytest.raises(ValueError, match="does not fit"):
        secret_forms(70000, width=2)


def test_unregistered_registry_passes_records_through() -> None:
    logger, stream = capture(SecretRegistry())
    logger.info("value %s", "c0ffee00")
    assert stream.getvalue().endswith("value c0ffee00\n")


def test_bad_log_arguments_do_not_raise_and_stay_masked() -> None:
    registry = SecretRegistry()
    registry.register("s3cret-pass")
    logger, stream = capture(registry)
    logger.info("%d needs a number", "s3cret-pass")
    output = stream.getvalue()
    assert "bad log arguments" in output
    assert "s3cret-pass" not in output


def test_registered_globally_reaches_the_default_filter() -> None:
    token = "global-token-6c1f0a"  # unique to this test
    register_secret(token)
    logger, stream = capture(log_redact.SECRETS)
    logger.info("token %s", token)
    assert stream.getvalue().endswith(f"token {REDACTED}\n")


@pytest.fixture
def root_logging() -> Iterator[None]:
    """Restore the root logger, library levels and hooks that setup_logging changes."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    levels = {name: logging.getLogger(name).level for name in log_redact.LIBRARY_LOGGERS}
    hook = sys.excepthook
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    for name, old in levels.items():
        logging.getLogger(name).setLevel(old)
    sys.excepthook = hook
    logging.captureWarnings(False)


@pytest.mark.usefixtures("root_logging")
def test_setup_logging_formats_like_home_assistant() -> None:
    stream = io.StringIO()
    setup_logging("info", stream=stream)
    logging.getLogger("ttlock_nuki_addon.test").info("hello %s", "world")
    logging.getLogger("ttlock_nuki_addon.test").debug("hidden")
    line = stream.getvalue()
    pattern = (
        r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} INFO \(MainThread\) "
        r"\[ttlock_nuki_addon\.test\] hello world\n"
    )
    assert re.fullmatch(pattern, line), line


@pytest.mark.usefixtures("root_logging")
def test_setup_logging_again_replaces_its_handler() -> None:
    first, second = io.StringIO(), io.StringIO()
    setup_logging(LogLevel.DEBUG, stream=first)
    setup_logging(LogLevel.DEBUG, stream=second)
    logging.getLogger("ttlock_nuki_addon.test").debug("once")
    assert first.getvalue() == ""
    assert second.getvalue().count("once") == 1


@pytest.mark.usefixtures("root_logging")
@pytest.mark.parametrize(
    ("level", "shown", "hidden"),
    [
        (LogLevel.TRACE, ["ours debug", "bleak debug"], []),
        (LogLevel.DEBUG, ["ours debug", "bleak warning"], ["bleak debug"]),
        (LogLevel.NOTICE, ["ours info", "bleak warning"], ["ours debug", "bleak info"]),
        (LogLevel.FATAL, ["ours critical"], ["ours error", "bleak warning"]),
    ],
)
def test_levels_and_chatty_libraries(level: LogLevel, shown: list[str], hidden: list[str]) -> None:
    stream = io.StringIO()
    setup_logging(level, stream=stream)
    for name, who in (("ttlock_nuki_addon.x", "ours"), ("bleak.backends", "bleak")):
        logger = logging.getLogger(name)
        for method in ("debug", "info", "warning", "error", "critical"):
            getattr(logger, method)(f"{who} {method}")
    output = stream.getvalue()
    assert all(text in output for text in shown), output
    assert not any(text in output for text in hidden), output


@pytest.mark.usefixtures("root_logging")
def test_warnings_and_uncaught_exceptions_are_masked() -> None:
    registry = SecretRegistry()
    registry.register(b"\x8a\x11\x42\x99\x07\xee\x13\x70")
    stream = io.StringIO()
    setup_logging("warning", stream=stream, registry=registry)
    with warnings.catch_warnings():
        warnings.simplefilter("always")
        warnings.warn("key 8A11429907EE1370 in a warning", UserWarning, stacklevel=1)
    try:
        raise OSError("key 8a11429907ee1370 in a crash")
    except OSError as exc:
        sys.excepthook(type(exc), exc, exc.__traceback__)
    output = stream.getvalue()
    assert "8a11429907ee1370" not in output.lower()
    assert f"key {REDACTED} in a warning" in output
    assert "CRITICAL (MainThread) [ttlock_nuki_addon] Uncaught exception" in output
    assert f"OSError: key {REDACTED} in a crash" in output
