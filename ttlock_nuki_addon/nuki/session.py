"""One Nuki lock's connection over ble/link.py: encryption, exchanges, pushes and retries."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TypeVar

from ..ble.link import Framer, Link, LinkTimings, ReplyStream
from ..ble.transport import GattTransport, TransportFactory
from ..errors import (
    AuthError,
    BusyError,
    DisconnectedError,
    LockError,
    LockTimeoutError,
    ProtocolError,
)
from . import commands as cmds
from .channels import (
    Channel,
    Enough,
    Mode,
    Payload,
    Probe,
    Tagged,
    Until,
    completed,
    detect_family,
    profile_for,
    replies,
)
from .codec import (
    LOCK_PLAIN_LENGTHS,
    Command,
    EncryptedFramer,
    ErrorCode,
    Message,
    PlainFramer,
    StatusCode,
    command_name,
    decrypt,
    encrypt,
    parse_plain,
)
from .gatt import Family, GattLayout, layout_for

_LOGGER = logging.getLogger(__name__)
T = TypeVar("T")

# The lock sleeps between connections and a held link costs its battery (spec §5, §3.5): stay
# up only briefly after the last message, so a burst still shares one connection.
NUKI_TIMINGS = LinkTimings(
    connect_timeout=30.0, request_timeout=10.0, write_timeout=5.0, idle_disconnect=1.5
)
ACTION_TIMEOUT = 30.0  # bounds a whole lock action: ACCEPTED, motor run, COMPLETE (spec §4.1 D)
LIST_GRACE = 1.5  # after the announced number of entries, wait this long for Status COMPLETE
BUSY_BACKOFF = (0.5, 1.5)  # seconds before the 2nd and 3rd attempt after K_ERROR_BUSY
NOT_AUTHORIZED = (
    "The lock does not accept this add-on's keys: it was reset or the authorization was "
    "removed. Remove the lock here and pair it again."
)
PIN_NEEDED = (
    "This needs the lock's security PIN (set in the Nuki app under Features & Configuration > "
    "General). Enter it in the lock's settings here first."
)


class PinNeededError(LockError):
    """A command needs the lock's security PIN and none is stored for it."""

    code = "pin_needed"
    default_message = PIN_NEEDED


@dataclass(frozen=True, slots=True)
class _Request:
    """One command to send and how its answer ends."""

    command: int
    payload: Payload
    until: Until
    pin: int | None = field(repr=False)
    enough: Enough | None
    on_message: Callable[[Message], None] | None

    @property
    def protection(self) -> cmds.Protection:
        """Challenge / PIN the command needs (spec §4.2 table)."""
        try:
            return cmds.PROTECTION.get(Command(self.command), cmds.Protection.NONE)
        except ValueError:
            return cmds.Protection.NONE


