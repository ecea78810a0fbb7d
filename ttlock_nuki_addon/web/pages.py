"""The page, its static files and the health check, with the headers each needs."""

from __future__ import annotations

import hashlib
import logging
import mimetypes
import re
from pathlib import Path

import aiohttp_jinja2
from aiohttp import hdrs, web

from .context import PANEL, HaUser

_LOGGER = logging.getLogger(__name__)
_INGRESS_PATH = re.compile(r"(/[A-Za-z0-9._~-]+)*")
CSP = (
    "default-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data:; "
    "style-src 'self'; script-src 'self'; frame-ancestors 'self'"
)
_TYPES = {
    ".js": "text/javascript",
    ".mjs": "text/javascript",
    ".css": "text/css",
    ".svg": "image/svg+xml",
    ".json": "application/json",
    ".html": "text/html",
    ".txt": "text/plain",
    ".png": "image/png",
    ".ico": "image/x-icon",
    ".woff2": "font/woff2",
}
_COMPRESSIBLE = frozenset({".js", ".mjs", ".css", ".svg", ".json", ".html", ".txt"})
CACHED = "public, max-age=86400"
_MISSING = "The panel's files are missing from this installation; reinstall the add-on."


def ingress_base(value: str | None) -> str:
    """The X-Ingress-Path if it is a plain path (no '.' or '..' segments), else ''."""
    if not value or not _INGRESS_PATH.fullmatch(value):
        return ""
    if any(part in (".", "..") for part in value.split("/")):
        return ""
    return value


def language(accept: str | None) -> str:
    """'de' if the browser's most preferred language is German, else 'en'."""
    best, best_q = "", 0.0
    for item in (accept or "").split(",")[:32]:
        tag, _, rest = item.strip().partition(";")
        quality = 1.0
        for param in rest.split(";"):
            name, _, value = param.strip().partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if tag and quality > best_q:
            best, best_q = tag.strip().lower(), quality
    return "de" if best.split("-")[0] == "de" else "en"


class Assets:
    """The static files' version: a short hash of their names and contents, kept current."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._seen: tuple[tuple[str, int, int], ...] | None = None
        self._version = ""

    def version(self) -> str:
        """The current version; re-hashed only when a file's size or time changed."""
        files = sorted(p for p in self.root.rglob("*") if p.is_file()) if self.root.is_dir() else []
        seen = tuple((str(p), p.stat().st_size, p.stat().st_mtime_ns) for p in files)
        if seen != self._seen:
            digest = hashlib.sha256()
            for path in files:
                digest.update(path.relative_to(self.root).as_posix().encode() + b"\0")
                digest.update(path.read_bytes())
            self._seen, self._version = seen, digest.hexdigest()[:12]
        return self._version

    def find(self, tail: str) -> Path | None:
        """The file `tail` names inside the static root; None for anything else."""
        parts = tail.split("/")
        if not tail or any(not p or p.startswith(".") or "\\" in p or "\0" in p for p in parts):
            return None
        root = self.root.resolve()
        try:
            path = root.joinpath(*parts).resolve()
        except (OSError, ValueError):
            return None
        return path if path.is_relative_to(root) and path.is_file() else None


ASSETS = web.AppKey("assets", Assets)


async def index(request: web.Request) -> web.StreamResponse:
    """GET /: the page, rendered for this ingress prefix, language and user."""
    panel = request.app[PANEL]
    if not (panel.web_root / "templates" / "index.html").is_file():
        _LOGGER.error("The panel's page template is missing under %s", panel.web_root)
        return web.Response(status=503, text=_MISSING)
    user = HaUser.from_headers(request.headers)
    context = {
        "base": ingress_base(request.headers.get("X-Ingress-Path")),
        "version": panel.version,
        "lang": language(request.headers.get(hdrs.ACCEPT_LANGUAGE)),
        "user": None if user is None else user.label,
        "asset_version": request.app[ASSETS].version(),
    }
    response = aiohttp_jinja2.render_template("index.html", request, context)
    response.headers[hdrs.CACHE_CONTROL] = "no-store"
    response.headers[hdrs.CONTENT_SECURITY_POLICY] = CSP
    return response


async def static(request: web.Request) -> web.StreamResponse:
    """GET /static/{path}: a file from web/static, cached long when asked by its version."""
    assets = request.app[ASSETS]
    path = assets.find(request.match_info.get("path", ""))
    if path is None:
        raise web.HTTPNotFound(text="No such file.")
    suffix = path.suffix.lower()
    kind = _TYPES.get(suffix) or mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    textual = kind.startswith("text/") or kind in ("application/json", "image/svg+xml")
    response = web.Response(
        body=path.read_bytes(), content_type=kind, charset="utf-8" if textual else None
    )
    versioned = request.query.get("v") == assets.version()
    response.headers[hdrs.CACHE_CONTROL] = CACHED if versioned else "no-cache"
    if suffix in _COMPRESSIBLE:
        response.enable_compression()
    return response


async def health(request: web.Request) -> web.StreamResponse:
    """GET /health: for the Supervisor's watchdog."""
    manager = request.app[PANEL].manager
    status = {"status": "ok", "locks": len(manager.locks()), "scanning": manager.scanning}
    return web.json_response(status, headers={hdrs.CACHE_CONTROL: "no-store"})
