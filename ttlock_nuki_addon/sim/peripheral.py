"""A simulated BLE peripheral: GATT layout, advertising data, link figures and fault knobs."""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any, ClassVar, Protocol

from .faults import FaultDice, FaultError, Faults, seed_of, update_faults

# Characteristic flags as BlueZ spells them in GattCharacteristic1.Flags.
READ = "read"
WRITE = "write"
WRITE_NO_RESPONSE = "write-without-response"
NOTIFY = "notify"
INDICATE = "indicate"
CCCD_UUID = "00002902-0000-1000-8000-00805f9b34fb"


class ActionError(ValueError):
    """A control action was malformed or not possible; the message says why."""


@dataclass(frozen=True, slots=True)
class CharacteristicDef:
    """One characteristic: UUID and BlueZ flags; a CCCD is added for notify/indicate."""

    uuid: str
    flags: tuple[str, ...]

    @property
    def can_subscribe(self) -> bool:
        """Whether StartNotify is allowed."""
        return NOTIFY in self.flags or INDICATE in self.flags


@dataclass(frozen=True, slots=True)
class ServiceDef:
    """One primary service and its characteristics."""

    uuid: str
    characteristics: tuple[CharacteristicDef, ...]


@dataclass(slots=True)
class LinkFigures:
    """Radio timing of one device: connect time, reply delay and ATT MTU."""

    connect_ms: int = 0
    reply_ms: int = 0
    mtu: int = 23

    @property
    def max_write(self) -> int:
        """Largest value one write may carry (ATT_MTU - 3)."""
        return self.mtu - 3


class PeripheralHost(Protocol):
    """What the simulated radio offers a peripheral (implemented by the fake BlueZ)."""

    def notify(self, peripheral: Peripheral, char_uuid: str, value: bytes) -> bool:
        """Deliver one notification/indication; False when nobody is subscribed."""
        ...

    def drop_link(self, peripheral: Peripheral) -> None:
        """Drop the connection from the peripheral side."""
        ...

    def advert_changed(self, peripheral: Peripheral) -> None:
        """Advertising data changed; send it out now."""
        ...


def _int_field(params: dict[str, Any], name: str, low: int, high: int) -> int | None:
    value = params.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ActionError(f"'{name}' must be an integer from {low} to {high}")
    return value


