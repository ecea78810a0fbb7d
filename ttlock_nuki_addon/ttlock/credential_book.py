"""One TTLock's credential names, ids and PIN codes, kept in its store record (spec §6.6).

TTLock keeps no names, and addresses PINs by their code; the store maps each opaque credential
id to its name, validity and (PINs only) code. Cards are keyed by card number and fingerprints
by the lock's fingerprint id, both as decimal strings.
"""

from __future__ import annotations

import secrets

from ..credentials import CredentialKind
from ..store import JsonObject, JsonValue, Store
from ..validity import Permanent, ValidationError, Validity
from . import passcode_cmds as pc
from .oplog_events import CredentialRef
from .validity_map import passcode_validity

K = CredentialKind
ADMIN_PASSCODE_NAME = "Admin passcode"


def name_of(entry: JsonObject) -> str | None:
    """The stored name of an entry, None when absent."""
    name = entry.get("name")
    return name if isinstance(name, str) else None


def stored_validity(entry: JsonObject) -> Validity | None:
    """The stored validity of an entry, None when absent or unreadable."""
    try:
        return Validity.from_json(entry.get("validity"))
    except ValidationError:
        return None


class CredentialBook:
    """One lock's credential names, ids and PIN codes in its store record (TTLock keeps none)."""

    def __init__(self, store: Store, lock_id: str) -> None:
        self._store, self._lock_id = store, lock_id

    def entries(self, kind: CredentialKind) -> dict[str, JsonObject]:
        """Stored entries of `kind` by credential id."""
        record = self._store.get_lock(self._lock_id) or {}
        credentials = record.get("credentials")
        section = credentials.get(kind.value) if isinstance(credentials, dict) else None
        if not isinstance(section, dict):
            return {}
        return {key: value for key, value in section.items() if isinstance(value, dict)}

    def replace(self, kind: CredentialKind, entries: dict[str, JsonObject]) -> None:
        """Make the stored entries of `kind` exactly `entries` (written only when different)."""
        if entries == self.entries(kind):
            return

        def change(locks: dict[str, JsonObject]) -> None:
            record = locks.get(self._lock_id)
            if record is None:
                return  # the lock was removed meanwhile
            section: dict[str, JsonValue] = dict(entries)
            credentials = record.get("credentials")
            if isinstance(credentials, dict):
                credentials[kind.value] = section
            else:
                record["credentials"] = {kind.value: section}

        self._store.update(lambda doc: change(doc["locks"]))

    def put(self, kind: CredentialKind, cred_id: str, entry: JsonObject) -> None:
        """Store one entry."""
        self.replace(kind, {**self.entries(kind), cred_id: entry})

    def remove(self, kind: CredentialKind, cred_id: str) -> None:
        """Forget one entry."""
        entries = self.entries(kind)
        entries.pop(cred_id, None)
        self.replace(kind, entries)

    def resolve(self, ref: CredentialRef, admin_code: str | None) -> tuple[str | None, str | None]:
        """(id, name) of the credential a log record names; PIN codes never leave here."""
        if ref.kind is K.PIN:
            codes = {ref.key, ref.alternate}
            if admin_code is not None and admin_code in codes:
                return None, ADMIN_PASSCODE_NAME
            for cred_id, entry in self.entries(K.PIN).items():
                if entry.get("code") in codes or entry.get("original") == ref.key:
                    return cred_id, name_of(entry)
            return None, None
        known = self.entries(ref.kind).get(ref.key)
        return ref.key, None if known is None else name_of(known)


def new_pin_id() -> str:
    """A fresh opaque PIN id; never derived from the code."""
    return f"pin-{secrets.token_hex(4)}"


def pin_matches(record: pc.PasscodeRecord, validity: Validity) -> bool:
    """Whether a listed passcode carries exactly the fields `validity` maps to."""
    try:
        wanted = passcode_validity(validity)
    except ValidationError:
        return False
    if record.type != wanted.type or record.start != wanted.start:
        return False
    if wanted.type == pc.PasscodeType.PERMANENT:
        return True
    cycle_ok = wanted.type != pc.PasscodeType.CYCLIC or record.cycle_type == wanted.cycle_type
    return record.end == wanted.end and cycle_ok


def pin_type(validity: Validity | None) -> pc.PasscodeType:
    """The passcode type a stored validity was written with (permanent when unreadable)."""
    try:
        return passcode_validity(validity or Permanent()).type
    except ValidationError:
        return pc.PasscodeType.PERMANENT


def number_of(kind: CredentialKind, cred_id: str) -> int | None:
    """A card number or fingerprint id from its credential id; None if it cannot be one."""
    if not (cred_id.isascii() and cred_id.isdigit()) or len(cred_id) > 20:
        return None
    value = int(cred_id)
    return value if value < 1 << (64 if kind is K.CARD else 48) else None
