"""Link timing against the simulated world: cold connect, warm round trip, our own overhead.

Run: .venv/bin/python benchmarks/bench_link.py [--rounds N] [--connect-ms MS] [--reply-ms MS]
Prints one JSON object. Figures are measured, never asserted (shared, noisy machines).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import time

from ttlock_nuki_addon.ble.bleak_transport import BleakTransport
from ttlock_nuki_addon.ble.link import Link, LinkProfile, LinkTimings
from ttlock_nuki_addon.ble.scanner import Scanner
from ttlock_nuki_addon.sim.bluez import FakeBluez
from ttlock_nuki_addon.sim.dbus_daemon import PrivateBus
from ttlock_nuki_addon.sim.peripheral import EchoPeripheral, LengthPrefixFramer

ADDRESS = "AA:BB:CC:00:00:42"


def ms(seconds: float) -> float:
    return round(seconds * 1000, 2)


async def measure(connect_ms: int, reply_ms: int, rounds: int, size: int) -> dict[str, object]:
    async with PrivateBus() as address:
        os.environ["DBUS_SYSTEM_BUS_ADDRESS"] = address
        world = FakeBluez(address)
        await world.start()
        echo = EchoPeripheral(ADDRESS)
        echo.link.connect_ms, echo.link.reply_ms = connect_ms, reply_ms
        world.add_peripheral(echo)
        scanner = Scanner()
        await scanner.start()
        try:
            async with asyncio.timeout(10):
                while scanner.ble_device(ADDRESS) is None:
                    await asyncio.sleep(0.01)
            link = Link(
                ADDRESS,
                LinkProfile(EchoPeripheral.RX, (EchoPeripheral.TX,)),
                lambda _uuid: LengthPrefixFramer(),
                lambda a: BleakTransport(a, resolver=scanner.ble_device),
                timings=LinkTimings(idle_disconnect=60),
            )
            message = bytes([size - 1]) + bytes(size - 1)
            chunks = -(-size // 20)

            started = time.perf_counter()
            await link.request(message, lambda m: m == message)
            cold = time.perf_counter() - started

            warm = []
            for _ in range(rounds):
                started = time.perf_counter()
                await link.request(message, lambda m: m == message)
                warm.append(time.perf_counter() - started)
            await link.close()
        finally:
            await scanner.stop()
            await world.stop()
    radio = reply_ms / 1000
    return {
        "connect_ms": connect_ms,
        "reply_ms": reply_ms,
        "message_bytes": size,
        "write_chunks": chunks,
        "cold_request_ms": ms(cold),
        "cold_overhead_ms": ms(cold - connect_ms / 1000 - radio),
        "warm_median_ms": ms(statistics.median(warm)),
        "warm_p95_ms": ms(sorted(warm)[int(len(warm) * 0.95) - 1]),
        "warm_overhead_median_ms": ms(statistics.median(warm) - radio),
        "rounds": rounds,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=50)
    parser.add_argument("--connect-ms", type=int, default=1000)
    parser.add_argument("--reply-ms", type=int, default=65)
    parser.add_argument("--size", type=int, default=60)
    args = parser.parse_args()
    results = {
        "real_lock_figures": asyncio.run(
            measure(args.connect_ms, args.reply_ms, args.rounds, args.size)
        ),
        "zero_radio_time": asyncio.run(measure(0, 0, args.rounds, args.size)),
    }
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
