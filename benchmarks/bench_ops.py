"""Panel operations against the add-on subprocess: GATT round trips, our CPU, the credentials page.

Every operation goes through the panel's websocket (`api/ws`) as the UI sends it. For each one
the virtual lock's received commands are split into those before the reply and the follow-ups
until the radio falls quiet; our CPU is the add-on's CPU over that span minus its idle rate.
Cold: the lock dropped the link first (as idle real locks do); warm: the link is still up.
"""

from __future__ import annotations

import asyncio
import itertools
import statistics
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from five_locks import LockSpec
from fleet import Fleet
from minimums import minimum
from outside import cpu_seconds

from ttlock_nuki_addon.snapshot import Brand

Json = Any
Context = dict[str, Json]
CREDENTIAL_KINDS = ("pin", "card", "fingerprint")
SETTING = {Brand.TTLOCK: "sound", Brand.NUKI: "led"}  # a harmless switch to flip and restore
_codes = itertools.count(1)


@dataclass(frozen=True)
class Step:
    """One request of a cycle; measured under `label` unless it only prepares the next one."""

    label: str | None
    verb: str
    params: Callable[[Context], dict[str, Json]] = lambda _: {}
    keep: str | None = None  # store the result's "id" in the context under this name


@dataclass(frozen=True, slots=True)
class Sample:
    """One measured request."""

    ms: float  # request sent -> reply arrived
    connects: int
    commands: tuple[str, ...]  # what the lock received from the request until the radio was quiet
    before_reply: int  # how many of them came before the reply (the rest are follow-ups)
    cpu_ms: float  # the add-on's CPU from sending until quiet, its idle rate subtracted

    @property
    def sequence(self) -> str:
        """The commands in order, '|' where the reply arrived."""
        names = list(self.commands)
        names.insert(self.before_reply, "|")
        return " ".join(names).removesuffix(" |")


