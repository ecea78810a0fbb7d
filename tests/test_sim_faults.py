"""The simulated peripheral's random fault knobs: rates, jitter, seeds and the control action."""

from __future__ import annotations

import asyncio
import math
from typing import Any

import pytest

from ttlock_nuki_addon.sim.faults import FaultDice, Faults, seed_of
from ttlock_nuki_addon.sim.peripheral import ActionError, EchoPeripheral, Peripheral

ADDRESS = "AA:BB:CC:DD:EE:01"
MESSAGE = bytes(range(1, 21))


class Host:
    """A PeripheralHost that records what reaches the central."""

    def __init__(self) -> None:
        self.delivered: list[bytes] = []
        self.drops = 0

    def notify(self, peripheral: Peripheral, char_uuid: str, value: bytes) -> bool:
        self.delivered.append(value)
        return True

    def drop_link(self, peripheral: Peripheral) -> None:
        self.drops += 1

    def advert_changed(self, peripheral: Peripheral) -> None:
        pass


def echo(**faults: Any) -> EchoPeripheral:
    device = EchoPeripheral(ADDRESS)
    if faults:
        device.perform("faults", faults)
    return device


def fates(device: Peripheral, count: int) -> list[bytes | None]:
    return [device.dice.reply(device.faults, MESSAGE) for _ in range(count)]


# --- the control action ---------------------------------------------------------------------


def test_the_new_knobs_are_shown_and_default_to_off() -> None:
    shown = echo().describe()["faults"]
    assert shown["drop_rate"] == shown["corrupt_rate"] == shown["disconnect_rate"] == 0.0
    assert shown["jitter_ms"] == 0
    assert shown["seed"] == seed_of(ADDRESS) == 0xAABBCCDDEE01


def test_the_faults_action_sets_rates_jitter_and_seed() -> None:
    device = echo()
    knobs = {"drop_rate": 0.1, "disconnect_rate": 0.05, "corrupt_rate": 1, "jitter_ms": 40}
    result = device.perform("faults", {**knobs, "seed": 7})
    assert result["faults"] == {**asdict_of(device.faults), **knobs, "seed": 7}
    assert device.faults.corrupt_rate == 1.0 and isinstance(device.faults.corrupt_rate, float)


def asdict_of(faults: Faults) -> dict[str, Any]:
    return {name: getattr(faults, name) for name in Faults.__dataclass_fields__}


@pytest.mark.parametrize(
    ("params", "named"),
    [
        ({"drop_rate": 1.5}, "'drop_rate'"),
        ({"corrupt_rate": -0.1}, "'corrupt_rate'"),
        ({"disconnect_rate": True}, "'disconnect_rate'"),
        ({"drop_rate": "0.1"}, "'drop_rate'"),
        ({"drop_rate": math.nan}, "'drop_rate'"),
        ({"jitter_ms": 60_001}, "'jitter_ms'"),
        ({"jitter_ms": 2.5}, "'jitter_ms'"),
        ({"seed": -1}, "'seed'"),
        ({"drop_replies": -1}, "'drop_replies'"),
        ({"mute": 1}, "'mute'"),
    ],
)
def test_bad_values_are_refused_naming_the_knob_and_change_nothing(
    params: dict[str, Any], named: str
) -> None:
    device = echo(drop_rate=0.5)
    with pytest.raises(ActionError, match=named):
        device.perform("faults", {"corrupt_rate": 0.25, **params})
    assert device.faults.drop_rate == 0.5 and device.faults.corrupt_rate == 0.0


# --- the dice -----------------------------------------------------------------------------------


def test_rate_one_drops_or_corrupts_every_reply_and_rate_zero_none() -> None:
    assert fates(echo(drop_rate=1.0), 50) == [None] * 50
    corrupted = fates(echo(corrupt_rate=1.0), 50)
    for sent in corrupted:
        assert sent is not None and len(sent) == len(MESSAGE) and sent != MESSAGE
        assert sum(a != b for a, b in zip(sent, MESSAGE, strict=True)) == 1
    assert fates(echo(), 50) == [MESSAGE] * 50


def test_rates_hit_about_as_often_as_asked() -> None:
    device = echo(drop_rate=0.1, corrupt_rate=0.02)
    results = fates(device, 5000)
    dropped = results.count(None)
    corrupted = sum(1 for sent in results if sent is not None and sent != MESSAGE)
    assert 400 <= dropped <= 600  # 500 expected; the seed fixes the figure, the bound is loose
    assert 40 <= corrupted <= 140  # 2% of the ~4500 not dropped: ~90
    links = echo(disconnect_rate=0.05)
    drops = sum(links.consume_write_fault() for _ in range(5000))
    assert 180 <= drops <= 320


def test_counters_come_before_the_rates_and_are_consumed() -> None:
    device = echo(drop_replies=2, drop_link_after_writes=1)
    assert fates(device, 3) == [None, None, MESSAGE]
    assert [device.consume_write_fault() for _ in range(3)] == [True, False, False]
    assert device.faults.drop_replies == device.faults.drop_link_after_writes == 0


def test_the_same_seed_makes_the_same_decisions_and_another_seed_others() -> None:
    knobs = {"drop_rate": 0.3, "corrupt_rate": 0.3, "jitter_ms": 100}
    first, second = echo(**knobs, seed=11), echo(**knobs, seed=11)
    assert fates(first, 200) == fates(second, 200)
    delays = [first.dice.reply_delay(first.faults, 5) for _ in range(50)]
    assert delays == [second.dice.reply_delay(second.faults, 5) for _ in range(50)]
    assert fates(echo(**knobs, seed=12), 200) != fates(echo(**knobs, seed=11), 200)
    first.perform("faults", {"seed": 11})  # setting the seed starts the sequence again
    assert fates(first, 200) == fates(echo(**knobs, seed=11), 200)


def test_jitter_adds_up_to_its_bound_to_the_reply_delay() -> None:
    device = echo(jitter_ms=80)
    delays = [device.dice.reply_delay(device.faults, 20) for _ in range(500)]
    assert all(0.020 <= delay <= 0.100 for delay in delays)
    assert max(delays) - min(delays) > 0.05  # spread over the range, not a constant
    assert FaultDice(1).reply_delay(Faults(), 30) == 0.030


# --- through the send loop ------------------------------------------------------------------


async def test_the_send_loop_applies_the_dice_to_whole_messages() -> None:
    device = echo(drop_rate=0.5, jitter_ms=2, seed=3)
    host = Host()
    device.host = host
    device.link_up()
    try:
        for index in range(40):
            device.send(EchoPeripheral.TX, bytes([index]) * 30, chunk_size=20)
        async with asyncio.timeout(10):
            while len(device.log) + len(host.delivered) // 2 < 40:
                await asyncio.sleep(0.01)
    finally:
        device.link_down()
        await device.close()
    dropped = [line for line in device.log if line.startswith("dropped reply")]
    assert 5 <= len(dropped) <= 35 and len(host.delivered) == 2 * (40 - len(dropped))
    # A message goes out whole (both chunks) or not at all, in order.
    chunks = host.delivered
    for first, second in zip(chunks[::2], chunks[1::2], strict=True):
        assert len(first) == 20 and len(second) == 10 and first[0] == second[0]
    sent = [chunk[0] for chunk in chunks[::2]]
    assert sent == sorted(sent)
