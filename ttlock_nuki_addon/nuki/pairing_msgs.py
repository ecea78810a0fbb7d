"""Nuki pairing messages (pure): keys, authenticators and both sides of every message (spec §3)."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, field
from enum import IntEnum
from typing import ClassVar, Self

import nacl.bindings
import nacl.public

from .codec import Command, encode_plain
from .fields import FieldError, Reader, decode_name, encode_name, encode_pin, enum_or_raw, u8, u32

KEY_LEN = 32  # X25519 public/private keys and the shared key (spec §3.2)
NONCE_LEN = 32  # challenges nK1/nK2/nK3 and the client nonce nA (spec §3.1)
AUTHENTICATOR_LEN = 32  # HMAC-SHA256 (spec §3.2)
NAME_LEN = 32  # spec §3.3
UUID_LEN = 16  # lock UUID in the Authorization-ID (spec §3.1 step 9)


class IdType(IntEnum):
    """Who an authorization is for (spec §3.3); only BRIDGE clears the beacon flag (§1.5)."""

    APP = 0
    BRIDGE = 1
    FOB = 2
    KEYPAD = 3


@dataclass(frozen=True, slots=True)
class KeyPair:
    """An X25519 key pair; the private half never shows in repr."""

    private: bytes = field(repr=False)
    public: bytes


def generate_keypair() -> KeyPair:
    """A fresh random X25519 key pair (spec §3.1 step 3)."""
    return keypair_from_private(bytes(nacl.public.PrivateKey.generate()))


def keypair_from_private(private: bytes) -> KeyPair:
    """The key pair of a stored 32-byte private key."""
    _need(private, KEY_LEN, "private key")
    return KeyPair(bytes(private), bytes(nacl.public.PrivateKey(bytes(private)).public_key))


def dh(their_public: bytes, my_private: bytes) -> bytes:
    """The raw X25519 output (spec §3.2 step 1); not a key by itself."""
    _need(their_public, KEY_LEN, "public key")
    _need(my_private, KEY_LEN, "private key")
    return nacl.bindings.crypto_scalarmult(bytes(my_private), bytes(their_public))


def shared_key(their_public: bytes, my_private: bytes) -> bytes:
    """The long-term key: HSalsa20 of the X25519 output = crypto_box_beforenm (spec §3.2)."""
    _need(their_public, KEY_LEN, "public key")
    _need(my_private, KEY_LEN, "private key")
    return nacl.bindings.crypto_box_beforenm(bytes(their_public), bytes(my_private))


def authenticator(key: bytes, *parts: bytes) -> bytes:
    """HMAC-SHA256 keyed with the shared key over the concatenated parts (spec §3.2 step 3)."""
    return hmac.new(key, b"".join(parts), hashlib.sha256).digest()


def _need(value: bytes, size: int, what: str) -> None:
    if not isinstance(value, bytes | bytearray) or len(value) != size:
        raise FieldError(f"The {what} must be {size} bytes.")


def _same(expected: bytes, given: bytes) -> bool:
    return hmac.compare_digest(expected, given)


def _reader(payload: bytes, size: int, what: str) -> Reader:
    reader = Reader(payload, what)
    if reader.remaining != size:
        raise reader.fail(f"{len(payload)} bytes instead of {size}")
    return reader


class _Plain:
    """Mixin: the whole unencrypted message (command, payload, CRC; spec §2.2)."""

    __slots__ = ()
    COMMAND: ClassVar[Command]

    def to_payload(self) -> bytes:
        """The payload bytes."""
        raise NotImplementedError

    def to_message(self) -> bytes:
        """command || payload || CRC, ready for the pairing GDIO."""
        return encode_plain(self.COMMAND, self.to_payload())


@dataclass(frozen=True, slots=True)
class PublicKey(_Plain):
    """Public Key (0x0003), both directions: a 32-byte X25519 key (spec §3.1 steps 2-3)."""

    COMMAND: ClassVar[Command] = Command.PUBLIC_KEY
    SIZE: ClassVar[int] = KEY_LEN
    key: bytes

    def to_payload(self) -> bytes:
        """The key."""
        _need(self.key, KEY_LEN, "public key")
        return bytes(self.key)

    @classmethod
    def parse(cls, payload: bytes) -> Self:
        """From a payload; ProtocolError on a wrong length."""
        return cls(_reader(payload, cls.SIZE, "public key").take(KEY_LEN, "key"))


@dataclass(frozen=True, slots=True)
class Challenge(_Plain):
    """Challenge (0x0004) from the lock: a fresh 32-byte nonce (spec §3.1 steps 5, 7)."""

    COMMAND: ClassVar[Command] = Command.CHALLENGE
    SIZE: ClassVar[int] = NONCE_LEN
    nonce: bytes

    def to_payload(self) -> bytes:
        """The nonce."""
        _need(self.nonce, NONCE_LEN, "challenge")
        return bytes(self.nonce)

    @classmethod
    def parse(cls, payload: bytes) -> Self:
        """From a payload; ProtocolError on a wrong length."""
        return cls(_reader(payload, cls.SIZE, "challenge").take(NONCE_LEN, "nonce"))


@dataclass(frozen=True, slots=True)
class AuthorizationAuthenticator(_Plain):
    """Authorization Authenticator (0x0005): HMAC(k, clientPub || lockPub || nK1) (spec §3.1)."""

    COMMAND: ClassVar[Command] = Command.AUTHORIZATION_AUTHENTICATOR
    SIZE: ClassVar[int] = AUTHENTICATOR_LEN
    authenticator: bytes

    def to_payload(self) -> bytes:
        """The authenticator."""
        _need(self.authenticator, AUTHENTICATOR_LEN, "authenticator")
        return bytes(self.authenticator)

    @classmethod
    def parse(cls, payload: bytes) -> Self:
        """From a payload; ProtocolError on a wrong length."""
        reader = _reader(payload, cls.SIZE, "authorization authenticator")
        return cls(reader.take(AUTHENTICATOR_LEN, "authenticator"))

    def verify(
        self, key: bytes, client_public: bytes, lock_public: bytes, challenge: bytes
    ) -> bool:
        """Lock side: whether the client holds the shared key (spec §3.1 step 6)."""
        expected = authorization_authenticator(key, client_public, lock_public, challenge)
        return _same(expected.authenticator, self.authenticator)


def authorization_authenticator(
    key: bytes, client_public: bytes, lock_public: bytes, challenge: bytes
) -> AuthorizationAuthenticator:
    """Client side of step 6: HMAC(k, clientPub || lockPub || nK1) (spec §3.1)."""
    _need(client_public, KEY_LEN, "client public key")
    _need(lock_public, KEY_LEN, "lock public key")
    _need(challenge, NONCE_LEN, "challenge")
    return AuthorizationAuthenticator(authenticator(key, client_public, lock_public, challenge))


@dataclass(frozen=True, slots=True)
class AuthorizationData(_Plain):
    """Authorization Data (0x0006) before 5G: a2, idType, appId, name[32], nA (spec §3.1 step 8).

    `name_field` keeps the 32 raw bytes so the authenticator checks what was sent.
    """

    COMMAND: ClassVar[Command] = Command.AUTHORIZATION_DATA
    SIZE: ClassVar[int] = AUTHENTICATOR_LEN + 1 + 4 + NAME_LEN + NONCE_LEN  # 101
    authenticator: bytes
    id_type: int
    app_id: int
    name_field: bytes
    nonce: bytes

    @property
    def name(self) -> str:
        """The name, cut at its first NUL."""
        return decode_name(self.name_field)

    def signed_part(self) -> bytes:
        """idType || appId || name || nA: what the authenticator covers before nK2."""
        _need(self.name_field, NAME_LEN, "name field")
        _need(self.nonce, NONCE_LEN, "client nonce")
        return (
            u8(self.id_type, "The ID type")
            + u32(self.app_id, "The app id")
            + bytes(self.name_field)
            + bytes(self.nonce)
        )

    def to_payload(self) -> bytes:
        """authenticator || idType || appId || name || nA."""
        _need(self.authenticator, AUTHENTICATOR_LEN, "authenticator")
        return bytes(self.authenticator) + self.signed_part()

    @classmethod
    def parse(cls, payload: bytes) -> Self:
        """From a payload; ProtocolError on a wrong length."""
        reader = _reader(payload, cls.SIZE, "authorization data")
        return cls(
            authenticator=reader.take(AUTHENTICATOR_LEN, "authenticator"),
            id_type=enum_or_raw(IdType, reader.u8("ID type")),
            app_id=reader.u32("app id"),
            name_field=reader.take(NAME_LEN, "name"),
            nonce=reader.take(NONCE_LEN, "nonce"),
        )

    def verify(self, key: bytes, lock_challenge: bytes) -> bool:
        """Lock side: HMAC(k, idType || appId || name || nA || nK2) matches (spec §3.1 step 8)."""
        return _same(authenticator(key, self.signed_part(), lock_challenge), self.authenticator)


def build_authorization_data(
    key: bytes,
    id_type: IdType,
    app_id: int,
    name: str,
    *,
    client_nonce: bytes,
    lock_challenge: bytes,
) -> AuthorizationData:
    """Client side of step 8, authenticator included (spec §3.1, §3.3)."""
    _need(lock_challenge, NONCE_LEN, "challenge")
    unsigned = AuthorizationData(
        bytes(AUTHENTICATOR_LEN), id_type, app_id, encode_name(name, NAME_LEN), bytes(client_nonce)
    )
    signed = authenticator(key, unsigned.signed_part(), lock_challenge)
    return AuthorizationData(signed, id_type, app_id, unsigned.name_field, unsigned.nonce)


@dataclass(frozen=True, slots=True)
class AuthorizationId(_Plain):
    """Authorization-ID (0x0007) before 5G: a3, authId, lockUUID[16], nK3 (spec §3.1 step 9)."""

    COMMAND: ClassVar[Command] = Command.AUTHORIZATION_ID
    SIZE: ClassVar[int] = AUTHENTICATOR_LEN + 4 + UUID_LEN + NONCE_LEN  # 84
    authenticator: bytes
    auth_id: int
    lock_uuid: bytes
    nonce: bytes

    def signed_part(self) -> bytes:
        """authId || lockUUID || nK3: what the authenticator covers before nA."""
        _need(self.lock_uuid, UUID_LEN, "lock UUID")
        _need(self.nonce, NONCE_LEN, "lock nonce")
        return u32(self.auth_id, "The authorization id") + bytes(self.lock_uuid) + bytes(self.nonce)

    def to_payload(self) -> bytes:
        """authenticator || authId || lockUUID || nK3."""
        _need(self.authenticator, AUTHENTICATOR_LEN, "authenticator")
        return bytes(self.authenticator) + self.signed_part()

    @classmethod
    def parse(cls, payload: bytes) -> Self:
        """From a payload; ProtocolError on a wrong length."""
        reader = _reader(payload, cls.SIZE, "authorization ID")
        return cls(
            authenticator=reader.take(AUTHENTICATOR_LEN, "authenticator"),
            auth_id=reader.u32("authorization id"),
            lock_uuid=reader.take(UUID_LEN, "lock UUID"),
            nonce=reader.take(NONCE_LEN, "nonce"),
        )

    def verify(self, key: bytes, client_nonce: bytes) -> bool:
        """Client side: HMAC(k, authId || lockUUID || nK3 || nA) matches (spec §3.1 step 9)."""
        return _same(authenticator(key, self.signed_part(), client_nonce), self.authenticator)


def build_authorization_id(
    key: bytes, auth_id: int, lock_uuid: bytes, lock_nonce: bytes, client_nonce: bytes
) -> AuthorizationId:
    """Lock side of step 9, authenticator included (spec §3.1)."""
    _need(client_nonce, NONCE_LEN, "client nonce")
    unsigned = AuthorizationId(bytes(AUTHENTICATOR_LEN), auth_id, lock_uuid, lock_nonce)
    signed = authenticator(key, unsigned.signed_part(), client_nonce)
    return AuthorizationId(signed, auth_id, bytes(lock_uuid), bytes(lock_nonce))


@dataclass(frozen=True, slots=True)
class AuthorizationIdConfirmation(_Plain):
    """Authorization-ID Confirmation (0x001E): a4 = HMAC(k, authId || nK3), authId (§3.1)."""

    COMMAND: ClassVar[Command] = Command.AUTHORIZATION_ID_CONFIRMATION
    SIZE: ClassVar[int] = AUTHENTICATOR_LEN + 4  # 36
    authenticator: bytes
    auth_id: int

    def to_payload(self) -> bytes:
        """authenticator || authId."""
        _need(self.authenticator, AUTHENTICATOR_LEN, "authenticator")
        return bytes(self.authenticator) + u32(self.auth_id, "The authorization id")

    @classmethod
    def parse(cls, payload: bytes) -> Self:
        """From a payload; ProtocolError on a wrong length."""
        reader = _reader(payload, cls.SIZE, "authorization ID confirmation")
        return cls(reader.take(AUTHENTICATOR_LEN, "authenticator"), reader.u32("authorization id"))

    def verify(self, key: bytes, lock_nonce: bytes) -> bool:
        """Lock side: the authenticator matches the nK3 the lock sent (spec §3.1 step 10)."""
        expected = build_authorization_id_confirmation(key, self.auth_id, lock_nonce)
        return _same(expected.authenticator, self.authenticator)


def build_authorization_id_confirmation(
    key: bytes, auth_id: int, lock_nonce: bytes
) -> AuthorizationIdConfirmation:
    """Client side of step 10 (spec §3.1)."""
    _need(lock_nonce, NONCE_LEN, "lock nonce")
    signed = authenticator(key, u32(auth_id, "The authorization id"), lock_nonce)
    return AuthorizationIdConfirmation(signed, auth_id)


@dataclass(frozen=True, slots=True)
class AuthorizationInfo(_Plain):
    """Authorization Info (0x004C), 5G only: one byte of unknown meaning (spec §3.4 step 2)."""

    COMMAND: ClassVar[Command] = Command.AUTHORIZATION_INFO
    SIZE: ClassVar[int] = 1
    value: int

    def to_payload(self) -> bytes:
        """The byte."""
        return u8(self.value, "The authorization info")

    @classmethod
    def parse(cls, payload: bytes) -> Self:
        """From a payload; ProtocolError on a wrong length."""
        return cls(_reader(payload, cls.SIZE, "authorization info").u8("value"))


@dataclass(frozen=True, slots=True)
class UltraAuthorizationData:
    """5G Authorization Data (0x0006, sent encrypted): appId, name[32], PIN u32 (spec §3.4)."""

    COMMAND: ClassVar[Command] = Command.AUTHORIZATION_DATA
    SIZE: ClassVar[int] = 4 + NAME_LEN + 4  # 40
    app_id: int
    name_field: bytes
    security_pin: int = field(repr=False)

    @property
    def name(self) -> str:
        """The name, cut at its first NUL."""
        return decode_name(self.name_field)

    def to_payload(self) -> bytes:
        """appId || name || PIN."""
        _need(self.name_field, NAME_LEN, "name field")
        return (
            u32(self.app_id, "The app id")
            + bytes(self.name_field)
            + encode_pin(self.security_pin, 4)
        )

    @classmethod
    def parse(cls, payload: bytes) -> Self:
        """From a decrypted payload; ProtocolError on a wrong length."""
        reader = _reader(payload, cls.SIZE, "5G authorization data")
        return cls(reader.u32("app id"), reader.take(NAME_LEN, "name"), reader.u32("PIN"))


def build_ultra_authorization_data(
    app_id: int, name: str, security_pin: int
) -> UltraAuthorizationData:
    """Client side of 5G step 3 (spec §3.4); encrypt its payload with codec.encrypt."""
    data = UltraAuthorizationData(app_id, encode_name(name, NAME_LEN), security_pin)
    data.to_payload()  # FieldError now rather than when sending
    return data


@dataclass(frozen=True, slots=True)
class UltraAuthorizationId:
    """5G Authorization-ID (0x0007, sent encrypted): authId, lockUUID[16] (spec §3.4 step 4)."""

    COMMAND: ClassVar[Command] = Command.AUTHORIZATION_ID
    SIZE: ClassVar[int] = 4 + UUID_LEN  # 20
    auth_id: int
    lock_uuid: bytes

    def to_payload(self) -> bytes:
        """authId || lockUUID."""
        _need(self.lock_uuid, UUID_LEN, "lock UUID")
        return u32(self.auth_id, "The authorization id") + bytes(self.lock_uuid)

    @classmethod
    def parse(cls, payload: bytes) -> Self:
        """From a decrypted payload; ProtocolError on a wrong length."""
        reader = _reader(payload, cls.SIZE, "5G authorization ID")
        return cls(reader.u32("authorization id"), reader.take(UUID_LEN, "lock UUID"))
