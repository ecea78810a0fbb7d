"""Encrypted backups of the store: an Argon2id key from a passphrase and a NaCl SecretBox.

A backup file is JSON text::

    {"format": "ttlock-nuki-backup", "version": 1, "created": ISO, "locks": N,
     "kdf": {"name": "argon2id", "opslimit": 3, "memlimit": 67108864, "salt": b64},
     "nonce": b64, "box": b64}

The box holds the whole store document (names, keys, credentials) as zlib-compressed JSON; only
the lock count is readable without the passphrase. Reading refuses key settings above fixed
ceilings, so a crafted file cannot make the add-on spend minutes or gigabytes on the key.
`export` and `import_` are pure and slow (the key derivation): run them in a worker thread.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import unicodedata
import zlib
from dataclasses import dataclass
from datetime import datetime

import nacl.exceptions
import nacl.secret
import nacl.utils
from nacl.pwhash import argon2id

from ..errors import StoreError
from ..store import Document, Store, parse_document
from ..validity import JSONObject, ValidationError
from .errors import BackupError

FORMAT = "ttlock-nuki-backup"
VERSION = 1
MIN_PASSPHRASE = 8
MAX_PASSPHRASE = 1024
MAX_TEXT = 1 << 20  # characters; a store of many locks compresses to a few kilobytes
MAX_PLAIN = 16 << 20  # bytes of store JSON a box may unpack to
MAX_OPSLIMIT = 10
MAX_MEMLIMIT = 256 << 20  # a Raspberry Pi has this to spare for a moment, not more
_DAMAGED = "The backup file is damaged ({}). Use an undamaged copy of the file."
_WRONG = (
    "The passphrase is wrong, or the backup file is damaged. Type the passphrase used for "
    "the export, or use an undamaged copy of the file."
)


@dataclass(frozen=True, slots=True)
class KdfLimits:
    """Argon2id cost: passes over memory and memory in bytes (tests pass the minimum)."""

    opslimit: int = 3
    memlimit: int = 64 << 20  # well under a second on a Raspberry Pi 4

    def __post_init__(self) -> None:
        if not argon2id.OPSLIMIT_MIN <= self.opslimit <= MAX_OPSLIMIT:
            raise ValueError(f"opslimit must be {argon2id.OPSLIMIT_MIN} to {MAX_OPSLIMIT}")
        if not argon2id.MEMLIMIT_MIN <= self.memlimit <= MAX_MEMLIMIT:
            raise ValueError(f"memlimit must be {argon2id.MEMLIMIT_MIN} to {MAX_MEMLIMIT}")


def passphrase_bytes(passphrase: object) -> bytes:
    """The passphrase as bytes (Unicode NFC, so every device types the same); ValidationError."""
    if not isinstance(passphrase, str):
        raise ValidationError("'passphrase' must be a string.")
    if not MIN_PASSPHRASE <= len(passphrase) <= MAX_PASSPHRASE:
        raise ValidationError(
            f"'passphrase' must be {MIN_PASSPHRASE} to {MAX_PASSPHRASE} characters long."
        )
    try:
        return unicodedata.normalize("NFC", passphrase).encode("utf-8")
    except UnicodeEncodeError:
        raise ValidationError("'passphrase' holds characters that cannot be typed.") from None


def _key(passphrase: bytes, salt: bytes, limits: KdfLimits) -> bytes:
    size = nacl.secret.SecretBox.KEY_SIZE
    return argon2id.kdf(size, passphrase, salt, opslimit=limits.opslimit, memlimit=limits.memlimit)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def export(
    document: Document, passphrase: str, limits: KdfLimits | None = None, *, now: datetime
) -> str:
    """The backup file's text for `document`, sealed with `passphrase`; ValidationError."""
    secret, limits = passphrase_bytes(passphrase), limits or KdfLimits()
    salt = nacl.utils.random(argon2id.SALTBYTES)
    plain = zlib.compress(json.dumps(document, sort_keys=True, allow_nan=False).encode(), 9)
    sealed = nacl.secret.SecretBox(_key(secret, salt, limits)).encrypt(plain)
    envelope = {
        "format": FORMAT,
        "version": VERSION,
        "created": now.isoformat(timespec="seconds"),
        "locks": len(document["locks"]),
        "kdf": {
            "name": "argon2id",
            "opslimit": limits.opslimit,
            "memlimit": limits.memlimit,
            "salt": _b64(salt),
        },
        "nonce": _b64(sealed.nonce),
        "box": _b64(sealed.ciphertext),
    }
    return json.dumps(envelope, indent=2) + "\n"


