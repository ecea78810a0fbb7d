"""Virtual Nuki, lock side of pairing on the pairing GDIO: legacy and 5th-gen flows (spec §3)."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import TYPE_CHECKING

from ..errors import ProtocolError
from ..nuki import codec
from ..nuki.codec import (
    AUTH_ID_5G_PAIRING,
    CLIENT_PLAIN_LENGTHS,
    CodecError,
    Command,
    ErrorCode,
    StatusCode,
)
from ..nuki.commands import build_status, parse_request_data
from ..nuki.pairing_msgs import (
    AuthorizationAuthenticator,
    AuthorizationData,
    AuthorizationIdConfirmation,
    AuthorizationInfo,
    Challenge,
    IdType,
    PublicKey,
    UltraAuthorizationData,
    UltraAuthorizationId,
    build_authorization_id,
)
from .nuki_state import Authorization

if TYPE_CHECKING:
    from .nuki_core import NukiCore

E = ErrorCode
ULTRA_PAIRING_IDS = frozenset({AUTH_ID_5G_PAIRING, 0x7FFFFFFF})  # spec §3.4 ⚠: both spellings
AUTHORIZATION_INFO = 0x01  # spec §3.4 step 2: the byte a Smart Lock Go sent


class Step(Enum):
    """Where a pairing stands: what the lock sent last."""

    PUBLIC_KEY = "public_key"  # step 2
    CHALLENGE = "challenge"  # step 5 (nK1)
    DATA_CHALLENGE = "data_challenge"  # step 7 (nK2), legacy
    INFO = "info"  # 5G Authorization Info instead of nK2
    AUTHORIZATION_ID = "authorization_id"  # step 9 (nK3), legacy


@dataclass(slots=True)
class PairingSession:
    """One pairing in progress on this link; the key never leaves it."""

    step: Step
    client_public: bytes = b""
    key: bytes = field(default=b"", repr=False)
    challenge: bytes = b""
    pending: Authorization | None = None


def on_write(core: NukiCore, data: bytes) -> None:
    """One whole write on the pairing GDIO."""
    session = core.pairing
    if not core.pairing_mode and session is None and core.variant.drops_when_not_pairing:
        # Newer firmware hangs up on anyone pairing outside pairing mode.
        core.drop_link("pairing attempt outside pairing mode")
        return
    if isinstance(session, PairingSession) and session.step is Step.INFO and _encrypted(data):
        _ultra_data(core, session, data)
        return
    message = _whole_plain(core, data)
    if message is not None:
        _step(core, message[0], message[1])


def _encrypted(data: bytes) -> bool:
    try:
        codec.parse_header(data)
    except CodecError:
        return False
    return True


def _error(core: NukiCore, code: int, command: int) -> None:
    core.plain_error(core.variant.layout.pairing_gdio, code, command)


def _fail(core: NukiCore, code: int, command: int, why: str) -> None:
    """A pairing error ends the session (spec §3.1 step 9: errors at any step)."""
    core.note(f"pairing refused: {why}")
    core.pairing = None
    _error(core, code, command)


def _whole_plain(core: NukiCore, data: bytes) -> tuple[int, bytes] | None:
    """Command and payload of a whole, CRC-correct message; else answer and return None."""
    if len(data) < 4:
        _error(core, E.ERROR_BAD_LENGTH, 0)
        return None
    plain = codec.parse_plain(data)
    expected = CLIENT_PLAIN_LENGTHS.get(plain.command)
    if expected is not None and len(data) != expected:
        _error(core, E.ERROR_BAD_LENGTH, plain.command)
        return None
    if not plain.crc_ok:
        _error(core, E.ERROR_BAD_CRC, plain.command)
        return None
    return plain.command, plain.payload


def _step(core: NukiCore, command: int, payload: bytes) -> None:
    session = core.pairing
    if command == Command.REQUEST_DATA:
        _request_public_key(core, payload)
        return
    if not isinstance(session, PairingSession):
        _fail(core, E.P_ERROR_BAD_PARAMETER, command, "no pairing in progress")
        return
    try:
        if command == Command.PUBLIC_KEY and session.step is Step.PUBLIC_KEY:
            _client_public_key(core, session, payload)
        elif command == Command.AUTHORIZATION_AUTHENTICATOR and session.step is Step.CHALLENGE:
            _authenticator(core, session, payload)
        elif command == Command.AUTHORIZATION_DATA and session.step is Step.DATA_CHALLENGE:
            _authorization_data(core, session, payload)
        elif (
            command == Command.AUTHORIZATION_ID_CONFIRMATION
            and session.step is Step.AUTHORIZATION_ID
        ):
            _confirmation(core, session, payload)
        else:
            _fail(core, E.P_ERROR_BAD_PARAMETER, command, f"0x{command:04X} out of order")
    except (ProtocolError, ValueError):
        _fail(core, E.P_ERROR_BAD_PARAMETER, command, "malformed message")


def _request_public_key(core: NukiCore, payload: bytes) -> None:
    """Steps 1-2: the lock's public key, only in pairing mode (spec §3.1)."""
    try:
        wanted, _extra = parse_request_data(payload)
    except ProtocolError:
        wanted = -1
    if wanted != Command.PUBLIC_KEY:
        _fail(core, E.P_ERROR_BAD_PARAMETER, Command.REQUEST_DATA, "request data on GDIO")
        return
    if not core.pairing_mode:
        _fail(core, E.P_ERROR_NOT_PAIRING, Command.REQUEST_DATA, "not in pairing mode")
        return
    core.pairing = PairingSession(Step.PUBLIC_KEY)
    core.note("pairing: public key requested")
    message = PublicKey(core.inj.agreement.public_key).to_message()
    core.send_raw(core.variant.layout.pairing_gdio, message)


