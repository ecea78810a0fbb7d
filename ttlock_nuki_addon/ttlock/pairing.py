"""TTLock pairing in the official order (spec §5.4), its store record, and unfinished pairings.

Store record (``store.locks[lock_id]``), JSON:

    brand "ttlock", complete bool, address, name, model, hardware, firmware, manufacture_date,
    aes_key (32 hex digits), admin_ps int, unlock_key int, lock_flag_pos 0, uid 0,
    lock_version {protocol_type, sub_version, scene, organization, sub_organization},
    features (hex), admin_passcode (digits or null), utc_offset_seconds int, paired_at (ISO),
    credentials {"pin": {id: {name, code, original, validity}}, "card": {number: {name,
    validity}}, "fingerprint": {id: {name, validity}}}.

The keys are written the moment ADD_ADMIN succeeds with ``complete: false``; ``complete`` turns
true once OPERATE_FINISHED (0x57) succeeded. A record left incomplete (crash, lost answer) is
settled with ``settle()``: if the lock still accepts our keys it is paired to us and the record
is completed, otherwise the lock rolled back (spec §5.4) and the record is removed.
"""

from __future__ import annotations

import contextlib
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

from ..ble.link import LinkTimings
from ..ble.transport import TransportFactory
from ..errors import (
    AuthError,
    CommandRejectedError,
    LockError,
    LockTimeoutError,
    PairingError,
    ProtocolError,
    StoreError,
)
from ..params import PairingParams
from ..record_fields import int_field, opt_text_field, text_field
from ..snapshot import lock_id_from_address
from ..store import JsonObject, Store
from . import commands as cmds
from . import settings_cmds as st
from .advert import TTLockAdvert
from .codec import KEY_LEN, Command, ErrorCode
from .commands import AdminKeys, DeviceInfoType
from .dates import to_lock_local
from .features import Feature, FeatureMask, parse_features_response
from .framing import LockVersion
from .session import TTLockSession

_LOGGER = logging.getLogger(__name__)
C = Command
Clock = Callable[[], datetime]
ADMIN_CODE_TRIES = 3
NOT_IN_SETTING_MODE = (
    "The lock is not in setting mode, so it cannot be paired. Reset it (hold the reset button "
    "until it beeps twice), touch the keypad and try again."
)


def host_utc_offset() -> timedelta:
    """The host's current UTC offset; the lock's clock is set to this wall time (spec §6.5)."""
    return datetime.now().astimezone().utcoffset() or timedelta(0)