def pin_code(brand: Brand) -> str:
    """A fresh PIN: Nuki keypad codes are 6 digits 1-9 not starting with 12 (nuki.md §4.9)."""
    number = next(_codes)
    if brand is Brand.TTLOCK:
        return f"7{number:06d}"
    digits = "".join(str(number // 9**i % 9 + 1) for i in range(5))
    return "3" + digits


def fixed(params: dict[str, Json]) -> Callable[[Context], dict[str, Json]]:
    """Parameters that do not depend on earlier results."""
    return lambda _: params


def cycles(spec: LockSpec, capabilities: set[str]) -> list[list[Step]]:
    """The operations measured on one lock, grouped so that every cycle ends where it began."""
    brand, setting = spec.brand, SETTING[spec.brand]
    found: list[list[Step]] = [[Step("unlock", "lock.unlock"), Step("lock", "lock.lock")]]
    if "open" in capabilities:
        found.append([Step("open", "lock.open"), Step(None, "lock.lock")])
    for kind in (k for k in CREDENTIAL_KINDS if k in capabilities):
        found.append([Step(f"credentials.list {kind}", "credentials.list", fixed({"kind": kind}))])

    def add(_: Context) -> dict[str, Json]:
        return {"kind": "pin", "name": "Bench", "code": pin_code(brand)}

    def delete(context: Context) -> dict[str, Json]:
        return {"kind": "pin", "credential_id": context["pin"]}

    found += [
        [Step("credentials.add pin", "credentials.add", add, keep="pin"),
         Step("credentials.delete pin", "credentials.delete", delete)],
        [Step("settings.get", "settings.get")],
        [Step("settings.set", "settings.set", fixed({setting: False})),
         Step("settings.set", "settings.set", fixed({setting: True}))],
        [Step("events.list", "events.list", fixed({"limit": 100}))],
    ]  # fmt: skip
    return found


@dataclass
class OpBench:
    """Runs the cycles of one lock and keeps the samples per label."""

    fleet: Fleet
    spec: LockSpec
    idle_rate: float  # the add-on's CPU seconds per second when idle
    quiet: float
    cold: dict[str, Sample] = field(default_factory=dict)
    warm: dict[str, list[Sample]] = field(default_factory=dict)
    context: Context = field(default_factory=dict)

    def request(self, step: Step) -> Sample:
        """Send one step, wait for its reply and for the radio to fall quiet; the sample."""
        fleet, lock_id = self.fleet, self.spec.lock_id
        assert fleet.ws is not None
        tally, probe = fleet.tallies[lock_id], fleet.probes[lock_id]
        start, links = len(tally.commands), len(probe.links)
        params = {"lock_id": lock_id, **step.params(self.context)}
        cpu, began = cpu_seconds(fleet.pid), time.perf_counter()
        arrived, result = fleet.run(fleet.ws.ok(step.verb, **params))
        fleet.quiet([lock_id], self.quiet)
        ended = time.perf_counter()
        used = cpu_seconds(fleet.pid) - cpu - self.idle_rate * (ended - began)
        if step.keep:
            self.context[step.keep] = result["id"]
        return Sample(
            ms(arrived - began),
            sum(at <= arrived for at in probe.links[links:]),
            tuple(tally.names(start)),
            len(tally.names(start, arrived)),
            ms(used),
        )

    def run_cycle(self, cycle: list[Step], cold_at: int | None = None) -> None:
        """Run the steps in order; the one at `cold_at` after a dropped link, kept as cold."""
        for index, step in enumerate(cycle):
            if index == cold_at:
                self.fleet.drop(self.spec.lock_id, self.quiet)
            sample = self.request(step)
            if step.label is None:
                continue
            if index == cold_at:
                self.cold[step.label] = sample
            elif cold_at is None:
                self.warm.setdefault(step.label, []).append(sample)

    def measure(self, plan: list[list[Step]], rounds: int) -> None:
        """Each label once cold, then every cycle `rounds` times warm."""
        for cycle in plan:
            for index, step in enumerate(cycle):
                if step.label is not None and step.label not in self.cold:
                    self.run_cycle(cycle, cold_at=index)
            for _ in range(rounds):
                self.run_cycle(cycle)

    def results(self) -> dict[str, Json]:
        """Per label: the cold sample, the warm summary and the protocol minimum."""
        out: dict[str, Json] = {}
        for label, cold in self.cold.items():
            warm = self.warm.get(label, [])
            out[label] = {
                "cold": sample_json(cold),
                "warm": summary(warm) if warm else None,
                "minimum": minimum(self.spec.brand, label),
            }
        return out


def ms(seconds: float) -> float:
    """Seconds as milliseconds, rounded."""
    return round(seconds * 1000, 2)


def sample_json(sample: Sample) -> dict[str, Json]:
    """One cold sample as JSON."""
    return {
        "requests": len(sample.commands),
        "before_reply": sample.before_reply,
        "commands": sample.sequence,
        "connects": sample.connects,
        "ms": sample.ms,
    }


def summary(samples: list[Sample]) -> dict[str, Json]:
    """Warm samples: median requests and time, mean CPU, the most common command sequence."""
    return {
        "requests": statistics.median(len(s.commands) for s in samples),
        "before_reply": statistics.median(s.before_reply for s in samples),
        "commands": Counter(s.sequence for s in samples).most_common(1)[0][0],
        "connects": sum(s.connects for s in samples),
        "ms": round(statistics.median(s.ms for s in samples), 1),
        "cpu_ms": round(statistics.fmean(s.cpu_ms for s in samples), 2),
        "samples": len(samples),
    }


def measure_ops(
    fleet: Fleet,
    spec: LockSpec,
    capabilities: set[str],
    rounds: int,
    idle_rate: float,
    quiet: float,
) -> dict[str, Json]:
    """Round trips and CPU of every operation on one lock."""
    bench = OpBench(fleet, spec, idle_rate, quiet)
    first = Step("events.list first", "events.list", fixed({"limit": 100}))
    bench.run_cycle([first], cold_at=0)  # the add-on reads the whole log once, then new records
    bench.measure(cycles(spec, capabilities), rounds)
    return bench.results()


# --- the credentials page, cold -------------------------------------------------------------


def credentials_page(
    fleet: Fleet, spec: LockSpec, kinds: list[str], rounds: int, natural: bool
) -> dict[str, Json]:
    """credentials.list for every kind at once with the link down first: time to each reply."""
    lock_id = spec.lock_id
    firsts, alls, requests, connects = [], [], [], []
    for _ in range(rounds):
        if natural:
            fleet.idle([lock_id])  # the add-on closed the link itself
        else:
            fleet.drop(lock_id)
        tally, probe = fleet.tallies[lock_id], fleet.probes[lock_id]
        start, links = len(tally.commands), len(probe.links)
        began, stamps = fleet.run(_open_page(fleet, lock_id, kinds))
        firsts.append(stamps[0] - began)
        alls.append(max(stamps) - began)
        requests.append(len(tally.names(start, max(stamps))))
        connects.append(sum(at <= max(stamps) for at in probe.links[links:]))
    return {
        "kinds": kinds,
        "first_list_ms": ms(statistics.median(firsts)),
        "all_lists_ms": ms(statistics.median(alls)),
        "max_all_lists_ms": ms(max(alls)),
        "requests": statistics.median(requests),
        "connects": statistics.median(connects),
        "rounds": rounds,
    }


async def _open_page(fleet: Fleet, lock_id: str, kinds: list[str]) -> tuple[float, list[float]]:
    assert fleet.ws is not None
    sent = [await fleet.ws.send("credentials.list", lock_id=lock_id, kind=k) for k in kinds]
    replies = await asyncio.wait_for(asyncio.gather(*(waiter for _, waiter in sent)), 120)
    for _, reply in replies:
        assert reply["ok"] is True, reply
    return sent[0][0], [arrived for arrived, _ in replies]
