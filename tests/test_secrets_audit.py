"""The secrets audit (issue 8, item 4): the end-to-end suites run again in a child pytest with
every add-on log line, MQTT message and websocket frame captured (tests/app_rig.py and
tests/panel_rig.py write them to $TTLOCK_NUKI_AUDIT_DIR at exit), together with a copy of every
store file and exported backup. Every secret those stores hold is then searched for in every
capture, spelled in hex, decimal, base64 and as a byte list: none may be found.

Which secrets, where: every secret `record_secrets` names (AES and shared keys, admin keys and
admin passcode, the Nuki security PIN, keypad PIN codes) is searched in every channel: the
add-on's log, every MQTT message it published, every websocket frame either way, every backup
file. Only two fields are exempt, because there the user sees or types the value on purpose:
- a PIN credential's `code`: the panel shows PIN codes to its (admin) user, in the credential
  objects it receives and in the `credentials.add`/`credentials.update` requests carrying the
  code the user typed;
- the `pin` of a `lock.pair`/`lock.set_pin` request: the user types the Nuki security PIN into
  the page. It must never come back in any received frame.
Both values are searched in the rest of the same frame, and everywhere else (log, MQTT,
backup, other frames). MQTT messages the tests published themselves (Home Assistant's commands)
are not the add-on's output and are left out.
"""

from __future__ import annotations

import base64
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Literal

import pytest
from app_rig import AUDIT_ENV, ROOT, STORE_FILES

from ttlock_nuki_addon.app import record_secrets
from ttlock_nuki_addon.log_redact import SecretValue

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1200)]
CHILD_SECONDS = 1100.0  # the suites take about a minute alone on two CPUs
MIN_FORM = 4  # shorter spellings (a 2-byte key's unpadded base64) match text by chance
SHORT = 16  # spellings shorter than this must stand alone (not inside a longer run)
TAIL = 8000
ORDERS: tuple[Literal["big", "little"], ...] = ("big", "little")
USER_PIN_VERBS = frozenset({"lock.pair", "lock.set_pin"})
USER_CODE_VERBS = frozenset({"credentials.add", "credentials.update"})
CREDENTIAL_KEYS = frozenset({"id", "kind", "name", "code", "validity"})
# Each channel must have this much, so the audit cannot pass on an empty capture.
MINIMUM = {"log": 200, "mqtt": 50, "ws sent": 20, "ws received": 20, "backup": 1}
BACKUP_KEYS = frozenset({"format", "version", "created", "locks", "kdf", "nonce", "box"})


class Style(StrEnum):
    """How a spelling is written, which decides how it is matched."""

    DECIMAL = "decimal"  # digits; case does not matter; not inside a longer number
    HEX = "hex"  # any case, optional separators; not inside a longer word (0x prefix allowed)
    BASE64 = "base64"  # case matters; not inside a longer base64 run
    TEXT = "text"  # verbatim


_EDGES = {
    Style.DECIMAL: (r"(?<![0-9])", r"(?![0-9])"),
    Style.HEX: (r"(?:(?<![0-9A-Za-z])|(?<=0x)|(?<=0X))", r"(?![0-9A-Za-z])"),
    Style.BASE64: (r"(?<![A-Za-z0-9+/_-])", r"(?![A-Za-z0-9+/_=-])"),
    Style.TEXT: ("", ""),
}


@dataclass(frozen=True, slots=True)
class Spelling:
    """One way a secret can be written, and the pattern that finds it."""

    text: str
    style: Style

    def pattern(self) -> re.Pattern[str]:
        """Its regex: bounded if short, case-insensitive unless base64 or text."""
        before, after = _EDGES[self.style] if len(self.text) < SHORT else ("", "")
        flags = 0 if self.style in (Style.BASE64, Style.TEXT) else re.IGNORECASE
        return re.compile(before + re.escape(self.text) + after, flags)


_SEPS = ((",", ":"), (", ", ": "))  # json.dumps separators: compact and default