@dataclass(frozen=True, slots=True)
class TTLockRecord:
    """A paired lock's stored facts; the secrets never appear in its repr."""

    address: str
    name: str
    model: str
    aes_key: bytes = field(repr=False)
    keys: AdminKeys = field(repr=False)
    version: LockVersion
    utc_offset: timedelta
    paired_at: str
    features: FeatureMask = field(default_factory=FeatureMask)
    admin_passcode: str | None = field(default=None, repr=False)
    complete: bool = False
    lock_flag_pos: int = 0
    uid: int = 0
    hardware: str | None = None
    firmware: str | None = None
    manufacture_date: str | None = None

    @property
    def lock_id(self) -> str:
        """The lock id derived from the address."""
        return lock_id_from_address(self.address)

    def to_json(self) -> JsonObject:
        """The stored fields (credentials are kept beside them by driver_creds)."""
        v = self.version
        return {
            "brand": "ttlock",
            "complete": self.complete,
            "address": self.address,
            "name": self.name,
            "model": self.model,
            "hardware": self.hardware,
            "firmware": self.firmware,
            "manufacture_date": self.manufacture_date,
            "aes_key": self.aes_key.hex(),
            "admin_ps": self.keys.admin_ps,
            "unlock_key": self.keys.unlock_key,
            "lock_flag_pos": self.lock_flag_pos,
            "uid": self.uid,
            "lock_version": {
                "protocol_type": v.protocol_type,
                "sub_version": v.sub_version,
                "scene": v.scene,
                "organization": v.organization,
                "sub_organization": v.sub_organization,
            },
            "features": self.features.to_hex(),
            "admin_passcode": self.admin_passcode,
            "utc_offset_seconds": int(self.utc_offset.total_seconds()),
            "paired_at": self.paired_at,
        }

    @classmethod
    def from_json(cls, obj: JsonObject) -> TTLockRecord:
        """Parse a stored record; StoreError (naming the field, never a value) if malformed."""
        try:
            version = obj["lock_version"]
            assert isinstance(version, dict)
            key = bytes.fromhex(text_field(obj, "aes_key"))
            if len(key) != KEY_LEN:
                raise ValueError("aes_key")
            numbers = [int_field(version, k) for k in _VERSION_KEYS]
            if not all(0 <= n <= top for n, top in zip(numbers, _VERSION_MAX, strict=True)):
                raise ValueError("lock_version")
            offset = int_field(obj, "utc_offset_seconds")
            if not -_MAX_UTC_OFFSET <= offset <= _MAX_UTC_OFFSET:
                raise ValueError("utc_offset_seconds")
            return cls(
                address=text_field(obj, "address"),
                name=text_field(obj, "name"),
                model=text_field(obj, "model"),
                aes_key=key,
                keys=AdminKeys(int_field(obj, "admin_ps"), int_field(obj, "unlock_key")),
                version=LockVersion(*numbers),
                utc_offset=timedelta(seconds=offset),
                paired_at=text_field(obj, "paired_at"),
                features=FeatureMask.from_hex(text_field(obj, "features")),
                admin_passcode=opt_text_field(obj, "admin_passcode"),
                complete=obj.get("complete") is True,
                lock_flag_pos=int_field(obj, "lock_flag_pos"),
                uid=int_field(obj, "uid"),
                hardware=opt_text_field(obj, "hardware"),
                firmware=opt_text_field(obj, "firmware"),
                manufacture_date=opt_text_field(obj, "manufacture_date"),
            )
        except (KeyError, TypeError, ValueError, AssertionError):
            raise StoreError("A stored TTLock record is damaged; pair the lock again.") from None


_VERSION_KEYS = ("protocol_type", "sub_version", "scene", "organization", "sub_organization")
_VERSION_MAX = (0xFF, 0xFF, 0xFF, 0xFFFF, 0xFFFF)  # spec §2.1: u8 u8 u8 u16 u16 in every header
_MAX_UTC_OFFSET = 86_399  # datetime.timezone takes offsets strictly inside one day


def load_record(store: Store, lock_id: str) -> TTLockRecord | None:
    """The lock's record from the store, None when there is none."""
    obj = store.get_lock(lock_id)
    return None if obj is None else TTLockRecord.from_json(obj)


def save_record(store: Store, record: TTLockRecord) -> None:
    """Write the record's fields, keeping the credentials stored beside them."""
    lock_id = record.lock_id

    def change(doc: dict[str, JsonObject]) -> None:
        credentials = doc.get(lock_id, {}).get("credentials", {})
        doc[lock_id] = {**record.to_json(), "credentials": credentials}

    store.update(lambda doc: change(doc["locks"]))


async def _optional(session: TTLockSession, command: int, payload: bytes = b"") -> bytes | None:
    """An optional pairing step: a refusal or no answer does not abort pairing (spec §6.4)."""
    try:
        return await session.call(command, payload)
    except (CommandRejectedError, LockTimeoutError) as exc:
        _LOGGER.debug("%s: optional step %s skipped (%s)", session.name, C(command).name, exc)
        return None


