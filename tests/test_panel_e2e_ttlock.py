"""The panel drives a virtual TTLock in Debian's Chromium through the fake ingress: pair it,
unlock and lock it, PINs (weekly, edited to a period, deleted), a fingerprint enrolment step by
step, auto-lock, a keypad unlock in Activity, a backup round trip.

The scenarios build on each other (numbered) and share the session's rig (panel_rig.py);
every step is photographed to artifacts/panel/.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

import pytest
from app_rig import wait_until
from ingress_proxy import DEFAULT_USER
from panel_pages import (
    SLOW,
    add_pin,
    audit,
    card,
    cred_row,
    delete_row,
    edit_to_period,
    need,
    open_detail,
    open_panel,
    pair_from_scan,
    run_action,
    seen,
    sel,
    shot,
    show_locks,
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
from playwright.sync_api import expect

pytestmark = pytest.mark.timeout(300)
WEEKLY_PIN = "40961357"
KEYPAD_PIN = "90817263"
PASSPHRASE = "correct horse battery staple"
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri")


def sim_pins(rig: PanelRig, address: str) -> list[dict[str, Any]]:
    """The passcodes the virtual TTLock holds, as the control API's device list shows them."""
    devices: list[dict[str, Any]] = rig.sim.control("GET", "devices")
    (device,) = [d for d in devices if d["address"] == address]
    passcodes: list[dict[str, Any]] = device["credentials"]["passcodes"]
    return passcodes


@explained
def test_01_add_a_virtual_ttlock(
    rig: PanelRig, found: dict[str, Any], request: pytest.FixtureRequest
) -> None:
    page = open_panel(rig)
    shot(page, request, "1-empty")
    device = rig.sim.add_device("ttlock", wake_seconds=120)
    address = device["address"]
    rig.sim.act(address, "touch")
    start_scan(page)
    discovery = page.locator(f'{sel("discovery")}[data-address="{address}"]')
    expect(discovery).to_be_visible(timeout=SLOW)
    shot(page, request, "2-discovered")
    rig.sim.act(address, "touch")  # keep it awake for the pairing
    lock_id = pair_from_scan(page, address, "Front door")
    expect(card(page, lock_id).locator(sel("lock-status"))).not_to_have_attribute("data-status", "")
    shot(page, request, "3-paired")
    assert rig.sim.device(address)["paired"] is True
    prefix = rig.url.replace("http://", "ws://")
    assert rig.socket_urls and all(url.startswith(prefix) for url in rig.socket_urls)
    found.update(tt=lock_id, tt_address=address)


@explained
def test_02_unlock_and_lock_from_the_card(
    rig: PanelRig, found: dict[str, Any], request: pytest.FixtureRequest
) -> None:
    lock_id, address = need(found, "tt"), need(found, "tt_address")
    page = open_panel(rig)
    status = card(page, lock_id).locator(sel("lock-status"))
    expect(status).to_have_attribute("data-status", "locked")
    for hook in ("lock-battery", "lock-rssi", "lock-seen"):
        expect(card(page, lock_id).locator(sel(hook))).to_be_visible()
    expect(card(page, lock_id).locator(sel("btn-open"))).to_have_count(0)  # no latch to pull
    locked_text = status.inner_text().strip()

    run_action(page, lock_id, "btn-unlock", "unlocked")
    shot(page, request, "1-unlocked")
    unlocked_text = status.inner_text().strip()
    assert unlocked_text and unlocked_text != locked_text
    wait_until(lambda: rig.sim.device(address)["bolt"] == "unlocked", 20, "the bolt to open")
    assert "true" in seen(page, "aria-busy", "btn-unlock", lock_id), "no pending state shown"

    run_action(page, lock_id, "btn-lock", "locked")
    shot(page, request, "2-locked")
    assert status.inner_text().strip() == locked_text
    wait_until(lambda: rig.sim.device(address)["bolt"] == "locked", 20, "the bolt to close")
    assert "true" in seen(page, "aria-busy", "btn-lock", lock_id), "no pending state shown"


