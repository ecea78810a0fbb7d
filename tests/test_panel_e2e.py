"""The panel in Debian's Chromium, through a fake HA ingress, against `python -m ttlock_nuki_addon
--dev` and the simulated world (both subprocesses): the issue's acceptance scenarios in order.

The scenarios share one rig and build on each other (numbered); every step is photographed to
artifacts/panel/. Websocket frames of all scenarios are kept and searched for secrets at the end.
"""

from __future__ import annotations

import re
import socket
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from app_rig import wait_until
from ingress_proxy import DEFAULT_USER
from panel_rig import (
    ARTIFACTS,
    PanelRig,
    Watch,
    explained,
    frame_text,
    occurs,
    panel_rig,
    start_addon,
    stop_addon,
    store_secrets,
)
from playwright.sync_api import Locator, Page, Response, expect

pytestmark = pytest.mark.timeout(300)
WAIT = 20_000  # ms: Playwright's bound for anything to show up
SLOW = 40_000  # ms: pairing, enrolment, events read from the lock
WEEKLY_PIN = "40961357"
KEYPAD_PIN = "90817263"
NUKI_PIN = 4711
PASSPHRASE = "correct horse battery staple"
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri")
WEEKEND = ("sat", "sun")
USER_PIN_VERBS = ("lock.pair", "lock.set_pin")  # requests carrying the Nuki PIN the user typed
SIZE_LIMIT = 150_000  # bytes, the "under 150 KB in total"

expect.set_options(timeout=WAIT)


@pytest.fixture(scope="module")
def rig(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PanelRig]:
    """One sim, one add-on, one proxy, one browser page for the whole module."""
    yield from panel_rig(tmp_path_factory.mktemp("panel"))


@pytest.fixture(autouse=True)
def no_unhandled_task_errors(rig: PanelRig) -> Iterator[None]:
    """Stands in for conftest's async guard, which cannot run here (sync Playwright keeps its
    event loop marked running in this thread): the proxy's loop must log no task errors."""
    yield
    assert not rig.thread.errors, rig.thread.errors


@pytest.fixture(scope="module")
def found() -> dict[str, Any]:
    """What earlier scenarios made (lock ids, addresses, the backup file) for later ones."""
    return {}


def need(found: dict[str, Any], key: str) -> Any:
    """A value an earlier scenario left; skip if that scenario did not get there."""
    if key not in found:
        pytest.skip(f"needs an earlier scenario to have set {key!r}")
    return found[key]


# --- page helpers ----------------------------------------------------------------------------


def shot(page: Page, request: pytest.FixtureRequest, step: str) -> None:
    """Save a full-page screenshot as artifacts/panel/<test name>-<step>.png."""
    page.screenshot(path=ARTIFACTS / f"{request.node.name}-{step}.png", full_page=True)


def sel(name: str) -> str:
    """A `[data-test=name]` selector."""
    return f'[data-test="{name}"]'


def open_panel(rig: PanelRig) -> Page:
    """Load the panel through the ingress and wait for the websocket."""
    page = rig.page
    page.goto(rig.url)
    expect(page.locator(sel("conn"))).to_have_attribute("data-state", "open")
    for attribute in ("data-status", "aria-busy", "data-step"):
        observe(page, attribute)
    return page


_OBSERVE = """(attr) => {
  window.__seen = window.__seen || {};
  if (window.__seen[attr]) return;
  const seen = (window.__seen[attr] = []);
  const note = (el) => {
    if (el.nodeType !== 1 || !el.hasAttribute(attr)) return;
    const card = el.closest('[data-lock-id]');
    seen.push([el.getAttribute('data-test'), card ? card.getAttribute('data-lock-id') : null,
               el.getAttribute(attr)]);
  };
  const scan = (node) => {
    if (node.nodeType !== 1) return;
    note(node);
    node.querySelectorAll('[' + attr + ']').forEach(note);
  };
  scan(document.documentElement);
  new MutationObserver((records) => {
    for (const r of records) {
      if (r.type === 'attributes') note(r.target); else r.addedNodes.forEach(scan);
    }
  }).observe(document.documentElement,
             {subtree: true, childList: true, attributes: true, attributeFilter: [attr]});
}"""


def observe(page: Page, attribute: str) -> None:
    """Record every value `attribute` takes on any element from now on (until a reload)."""
    page.evaluate(_OBSERVE, attribute)


def seen(page: Page, attribute: str, data_test: str, lock_id: str | None = None) -> list[str]:
    """The values `attribute` took on `[data-test=data_test]` elements (in that lock's card)."""
    entries: list[list[str | None]] = page.evaluate(
        "(attr) => (window.__seen && window.__seen[attr]) || []", attribute
    )
    return [
        str(value)
        for test, lock, value in entries
        if test == data_test and (lock_id is None or lock == lock_id)
    ]


