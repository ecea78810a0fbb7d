"""Unmodified bleak, through ble/scanner.py and ble/link.py, against the fake BlueZ."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from bleak import BleakClient, BleakScanner
from dbus_fast import Message
from dbus_fast.aio import MessageBus

from ttlock_nuki_addon.ble.bleak_transport import BleakTransport
from ttlock_nuki_addon.ble.link import Link, LinkProfile, LinkTimings
from ttlock_nuki_addon.ble.scanner import ParsedAdvert, RawAdvert, Scanner
from ttlock_nuki_addon.errors import (
    DisconnectedError,
    LockTimeoutError,
    NotReachableError,
    ProtocolError,
)
from ttlock_nuki_addon.sim.bluez import FakeBluez
from ttlock_nuki_addon.sim.dbus_daemon import PrivateBus
from ttlock_nuki_addon.sim.peripheral import EchoPeripheral, LengthPrefixFramer

ADDRESS = "AA:BB:CC:00:00:01"
PROFILE = LinkProfile(
    write_char=EchoPeripheral.RX, notify_chars=(EchoPeripheral.TX,), chunk_size=20
)


class StrictFramer(LengthPrefixFramer):
    """Rejects messages whose payload starts with 0xEE, like a bad CRC would."""

    def feed(self, chunk: bytes) -> list[bytes]:
        messages = super().feed(chunk)
        if any(len(m) > 1 and m[1] == 0xEE for m in messages):
            raise ProtocolError("bad checksum")
        return messages


def msg(payload: bytes) -> bytes:
    return bytes([len(payload)]) + payload


@pytest.fixture
async def world(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[FakeBluez]:
    async with PrivateBus() as address:
        monkeypatch.setenv("DBUS_SYSTEM_BUS_ADDRESS", address)
        bluez = FakeBluez(address)
        await bluez.start()
        try:
            yield bluez
        finally:
            await bluez.stop()


@pytest.fixture
async def scanner(world: FakeBluez) -> AsyncIterator[Scanner]:
    scanner = Scanner()
    await scanner.start()
    try:
        yield scanner
    finally:
        await scanner.stop()


@pytest.fixture
async def echo(world: FakeBluez, scanner: Scanner) -> EchoPeripheral:
    """An echo device in range, already seen by the scanner."""
    device = EchoPeripheral(ADDRESS)
    world.add_peripheral(device)
    await seen(scanner)
    return device


@pytest.fixture
async def links(scanner: Scanner) -> AsyncIterator[Callable[..., Link]]:
    """Makes links to the echo device; all are closed when the test ends."""
    made: list[Link] = []

    def factory(**kwargs: Any) -> Link:
        made.append(make_link(scanner, **kwargs))
        return made[-1]

    yield factory
    for link in made:
        await link.close()


def make_link(
    scanner: Scanner | None,
    *,
    framer: Callable[[], LengthPrefixFramer] = LengthPrefixFramer,
    timings: LinkTimings | None = None,
    unsolicited: list[bytes] | None = None,
    ended: list[str] | None = None,
    address: str = ADDRESS,
) -> Link:
    resolver = scanner.ble_device if scanner is not None else None
    return Link(
        address,
        PROFILE,
        lambda _uuid: framer(),
        lambda addr: BleakTransport(addr, resolver=resolver, find_timeout=2.0),
        timings=timings or LinkTimings(connect_timeout=10, request_timeout=2, idle_disconnect=30),
        on_unsolicited=unsolicited.append if unsolicited is not None else None,
        on_disconnect=(lambda: ended.append("ended")) if ended is not None else None,
    )


async def wait_for(predicate: Callable[[], bool], timeout: float = 5.0) -> None:
    async with asyncio.timeout(timeout):
        while not predicate():
            await asyncio.sleep(0.02)


async def seen(scanner: Scanner, address: str = ADDRESS) -> None:
    await wait_for(lambda: scanner.ble_device(address) is not None)


def is_up(link: Link) -> bool:
    """The link's state, read fresh (a function call keeps mypy from narrowing it)."""
    return link.connected


def is_echo(m: bytes) -> Callable[[bytes], bool]:
    return lambda reply: reply == m


async def test_scan_finds_device_with_manufacturer_data(world: FakeBluez) -> None:
    echo = EchoPeripheral(ADDRESS)
    world.add_peripheral(echo)
    scanner = Scanner()
    got: list[ParsedAdvert[int]] = []

    def parse(raw: RawAdvert) -> int | None:
        data = raw.manufacturer_data.get(EchoPeripheral.COMPANY_ID)
        return data[4] if data and data.startswith(b"echo") else None

    scanner.register_parser(
        "echo", lambda raw: EchoPeripheral.COMPANY_ID in raw.manufacturer_data, parse
    )
    unsubscribe = scanner.subscribe(got.append, parser="echo")
    await scanner.start()
    try:
        await wait_for(lambda: bool(got))
        assert got[0].raw.address == ADDRESS
        assert got[0].raw.name == "Echo"
        assert got[0].value == 0
        assert EchoPeripheral.SERVICE in got[0].raw.service_uuids
        echo.set_counter(7)
        await wait_for(lambda: got[-1].value == 7)
        unsubscribe()
        count = len(got)
        echo.set_counter(8)
        await asyncio.sleep(0.3)
        assert len(got) == count
    finally:
        await scanner.stop()


