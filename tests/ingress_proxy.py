"""A fake Home Assistant ingress: `/api/hassio_ingress/<token>/<tail>` -> the add-on's `/<tail>`.

It behaves like HA core and the Supervisor together (ha-addon.md section 2): the Host and Origin
headers pass through unchanged, hop-by-hop headers are dropped, `X-Ingress-Path`,
`X-Hass-Source` and `X-Forwarded-*` are added, client-sent `X-Remote-User-*` headers are
stripped and the configured user's are set. Bodies are relayed as they are (no decompression).
Websockets are proxied both ways: text, binary, ping/pong and the close code. Any other path
is 404.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from types import TracebackType

import aiohttp
from aiohttp import WSMsgType, hdrs, web
from multidict import CIMultiDict, istr
from yarl import URL

TOKEN = "abc123"
HOST = "127.0.0.1"
MAX_WS_MESSAGE = 16 * 1024 * 1024  # the Supervisor's websocket cap
REMOTE_USER_HEADERS = (
    istr("X-Remote-User-Id"),
    istr("X-Remote-User-Name"),
    istr("X-Remote-User-Display-Name"),
)
HOP_BY_HOP = frozenset(
    istr(name)
    for name in (
        "Connection",
        "Keep-Alive",
        "Proxy-Authenticate",
        "Proxy-Authorization",
        "Proxy-Connection",
        "TE",
        "Trailer",
        "Transfer-Encoding",
        "Upgrade",
    )
)
_REQUEST_DROP = HOP_BY_HOP | {
    hdrs.CONTENT_LENGTH,
    hdrs.SEC_WEBSOCKET_EXTENSIONS,
    hdrs.SEC_WEBSOCKET_PROTOCOL,
    hdrs.SEC_WEBSOCKET_VERSION,
    hdrs.SEC_WEBSOCKET_KEY,
    *REMOTE_USER_HEADERS,
}
_RESPONSE_DROP = HOP_BY_HOP | {hdrs.CONTENT_LENGTH}
_UNSENDABLE_CLOSE = frozenset({1004, 1005, 1006, 1015})  # reserved: never on the wire


@dataclass(frozen=True, slots=True)
class RemoteUser:
    """The Home Assistant user the Supervisor names in `X-Remote-User-*`."""

    id: str
    name: str
    display_name: str


DEFAULT_USER = RemoteUser("0a1b2c3d4e5f", "alice", "Alice Admin")


def _close_code(code: int | None) -> int:
    """A close code that may be sent on: reserved or missing ones become 1000."""
    if code is None or code in _UNSENDABLE_CLOSE or not 1000 <= code <= 4999:
        return 1000
    return code


class IngressProxy:
    """Serve the fake ingress on 127.0.0.1 (port 0 = any free one) in front of an add-on port."""

    def __init__(
        self,
        target_port: int,
        *,
        token: str = TOKEN,
        user: RemoteUser | None = DEFAULT_USER,
        port: int = 0,
    ) -> None:
        self.target_port = target_port
        self.token = token
        self.user = user  # may be changed between requests
        self.port = port
        self.prefix = f"/api/hassio_ingress/{token}"
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None
        self._sockets: set[web.WebSocketResponse] = set()

    @property
    def url(self) -> str:
        """The panel's address through the proxy, with a trailing slash."""
        return f"http://{HOST}:{self.port}{self.prefix}/"

    async def start(self) -> int:
        """Bind and serve; returns the bound port."""
        self._session = aiohttp.ClientSession(
            auto_decompress=False, timeout=aiohttp.ClientTimeout(total=None, sock_connect=10)
        )
        app = web.Application(client_max_size=MAX_WS_MESSAGE)
        app.router.add_route("*", "/api/hassio_ingress/{token}/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=2.0)
        await self._runner.setup()
        await web.TCPSite(self._runner, HOST, self.port).start()
        self.port = int(self._runner.addresses[0][1])
        return self.port

    async def stop(self) -> None:
        """Close open websockets, stop serving, close the client session."""
        for ws in list(self._sockets):
            with contextlib.suppress(Exception):
                await ws.close(code=1001, message=b"ingress stopping")
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()
        session, self._session = self._session, None
        if session is not None:
            await session.close()

    async def __aenter__(self) -> IngressProxy:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    # --- forwarding --------------------------------------------------------------------------

    def _target(self, request: web.Request) -> URL:
        """The add-on URL: the raw (still encoded) tail and query after the prefix."""
        tail = request.raw_path[len(self.prefix) + 1 :]
        return URL(f"http://{HOST}:{self.target_port}/{tail}", encoded=True)

    def _headers(self, request: web.Request) -> CIMultiDict[str]:
        """The request's headers as the add-on gets them from the Supervisor."""
        headers: CIMultiDict[str] = CIMultiDict(
            (name, value) for name, value in request.headers.items() if name not in _REQUEST_DROP
        )
        peer = request.remote or HOST
        forwarded_for = request.headers.get(hdrs.X_FORWARDED_FOR)
        headers[hdrs.X_FORWARDED_FOR] = f"{forwarded_for}, {peer}" if forwarded_for else peer
        headers[hdrs.X_FORWARDED_HOST] = request.headers.get(hdrs.X_FORWARDED_HOST, request.host)
        headers[hdrs.X_FORWARDED_PROTO] = request.headers.get(hdrs.X_FORWARDED_PROTO, "http")
        headers["X-Hass-Source"] = "core.ingress"
        headers["X-Ingress-Path"] = self.prefix
        if self.user is not None:
            headers["X-Remote-User-Id"] = self.user.id
            headers["X-Remote-User-Name"] = self.user.name
            headers["X-Remote-User-Display-Name"] = self.user.display_name
        return headers

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        if request.match_info["token"] != self.token:
            raise web.HTTPNotFound()
        connection = request.headers.get(hdrs.CONNECTION, "").lower()
        upgrade = request.headers.get(hdrs.UPGRADE, "").lower()
        try:
            if "upgrade" in connection and upgrade == "websocket":
                return await self._websocket(request)
            return await self._plain(request)
        except aiohttp.ClientError as exc:
            raise web.HTTPBadGateway(text=f"ingress: the add-on did not answer ({exc})") from exc

    async def _plain(self, request: web.Request) -> web.Response:
        assert self._session is not None
        body = await request.read() if request.body_exists else None
        async with self._session.request(
            request.method,
            self._target(request),
            headers=self._headers(request),
            data=body,
            allow_redirects=False,
            skip_auto_headers={hdrs.CONTENT_TYPE},
        ) as upstream:
            payload = await upstream.read()
            headers: CIMultiDict[str] = CIMultiDict(
                (name, value)
                for name, value in upstream.headers.items()
                if name not in _RESPONSE_DROP
            )
            return web.Response(status=upstream.status, headers=headers, body=payload)

    async def _websocket(self, request: web.Request) -> web.StreamResponse:
        assert self._session is not None
        offered = request.headers.get(hdrs.SEC_WEBSOCKET_PROTOCOL, "")
        protocols = tuple(p.strip() for p in offered.split(",") if p.strip())
        try:
            upstream = await self._session.ws_connect(
                self._target(request),
                headers=self._headers(request),
                protocols=protocols,
                autoclose=False,
                autoping=False,
                max_msg_size=MAX_WS_MESSAGE,
            )
        except aiohttp.WSServerHandshakeError as exc:
            # The add-on refused the handshake (403, 404, ...): the browser sees that status.
            return web.Response(status=exc.status, text=f"ingress: the add-on said {exc.status}")
        browser = web.WebSocketResponse(
            protocols=protocols, autoclose=False, autoping=False, max_msg_size=MAX_WS_MESSAGE
        )
        self._sockets.add(browser)
        try:
            await browser.prepare(request)
            pumps = [
                asyncio.create_task(_pump(browser, upstream), name="ingress ws up"),
                asyncio.create_task(_pump(upstream, browser), name="ingress ws down"),
            ]
            try:
                await asyncio.wait(pumps, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for pump in pumps:
                    pump.cancel()
                await asyncio.gather(*pumps, return_exceptions=True)
        finally:
            self._sockets.discard(browser)
            await upstream.close()
            await browser.close()
        return browser


async def _pump(
    source: web.WebSocketResponse | aiohttp.ClientWebSocketResponse,
    sink: web.WebSocketResponse | aiohttp.ClientWebSocketResponse,
) -> None:
    """Relay messages from `source` to `sink` until `source` closes; then close `sink` alike."""
    code: int | None = None
    reason = b""
    while True:
        message = await source.receive()
        kind = message.type
        if kind is WSMsgType.TEXT:
            await sink.send_str(message.data)
        elif kind is WSMsgType.BINARY:
            await sink.send_bytes(message.data)
        elif kind is WSMsgType.PING:
            await sink.ping(message.data)
        elif kind is WSMsgType.PONG:
            await sink.pong(message.data)
        elif kind is WSMsgType.CLOSE:
            code, reason = message.data, (message.extra or "").encode()
            break
        else:  # CLOSING, CLOSED, ERROR: the source is gone without a close frame for us
            code = source.close_code
            break
    with contextlib.suppress(Exception):
        await sink.close(code=_close_code(code), message=reason)
    with contextlib.suppress(Exception):
        await source.close(code=_close_code(code))
