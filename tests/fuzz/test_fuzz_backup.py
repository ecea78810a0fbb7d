"""Fuzzing what a backup file brings in through `backup.import`: the file itself, the store
document inside it, and the lock records the manager then loads. A record that parses must
also be usable: its fields fit the frames, keys and clocks the drivers build from it."""

from __future__ import annotations

import json
from datetime import datetime

import pytest
from hypothesis import strategies as st

from ttlock_nuki_addon.errors import StoreError
from ttlock_nuki_addon.nuki import codec as nuki_codec
from ttlock_nuki_addon.nuki.record import NukiRecord
from ttlock_nuki_addon.store import parse_document
from ttlock_nuki_addon.ttlock.codec import Command
from ttlock_nuki_addon.ttlock.dates import from_lock_local
from ttlock_nuki_addon.ttlock.framing import encode_request
from ttlock_nuki_addon.ttlock.pairing import TTLockRecord
from ttlock_nuki_addon.web.backup import import_, passphrase_bytes

from .json_inputs import PASSPHRASE, backup_texts, documents, nuki_records, ttlock_records
from .support import TYPED, Case, json_values, params, radio, run_case, texts

WALL = datetime(2025, 3, 1, 12, 0)


def _ttlock(obj: object) -> object:
    """Parse a stored TTLock record, then use it as the driver does (frames, lock clock)."""
    record = TTLockRecord.from_json(obj)  # type: ignore[arg-type]
    encode_request(Command.CHECK_ADMIN, b"", record.aes_key, version=record.version)
    from_lock_local(WALL, record.utc_offset)
    return record.to_json()


def _nuki(obj: object) -> object:
    """Parse a stored Nuki record, then seal a message with its key and authorization id."""
    record = NukiRecord.from_json(obj)  # type: ignore[arg-type]
    nuki_codec.encrypt(record.shared_key, record.auth_id, nuki_codec.Command.REQUEST_DATA, b"")
    return record.to_json()


_TT = {
    "brand": "ttlock", "complete": True, "address": "AA:BB:CC:00:11:22", "name": "Door",
    "model": "TTLock", "aes_key": "00" * 16, "admin_ps": 1, "unlock_key": 2, "lock_flag_pos": 0,
    "uid": 0, "features": "0", "paired_at": "2025-03-01T12:00:00+00:00", "utc_offset_seconds": 0,
    "lock_version": {"protocol_type": 5, "sub_version": 3, "scene": 1, "organization": 1,
                     "sub_organization": 1},
}  # fmt: skip
_NK = {
    "brand": "nuki", "complete": True, "address": "54:D2:72:AA:00:01", "name": "Door",
    "family": "smart_lock", "model": "Nuki", "shared_key": "00" * 32, "auth_id": 7, "app_id": 1,
    "id_type": 1, "lock_uuid": "00" * 16, "paired_at": "2025-03-01T12:00:00+00:00",
}  # fmt: skip
# Minimal failing inputs found by this fuzzer (see the report of issue 8, item 3).
TT_HUGE_OFFSET = {**_TT, "utc_offset_seconds": 10**20}  # OverflowError in timedelta()
TT_DAY_OFFSET = {**_TT, "utc_offset_seconds": 86_400}  # ValueError in timezone() later
TT_WIDE_VERSION = {**_TT, "lock_version": {**_TT["lock_version"], "protocol_type": 256}}  # type: ignore[dict-item]
TT_WIDE_ORG = {**_TT, "lock_version": {**_TT["lock_version"], "organization": -1}}  # type: ignore[dict-item]
NK_WIDE_AUTH_ID = {**_NK, "auth_id": 2**32}  # struct.error when sealing any message
NK_NEGATIVE_AUTH_ID = {**_NK, "auth_id": -1}

documents_raw = radio(
    documents.map(lambda doc: json.dumps(doc).encode()),
    json_values.map(lambda value: json.dumps(value).encode()),
    max_size=80,
)
CASES = [
    Case("web.backup.import_", lambda text: import_(text, PASSPHRASE), backup_texts(), TYPED,
         dict),
    Case("web.backup.import_(any passphrase)", lambda p: import_(*p),
         st.tuples(backup_texts(), st.just(PASSPHRASE) | texts | json_values), TYPED, dict),
    Case("web.backup.passphrase_bytes", passphrase_bytes, texts | json_values, TYPED, bytes),
    Case("store.parse_document", parse_document, documents_raw, (StoreError,), dict),
    Case("ttlock.pairing.TTLockRecord.from_json", _ttlock, ttlock_records, TYPED, dict,
         examples=(_TT, TT_HUGE_OFFSET, TT_DAY_OFFSET, TT_WIDE_VERSION, TT_WIDE_ORG)),
    Case("nuki.record.NukiRecord.from_json", _nuki, nuki_records, TYPED, dict,
         examples=(_NK, NK_WIDE_AUTH_ID, NK_NEGATIVE_AUTH_ID)),
]  # fmt: skip


@pytest.mark.parametrize("case", params(CASES))
def test_backup_input_raises_only_typed_errors(case: Case) -> None:
    """A backup's text, document and records: a typed value, or BackupError/StoreError."""
    run_case(case)


@pytest.mark.parametrize(
    ("parse", "obj"),
    [
        pytest.param(_ttlock, TT_HUGE_OFFSET, id="ttlock-huge-utc-offset"),
        pytest.param(_ttlock, TT_DAY_OFFSET, id="ttlock-24h-utc-offset"),
        pytest.param(_ttlock, TT_WIDE_VERSION, id="ttlock-protocol-type-256"),
        pytest.param(_ttlock, TT_WIDE_ORG, id="ttlock-organization-minus-1"),
        pytest.param(_nuki, NK_WIDE_AUTH_ID, id="nuki-auth-id-2**32"),
        pytest.param(_nuki, NK_NEGATIVE_AUTH_ID, id="nuki-auth-id-minus-1"),
    ],
)
def test_damaged_record_is_a_store_error(parse: object, obj: dict[str, object]) -> None:
    """The minimal damaged records: StoreError from from_json, nothing later."""
    with pytest.raises(StoreError):
        parse(obj)  # type: ignore[operator]