def _send(core: NukiCore, message: bytes) -> None:
    core.send_raw(core.variant.layout.pairing_gdio, message)


def _client_public_key(core: NukiCore, session: PairingSession, payload: bytes) -> None:
    """Steps 3-5: derive the shared key, send nK1 (spec §3.1, §3.2)."""
    session.client_public = PublicKey.parse(payload).key
    session.key = core.inj.agreement.shared_key(session.client_public)
    session.challenge = core.inj.challenge_source()
    session.step = Step.CHALLENGE
    _send(core, Challenge(session.challenge).to_message())


def _authenticator(core: NukiCore, session: PairingSession, payload: bytes) -> None:
    """Step 6: check a1; then nK2 (legacy) or Authorization Info (5G, spec §3.4)."""
    given = AuthorizationAuthenticator.parse(payload)
    lock_public = core.inj.agreement.public_key
    if not given.verify(session.key, session.client_public, lock_public, session.challenge):
        _fail(core, E.P_ERROR_BAD_AUTHENTICATOR, Command.AUTHORIZATION_AUTHENTICATOR, "a1")
        return
    if core.variant.ultra:
        session.step = Step.INFO
        _send(core, AuthorizationInfo(AUTHORIZATION_INFO).to_message())
        return
    session.challenge = core.inj.challenge_source()
    session.step = Step.DATA_CHALLENGE
    _send(core, Challenge(session.challenge).to_message())


def _authorization_data(core: NukiCore, session: PairingSession, payload: bytes) -> None:
    """Steps 8-9: check a2 and the fields, answer the Authorization-ID (spec §3.1)."""
    data = AuthorizationData.parse(payload)
    command = Command.AUTHORIZATION_DATA
    if not data.verify(session.key, session.challenge):
        _fail(core, E.P_ERROR_BAD_AUTHENTICATOR, command, "a2")
        return
    if data.id_type not in set(IdType) or not data.name:
        _fail(core, E.P_ERROR_BAD_PARAMETER, command, "id type or name")
        return
    if not core.has_room(data.id_type, data.app_id):
        _fail(core, E.P_ERROR_MAX_USER, command, "no room for another authorization")
        return
    pending = _new_authorization(core, session, data.id_type, data.app_id, data.name)
    session.challenge = core.inj.challenge_source()
    reply = build_authorization_id(
        session.key, pending.auth_id, core.inj.lock_uuid, session.challenge, data.nonce
    )
    session.pending, session.step = pending, Step.AUTHORIZATION_ID
    _send(core, reply.to_message())


