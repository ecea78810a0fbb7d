"""The add-on as a subprocess killed with SIGKILL, the world's locks, and what they really hold.

`Addon` starts ``python -m ttlock_nuki_addon --dev --port 0`` on the simulated world's bus and
kills it; `Run` adds a websocket client on its panel and the key oracle, which compares a
virtual lock's own memory (TTLock admin keys, Nuki authorizations) with the store file as
another process reads it: the add-on is the only writer, the test only reads.
"""

from __future__ import annotations

import asyncio
import json
import random
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, TypeVar

import aiohttp
from app_rig import addon_env
from web_rig import Client

from ttlock_nuki_addon.sim.nuki import VirtualNuki
from ttlock_nuki_addon.sim.nuki_pairing import PairingSession
from ttlock_nuki_addon.sim.nuki_state import Authorization
from ttlock_nuki_addon.sim.peripheral import Peripheral
from ttlock_nuki_addon.sim.ttlock import VirtualTTLock
from ttlock_nuki_addon.sim.world import SimWorld

ROOT = Path(__file__).resolve().parents[2]
WAIT = 20.0  # guards against hangs only
LISTENING = re.compile(r"Panel listening on (http://127\.0\.0\.1:\d+/)")
# A store the add-on could not use; a crash of the add-on itself.
UNUSABLE = ("unusable", "Cannot start", "Traceback")
LINK = (100, 15)  # connect and reply ms of every virtual lock: a pairing takes ~0.5 s
T = TypeVar("T")
P = TypeVar("P", bound=Peripheral)
Json = Any
Arm = Callable[[Callable[[], None]], None] | None  # installs a hook in a lock that kills


async def until(predicate: Callable[[], T | None], what: str, timeout: float = WAIT) -> T:
    """Poll `predicate` until it returns something truthy (bounded); that value."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.01)


class Addon:
    """One data directory; the add-on process started, killed and restarted on it."""

    def __init__(self, world: SimWorld, data_dir: Path, log_path: Path) -> None:
        self.world, self.data_dir, self.log_path = world, data_dir, log_path
        self.process: asyncio.subprocess.Process | None = None
        self._offset = 0
        self.startups: list[float] = []  # seconds from exec to the panel answering, per start

    async def start(self) -> str:
        """Start the process; its panel URL once it serves (the run's log starts here)."""
        self._offset = self.log_path.stat().st_size if self.log_path.exists() else 0
        started = time.monotonic()
        with self.log_path.open("ab") as log:
            self.process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "ttlock_nuki_addon", "--dev", "--port", "0",
                "--data-dir", str(self.data_dir), "--log-level", "info",
                cwd=ROOT, env=addon_env(self.world.bus_address), stdin=subprocess.DEVNULL,
                stdout=log, stderr=subprocess.STDOUT,
            )  # fmt: skip

        def listening() -> str | None:
            assert self.process is not None
            if self.process.returncode is not None:
                raise AssertionError(f"the add-on exited at start:\n{self.run_log()[-3000:]}")
            found = LISTENING.search(self.run_log())
            return found.group(1) if found else None

        url = await until(listening, "the panel to listen")
        self.startups.append(time.monotonic() - started)
        return url

    def run_log(self) -> str:
        """What the current (or last) run wrote."""
        with self.log_path.open("rb") as log:
            log.seek(self._offset)
            return log.read().decode(errors="replace")

    async def close(self) -> None:
        """Make sure no process is left behind."""
        if self.process is not None and self.process.returncode is None:
            self.process.send_signal(signal.SIGKILL)
            await asyncio.wait_for(self.process.wait(), WAIT)


async def hang_up(world: SimWorld) -> None:
    """Every lock drops its link, as real locks do a few seconds after their app went silent."""
    for peripheral in [p for p in world.devices() if p.connected]:
        peripheral.drop_link()
    await until(lambda: not any(p.connected for p in world.devices()), "the links to drop")


def read_store(data_dir: Path) -> dict[str, Json]:
    """The store document as on disk (main file; the add-on replaces it atomically)."""
    path = data_dir / "store.json"
    if not path.exists():
        return {"installation": {}, "locks": {}}
    document: dict[str, Json] = json.loads(path.read_bytes())
    return document


def lock_id_of(address: str) -> str:
    """The add-on's id of a lock: its address' hex digits, lower case."""
    return address.replace(":", "").lower()


# --- what a lock really holds ----------------------------------------------------------------


def ttlock_phase(lock: VirtualTTLock) -> str:
    """How far a TTLock got with a pairing, from its own memory."""
    memory = lock.memory
    if memory.paired:
        return "committed (0x57)"
    if memory.admin is not None:
        return "admin keys held, not committed"
    return "AES key handed out" if memory.aes_key is not None else "untouched"