@explained
def test_03_add_a_pin_with_a_weekly_schedule(
    rig: PanelRig, found: dict[str, Any], request: pytest.FixtureRequest
) -> None:
    lock_id, address = need(found, "tt"), need(found, "tt_address")
    page = open_panel(rig)
    detail = open_detail(page, lock_id, "credentials")
    shot(page, request, "1-credentials")
    row = add_pin(page, detail, "Cleaner", WEEKLY_PIN, WEEKDAYS)
    expect(row.locator(sel("cred-code"))).to_contain_text(WEEKLY_PIN)
    validity = row.locator(sel("cred-validity"))
    expect(validity).to_contain_text("08:00")
    expect(validity).to_contain_text("17:00")
    shot(page, request, "2-added")

    passcodes = sim_pins(rig, address)
    stored = [p for p in passcodes if p["code"] == WEEKLY_PIN]
    assert len(stored) == 1, passcodes
    assert stored[0]["type"] == "cyclic", stored
    assert stored[0]["cycle_type"] == 0b0011111, stored  # bit 0 = Monday ... bit 4 = Friday
    assert stored[0]["start"].endswith("T08:00:00"), stored
    assert stored[0]["end"].endswith("T17:00:00"), stored


@explained
def test_04_edit_a_pin_then_delete_it(
    rig: PanelRig, found: dict[str, Any], request: pytest.FixtureRequest
) -> None:
    lock_id, address = need(found, "tt"), need(found, "tt_address")
    page = open_panel(rig)
    detail = open_detail(page, lock_id, "credentials")
    detail.locator(sel("cred-kind-pin")).click()
    day = date.today() + timedelta(days=1)
    start, end = f"{day}T07:45", f"{day + timedelta(days=14)}T19:15"
    edit_to_period(page, cred_row(page, detail, "Cleaner"), "Summer cleaner", start, end)
    row = cred_row(page, detail, "Summer cleaner")
    expect(detail.locator(sel("cred-name"), has_text=re.compile("^Cleaner$"))).to_have_count(0)
    expect(row.locator(sel("cred-code"))).to_have_text(WEEKLY_PIN)
    expect(row.locator(sel("cred-validity"))).to_contain_text("07:45")
    expect(row.locator(sel("cred-validity"))).to_contain_text("19:15")
    shot(page, request, "1-edited")
    stored = [p for p in sim_pins(rig, address) if p["code"] == WEEKLY_PIN]
    assert [(p["type"], p["start"], p["end"]) for p in stored] == [
        ("period", f"{start}:00", f"{end}:00")
    ], stored

    page = open_panel(rig)  # a fresh load lists the edited PIN from the add-on's store
    detail = open_detail(page, lock_id, "credentials")
    detail.locator(sel("cred-kind-pin")).click()
    row = cred_row(page, detail, "Summer cleaner")
    delete_row(page, row, confirm=False)
    expect(row).to_have_count(1)
    delete_row(page, row, confirm=True)
    expect(row).to_have_count(0, timeout=SLOW)
    shot(page, request, "2-deleted")
    wait_until(
        lambda: all(p["code"] != WEEKLY_PIN for p in sim_pins(rig, address)),
        20,
        "the PIN to leave the lock",
    )


