"""Encrypted backups: round trip, and every way a file can be wrong, without changing anything."""

from __future__ import annotations

import base64
import json
import time
import unicodedata
import zlib
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import nacl.secret
import pytest
from nacl.pwhash import argon2id
from web_rig import FAST_KDF

from ttlock_nuki_addon.store import Document, Store, empty_document
from ttlock_nuki_addon.validity import ValidationError
from ttlock_nuki_addon.web import backup
from ttlock_nuki_addon.web.backup import Backups, KdfLimits
from ttlock_nuki_addon.web.errors import BackupError

NOW = datetime(2025, 3, 1, 9, 30, tzinfo=UTC)
PASSPHRASE = "correct horse battery"
AES_KEY = "00112233445566778899aabbccddeeff"


def document() -> Document:
    doc = empty_document()
    doc["installation"]["nuki_app_id"] = 123456
    doc["locks"]["3838e51d71fe"] = {
        "brand": "ttlock", "name": "Front door", "aes_key": AES_KEY, "admin_ps": 987654321,
        "complete": True,
    }  # fmt: skip
    return doc


def sealed(doc: Document | None = None, passphrase: str = PASSPHRASE) -> str:
    return backup.export(doc or document(), passphrase, FAST_KDF, now=NOW)


def edited(text: str, **changes: Any) -> str:
    envelope = json.loads(text)
    envelope.update(changes)
    return json.dumps(envelope)


def reseal(text: str, plain: bytes) -> str:
    """The same envelope with `plain` sealed under the same passphrase (for crafted contents)."""
    envelope = json.loads(text)
    salt = base64.b64decode(envelope["kdf"]["salt"])
    key = argon2id.kdf(32, PASSPHRASE.encode(), salt, opslimit=1, memlimit=8192)
    box = nacl.secret.SecretBox(key).encrypt(plain)
    envelope["nonce"] = base64.b64encode(box.nonce).decode()
    envelope["box"] = base64.b64encode(box.ciphertext).decode()
    return json.dumps(envelope)


def test_round_trip_and_only_the_lock_count_is_readable() -> None:
    text = sealed()
    envelope = json.loads(text)
    assert envelope["format"] == "ttlock-nuki-backup" and envelope["version"] == 1
    assert envelope["locks"] == 1 and envelope["created"] == "2025-03-01T09:30:00+00:00"
    assert envelope["kdf"] == {
        "name": "argon2id", "opslimit": 1, "memlimit": 8192, "salt": envelope["kdf"]["salt"],
    }  # fmt: skip
    assert "Front door" not in text and AES_KEY not in text and "987654321" not in text
    assert backup.import_(text, PASSPHRASE) == document()
    assert sealed() != text  # a new salt and nonce every time


def test_the_passphrase_is_compared_in_one_unicode_form() -> None:
    composed = "Türschloss-Geheimnis"
    text = sealed(passphrase=composed)
    assert backup.import_(text, unicodedata.normalize("NFD", composed)) == document()


def test_the_default_cost_is_moderate() -> None:
    limits = KdfLimits()
    assert (limits.opslimit, limits.memlimit) == (3, 64 << 20)
    started = time.monotonic()
    text = backup.export(document(), PASSPHRASE, now=NOW)
    assert time.monotonic() - started < 5  # ~0.1 s here; well under a second on a Pi 4
    assert json.loads(text)["kdf"]["memlimit"] == 64 << 20
    with pytest.raises(ValueError, match="opslimit"):
        KdfLimits(opslimit=0)
    with pytest.raises(ValueError, match="memlimit"):
        KdfLimits(memlimit=1 << 30)


@pytest.mark.parametrize("passphrase", ["", "short", "7chars!", "x" * 1025, None, 12345678])
def test_a_bad_passphrase_is_a_bad_request(passphrase: Any) -> None:
    with pytest.raises(ValidationError, match="'passphrase'"):
        backup.export(document(), passphrase, FAST_KDF, now=NOW)
    with pytest.raises(ValidationError, match="'passphrase'"):
        backup.import_(sealed(), passphrase)


def test_a_wrong_passphrase_is_a_clear_error() -> None:
    with pytest.raises(BackupError, match="passphrase is wrong") as wrong:
        backup.import_(sealed(), "another passphrase")
    assert wrong.value.code == "backup"


