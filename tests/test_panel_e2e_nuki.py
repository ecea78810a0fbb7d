"""The panel pairs a virtual Nuki 2.0 in Debian's Chromium through the fake ingress, shows its
real state right away and unlatches it; its card in German fits its labels at desktop and phone
widths.

The scenarios build on each other (numbered) and share the session's rig (panel_rig.py);
every step is photographed to artifacts/panel/.
"""

from __future__ import annotations

from typing import Any

import pytest
from app_rig import wait_until
from panel_pages import (
    SLOW,
    Watch,
    audit,
    card,
    misfits,
    need,
    open_panel,
    pair_from_scan,
    seen,
    sel,
    shot,
    start_scan,
    wait_seen,
)
from panel_rig import (  # noqa: F401 (fixtures)
    PanelRig,
    explained,
    found_fixture,
    no_task_errors_fixture,
    panel_world_fixture,
    rig_fixture,
)
from playwright.sync_api import ViewportSize, expect

pytestmark = pytest.mark.timeout(300)
NUKI_PIN = 4711
PHONE = ViewportSize(width=360, height=740)


@explained
def test_01_pair_a_virtual_nuki_and_unlatch_it(
    rig: PanelRig, found: dict[str, Any], request: pytest.FixtureRequest
) -> None:
    device = rig.sim.add_device("nuki-2", security_pin=NUKI_PIN, motor_ms=300)
    address = device["address"]
    page = open_panel(rig)
    start_scan(page)
    discovery = page.locator(f'{sel("discovery")}[data-address="{address}"]')
    expect(discovery).to_be_visible(timeout=SLOW)
    expect(discovery.locator(sel("discovery-hint"))).not_to_be_empty()
    shot(page, request, "1-not-pairable")
    rig.sim.act(address, "press_button", seconds=5)
    assert rig.sim.device(address)["pairing_mode"] is True
    lock_id = pair_from_scan(page, address, "Back door", pin=str(NUKI_PIN), pair_as="bridge")
    found.update(nuki=lock_id, nuki_address=address)

    nuki_card = card(page, lock_id)
    status = nuki_card.locator(sel("lock-status"))
    expect(status).to_have_attribute("data-status", "locked", timeout=SLOW)  # not "unknown"
    shot(page, request, "2-paired")
    watch = Watch(rig.sim, address, "lock_state")
    try:
        nuki_card.locator(sel("btn-open")).click()
        wait_seen(page, "data-status", "lock-status", "open", timeout=SLOW)
        shot(page, request, "3-open")
        wait_until(lambda: "unlatched" in watch.seen, 20, "the Nuki to unlatch")
    finally:
        states = watch.stop()
    assert "unlatched" in states, states
    assert "open" in seen(page, "data-status", "lock-status", lock_id)
    assert "true" in seen(page, "aria-busy", "btn-open", lock_id), "no pending state shown"
    expect(nuki_card.locator(sel("btn-open"))).not_to_have_attribute("aria-busy", "true")
    expect(status).to_have_attribute("data-status", "unlocked", timeout=SLOW)  # latch released
    shot(page, request, "4-latch-released")


@explained
def test_02_the_nuki_card_in_german_fits_its_labels(
    rig: PanelRig, found: dict[str, Any], request: pytest.FixtureRequest
) -> None:
    lock_id = need(found, "nuki")
    context = rig.new_context(locale="de-DE")
    try:
        page = rig.new_page(context)
        page.goto(rig.url)
        expect(page.locator(sel("conn"))).to_have_attribute("data-state", "open")
        expect(card(page, lock_id).locator(".lc-actions .btn")).to_have_count(3)
        expect(card(page, lock_id).locator(sel("btn-unlock"))).to_have_text("Entriegeln")
        shot(page, request, "1-de-1280")
        wide = misfits(page)
        page.set_viewport_size(PHONE)
        shot(page, request, "2-de-360")
        narrow = misfits(page)
        card(page, lock_id).locator(sel("btn-details")).click()
        expect(page.locator(sel("tab-activity"))).to_be_visible()
        shot(page, request, "3-de-360-detail")
        detail = misfits(page)
    finally:
        context.close()
    assert not wide, wide
    assert not narrow, narrow
    assert not detail, detail


@explained
def test_03_no_secret_in_any_frame_nor_in_the_log(rig: PanelRig, found: dict[str, Any]) -> None:
    lock_id = need(found, "nuki")
    assert rig.frames, "no websocket frame recorded"
    searched = audit(rig)
    assert len([name for name in searched if name.startswith(f"{lock_id} ")]) >= 3, searched
    print(f"{len(rig.frames)} frames searched for {len(searched)} secrets: none found")  # noqa: T201
