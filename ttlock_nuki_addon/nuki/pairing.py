"""Nuki pairing (spec §3): the legacy flow, the 5th-gen flow, storing keys, unfinished pairings.

Legacy (Smart Lock 1.0-4th gen, Opener, spec §3.1): public keys, two challenges, the
Authorization Data with our id type and app id, the lock's Authorization-ID (its authenticator
is verified), our confirmation and the lock's Status COMPLETE. 5th gen (spec §3.4): after the
authenticator the lock sends Authorization Info; we send the encrypted Authorization Data with
app id, name and the 6-digit security PIN, first under auth id 0x7FFFFFFF and, if the lock
refuses that, once more under our app id; its Authorization-ID ends the pairing.

Pairing as BRIDGE (id type 1, the default) replaces an official Nuki Bridge paired to this lock
(only one bridge per lock, spec §3.3) but lets the add-on clear the beacon's new-state flag and
receive state-changed notices; APP (id type 0) leaves an official bridge alone. The 5G flow
sends no id type at all, so its record is kept as APP (spec §8 item 3).

Keys go to the store the moment the lock has sent its Authorization-ID; a legacy record stays
``complete: false`` until the lock's Status COMPLETE. ``settle()`` decides an unfinished record
by trying its keys: the lock answers -> complete; K_ERROR_NOT_AUTHORIZED -> removed.

A 5th-gen lock stores the authorization when it gets the Authorization Data, before we learn its
id: a record ``{"complete": false, "pending_authorization": true}`` (no keys) is written first,
so an answer lost to a crash or a dropped link is told to the user (pair again: it replaces the
stray authorization) instead of passing in silence.
"""

from __future__ import annotations

import logging
import os
import secrets
from collections.abc import Callable
from datetime import UTC, datetime

from ..ble.link import LinkTimings
from ..ble.transport import TransportFactory
from ..errors import (
    AuthError,
    DisconnectedError,
    LockError,
    LockTimeoutError,
    PairingError,
    ProtocolError,
)
from ..params import PairAs, PairingParams
from ..snapshot import lock_id_from_address
from ..store import Store
from . import commands as cmds
from . import pairing_msgs as pm
from .advert import NukiAdvert
from .channels import Mode
from .codec import AUTH_ID_5G_PAIRING, Command, ErrorCode, Message, StatusCode, encode_plain
from .codec import encrypt as seal
from .gatt import Family, layout_for
from .record import NukiRecord, load_record, save_record
from .session import NukiSession

_LOGGER = logging.getLogger(__name__)
Clock = Callable[[], datetime]
APP_ID_KEY = "nuki_app_id"  # installation-wide, so re-pairing overwrites our old entry (§3.3)
CLIENT_NAME = "Home Assistant"  # the authorization's name in the Nuki app and the lock's log
E = ErrorCode

NOT_IN_PAIRING_MODE = (
    "The lock is not in pairing mode. Hold its button for about 5 seconds until the LED ring "
    'lights up, check that "Bluetooth pairing" is switched on in the Nuki app, and try again.'
)
BAD_AUTHENTICATOR = (
    "The lock and the add-on did not agree on the pairing handshake. Put the lock into pairing "
    "mode again and try again."
)
MAX_USERS = (
    "The lock has no room for another authorization. Remove an unused one in the Nuki app "
    "(Manage users / Lock permissions) and pair again."
)
BAD_PAIRING_PIN = (
    "The lock refused the security code. Enter the 6-digit security code from the Nuki app "
    "(Features & Configuration > General). The add-on does not retry on its own because the "
    "lock bans repeated wrong codes for a while."
)
PIN_LOCKOUT = (
    "Too many wrong security codes were tried; the lock refuses new attempts for a while. Wait "
    "(some minutes), then pair again with the code from the Nuki app."
)
NEEDS_PIN = (
    "This lock (5th generation, Ultra, Go, Pro 5th gen) pairs only with its 6-digit security "
    "code. Enter the code shown in the Nuki app (Features & Configuration > General)."
)
BRIDGE_NOTE = (
    "Pairing as a bridge replaces an official Nuki Bridge paired to this lock; pair as an app "
    "to keep it."
)
PENDING_KEY = "pending_authorization"
STRAY_AUTHORIZATION = (
    'The lock may now hold an authorization named "Home Assistant" that the add-on cannot use. '
    "Put the lock into pairing mode and pair it again: the new pairing replaces that "
    "authorization (or delete it in the Nuki app under Manage users)."
)
_TEXTS: dict[int, str] = {
    E.P_ERROR_NOT_PAIRING: NOT_IN_PAIRING_MODE,
    E.P_ERROR_BAD_AUTHENTICATOR: BAD_AUTHENTICATOR,
    E.P_ERROR_MAX_USER: MAX_USERS,
    E.K_ERROR_BAD_PIN: BAD_PAIRING_PIN,
    E.K_ERROR_TOO_MANY_PIN_ATTEMPTS: PIN_LOCKOUT,
}
# 5th gen: answers that are final about the Authorization Data; others allow the app-id retry.
_FINAL_5G = frozenset({E.K_ERROR_BAD_PIN, E.K_ERROR_TOO_MANY_PIN_ATTEMPTS, E.P_ERROR_MAX_USER})


