"""UNLOCK published -> UNLOCKED published, through the real add-on (a subprocess) and mosquitto.

Each virtual lock's link adds --connect-ms to connect and --reply-ms per message it sends (real
lock figures by default). Cold: the link is down when UNLOCK is published; warm: it is still up.
Per brand: the time, the connects, the GATT writes and requests the lock received and the
messages it sent before UNLOCKED was published, the simulated radio time (connects x connect-ms
+ replies x reply-ms, the replies replayed through the lock's serial send queue) and our own time
on top of it (simulator, D-Bus and MQTT hops included). Prints a table, writes JSON.

Run: .venv/bin/python benchmarks/bench_unlock.py [--rounds N] [--json PATH] [--quick]
--quick runs one round and only checks that everything works. Never asserted (noisy machines).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))  # the test rig: world, broker, add-on subprocess

from app_rig import NUKI_ID, TOPICS, TT_ID, AppRig, wait_until  # noqa: E402

from ttlock_nuki_addon.mqtt.topics import Target  # noqa: E402
from ttlock_nuki_addon.sim.peripheral import Peripheral  # noqa: E402
from ttlock_nuki_addon.ttlock.framing import HEADER  # noqa: E402

QUIET = 0.3  # seconds without radio traffic before the next command (background reads done)
SETTLE = 15.0  # at most this long for the link to close or fall quiet


@dataclass
class Probe:
    """What one virtual lock did, with time.perf_counter() stamps."""

    writes: list[tuple[float, bytes]] = field(default_factory=list)
    sends: list[float] = field(default_factory=list)
    links: list[float] = field(default_factory=list)
    busy_until: float = 0.0  # when the lock's send queue has delivered all it was given

    def last_activity(self) -> float:
        """The last write to the lock or message from it (due), whichever is later."""
        return max(self.busy_until, self.writes[-1][0] if self.writes else 0.0)


def install_probe(lock: Peripheral) -> Probe:
    """Record the lock's writes, sent messages and link-ups (call on the world's loop)."""
    probe = Probe()
    on_write, send, link_up = lock.on_write, lock.send, lock.link_up

    async def recorded_write(char_uuid: str, data: bytes, with_response: bool) -> None:
        probe.writes.append((time.perf_counter(), bytes(data)))
        await on_write(char_uuid, data, with_response)

    def recorded_send(char_uuid: str, message: bytes, chunk_size: int | None = None) -> None:
        now = time.perf_counter()
        probe.sends.append(now)
        probe.busy_until = max(now, probe.busy_until) + lock.link.reply_ms / 1000
        send(char_uuid, message, chunk_size)

    def recorded_link_up() -> None:
        probe.links.append(time.perf_counter())
        link_up()

    lock.on_write = recorded_write  # type: ignore[method-assign]
    lock.send = recorded_send  # type: ignore[method-assign]
    lock.link_up = recorded_link_up  # type: ignore[method-assign]
    return probe


@dataclass(frozen=True)
class Sample:
    """One measured UNLOCK."""

    total_ms: float
    connects: int
    writes: int
    requests: int
    replies: int
    radio_ms: float
    own_ms: float


class Bench:
    """One brand's lock in the shared rig."""

    def __init__(self, rig: AppRig, brand: str, lock_id: str, lock: Peripheral) -> None:
        self.rig, self.brand, self.lock_id, self.lock = rig, brand, lock_id, lock
        self.probe = rig.call(lambda: install_probe(lock))
        self.connect_ms = self.reply_ms = 0

    def link(self, connect_ms: int, reply_ms: int) -> None:
        def apply() -> None:
            self.lock.link.connect_ms, self.lock.link.reply_ms = connect_ms, reply_ms

        self.rig.call(apply)
        self.connect_ms, self.reply_ms = connect_ms, reply_ms

    def connected(self) -> bool:
        return self.rig.call(lambda: self.lock.connected)

    def quiet(self, want_link: bool | None) -> bool:
        """Wait until the lock was quiet for QUIET s; True if the link is then as wanted."""

        def calm() -> bool:
            return time.perf_counter() - self.probe.last_activity() >= QUIET

        wait_until(calm, timeout=SETTLE, what=f"{self.brand} quiet")
        return want_link is None or self.connected() is want_link

    def settle_down(self) -> None:
        """Wait until the link is closed and the lock quiet."""
        wait_until(lambda: not self.connected(), timeout=SETTLE, what=f"{self.brand} link down")
        self.quiet(None)

    def act(self, payload: str, want: str) -> Sample:
        """Publish `payload` on the lock topic; measured until the state `want` is published."""
        recorder = self.rig.recorder
        mark = recorder.mark()
        probe = self.probe
        writes, sends, links = len(probe.writes), len(probe.sends), len(probe.links)
        started = self.rig.command(self.lock_id, Target.LOCK, payload)

        def arrived() -> float:
            for message in recorder.on(TOPICS.state(self.lock_id), mark):
                if message.payload and message.json()["lock"] == want:
                    return message.at
            return 0.0

        arrival = wait_until(arrived, timeout=60.0, what=f"{self.brand} {want}")
        inside = [data for at, data in probe.writes[writes:] if at <= arrival]
        requests = (
            len(inside) if self.brand == "nuki" else sum(d.startswith(HEADER) for d in inside)
        )
        replies, done = 0, started
        for queued in probe.sends[sends:]:
            done = max(queued, done) + self.reply_ms / 1000  # the lock's serial send queue
            replies += done <= arrival
        connects = sum(at <= arrival for at in probe.links[links:])
        radio = (connects * self.connect_ms + replies * self.reply_ms) / 1000
        total = arrival - started
        return Sample(
            ms(total), connects, len(inside), requests, replies, ms(radio), ms(total - radio)
        )

    def round(self) -> tuple[Sample, Sample]:
        """Cold UNLOCK, then LOCK and a warm UNLOCK while the link is up; ends locked."""
        self.settle_down()
        cold = self.act("UNLOCK", "UNLOCKED")
        while True:
            self.act("LOCK", "LOCKED")
            if self.quiet(want_link=True):
                warm = self.act("UNLOCK", "UNLOCKED")
                if warm.connects == 0:
                    break
        self.act("LOCK", "LOCKED")
        return cold, warm


