"""The add-on as a subprocess against the simulated world and a real mosquitto, for sync tests.

The world, both virtual locks, the broker and an MQTT recorder live on an event loop in a
background thread, so they keep running between test functions while the add-on (its own
process, on the world's D-Bus) uses them. Touch anything of the world only through
`AppRig.call` / `AppRig.run`: it belongs to that loop.
"""

from __future__ import annotations

import asyncio
import atexit
import base64
import contextlib
import itertools
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import aiomqtt
from manager_rig import NUKI_ID, NUKI_PIN, TT_ID, Rig
from mosquitto import HOST, Mosquitto

from ttlock_nuki_addon.credentials import CredentialKind, CredentialSpec
from ttlock_nuki_addon.mqtt.topics import Target, Topics
from ttlock_nuki_addon.sim.world import SimWorld
from ttlock_nuki_addon.snapshot import Capability
from ttlock_nuki_addon.store import Store

ROOT = Path(__file__).resolve().parent.parent
AUDIT_ENV = "TTLOCK_NUKI_AUDIT_DIR"  # set by tests/test_secrets_audit.py only
STORE_FILES = ("store.json", "store.json.bak")
WAIT = 20.0  # guards against hangs only
TT_PIN = "90817263"
TOPICS = Topics()
T = TypeVar("T")
__all__ = ["NUKI_ID", "NUKI_PIN", "TT_ID", "TT_PIN"]


class LoopThread:
    """An asyncio loop running in a daemon thread; unhandled task errors are collected."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.errors: list[str] = []
        self.loop.set_exception_handler(self._on_error)
        self._thread = threading.Thread(target=self.loop.run_forever, name="rig loop", daemon=True)
        self._thread.start()

    def _on_error(self, loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        self.errors.append(repr(context.get("exception") or context.get("message")))
        loop.default_exception_handler(context)

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = WAIT) -> T:
        """Run `coro` on the loop and wait for its result."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def call(self, fn: Callable[[], T], timeout: float = WAIT) -> T:
        """Call `fn` on the loop (world objects are not thread-safe) and return its result."""

        async def inside() -> T:
            return fn()

        return self.run(inside(), timeout)

    def close(self) -> None:
        """Cancel what still runs, stop the loop, join the thread."""

        async def cancel_rest() -> None:
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

        with contextlib.suppress(Exception):
            self.run(cancel_rest())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(WAIT)
        self.loop.close()


@dataclass(frozen=True, slots=True)
class Message:
    """One MQTT message as the recorder got it; `at` is time.perf_counter() on arrival."""

    topic: str
    payload: bytes
    retain: bool
    at: float

    def json(self) -> Any:
        """The payload parsed as JSON."""
        return json.loads(self.payload)


class Recorder:
    """An MQTT client subscribed to '#' keeping every message; reconnects; publishes for tests."""

    def __init__(self, broker: Mosquitto) -> None:
        self.broker = broker
        self.messages: list[Message] = []
        self.sent: list[tuple[str, bytes]] = []
        self._client: aiomqtt.Client | None = None
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Connect (and keep reconnecting) in the background; returns once subscribed."""
        self._task = asyncio.create_task(self._run(), name="recorder")
        async with asyncio.timeout(WAIT):
            while self._client is None:
                await asyncio.sleep(0.02)

    async def stop(self) -> None:
        """Disconnect for good."""
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def _run(self) -> None:
        while True:
            try:
                async with self.broker.client() as client:
                    await client.subscribe("#", qos=1)
                    self._client = client
                    async for message in client.messages:
                        raw = message.payload
                        payload = raw if isinstance(raw, bytes) else str(raw).encode()
                        now = time.perf_counter()
                        self.messages.append(
                            Message(message.topic.value, payload, message.retain, now)
                        )
            except aiomqtt.MqttError:
                pass
            finally:
                self._client = None
            await asyncio.sleep(0.1)

    async def publish(self, topic: str, payload: bytes | str, *, retain: bool = False) -> float:
        """Publish once connected; returns time.perf_counter() just before the publish."""
        async with asyncio.timeout(WAIT):
            while self._client is None:
                await asyncio.sleep(0.02)
        data = payload.encode() if isinstance(payload, str) else payload
        self.sent.append((topic, data))
        started = time.perf_counter()
        await self._client.publish(topic, data, qos=1, retain=retain)
        return started

    # --- reading (from any thread) ---------------------------------------------------------

    def mark(self) -> int:
        """The position of the next message."""
        return len(self.messages)

    def on(self, topic: str, since: int = 0) -> list[Message]:
        """Messages on `topic` from position `since`."""
        return [m for m in self.messages[since:] if m.topic == topic]

    def states(self, lock_id: str, since: int = 0) -> list[dict[str, Any]]:
        """The lock's state payloads from `since`, parsed."""
        return [m.json() for m in self.on(TOPICS.state(lock_id), since) if m.payload]

    def events(self, lock_id: str, since: int = 0) -> list[dict[str, Any]]:
        """The lock's activity events from `since`, parsed."""
        return [m.json() for m in self.on(TOPICS.event(lock_id), since)]

    def save_for_audit(self, slot: Path) -> None:
        """Write every message received (and which ones the tests published) as JSON lines."""
        sent = {(topic, payload) for topic, payload in self.sent}
        with (slot / "mqtt.jsonl").open("w") as out:
            for m in list(self.messages):
                line = {
                    "topic": m.topic,
                    "payload": base64.b64encode(m.payload).decode(),
                    "retain": m.retain,
                    "from_test": (m.topic, m.payload) in sent,
                }
                out.write(json.dumps(line) + "\n")


