"""MqttBridge: the manager's locks as Home Assistant entities over MQTT (aiomqtt 2.x).

Use: ``bridge = MqttBridge(manager, settings)``, ``bridge.start()``, ... ``await bridge.stop()``
(or await ``bridge.run()`` yourself and cancel it). The bridge's last will is a retained
``offline`` on the bridge availability topic; after every connect it publishes ``online``,
subscribes to the command topics and HA's status topic, and publishes discovery, availability
and state of every lock (all retained). Lost or unreachable broker: reconnect with exponential
backoff. Commands run through the manager in tasks; the message loop never waits for a lock.
Activity events that happen while the broker is away are not kept (HA ignores stale events).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import ssl
from collections.abc import Collection, Coroutine
from typing import Any

import aiomqtt

from .. import __version__
from ..broker import MqttProtocol, MqttSettings
from ..manager_events import (
    LockActivity,
    LockAdded,
    LockRemoved,
    LockUpdated,
    ManagerEvent,
    SettingsUpdated,
    Unsubscribe,
)
from ..validity import ValidationError
from .bridge_actions import LockActions, LockManagerApi, describe
from .bridge_board import LockBoard, Outgoing
from .discovery import QOS, Origin
from .topics import (
    OFFLINE,
    ONLINE,
    UID_PREFIX,
    Topics,
    is_ha_online,
    parse_command,
)

_LOGGER = logging.getLogger(__name__)
MIN_BACKOFF = 1.0
MAX_BACKOFF = 30.0
KEEPALIVE = 60
MQTT_TIMEOUT = 10.0  # seconds for CONNACK, PUBACK, SUBACK and the DISCONNECT handshake
FAREWELL_TIMEOUT = 3.0  # for the `offline` publish on stop
CONNECT_GRACE = 2.0  # a stop during a connect waits this long for it before abandoning it
_PROTOCOLS = {
    MqttProtocol.V31: aiomqtt.ProtocolVersion.V31,
    MqttProtocol.V311: aiomqtt.ProtocolVersion.V311,
    MqttProtocol.V5: aiomqtt.ProtocolVersion.V5,
}
CANCEL_RETRY = 0.2
__all__ = ["LockManagerApi", "MqttBridge", "cancel_all"]


async def cancel_all(tasks: Collection[asyncio.Future[Any]]) -> None:
    """Cancel `tasks` and wait for them; cancel again any that swallowed the cancel.

    Python 3.11's asyncio.wait_for (inside aiomqtt's publish and subscribe) returns normally
    when its inner future finishes in the same loop turn as the cancel, so one cancel can be lost.
    """
    pending = {task for task in tasks if not task.done()}
    while pending:
        for task in pending:
            task.cancel()
        _, pending = await asyncio.wait(pending, timeout=CANCEL_RETRY)
    await asyncio.gather(*tasks, return_exceptions=True)


class MqttBridge:
    """Publishes the manager's locks to HA and runs HA's commands through the manager."""

    def __init__(
        self,
        manager: LockManagerApi,
        settings: MqttSettings,
        *,
        version: str = __version__,
        configuration_url: str | None = None,
        identifier: str | None = None,
        min_backoff: float = MIN_BACKOFF,
        max_backoff: float = MAX_BACKOFF,
        keepalive: int = KEEPALIVE,
        tls_context: ssl.SSLContext | None = None,
    ) -> None:
        if not 0 < min_backoff <= max_backoff:
            raise ValueError("the backoff bounds must satisfy 0 < min_backoff <= max_backoff")
        self._manager, self._settings = manager, settings
        self.topics = Topics(settings.base_topic, settings.discovery_prefix)
        self.identifier = identifier or f"{UID_PREFIX}_{os.urandom(4).hex()}"
        self._min_backoff, self._max_backoff, self._keepalive = min_backoff, max_backoff, keepalive
        self._tls_context = tls_context
        self._board = LockBoard(
            self.topics,
            self._send,
            origin=Origin(sw_version=version),
            configuration_url=configuration_url,
        )
        self._outbox: asyncio.Queue[Outgoing] | None = None
        self._task: asyncio.Task[None] | None = None
        self._jobs: set[asyncio.Task[None]] = set()
        self._actions = LockActions(manager, self._board, self._spawn)
        self._unsubscribe: Unsubscribe | None = None
        self._closing = False
        self.last_error: str | None = None

    @property
    def connected(self) -> bool:
        """Whether a broker connection is up now."""
        return self._outbox is not None

    # --- lifecycle ---------------------------------------------------------------------------

    def start(self) -> None:
        """Listen to the manager now and run the bridge in a background task (see `stop`)."""
        self._listen()
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self.run(), name="mqtt bridge")

    def _listen(self) -> None:
        if self._unsubscribe is None:
            self._unsubscribe = self._manager.subscribe(self._on_event)

    async def stop(self) -> None:
        """Publish `offline`, disconnect cleanly, end every task the bridge started."""
        task, self._task = self._task, None
        if task is None:
            return
        task.cancel()
        while not task.done():
            await asyncio.wait((task,), timeout=CANCEL_RETRY)
            if not task.done() and not self._closing:
                task.cancel()  # the cancel was swallowed (see cancel_all); the cleanup is not
        with contextlib.suppress(asyncio.CancelledError):
            await task

    async def run(self) -> None:
        """Connect, serve, reconnect with backoff; until cancelled (then `offline`, disconnect)."""
        self._listen()
        self._closing = False
        loop = asyncio.get_running_loop()
        delay, failing = self._min_backoff, False
        try:
            while True:
                client = self._client()
                try:
                    await self._enter(client)
                except aiomqtt.MqttError as exc:
                    self._failed(
                        "Cannot connect to the MQTT broker", exc, quiet=failing, delay=delay
                    )
                    failing = True
                else:
                    _LOGGER.info("Connected to the MQTT broker %s", self._settings.url)
                    failing, self.last_error, began = False, None, loop.time()
                    try:
                        await self._serve(client)
                    except aiomqtt.MqttError as exc:
                        if loop.time() - began >= self._max_backoff:
                            delay = self._min_backoff
                        self._failed("Lost the MQTT broker", exc, quiet=False, delay=delay)
                    finally:
                        await self._close(client)
                await asyncio.sleep(delay)
                delay = min(delay * 2, self._max_backoff)
        finally:
            self._closing = True
            if self._unsubscribe is not None:
                self._unsubscribe()
                self._unsubscribe = None
            await cancel_all(list(self._jobs))

    def _failed(self, what: str, exc: aiomqtt.MqttError, *, quiet: bool, delay: float) -> None:
        self.last_error = describe(exc)
        log = _LOGGER.debug if quiet else _LOGGER.warning
        log("%s %s (%s); retrying in %.1f s", what, self._settings.url, self.last_error, delay)

    # --- the connection ------------------------------------------------------------------

    def _client(self) -> aiomqtt.Client:
        settings = self._settings
        tls = self._tls_context
        if tls is None and settings.tls:
            tls = ssl.create_default_context()
        will = aiomqtt.Will(self.topics.bridge_availability, OFFLINE, qos=QOS, retain=True)
        return aiomqtt.Client(
            settings.host,
            settings.port,
            username=settings.username,
            password=settings.password,
            identifier=self.identifier,
            protocol=_PROTOCOLS[settings.protocol],
            will=will,
            keepalive=self._keepalive,
            timeout=MQTT_TIMEOUT,
            tls_context=tls,
            logger=logging.getLogger("aiomqtt"),
        )

    async def _enter(self, client: aiomqtt.Client) -> None:
        """Connect. Cancelled meanwhile: let the connect thread finish briefly, then close."""
        entering = asyncio.ensure_future(client.__aenter__())
        try:
            await asyncio.shield(entering)
        except asyncio.CancelledError:
            self._closing = True
            await asyncio.wait((entering,), timeout=CONNECT_GRACE)
            await cancel_all((entering,))  # no CONNACK in time: give up on this connection
            if not entering.cancelled() and entering.exception() is None:
                await MqttBridge._close(client)
            else:
                await MqttBridge._end_housekeeping(client)
            raise

    @staticmethod
    async def _close(client: aiomqtt.Client) -> None:
        with contextlib.suppress(aiomqtt.MqttError):
            await client.__aexit__(None, None, None)
        await MqttBridge._end_housekeeping(client)

    @staticmethod
    async def _end_housekeeping(client: aiomqtt.Client) -> None:
        # aiomqtt 2.x stops its housekeeping task (a private attribute) only a loop turn after
        # the socket closes, or never if the connect was abandoned; end it now.
        misc = getattr(client, "_misc_task", None)
        if isinstance(misc, asyncio.Task) and not misc.done():
            misc.cancel()
            await asyncio.gather(misc, return_exceptions=True)

    async def _serve(self, client: aiomqtt.Client) -> None:
        """One connection: announce, subscribe, publish everything, then pump both ways."""
        topics = self.topics
        tasks: tuple[asyncio.Task[None], ...] = ()
        try:
            await client.publish(topics.bridge_availability, ONLINE, qos=QOS, retain=True)
            for topic in topics.subscriptions:
                await client.subscribe(topic, qos=QOS)
            outbox: asyncio.Queue[Outgoing] = asyncio.Queue()
            self._outbox = outbox
            self._board.go_live(self._manager.locks())
            self._actions.connected()
            tasks = (
                asyncio.create_task(self._write(client, outbox), name="mqtt bridge: publish"),
                asyncio.create_task(self._read(client), name="mqtt bridge: receive"),
            )
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        except asyncio.CancelledError:
            self._closing = True
            await cancel_all(tasks)
            with contextlib.suppress(aiomqtt.MqttError):
                await client.publish(
                    topics.bridge_availability, OFFLINE, qos=QOS, retain=True,
                    timeout=FAREWELL_TIMEOUT,
                )  # fmt: skip
            _LOGGER.info("Disconnecting from the MQTT broker %s", self._settings.url)
            raise
        finally:
            self._outbox = None
            self._board.go_offline()
            await cancel_all(tasks)
        for task in done:
            task.result()
        raise aiomqtt.MqttError("the message stream ended")

    def _send(self, message: Outgoing) -> None:
        if self._outbox is not None:
            self._outbox.put_nowait(message)

    @staticmethod
    async def _write(client: aiomqtt.Client, outbox: asyncio.Queue[Outgoing]) -> None:
        while True:
            message = await outbox.get()
            await client.publish(message.topic, message.payload, qos=QOS, retain=message.retain)

    async def _read(self, client: aiomqtt.Client) -> None:
        async for message in client.messages:
            try:
                self._on_message(message.topic.value, message.payload, retained=message.retain)
            except Exception:
                _LOGGER.exception("Handling an MQTT message on %s failed", message.topic.value)

    # --- from Home Assistant --------------------------------------------------------------

    def _on_message(self, topic: str, payload: bytes, *, retained: bool) -> None:
        if is_ha_online(topic, payload, self.topics):
            _LOGGER.info("Home Assistant is online; publishing discovery and state again")
            self._board.republish()
            return
        try:
            command = parse_command(topic, payload, self.topics)
        except ValidationError as exc:
            _LOGGER.warning("Ignored a command on %s (%d bytes): %s", topic, len(payload), exc)
            return
        if command is None:
            return
        if retained:
            _LOGGER.warning(
                "Ignored a retained command on %s; commands must not be retained", topic
            )
            return
        self._actions.dispatch(topic, command)

    def _spawn(self, coro: Coroutine[Any, Any, None], name: str) -> asyncio.Task[None]:
        task = asyncio.create_task(coro, name=name)
        self._jobs.add(task)
        task.add_done_callback(self._jobs.discard)
        return task

    # --- from the manager --------------------------------------------------------------------

    def _on_event(self, event: ManagerEvent) -> None:
        if isinstance(event, LockAdded | LockUpdated):
            previous = self._board.snapshots.get(event.lock_id)
            self._board.update(event.snapshot)
            self._actions.seen(previous, event.snapshot)
        elif isinstance(event, LockActivity):
            self._board.event(event.event)
        elif isinstance(event, LockRemoved):
            self._board.remove(event.lock_id)
            self._actions.forget(event.lock_id)
        elif isinstance(event, SettingsUpdated):  # also those the panel read or changed
            self._board.set_settings(event.lock_id, event.settings)
