"""The websocket API at ``api/ws``: origin check, strict parsing, limits, requests and pushes.

Each request runs as its own task (a slow unlock does not hold up ``locks.list``), at most
`Limits.in_flight` at once (``credentials.cancel`` excepted) and `Limits.rate` a second per
socket; more are answered ``busy``.
Replies and pushes leave through one bounded queue per socket. Requests are read no faster than
the client takes the replies; a client that falls `Limits.queue` messages behind, or takes none
for `Limits.send_seconds`, is closed (1008) instead of growing the add-on's memory.
A request still running when its socket closes finishes on its own; an enrolment it started is
cancelled, since nobody is left to follow it.
"""

from __future__ import annotations

import asyncio
import json
import logging
from asyncio import FIRST_COMPLETED
from datetime import datetime
from typing import Any

from aiohttp import WSCloseCode, WSMsgType, web

from ..credentials import CredentialKind
from ..manager_events import ManagerEvent, acting_as
from ..validity import JSONObject, JSONValue
from .context import PANEL, Bucket, HaUser, PanelState
from .errors import describe
from .guard import FORBIDDEN_ORIGIN, origin_allowed
from .pushes import push_of, scan_json
from .verbs import VERBS, Call, Verb

_LOGGER = logging.getLogger(__name__)
# Stopping an enrolment must get through even when every slot waits behind that enrolment.
ALWAYS_ANSWERED = frozenset({"credentials.cancel"})
_SAFE_ID = 2**53  # ids the browser's numbers hold exactly


def _request_id(value: object) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) <= _SAFE_ID:
        return value
    return None


def _dumps(message: JSONObject) -> str:
    return json.dumps(message, allow_nan=False, separators=(",", ":"))


class Session:
    """One websocket client: its requests, its pushes and its outgoing queue."""

    def __init__(self, panel: PanelState, ws: web.WebSocketResponse[Any], user: HaUser | None):
        self.panel, self.ws, self.user = panel, ws, user
        self.limits = panel.limits
        self.outbox: asyncio.Queue[str] = asyncio.Queue(self.limits.queue)
        self.bucket = Bucket(self.limits.rate, self.limits.burst)
        self.running: dict[asyncio.Task[None], Call] = {}
        self.closing = False

    # --- outgoing --------------------------------------------------------------------------

    def send(self, message: JSONObject) -> None:
        """Queue a message; a client too far behind is closed instead."""
        self._queue(_dumps(message))

    def _queue(self, text: str) -> None:
        if self.closing:
            return
        try:
            self.outbox.put_nowait(text)
        except asyncio.QueueFull:
            _LOGGER.warning(
                "A panel client fell %d messages behind; closing it", self.outbox.qsize()
            )
            self.close(WSCloseCode.POLICY_VIOLATION, "Too slow to keep up with the messages")

    def reply(self, request_id: int | None, result: JSONValue) -> None:
        """Queue a success reply."""
        try:
            text = _dumps({"id": request_id, "ok": True, "result": result})
        except (TypeError, ValueError) as exc:
            self.fail(request_id, *describe(exc, "reply"))
            return
        self._queue(text)

    def fail(self, request_id: int | None, code: str, message: str) -> None:
        """Queue an error reply."""
        self.send({"id": request_id, "ok": False, "error": {"code": code, "message": message}})

    def on_event(self, event: ManagerEvent) -> None:
        """A manager event: pushed to this client (if the panel is sent that kind)."""
        pushed = push_of(event)
        if pushed is not None:
            self.send({"event": pushed[0], "data": pushed[1]})

    def close(self, code: int, reason: str) -> None:
        """Close the socket soon (from a callback)."""
        if self.closing:
            return
        self.closing = True
        task = asyncio.create_task(close_socket(self.ws, code, reason, self.limits.close_seconds))
        self.panel.spawn(task)

    async def _send_loop(self) -> None:
        try:
            while True:
                text = await self.outbox.get()
                try:
                    await self.ws.send_str(text)
                finally:
                    self.outbox.task_done()
        except (ConnectionError, RuntimeError):
            return  # the socket is gone; the receive loop ends too

    async def _catch_up(self, sender: asyncio.Task[None]) -> None:
        """Read no further until the client has taken what is queued; close it if it cannot."""
        drained = asyncio.ensure_future(self.outbox.join())
        try:
            done, _ = await asyncio.wait(
                {drained, sender}, timeout=self.limits.send_seconds, return_when=FIRST_COMPLETED
            )
        finally:
            drained.cancel()
        if not done:
            _LOGGER.warning("A panel client stopped taking its messages; closing it")
            self.close(WSCloseCode.POLICY_VIOLATION, "Too slow to keep up with the messages")

    # --- incoming --------------------------------------------------------------------------

    def hello(self) -> JSONObject:
        """The first push: version, user, scan state, locks and discoveries."""
        manager = self.panel.manager
        data: JSONObject = {
            "version": self.panel.version,
            "user": None if self.user is None else self.user.to_json(),
            "scanning": manager.scanning,
            "scan": scan_json(manager.scan_state),
            "locks": [snapshot.to_json() for snapshot in manager.locks()],
            "discoveries": [found.to_json() for found in manager.discoveries()],
        }
        return {"event": "hello", "data": data}

    async def run(self) -> None:
        """Serve the socket until either side closes it."""
        self.send(self.hello())
        unsubscribe = self.panel.manager.subscribe(self.on_event)
        sender = asyncio.create_task(self._send_loop(), name="panel: websocket sender")
        try:
            async for message in self.ws:
                if message.type is WSMsgType.TEXT:
                    self.on_text(message.data)
                elif message.type is WSMsgType.BINARY:
                    text = "Send each request as a JSON text frame, not a binary one."
                    self.fail(None, "bad_request", text)
                else:
                    break
                if self.outbox.qsize() > self.limits.queue // 2:
                    await self._catch_up(sender)
                else:
                    await asyncio.sleep(0)  # let the requests just started (and the sender) run
        finally:
            unsubscribe()
            self.closing = True
            sender.cancel()
            await asyncio.gather(sender, return_exceptions=True)
            self._abandon()

    def on_text(self, text: str) -> None:
        """One text frame: a request, answered now if it cannot run, else started as a task."""
        try:
            obj = json.loads(text)
        except (ValueError, RecursionError):
            self.fail(None, "bad_request", "The request is not valid JSON.")
            return
        if not isinstance(obj, dict):
            self.fail(None, "bad_request", 'A request must be a JSON object: {"id": 1, "type": …}.')
            return
        request_id = _request_id(obj.get("id"))
        if not self.bucket.take():
            self.fail(request_id, "busy", "Too many requests at once; wait a moment and try again.")
            return
        if request_id is None:
            text = "'id' must be a whole number; the reply carries it back."
            self.fail(None, "bad_request", text)
            return
        kind = obj.get("type")
        handler = VERBS.get(kind) if isinstance(kind, str) else None
        if handler is None or not isinstance(kind, str):
            self.fail(request_id, "bad_request", "'type' is missing or not a known request type.")
            return
        if len(self.running) >= self.limits.in_flight and kind not in ALWAYS_ANSWERED:
            text = f"{len(self.running)} requests are running already; wait for one to finish."
            self.fail(request_id, "busy", text)
            return
        params = {key: value for key, value in obj.items() if key not in ("id", "type")}
        call = Call(kind, params, self.panel.manager, self.panel.backups, _now)
        task = asyncio.create_task(self._run(request_id, call, handler), name=f"panel: {kind}")
        self.running[task] = call
        enrolling = _enrolment_lock(call)
        if enrolling is not None:
            self.panel.enrolling.setdefault(enrolling, []).append(task)
        task.add_done_callback(self._done)
        self.panel.spawn(task)

    def _done(self, task: asyncio.Task[None]) -> None:
        call = self.running.pop(task, None)
        lock_id = None if call is None else _enrolment_lock(call)
        if lock_id is not None:
            queue = self.panel.enrolling.get(lock_id, [])
            if task in queue:
                queue.remove(task)
            if not queue:
                self.panel.enrolling.pop(lock_id, None)

    async def _run(self, request_id: int, call: Call, handler: Verb) -> None:
        seconds = self.limits.request_seconds
        scope = asyncio.timeout(seconds)
        try:
            with acting_as(None if self.user is None else self.user.label):
                async with scope:
                    result = await handler(call)
        except Exception as exc:
            if isinstance(exc, TimeoutError) and scope.expired():
                message = f"The add-on gave up on this request after {seconds:.0f} s. Try again."
                self.fail(request_id, "timeout", message)
            else:
                self.fail(request_id, *describe(exc, f"{call.verb} request"))
            return
        self.reply(request_id, result)

    def _abandon(self) -> None:
        """The client is gone: stop the enrolments it was following, and only those."""
        for task, call in list(self.running.items()):
            lock_id = _enrolment_lock(call)
            if lock_id is None:
                continue
            queue = self.panel.enrolling.get(lock_id, [])
            if queue and queue[0] is task:  # running now: the lock waits for a finger or card
                self.panel.spawn(asyncio.create_task(_cancel_enrolment(self.panel, lock_id)))
            else:  # still waiting behind another enrolment: it never reached the lock
                task.cancel()