class Peripheral:
    """Base class of every virtual device; brand locks subclass it."""

    kind: ClassVar[str] = "generic"

    def __init__(self, address: str, name: str, *, rssi: int = -60) -> None:
        self.address = address.upper()
        self.name = name
        self.rssi = rssi
        self.advert_interval = 1.0
        self.advertising = True
        self.connectable = True
        self.manufacturer_data: dict[int, bytes] = {}
        self.service_data: dict[str, bytes] = {}
        self.service_uuids: list[str] = []
        self.link = LinkFigures()
        self.faults = Faults(seed=seed_of(self.address))
        self.dice = FaultDice(self.faults.seed)
        self.connected = False
        self.subscribed: set[str] = set()
        self.host: PeripheralHost | None = None
        self._outbox: asyncio.Queue[tuple[str, bytes, int]] | None = None
        self._sender: asyncio.Task[None] | None = None
        self.log: list[str] = []
        self.connections = 0
        self.writes: list[bytes] = []

    # --- what subclasses define -------------------------------------------------------

    def gatt(self) -> tuple[ServiceDef, ...]:
        """The GATT layout; handles are assigned in this order."""
        return ()

    async def on_write(self, char_uuid: str, data: bytes, with_response: bool) -> None:
        """A central wrote a value (already checked against flags and MTU)."""

    def on_read(self, char_uuid: str) -> bytes:
        """A central read a characteristic."""
        return b""

    def on_connect(self) -> None:
        """A central connected."""

    def on_disconnect(self) -> None:
        """The link went down (either side)."""

    def on_subscribe(self, char_uuid: str, enabled: bool) -> None:
        """A central enabled or disabled notifications/indications."""

    def state(self) -> str:
        """A short word for the control API: what the device is doing."""
        return "connected" if self.connected else ("advertising" if self.advertising else "silent")

    def describe(self) -> dict[str, Any]:
        """The device as the control API shows it."""
        return {
            "address": self.address,
            "kind": self.kind,
            "name": self.name,
            "state": self.state(),
            "rssi": self.rssi,
            "advertising": self.advertising,
            "connected": self.connected,
            "link": asdict(self.link),
            "faults": asdict(self.faults),
        }

    def actions(self) -> dict[str, Callable[[dict[str, Any]], dict[str, Any]]]:
        """Control-API actions by name; subclasses add their physical world."""
        return {
            "link": self._action_link,
            "faults": self._action_faults,
            "advertise": self._action_advertise,
            "drop_link": self._action_drop_link,
        }

    # --- control actions ---------------------------------------------------------------

    def perform(self, action: str, params: dict[str, Any]) -> dict[str, Any]:
        """Run one control action; raises ActionError with a reason on bad input."""
        handler = self.actions().get(action)
        if handler is None:
            known = ", ".join(sorted(self.actions()))
            raise ActionError(f"unknown action '{action}' for {self.kind} (known: {known})")
        return handler(params)

    def _action_link(self, params: dict[str, Any]) -> dict[str, Any]:
        connect_ms = _int_field(params, "connect_ms", 0, 60_000)
        reply_ms = _int_field(params, "reply_ms", 0, 60_000)
        mtu = _int_field(params, "mtu", 23, 517)
        rssi = _int_field(params, "rssi", -127, 20)
        if connect_ms is not None:
            self.link.connect_ms = connect_ms
        if reply_ms is not None:
            self.link.reply_ms = reply_ms
        if mtu is not None:
            self.link.mtu = mtu
        if rssi is not None:
            self.rssi = rssi
        return {"link": asdict(self.link), "rssi": self.rssi}

    def _action_faults(self, params: dict[str, Any]) -> dict[str, Any]:
        try:
            reseed = update_faults(self.faults, params)
        except FaultError as exc:
            raise ActionError(str(exc)) from None
        if reseed:
            self.dice.reseed(self.faults.seed)
        return {"faults": asdict(self.faults)}

    def _action_advertise(self, params: dict[str, Any]) -> dict[str, Any]:
        enabled = params.get("enabled", True)
        if not isinstance(enabled, bool):
            raise ActionError("'enabled' must be true or false")
        self.set_advertising(enabled)
        return {"advertising": self.advertising}

    def _action_drop_link(self, params: dict[str, Any]) -> dict[str, Any]:
        if not self.connected:
            raise ActionError("not connected")
        self.drop_link()
        return {}

    # --- helpers for subclasses --------------------------------------------------------

    def set_advertising(self, enabled: bool) -> None:
        """Start or stop advertising."""
        self.advertising = enabled
        if enabled and self.host is not None:
            self.host.advert_changed(self)

    def update_advert(
        self,
        *,
        manufacturer_data: dict[int, bytes] | None = None,
        service_data: dict[str, bytes] | None = None,
    ) -> None:
        """Change the advertising payload; it goes out at once."""
        if manufacturer_data is not None:
            self.manufacturer_data = dict(manufacturer_data)
        if service_data is not None:
            self.service_data = dict(service_data)
        if self.host is not None:
            self.host.advert_changed(self)

    def advert_rssi(self) -> int:
        """RSSI of one received advert: the base value with a little radio noise."""
        return max(-127, min(20, self.rssi + random.randint(-2, 2)))  # noqa: S311  radio noise, not crypto

    def send(self, char_uuid: str, message: bytes, chunk_size: int | None = None) -> None:
        """Queue a message to the central, chunked to the link's MTU, after the reply delay."""
        if self._outbox is None:
            return
        self._outbox.put_nowait((char_uuid, bytes(message), chunk_size or self.link.max_write))

    def drop_link(self) -> None:
        """Drop the connection from this side."""
        if self.host is not None and self.connected:
            self.host.drop_link(self)

    def consume_write_fault(self) -> bool:
        """True when this write should be followed by a dropped link (fault knobs)."""
        return self.dice.drop_after_write(self.faults)

    # --- called by the fake BlueZ ------------------------------------------------------

    def link_up(self) -> None:
        """The radio connected."""
        self.connected = True
        self.connections += 1
        self.subscribed.clear()
        self._outbox = asyncio.Queue()
        self._sender = asyncio.create_task(self._send_loop(self._outbox))
        self.on_connect()

    def link_down(self) -> None:
        """The radio disconnected."""
        if not self.connected:
            return
        self.connected = False
        self.subscribed.clear()
        self._outbox = None
        if self._sender is not None:
            self._sender.cancel()
            self._sender = None
        self.on_disconnect()

    async def _send_loop(self, outbox: asyncio.Queue[tuple[str, bytes, int]]) -> None:
        while True:
            char_uuid, message, chunk_size = await outbox.get()
            delay = self.dice.reply_delay(self.faults, self.link.reply_ms)
            if delay > 0:
                await asyncio.sleep(delay)
            if self.faults.mute:
                continue
            sent = self.dice.reply(self.faults, message)
            if sent is None:
                self.log.append(f"dropped reply {message.hex()}")
                continue
            for start in range(0, len(sent), chunk_size):
                if self.host is None or not self.connected:
                    return
                self.host.notify(self, char_uuid, sent[start : start + chunk_size])

    async def close(self) -> None:
        """Stop background work."""
        if self._sender is not None:
            self._sender.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sender
            self._sender = None


