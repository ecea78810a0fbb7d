"""After a run: calm the radio, then hold every virtual lock's real state against the add-on's.

Real state is read from the simulator's objects (bolt, PINs/keypad codes, cards, fingerprints,
settings); the add-on's is what the panel answers (`locks.list`, `credentials.list`,
`settings.get`) and what the MQTT state topic shows last.
"""

from __future__ import annotations

import contextlib
from collections import Counter
from typing import Any

from five_locks import SPECS, LockSpec

from ttlock_nuki_addon.nuki.states import LockState
from ttlock_nuki_addon.sim.nuki import VirtualNuki
from ttlock_nuki_addon.sim.ttlock import VirtualTTLock

from .clients import Json
from .rig import SoakRig, wait_for
from .scenarios import Ledger

CALM = {"drop_rate": 0.0, "disconnect_rate": 0.0, "corrupt_rate": 0.0, "jitter_ms": 0}
SETTLE_TRIES = 4
MQTT_SETTLE = 10.0  # seconds the MQTT client may lag behind the panel's answers
_NUKI_STATUS = {
    LockState.LOCKED: "locked",
    LockState.UNLOCKED: "unlocked",
    LockState.UNLOCKED_LOCK_N_GO: "unlocked",
    LockState.UNLATCHED: "open",
    LockState.MOTOR_BLOCKED: "jammed",
}
_NUKI_MOVING = {LockState.UNLOCKING, LockState.LOCKING, LockState.UNLATCHING, LockState.UNLATCHED}
_MQTT_LOCK = {"locked": "LOCKED", "unlocked": "UNLOCKED", "open": "OPEN", "jammed": "JAMMED"}
SETTING_NAMES = (
    "auto_lock_seconds", "sound", "passage_mode", "remote_unlock", "led", "auto_unlatch",
)  # fmt: skip
MQTT_FIELD = {"auto_lock_seconds": "auto_lock"}


def real_state(rig: SoakRig, spec: LockSpec) -> dict[str, Any]:
    """The virtual lock's own memory: status, credentials by kind, settings."""
    device = rig.devices[spec.lock_id]
    if isinstance(device, VirtualTTLock):
        memory = device.memory
        settings = memory.settings
        return {
            "status": device.bolt,
            "pin": sorted(memory.passcodes),
            "card": sorted(str(number) for number in memory.cards),
            "fingerprint": sorted(str(fp_id) for fp_id in memory.fingerprints),
            "settings": {
                "auto_lock_seconds": settings.auto_lock_seconds,
                "sound": settings.audio_on,
                "passage_mode": bool(settings.passage),
                "remote_unlock": settings.remote_unlock,
            },
        }
    assert isinstance(device, VirtualNuki)
    core = device.core
    return {
        "status": _NUKI_STATUS.get(LockState(core.lock_state), "unknown"),
        "pin": sorted(f"{code.code:06d}" for code in core.memory.keypad_codes.values()),
        "settings": {
            "auto_lock_seconds": core.settings.auto_lock_seconds,
            "led": core.settings.config.led_enabled,
            "auto_unlatch": core.settings.config.auto_unlatch,
        },
    }


def still_moving(rig: SoakRig) -> bool:
    """Whether a virtual Nuki's motor or unlatch hold is still running."""
    for device in rig.devices.values():
        if isinstance(device, VirtualNuki):
            core = device.core
            if core.motion is not None or core.lock_state in _NUKI_MOVING:
                return True
    return False


async def settle(rig: SoakRig) -> list[str]:
    """Faults off, motors still, every lock refreshed (a few tries); what could not be."""
    rig.set_faults(CALM)
    await wait_for(lambda: not still_moving(rig), "the Nuki motors to stop")
    problems = []
    for spec in SPECS:
        for _ in range(SETTLE_TRIES):
            reply = await rig.client.call("lock.refresh", 60.0, lock_id=spec.lock_id)
            if reply["ok"]:
                break
        else:
            problems.append(f"{spec.name}: refresh failed on a calm radio: {reply['error']}")
    return problems