def app_id(store: Store) -> int:
    """This installation's app id: random u32, created once and kept (spec §3.3)."""
    value = store.installation_setdefault(APP_ID_KEY, lambda: 1 + secrets.randbelow(0xFFFFFFFE))
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= 0xFFFFFFFF:
        raise PairingError("The stored Nuki app id is damaged; remove it from the store.")
    return value


def parse_pin(text: str | None, family: Family) -> int | None:
    """The security PIN as a number for this family (u16, or 6 digits on 5th gen; spec §2.4)."""
    if text is None:
        return None
    value = int(text)
    if family is Family.SMART_LOCK_5G:
        if len(text) != 6:
            raise PairingError("The security code of this lock has exactly 6 digits.")
    elif value > layout_for(family).max_pin:
        raise PairingError("The security PIN of this lock is a number from 0 to 65535.")
    return value


def _refusal(message: Message, step: str) -> PairingError:
    """A PairingError with a sentence for an Error Report the lock sent while pairing."""
    report = cmds.parse_error_report(message.payload)
    text = _TEXTS.get(report.code)
    if text is None:
        text = f"The lock refused to pair at {step}: {cmds.error_text(report.code)}"
    _LOGGER.info("pairing refused at %s: %s", step, cmds.describe_report(report))
    return PairingError(text)


def _expect(message: Message, command: int, step: str) -> bytes:
    """The payload of the expected answer; PairingError for a refusal or anything else."""
    if message.command == command:
        return message.payload
    if message.command == Command.ERROR_REPORT:
        raise _refusal(message, step)
    raise PairingError(
        f"The lock answered {step} with an unexpected message; put it into pairing mode again "
        "and retry."
    )