def test_a_tampered_box_or_nonce_fails_authentication() -> None:
    text = sealed()
    envelope = json.loads(text)
    box = bytearray(base64.b64decode(envelope["box"]))
    box[len(box) // 2] ^= 0x01
    with pytest.raises(BackupError, match="passphrase is wrong, or the backup file is damaged"):
        backup.import_(edited(text, box=base64.b64encode(bytes(box)).decode()), PASSPHRASE)
    nonce = bytearray(base64.b64decode(envelope["nonce"]))
    nonce[0] ^= 0x80
    with pytest.raises(BackupError, match="damaged"):
        backup.import_(edited(text, nonce=base64.b64encode(bytes(nonce)).decode()), PASSPHRASE)
    salt = envelope["kdf"] | {"salt": base64.b64encode(b"s" * 16).decode()}
    with pytest.raises(BackupError, match="passphrase is wrong"):
        backup.import_(edited(text, kdf=salt), PASSPHRASE)


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("", "not JSON"),
        ("not json at all", "not JSON"),
        ("[" * 100_000, "not JSON"),
        ("[]", "not a backup"),
        ('"ttlock-nuki-backup"', "not a backup"),
        ("{}", "not a backup"),
        ('{"format": "something-else", "version": 1}', "not a backup"),
        ('{"format": "ttlock-nuki-backup", "version": 2}', "newer version"),
        ('{"format": "ttlock-nuki-backup", "version": 0}', "damaged"),
        ('{"format": "ttlock-nuki-backup", "version": true}', "damaged"),
        ('{"format": "ttlock-nuki-backup", "version": "1"}', "damaged"),
        ('{"format": "ttlock-nuki-backup", "version": 1}', "key settings"),
    ],
)
def test_files_that_are_not_backups(text: str, words: str) -> None:
    with pytest.raises(BackupError, match=words):
        backup.import_(text, PASSPHRASE)


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"kdf": {"name": "scrypt"}}, "key settings are not readable"),
        ({"kdf": "argon2id"}, "key settings are not readable"),
        ({"kdf": {"name": "argon2id", "opslimit": 1, "memlimit": 8192}}, "salt"),
        ({"kdf": {"name": "argon2id", "opslimit": 999, "memlimit": 8192}}, "out of range"),
        ({"kdf": {"name": "argon2id", "opslimit": 1, "memlimit": 1 << 40}}, "out of range"),
        ({"kdf": {"name": "argon2id", "opslimit": "1", "memlimit": 8192}}, "out of range"),
        (
            {"kdf": {"name": "argon2id", "opslimit": 1, "memlimit": 8192, "salt": "c2hvcnQ="}},
            "salt has the wrong length",
        ),
        ({"nonce": "not base64!"}, "nonce is not readable"),
        ({"nonce": base64.b64encode(b"n" * 8).decode()}, "nonce has the wrong length"),
        ({"nonce": None}, "nonce is not readable"),
        ({"box": 17}, "sealed data is not readable"),
        ({"box": base64.b64encode(b"x" * 8).decode()}, "cut short"),
    ],
)
def test_damaged_envelopes(change: dict[str, Any], words: str) -> None:
    with pytest.raises(BackupError, match=words):
        backup.import_(edited(sealed(), **change), PASSPHRASE)


def test_huge_input_is_refused_before_any_work() -> None:
    huge = " " * (backup.MAX_TEXT + 1)
    started = time.monotonic()
    with pytest.raises(BackupError, match="too large"):
        backup.import_(huge, PASSPHRASE)
    assert time.monotonic() - started < 1
    with pytest.raises(ValidationError, match="'data'"):
        backup.import_(b"bytes", PASSPHRASE)


def test_sealed_contents_that_are_not_a_store_are_refused() -> None:
    text = sealed()
    bomb = zlib.compress(b" " * (backup.MAX_PLAIN + 10))
    with pytest.raises(BackupError, match="too large"):
        backup.import_(reseal(text, bomb), PASSPHRASE)
    with pytest.raises(BackupError, match="content is not readable"):
        backup.import_(reseal(text, b"plain, not zlib"), PASSPHRASE)
    with pytest.raises(BackupError, match="cut short"):
        backup.import_(reseal(text, zlib.compress(b'{"schema": 1}')[:-4]), PASSPHRASE)
    with pytest.raises(BackupError, match="no usable add-on data"):
        backup.import_(reseal(text, zlib.compress(b'{"schema": 1, "locks": []}')), PASSPHRASE)
    newer = zlib.compress(b'{"schema": 99, "installation": {}, "locks": {}}')
    with pytest.raises(BackupError, match="newer version"):
        backup.import_(reseal(text, newer), PASSPHRASE)


async def test_backups_of_a_store(tmp_path: Path) -> None:
    store = Store(tmp_path / "data")
    store.load()
    store.put_lock("3838e51d71fe", document()["locks"]["3838e51d71fe"])
    backups = Backups(store, FAST_KDF)
    exported = await backups.export(PASSPHRASE, NOW)
    assert exported["filename"] == "ttlock-nuki-backup-20250301-0930.json"
    assert isinstance(exported["data"], str)
    restored = await backups.read(exported["data"], PASSPHRASE)
    assert restored["locks"] == store.export_document()["locks"]
    with pytest.raises(ValidationError):
        await backups.export("short", NOW)
    with pytest.raises(BackupError, match="not a backup"):
        await backups.read("{}", PASSPHRASE)