@explained
def test_05_enrol_a_fingerprint_watching_every_step(
    rig: PanelRig, found: dict[str, Any], request: pytest.FixtureRequest
) -> None:
    lock_id, address = need(found, "tt"), need(found, "tt_address")
    page = open_panel(rig)
    detail = open_detail(page, lock_id, "credentials")
    detail.locator(sel("cred-kind-fingerprint")).click()
    detail.locator(sel("cred-add")).click()
    dialog = page.locator(sel("cred-dialog"))
    expect(dialog).to_be_visible()
    dialog.locator(sel("cred-input-name")).fill("Right index")
    dialog.locator(sel("cred-save")).click()
    enrol = page.locator(sel("enrol-dialog"))
    expect(enrol).to_be_visible()
    expect(enrol.locator(sel("enrol-message"))).not_to_be_empty()
    wait_until(lambda: rig.sim.device(address)["enrolling"], 20, "the lock to enter add mode")
    progress = enrol.locator(sel("enrol-progress"))
    expect(progress).to_have_attribute("data-total", "4", timeout=SLOW)
    shot(page, request, "0-waiting")
    for step in range(1, 5):
        rig.sim.act(address, "place_finger", finger="right-index")
        wait_seen(page, "data-step", "enrol-progress", str(step), timeout=SLOW)
        if step < 4:
            expect(progress).to_have_attribute("data-step", str(step))
            expect(progress).to_have_attribute("data-total", "4")
            shot(page, request, f"{step}-step")
    steps = seen(page, "data-step", "enrol-progress")
    assert [s for s in ("1", "2", "3", "4") if s in steps] == ["1", "2", "3", "4"], steps
    expect(enrol).to_be_hidden(timeout=SLOW)
    row = detail.locator(sel("cred-row")).filter(
        has=page.locator(sel("cred-name"), has_text="Right index")
    )
    expect(row).to_have_count(1)
    shot(page, request, "5-enrolled")
    fingerprints = rig.sim.device(address)["credentials"]["fingerprints"]
    assert [f["finger"] for f in fingerprints] == ["right-index"], fingerprints


@explained
def test_06_set_auto_lock_to_10_seconds(
    rig: PanelRig, found: dict[str, Any], request: pytest.FixtureRequest
) -> None:
    lock_id, address = need(found, "tt"), need(found, "tt_address")
    page = open_panel(rig)
    detail = open_detail(page, lock_id, "settings")
    enabled = detail.locator(sel("set-auto-lock-enabled"))
    expect(enabled).to_be_visible()
    enabled.check()
    detail.locator(sel("set-auto-lock-seconds")).fill("10")
    shot(page, request, "1-edited")
    detail.locator(sel("settings-save")).click()
    expect(page.locator(sel("settings-saved"))).to_be_visible(timeout=SLOW)
    shot(page, request, "2-saved")
    wait_until(lambda: rig.sim.device(address)["auto_lock_seconds"] == 10, 20, "auto-lock 10")

    page = open_panel(rig)  # a fresh load reads the setting back from the lock
    detail = open_detail(page, lock_id, "settings")
    expect(detail.locator(sel("set-auto-lock-enabled"))).to_be_checked()
    expect(detail.locator(sel("set-auto-lock-seconds"))).to_have_value("10")


@explained
def test_07_a_keypad_unlock_appears_in_activity_with_the_pin_name(
    rig: PanelRig, found: dict[str, Any], request: pytest.FixtureRequest
) -> None:
    lock_id, address = need(found, "tt"), need(found, "tt_address")
    page = open_panel(rig)
    detail = open_detail(page, lock_id, "credentials")
    add_pin(page, detail, "Alice", KEYPAD_PIN)
    detail.locator(sel("tab-activity")).click()
    shot(page, request, "1-activity-before")
    outcome = rig.sim.act(address, "enter_pin", code=KEYPAD_PIN + "#")
    assert outcome["outcome"] == "unlocked", outcome
    rows = detail.locator(f'{sel("event-row")}[data-kind="unlocked"][data-source="keypad"]').filter(
        has=page.locator(sel("event-credential"), has_text="Alice")
    )
    expect(rows.first).to_be_visible(timeout=SLOW)
    expect(rows.first.locator(sel("event-time"))).not_to_be_empty()
    shot(page, request, "2-keypad-unlock")


@explained
def test_08_panel_actions_are_recorded_with_the_ha_user(
    rig: PanelRig, found: dict[str, Any], request: pytest.FixtureRequest
) -> None:
    lock_id = need(found, "tt")
    page = open_panel(rig)
    detail = open_detail(page, lock_id, "activity")
    users = detail.locator(sel("event-user")).filter(has_text=DEFAULT_USER.display_name)
    expect(users.first).to_be_visible()
    shot(page, request, "1-users")