class LengthPrefixFramer:
    """[len][payload] messages (payload up to 255 bytes), as the echo device speaks them."""

    def __init__(self) -> None:
        self._buf = bytearray()

    def feed(self, chunk: bytes) -> list[bytes]:
        """Add a chunk; return the messages it completed."""
        self._buf.extend(chunk)
        out = []
        while self._buf and len(self._buf) >= self._buf[0] + 1:
            size = self._buf[0] + 1
            out.append(bytes(self._buf[:size]))
            del self._buf[:size]
        return out

    def reset(self) -> None:
        """Forget a partial message."""
        self._buf.clear()


class EchoPeripheral(Peripheral):
    """A test device: length-prefixed messages written to RX are echoed back on TX."""

    kind: ClassVar[str] = "echo"
    SERVICE = "6e400001-b5a3-f393-e0a9-e50e24dcca9e"
    RX = "6e400002-b5a3-f393-e0a9-e50e24dcca9e"
    TX = "6e400003-b5a3-f393-e0a9-e50e24dcca9e"
    COMPANY_ID = 0xFFFF

    def __init__(self, address: str, name: str = "Echo", *, strict: bool = False) -> None:
        super().__init__(address, name)
        self.strict = strict
        self.manufacturer_data = {self.COMPANY_ID: b"echo" + bytes([0])}
        self.service_uuids = [self.SERVICE]
        self._framer = LengthPrefixFramer()
        self.received: list[bytes] = []
        self.ignored_writes = 0

    def gatt(self) -> tuple[ServiceDef, ...]:
        """Nordic-UART-like layout: RX takes writes, TX notifies."""
        return (
            ServiceDef(
                self.SERVICE,
                (
                    CharacteristicDef(self.RX, (WRITE, WRITE_NO_RESPONSE)),
                    CharacteristicDef(self.TX, (NOTIFY,)),
                ),
            ),
        )

    def on_disconnect(self) -> None:
        """Forget a half-received message."""
        self._framer.reset()

    async def on_write(self, char_uuid: str, data: bytes, with_response: bool) -> None:
        """Reassemble [len][payload] messages and echo each one back."""
        if char_uuid != self.RX:
            return
        if self.strict and self.TX not in self.subscribed:
            self.ignored_writes += 1
            return
        for message in self._framer.feed(data):
            self.received.append(message)
            self.send(self.TX, message)

    def set_counter(self, value: int) -> None:
        """Change the last advert byte, as a device reporting state would."""
        self.update_advert(manufacturer_data={self.COMPANY_ID: b"echo" + bytes([value & 0xFF])})
