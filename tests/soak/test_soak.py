"""The fault-injected soak (issue 8, item 1).

Five virtual locks (two TTLocks, a Nuki 2.0, a 4th-gen and a 5th-gen Nuki) are paired on a clean
radio; then every reply is dropped with 10 % probability, corrupted with 2 %, delayed by up to
JITTER_MS, and the link drops after 5 % of the central's writes. OPS operations (see load.py for
the mix and what "ends" means) go through the websocket panel API and MQTT at once. Afterwards,
on a calm radio, every lock's real state must equal what the add-on reports, no credential may be
listed twice, and the add-on's task set must be as before. The same load runs twice with the
memory traced; the add-on's memory must not grow from the end of run 1 to the end of run 2.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import time
import tracemalloc
from collections import Counter
from pathlib import Path

import pytest
from five_locks import SPECS

from ttlock_nuki_addon import app
from ttlock_nuki_addon.sim.nuki import VirtualNuki
from ttlock_nuki_addon.sim.world import SimWorld

from .load import Load, Tally, plan
from .rig import SoakRig, wait_for
from .scenarios import Ledger
from .truth import check_all, settle

pytestmark = pytest.mark.timeout(600)
_LOGGER = logging.getLogger(__name__)

OPS = 500  # per run, as issue 8 asks
SEED = 20250608
WORKERS = 8  # operations in flight at once over both channels
DROP_RATE, DISCONNECT_RATE, CORRUPT_RATE, JITTER_MS = 0.10, 0.05, 0.02, 60
FAULTS = {
    "drop_rate": DROP_RATE,
    "disconnect_rate": DISCONNECT_RATE,
    "corrupt_rate": CORRUPT_RATE,
    "jitter_ms": JITTER_MS,
}
# Memory held at the end of run 2 minus that at the end of run 1 (tracemalloc, blocks allocated
# on lines of the add-on or the libraries; the simulator's and the tests' own lines left out).
# Run 2 repeats run 1, so what may still grow is bounded: activity histories filling up to
# their 200 events per lock, the masks of the PINs run 2 adds (each PIN is masked in logs for
# good), dicts resizing. That measured about 170 KiB; a leak of 1 KiB per operation would add
# 500 KiB on top, the superseded-redaction-pattern leak this soak found added 1.7 MiB.
GROWTH_LIMIT = 512 * 1024
SIMULATOR = str(Path(app.__file__).parent / "sim")
TESTS = str(Path(__file__).parent.parent)


def task_names() -> Counter[str]:
    """Every running task by name, unnamed ones by coroutine (the test's own included)."""
    names: Counter[str] = Counter()
    for task in asyncio.all_tasks():
        name = task.get_name()
        if name.startswith("Task-"):
            coro = task.get_coro()
            code = getattr(coro, "cr_code", None)
            name = f"{getattr(coro, '__qualname__', '?')} ({getattr(code, 'co_filename', '?')})"
        names[name] += 1
    return names


async def stable_tasks() -> Counter[str]:
    """The running tasks once two looks 0.5 s apart agree (a publish in flight has ended)."""
    async with asyncio.timeout(30):
        while True:
            first = task_names()
            await asyncio.sleep(0.5)
            if task_names() == first:
                return first


async def no_new_tasks(before: Counter[str], timeout: float = 30.0) -> Counter[str]:
    """Wait (bounded) until no task runs that did not run before the load; the ones gone."""
    try:
        await wait_for(lambda: not task_names() - before, "the tasks", timeout)
    except AssertionError:
        raise AssertionError(f"tasks left running: {task_names() - before}") from None
    return before - task_names()


def forget_histories(rig: SoakRig, caplog: pytest.LogCaptureFixture) -> None:
    """Drop what the simulator and the test keep for debugging only (not the add-on's memory)."""
    caplog.clear()
    rig.warnings.lines.clear()
    for device in rig.devices.values():
        device.log.clear()
        device.writes.clear()
        if isinstance(device, VirtualNuki):
            device.core.notes.clear()


def kept(snapshot: tracemalloc.Snapshot) -> tracemalloc.Snapshot:
    """The blocks not allocated on a line of the simulator or of the tests (their histories
    are not the add-on's memory); the rest is the add-on and the libraries it calls."""
    return snapshot.filter_traces(
        [
            tracemalloc.Filter(False, f"{SIMULATOR}/*"),
            tracemalloc.Filter(False, f"{TESTS}/*"),
            tracemalloc.Filter(False, tracemalloc.__file__),
        ]
    )


def size(snapshot: tracemalloc.Snapshot) -> int:
    """Bytes allocated in `snapshot`."""
    return sum(stat.size for stat in snapshot.statistics("filename"))


def report(run: int, tally: Tally, seconds: float) -> str:
    """One line of figures for the log."""
    by_channel = {
        channel: sum(n for (c, _), n in tally.outcomes.items() if c == channel)
        for channel in ("ws", "mqtt")
    }
    ok = sum(n for (_, outcome), n in tally.outcomes.items() if outcome == "ok")
    errors = ", ".join(f"{code} {n}" for code, n in tally.errors().most_common())
    return (
        f"run {run}: {tally.ops} ops in {seconds:.1f} s ({by_channel['ws']} websocket, "
        f"{by_channel['mqtt']} MQTT); ok {ok}; errors: {errors or 'none'}; "
        f"slowest {tally.slowest:.1f} s"
    )


async def test_five_locks_on_a_lossy_radio_stay_true_and_the_addon_stays_lean(
    sim_world: SimWorld, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    rig = SoakRig(sim_world, tmp_path)
    try:
        await rig.start()
        await wait_for(rig.links_idle, "the links to go idle after pairing")
        before, own_before = await stable_tasks(), len(app.own_tasks())
        ledgers = {spec.lock_id: Ledger() for spec in SPECS}
        tracemalloc.start()
        snapshots: list[tracemalloc.Snapshot] = []
        for run in (1, 2):
            rig.set_faults({**FAULTS, "seed": SEED})
            started = time.monotonic()
            tally = await Load(rig, run, ledgers).run_all(plan(SEED, OPS), WORKERS)
            _LOGGER.warning("%s", report(run, tally, time.monotonic() - started))
            _LOGGER.warning("run %d mean seconds per action: %s", run, tally.mean_seconds())
            assert tally.ops == OPS
            assert not tally.violations, tally.violations
            problems = await settle(rig)
            problems += await check_all(rig, ledgers)
            assert not problems, "\n".join(problems)
            gone = await no_new_tasks(before)
            assert len(app.own_tasks()) == own_before
            _LOGGER.warning(
                "tasks: %d before, %d after; gone: %s",
                sum(before.values()),
                sum(task_names().values()),
                dict(gone),
            )
            forget_histories(rig, caplog)
            gc.collect()
            snapshots.append(tracemalloc.take_snapshot())
        tracemalloc.stop()
        first, second = (kept(snapshot) for snapshot in snapshots)
        growth = size(second) - size(first)
        top = [str(stat) for stat in second.compare_to(first, "lineno")[:8]]
        _LOGGER.warning(
            "memory: whole process %d -> %d bytes; add-on and libraries %+d bytes; top: %s",
            size(snapshots[0]), size(snapshots[1]), growth, top,
        )  # fmt: skip
        assert growth < GROWTH_LIMIT, top
    finally:
        if tracemalloc.is_tracing():
            tracemalloc.stop()
        await rig.stop()