def _new_authorization(
    core: NukiCore, session: PairingSession, id_type: int, app_id: int, name: str
) -> Authorization:
    return Authorization(
        auth_id=core.inj.auth_ids(),
        id_type=id_type,
        app_id=app_id,
        name=name,
        shared_key=session.key,
        created=core.lock_time(),
    )


def _confirmation(core: NukiCore, session: PairingSession, payload: bytes) -> None:
    """Steps 10-11: check a4, store the authorization, Status COMPLETE (spec §3.1)."""
    confirmation = AuthorizationIdConfirmation.parse(payload)
    pending = session.pending
    command = Command.AUTHORIZATION_ID_CONFIRMATION
    if pending is None or confirmation.auth_id != pending.auth_id:
        _fail(core, E.P_ERROR_BAD_PARAMETER, command, "another authorization id")
        return
    if not confirmation.verify(session.key, session.challenge):
        _fail(core, E.P_ERROR_BAD_AUTHENTICATOR, command, "a4")
        return
    _finish(core, pending)
    core.send_plain(
        core.variant.layout.pairing_gdio, Command.STATUS, build_status(StatusCode.COMPLETE)
    )


def _finish(core: NukiCore, auth: Authorization) -> None:
    core.pairing = None
    core.add_authorization(auth)
    core.end_pairing_mode()


def _ultra_data(core: NukiCore, session: PairingSession, data: bytes) -> None:
    """5G steps 3-4: encrypted Authorization Data with the PIN (spec §3.4)."""
    command = Command.AUTHORIZATION_DATA
    try:
        opened = codec.open_message(session.key, data)
    except CodecError:
        _fail(core, E.P_ERROR_BAD_AUTHENTICATOR, command, "undecryptable authorization data")
        return
    if not opened.crc_ok:
        _error(core, E.ERROR_BAD_CRC, opened.command)
        return
    if opened.command != command or opened.auth_id != opened.header.auth_id:
        _fail(core, E.P_ERROR_BAD_PARAMETER, opened.command, "not an authorization data")
        return
    try:
        ultra = UltraAuthorizationData.parse(opened.payload)
    except ProtocolError:
        _error(core, E.ERROR_BAD_LENGTH, command)
        return
    # spec §3.4 ⚠: 0x7FFFFFFF is documented; some clients put their app id there instead.
    if opened.auth_id not in ULTRA_PAIRING_IDS and opened.auth_id != ultra.app_id:
        _fail(core, E.P_ERROR_BAD_PARAMETER, command, "unexpected authorization id")
        return
    failure = core.pin_guard.check(ultra.security_pin, core.memory.security_pin, core.lock_time())
    if failure is not None:
        _fail(core, failure, command, f"security PIN ({failure.name})")
        return
    if not ultra.name:
        _fail(core, E.P_ERROR_BAD_PARAMETER, command, "empty name")
        return
    if not core.has_room(core.ultra_id_type, ultra.app_id):
        _fail(core, E.P_ERROR_MAX_USER, command, "no room for another authorization")
        return
    auth = _new_authorization(core, session, core.ultra_id_type, ultra.app_id, ultra.name)
    _finish(core, auth)
    # The reply's auth id is a simulation assumption (spec §3.4 step 4; vectors' note).
    reply = UltraAuthorizationId(auth.auth_id, core.inj.lock_uuid).to_payload()
    wire = codec.encrypt(
        session.key, AUTH_ID_5G_PAIRING, Command.AUTHORIZATION_ID, reply, core.inj.nonce_source()
    )
    _send(core, wire)