def _envelope(text: object) -> dict[str, object]:
    if not isinstance(text, str):
        raise ValidationError("'data' must be the backup file's text.")
    if len(text) > MAX_TEXT:
        raise BackupError("This file is too large to be a backup of this add-on.")
    try:
        envelope = json.loads(text)
    except (ValueError, RecursionError):
        raise BackupError("This file is not a backup of this add-on (it is not JSON).") from None
    if not isinstance(envelope, dict) or envelope.get("format") != FORMAT:
        raise BackupError("This file is not a backup of this add-on.")
    version = envelope.get("version")
    if isinstance(version, int) and not isinstance(version, bool) and version > VERSION:
        raise BackupError(
            "This backup was made by a newer version of the add-on. Update the add-on, then "
            "import it again."
        )
    if version != VERSION or isinstance(version, bool):
        raise BackupError(_DAMAGED.format("unknown version"))
    return envelope


def _bytes(value: object, what: str, size: int | None = None) -> bytes:
    try:
        if not isinstance(value, str):
            raise ValueError(what)
        data = base64.b64decode(value, validate=True)
    except (ValueError, binascii.Error):
        raise BackupError(_DAMAGED.format(f"{what} is not readable")) from None
    if size is not None and len(data) != size:
        raise BackupError(_DAMAGED.format(f"{what} has the wrong length"))
    return data


def _limits(kdf: object) -> tuple[KdfLimits, bytes]:
    if not isinstance(kdf, dict) or kdf.get("name") != "argon2id":
        raise BackupError(_DAMAGED.format("its key settings are not readable"))
    ops, mem = kdf.get("opslimit"), kdf.get("memlimit")
    try:
        if not isinstance(ops, int) or not isinstance(mem, int):
            raise ValueError("not numbers")
        limits = KdfLimits(ops, mem)
    except ValueError:
        raise BackupError(_DAMAGED.format("its key settings are out of range")) from None
    return limits, _bytes(kdf.get("salt"), "the salt", argon2id.SALTBYTES)


def _unpack(plain: bytes) -> bytes:
    unpacker = zlib.decompressobj()
    try:
        data = unpacker.decompress(plain, MAX_PLAIN + 1)
    except zlib.error:
        raise BackupError(_DAMAGED.format("its content is not readable")) from None
    if len(data) > MAX_PLAIN or not unpacker.eof:
        raise BackupError(_DAMAGED.format("its content is too large or cut short"))
    return data


def import_(text: object, passphrase: object) -> Document:
    """The store document inside a backup file's text; BackupError or ValidationError."""
    secret = passphrase_bytes(passphrase)
    envelope = _envelope(text)
    limits, salt = _limits(envelope.get("kdf"))
    nonce = _bytes(envelope.get("nonce"), "the nonce", nacl.secret.SecretBox.NONCE_SIZE)
    box = _bytes(envelope.get("box"), "the sealed data")
    if len(box) < nacl.secret.SecretBox.MACBYTES:
        raise BackupError(_DAMAGED.format("the sealed data is cut short"))
    try:
        plain = nacl.secret.SecretBox(_key(secret, salt, limits)).decrypt(box, nonce)
    except nacl.exceptions.CryptoError:
        raise BackupError(_WRONG) from None
    try:
        return parse_document(_unpack(plain))
    except StoreError as exc:
        raise BackupError(f"The backup holds no usable add-on data. {exc.message}") from None


class Backups:
    """Backups of one store; key derivations run one at a time in a worker thread."""

    def __init__(self, store: Store, limits: KdfLimits | None = None) -> None:
        self.store, self.limits = store, limits or KdfLimits()
        self._one_at_a_time = asyncio.Lock()

    async def export(self, passphrase: str, now: datetime) -> JSONObject:
        """{"filename", "data"}: the whole store sealed with `passphrase`; ValidationError."""
        passphrase_bytes(passphrase)  # a bad one is refused before any work
        document = self.store.export_document()
        async with self._one_at_a_time:
            data = await asyncio.to_thread(export, document, passphrase, self.limits, now=now)
        return {"filename": f"ttlock-nuki-backup-{now:%Y%m%d-%H%M}.json", "data": data}

    async def read(self, text: object, passphrase: object) -> Document:
        """The store document in a backup's text; BackupError, ValidationError."""
        passphrase_bytes(passphrase)
        _envelope(text)  # not a backup at all: say so before the slow part
        async with self._one_at_a_time:
            return await asyncio.to_thread(import_, text, passphrase)