def wait_until(predicate: Callable[[], T], timeout: float = WAIT, what: str = "") -> T:
    """Poll `predicate` until it returns something truthy (bounded); that value."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or predicate}")
        time.sleep(0.02)


class AddonProcess:
    """`python -m ttlock_nuki_addon ...` with its output in files."""

    def __init__(
        self, args: Sequence[str], env: dict[str, str], log_dir: Path, *, umask: int = -1
    ) -> None:
        self.args, self.env, self.umask = list(args), env, umask  # umask -1: inherited
        self.stdout_path, self.stderr_path = log_dir / "addon.out", log_dir / "addon.err"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        """Start the process."""
        if self.process is None:
            audit_at_exit("addon", self.save_for_audit)
        with self.stdout_path.open("ab") as out, self.stderr_path.open("ab") as err:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "ttlock_nuki_addon", *self.args],
                cwd=ROOT,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=err,
                umask=self.umask,
            )

    @property
    def running(self) -> bool:
        """Whether the process is alive."""
        return self.process is not None and self.process.poll() is None

    def output(self) -> str:
        """Everything the process wrote so far, stdout then stderr."""
        texts = (p.read_text(errors="replace") for p in (self.stdout_path, self.stderr_path))
        return "".join(text for text in texts)

    def terminate(self, timeout: float = WAIT) -> int:
        """SIGTERM, then the exit code (killed after `timeout`)."""
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout)

    def kill(self) -> None:
        """Make sure the process is gone."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(WAIT)

    @property
    def data_dir(self) -> Path | None:
        """The `--data-dir` it was given."""
        args = self.args
        found = [args[i + 1] for i, arg in enumerate(args[:-1]) if arg == "--data-dir"]
        return Path(found[-1]) if found else None

    def save_for_audit(self, slot: Path) -> None:
        """Copy its output and the store files of its data directory into `slot` (killed first)."""
        self.kill()
        for path in (self.stdout_path, self.stderr_path):
            if path.exists():
                shutil.copyfile(path, slot / path.name)
        data_dir = self.data_dir
        stored = [data_dir / name for name in STORE_FILES] if data_dir is not None else []
        for path in stored:
            if path.exists():
                shutil.copyfile(path, slot / path.name)