async def test_foreign_adverts_and_failing_parsers_never_break_scanning(world: FakeBluez) -> None:
    world.add_peripheral(EchoPeripheral(ADDRESS))
    scanner = Scanner()

    def broken(raw: RawAdvert) -> int:
        raise ValueError("parser bug")

    good: list[ParsedAdvert[str]] = []
    scanner.register_parser("broken", lambda raw: True, broken)
    scanner.register_parser("good", lambda raw: True, lambda raw: raw.address)
    scanner.subscribe(lambda parsed: (_ for _ in ()).throw(RuntimeError("subscriber bug")))
    scanner.subscribe(good.append, parser="good")
    await scanner.start()
    try:
        await wait_for(lambda: len(good) >= 2)
    finally:
        await scanner.stop()


async def test_request_reply_chunking_and_fifty_requests(
    echo: EchoPeripheral, links: Callable[..., Link]
) -> None:
    link = links()
    small = msg(b"\x01\x02\x03")
    assert await link.request(small, is_echo(small)) == small

    big = msg(bytes(range(59)))
    assert len(big) == 60
    echo.writes.clear()
    assert await link.request(big, is_echo(big)) == big
    assert [len(w) for w in echo.writes] == [20, 20, 20]

    for i in range(50):
        m = msg(i.to_bytes(2, "big") * 10)
        assert await link.request(m, is_echo(m)) == m
    assert echo.connections == 1


async def test_link_subscribes_before_the_first_write(
    echo: EchoPeripheral, scanner: Scanner, links: Callable[..., Link]
) -> None:
    echo.strict = True

    # Control: a client that writes before subscribing is ignored by the strict device.
    device = scanner.ble_device(ADDRESS)
    assert device is not None
    async with BleakClient(device) as client:
        await client.write_gatt_char(EchoPeripheral.RX, msg(b"early"), response=True)
    assert echo.ignored_writes == 1

    link = links()
    m = msg(b"hello")
    assert await link.request(m, is_echo(m)) == m
    assert echo.ignored_writes == 1


async def test_dropped_link_fails_the_request_then_reconnects(
    echo: EchoPeripheral, links: Callable[..., Link]
) -> None:
    timings = LinkTimings(connect_timeout=10, request_timeout=5, idle_disconnect=30)
    link = links(timings=timings)
    first = msg(b"one")
    assert await link.request(first, is_echo(first)) == first
    echo.link.reply_ms = 300
    echo.faults.drop_link_after_writes = 1
    started = time.monotonic()
    with pytest.raises(DisconnectedError):
        await link.request(msg(b"lost"), is_echo(msg(b"lost")))
    assert time.monotonic() - started < timings.request_timeout
    assert not link.connected
    echo.link.reply_ms = 0
    again = msg(b"again")
    assert await link.request(again, is_echo(again)) == again
    assert echo.connections == 2


async def test_silent_peripheral_gives_timeout(
    echo: EchoPeripheral, links: Callable[..., Link]
) -> None:
    echo.faults.mute = True
    link = links(timings=LinkTimings(request_timeout=0.5, idle_disconnect=30))
    with pytest.raises(LockTimeoutError):
        await link.request(msg(b"hello?"), is_echo(msg(b"hello?")))
    echo.faults.mute = False
    m = msg(b"now")
    assert await link.request(m, is_echo(m)) == m


async def test_unsolicited_messages_do_not_confuse_reply_matching(
    echo: EchoPeripheral, links: Callable[..., Link]
) -> None:
    unsolicited: list[bytes] = []
    link = links(unsolicited=unsolicited)
    await link.connect()
    event = msg(b"\x14event")
    echo.link.reply_ms = 100
    echo.send(EchoPeripheral.TX, event)
    m = msg(b"question")
    assert await link.request(m, is_echo(m)) == m
    await wait_for(lambda: unsolicited == [event])


async def test_corrupt_frame_is_a_protocol_error(
    echo: EchoPeripheral, links: Callable[..., Link]
) -> None:
    link = links(framer=StrictFramer)
    with pytest.raises(ProtocolError):
        await link.request(msg(b"\xee"), is_echo(msg(b"\xee")))
    m = msg(b"fine")
    assert await link.request(m, is_echo(m)) == m


