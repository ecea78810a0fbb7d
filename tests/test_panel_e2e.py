"""The panel through a fake HA ingress, served by `python -m ttlock_nuki_addon --dev` on the
simulated world: what the ingress sees (prefix, 403 without --dev, page weight, language).

The lock scenarios are in test_panel_e2e_ttlock.py and test_panel_e2e_nuki.py; all three
modules share one rig (panel_rig.py), each opens its own browser. Screenshots go to
artifacts/panel/.
"""

from __future__ import annotations

import re
import socket
import urllib.error
import urllib.request

import pytest
from panel_pages import open_panel, sel, shot
from panel_rig import (  # noqa: F401 (fixtures)
    PanelRig,
    explained,
    found_fixture,
    no_task_errors_fixture,
    panel_world_fixture,
    rig_fixture,
    start_addon,
    stop_addon,
)
from playwright.sync_api import Response, expect

pytestmark = pytest.mark.timeout(300)
SIZE_LIMIT = 150_000  # bytes, the "under 150 KB in total"


@explained
def test_01_the_panel_is_served_under_the_ingress_prefix_only(rig: PanelRig) -> None:
    with urllib.request.urlopen(rig.url, timeout=15) as response:
        assert response.status == 200
        page = response.read().decode()
    assert '<base href="/api/hassio_ingress/abc123/"' in page
    for path in ("/", "/api/hassio_ingress/other/", "/api/hassio_ingress/abc123"):
        assert rig.proxy is not None
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(f"http://127.0.0.1:{rig.proxy.port}{path}", timeout=15)
        assert refused.value.code == 404, path


def _get(port: int, path: str, source: str) -> int:
    """The HTTP status of GET http://127.0.0.1:port/path sent from the address `source`."""
    with socket.create_connection(("127.0.0.1", port), 15, (source, 0)) as sock:
        request = f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n"
        sock.sendall(request.encode())
        head = b""
        while b"\r\n" not in head:
            chunk = sock.recv(4096)
            if not chunk:
                break
            head += chunk
    match = re.match(rb"HTTP/1\.[01] (\d{3})", head)
    assert match, head[:200]
    return int(match[1])


@explained
def test_02_without_dev_only_the_supervisor_may_ask(rig: PanelRig) -> None:
    addon, port = start_addon(rig.base, rig.sim.bus_address, dev=False, name="addon-nodev")
    try:
        for path in ("/", "/api/ws", "/static/app.js"):
            assert _get(port, path, "127.0.0.2") == 403, path
            assert _get(port, path, "127.0.0.1") == 403, path
        assert rig.addon is not None and rig.addon_port
        assert _get(rig.addon_port, "/", "127.0.0.1") == 200  # --dev lets loopback in
    finally:
        code = stop_addon(addon)
    assert code == 0, addon.output()[-3000:]


@explained
def test_03_the_page_weighs_under_150_kb(rig: PanelRig, request: pytest.FixtureRequest) -> None:
    context = rig.new_context()
    try:
        page = rig.new_page(context)
        cdp = context.new_cdp_session(page)
        cdp.send("Network.enable")
        cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
        encoded: dict[str, float] = {}
        cdp.on(
            "Network.loadingFinished",
            lambda event: encoded.__setitem__(event["requestId"], event["encodedDataLength"]),
        )
        responses: list[Response] = []
        # A lambda: Playwright sets an attribute on the handler, which a bound builtin refuses.
        page.on("response", lambda response: responses.append(response))  # noqa: PLW0108
        page.goto(rig.url, wait_until="networkidle")
        expect(page.locator(sel("conn"))).to_have_attribute("data-state", "open")
        page.wait_for_load_state("networkidle")
        shot(page, request, "1-loaded")
        bodies = 0
        for response in responses:
            assert response.url.startswith(rig.url), f"not under the ingress: {response.url}"
            if response.status != 101:
                bodies += len(response.body())
        wire = int(sum(encoded.values()))
    finally:
        context.close()
    print(f"page transfer: {bodies} bytes of bodies, {wire} bytes on the wire")  # noqa: T201
    assert bodies < SIZE_LIMIT, bodies
    assert wire < SIZE_LIMIT, wire


@explained
def test_04_german_browsers_get_german(rig: PanelRig, request: pytest.FixtureRequest) -> None:
    english = open_panel(rig).locator(sel("nav-locks")).inner_text().strip()
    context = rig.new_context(locale="de-DE")
    try:
        page = rig.new_page(context)
        page.goto(rig.url)
        expect(page.locator(sel("conn"))).to_have_attribute("data-state", "open")
        german = page.locator(sel("nav-locks")).inner_text().strip()
        shot(page, request, "1-de")
    finally:
        context.close()
    assert german and german != english, (english, german)