def _bytes_spellings(raw: bytes) -> set[Spelling]:
    found = {Spelling(raw.hex(), Style.HEX)}
    for encode in (base64.b64encode, base64.urlsafe_b64encode):
        encoded = encode(raw).decode()
        found |= {Spelling(encoded, Style.BASE64), Spelling(encoded.rstrip("="), Style.BASE64)}
    if len(raw) >= 4:  # "12:67" for a 2-byte value is any clock time
        found |= {Spelling(raw.hex(sep), Style.HEX) for sep in (" ", ":", "-")}
        found |= {Spelling(json.dumps(list(raw), separators=sep), Style.TEXT) for sep in _SEPS}
    return found


def spellings(value: SecretValue, width: int | None) -> frozenset[Spelling]:
    """Hex, decimal (either byte order where it travels as an int), base64, byte list, text."""
    found: set[Spelling] = set()
    if isinstance(value, str):
        found.add(Spelling(value, Style.DECIMAL if value.isdecimal() else Style.TEXT))
        found |= _bytes_spellings(value.encode())
    elif isinstance(value, int):
        size = width or max(1, (value.bit_length() + 7) // 8)
        for order in ORDERS:
            raw = value.to_bytes(size, order)
            found.add(Spelling(str(int.from_bytes(raw, "big")), Style.DECIMAL))
            found |= _bytes_spellings(raw)
    else:
        raw = bytes(value)
        found |= {Spelling(str(int.from_bytes(raw, o)), Style.DECIMAL) for o in ORDERS}
        found |= _bytes_spellings(raw)
    return frozenset(s for s in found if len(s.text) >= MIN_FORM)


class Kind(StrEnum):
    """What a secret is (for the report; every kind is searched in every channel)."""

    KEY = "key"  # an AES/shared key, an admin key, the admin passcode
    SECURITY_PIN = "security PIN"
    PIN_CODE = "PIN code"


@dataclass(frozen=True, slots=True)
class Secret:
    """One secret of one stored lock and its spellings."""

    name: str
    kind: Kind
    forms: frozenset[Spelling]


def _pin_codes(record: dict[str, object]) -> set[str]:
    books = record.get("credentials")
    pins = books.get("pin") if isinstance(books, dict) else None
    entries = pins.values() if isinstance(pins, dict) else ()
    return {str(e.get(k)) for e in entries if isinstance(e, dict) for k in ("code", "original")}


def _kind(record: dict[str, object], value: SecretValue) -> Kind:
    pin = record.get("security_pin")
    if isinstance(pin, int) and value in (pin, f"{pin:06d}"):
        return Kind.SECURITY_PIN
    if isinstance(value, str) and value in _pin_codes(record):
        return Kind.PIN_CODE
    return Kind.KEY


def store_secrets(capture: Path) -> list[Secret]:
    """Every secret of every lock in every captured store file (duplicates merged)."""
    merged: dict[tuple[str, Kind, frozenset[Spelling]], Secret] = {}
    for path in sorted(p for name in STORE_FILES for p in capture.rglob(name)):
        for lock_id, record in json.loads(path.read_text())["locks"].items():
            for index, (value, width) in enumerate(record_secrets(record)):
                kind, forms = _kind(record, value), spellings(value, width)
                name = f"lock {lock_id} secret #{index}"
                merged.setdefault((lock_id, kind, forms), Secret(name, kind, forms))
    return list(merged.values())


# --- the channels ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Text:
    """One captured text of a channel, where it came from, and the exempt values taken out."""

    channel: str
    where: str
    text: str
    exempt: tuple[tuple[Kind, str], ...] = ()


def _drop_credential_codes(value: object, out: list[tuple[Kind, str]]) -> object:
    if isinstance(value, list):
        return [_drop_credential_codes(item, out) for item in value]
    if not isinstance(value, dict):
        return value
    shown = value.keys() >= CREDENTIAL_KEYS  # a credential object: the admin sees its code
    if shown and value.get("kind") == "pin" and isinstance(value.get("code"), str):
        out.append((Kind.PIN_CODE, value["code"]))
    return {
        k: _drop_credential_codes(v, out) for k, v in value.items() if not (shown and k == "code")
    }


def frame_text(sent: bool, payload: str) -> tuple[str, tuple[tuple[Kind, str], ...]]:
    """A frame with the exempt fields taken out (see the module docstring), and their values."""
    try:
        message = json.loads(payload)
    except ValueError:
        return payload, ()
    out: list[tuple[Kind, str]] = []
    if sent and isinstance(message, dict):
        verb = message.get("type")
        if verb in USER_PIN_VERBS and message.get("pin") is not None:
            out.append((Kind.SECURITY_PIN, str(message.pop("pin"))))
        if verb in USER_CODE_VERBS and message.get("code") is not None:
            code = str(message.pop("code"))
            if message.get("kind") == "pin":
                out.append((Kind.PIN_CODE, code))
    elif not sent:
        message = _drop_credential_codes(message, out)
    return json.dumps(message), tuple(out)


def captured(capture: Path) -> Iterator[Text]:
    """Every text the child run captured, by channel."""
    for path in sorted(capture.rglob("addon.*")):
        for number, line in enumerate(path.read_text(errors="replace").splitlines(), 1):
            yield Text("log", f"{path.relative_to(capture)}:{number}", line)
    for path in sorted(capture.rglob("mqtt.jsonl")):
        for number, line in enumerate(path.read_text().splitlines(), 1):
            message = json.loads(line)
            if message["from_test"]:
                continue  # "Home Assistant's" commands, published by the tests themselves
            payload = base64.b64decode(message["payload"]).decode("latin-1")
            where = f"{path.relative_to(capture)}:{number}"
            yield Text("mqtt", where, message["topic"] + "\n" + payload)
    for path in sorted(capture.rglob("ws.jsonl")):
        for number, line in enumerate(path.read_text().splitlines(), 1):
            frame = json.loads(line)
            raw = frame["payload"]
            payload = raw if frame["text"] else base64.b64decode(raw).decode("latin-1")
            channel = "ws sent" if frame["sent"] else "ws received"
            where = f"{path.relative_to(capture)}:{number}"
            yield Text(channel, where, *frame_text(frame["sent"], payload))
    for path in sorted(capture.rglob("backup-*.json")):
        yield Text("backup", str(path.relative_to(capture)), path.read_text())


def shown_secrets(texts: list[Text]) -> list[Secret]:
    """The PIN codes and security PINs the exempt fields held: a deleted or changed one is no
    longer in any store, yet must not show up anywhere else either."""
    values = {pair for text in texts for pair in text.exempt}
    return [
        Secret(f"{kind} {value[:2]}.. seen in the panel", kind, spellings(value, None))
        for kind, value in sorted(values)
    ]


def leaks(secrets: list[Secret], texts: list[Text]) -> list[str]:
    """Where a secret shows up: "<secret> (<kind>) as <spelling> in <channel> <where>: <text>"."""
    lowered = [text.text.lower() for text in texts]
    found = []
    for secret in secrets:
        for form in secret.forms:
            needle = form.text.lower()
            pattern = form.pattern()
            for text, low in zip(texts, lowered, strict=True):
                if needle in low and pattern.search(text.text):  # the cheap test first
                    found.append(
                        f"{secret.name} ({secret.kind}) as {form.text!r} in {text.channel} "
                        f"{text.where}: {text.text[:300]!r}"
                    )
    return found


# --- the tests -------------------------------------------------------------------------------


def test_the_search_finds_every_spelling_and_nothing_inside_longer_runs() -> None:
    key = bytes(range(0xA0, 0xB0))
    forms = spellings(key, None)
    secret = Secret("test key", Kind.KEY, forms)
    styles = {form.style for form in forms}
    assert styles == {Style.HEX, Style.DECIMAL, Style.BASE64, Style.TEXT}
    for form in forms:
        text = Text(
            "log", "here", f"key={form.text.upper() if form.style is Style.HEX else form.text}"
        )
        assert leaks([secret], [text]), form
    pin = Secret("pin", Kind.SECURITY_PIN, spellings(4711, 2))
    assert leaks([pin], [Text("log", "here", "pin 4711.")])
    assert leaks([pin], [Text("log", "here", "pin=0x1267")])
    assert not leaks([pin], [Text("log", "here", "port 47110, box Xy1267ab, at 12:67")])
    sent = frame_text(True, json.dumps({"id": 1, "type": "lock.pair", "pin": "4711"}))
    assert "4711" not in sent[0] and sent[1] == ((Kind.SECURITY_PIN, "4711"),)
    received = {
        "id": 2,
        "ok": True,
        "result": [
            {"id": 1, "kind": "pin", "name": "A", "code": "4711", "validity": {"type": "permanent"}}
        ],
    }
    assert frame_text(False, json.dumps(received))[1] == ((Kind.PIN_CODE, "4711"),)
    assert "4711" not in frame_text(False, json.dumps(received))[0]
    error = {"id": 3, "ok": False, "error": {"code": "rejected", "message": "PIN 4711 taken"}}
    assert "4711" in frame_text(False, json.dumps(error))[0]


def run_suites(capture: Path, scratch: Path) -> None:
    """Run the end-to-end suites in a child pytest that captures into `capture`."""
    suite = ["tests/test_app_e2e.py"]
    suite += sorted(str(p.relative_to(ROOT)) for p in (ROOT / "tests").glob("test_panel_e2e*.py"))
    command = [sys.executable, "-m", "pytest", *suite, "-p", "no:cacheprovider", "-q"]
    command.append(f"--basetemp={scratch / 'child'}")
    env = {**os.environ, AUDIT_ENV: str(capture)}
    log = scratch / "child.log"
    with log.open("wb") as out:
        child = subprocess.run(
            command, cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=out,
            stderr=subprocess.STDOUT, timeout=CHILD_SECONDS, check=False,
        )  # fmt: skip
    assert child.returncode == 0, f"the end-to-end suites failed:\n{log.read_text()[-TAIL:]}"


def audit(capture: Path) -> str:
    """Search a capture; AssertionError on a leak or too little captured. A summary line."""
    secrets = store_secrets(capture)
    kinds = {secret.kind for secret in secrets}
    assert kinds == set(Kind), f"the stores lack a kind of secret: {kinds}"
    plain_hex = {len(f.text) for s in secrets for f in s.forms if re.fullmatch("[0-9a-f]+", f.text)}
    assert {32, 64} <= plain_hex, "no TTLock AES key or no Nuki shared key in the stores"
    texts = list(captured(capture))
    counts = {channel: sum(t.channel == channel for t in texts) for channel in MINIMUM}
    assert all(counts[c] >= n for c, n in MINIMUM.items()), f"too little captured: {counts}"
    assert len(list(capture.glob("addon-*"))) >= 3, "an add-on process was not captured"
    for text in texts:
        if text.channel == "backup":
            assert set(json.loads(text.text)) == BACKUP_KEYS, text.where
    shown = shown_secrets(texts)
    assert {secret.kind for secret in shown} == {Kind.PIN_CODE, Kind.SECURITY_PIN}, shown
    searched = secrets + [s for s in shown if s.forms not in {t.forms for t in secrets}]
    found = leaks(searched, texts)
    assert not found, "\n".join(found[:20])
    forms = sum(len(secret.forms) for secret in searched)
    return f"{len(searched)} secrets in {forms} spellings searched in {counts}: none found"


def test_no_stored_secret_in_any_log_line_mqtt_message_frame_or_backup(tmp_path: Path) -> None:
    capture = tmp_path / "capture"
    run_suites(capture, tmp_path)
    print(audit(capture))  # noqa: T201
