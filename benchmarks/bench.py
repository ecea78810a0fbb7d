"""The add-on's benchmark: every figure of issue 8 item 6 from one run, as a table and JSON.

One simulated world with five paired virtual locks (2 TTLock, 3 Nuki of different generations),
a real mosquitto and the add-on as a subprocess, each lock's link at 1.0 s connect and 65 ms per
reply. Figures: start to the panel answering; idle memory and CPU; adverts per second and CPU
per advert; MQTT UNLOCK -> UNLOCKED cold and warm per brand; the credentials page cold; the
GATT requests of every operation next to the protocol's minimum; our own CPU per operation.
What each figure means: benchmarks/README.md. Figures are measured, never asserted.

Run: .venv/bin/python benchmarks/bench.py [--json PATH] [--quick]
--quick: one round of each, small counts, an instant link; it only proves the script runs.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from bench_adverts import measure_in_process, through_bluez
from bench_ops import CREDENTIAL_KINDS, credentials_page, measure_ops
from bench_process import idle, settle, startup
from bench_unlock import Bench, Sample, summary
from five_locks import SPECS, LockSpec
from fleet import NUKI, TTLOCK, Fleet

ROOT = Path(__file__).resolve().parent.parent
Json = Any


@dataclass(frozen=True, slots=True)
class Plan:
    """How much to measure."""

    quick: bool
    connect_ms: int
    reply_ms: int
    unlock_rounds: int
    page_rounds: int
    op_rounds: int
    starts: int
    settle_s: float
    idle_s: float
    adverts: int
    bluez_s: float
    quiet_s: float


FULL = Plan(False, 1000, 65, 5, 3, 8, 5, 3.0, 10.0, 20_000, 4.0, 0.3)
QUICK = Plan(True, 0, 0, 1, 1, 1, 1, 0.2, 1.0, 1_000, 0.5, 0.15)


@dataclass(frozen=True, slots=True)
class Row:
    """One line of the table."""

    name: str
    value: float | int | str
    unit: str
    notes: str = ""


class TalliedBench(Bench):
    """bench_unlock's Bench that also keeps the commands the lock got before each state."""

    def __init__(self, fleet: Fleet, spec: LockSpec) -> None:
        super().__init__(fleet, spec.brand.value, spec.lock_id, fleet.devices[spec.lock_id])
        self.tally = fleet.tallies[spec.lock_id]
        self.acts: list[tuple[str, Sample, tuple[str, ...]]] = []

    def act(self, payload: str, want: str) -> Sample:
        """Publish and measure as Bench does; remember what the lock received meanwhile."""
        start, began = len(self.tally.commands), time.perf_counter()
        sample = super().act(payload, want)
        arrived = began + sample.total_ms / 1000 + 0.005  # Bench stamps just after `began`
        self.acts.append((payload, sample, tuple(self.tally.names(start, arrived))))
        return sample


def unlock_mqtt(fleet: Fleet, plan: Plan) -> dict[str, Json]:
    """Figure 1: bench_unlock's cold and warm UNLOCK per brand, on this fleet."""
    results: dict[str, Json] = {}
    for spec in (TTLOCK, NUKI):
        bench = TalliedBench(fleet, spec)
        bench.link(plan.connect_ms, plan.reply_ms)
        rounds = []
        for _ in range(plan.unlock_rounds):
            if plan.quick:
                fleet.drop(spec.lock_id, plan.quiet_s)  # instead of waiting for the idle close
            rounds.append(bench.round())
        unlocks = [(s, names) for payload, s, names in bench.acts if payload == "UNLOCK"]
        results[spec.brand.value] = {
            "cold": summary([cold for cold, _ in rounds]),
            "warm": summary([warm for _, warm in rounds]),
            "cold_commands": list(unlocks[0][1]),
            "warm_commands": list(next(n for s, n in reversed(unlocks) if s.connects == 0)),
        }
    return results


def measure(plan: Plan, log: Callable[[str], object]) -> dict[str, Json]:
    """Run every figure on one fleet; the results as JSON."""
    results: dict[str, Json] = {}
    with tempfile.TemporaryDirectory(prefix="bench-") as base:
        fleet = Fleet(Path(base))
        try:
            log("pairing five virtual locks")
            fleet.prepare()
            log(f"starting the add-on {plan.starts} time(s)")
            results["startup"], mark = startup(fleet, plan.starts)
            settle(fleet, mark, plan.settle_s)
            results["idle"] = idle(fleet, plan.idle_s)
            rate = results["idle"]["cpu_ms_per_s"] / 1000
            log("adverts through the fake BlueZ")
            adverts: dict[str, Json] = {"through_bluez": through_bluez(fleet, plan.bluez_s, rate)}
            fleet.set_link(plan.connect_ms, plan.reply_ms)
            hello = fleet.connect()
            capabilities = {lock["id"]: set(lock["capabilities"]) for lock in hello["locks"]}
            log("MQTT UNLOCK -> UNLOCKED")
            results["unlock_mqtt"] = unlock_mqtt(fleet, plan)
            log("the credentials page, cold")
            results["credentials_page"] = {
                spec.brand.value: credentials_page(
                    fleet,
                    spec,
                    [k for k in CREDENTIAL_KINDS if k in capabilities[spec.lock_id]],
                    plan.page_rounds,
                    natural=not plan.quick,
                )
                for spec in (TTLOCK, NUKI)
            }
            log("operations: round trips and CPU")
            results["operations"] = {
                spec.brand.value: measure_ops(
                    fleet, spec, capabilities[spec.lock_id], plan.op_rounds, rate, plan.quiet_s
                )
                for spec in (TTLOCK, NUKI)
            }
            fleet.disconnect()
            results["addon_exit_code"] = fleet.stop_addon()
            log("adverts in process")
            adverts["in_process"] = measure_in_process(fleet, plan.adverts)
            results["adverts"] = adverts
        finally:
            fleet.close()
    return results


