"""The add-on process from outside: time from start to the panel answering, idle memory and CPU.

Start time: from `Popen` (interpreter start, imports, store, D-Bus, MQTT) until GET /health
answers 200 on the panel's port, polled every 5 ms. Idle: with five paired locks advertising once
a second, after every lock's state was published, no link is up and the radio has been quiet.
"""

from __future__ import annotations

import statistics
import time
from typing import Any

from app_rig import wait_until
from five_locks import SPECS
from fleet import SETTLE, Fleet
from outside import cpu_seconds, health_ok, memory_kib

Json = Any


def start_once(fleet: Fleet) -> float:
    """Start the add-on; seconds until /health answered 200 (the add-on keeps running)."""
    began = time.perf_counter()
    addon = fleet.launch()
    while not health_ok(fleet.port):
        if not addon.running:
            raise AssertionError(f"the add-on ended while starting:\n{addon.output()[-2000:]}")
        if time.perf_counter() - began > SETTLE * 3:
            raise AssertionError("the panel never answered /health")
        time.sleep(0.005)
    return time.perf_counter() - began


def startup(fleet: Fleet, runs: int) -> tuple[dict[str, Json], int]:
    """Start the add-on `runs` times (stopping all but the last); figures and the recorder mark."""
    seconds: list[float] = []
    for run in range(runs):
        mark = fleet.recorder.mark()
        seconds.append(start_once(fleet))
        if run < runs - 1:
            code = fleet.stop_addon()
            assert code == 0, f"the add-on exited with {code}"
    figures = {
        "median_ms": round(statistics.median(seconds) * 1000, 1),
        "runs_ms": [round(s * 1000, 1) for s in seconds],
    }
    return figures, mark


def settle(fleet: Fleet, mark: int, extra: float) -> None:
    """Every lock's state published since `mark`, every link down, `extra` seconds of quiet."""
    ids = [spec.lock_id for spec in SPECS]
    wait_until(
        lambda: all(fleet.recorder.states(i, mark) for i in ids), SETTLE * 3, "every lock's state"
    )
    fleet.idle(ids)
    fleet.quiet(ids, seconds=extra)


def idle(fleet: Fleet, seconds: float) -> dict[str, Json]:
    """The add-on's CPU over `seconds` of idling, then its memory."""
    pid = fleet.pid
    cpu, began = cpu_seconds(pid), time.perf_counter()
    time.sleep(seconds)
    rate = (cpu_seconds(pid) - cpu) / (time.perf_counter() - began)
    memory = memory_kib(pid)
    return {
        "locks": len(SPECS),
        "rss_kib": memory["VmRSS"],
        "peak_rss_kib": memory["VmHWM"],
        "cpu_ms_per_s": round(rate * 1000, 2),
        "seconds": seconds,
    }