def wait_seen(page: Page, attribute: str, data_test: str, value: str, timeout: int = WAIT) -> None:
    """Wait until `attribute` was seen with `value` on a `[data-test=data_test]` element."""
    page.wait_for_function(
        """([attr, test, value]) => ((window.__seen && window.__seen[attr]) || [])
             .some((e) => e[0] === test && e[2] === value)""",
        arg=[attribute, data_test, value],
        timeout=timeout,
    )


def card(page: Page, lock_id: str) -> Locator:
    """The lock's card on the lock list."""
    return page.locator(f'{sel("lock-card")}[data-lock-id="{lock_id}"]')


def show_locks(page: Page) -> None:
    """Go to the lock list."""
    page.locator(sel("nav-locks")).click()


def open_detail(page: Page, lock_id: str, tab: str) -> Locator:
    """Open the lock's detail view on a sub-tab (credentials, settings, activity)."""
    show_locks(page)
    card(page, lock_id).locator(sel("btn-details")).click()
    detail = page.locator(f'{sel("lock-detail")}[data-lock-id="{lock_id}"]')
    expect(detail).to_be_visible()
    detail.locator(sel(f"tab-{tab}")).click()
    return detail


def choose(page: Page, scope: Locator, name: str, value: str) -> None:
    """Pick `value` in a `[data-test=name]` select, or check the radio of that value."""
    control = scope.locator(sel(name))
    if control.first.evaluate("e => e.tagName") == "SELECT":
        control.select_option(value)
    else:
        control.and_(page.locator(f'[value="{value}"]')).check()


def pair_from_scan(
    page: Page, address: str, name: str, *, pin: str | None = None, pair_as: str | None = None
) -> str:
    """Pair the discovery at `address` from the Add view; the new lock's id (from its card)."""
    discovery = page.locator(f'{sel("discovery")}[data-address="{address}"]')
    expect(discovery).to_be_visible(timeout=SLOW)
    discovery.locator(sel("btn-pair")).click()
    dialog = page.locator(sel("pair-dialog"))
    expect(dialog).to_be_visible()
    dialog.locator(sel("pair-name")).fill(name)
    if pin is not None:
        dialog.locator(sel("pair-pin")).fill(pin)
    if pair_as is not None:
        choose(page, dialog, "pair-as", pair_as)
    dialog.locator(sel("pair-submit")).click()
    named = page.locator(sel("lock-card")).filter(has=page.locator(sel("lock-name"), has_text=name))
    expect(named).to_have_count(1, timeout=SLOW)
    expect(named).to_be_visible()
    lock_id = named.get_attribute("data-lock-id")
    assert lock_id, "the new lock's card has no data-lock-id"
    return lock_id


def start_scan(page: Page) -> None:
    """Open the Add view and start a scan (unless one runs)."""
    page.locator(sel("nav-add")).click()
    start = page.locator(sel("scan-start"))
    expect(start.or_(page.locator(sel("scan-stop"))).first).to_be_visible()
    if start.is_visible() and start.is_enabled():
        start.click()
    expect(page.locator(sel("scan-stop"))).to_be_visible()


def run_action(page: Page, lock_id: str, button: str, status: str) -> None:
    """Click a card's action button; the card reaches `status` and the button was busy."""
    target = card(page, lock_id)
    target.locator(sel(button)).click()
    expect(target.locator(sel("lock-status"))).to_have_attribute(
        "data-status", status, timeout=SLOW
    )
    expect(target.locator(sel(button))).not_to_have_attribute("aria-busy", "true")


def add_pin(page: Page, detail: Locator, name: str, code: str, weekly: bool) -> Locator:
    """Add a PIN through the credential dialog; its row."""
    detail.locator(sel("cred-kind-pin")).click()
    detail.locator(sel("cred-add")).click()
    dialog = page.locator(sel("cred-dialog"))
    expect(dialog).to_be_visible()
    dialog.locator(sel("cred-input-name")).fill(name)
    dialog.locator(sel("cred-input-code")).fill(code)
    if weekly:
        dialog.locator(sel("validity-type")).select_option("weekly")
        for day in WEEKDAYS:
            dialog.locator(sel(f"validity-day-{day}")).check()
        for day in WEEKEND:
            dialog.locator(sel(f"validity-day-{day}")).uncheck()
        dialog.locator(sel("validity-from-time")).fill("08:00")
        dialog.locator(sel("validity-until-time")).fill("17:00")
    else:
        dialog.locator(sel("validity-type")).select_option("permanent")
    dialog.locator(sel("cred-save")).click()
    expect(dialog).to_be_hidden(timeout=SLOW)
    row = detail.locator(sel("cred-row")).filter(has=page.locator(sel("cred-name"), has_text=name))
    expect(row).to_have_count(1)
    return row


# --- the fake ingress itself ---------------------------------------------------------------


@explained
def test_00_the_panel_is_served_under_the_ingress_prefix_only(rig: PanelRig) -> None:
    with urllib.request.urlopen(rig.url, timeout=15) as response:
        assert response.status == 200
        page = response.read().decode()
    assert '<base href="/api/hassio_ingress/abc123/"' in page
    for path in ("/", "/api/hassio_ingress/other/", "/api/hassio_ingress/abc123"):
        assert rig.proxy is not None
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(f"http://127.0.0.1:{rig.proxy.port}{path}", timeout=15)
        assert refused.value.code == 404, path


