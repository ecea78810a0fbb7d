"""A real mosquitto broker for tests: free localhost port, temp dir, stop/restart on the same port.

Also a TCP relay that can cut every connection abruptly (what a lost network does; the broker
then publishes the client's last will), a recording second client (Observer) and `retained`,
which reads what the broker holds retained.
Import the `mosquitto` fixture from here: ``from mosquitto import mosquitto``.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import socket
import struct
import subprocess
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

import aiomqtt
import pytest

MOSQUITTO = "/usr/sbin/mosquitto"
HOST = "127.0.0.1"
START_TIMEOUT = 10.0


def free_port() -> int:
    """A TCP port on localhost that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


async def _accepts(port: int) -> bool:
    try:
        _, writer = await asyncio.open_connection(HOST, port)
    except OSError:
        return False
    writer.close()
    with contextlib.suppress(OSError):
        await writer.wait_closed()
    return True


class Mosquitto:
    """One mosquitto process with a generated config; `users` turns on password checks."""

    def __init__(self, users: dict[str, str] | None = None) -> None:
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="mosquitto-"))
        self.log_path = self.dir / "mosquitto.log"
        self._process: asyncio.subprocess.Process | None = None
        lines = [f"listener {self.port} {HOST}", "persistence false", "log_dest stderr"]
        lines.append("log_type error")
        lines.append("log_type warning")
        if os.geteuid() == 0:
            lines.append("user root")  # otherwise mosquitto drops to a user that may not exist
        if users:
            password_file = self.dir / "passwords"
            password_file.touch(mode=0o600)
            for user, password in users.items():
                subprocess.run(
                    ["mosquitto_passwd", "-b", str(password_file), user, password],
                    check=True,
                    capture_output=True,
                )
            lines += ["allow_anonymous false", f"password_file {password_file}"]
        else:
            lines.append("allow_anonymous true")
        self.config = self.dir / "mosquitto.conf"
        self.config.write_text("\n".join(lines) + "\n")

    @property
    def running(self) -> bool:
        """Whether the broker process is up."""
        return self._process is not None and self._process.returncode is None

    async def start(self) -> None:
        """Start the broker on `self.port` and wait until it accepts connections."""
        if self.running:
            return
        with self.log_path.open("ab") as log:
            process = await asyncio.create_subprocess_exec(
                MOSQUITTO, "-c", str(self.config), stdout=log, stderr=log
            )
        self._process = process
        deadline = time.monotonic() + START_TIMEOUT
        while not await _accepts(self.port):
            if process.returncode is not None or time.monotonic() > deadline:
                raise RuntimeError(f"mosquitto did not start: {self.log_path.read_text()[-2000:]}")
            await asyncio.sleep(0.02)

    async def stop(self) -> None:
        """Stop the broker (SIGTERM, SIGKILL after 5 s) and wait for the process to end."""
        process, self._process = self._process, None
        if process is None or process.returncode is not None:
            return
        process.terminate()
        try:
            await asyncio.wait_for(process.wait(), 5.0)
        except TimeoutError:
            process.kill()
            await process.wait()

    async def restart(self) -> None:
        """Stop and start again on the same port (retained messages are lost: no persistence)."""
        await self.stop()
        await self.start()

    def client(self, **kwargs: object) -> aiomqtt.Client:
        """A fresh aiomqtt client for this broker (connect it with `async with`)."""
        kwargs.setdefault("identifier", f"test-{uuid.uuid4().hex[:12]}")
        return aiomqtt.Client(HOST, self.port, **kwargs)  # type: ignore[arg-type]

    async def __aenter__(self) -> Mosquitto:
        await self.start()
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture
async def mosquitto() -> AsyncIterator[Mosquitto]:
    """A running mosquitto broker on a free localhost port (anonymous access)."""
    async with Mosquitto() as broker:
        yield broker


class TcpRelay:
    """Forwards localhost connections to `port`; `cut()` drops them all without a goodbye."""

    def __init__(self, port: int) -> None:
        self.target = port
        self.port = 0
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._tasks: set[asyncio.Task[None]] = set()

    async def __aenter__(self) -> TcpRelay:
        self._server = await asyncio.start_server(self._accept, HOST, 0)
        self.port = int(self._server.sockets[0].getsockname()[1])
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._server is not None:
            self._server.close()
        self.cut()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(HOST, self.target)
        except OSError:
            writer.close()
            return
        self._writers |= {writer, up_writer}
        for source, sink in ((reader, up_writer), (up_reader, writer)):
            task = asyncio.create_task(self._pump(source, sink))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _pump(self, source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
        with contextlib.suppress(OSError):
            while data := await source.read(65536):
                sink.write(data)
                await sink.drain()
        sink.close()

    def cut(self) -> None:
        """Reset every relayed connection at once (RST, no MQTT DISCONNECT)."""
        for writer in self._writers:
            sock = writer.get_extra_info("socket")
            if sock is not None:
                with contextlib.suppress(OSError):
                    # SO_LINGER 0: close() sends a reset, like a dropped network path.
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            writer.transport.abort()
        self._writers.clear()


async def retained(broker: Mosquitto, *filters: str) -> dict[str, bytes]:
    """Every retained message under `filters` that the broker holds now, topic -> payload.

    A marker published after subscribing comes back after all retained messages.
    """
    marker = f"test/marker/{uuid.uuid4().hex}"
    found: dict[str, bytes] = {}
    async with broker.client() as client:
        for topic_filter in (*filters, marker):
            await client.subscribe(topic_filter, qos=1)
        await client.publish(marker, b"", qos=1)
        async with asyncio.timeout(10):
            async for message in client.messages:
                topic = message.topic.value
                if topic == marker:
                    break
                if message.retain:
                    found[topic] = bytes(message.payload)
    return found


@dataclass(frozen=True, slots=True)
class Seen:
    """One message an Observer received."""

    topic: str
    payload: bytes
    retain: bool


class Observer:
    """A second MQTT client that records every message under `#` in order."""

    def __init__(self, broker: Mosquitto) -> None:
        self.broker = broker
        self.log: list[Seen] = []
        self._client: aiomqtt.Client | None = None
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> Observer:
        self._client = self.broker.client()
        await self._client.__aenter__()
        await self._client.subscribe("#", qos=1)
        self._task = asyncio.create_task(self._collect(self._client))
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        if self._client is not None:
            with contextlib.suppress(aiomqtt.MqttError):
                await self._client.__aexit__(None, None, None)

    async def _collect(self, client: aiomqtt.Client) -> None:
        with contextlib.suppress(aiomqtt.MqttError):
            async for message in client.messages:
                self.log.append(Seen(message.topic.value, bytes(message.payload), message.retain))

    async def publish(self, topic: str, payload: bytes | str, *, retain: bool = False) -> None:
        """Publish with QoS 1 from this client."""
        assert self._client is not None
        await self._client.publish(topic, payload, qos=1, retain=retain)

    def payloads(self, topic: str, since: int = 0) -> list[bytes]:
        """Payloads seen on `topic` from log index `since` on."""
        return [m.payload for m in self.log[since:] if m.topic == topic]
