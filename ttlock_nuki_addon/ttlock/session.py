"""One TTLock's connection: link, admin login per connection, requests, retries, error mapping."""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

from ..ble.link import Link, LinkTimings, Match
from ..ble.transport import TransportFactory
from ..errors import (
    AuthError,
    CommandRejectedError,
    DisconnectedError,
    LockError,
    LockTimeoutError,
)
from . import describe
from .auth_cmds import (
    StatusResponse,
    build_check_admin_request,
    build_check_random_request,
    parse_ps_from_lock,
    parse_status_response,
)
from .codec import Command, DecryptError, ErrorCode, Response
from .commands import AdminKeys, build_status_request
from .framing import (
    LINK_PROFILE,
    LockVersion,
    TTLockFramer,
    decode_response,
    encode_request,
    parse_frame,
    reply_matcher,
)

_LOGGER = logging.getLogger(__name__)
T = TypeVar("T")

# spec §6.3: retry only transient link failures, a bounded number of times, never blindly.
ATTEMPTS = 2
TRANSIENT: tuple[type[LockError], ...] = (LockTimeoutError, DisconnectedError)
# spec §5.5.2, §5.1: answers meaning the lock no longer knows our admin keys (reset, re-paired).
AUTH_CODES = frozenset(
    {
        ErrorCode.NO_PERMISSION,
        ErrorCode.WRONG_ADMIN_PASSWORD,
        ErrorCode.IN_SETTING_MODE,
        ErrorCode.NO_ADMIN,
        ErrorCode.EKEY_RESET,
        ErrorCode.KEY_INVALID,
    }
)
KEYS_REJECTED = (
    "The lock rejected this add-on's keys. It was probably reset or paired with another app; "
    "remove it here and pair it again."
)
Frames = Callable[[Response], None]
_PUSH_LEN = 15  # spec §1.4: a 0x14 frame this long announces a log record, not the bolt


def command_name(command: int) -> str:
    """A readable name for a command code (never its payload)."""
    return describe.command_name(command) or f"0x{command:02x}"


def check(response: Response) -> bytes:
    """The answer's data on success; AuthError for key rejections, else CommandRejectedError."""
    if response.ok:
        return response.data
    if response.error_code in AUTH_CODES:
        raise AuthError(KEYS_REJECTED)
    response.raise_for_status()
    return response.data  # not reached: raise_for_status raised


