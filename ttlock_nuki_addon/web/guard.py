"""Who may talk to the panel: the Supervisor's ingress proxy only (plus loopback in dev mode).

The Supervisor proxies every ingress request from 172.30.32.2 and strips client copies of the
X-Remote-User-* headers, which is why those headers are trusted at all. X-Forwarded-For is never
looked at. /health also answers loopback, because the Supervisor's watchdog may probe the add-on
from the host side; it tells nothing but a lock count. A websocket upgrade whose Origin names
another host than the one the browser used is refused (cross-site websocket hijacking).
No route reads a request body, so one that is chunked or over the websocket message limit is
refused (413) before any handler runs, and so is a request line plus headers over 16 KiB (431):
aiohttp alone bounds only each line (8 KiB) and the count (128), which lets 1 MiB through.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from ipaddress import IPv4Address, IPv6Address, ip_address
from urllib.parse import urlsplit

from aiohttp import hdrs, web
from aiohttp.http_exceptions import BadHttpMessage
from aiohttp.typedefs import Middleware

_LOGGER = logging.getLogger(__name__)
SUPERVISOR = IPv4Address("172.30.32.2")
LOOPBACK = frozenset({IPv4Address("127.0.0.1"), IPv6Address("::1")})
HEALTH_PATH = "/health"
FORBIDDEN = "Open this panel from Home Assistant; direct access to the add-on is not allowed."
FORBIDDEN_ORIGIN = (
    "This page's origin does not match the add-on; open the panel from Home Assistant."
)
MAX_HEAD = 16 * 1024  # request line + headers; a browser's, cookies included, is a few KiB
TOO_LARGE = "This request is too large for the panel."
_DEFAULT_PORTS = {"http": 80, "https": 443}
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def peer_address(remote: str | None) -> IPv4Address | IPv6Address | None:
    """The client's IP address (IPv4-mapped IPv6 unwrapped), or None if there is none."""
    if not remote:
        return None
    try:
        address = ip_address(remote.split("%")[0])
    except ValueError:
        return None
    if isinstance(address, IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def allowed(remote: str | None, path: str, *, dev: bool) -> bool:
    """Whether a request from `remote` for `path` may be served."""
    peer = peer_address(remote)
    if peer == SUPERVISOR:
        return True
    return peer in LOOPBACK and (dev or path == HEALTH_PATH)


def oversized(request: web.BaseRequest, max_body: int) -> int | None:
    """431 for a head over MAX_HEAD, 413 for a chunked body or one over `max_body`; else None."""
    head = len(request.raw_path) + sum(
        len(name) + len(value) + 4 for name, value in request.raw_headers
    )
    if head > MAX_HEAD:
        return 431
    length = request.content_length
    if (length is None and request.body_exists) or (length is not None and length > max_body):
        return 413
    return None


def make_guard(*, dev: bool, max_body: int) -> Middleware:
    """Middleware: 403 for every client the panel does not serve, 413/431 for oversized requests."""

    @web.middleware
    async def guard(request: web.Request, handler: Handler) -> web.StreamResponse:
        if not allowed(request.remote, request.path, dev=dev):
            return web.Response(status=403, text=FORBIDDEN)
        status = oversized(request, max_body)
        if status is not None:
            return web.Response(status=status, text=TOO_LARGE)
        return await handler(request)

    return guard


async def security_headers(_request: web.Request, response: web.StreamResponse) -> None:
    """on_response_prepare: headers every response carries."""
    response.headers.setdefault(hdrs.X_CONTENT_TYPE_OPTIONS, "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")


def _authority(scheme: str, netloc: str) -> tuple[str, int] | None:
    try:
        parts = urlsplit(f"{scheme}://{netloc.strip()}")
        port = parts.port or _DEFAULT_PORTS.get(scheme)
    except ValueError:
        return None
    if not parts.hostname or port is None or parts.username is not None:
        return None
    return parts.hostname.lower(), port


def origin_allowed(request: web.BaseRequest) -> bool:
    """No Origin (not a browser), or one whose host:port is the Host the browser used."""
    origin = request.headers.get(hdrs.ORIGIN)
    if origin is None:
        return True
    try:
        parts = urlsplit(origin.strip())
    except ValueError:
        return False
    if parts.scheme not in _DEFAULT_PORTS or parts.path not in ("", "/") or parts.query:
        return False
    # HA core's ingress proxy names the browser's host in X-Forwarded-Host.
    forwarded = request.headers.get(hdrs.X_FORWARDED_HOST)
    host = forwarded.split(",")[0] if forwarded else request.headers.get(hdrs.HOST)
    if not host:
        return False
    mine = _authority(parts.scheme, parts.netloc)
    return mine is not None and mine == _authority(parts.scheme, host)


class QuietBadRequests(logging.Filter):
    """aiohttp's ERROR + traceback for a malformed request becomes one debug line without bytes."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Drop the record of a client's malformed HTTP (its text may quote a cookie)."""
        failure = record.exc_info[1] if record.exc_info else None
        if isinstance(failure, BadHttpMessage):
            _LOGGER.debug("Refused a malformed HTTP request (%s)", type(failure).__name__)
            return False
        return True


def quiet_bad_requests() -> None:
    """Install QuietBadRequests on aiohttp's server logger once."""
    server_logger = logging.getLogger("aiohttp.server")
    if not any(isinstance(f, QuietBadRequests) for f in server_logger.filters):
        server_logger.addFilter(QuietBadRequests())
