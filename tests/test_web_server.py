"""The panel's HTTP side: who may connect, the page, static files, /health, start and stop."""

from __future__ import annotations

import asyncio
import logging
import re
import socket
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import aiohttp
import pytest
from manager_rig import wait_for
from support import LogCollector
from web_rig import APP_JS, VERSION, PanelRig, panel_rig
from yarl import URL

from ttlock_nuki_addon.sim.world import SimWorld
from ttlock_nuki_addon.web import WebPanel
from ttlock_nuki_addon.web.guard import allowed
from ttlock_nuki_addon.web.pages import CSP, ingress_base, language

pytestmark = pytest.mark.timeout(60)
INGRESS = "/api/hassio_ingress/abc123"


@pytest.fixture
async def web(sim_world: SimWorld, tmp_path: Path) -> AsyncIterator[PanelRig]:
    """A rig whose panel each test starts itself (dev or not)."""
    async with panel_rig(sim_world, tmp_path) as rig:
        yield rig


@pytest.fixture
def logs() -> Iterator[LogCollector]:
    collector = LogCollector()
    logger = logging.getLogger("ttlock_nuki_addon.web")
    logger.addHandler(collector)
    old = logger.level
    logger.setLevel(logging.DEBUG)
    try:
        yield collector
    finally:
        logger.removeHandler(collector)
        logger.setLevel(old)


async def status_and_text(
    session: aiohttp.ClientSession, url: str, **kw: object
) -> tuple[int, str]:
    async with session.get(url, **kw) as response:  # type: ignore[arg-type]
        return response.status, await response.text()


async def test_the_panel_logs_where_it_listens(web: PanelRig, logs: LogCollector) -> None:
    panel = await web.start()
    assert panel.port is not None and panel.port > 0
    assert f"Panel listening on http://127.0.0.1:{panel.port}/" in logs.lines
    status, text = await status_and_text(web.session(), f"{web.url}/")
    assert status == 200 and f'data-version="{VERSION}"' in text


async def test_without_dev_only_the_ingress_proxy_is_served(web: PanelRig) -> None:
    await web.start(dev=False)
    other, loopback = web.session("127.0.0.2"), web.session("127.0.0.1")
    for path in ("/", "/static/app.js", "/api/ws", "/health"):
        status, text = await status_and_text(other, web.url + path)
        assert status == 403, path
        assert text.startswith("Open this panel from Home Assistant"), text
    for path in ("/", "/static/app.js", "/api/ws"):
        assert (await status_and_text(loopback, web.url + path))[0] == 403, path
    spoofed = {"X-Forwarded-For": "172.30.32.2", "X-Real-IP": "172.30.32.2"}
    assert (await status_and_text(loopback, f"{web.url}/", headers=spoofed))[0] == 403
    # The Supervisor's watchdog may probe from the host side: /health answers loopback.
    assert (await status_and_text(loopback, f"{web.url}/health"))[0] == 200


async def test_dev_mode_serves_loopback_but_not_other_addresses(web: PanelRig) -> None:
    await web.start(dev=True)
    assert (await status_and_text(web.session("127.0.0.1"), f"{web.url}/"))[0] == 200
    assert (await status_and_text(web.session("127.0.0.2"), f"{web.url}/"))[0] == 403


@pytest.mark.parametrize(
    ("remote", "path", "dev", "expected"),
    [
        ("172.30.32.2", "/", False, True),
        ("::ffff:172.30.32.2", "/api/ws", False, True),
        ("172.30.32.3", "/", False, False),
        ("172.30.32.1", "/health", False, False),
        ("127.0.0.1", "/", False, False),
        ("127.0.0.1", "/health", False, True),
        ("::1", "/health", False, True),
        ("127.0.0.1", "/", True, True),
        ("::1", "/", True, True),
        ("::ffff:127.0.0.1", "/", True, True),
        ("127.0.0.2", "/", True, False),
        ("127.0.0.2", "/health", True, False),
        ("10.0.0.1", "/", True, False),
        (None, "/", True, False),
        ("", "/", True, False),
        ("not an address", "/", True, False),
    ],
)
def test_who_is_allowed(remote: str | None, path: str, dev: bool, expected: bool) -> None:
    assert allowed(remote, path, dev=dev) is expected