async def reported_state(rig: SoakRig, spec: LockSpec) -> dict[str, Any]:
    """The add-on's view through the panel (credentials listed from the lock)."""
    lock_id, client = spec.lock_id, rig.client
    snapshots = {s["id"]: s for s in await client.ok("locks.list")}
    credentials = await client.ok("credentials.list", lock_id=lock_id)
    settings = await client.ok("settings.get", lock_id=lock_id)
    found: dict[str, Any] = {
        "status": snapshots[lock_id]["status"],
        "credentials": credentials,
        "settings": {k: v for k, v in settings.items() if k in SETTING_NAMES and v is not None},
    }
    for kind in ("pin", "card", "fingerprint"):
        listed = [c for c in credentials if c["kind"] == kind]
        if kind == "pin":
            found[kind] = sorted(c["code"] for c in listed)
        elif listed or spec.brand.value == "ttlock":
            found[kind] = sorted(c["id"] for c in listed)
    return found


def compare(spec: LockSpec, real: dict[str, Any], seen: dict[str, Any]) -> list[str]:
    """Every difference between the lock's memory and the panel's answers."""
    problems = []
    for key in ("status", "pin", "card", "fingerprint", "settings"):
        if key in real and real[key] != seen.get(key):
            said = seen.get(key)
            problems.append(f"{spec.name}: {key} is {real[key]!r} but the add-on says {said!r}")
    return problems


def duplicates(spec: LockSpec, credentials: list[dict[str, Json]]) -> list[str]:
    """Two entries with one id, or two PINs with one code."""
    ids = Counter((c["kind"], c["id"]) for c in credentials)
    codes = Counter(c["code"] for c in credentials if c["kind"] == "pin")
    twice = [f"{key} x{n}" for key, n in ids.items() if n > 1]
    twice += [f"PIN {code} x{n}" for code, n in codes.items() if n > 1]
    return [f"{spec.name}: duplicate {what}" for what in twice]


def promises(spec: LockSpec, ledger: Ledger, credentials: list[dict[str, Json]]) -> list[str]:
    """Adds answered ok are there (once), deletes answered ok are gone."""
    listed = {(c["kind"], c["id"]): c["code"] for c in credentials}
    problems = []
    for key, code in ledger.present.items():
        if key not in listed:
            problems.append(f"{spec.name}: {key} was added (ok) but is missing")
        elif code is not None and listed[key] != code:
            problems.append(f"{spec.name}: {key} has code {listed[key]} instead of {code}")
    for key in ledger.absent & set(listed):
        problems.append(f"{spec.name}: {key} was deleted (ok) but is still listed")
    return problems


def mqtt_matches(rig: SoakRig, spec: LockSpec, real: dict[str, Any]) -> list[str]:
    """The last MQTT state shows the real bolt, and each setting it shows is the real one."""
    latest = rig.home.topic(spec.lock_id).latest
    problems = []
    if latest.get("lock") != _MQTT_LOCK.get(real["status"]):
        shown, status = latest.get("lock"), real["status"]
        problems.append(f"{spec.name}: MQTT shows {shown}, the lock is {status}")
    for name, value in real["settings"].items():
        shown = latest.get(MQTT_FIELD.get(name, name))
        if shown is not None and shown != value:
            problems.append(f"{spec.name}: MQTT shows {name}={shown!r}, the lock has {value!r}")
    return problems


async def check_all(rig: SoakRig, ledgers: dict[str, Ledger]) -> list[str]:
    """Every mismatch over the five locks (after `settle`)."""
    problems: list[str] = []
    for spec in SPECS:
        real = real_state(rig, spec)
        seen = await reported_state(rig, spec)
        problems += compare(spec, real, seen)
        problems += duplicates(spec, seen["credentials"])
        problems += promises(spec, ledgers[spec.lock_id], seen["credentials"])

    def mqtt_problems() -> list[str]:
        return [p for spec in SPECS for p in mqtt_matches(rig, spec, real_state(rig, spec))]

    with contextlib.suppress(AssertionError):  # the last state messages may still be on the way
        await wait_for(lambda: not mqtt_problems(), "MQTT to show the real state", MQTT_SETTLE)
    return problems + mqtt_problems()