async def test_idle_window_closes_the_link(
    echo: EchoPeripheral, links: Callable[..., Link]
) -> None:
    link = links(timings=LinkTimings(request_timeout=2, idle_disconnect=0.3))
    m = msg(b"x")
    await link.request(m, is_echo(m))
    assert link.connected
    await wait_for(lambda: not echo.connected)
    assert not is_up(link)
    await link.request(m, is_echo(m))
    assert echo.connections == 2


async def test_longer_connect_time_is_felt(
    echo: EchoPeripheral, links: Callable[..., Link]
) -> None:
    echo.link.connect_ms = 1200
    link = links()
    started = time.monotonic()
    await link.connect()
    assert time.monotonic() - started >= 1.2


async def test_connect_timeout_is_typed(echo: EchoPeripheral, links: Callable[..., Link]) -> None:
    echo.link.connect_ms = 5000
    link = links(timings=LinkTimings(connect_timeout=0.5))
    with pytest.raises(LockTimeoutError, match="keypad"):
        await link.connect()


async def test_unknown_and_vanished_devices_are_not_reachable(
    world: FakeBluez, scanner: Scanner
) -> None:
    link = make_link(scanner, address="AA:BB:CC:00:00:99")
    with pytest.raises(NotReachableError, match="has not been seen"):
        await link.connect()

    echo = EchoPeripheral(ADDRESS)
    world.add_peripheral(echo)
    await seen(scanner)
    await world.remove_peripheral(ADDRESS)
    gone = make_link(scanner, timings=LinkTimings(connect_timeout=5))
    with pytest.raises((NotReachableError, LockTimeoutError)):
        await gone.connect()


async def test_missing_adapter_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    async with PrivateBus() as address:
        monkeypatch.setenv("DBUS_SYSTEM_BUS_ADDRESS", address)
        bluez = FakeBluez(address, with_adapter=False)
        await bluez.start()
        try:
            with pytest.raises(NotReachableError, match="No Bluetooth adapter"):
                await Scanner().start()
        finally:
            await bluez.stop()


async def test_missing_bluez_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    async with PrivateBus() as address:
        monkeypatch.setenv("DBUS_SYSTEM_BUS_ADDRESS", address)
        with pytest.raises(NotReachableError, match="BlueZ"):
            await Scanner().start()


async def test_missing_dbus_is_a_clear_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: object
) -> None:
    monkeypatch.setenv("DBUS_SYSTEM_BUS_ADDRESS", "unix:path=/nonexistent/dbus/socket")
    with pytest.raises(NotReachableError, match="D-Bus"):
        await Scanner().start()
    link = make_link(None)
    with pytest.raises(NotReachableError):
        await link.connect()


async def test_bleak_sees_link_figures(world: FakeBluez) -> None:
    echo = EchoPeripheral(ADDRESS)
    world.add_peripheral(echo)
    device = await BleakScanner.find_device_by_address(ADDRESS, timeout=5)
    assert device is not None
    async with BleakClient(device) as client:
        with pytest.raises(Exception, match="Invalid Length"):
            await client.write_gatt_char(EchoPeripheral.RX, bytes(21), response=False)


async def bus_connections(address: str) -> int:
    """How many clients the private dbus-daemon has (unique names, ours excluded)."""
    bus = await MessageBus(bus_address=address).connect()
    try:
        reply = await bus.call(
            Message(
                destination="org.freedesktop.DBus",
                path="/org/freedesktop/DBus",
                interface="org.freedesktop.DBus",
                member="ListNames",
            )
        )
        assert reply is not None
        return sum(1 for name in reply.body[0] if name.startswith(":")) - 1
    finally:
        bus.disconnect()


async def test_remote_drops_do_not_leak_dbus_connections(
    world: FakeBluez, echo: EchoPeripheral, links: Callable[..., Link]
) -> None:
    link = links()
    m = msg(b"ping")
    await link.request(m, is_echo(m))
    baseline = await bus_connections(world.bus_address)
    for _ in range(5):
        echo.drop_link()
        await wait_for(lambda: not link.connected)
        await link.request(m, is_echo(m))
    await asyncio.sleep(0.2)
    assert await bus_connections(world.bus_address) == baseline


async def test_the_owner_hears_every_end_of_a_connection(
    echo: EchoPeripheral, links: Callable[..., Link]
) -> None:
    ended: list[str] = []
    link = links(timings=LinkTimings(request_timeout=2, idle_disconnect=0.3), ended=ended)
    m = msg(b"x")
    await link.request(m, is_echo(m))
    await wait_for(lambda: ended == ["ended"])  # the idle window closed it
    await link.request(m, is_echo(m))
    await link.disconnect()
    assert ended == ["ended", "ended"]
    await link.request(m, is_echo(m))
    echo.drop_link()
    await wait_for(lambda: len(ended) == 3)  # the device dropped it
    await link.disconnect()  # already down: nothing more to report
    assert len(ended) == 3