class TTLockSession:
    """Requests to one lock over one Link; the admin login lasts as long as its connection."""

    def __init__(
        self,
        address: str,
        transport_factory: TransportFactory,
        *,
        key: bytes | None,
        admin: AdminKeys | None,
        name: str | None = None,
        timings: LinkTimings | None = None,
        lock_flag_pos: int = 0,
        uid: int = 0,
        on_frame: Frames | None = None,
        one_connection: bool = False,
    ) -> None:
        self.key = key
        # Pairing is one connection (spec §5.3, §5.4): after a drop, never go on over a new one.
        self.one_connection = one_connection
        self.drops = 0
        self.admin = admin
        self.lock_flag_pos, self.uid = lock_flag_pos, uid
        self.logged_in = False
        self.version: LockVersion | None = None  # header of the last answer (spec §2.1)
        self._active_until = 0.0  # monotonic time until which the link may still be up
        self._on_frame = on_frame
        self.link = Link(
            address,
            LINK_PROFILE,
            lambda _uuid: TTLockFramer(),
            transport_factory,
            name=name,
            timings=timings,
            on_unsolicited=self._unsolicited,
            on_disconnect=self._dropped,
        )

    @property
    def name(self) -> str:
        """The lock's name in log lines."""
        return self.link.name

    @property
    def connected(self) -> bool:
        """Whether the link is up."""
        return self.link.connected

    def recently_linked(self, grace: float) -> bool:
        """Whether the link is up, or was within `grace` seconds (or may still be, idling)."""
        return self.link.connected or time.monotonic() < self._active_until + grace

    def _mark_active(self, until: float) -> None:
        self._active_until = max(self._active_until, time.monotonic() + until)

    def _mark_down(self) -> None:
        self._active_until = time.monotonic()

    def _dropped(self) -> None:
        self.logged_in = False  # spec §5.3: a login holds for one connection only
        self.drops += 1
        self._mark_down()

    def _unsolicited(self, message: bytes) -> None:
        try:
            response = self.decode(message)
        except LockError:
            _LOGGER.debug("%s: ignored an unsolicited frame that does not decode", self.name)
            return
        _LOGGER.debug("%s: unsolicited %s", self.name, command_name(response.command))
        if self._on_frame is not None:
            self._on_frame(response)

    def decode(self, message: bytes, expected: int | None = None) -> Response:
        """An answer frame's envelope; AuthError when it does not decrypt with our key."""
        frame = parse_frame(message)  # ProtocolError for a bad CRC or a malformed frame
        self.version = frame.version
        if not frame.data and expected == Command.RESET_LOCK:
            return Response.success(expected)  # spec §5.5.21: an empty answer means success
        try:
            return decode_response(frame, self.key)
        except DecryptError:
            # spec §3.1: an answer that does not decrypt means the lock no longer has our key.
            raise AuthError(KEYS_REJECTED) from None

    async def send(
        self,
        command: int,
        payload: bytes = b"",
        *,
        timeout: float | None = None,
        match: Match | None = None,
    ) -> Response:
        """Send one command and return its decrypted answer, whatever its status."""
        if self.one_connection and self.drops:
            # No await lies between this check and the link's connect(), so no reconnect slips by.
            raise DisconnectedError(f"The Bluetooth connection to {self.name} dropped.")
        _LOGGER.debug("%s: sending %s", self.name, command_name(command))
        wire = encode_request(command, payload, self.key)
        # spec §1.4: the answer is the frame echoing the command; others go to _unsolicited.
        wanted = match or reply_matcher(command, self.key)
        try:
            raw = await self.link.request(wire, wanted, timeout=timeout)
        finally:
            self._mark_active(self.link.timings.idle_disconnect)  # the idle window follows
        response = self.decode(raw, command)
        _LOGGER.debug(
            "%s: %s answered %s",
            self.name,
            command_name(command),
            "ok" if response.ok else f"error 0x{response.error_code or 0:02x}",
        )
        return response

    async def call(
        self,
        command: int,
        payload: bytes = b"",
        *,
        timeout: float | None = None,
        match: Match | None = None,
    ) -> bytes:
        """Send one command; its data on success, AuthError or CommandRejectedError otherwise."""
        return check(await self.send(command, payload, timeout=timeout, match=match))

    def _status_match(self) -> Match:
        """The answer to 0x14, not a pushed log-record frame with the same echo (spec §1.4)."""
        base = reply_matcher(Command.SEARCH_BICYCLE_STATUS, self.key)

        def match(message: bytes) -> bool:
            if not base(message):
                return False
            try:
                response = self.decode(message)
            except LockError:
                return True  # let the request report it
            return not (response.ok and len(response.data) >= _PUSH_LEN)

        return match

    async def query_status(self) -> StatusResponse:
        """0x14: battery and bolt, no authentication (spec §5.5.6)."""
        data = await self.call(
            Command.SEARCH_BICYCLE_STATUS, build_status_request(), match=self._status_match()
        )
        status = parse_status_response(data)
        assert isinstance(status, StatusResponse)  # _status_match refuses the long shape
        return status

    async def connect(self) -> None:
        """Bring the link up; a new connection starts without a login (see _dropped)."""
        await self.link.connect()

    async def challenge(self) -> int:
        """CHECK_ADMIN: a fresh psFromLock for unlock/lock or the login (spec §5.3, §5.5.2)."""
        if self.admin is None:
            raise AuthError(KEYS_REJECTED)
        request = build_check_admin_request(
            self.admin.admin_ps, lock_flag_pos=self.lock_flag_pos, uid=self.uid
        )
        return parse_ps_from_lock(await self.call(Command.CHECK_ADMIN, request))

    async def login(self) -> None:
        """CHECK_ADMIN + CHECK_RANDOM once per connection (spec §5.3)."""
        await self.connect()
        if self.logged_in:
            return
        ps_from_lock = await self.challenge()
        assert self.admin is not None
        await self.call(
            Command.CHECK_RANDOM, build_check_random_request(ps_from_lock, self.admin.unlock_key)
        )
        self.logged_in = True
        _LOGGER.debug("%s: admin session open", self.name)

    async def disconnect(self) -> None:
        """Drop the link now; the next request reconnects and logs in again."""
        await self.link.disconnect()  # the link reports the end to _dropped

    async def close(self) -> None:
        """Drop the link for good; never raises."""
        self.logged_in = False
        try:
            await self.link.close()
        except LockError as exc:
            _LOGGER.debug("%s: closing the link failed: %s", self.name, exc.message)

    async def _prepare(self, admin: bool) -> None:
        if admin:
            await self.login()
        else:
            await self.connect()

    async def run(
        self, op: Callable[[], Awaitable[T]], *, admin: bool = True, attempts: int = ATTEMPTS
    ) -> T:
        """Run an idempotent operation, logging in first; retry transient failures (bounded)."""
        for attempt in range(1, attempts + 1):
            try:
                await self._prepare(admin)
                return await op()
            except TRANSIENT as exc:
                if attempt >= attempts:
                    raise
                _LOGGER.debug("%s: %s, retrying on a new connection", self.name, type(exc).__name__)
                # A fresh connection also discards any late answer to the failed request.
                await self.disconnect()
            except CommandRejectedError as exc:
                # The lock forgot the session (spec §5.3): the command did not run; log in again.
                if exc.lock_code != ErrorCode.NOT_LOGGED_IN or attempt >= attempts:
                    raise
                self.logged_in = False
        raise AssertionError("unreachable")

    async def run_checked(
        self,
        op: Callable[[], Awaitable[T]],
        took_effect: Callable[[], Awaitable[T | None]],
        *,
        admin: bool = True,
        attempts: int = ATTEMPTS,
    ) -> T:
        """Run a non-idempotent operation; after an unclear outcome, check before re-sending."""
        for attempt in range(1, attempts + 1):
            try:
                await self._prepare(admin)
                return await op()
            except TRANSIENT as exc:
                _LOGGER.debug(
                    "%s: %s with an unknown outcome; checking the lock before anything else",
                    self.name,
                    type(exc).__name__,
                )
                await self.disconnect()
                found = await self.run(took_effect, admin=admin)
                if found is not None:
                    _LOGGER.debug("%s: the command had taken effect", self.name)
                    return found
                if attempt >= attempts:
                    raise
            except CommandRejectedError as exc:
                if exc.lock_code != ErrorCode.NOT_LOGGED_IN or attempt >= attempts:
                    raise
                self.logged_in = False
        raise AssertionError("unreachable")