def ttlock_keys_held(lock: VirtualTTLock, record: Json) -> bool:
    """Whether the store record holds exactly the keys the lock accepts."""
    admin, key = lock.memory.admin, lock.memory.aes_key
    return (
        isinstance(record, dict)
        and admin is not None
        and key is not None
        and record.get("aes_key") == key.hex()
        and record.get("admin_ps") == admin.admin_ps
        and record.get("unlock_key") == admin.unlock_key
    )


def ours(lock: VirtualNuki, app_id: object) -> list[Authorization]:
    """The lock's authorizations made by this installation (its app id)."""
    return [a for a in lock.core.memory.authorizations.values() if a.app_id == app_id]


def nuki_phase(lock: VirtualNuki, app_id: object) -> str:
    """How far a Nuki got with a pairing, from its own memory."""
    if ours(lock, app_id):
        return "authorization stored"
    session = lock.core.pairing
    if isinstance(session, PairingSession):
        return f"pairing step {session.step.value}"
    return "in pairing mode" if lock.core.pairing_mode else "untouched"


def nuki_orphans(lock: VirtualNuki, app_id: object, record: Json) -> list[Authorization]:
    """Our authorizations on the lock whose key the store does not hold (complete record)."""

    def held(auth: Authorization) -> bool:
        return (
            isinstance(record, dict)
            and record.get("complete") is True
            and record.get("auth_id") == auth.auth_id
            and record.get("shared_key") == auth.shared_key.hex()
        )

    return [auth for auth in ours(lock, app_id) if not held(auth)]


@dataclass
class Prepared:
    """One operation ready to go: the request, its lock, and what judging it needs."""

    verb: str
    params: dict[str, Json]
    lock: Peripheral
    key: str  # what identifies the outcome: the lock's address, a code, a card number ...
    helper: Callable[[], Coroutine[Any, Any, None]] | None = None  # the person at the lock
    crash: dict[str, Json] = field(default_factory=dict)  # the store file right after the kill
    phase: str = ""  # moment(): how far the lock and the store got


class Case(Protocol):
    """One kind of operation the add-on is killed in."""

    async def prepare(self, run: Run) -> Prepared:
        """Everything up to the request (a fresh lock to pair, a credential to delete ...)."""
        ...

    def landed(self, run: Run, op: Prepared) -> bool:
        """Whether the change is complete in the store (kills after it teach little)."""
        ...

    def moment(self, run: Run, op: Prepared) -> str:
        """How far the lock and the store got, read right after the kill."""
        ...

    async def verify(self, run: Run, op: Prepared) -> str:
        """After the restart: assert the invariants; what the add-on did, in words."""
        ...

    async def cleanup(self, run: Run, op: Prepared) -> None:
        """Leave the world as before prepare() (bounded tables, one lock at a time)."""
        ...


@dataclass(frozen=True, slots=True)
class Outcome:
    """One kill: what ran, when it was cut, how far both sides were, what the add-on did."""

    number: int
    scenario: str
    when: str  # "<ms> ms" after the request, or the lock's step that fired the kill
    moment: str
    result: str


def table(outcomes: list[Outcome]) -> str:
    """The outcomes as a text table."""
    rows = [("#", "scenario", "kill at", "moment (lock / store)", "what the add-on did")]
    rows += [(str(o.number), o.scenario, o.when, o.moment, o.result) for o in outcomes]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in rows
    )