async def _admin_passcode(
    session: TTLockSession, features: FeatureMask, known: str | None
) -> str | None:
    """Read the keypad admin passcode, or set a random one (spec §5.4 step 11, §5.5.13)."""
    if known is not None:
        return known
    if features.has(Feature.GET_ADMIN_CODE):
        data = await _optional(session, C.GET_ADMIN_CODE)
        code = cmds.parse_admin_code_response(data) if data else None
        if code is not None:
            return code
    for _ in range(ADMIN_CODE_TRIES):
        candidate = cmds.new_admin_passcode(secrets.randbelow)
        try:
            await session.call(
                C.SET_ADMIN_KEYBOARD_PWD, cmds.build_set_admin_code_request(candidate)
            )
        except CommandRejectedError as exc:
            if exc.lock_code != ErrorCode.PASSCODE_EXISTS:
                _LOGGER.warning("%s: the lock refused an admin passcode: %s", session.name, exc)
                return None
            continue
        return candidate
    return None


async def finish(
    session: TTLockSession,
    store: Store,
    record: TTLockRecord,
    clock: Clock,
    *,
    settling: bool = False,
) -> TTLockRecord:
    """Steps 3-15 of spec §5.4 on an admin link, then mark the record complete; idempotent."""
    now = to_lock_local(clock(), record.utc_offset)
    await _optional(session, C.TIME_CALIBRATE, cmds.build_time_calibrate_request(now))
    features = parse_features_response(await session.call(C.SEARCH_DEVICE_FEATURE)).features
    await _optional(session, C.SWITCH, st.build_query())
    for feature, command in (  # steps 6-10, each only when the feature says so
        (Feature.SENSITIVITY, C.SENSITIVITY_MANAGE),
        (Feature.AUDIO_MANAGEMENT, C.AUDIO_MANAGE),
        (Feature.PASSWORD_DISPLAY_OR_HIDE, C.SHOW_PASSWORD),
        (Feature.AUTO_LOCK, C.AUTO_LOCK_MANAGE),
        (Feature.LAMP, C.LAMP),
    ):
        if features.has(feature):
            await _optional(session, command, st.build_query())
    passcode = await _admin_passcode(session, features, record.admin_passcode)
    record = replace(record, features=features, admin_passcode=passcode)
    save_record(store, record)
    # Step 12, INIT_PASSWORDS (0x31), is skipped: its seeds only serve the TTLock cloud's
    # offline codes, and ttlock-sdk-js dropped it for more stable pairing (spec §5.4, §5.5.12).
    if features.has(Feature.CONFIG_GATEWAY_UNLOCK):
        await _optional(session, C.CONTROL_REMOTE_UNLOCK, st.build_query())
    info: dict[int, str] = {}
    for kind in cmds.PAIRING_DEVICE_INFO:
        data = await _optional(session, C.READ_DEVICE_INFO, cmds.build_device_info_request(kind))
        if data:
            info[kind] = cmds.parse_device_info_response(data, kind).text
    if settling:
        # The lock kept our keys over a disconnect, so it had committed (spec §5.4); a lock
        # that refuses a second 0x57 is still ours.
        await _optional(session, C.OPERATE_FINISHED)
    else:
        await session.call(C.OPERATE_FINISHED)  # spec §5.5.23: commits the pairing
    record = replace(
        record,
        complete=True,
        model=info.get(DeviceInfoType.MODEL) or record.model,
        hardware=info.get(DeviceInfoType.HARDWARE),
        firmware=info.get(DeviceInfoType.FIRMWARE),
        manufacture_date=info.get(DeviceInfoType.MANUFACTURE_DATE),
    )
    save_record(store, record)
    _LOGGER.info("%s: pairing complete", session.name)
    return record


async def _get_aes_key(session: TTLockSession) -> bytes:
    """GET_AES_KEY with the default key; once more after 0x45 if unanswered (spec §5.4)."""
    request = cmds.build_get_aes_key_request()
    for attempt in (1, 2):
        try:
            response = await session.send(C.GET_AES_KEY, request)
        except LockTimeoutError:
            if attempt == 2:
                raise
            _LOGGER.debug("%s: no answer to GET_AES_KEY; trying INITIALIZATION first", session.name)
            # spec §5.4: the answer to 0x45 decrypts with no known key; it is ignored.
            with contextlib.suppress(AuthError, ProtocolError, LockTimeoutError):
                await session.send(C.INITIALIZATION)
            continue
        except AuthError:
            raise PairingError(NOT_IN_SETTING_MODE) from None  # spec §3.3
        if not response.ok:
            raise PairingError(f"The lock refused to pair: {response.error_text}.")
        return cmds.parse_aes_key_response(response.data).key
    raise AssertionError("unreachable")