class _Pairing:
    """One pairing attempt over one connection (a drop ends it: spec §3.1)."""

    def __init__(
        self, advert: NukiAdvert, store: Store, params: PairingParams, session: NukiSession
    ) -> None:
        self.advert, self.store, self.params, self.session = advert, store, params, session
        self.id_type = pm.IdType.APP if params.pair_as is PairAs.APP else pm.IdType.BRIDGE
        self.app_id = app_id(store)
        self.keys = pm.generate_keypair()
        self.key = b""
        self.pin: int | None = None

    async def ask(self, message: bytes, *, key: bytes | None = None) -> Message:
        if self.session.drops:
            raise DisconnectedError("The Bluetooth connection dropped during pairing.")
        return await self.session.pairing_request(message, key=key)

    def record(self, auth_id: int, lock_uuid: bytes, *, complete: bool) -> NukiRecord:
        family = self.session.family
        assert family is not None
        advert = self.advert
        default = f"Nuki {advert.nuki_id:08X}" if advert.nuki_id is not None else "Nuki"
        return NukiRecord(
            address=advert.address.upper(),
            name=self.params.name or advert.name or default,
            family=family,
            shared_key=self.key,
            auth_id=auth_id,
            app_id=self.app_id,
            # spec §3.4, §8 item 3: the 5G flow sends no id type; treat it as an app.
            id_type=pm.IdType.APP if family is Family.SMART_LOCK_5G else self.id_type,
            lock_uuid=lock_uuid,
            paired_at=datetime.now(UTC).isoformat(),
            model="Opener" if family is Family.OPENER else "Smart Lock",
            nuki_id=advert.nuki_id,
            security_pin=self.pin if family is Family.SMART_LOCK_5G else None,
            complete=complete,
        )

    async def handshake(self) -> Message:
        """Steps 1-6 (spec §3.1); the answer to the authenticator (Challenge or Auth Info)."""
        first = encode_plain(Command.REQUEST_DATA, cmds.request_data(Command.PUBLIC_KEY))
        try:
            answer = await self.ask(first)
        except (DisconnectedError, LockTimeoutError):
            # Newer locks drop the link (or stay silent) when not in pairing mode.
            raise PairingError(NOT_IN_PAIRING_MODE) from None
        lock_public = pm.PublicKey.parse(_expect(answer, Command.PUBLIC_KEY, "the public key"))
        answer = await self.ask(pm.PublicKey(self.keys.public).to_message())
        challenge = pm.Challenge.parse(_expect(answer, Command.CHALLENGE, "the key exchange"))
        self.key = pm.shared_key(lock_public.key, self.keys.private)  # spec §3.2
        authenticator = pm.authorization_authenticator(
            self.key, self.keys.public, lock_public.key, challenge.nonce
        )
        return await self.ask(authenticator.to_message())

    async def legacy(self, challenge_message: Message) -> NukiRecord:
        """Steps 7-11 (spec §3.1); the record is stored before the confirmation."""
        nk2 = pm.Challenge.parse(_expect(challenge_message, Command.CHALLENGE, "authentication"))
        nonce = os.urandom(pm.NONCE_LEN)
        data = pm.build_authorization_data(
            self.key, self.id_type, self.app_id, CLIENT_NAME,
            client_nonce=nonce, lock_challenge=nk2.nonce,
        )  # fmt: skip
        answer = await self.ask(data.to_message())
        auth = pm.AuthorizationId.parse(
            _expect(answer, Command.AUTHORIZATION_ID, "the authorization")
        )
        if not auth.verify(self.key, nonce):
            raise PairingError(BAD_AUTHENTICATOR)  # spec §3.1 step 9: not the lock we talk to
        record = self.record(auth.auth_id, auth.lock_uuid, complete=False)
        save_record(self.store, record)  # DESIGN "Pairing": stored once the lock has our keys
        confirmation = pm.build_authorization_id_confirmation(self.key, auth.auth_id, auth.nonce)
        answer = await self.ask(confirmation.to_message())
        status = _expect(answer, Command.STATUS, "the confirmation")
        if cmds.parse_status(status) != StatusCode.COMPLETE:
            raise PairingError("The lock did not confirm the pairing; try again.")
        record = record.but(complete=True)
        save_record(self.store, record)
        return record

    async def five_g(self, info: Message) -> NukiRecord:
        """Steps 2-5 of spec §3.4: encrypted Authorization Data with the PIN, no confirmation."""
        _expect(info, Command.AUTHORIZATION_INFO, "authentication")
        assert self.pin is not None
        data = pm.build_ultra_authorization_data(self.app_id, CLIENT_NAME, self.pin).to_payload()
        self.mark_pending()
        answer = None
        for auth_id in (AUTH_ID_5G_PAIRING, self.app_id):  # spec §3.4 ⚠, §8 item 1
            message = seal(self.key, auth_id, Command.AUTHORIZATION_DATA, data)
            answer = await self.ask(message, key=self.key)
            if answer.command != Command.ERROR_REPORT:
                break
            code = cmds.parse_error_report(answer.payload).code
            if code in _FINAL_5G or auth_id == self.app_id:
                forget_pending(self.store, self.lock_id)  # refused: the lock stored nothing
                break
            _LOGGER.debug("%s: 5G authorization refused; once more with the app id", self.name)
        assert answer is not None
        auth = pm.UltraAuthorizationId.parse(
            _expect(answer, Command.AUTHORIZATION_ID, "the security code")
        )
        record = self.record(auth.auth_id, auth.lock_uuid, complete=True)
        save_record(self.store, record)
        return record

    def mark_pending(self) -> None:
        """Note in the store that the lock may hold an authorization we do not (yet) know."""
        advert = self.advert
        self.store.put_lock(
            self.lock_id,
            {
                "brand": "nuki",
                "complete": False,
                PENDING_KEY: True,
                "address": advert.address.upper(),
                "name": self.params.name or advert.name or "Nuki",
                "paired_at": datetime.now(UTC).isoformat(),
            },
        )

    @property
    def name(self) -> str:
        return self.session.name

    @property
    def lock_id(self) -> str:
        return lock_id_from_address(self.advert.address)

    async def run(self) -> NukiRecord:
        """The whole flow for the family found on connecting."""
        try:
            await self.session.connect()
        except ProtocolError:
            raise PairingError(NOT_IN_PAIRING_MODE) from None
        family = self.session.family
        assert family is not None
        self.pin = parse_pin(self.params.pin, family)
        if family is Family.SMART_LOCK_5G and self.pin is None:
            raise PairingError(NEEDS_PIN)
        answer = await self.handshake()
        if family is Family.SMART_LOCK_5G or answer.command == Command.AUTHORIZATION_INFO:
            return await self.five_g(answer)
        return await self.legacy(answer)


