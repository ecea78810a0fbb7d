"""JSON inputs for the fuzzers: the panel's request shapes (near valid and not), backup files
(sealed around any content) and stored lock records, as a crafted backup could carry them."""

from __future__ import annotations

import base64
import json
import zlib
from datetime import UTC
from typing import Any

import nacl.secret
from hypothesis import strategies as st
from nacl.pwhash import argon2id
from nuki_strategies import moments

from ttlock_nuki_addon.credentials import CredentialKind
from ttlock_nuki_addon.model import EventKind, EventSource
from ttlock_nuki_addon.params import PairAs
from ttlock_nuki_addon.snapshot import Brand, Capability, DoorState, LockStatus, PairingHint
from ttlock_nuki_addon.validity import ValidityType
from ttlock_nuki_addon.web import backup

from .support import json_objects, json_values, mostly, texts


def values(enum: Any) -> st.SearchStrategy[str]:
    """Mostly one of an enum's JSON values, sometimes other text."""
    return mostly(st.sampled_from([m.value for m in enum]), texts)


ints = mostly(st.integers(0, 900), st.integers(-5, 70_000) | st.integers())
local_times = mostly(moments.map(lambda m: m.isoformat(timespec="minutes")), texts)
aware_times = mostly(moments.map(lambda m: m.replace(tzinfo=UTC).isoformat()), local_times)
hhmm = mostly(
    st.builds(lambda h, m: f"{h:02d}:{m:02d}", st.integers(0, 23), st.integers(0, 59)),
    st.builds(lambda h, m: f"{h}:{m}", st.integers(0, 99), st.integers(0, 99)) | texts,
)
_DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
day_lists = mostly(
    st.lists(st.sampled_from(_DAYS), min_size=1, max_size=7, unique=True),
    st.lists(st.sampled_from([*_DAYS, "MON", "x"]) | json_values, max_size=8),
)
pins = mostly(st.text("0123456789", min_size=4, max_size=9), st.text("0123456789", max_size=11))
lock_ids = mostly(st.sampled_from(["aabbcc001122", "54d272aa0001"]), texts)
addresses = mostly(st.sampled_from(["AA:BB:CC:00:11:22", "aa:bb:cc:00:11:22"]), texts)
names = mostly(st.sampled_from(["Front door", " Back ", "Anna"]), texts)
booleans = mostly(st.booleans())

_window = st.fixed_dictionaries(
    {"type": st.sampled_from(["period", "once"]), "from": local_times, "until": local_times}
)
_weekly = st.fixed_dictionaries(
    {"type": st.just("weekly"), "days": day_lists, "from_time": hhmm, "until_time": hhmm},
    optional={"from": st.none() | local_times, "until": st.none() | local_times},
)
validity_objects = mostly(
    st.just({"type": "permanent"}) | _window | _weekly,
    json_objects(
        {
            "type": values(ValidityType),
            "from": local_times,
            "until": local_times,
            "days": day_lists,
            "from_time": hhmm,
            "until_time": hhmm,
        }
    ),
)
SETTINGS_FIELDS: dict[str, st.SearchStrategy[Any]] = {
    "auto_lock_seconds": ints,
    "sound": booleans,
    "passage_mode": booleans,
    "remote_unlock": booleans,
    "led": booleans,
    "auto_unlatch": booleans,
}
# Every request parameter the websocket verbs know, with a typical value.
FIELDS: dict[str, st.SearchStrategy[Any]] = {
    "lock_id": lock_ids,
    "address": addresses,
    "brand": values(Brand),
    "name": names,
    "pin": pins,
    "pair_as": values(PairAs),
    "seconds": ints,
    "reset": booleans,
    "kind": values(CredentialKind),
    "code": pins,
    "validity": validity_objects,
    "credential_id": mostly(st.sampled_from(["1", "abc", "12345678901"]), texts),
    "limit": ints,
    **SETTINGS_FIELDS,
}


def fields(*names: str) -> dict[str, st.SearchStrategy[Any]]:
    """The typical values of these parameter names."""
    return {name: FIELDS[name] for name in names}


snapshots = json_objects(
    {
        "id": lock_ids,
        "brand": values(Brand),
        "name": texts,
        "model": texts,
        "address": addresses,
        "status": values(LockStatus),
        "available": booleans,
        "capabilities": mostly(st.lists(values(Capability), max_size=4)),
        "battery": ints,
        "rssi": ints,
        "door": values(DoorState),
        "last_seen": aware_times,
    }
)
discoveries = json_objects(
    {
        "address": addresses,
        "brand": values(Brand),
        "name": texts,
        "model": texts,
        "rssi": ints,
        "pairable": booleans,
        "hint": values(PairingHint),
    }
)
events = json_objects(
    {
        "kind": values(EventKind),
        "source": values(EventSource),
        "time": aware_times,
        "credential_id": texts,
        "credential_name": texts,
        "user": texts,
    }
)

# --- backup files ------------------------------------------------------------------------------

PASSPHRASE = "correct horse battery"
_SALT = bytes(range(argon2id.SALTBYTES))
_OPS, _MEM = argon2id.OPSLIMIT_MIN, argon2id.MEMLIMIT_MIN
_KEY = backup._key(backup.passphrase_bytes(PASSPHRASE), _SALT, backup.KdfLimits(_OPS, _MEM))
_b64 = st.binary(max_size=40).map(lambda raw: base64.b64encode(raw).decode())