async def pair_lock(
    advert: TTLockAdvert,
    store: Store,
    params: PairingParams,
    transport_factory: TransportFactory,
    *,
    timings: LinkTimings | None = None,
    utc_offset: timedelta | None = None,
    clock: Clock = lambda: datetime.now(UTC),
) -> TTLockRecord:
    """Pair a lock in setting mode and store it; PairingError with a sentence otherwise."""
    if not advert.setting_mode:
        raise PairingError(NOT_IN_SETTING_MODE)
    session = TTLockSession(
        advert.address, transport_factory, key=None, admin=None, name=advert.name,
        timings=timings, one_connection=True,
    )  # fmt: skip
    record: TTLockRecord | None = None
    try:
        key = await _get_aes_key(session)
        session.key = key
        keys = cmds.new_admin_keys()
        data = await session.call(C.ADD_ADMIN, cmds.build_add_admin_request(keys))
        if not cmds.add_admin_answer_ok(data):
            raise PairingError("The lock did not confirm the new administrator; try again.")
        record = TTLockRecord(
            address=advert.address.upper(),
            name=params.name or advert.name or f"TTLock {advert.address[-5:]}",
            model=(advert.name or "TTLock").split("_")[0],
            aes_key=key,
            keys=keys,
            version=session.version or LockVersion(),
            utc_offset=host_utc_offset() if utc_offset is None else utc_offset,
            paired_at=clock().isoformat(),
        )
        # DESIGN "Pairing": the keys are stored the moment the lock has accepted them.
        store.put_lock(record.lock_id, {**record.to_json(), "credentials": {}})
        session.admin, session.logged_in = keys, True  # the pairing link is an admin session
        return await finish(session, store, record, clock)
    except PairingError:
        raise
    except LockError as exc:
        if record is None:
            raise PairingError(f"Pairing failed: {exc.message}") from exc
        failure = exc
    finally:
        await session.close()
    # An unclear end after ADD_ADMIN: on a dropped link the lock rolls back unless it got 0x57
    # (spec §5.4); ask it which happened before the record is kept or removed.
    try:
        settled = await settle(
            store, record.lock_id, transport_factory, timings=timings, clock=clock
        )
    except LockError as exc:
        raise PairingError(
            f"Pairing was interrupted ({failure.message}) and the lock could not be asked "
            f"whether it finished ({exc.message}). The add-on checks again when it restarts."
        ) from failure
    if settled is None:
        raise PairingError(
            f"Pairing was interrupted ({failure.message}) and the lock undid it. Touch the "
            "keypad and try again."
        ) from failure
    return settled


async def settle(
    store: Store,
    lock_id: str,
    transport_factory: TransportFactory,
    *,
    timings: LinkTimings | None = None,
    clock: Clock = lambda: datetime.now(UTC),
) -> TTLockRecord | None:
    """The completed record if the lock accepts its keys, else None (removed); link errors raise."""
    record = load_record(store, lock_id)
    if record is None:
        return None
    if record.complete:
        return record
    session = TTLockSession(
        record.address,
        transport_factory,
        key=record.aes_key,
        admin=record.keys,
        name=record.name,
        timings=timings,
    )
    try:
        await session.run(_nothing)  # log in: proves whether the lock still has our keys
    except AuthError:
        store.remove_lock(lock_id)
        _LOGGER.info("%s: the lock rolled the unfinished pairing back; record removed", record.name)
        await session.close()
        return None
    except BaseException:
        await session.close()
        raise
    try:
        return await session.run(lambda: finish(session, store, record, clock, settling=True))
    finally:
        await session.close()


async def _nothing() -> None:
    return None