@pytest.mark.parametrize(
    ("header", "base"),
    [
        (INGRESS, INGRESS),
        ("/a/b-c_d.e~f", "/a/b-c_d.e~f"),
        ("", ""),
        ("/", ""),
        ("api/hassio_ingress/x", ""),
        ("//evil.example", ""),
        ('/x"><script>alert(1)</script>', ""),
        ("/a/../b", ""),
        ("/a/./b", ""),
        ("/a b", ""),
        ("/a/", ""),
        ("/a?b", ""),
        ("/ä", ""),
    ],
)
def test_ingress_base(header: str, base: str) -> None:
    assert ingress_base(header) == base


async def test_base_href_follows_the_ingress_path(web: PanelRig) -> None:
    await web.start()
    session = web.session()
    _, text = await status_and_text(session, f"{web.url}/", headers={"X-Ingress-Path": INGRESS})
    assert f'<base href="{INGRESS}/">' in text
    evil = {"X-Ingress-Path": '//evil.example/"><script>'}
    _, text = await status_and_text(session, f"{web.url}/", headers=evil)
    assert '<base href="/">' in text and "evil" not in text
    _, text = await status_and_text(session, f"{web.url}/")
    assert '<base href="/">' in text


@pytest.mark.parametrize(
    ("accept", "lang"),
    [
        ("de-DE,de;q=0.9,en;q=0.8", "de"),
        ("de", "de"),
        ("DE-at", "de"),
        ("en-US,de;q=0.9", "en"),
        ("fr;q=0.5, de;q=0.9", "de"),
        ("de;q=0, en;q=0.1", "en"),
        ("*", "en"),
        ("", "en"),
        (None, "en"),
        ("de;q=abc, nl", "en"),
    ],
)
def test_language(accept: str | None, lang: str) -> None:
    assert language(accept) == lang


async def test_the_page_has_strict_headers_language_user_and_asset_version(web: PanelRig) -> None:
    await web.start()
    headers = {"Accept-Language": "de-DE,de;q=0.9", "X-Remote-User-Display-Name": "Alice <A>"}
    async with web.session().get(f"{web.url}/", headers=headers) as response:
        text = await response.text()
        assert response.status == 200
        assert response.content_type == "text/html"
        assert response.headers["Cache-Control"] == "no-store"
        assert response.headers["Content-Security-Policy"] == CSP
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Referrer-Policy"] == "same-origin"
    assert 'lang="de"' in text
    assert 'data-user="Alice &lt;A&gt;"' in text  # autoescaped
    match = re.search(r'static/app\.js\?v=([0-9a-f]+)"', text)
    assert match is not None and len(match[1]) >= 8
    async with web.session().get(f"{web.url}/static/app.js?v={match[1]}") as response:
        assert response.headers["Cache-Control"] == "public, max-age=86400"


async def test_static_files_types_caching_and_gzip(web: PanelRig) -> None:
    await web.start()
    session = web.session()
    async with session.get(f"{web.url}/static/app.js") as response:
        assert response.status == 200
        assert response.content_type == "text/javascript"
        assert response.headers["Cache-Control"] == "no-cache"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert await response.text() == APP_JS
    async with session.get(f"{web.url}/static/app.js?v=stale") as response:
        assert response.headers["Cache-Control"] == "no-cache"
    for path, kind in (
        ("app.css", "text/css"),
        ("views/icon.svg", "image/svg+xml"),
        ("strings.json", "application/json"),
    ):
        async with session.get(f"{web.url}/static/{path}") as response:
            assert (response.status, response.content_type) == (200, kind), path
    zipped = {"Accept-Encoding": "gzip"}
    async with session.get(f"{web.url}/static/app.js", headers=zipped) as response:
        assert response.headers["Content-Encoding"] == "gzip"
        assert int(response.headers["Content-Length"]) < len(APP_JS) / 4
        assert await response.text() == APP_JS  # aiohttp unpacks it
    plain = {"Accept-Encoding": "identity"}
    async with session.get(f"{web.url}/static/app.js", headers=plain) as response:
        assert "Content-Encoding" not in response.headers


OUTSIDE = [
    "/static/../secret.txt",
    "/static/..%2Fsecret.txt",
    "/static/%2e%2e/secret.txt",
    "/static/%2e%2e%2fsecret.txt",
    "/static/views/../../secret.txt",
    "/static/views/..%2f..%2fsecret.txt",
    "/static/..%5csecret.txt",
    "/static//etc/passwd",
    "/static/%2fetc%2fpasswd",
    "/static/.hidden",
    "/static/",
    "/static/views",
    "/static/views/",
    "/static/missing.js",
    "/static/app.js%00.png",
    "/static/../templates/index.html",
    "/static/views/%2e%2e/%2e%2e/templates/index.html",
]