documents = json_objects(
    {
        "schema": mostly(st.just(1), st.sampled_from([2, 0, True]) | ints),
        "installation": mostly(st.dictionaries(texts, json_values, max_size=2)),
        "locks": mostly(st.dictionaries(lock_ids, json_values, max_size=2)),
    }
)
plaintexts = (
    documents.map(lambda doc: zlib.compress(json.dumps(doc).encode()))
    | st.binary(max_size=40).map(zlib.compress)
    | st.binary(max_size=40)
    | documents.map(lambda doc: zlib.compress(json.dumps(doc).encode())[:-3])
)


@st.composite
def _sealed(draw: st.DrawFn) -> tuple[str, str]:
    """(nonce, box) in base64: a box our passphrase opens around any content."""
    nonce = draw(st.binary(min_size=24, max_size=24))
    box = nacl.secret.SecretBox(_KEY).encrypt(draw(plaintexts), nonce).ciphertext
    return base64.b64encode(nonce).decode(), base64.b64encode(box).decode()


@st.composite
def backup_texts(draw: st.DrawFn) -> Any:
    """A backup file's text: sealed right around any content, with fields broken; or junk.

    The key settings stay cheap on purpose (a fuzzer must not spend seconds per example).
    """
    nonce, box = draw(_sealed())
    kdf = json_objects(
        {
            "name": mostly(st.just("argon2id"), st.just("scrypt")),
            "opslimit": mostly(st.just(_OPS), st.sampled_from([_OPS + 1, 0, 11, "1", None, True])),
            "memlimit": mostly(st.just(_MEM), st.sampled_from([2 * _MEM, 0, 1 << 40, "8192"])),
            "salt": mostly(st.just(base64.b64encode(_SALT).decode()), _b64 | texts),
        },
        noise=40,
    )
    envelope = json_objects(
        {
            "format": mostly(st.just(backup.FORMAT), st.just("other")),
            "version": mostly(st.just(1), st.sampled_from([2, 0, 1.0, True, "1"])),
            "created": aware_times,
            "locks": ints,
            "kdf": kdf,
            "nonce": mostly(st.just(nonce), _b64 | texts),
            "box": mostly(st.just(box), _b64 | texts),
        },
        noise=40,
    )
    roll = draw(st.integers(0, 9))  # middle values for the rare cases: bounds come up more
    if roll == 4:
        return draw(json_values)
    text = json.dumps(draw(envelope))
    if roll == 5:
        cut = draw(st.integers(0, len(text)))
        return text[:cut] + draw(texts)
    return text


# --- stored lock records ---------------------------------------------------------------------

_hex = st.binary(max_size=34).map(bytes.hex) | texts
_opt_text = st.none() | texts


def hex_of(size: int) -> st.SearchStrategy[str]:
    """Mostly `size` bytes in hex, sometimes other text."""
    return mostly(st.binary(min_size=size, max_size=size).map(bytes.hex), _hex)


_big = mostly(st.integers(0, 0xFFFFFFFF), st.integers())
ttlock_records = json_objects(
    {
        "brand": st.just("ttlock"),
        "complete": booleans,
        "address": addresses,
        "name": names,
        "model": names,
        "hardware": _opt_text,
        "firmware": _opt_text,
        "manufacture_date": _opt_text,
        "aes_key": hex_of(16),
        "admin_ps": _big,
        "unlock_key": _big,
        "lock_flag_pos": _big,
        "uid": _big,
        "lock_version": json_objects(
            {
                "protocol_type": mostly(st.integers(0, 255), st.integers()),
                "sub_version": mostly(st.integers(0, 255), st.integers()),
                "scene": mostly(st.integers(0, 255), st.integers()),
                "organization": mostly(st.integers(0, 0xFFFF), st.integers()),
                "sub_organization": mostly(st.integers(0, 0xFFFF), st.integers()),
            },
            noise=40,
        ),
        "features": mostly(st.integers(0, 2**64).map("{:x}".format), _hex),
        "admin_passcode": _opt_text,
        "utc_offset_seconds": mostly(st.integers(-50_400, 50_400), st.integers()),
        "paired_at": aware_times,
    },
    noise=40,
)
nuki_records = json_objects(
    {
        "brand": st.just("nuki"),
        "complete": booleans,
        "address": addresses,
        "name": texts,
        "family": mostly(st.sampled_from(["smart_lock", "smart_lock_5g", "opener"]), texts),
        "model": texts,
        "firmware": _opt_text,
        "hardware": _opt_text,
        "nuki_id": st.none() | _big,
        "shared_key": hex_of(32),
        "auth_id": _big,
        "app_id": _big,
        "id_type": mostly(st.integers(0, 3), st.integers()),
        "lock_uuid": hex_of(16),
        "security_pin": st.none() | _big,
        "pin_rejected": st.booleans(),
        "paired_at": aware_times,
        "last_log_index": st.none() | _big,
        "has_keypad": st.booleans(),
    },
    noise=40,
)