def _enrolment_lock(call: Call) -> str | None:
    """The lock a card or fingerprint enrolment request is for, else None."""
    if call.verb != "credentials.add":
        return None
    kind, lock_id = call.params.get("kind"), call.params.get("lock_id")
    enrols = kind in (CredentialKind.CARD, CredentialKind.FINGERPRINT)
    return lock_id if enrols and isinstance(lock_id, str) else None


def _now() -> datetime:
    return datetime.now().astimezone()


async def _cancel_enrolment(panel: PanelState, lock_id: str) -> None:
    try:
        await panel.manager.cancel_enrolment(lock_id)
    except Exception as exc:
        describe(exc, "cancellation of an abandoned enrolment")


async def close_socket(
    ws: web.WebSocketResponse[Any], code: int, reason: str, seconds: float
) -> None:
    """Close a websocket with `code`, dropping the connection if the handshake takes too long."""
    try:
        async with asyncio.timeout(seconds):
            await ws.close(code=code, message=reason.encode()[:120])
    except (TimeoutError, ConnectionError, RuntimeError):
        pass  # aiohttp dropped the transport on the timeout; the socket is gone either way


async def websocket(request: web.Request) -> web.StreamResponse:
    """GET api/ws: the upgrade, then the session until it ends."""
    panel = request.app[PANEL]
    if not origin_allowed(request):
        return web.Response(status=403, text=FORBIDDEN_ORIGIN)
    if panel.stopping:
        return web.Response(status=503, text="The add-on is stopping.")
    if len(panel.sockets) >= panel.limits.sockets:
        return web.Response(status=503, text="Too many panel tabs are open; close some of them.")
    limits = panel.limits
    ws: web.WebSocketResponse[Any] = web.WebSocketResponse(
        heartbeat=limits.heartbeat, max_msg_size=limits.max_message, timeout=limits.close_seconds
    )
    await ws.prepare(request)
    panel.sockets.add(ws)
    try:
        await Session(panel, ws, HaUser.from_headers(request.headers)).run()
    finally:
        panel.sockets.discard(ws)
    return ws