async def test_static_refuses_anything_outside_its_files(web: PanelRig) -> None:
    await web.start()
    session = web.session()
    for raw in OUTSIDE:
        async with session.get(URL(web.url + raw, encoded=True)) as response:
            body = await response.text()
            assert response.status in (403, 404), (raw, response.status)
            assert "outside the static root" not in body and "not for the browser" not in body
            assert "<base href" not in body and "root:" not in body, raw


async def test_static_refuses_dot_segments_sent_verbatim(web: PanelRig) -> None:
    await web.start()
    assert web.panel is not None and web.panel.port is not None
    for raw in ("/static/../secret.txt", "/static/views/../../secret.txt", "/static/%2e%2e/x"):
        reader, writer = await asyncio.open_connection("127.0.0.1", web.panel.port)
        writer.write(f"GET {raw} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
        answer = await asyncio.wait_for(reader.read(), 10)
        writer.close()
        await writer.wait_closed()
        assert answer.startswith(b"HTTP/1.1 404"), (raw, answer[:40])
        assert b"outside the static root" not in answer


async def test_a_symlink_out_of_the_static_root_is_refused(web: PanelRig) -> None:
    (web.web_root / "static" / "link.txt").symlink_to(web.web_root / "secret.txt")
    await web.start()
    async with web.session().get(f"{web.url}/static/link.txt") as response:
        assert response.status == 404


async def test_health(web: PanelRig) -> None:
    await web.start()
    manager = web.manager
    assert manager is not None
    await wait_for(lambda: manager.scanning)
    async with web.session().get(f"{web.url}/health") as response:
        assert response.status == 200
        assert await response.json() == {"status": "ok", "locks": 0, "scanning": True}


async def test_a_missing_template_is_a_clear_503(web: PanelRig, logs: LogCollector) -> None:
    (web.web_root / "templates" / "index.html").unlink()
    await web.start()
    status, text = await status_and_text(web.session(), f"{web.url}/")
    assert status == 503 and "reinstall the add-on" in text
    assert any("template is missing" in line for line in logs.lines)


async def test_a_busy_port_is_logged_and_not_fatal(web: PanelRig, logs: LogCollector) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        manager = web.manager = await web.rig.start()
        panel = WebPanel(manager, port=port, dev=True, version=VERSION, host="127.0.0.1")
        panel.start()
        assert await asyncio.wait_for(panel.started(), 10) is False
        assert panel.port is None
        await panel.stop()
    assert any(f"cannot listen on port {port}" in line for line in logs.lines), logs.lines
    assert not any("Traceback" in line for line in logs.lines)


async def test_stop_closes_websockets_going_away_within_two_seconds(web: PanelRig) -> None:
    panel = await web.start()
    port = panel.port
    clients = [await web.connect() for _ in range(3)]
    started = time.monotonic()
    await panel.stop()
    assert time.monotonic() - started < 2.0
    for client in clients:
        await asyncio.wait_for(client._reader, 5)  # type: ignore[arg-type]
        assert client.ws.close_code == 1001
    web.panel = None
    with pytest.raises(aiohttp.ClientConnectionError):
        async with web.session().get(f"http://127.0.0.1:{port}/health"):
            pass


async def test_a_malformed_request_is_one_debug_line_not_an_error_with_its_bytes(
    web: PanelRig, logs: LogCollector
) -> None:
    server_records = LogCollector()
    server_logger = logging.getLogger("aiohttp.server")
    server_logger.addHandler(server_records)
    try:
        await web.start(dev=True)
        host, port = web.url.removeprefix("http://").rstrip("/").split(":")
        reader, writer = await asyncio.open_connection(host, int(port))
        writer.write(b"GET / HTTP/1.1\r\nHost: x\r\nCookie: " + b"s3cret" * 3000 + b"\r\n\r\n")
        await writer.drain()
        reply = await asyncio.wait_for(reader.read(200), 10)
        writer.close()
        assert re.match(rb"HTTP/1\.[01] 4\d\d ", reply), reply[:40]
        assert server_records.lines == []
        assert any("malformed HTTP request" in line for line in logs.lines)
        assert not any("s3cret" in line for line in logs.lines)
    finally:
        server_logger.removeHandler(server_records)