def ms(seconds: float) -> float:
    return round(seconds * 1000, 1)


def summary(samples: list[Sample]) -> dict[str, Any]:
    """Medians of every field, and the worst total."""
    result: dict[str, Any] = {
        key: statistics.median(getattr(s, key) for s in samples) for key in asdict(samples[0])
    }
    result["max_total_ms"] = max(s.total_ms for s in samples)
    result["rounds"] = len(samples)
    return result


def measure(rounds: int, connect_ms: int, reply_ms: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="bench-unlock-") as base:
        rig = AppRig(Path(base))
        try:
            rig.setup(log_level="info")
            wait_until(lambda: all(rig.recorder.states(i) for i in (TT_ID, NUKI_ID)), 30.0)
            benches = [
                Bench(rig, "ttlock", TT_ID, rig.rig.ttlock),
                Bench(rig, "nuki", NUKI_ID, rig.rig.nuki),
            ]
            rig.call(lambda: setattr(rig.rig.nuki.core, "motor_ms", 0))  # radio time only
            results: dict[str, Any] = {}
            for bench in benches:
                bench.link(connect_ms, reply_ms)
                samples = [bench.round() for _ in range(rounds)]
                results[bench.brand] = {
                    "cold": summary([cold for cold, _ in samples]),
                    "warm": summary([warm for _, warm in samples]),
                }
            assert rig.addon is not None
            results["addon_exit_code"] = rig.addon.terminate()
            return results
        finally:
            rig.close()


def table(results: dict[str, Any]) -> str:
    head = (
        f"{'lock':8} {'link':5} {'total ms':>9} {'radio ms':>9} {'own ms':>7} "
        f"{'connects':>8} {'writes':>6} {'requests':>8} {'replies':>7}"
    )
    lines = [head, "-" * len(head)]
    for brand in ("ttlock", "nuki"):
        for mode in ("cold", "warm"):
            r = results[brand][mode]
            lines.append(
                f"{brand:8} {mode:5} {r['total_ms']:9.1f} {r['radio_ms']:9.1f} {r['own_ms']:7.1f} "
                f"{r['connects']:8g} {r['writes']:6g} {r['requests']:8g} {r['replies']:7g}"
            )
    return "\n".join(lines)


def main(argv: list[str] | None = None, out: Callable[[str], object] = print) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--connect-ms", type=int, default=1000)
    parser.add_argument("--reply-ms", type=int, default=65)
    parser.add_argument("--json", type=Path, help="default artifacts/bench_unlock[.quick].json")
    parser.add_argument("--quick", action="store_true", help="one round: only check it runs")
    args = parser.parse_args(argv)
    rounds = 1 if args.quick else max(1, args.rounds)
    results = measure(rounds, args.connect_ms, args.reply_ms)
    results["figures"] = {"connect_ms": args.connect_ms, "reply_ms": args.reply_ms}
    out(table(results))
    name = "bench_unlock.quick.json" if args.quick else "bench_unlock.json"
    path: Path = args.json or ROOT / "artifacts" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=2) + "\n")
    out(f"JSON: {path}")
    return 0 if results["addon_exit_code"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