class Run:
    """The world, the add-on on one data directory, a panel client, a seeded RNG, kept locks."""

    def __init__(self, world: SimWorld, base: Path, seed: int) -> None:
        self.world = world
        self.data_dir = base / "data"
        self.addon = Addon(world, self.data_dir, base / "addon.log")
        self.rng = random.Random(seed)
        self.kept: dict[str, Peripheral] = {}  # locks paired for good, by role
        self._session: aiohttp.ClientSession | None = None
        self._client: Client | None = None

    @property
    def client(self) -> Client:
        """The websocket client on the running add-on's panel."""
        assert self._client is not None
        return self._client

    def add(self, lock: P) -> P:
        """Put a lock in range with the run's link figures."""
        lock.link.connect_ms, lock.link.reply_ms = LINK
        self.world.bluez.add_peripheral(lock)
        return lock

    def new_address(self) -> str:
        """A seeded unicast address."""
        raw = bytearray(self.rng.randbytes(6))
        raw[0] &= 0xFE
        return ":".join(f"{b:02X}" for b in raw)

    async def restart(self) -> None:
        """Start the add-on and connect; the store must load and `locks.list` answer."""
        url = await self.addon.start()
        await self.disconnect()
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(WAIT))
        self._client = Client(await self._session.ws_connect(f"{url}api/ws")).start()
        await self.client.push("hello")
        await self.lock_ids()
        text = self.addon.run_log()
        assert "lock(s) stored" in text, text
        assert not any(marker in text for marker in UNUSABLE), text

    async def disconnect(self) -> None:
        """Drop the panel connection (the add-on may be dead already)."""
        if self._client is not None:
            await self._client.close()
        if self._session is not None:
            await self._session.close()
        self._client = self._session = None

    async def lock_ids(self) -> set[str]:
        """The ids `locks.list` answers with."""
        return {snapshot["id"] for snapshot in await self.client.ok("locks.list")}

    async def pairable(self, address: str) -> None:
        """Wait until the panel lists the lock as ready to pair."""
        deadline = time.monotonic() + WAIT
        while not any(
            d["address"] == address and d["pairable"]
            for d in await self.client.ok("discovery.list")
        ):
            assert time.monotonic() < deadline, f"{address} never became pairable"
            await asyncio.sleep(0.05)

    async def listed(self, address: str) -> None:
        """Wait until `locks.list` has the lock."""
        deadline = time.monotonic() + WAIT
        while lock_id_of(address) not in await self.lock_ids():
            assert time.monotonic() < deadline, f"{address} never appeared in locks.list"
            await asyncio.sleep(0.05)

    def store(self) -> dict[str, Json]:
        """The store file now."""
        return read_store(self.data_dir)

    def record(self, address: str) -> Json:
        """The lock's record in the store file now, or None."""
        return self.store()["locks"].get(lock_id_of(address))

    def app_id(self) -> object:
        """This installation's Nuki app id."""
        return self.store()["installation"].get("nuki_app_id")

    async def settled(self, address: str) -> Json:
        """The lock's record once it is complete or gone (the add-on's resume settles it)."""

        def done() -> tuple[Json] | None:
            record = self.record(address)
            return (record,) if record is None or record.get("complete") is True else None

        return (await until(done, f"the record of {address} to settle"))[0]

    def told_to_pair_again(self, address: str) -> bool:
        """Whether this run logged a warning or error naming the lock that says to pair again."""
        told = re.compile(rf" (WARNING|ERROR) .*{re.escape(address)}.*pair (it|the lock) again")
        return any(told.search(line) for line in self.addon.run_log().splitlines())

    def tail(self) -> str:
        """The last lines of the add-on's current run, for failure messages."""
        return "\n".join(self.addon.run_log().splitlines()[-25:])

    def check_keys(self) -> None:
        """Every lock in the world accepts exactly the keys of its complete record, or none."""
        store = self.store()
        app_id = store["installation"].get("nuki_app_id")
        for device in self.world.devices():
            record = store["locks"].get(lock_id_of(device.address))
            complete = isinstance(record, dict) and record.get("complete") is True
            assert record is None or complete, f"{device.address}: unsettled record"
            if isinstance(device, VirtualTTLock):
                assert (device.memory.admin is not None) == complete, device.address
                assert not complete or ttlock_keys_held(device, record), device.address
            elif isinstance(device, VirtualNuki):
                assert not nuki_orphans(device, app_id, record), f"{device.address}: stray key"
                held = len(ours(device, app_id)) == 1
                assert held == complete, f"{device.address}: a record the lock does not accept"

    async def timed(self, op: Prepared, case: Case) -> float:
        """Run an operation uncut (it must succeed); seconds until it landed, else its length."""
        await hang_up(self.world)  # every operation starts on a cold link, as when killed
        started = time.monotonic()
        reply = await self.client.send(op.verb, **op.params)
        helper = asyncio.create_task(op.helper()) if op.helper is not None else None
        landed: float | None = None
        while not reply.done():
            assert time.monotonic() - started < WAIT, f"{op.verb} hangs"
            if landed is None and case.landed(self, op):
                landed = time.monotonic() - started
            await asyncio.sleep(0.002)
        took = time.monotonic() - started
        if helper is not None:
            await asyncio.wait_for(helper, WAIT)
        assert reply.result()["ok"] is True, reply.result()
        op.crash = self.store()
        return took if landed is None else landed

    async def cut(self, op: Prepared, case: Case, delay: float | None, arm: Arm = None) -> None:
        """Send the request; SIGKILL the add-on `delay` s later or when `arm`'s hook fires."""
        await hang_up(self.world)
        process = self.addon.process
        assert process is not None
        if arm is not None:
            arm(lambda: process.send_signal(signal.SIGKILL))
        await self.client.send(op.verb, **op.params)
        helper = asyncio.create_task(op.helper()) if op.helper is not None else None
        if delay is not None:
            await asyncio.sleep(delay)
            process.send_signal(signal.SIGKILL)
        await asyncio.wait_for(process.wait(), WAIT)
        if helper is not None:
            helper.cancel()
            await asyncio.gather(helper, return_exceptions=True)
        op.crash = self.store()
        op.phase = case.moment(self, op)
        await self.disconnect()
        await hang_up(self.world)
        await self.restart()

    async def close(self) -> None:
        """Drop the client, kill the add-on if it runs."""
        await self.disconnect()
        await self.addon.close()
