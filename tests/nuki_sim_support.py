"""Client side for the virtual Nuki tests: pairing written with pairing_msgs, a manual clock."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from ttlock_nuki_addon.nuki import codec
from ttlock_nuki_addon.nuki.codec import (
    AUTH_ID_5G_PAIRING,
    Command,
    Message,
    StatusCode,
    encode_plain,
    parse_plain,
)
from ttlock_nuki_addon.nuki.commands import (
    PROTECTION,
    Protection,
    parse_error_report,
    request_data,
    with_challenge,
    with_pin,
)
from ttlock_nuki_addon.nuki.pairing_msgs import (
    AuthorizationId,
    Challenge,
    IdType,
    KeyPair,
    PublicKey,
    UltraAuthorizationId,
    authorization_authenticator,
    build_authorization_data,
    build_authorization_id_confirmation,
    build_ultra_authorization_data,
    generate_keypair,
    shared_key,
)
from ttlock_nuki_addon.sim.nuki import new_core
from ttlock_nuki_addon.sim.nuki_core import NukiCore
from ttlock_nuki_addon.sim.nuki_io import Drop, Injected, Out, Send

VECTORS: dict[str, Any] = json.loads(
    (Path(__file__).parent / "data" / "nuki_vectors.json").read_text()
)
NOW = datetime(2024, 5, 6, 7, 8, 9)  # a Monday, UTC
REQUEST_PUBLIC_KEY = encode_plain(Command.REQUEST_DATA, request_data(Command.PUBLIC_KEY))


def h(text: str) -> bytes:
    return bytes.fromhex(text)


class ManualTimers:
    """Timers that fire only when the test says so."""

    def __init__(self) -> None:
        self.pending: dict[str, tuple[float, Callable[[], None]]] = {}

    def start(self, name: str, delay: float, callback: Callable[[], None]) -> None:
        self.pending[name] = (delay, callback)

    def cancel(self, name: str) -> None:
        self.pending.pop(name, None)

    def running(self, name: str) -> bool:
        return name in self.pending

    def cancel_all(self) -> None:
        self.pending.clear()

    def delay(self, name: str) -> float:
        return self.pending[name][0]

    def fire(self, name: str) -> None:
        _delay, callback = self.pending.pop(name)
        callback()


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, now: datetime = NOW) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def sequence(items: list[bytes]) -> Callable[[], bytes]:
    """A source handing out the given values in order, then fails loudly."""
    it: Iterator[bytes] = iter(items)
    return lambda: next(it)


class PairingError(AssertionError):
    """The lock refused the pairing; `code` is its error."""

    def __init__(self, code: int) -> None:
        super().__init__(f"pairing refused with 0x{code:02X}")
        self.code = code


@dataclass
class PairingClient:
    """The client side of pairing (spec §3.1, §3.4), one lock message at a time."""

    ultra: bool = False
    id_type: IdType = IdType.BRIDGE
    app_id: int = 0x1234ABCD
    name: str = "Test Bridge"
    pin: int = 123456
    ultra_auth_id: int = AUTH_ID_5G_PAIRING
    keys: KeyPair = field(default_factory=generate_keypair)
    client_nonce: bytes = bytes(range(32))
    key: bytes = b""
    lock_public: bytes = b""
    lock_nonce: bytes = b""
    auth_id: int | None = None
    lock_uuid: bytes = b""
    step: str = "public_key"

    def first(self) -> bytes:
        return REQUEST_PUBLIC_KEY

    def answer(self, message: bytes) -> bytes | None:
        """The next message to write, None when pairing is done; PairingError on an error."""
        if self.ultra and self.step == "ultra_id":
            self._ultra_id(message)
            return None
        reply = parse_plain(message).verified()
        if reply.command == Command.ERROR_REPORT:
            raise PairingError(parse_error_report(reply.payload).code)
        step: Callable[[Message], bytes | None] = getattr(self, f"_{self.step}")
        return step(reply)

    def _public_key(self, reply: Message) -> bytes:
        self.lock_public = PublicKey.parse(reply.payload).key
        self.key = shared_key(self.lock_public, self.keys.private)
        self.step = "challenge"
        return PublicKey(self.keys.public).to_message()

    def _challenge(self, reply: Message) -> bytes:
        nonce = Challenge.parse(reply.payload).nonce
        self.step = "info" if self.ultra else "data_challenge"
        authenticator = authorization_authenticator(
            self.key, self.keys.public, self.lock_public, nonce
        )
        return authenticator.to_message()

    def _info(self, reply: Message) -> bytes:
        assert reply.command == Command.AUTHORIZATION_INFO
        self.step = "ultra_id"
        data = build_ultra_authorization_data(self.app_id, self.name, self.pin)
        return codec.encrypt(
            self.key, self.ultra_auth_id, Command.AUTHORIZATION_DATA, data.to_payload()
        )

    def _ultra_id(self, message: bytes) -> None:
        plain = parse_plain(message)
        if plain.crc_ok and plain.command == Command.ERROR_REPORT:
            raise PairingError(parse_error_report(plain.payload).code)
        reply = codec.decrypt(self.key, message)
        assert reply.command == Command.AUTHORIZATION_ID
        ultra = UltraAuthorizationId.parse(reply.payload)
        self.auth_id, self.lock_uuid, self.step = ultra.auth_id, ultra.lock_uuid, "done"

    def _data_challenge(self, reply: Message) -> bytes:
        nonce = Challenge.parse(reply.payload).nonce
        self.step = "authorization_id"
        data = build_authorization_data(
            self.key,
            self.id_type,
            self.app_id,
            self.name,
            client_nonce=self.client_nonce,
            lock_challenge=nonce,
        )
        return data.to_message()

    def _authorization_id(self, reply: Message) -> bytes:
        answer = AuthorizationId.parse(reply.payload)
        assert answer.verify(self.key, self.client_nonce), "the lock's authenticator is wrong"
        self.auth_id, self.lock_uuid = answer.auth_id, answer.lock_uuid
        self.step = "status"
        confirmation = build_authorization_id_confirmation(self.key, answer.auth_id, answer.nonce)
        return confirmation.to_message()

    def _status(self, reply: Message) -> None:
        assert reply.command == Command.STATUS and reply.payload == bytes([StatusCode.COMPLETE])
        self.step = "done"
        return None


@dataclass
class Keyturner:
    """An authorization's encrypted channel (spec §2.3)."""

    key: bytes
    auth_id: int
    pin: int
    pin_bytes: int

    def wire(self, command: int, payload: bytes = b"") -> bytes:
        return codec.encrypt(self.key, self.auth_id, command, payload)

    def open(self, wire: bytes) -> Message:
        return codec.decrypt(self.key, wire, self.auth_id)

    def protected(self, command: int, fields: bytes, challenge: bytes) -> bytes:
        """`fields || nK [|| PIN]` as PROTECTION says for `command`."""
        if PROTECTION[Command(command)] is Protection.CHALLENGE_PIN:
            return with_pin(fields, challenge, self.pin, self.pin_bytes)
        return with_challenge(fields, challenge)


