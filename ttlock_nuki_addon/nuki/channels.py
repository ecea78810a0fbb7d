"""Nuki link plumbing: channels, GATT profiles, family detection, tagged framers, reply tests.

Messages from the lock are tagged with the characteristic they came on (one leading byte added
by the framer wrapper) so an exchange can tell encrypted USDIO traffic from the unencrypted
keyturner GDIO (spec §1.4) and the pairing GDIO. The tag never reaches the wire.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import IntEnum, StrEnum

from ..ble.link import Framer, LinkProfile
from ..ble.transport import GattTransport, NotifyCallback
from .codec import Command, Message, StatusCode
from .gatt import LAYOUTS, Family, GattLayout

WRITE_CHUNK = 512  # whole messages: BlueZ does the long write (spec §1.2 step 3)


class Channel(IntEnum):
    """Which characteristic a message came on (the tag byte the session's framers add)."""

    USDIO = 0
    GDIO = 1
    PAIRING = 2


class Mode(StrEnum):
    """What a connection is for: pairing (pairing GDIO) or operation (USDIO)."""

    OPERATION = "operation"
    PAIRING = "pairing"


def profile_for(layout: GattLayout, mode: Mode, *, gdio: bool = True) -> LinkProfile:
    """Write and subscribe characteristics (spec §1.2): everything subscribed before a write."""
    extra = (layout.keyturner_gdio,) if gdio else ()
    if mode is Mode.PAIRING:
        return LinkProfile(layout.pairing_gdio, (layout.pairing_gdio, *extra), True, WRITE_CHUNK)
    return LinkProfile(layout.usdio, (layout.usdio, *extra), True, WRITE_CHUNK)


def detect_family(has: Callable[[str], bool]) -> Family | None:
    """The family whose pairing characteristic a device offers (5th gen first; spec §1.6)."""
    for family in (Family.SMART_LOCK_5G, Family.OPENER, Family.SMART_LOCK):
        if has(LAYOUTS[family].pairing_gdio):
            return family
    return None


class Tagged:
    """A framer that prefixes each complete message with its channel byte."""

    def __init__(self, channel: Channel, inner: Framer) -> None:
        self._tag, self._inner = bytes([channel]), inner

    def feed(self, chunk: bytes) -> list[bytes]:
        """Reassemble, then tag."""
        return [self._tag + message for message in self._inner.feed(chunk)]

    def reset(self) -> None:
        """Drop a partial message."""
        self._inner.reset()


class Probe:
    """A transport that lets the session adapt the link's profile right after connecting."""

    def __init__(self, inner: GattTransport, connected: Callable[[GattTransport], None]) -> None:
        self._inner, self._connected = inner, connected

    @property
    def is_connected(self) -> bool:
        """Whether the inner transport is up."""
        return self._inner.is_connected

    async def connect(self, on_disconnect: Callable[[], None]) -> None:
        """Connect, then let the session look at the characteristics."""
        await self._inner.connect(on_disconnect)
        self._connected(self._inner)

    def has_characteristic(self, uuid: str) -> bool:
        """Delegated."""
        return self._inner.has_characteristic(uuid)

    async def start_notify(self, uuid: str, callback: NotifyCallback) -> None:
        """Delegated."""
        await self._inner.start_notify(uuid, callback)

    async def write(self, uuid: str, data: bytes, response: bool) -> None:
        """Delegated."""
        await self._inner.write(uuid, data, response)

    async def disconnect(self) -> None:
        """Delegated."""
        await self._inner.disconnect()


Until = Callable[[Message], bool]
"""Says whether a message ends an exchange."""
Enough = Callable[[list[Message]], bool]
"""Says whether the messages so far would do if the lock stayed silent now."""
Payload = bytes | Callable[[bytes], bytes]
"""A command's own fields (protection appended by the session) or a builder taking nK."""


def replies(*commands: int) -> Until:
    """Ends at the first message with one of these command ids."""
    wanted = set(commands)
    return lambda message: message.command in wanted


def is_status(message: Message, code: int) -> bool:
    """Whether the message is a Status with this code."""
    return message.command == Command.STATUS and message.payload[:1] == bytes([code])


def completed(message: Message) -> bool:
    """Ends at Status COMPLETE (spec §4.1)."""
    return is_status(message, StatusCode.COMPLETE)


def listed(count_command: int, entry_command: int, count_of: Callable[[bytes], int]) -> Enough:
    """A list is whole once the count message and that many entries arrived (spec §4.1)."""

    def enough(messages: list[Message]) -> bool:
        counts = [m for m in messages if m.command == count_command]
        if not counts:
            return False
        entries = sum(1 for m in messages if m.command == entry_command)
        return entries >= count_of(counts[0].payload)

    return enough
