"""A GATT link to one lock: connect, subscribe first, chunked writes, framed replies, idle close."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Protocol

from ..errors import DisconnectedError, LockError, LockTimeoutError, ProtocolError
from .transport import GattTransport, TransportFactory

_LOGGER = logging.getLogger(__name__)

Match = Callable[[bytes], bool]
"""Says whether an incoming message is the reply being waited for."""


class Framer(Protocol):
    """Brand-supplied reassembly: chunks in, complete messages out."""

    def feed(self, chunk: bytes) -> list[bytes]:
        """Add one notification; return the messages it completed (raise ProtocolError)."""
        ...

    def reset(self) -> None:
        """Drop any partial message (the link went down)."""
        ...


@dataclass(frozen=True, slots=True)
class LinkProfile:
    """How a brand talks GATT: where to write, what to subscribe to, how to chunk."""

    write_char: str
    notify_chars: tuple[str, ...]
    write_with_response: bool = False
    chunk_size: int = 20


@dataclass(frozen=True, slots=True)
class LinkTimings:
    """Every wait on the radio is bounded by one of these (seconds)."""

    connect_timeout: float = 30.0
    request_timeout: float = 10.0
    write_timeout: float = 5.0
    idle_disconnect: float = 5.0


@dataclass(eq=False)
class ReplyStream:
    """Messages matching one exchange, in arrival order; fails when the link drops."""

    match: Match
    _queue: asyncio.Queue[bytes | LockError] = field(default_factory=asyncio.Queue)

    async def get(self, timeout: float) -> bytes:
        """The next matching message; LockTimeoutError or DisconnectedError otherwise."""
        try:
            async with asyncio.timeout(timeout):
                item = await self._queue.get()
        except TimeoutError:
            raise LockTimeoutError(
                "The lock did not answer in time. Try again; if it keeps happening, "
                "move the Bluetooth adapter closer."
            ) from None
        if isinstance(item, LockError):
            raise item
        return item


class Link:
    """One device's link; requests are serialised, other messages go to `on_unsolicited`."""

    def __init__(
        self,
        address: str,
        profile: LinkProfile,
        framer_factory: Callable[[str], Framer],
        transport_factory: TransportFactory,
        *,
        name: str | None = None,
        timings: LinkTimings | None = None,
        on_unsolicited: Callable[[bytes], None] | None = None,
        on_disconnect: Callable[[], None] | None = None,
    ) -> None:
        """`framer_factory` gets each notify characteristic's UUID; `on_disconnect` runs
        whenever a connection ends, whoever ended it."""
        self.address = address.upper()
        self.name = name or self.address
        self.profile = profile
        self.timings = timings or LinkTimings()
        self._framer_factory = framer_factory
        self._transport_factory = transport_factory
        self._on_unsolicited = on_unsolicited
        self._on_disconnect = on_disconnect
        self._transport: GattTransport | None = None
        self._framers: dict[str, Framer] = {}
        self._streams: list[ReplyStream] = []
        self._exchange = asyncio.Lock()
        self._connect_lock = asyncio.Lock()
        self._idle: asyncio.TimerHandle | None = None
        self._busy = 0
        self._closed = False
        self._cleanup: set[asyncio.Task[None]] = set()

    @property
    def connected(self) -> bool:
        """Whether the link is up and subscribed."""
        return self._transport is not None and self._transport.is_connected

    async def connect(self) -> None:
        """Connect (bounded retries), find characteristics by UUID, subscribe before writing."""
        async with self._connect_lock:
            if self.connected:
                return
            if self._closed:
                raise DisconnectedError(f"The link to {self.name} was closed.")
            transport = self._transport_factory(self.address)
            try:
                async with asyncio.timeout(self.timings.connect_timeout):
                    await transport.connect(lambda: self._lost(transport))
                    self._check_characteristics(transport)
                    self._framers = {uuid: self._framer_factory(uuid) for uuid in self._chars()}
                    for uuid in self.profile.notify_chars:
                        await transport.start_notify(uuid, self._received)
            except TimeoutError:
                await transport.disconnect()
                raise LockTimeoutError(
                    f"Connecting to {self.name} took longer than "
                    f"{self.timings.connect_timeout:g} s. Touch the lock's keypad to wake it "
                    "and try again."
                ) from None
            except BaseException:
                await transport.disconnect()
                raise
            self._transport = transport
            _LOGGER.debug("%s: connected and subscribed", self.name)
            self._touch()

    def _chars(self) -> set[str]:
        return set(self.profile.notify_chars)

    def _check_characteristics(self, transport: GattTransport) -> None:
        wanted = [self.profile.write_char, *self.profile.notify_chars]
        missing = [uuid for uuid in wanted if not transport.has_characteristic(uuid)]
        if missing:
            raise ProtocolError(
                f"{self.name} does not offer the expected Bluetooth characteristic(s) "
                f"{', '.join(missing)}; is it the right kind of lock?"
            )

    async def request(self, message: bytes, match: Match, *, timeout: float | None = None) -> bytes:
        """Send a message and return the first reply that `match` accepts."""
        async with self.exchange(match) as replies:
            await self.write(message)
            return await replies.get(timeout or self.timings.request_timeout)

    @contextlib.asynccontextmanager
    async def exchange(self, match: Match) -> AsyncIterator[ReplyStream]:
        """Own the link for one exchange; matching messages queue up in the stream."""
        async with self._exchange:
            self._busy += 1
            self._cancel_idle()
            stream = ReplyStream(match)
            self._streams.append(stream)
            try:
                await self.connect()
                yield stream
            finally:
                self._streams.remove(stream)
                self._busy -= 1
                self._touch()

    async def write(self, message: bytes, *, char: str | None = None) -> None:
        """Write a whole message in chunks of the profile's size (connects if needed)."""
        if not self.connected:
            await self.connect()
        transport = self._transport
        if transport is None:
            raise DisconnectedError(f"The Bluetooth connection to {self.name} dropped.")
        uuid = char or self.profile.write_char
        size = self.profile.chunk_size
        try:
            for start in range(0, len(message), size):
                async with asyncio.timeout(self.timings.write_timeout):
                    await transport.write(
                        uuid, message[start : start + size], self.profile.write_with_response
                    )
        except TimeoutError:
            raise LockTimeoutError(f"Writing to {self.name} timed out.") from None
        self._touch()

    def _received(self, uuid: str, chunk: bytes) -> None:
        framer = self._framers.get(uuid)
        if framer is None:
            return
        try:
            messages = framer.feed(chunk)
        except ProtocolError as exc:
            framer.reset()
            self._fail_streams(exc)
            return
        for message in messages:
            self._dispatch(message)

    def _dispatch(self, message: bytes) -> None:
        for stream in self._streams:
            try:
                wanted = stream.match(message)
            except Exception:
                _LOGGER.exception("%s: reply matcher failed", self.name)
                wanted = False
            if wanted:
                stream._queue.put_nowait(message)
                return
        if self._on_unsolicited is not None:
            try:
                self._on_unsolicited(message)
            except Exception:
                _LOGGER.exception("%s: unsolicited-message handler failed", self.name)

    def _fail_streams(self, error: LockError) -> None:
        for stream in self._streams:
            stream._queue.put_nowait(error)

    def _lost(self, transport: GattTransport) -> None:
        if transport is not self._transport:
            return
        _LOGGER.debug("%s: link lost", self.name)
        self._transport = None
        self._cancel_idle()
        # bleak keeps the client's D-Bus connection after a remote drop until disconnect().
        task = asyncio.get_running_loop().create_task(transport.disconnect())
        self._cleanup.add(task)
        task.add_done_callback(self._cleanup.discard)
        for framer in self._framers.values():
            framer.reset()
        self._fail_streams(
            DisconnectedError(f"The Bluetooth connection to {self.name} dropped. Try again.")
        )
        self._ended()

    def _ended(self) -> None:
        """Tell the owner a connection ended: remote drop, idle close or disconnect()."""
        if self._on_disconnect is not None:
            try:
                self._on_disconnect()
            except Exception:
                _LOGGER.exception("%s: disconnect handler failed", self.name)

    def _touch(self) -> None:
        self._cancel_idle()
        if self._busy or not self.connected or self.timings.idle_disconnect <= 0:
            return
        loop = asyncio.get_running_loop()
        self._idle = loop.call_later(self.timings.idle_disconnect, self._idle_expired)

    def _cancel_idle(self) -> None:
        if self._idle is not None:
            self._idle.cancel()
            self._idle = None

    def _idle_expired(self) -> None:
        self._idle = None
        if not self._busy and self.connected:
            _LOGGER.debug("%s: idle, disconnecting", self.name)
            task = asyncio.get_running_loop().create_task(self.disconnect())
            self._cleanup.add(task)
            task.add_done_callback(self._cleanup.discard)
            task.add_done_callback(_log_task_error)

    async def disconnect(self) -> None:
        """Close the connection now (the next request reconnects)."""
        self._cancel_idle()
        transport, self._transport = self._transport, None
        if transport is not None:
            for framer in self._framers.values():
                framer.reset()
            self._fail_streams(DisconnectedError(f"The link to {self.name} was closed."))
            self._ended()
            await transport.disconnect()

    async def close(self) -> None:
        """Disconnect for good, waiting for background clean-up."""
        self._closed = True
        await self.disconnect()
        if self._cleanup:
            await asyncio.wait(set(self._cleanup), timeout=self.timings.write_timeout)


def _log_task_error(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        _LOGGER.warning("idle disconnect failed: %s", task.exception())