async def pair_lock(
    advert: NukiAdvert,
    store: Store,
    params: PairingParams,
    transport_factory: TransportFactory,
    *,
    timings: LinkTimings | None = None,
) -> NukiRecord:
    """Pair a lock in pairing mode and store its keys; PairingError with a sentence otherwise."""
    session = NukiSession(
        advert.address, transport_factory, family=advert.family, mode=Mode.PAIRING,
        name=advert.name, timings=timings,
    )  # fmt: skip
    pairing = _Pairing(advert, store, params, session)
    if pairing.id_type is pm.IdType.BRIDGE:
        _LOGGER.info("%s: pairing as a bridge. %s", session.name, BRIDGE_NOTE)
    try:
        return await pairing.run()
    except PairingError as exc:
        if forget_pending(store, pairing.lock_id):
            raise PairingError(f"{exc.message} {STRAY_AUTHORIZATION}") from exc
        raise
    except LockError as exc:
        failure = exc
    finally:
        await session.close()
    if forget_pending(store, pairing.lock_id):
        raise PairingError(
            f"Pairing was interrupted ({failure.message}) right after the lock was asked to "
            f"store the new authorization. {STRAY_AUTHORIZATION}"
        ) from failure
    record = load_record(store, pairing.lock_id)
    if record is None or record.complete or not pairing.key:
        raise PairingError(f"Pairing failed: {failure.message}") from failure
    # The lock sent its Authorization-ID but the confirmation's end is unclear (spec §3.1
    # step 10-11): ask the lock whether it kept our authorization.
    try:
        settled = await settle(store, record.lock_id, transport_factory, timings=timings)
    except LockError as exc:
        raise PairingError(
            f"Pairing was interrupted ({failure.message}) and the lock could not be asked "
            f"whether it finished ({exc.message}). The add-on checks again when it restarts."
        ) from failure
    if settled is None:
        raise PairingError(
            f"Pairing was interrupted ({failure.message}) and the lock did not keep it. Put it "
            "into pairing mode and try again."
        ) from failure
    return settled


async def settle(
    store: Store,
    lock_id: str,
    transport_factory: TransportFactory,
    *,
    timings: LinkTimings | None = None,
) -> NukiRecord | None:
    """The completed record if the lock accepts its keys, else None (removed); link errors raise.

    A 5th-gen pairing cut off before the lock's answer cannot be settled (its id is unknown):
    its note is removed and a warning says what to do.
    """
    pending = store.get_lock(lock_id)
    if pending is not None and forget_pending(store, lock_id):
        _LOGGER.warning(
            "Nuki %s (%s): pairing was interrupted right after the lock was asked to store the "
            "new authorization, and the add-on never learned it. %s",
            pending.get("name"), pending.get("address"), STRAY_AUTHORIZATION,
        )  # fmt: skip
        return None
    record = load_record(store, lock_id)
    if record is None or record.complete:
        return record
    session = NukiSession(
        record.address, transport_factory, family=record.family, key=record.shared_key,
        auth_id=record.auth_id, name=record.name, timings=timings,
    )  # fmt: skip
    try:
        await session.run(lambda: session.request_data(Command.KEYTURNER_STATES))
    except AuthError:
        store.remove_lock(lock_id)
        _LOGGER.info("%s: the lock did not keep the unfinished pairing; removed", record.name)
        return None
    finally:
        await session.close()
    record = record.but(complete=True)
    save_record(store, record)
    _LOGGER.info("%s: the unfinished pairing had gone through; completed", record.name)
    return record


def forget_pending(store: Store, lock_id: str) -> bool:
    """Remove a 5th-gen pairing's note (not a real record); whether there was one."""
    record = store.get_lock(lock_id)
    if record is None or record.get(PENDING_KEY) is not True:
        return False
    store.remove_lock(lock_id)
    return True