# --- the scenarios ---------------------------------------------------------------------------


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
    row = add_pin(page, detail, "Cleaner", WEEKLY_PIN, weekly=True)
    expect(row.locator(sel("cred-code"))).to_contain_text(WEEKLY_PIN)
    validity = row.locator(sel("cred-validity"))
    expect(validity).to_contain_text("08:00")
    expect(validity).to_contain_text("17:00")
    shot(page, request, "2-added")

    passcodes = rig.sim.device(address)["credentials"]["passcodes"]
    stored = [p for p in passcodes if p["code"] == WEEKLY_PIN]
    assert len(stored) == 1, passcodes
    assert stored[0]["type"] == "cyclic", stored
    assert stored[0]["cycle_type"] == 0b0011111, stored  # bit 0 = Monday ... bit 4 = Friday
    assert stored[0]["start"].endswith("T08:00:00"), stored
    assert stored[0]["end"].endswith("T17:00:00"), stored


@explained
def test_04_enrol_a_fingerprint_watching_every_step(
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
def test_05_set_auto_lock_to_10_seconds(
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
def test_06_a_keypad_unlock_appears_in_activity_with_the_pin_name(
    rig: PanelRig, found: dict[str, Any], request: pytest.FixtureRequest
) -> None:
    lock_id, address = need(found, "tt"), need(found, "tt_address")
    page = open_panel(rig)
    detail = open_detail(page, lock_id, "credentials")
    add_pin(page, detail, "Alice", KEYPAD_PIN, weekly=False)
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
def test_06b_panel_actions_are_recorded_with_the_ha_user(
    rig: PanelRig, found: dict[str, Any], request: pytest.FixtureRequest
) -> None:
    lock_id = need(found, "tt")
    page = open_panel(rig)
    detail = open_detail(page, lock_id, "activity")
    users = detail.locator(sel("event-user")).filter(has_text=DEFAULT_USER.display_name)
    expect(users.first).to_be_visible()
    shot(page, request, "1-users")


@explained
def test_07_pair_a_virtual_nuki_and_unlatch_it(
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
    shot(page, request, "2-paired")
    found.update(nuki=lock_id, nuki_address=address)

    nuki_card = card(page, lock_id)
    expect(card(page, need(found, "tt")).locator(sel("btn-open"))).to_have_count(0)  # no latch
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


@explained
def test_08_export_remove_import_and_the_lock_is_back(
    rig: PanelRig, found: dict[str, Any], request: pytest.FixtureRequest
) -> None:
    lock_id, address = need(found, "tt"), need(found, "tt_address")
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
    found["backup"] = backup
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
def test_09_without_dev_only_the_supervisor_may_ask(rig: PanelRig) -> None:
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
def test_10_no_secret_in_any_websocket_frame(rig: PanelRig, found: dict[str, Any]) -> None:
    assert len(rig.frames) > 20, "too few websocket frames recorded"
    secrets = store_secrets(rig.data_dir, with_pins=False)  # PIN codes are shown on purpose
    assert len(secrets) >= 5, secrets.keys()
    texts = [frame_text(frame, USER_PIN_VERBS) for frame in rig.frames]
    if "backup" in found:
        texts.append(Path(found["backup"]).read_text())
    leaks = [
        (name, form, text[:200])
        for name, forms in secrets.items()
        for form in forms
        for text in texts
        if occurs(form, text)
    ]
    assert not leaks, leaks[:5]
    print(f"{len(rig.frames)} frames searched for {len(secrets)} secrets: none found")  # noqa: T201


@explained
def test_11_the_page_weighs_under_150_kb(rig: PanelRig, request: pytest.FixtureRequest) -> None:
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
def test_12_german_browsers_get_german(rig: PanelRig, request: pytest.FixtureRequest) -> None:
    english = open_panel(rig).locator(sel("nav-locks")).inner_text().strip()
    assert rig.browser is not None
    context = rig.browser.new_context(locale="de-DE")
    try:
        page = rig.new_page(context)
        page.goto(rig.url)
        expect(page.locator(sel("conn"))).to_have_attribute("data-state", "open")
        german = page.locator(sel("nav-locks")).inner_text().strip()
        shot(page, request, "1-de")
    finally:
        context.close()
    assert german and german != english, (english, german)


@explained
def test_13_the_addon_logged_no_error_nor_secret_and_stops_cleanly(rig: PanelRig) -> None:
    assert rig.addon is not None
    secrets = store_secrets(rig.data_dir, with_pins=True)
    code = stop_addon(rig.addon)
    output = rig.addon.output()
    assert code == 0, output[-3000:]
    bad = [line for line in output.splitlines() if " ERROR " in line or "Traceback" in line]
    assert not bad, bad[:5]
    leaks = [
        (name, form) for name, forms in secrets.items() for form in forms if occurs(form, output)
    ]
    assert not leaks, leaks
    assert PASSPHRASE not in output