def addon_env(bus_address: str) -> dict[str, str]:
    """The environment without our options or a Supervisor token, on the world's bus."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("TTLOCK_NUKI_") and key not in ("SUPERVISOR_TOKEN", "HASSIO_TOKEN")
    }
    return {**env, "DBUS_SYSTEM_BUS_ADDRESS": bus_address, "PYTHONUNBUFFERED": "1"}


class AppRig:
    """World + paired virtual locks + mosquitto + recorder + the add-on subprocess."""

    def __init__(self, base: Path) -> None:
        self.base = base
        self.data_dir = base / "data"
        self.thread = LoopThread()
        self.world = SimWorld()
        self.broker = Mosquitto()
        self.recorder = Recorder(self.broker)
        self.locks: Rig | None = None
        self.capabilities: dict[str, frozenset[Capability]] = {}
        self.addon: AddonProcess | None = None
        self._saved_bus = os.environ.get("DBUS_SYSTEM_BUS_ADDRESS")
        audit_at_exit("mqtt", self.recorder.save_for_audit)

    @property
    def rig(self) -> Rig:
        """The virtual locks (manager_rig.Rig: `.ttlock`, `.nuki`)."""
        assert self.locks is not None
        return self.locks

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = WAIT) -> T:
        """Run a coroutine on the world's loop."""
        return self.thread.run(coro, timeout)

    def call(self, fn: Callable[[], T], timeout: float = WAIT) -> T:
        """Call a function on the world's loop."""
        return self.thread.call(fn, timeout)

    def setup(self, addon_args: Sequence[str] = (), log_level: str = "debug") -> None:
        """Start the world, pair both locks into the data dir, start the broker and the add-on."""
        self.run(self._setup(), timeout=90)
        self.addon = AddonProcess(
            [
                "--data-dir", str(self.data_dir), "--mqtt-url", f"mqtt://{HOST}:{self.broker.port}",
                "--log-level", log_level, "--port", "0", *addon_args,
            ],
            addon_env(self.world.bus_address),
            self.base,
        )  # fmt: skip
        self.addon.start()

    async def _setup(self) -> None:
        await self.world.start()
        os.environ["DBUS_SYSTEM_BUS_ADDRESS"] = self.world.bus_address  # bleak, for pairing
        self.locks = Rig(self.world, self.data_dir)
        manager = await self.locks.start()
        await self.locks.pair_ttlock(manager)
        await self.locks.pair_nuki(manager)
        spec = CredentialSpec(CredentialKind.PIN, "Alice", TT_PIN)
        await manager.add_credential(TT_ID, spec)
        self.capabilities = {s.id: s.capabilities for s in manager.locks()}
        await self.locks.stop_all()
        await self.broker.start()
        await self.recorder.start()

    def secrets(self) -> dict[str, object]:
        """The store's secrets by name, read from the data directory independently of the app."""
        store = Store(self.data_dir)
        tt, nuki = store.get_lock(TT_ID), store.get_lock(NUKI_ID)
        assert tt is not None and nuki is not None
        found: dict[str, object] = {
            "ttlock aes_key": bytes.fromhex(str(tt["aes_key"])),
            "ttlock admin_ps": tt["admin_ps"],
            "ttlock unlock_key": tt["unlock_key"],
            "nuki shared_key": bytes.fromhex(str(nuki["shared_key"])),
            "nuki security_pin": nuki["security_pin"],
        }
        if tt.get("admin_passcode"):
            found["ttlock admin_passcode"] = tt["admin_passcode"]
        credentials = tt["credentials"]
        assert isinstance(credentials, dict) and isinstance(credentials["pin"], dict)
        for cred_id, entry in credentials["pin"].items():
            assert isinstance(entry, dict)
            found[f"ttlock pin {cred_id}"] = entry["code"]
        return found

    def addon_output(self) -> str:
        """Everything the add-on process wrote so far."""
        return "" if self.addon is None else self.addon.output()

    def command(self, lock_id: str, target: Target, payload: bytes | str) -> float:
        """Publish a command from "Home Assistant"; the time just before publishing."""
        return self.run(self.recorder.publish(TOPICS.command(lock_id, target), payload))

    def close(self) -> None:
        """Stop everything; the add-on is killed if it still runs."""
        if self.addon is not None:
            self.addon.kill()

        async def teardown() -> None:
            await self.recorder.stop()
            await self.broker.stop()
            shutil.rmtree(self.broker.dir, ignore_errors=True)
            if self.locks is not None:
                await self.locks.stop_all()
            await self.world.stop()

        try:
            self.run(teardown(), timeout=60)
        finally:
            self.thread.close()
            if self._saved_bus is None:
                os.environ.pop("DBUS_SYSTEM_BUS_ADDRESS", None)
            else:
                os.environ["DBUS_SYSTEM_BUS_ADDRESS"] = self._saved_bus


# --- opt-in capture for the secrets audit (tests/test_secrets_audit.py) ------------------------

_SLOTS = itertools.count(1)


def audit_dir() -> Path | None:
    """Where the rigs leave what they saw for the secrets audit; None unless it asked."""
    named = os.environ.get(AUDIT_ENV)
    return Path(named) if named else None


def audit_at_exit(kind: str, save: Callable[[Path], None]) -> None:
    """If the audit asked: at interpreter exit, `save` into a fresh `<audit dir>/<kind>-<n>/`."""
    base = audit_dir()
    if base is None:
        return
    slot = base / f"{kind}-{os.getpid()}-{next(_SLOTS)}"

    def run() -> None:
        slot.mkdir(parents=True, exist_ok=True)
        save(slot)

    atexit.register(run)