# --- the table -------------------------------------------------------------------------------


def rows(results: dict[str, Json]) -> list[Row]:
    """Every figure as a row: name, value, unit, notes."""
    found: list[Row] = []
    for brand, figures in results["unlock_mqtt"].items():
        for mode in ("cold", "warm"):
            r = figures[mode]
            found.append(
                Row(
                    f"MQTT UNLOCK->UNLOCKED {brand} {mode}",
                    r["total_ms"],
                    "ms",
                    f"radio {r['radio_ms']:g} + own {r['own_ms']:g} ms; {r['connects']:g} "
                    f"connect; {' '.join(figures[mode + '_commands'])}; median of {r['rounds']}, "
                    f"max {r['max_total_ms']:g}",
                )
            )
    for brand, page in results["credentials_page"].items():
        found.append(
            Row(
                f"credentials page cold {brand}",
                page["all_lists_ms"],
                "ms",
                f"{'+'.join(page['kinds'])} at once; first list {page['first_list_ms']:g} ms; "
                f"{page['requests']:g} requests, {page['connects']:g} connect; "
                f"median of {page['rounds']}",
            )
        )
    for brand, ops in results["operations"].items():
        for label, op in ops.items():
            found += op_rows(brand, label, op)
    found += advert_rows(results["adverts"])
    idle_figures, start = results["idle"], results["startup"]
    found += [
        Row(
            f"idle RSS, {idle_figures['locks']} locks",
            round(idle_figures["rss_kib"] / 1024, 1),
            "MiB",
            f"peak {idle_figures['peak_rss_kib'] / 1024:.1f} MiB; idle CPU "
            f"{idle_figures['cpu_ms_per_s']:g} ms/s",
        ),
        Row(
            "process start -> GET /health 200",
            start["median_ms"],
            "ms",
            f"median of {len(start['runs_ms'])}: {', '.join(f'{v:g}' for v in start['runs_ms'])}",
        ),
    ]
    return found


def op_rows(brand: str, label: str, op: dict[str, Json]) -> list[Row]:
    """Requests of one operation (until the radio is quiet) next to its minimum; warm CPU."""
    cold, warm, least = op["cold"], op["warm"], op["minimum"]
    if least is None:
        minimum = "no minimum"
    else:
        page = " per page" if least["per_page"] else ""
        minimum = f"min {least['cold']}{page} cold, {least['warm']}{page} warm"
    notes = f"{minimum}; cold: {cold['commands']}"
    if warm is not None:
        notes += f"; warm {warm['requests']:g}: {warm['commands']}"
    found = [Row(f"round trips {brand} {label}", cold["requests"], "requests", notes)]
    if warm is not None:
        found.append(
            Row(
                f"CPU {brand} {label}",
                warm["cpu_ms"],
                "ms/op",
                f"warm, mean of {warm['samples']}, idle CPU subtracted; reply {warm['ms']:g} ms "
                f"(cold {cold['ms']:g} ms)",
            )
        )
    return found


def advert_rows(adverts: dict[str, Json]) -> list[Row]:
    """Adverts per second and CPU per advert."""
    local, bluez = adverts["in_process"], adverts["through_bluez"]
    found = []
    for mix, what in (("locks", "the 5 paired locks'"), ("foreign", "other devices'")):
        r = local[mix]
        found += [
            Row(f"adverts/s in process ({mix})", r["per_second"], "adverts/s", f"{what} adverts"),
            Row(f"CPU per advert in process ({mix})", r["cpu_us_per_advert"], "us", ""),
        ]
    found.append(
        Row(
            "CPU per advert via BlueZ + bleak",
            bluez["cpu_us_per_advert"],
            "us",
            f"{bluez['adverts']} adverts at {bluez['per_second_sent']}/s; add-on CPU "
            f"{bluez['cpu_share'] * 100:.0f}%",
        )
    )
    return found


def table(found: list[Row]) -> str:
    """The rows as aligned text."""
    width = max(len(row.name) for row in found)
    lines = [f"{'figure':{width}} {'value':>9} {'unit':9} notes", "-" * (width + 40)]
    for row in found:
        value = f"{row.value:g}" if isinstance(row.value, int | float) else row.value
        lines.append(f"{row.name:{width}} {value:>9} {row.unit:9} {row.notes}")
    return "\n".join(lines)


def main(argv: list[str] | None = None, out: Callable[[str], object] = print) -> int:
    """Measure, print the table, write the JSON; 1 if the add-on did not stop cleanly."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--json", type=Path, help="default artifacts/bench[.quick].json")
    parser.add_argument("--quick", action="store_true", help="one round of each: only check")
    args = parser.parse_args(argv)
    plan = QUICK if args.quick else FULL
    began = time.perf_counter()
    results = measure(plan, lambda text: out(f"bench: {text}"))
    results["plan"] = asdict(plan)
    results["machine"] = {
        "cpus": os.cpu_count(),
        "load_average": [round(v, 2) for v in os.getloadavg()],
        "python": platform.python_version(),
        "locks": [spec.kind for spec in SPECS],
    }
    results["seconds"] = round(time.perf_counter() - began, 1)
    found = rows(results)
    results["rows"] = [asdict(row) for row in found]
    out(table(found))
    name = "bench.quick.json" if args.quick else "bench.json"
    path: Path = args.json or ROOT / "artifacts" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=2) + "\n")
    out(f"JSON: {path} ({results['seconds']:g} s)")
    clean = results["addon_exit_code"] == 0 == results["adverts"]["in_process"]["exit_code"]
    return 0 if clean else 1


if __name__ == "__main__":
    sys.exit(main())