class Rig:
    """A radio-free core with a manual clock and timers, and a paired client."""

    def __init__(self, kind: str = "nuki-4", **options: Any) -> None:
        self.timers = ManualTimers()
        self.clock = Clock()
        injected = Injected(clock=self.clock, timers=self.timers)
        options.setdefault("motor_ms", 5)
        self.core: NukiCore = new_core(kind, injected, **options)
        self.layout = self.core.variant.layout
        self.core.link_up()
        self.client: Keyturner | None = None

    def pair(self, client: PairingClient | None = None) -> Keyturner:
        """Pairing mode and a full pairing; the client becomes the rig's."""
        client = client or PairingClient(ultra=self.core.variant.ultra, pin=self.core_pin())
        self.core.start_pairing_mode()
        message: bytes | None = client.first()
        while message is not None:
            out = self.core.handle(self.layout.pairing_gdio, message)
            assert len(out) == 1 and isinstance(out[0], Send), out
            message = client.answer(out[0].data)
        assert client.auth_id is not None
        self.client = Keyturner(client.key, client.auth_id, self.core_pin(), self.pin_bytes)
        return self.client

    def core_pin(self) -> int:
        return self.core.memory.security_pin

    @property
    def pin_bytes(self) -> int:
        return self.core.variant.pin_bytes

    def usdio(self, wire: bytes) -> list[Out]:
        return self.core.handle(self.layout.usdio, wire)

    def messages(self, out: list[Out], client: Keyturner | None = None) -> list[Message]:
        """The encrypted USDIO messages among `out`, opened (others are ignored)."""
        client = client or self.client
        assert client is not None
        return [
            client.open(o.data) for o in out if isinstance(o, Send) and o.char == self.layout.usdio
        ]

    def plain(self, out: list[Out], char: str) -> list[Message]:
        return [
            parse_plain(o.data).verified() for o in out if isinstance(o, Send) and o.char == char
        ]

    def send(
        self, command: int, payload: bytes = b"", client: Keyturner | None = None
    ) -> list[Message]:
        client = client or self.client
        assert client is not None
        return self.messages(self.usdio(client.wire(command, payload)), client)

    def challenge(self, client: Keyturner | None = None) -> bytes:
        (reply,) = self.send(Command.REQUEST_DATA, request_data(Command.CHALLENGE), client)
        assert reply.command == Command.CHALLENGE
        return reply.payload

    def call(
        self, command: int, fields: bytes = b"", client: Keyturner | None = None
    ) -> list[Message]:
        """A protected command after a fresh challenge."""
        client = client or self.client
        assert client is not None
        payload = client.protected(command, fields, self.challenge(client))
        return self.send(command, payload, client)

    def fire(self, name: str, client: Keyturner | None = None) -> list[Message]:
        self.timers.fire(name)
        return self.messages(self.core.take_output(), client)

    def states(self, client: Keyturner | None = None) -> bytes:
        (reply,) = self.send(Command.REQUEST_DATA, request_data(Command.KEYTURNER_STATES), client)
        assert reply.command == Command.KEYTURNER_STATES
        return reply.payload


def error_of(message: Message) -> tuple[int, int]:
    assert message.command == Command.ERROR_REPORT, message
    report = parse_error_report(message.payload)
    return report.code, report.command


def status_of(message: Message) -> int:
    assert message.command == Command.STATUS, message
    return message.payload[0]


def dropped(out: list[Out]) -> bool:
    return any(isinstance(o, Drop) for o in out)