@explained
def test_09_export_remove_import_and_the_lock_is_back(
    rig: PanelRig, found: dict[str, Any], request: pytest.FixtureRequest
) -> None:
    lock_id, address = need(found, "tt"), need(found, "tt_address")
    rig.never_logged.add(PASSPHRASE)
    page = open_panel(rig)
    page.locator(sel("nav-backup")).click()
    page.locator(sel("backup-passphrase")).fill(PASSPHRASE)
    repeat = page.locator(sel("backup-passphrase-repeat"))  # the UI's own extra field
    if repeat.count():
        repeat.fill(PASSPHRASE)
    with page.expect_download(timeout=SLOW) as download_info:
        page.locator(sel("backup-export")).click()
    download = download_info.value
    assert re.fullmatch(r"ttlock-nuki-backup-\d{8}-\d{4}\.json", download.suggested_filename)
    backup = rig.base / download.suggested_filename
    download.save_as(backup)
    rig.backups.append(backup)
    shot(page, request, "1-exported")

    detail = open_detail(page, lock_id, "settings")
    detail.locator(sel("remove-open")).click()
    dialog = page.locator(sel("remove-dialog"))
    expect(dialog).to_be_visible()
    dialog.locator(sel("remove-reset")).uncheck()  # keep the lock paired to our keys
    confirm = dialog.locator(sel("remove-confirm"))
    expect(confirm).to_be_disabled()
    dialog.locator(sel("remove-confirm-input")).fill("Front doo")
    expect(confirm).to_be_disabled()
    dialog.locator(sel("remove-confirm-input")).fill("Front door")
    shot(page, request, "2-confirm-remove")
    confirm.click()
    show_locks(page)
    expect(card(page, lock_id)).to_have_count(0, timeout=SLOW)
    shot(page, request, "3-removed")

    page.locator(sel("nav-backup")).click()
    page.locator(sel("backup-file")).set_input_files(backup)
    page.locator(sel("backup-import-passphrase")).fill("not the passphrase")
    page.locator(sel("backup-import")).click()
    expect(page.locator(f'{sel("toast")}[data-code="backup"]')).to_be_visible(timeout=SLOW)
    shot(page, request, "4-wrong-passphrase")
    show_locks(page)
    expect(card(page, lock_id)).to_have_count(0)

    page.locator(sel("nav-backup")).click()
    page.locator(sel("backup-file")).set_input_files(backup)
    page.locator(sel("backup-import-passphrase")).fill(PASSPHRASE)
    page.locator(sel("backup-import")).click()
    expect(page.locator(sel("backup-result"))).to_be_visible(timeout=SLOW)
    shot(page, request, "5-imported")
    show_locks(page)
    back = card(page, lock_id)
    expect(back.locator(sel("lock-name"))).to_have_text("Front door", timeout=SLOW)
    if back.locator(sel("lock-status")).get_attribute("data-status") == "unlocked":
        run_action(page, lock_id, "btn-lock", "locked")  # an auto-lock may be under way
    run_action(page, lock_id, "btn-unlock", "unlocked")
    wait_until(lambda: rig.sim.device(address)["bolt"] == "unlocked", 20, "the bolt to open")
    shot(page, request, "6-unlocks-again")
    run_action(page, lock_id, "btn-lock", "locked")


@explained
def test_10_no_secret_in_any_frame_nor_in_the_log(rig: PanelRig, found: dict[str, Any]) -> None:
    lock_id = need(found, "tt")
    assert len(rig.frames) > 20, "too few websocket frames recorded"
    searched = audit(rig)
    assert len([name for name in searched if name.startswith(f"{lock_id} ")]) >= 4, searched
    print(f"{len(rig.frames)} frames searched for {len(searched)} secrets: none found")  # noqa: T201