class NukiSession:
    """Requests to one lock over one Link: one exchange and one challenge at a time."""

    def __init__(
        self,
        address: str,
        transport_factory: TransportFactory,
        *,
        family: Family | None,
        mode: Mode = Mode.OPERATION,
        key: bytes | None = None,
        auth_id: int | None = None,
        name: str | None = None,
        timings: LinkTimings | None = None,
        on_push: Callable[[Message], None] | None = None,
        busy_backoff: tuple[float, ...] = BUSY_BACKOFF,
        action_timeout: float = ACTION_TIMEOUT,
    ) -> None:
        self.mode = mode
        self.family = family
        self.key, self.auth_id = key, auth_id
        self.busy_backoff = busy_backoff
        self.action_timeout = action_timeout
        self.drops = 0
        self._on_push = on_push
        self._op = asyncio.Lock()  # a challenge and its command are never interleaved (§4.1)
        layout = layout_for(family or Family.SMART_LOCK)
        self.link = Link(
            address,
            profile_for(layout, mode),
            self._framer,
            lambda addr: Probe(transport_factory(addr), self._adapt),
            name=name,
            timings=timings or NUKI_TIMINGS,
            on_unsolicited=self._unsolicited,
            on_disconnect=self._dropped,
        )

    # --- link set-up ---------------------------------------------------------------------

    @property
    def name(self) -> str:
        """The lock's name in log lines."""
        return self.link.name

    @property
    def layout(self) -> GattLayout:
        """The UUIDs and PIN width of the lock's family (Smart Lock until known)."""
        return layout_for(self.family or Family.SMART_LOCK)

    @property
    def connected(self) -> bool:
        """Whether the link is up."""
        return self.link.connected

    def _adapt(self, transport: GattTransport) -> None:
        """Right after connecting: find the family if unknown, keep the optional GDIO if there."""
        if self.family is None:
            self.family = detect_family(transport.has_characteristic)
            if self.family is None:
                raise ProtocolError(
                    f"{self.name} offers no Nuki pairing characteristic; is it a Nuki lock in "
                    "pairing mode?"
                )
            _LOGGER.debug("%s: family %s from its characteristics", self.name, self.family)
        layout = self.layout
        gdio = transport.has_characteristic(layout.keyturner_gdio)
        self.link.profile = profile_for(layout, self.mode, gdio=gdio)

    def _framer(self, uuid: str) -> Framer:
        layout = self.layout
        if uuid == layout.usdio:
            return Tagged(Channel.USDIO, EncryptedFramer())
        if uuid == layout.pairing_gdio:
            # spec §3.4: the 5th gen sends its Authorization-ID encrypted on the pairing GDIO.
            five_g = self.family is Family.SMART_LOCK_5G
            return Tagged(Channel.PAIRING, PlainFramer(allow_encrypted=five_g))
        return Tagged(Channel.GDIO, PlainFramer())

    def _dropped(self) -> None:
        self.drops += 1

    async def connect(self) -> None:
        """Bring the link up (subscriptions first)."""
        await self.link.connect()

    async def disconnect(self) -> None:
        """Drop the link now; the next request reconnects."""
        await self.link.disconnect()

    async def close(self) -> None:
        """Drop the link for good; never raises."""
        try:
            await self.link.close()
        except LockError as exc:
            _LOGGER.debug("%s: closing the link failed: %s", self.name, exc.message)

    # --- incoming messages -----------------------------------------------------------------

    @staticmethod
    def _not_authorized(body: bytes) -> bool:
        """The unencrypted K_ERROR_NOT_AUTHORIZED report on the keyturner GDIO (spec §1.4)."""
        plain = parse_plain(body)
        if not plain.crc_ok or plain.command != Command.ERROR_REPORT:
            return False
        return plain.payload[:1] == bytes([ErrorCode.K_ERROR_NOT_AUTHORIZED])

    def _match(self, tagged: bytes) -> bool:
        """Messages an exchange takes; of the unencrypted GDIO only "not authorized" (§1.4)."""
        if len(tagged) < 2:
            return False
        channel, body = tagged[0], tagged[1:]
        if channel == Channel.GDIO:
            try:
                return self._not_authorized(body)
            except ProtocolError:
                return False
        return channel == (Channel.PAIRING if self.mode is Mode.PAIRING else Channel.USDIO)

    def _unsolicited(self, tagged: bytes) -> None:
        channel, body = tagged[0], tagged[1:]
        try:
            if channel == Channel.GDIO:
                plain = parse_plain(body)
                # spec §1.4: of the unencrypted keyturner GDIO only the 0xF1 notice is trusted.
                if (
                    plain.crc_ok
                    and plain.command == Command.STATUS
                    and plain.payload[:1] == bytes([StatusCode.STATE_CHANGED])
                ):
                    _LOGGER.debug("%s: state-changed notice (0xF1)", self.name)
                    self._push(Message(plain.command, plain.payload))
                return
            if channel == Channel.USDIO and self.key is not None:
                message = decrypt(self.key, body, self.auth_id)
                _LOGGER.debug("%s: unsolicited %s", self.name, command_name(message.command))
                self._push(message)
        except LockError as exc:
            _LOGGER.debug("%s: ignored an unsolicited message (%s)", self.name, exc.message)

    def _push(self, message: Message) -> None:
        if self._on_push is not None:
            try:
                self._on_push(message)
            except Exception:
                _LOGGER.exception("%s: push listener failed", self.name)

    def _open(self, tagged: bytes) -> Message:
        """An exchange's message: decrypted and verified; the lock's errors raised typed."""
        channel, body = tagged[0], tagged[1:]
        if channel == Channel.GDIO:  # _match lets only K_ERROR_NOT_AUTHORIZED through
            _LOGGER.debug("%s: the lock does not know our authorization", self.name)
            raise AuthError(NOT_AUTHORIZED)
        if self.key is None:
            raise ProtocolError("An encrypted message arrived before a key was agreed.")
        message = decrypt(self.key, body, self.auth_id)
        if message.command == Command.ERROR_REPORT:
            report = cmds.parse_error_report(message.payload)
            _LOGGER.debug("%s: %s", self.name, cmds.describe_report(report))
            raise cmds.error_for(report)
        return message

    # --- exchanges ---------------------------------------------------------------------------

    def _seal(self, command: int, payload: bytes) -> bytes:
        if self.key is None or self.auth_id is None:
            raise AuthError(NOT_AUTHORIZED)
        return encrypt(self.key, self.auth_id, command, payload)

    async def transact(
        self,
        command: int,
        payload: Payload = b"",
        *,
        until: Until,
        pin: int | None = None,
        enough: Enough | None = None,
        on_message: Callable[[Message], None] | None = None,
        total_timeout: float | None = None,
    ) -> list[Message]:
        """Send one encrypted command (challenge and PIN as its protection needs, spec §4.1)
        and return the lock's messages up to and including the one `until` accepts."""
        request = _Request(command, payload, until, pin, enough, on_message)
        if request.protection is cmds.Protection.CHALLENGE_PIN and pin is None:
            raise PinNeededError(PIN_NEEDED)
        try:
            async with self._op, asyncio.timeout(total_timeout):
                return await self._transact(request)
        except TimeoutError:
            raise LockTimeoutError(
                f"{command_name(command)} did not finish within {total_timeout:g} s."
            ) from None

    async def _body(self, request: _Request, stream: ReplyStream) -> bytes:
        """The command's payload; a challenge is fetched first when it needs one (§4.1 B, C)."""
        payload, protection = request.payload, request.protection
        if protection is cmds.Protection.NONE:
            assert isinstance(payload, bytes)
            return payload
        await self.link.write(
            self._seal(Command.REQUEST_DATA, cmds.request_data(Command.CHALLENGE))
        )
        while True:
            reply = self._open(await stream.get(self.link.timings.request_timeout))
            if reply.command == Command.CHALLENGE:
                break
        nonce = cmds.parse_challenge(reply.payload)
        if callable(payload):
            return payload(nonce)
        if protection is cmds.Protection.CHALLENGE_PIN:
            assert request.pin is not None
            return cmds.with_pin(payload, nonce, request.pin, self.layout.pin_bytes)
        return cmds.with_challenge(payload, nonce)

    async def _transact(self, request: _Request) -> list[Message]:
        timeout = self.link.timings.request_timeout
        name = command_name(request.command)
        async with self.link.exchange(self._match) as stream:
            _LOGGER.debug("%s: sending %s", self.name, name)
            body = await self._body(request, stream)
            await self.link.write(self._seal(request.command, body))
            messages: list[Message] = []
            while True:
                enough = request.enough is not None and request.enough(messages)
                try:
                    raw = await stream.get(min(LIST_GRACE, timeout) if enough else timeout)
                except LockTimeoutError:
                    if not enough:
                        raise
                    # The list is whole but its Status never came: start clean next time.
                    await self.link.disconnect()
                    return messages
                message = self._open(raw)
                messages.append(message)
                if request.on_message is not None:
                    request.on_message(message)
                if request.until(message):
                    _LOGGER.debug("%s: %s answered (%d messages)", self.name, name, len(messages))
                    return messages

    async def request_data(self, command: int) -> Message:
        """Request Data (0x0001) for a message sent without challenge (spec §4.1 pattern A)."""
        answer = await self.transact(
            Command.REQUEST_DATA, cmds.request_data(command), until=replies(command)
        )
        return answer[-1]

    async def call(
        self,
        command: int,
        payload: Payload = b"",
        *,
        reply: int | None = None,
        pin: int | None = None,
    ) -> Message:
        """One command; its reply message (`reply`), or the Status COMPLETE when None."""
        until = completed if reply is None else replies(reply)
        return (await self.transact(command, payload, until=until, pin=pin))[-1]

    # --- pairing exchanges (unencrypted on the pairing GDIO, spec §3) -----------------------

    async def pairing_request(
        self, message: bytes, *, key: bytes | None = None, timeout: float | None = None
    ) -> Message:
        """Write one pairing message; the lock's answer as is (an Error Report is returned).

        With `key` (5th gen, spec §3.4) an encrypted answer is opened without checking its
        auth id, which no source pins down.
        """
        async with self._op, self.link.exchange(self._match) as stream:
            await self.link.write(message)
            raw = await stream.get(timeout or self.link.timings.request_timeout)
        channel, body = raw[0], raw[1:]
        plain = parse_plain(body)
        expected = LOCK_PLAIN_LENGTHS.get(plain.command)
        if key is None or channel == Channel.GDIO or (plain.crc_ok and expected == len(body)):
            return plain.verified()
        return decrypt(key, body)

    # --- retries -----------------------------------------------------------------------------

    async def run(self, op: Callable[[], Awaitable[T]], *, retry_transient: bool = True) -> T:
        """Run `op`: BUSY retried with backoff (bounded), a stale challenge once, and (when
        `retry_transient`) a lost answer or drop once on a new connection."""
        stale = transient = busy = 0
        while True:
            try:
                return await op()
            except cmds.StaleChallengeError:
                if stale:
                    raise
                stale += 1
                _LOGGER.debug("%s: stale challenge; once more with a fresh one", self.name)
            except BusyError:
                if busy >= len(self.busy_backoff):
                    raise
                delay = self.busy_backoff[busy]
                busy += 1
                _LOGGER.debug("%s: lock busy; retrying in %.1f s", self.name, delay)
                await asyncio.sleep(delay)
            except (LockTimeoutError, DisconnectedError) as exc:
                if not retry_transient or transient:
                    raise
                transient += 1
                _LOGGER.debug("%s: %s; retrying on a new connection", self.name, type(exc).__name__)
                await self.disconnect()  # also discards any late answer to the lost request
