"""What the panel tests do on a page and check on it: selectors, navigation, the credential
dialog, watching attributes change, screenshots; and where no secret may show up (websocket
frames, exported backups, the add-on's log).
"""

from __future__ import annotations

import base64
import json
import re
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from app_rig import ROOT
from playwright.sync_api import Locator, Page, expect

from ttlock_nuki_addon.app import record_secrets

if TYPE_CHECKING:
    from panel_rig import Frame, PanelRig, SimProcess

ARTIFACTS = ROOT / "artifacts" / "panel"
WAIT = 20_000  # ms: Playwright's bound for anything to show up
SLOW = 40_000  # ms: pairing, enrolment, events read from the lock
STOP = 15.0  # s: bound for a polling thread to end
USER_PIN_VERBS = ("lock.pair", "lock.set_pin")  # requests carrying the Nuki PIN the user typed

expect.set_options(timeout=WAIT)


class Watch:
    """Poll one field of a device's description in a thread; keeps every distinct value seen."""

    def __init__(self, sim: SimProcess, address: str, key: str, period: float = 0.02) -> None:
        self.seen: list[object] = []
        self._sim, self._address, self._key, self._period = sim, address, key, period
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"watch {key}", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            value = self._sim.device(self._address).get(self._key)
            if not self.seen or self.seen[-1] != value:
                self.seen.append(value)
            self._stop.wait(self._period)

    def stop(self) -> list[object]:
        """Stop polling; the values seen, in order."""
        self._stop.set()
        self._thread.join(STOP)
        return self.seen


def need(found: dict[str, Any], key: str) -> Any:
    """A value an earlier scenario left; skip if that scenario did not get there."""
    if key not in found:
        pytest.skip(f"needs an earlier scenario to have set {key!r}")
    return found[key]


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


def add_pin(page: Page, detail: Locator, name: str, code: str, days: Sequence[str] = ()) -> Locator:
    """Add a PIN (weekly 08:00-17:00 on `days`, else permanent) in the dialog; its row."""
    detail.locator(sel("cred-kind-pin")).click()
    detail.locator(sel("cred-add")).click()
    dialog = page.locator(sel("cred-dialog"))
    expect(dialog).to_be_visible()
    dialog.locator(sel("cred-input-name")).fill(name)
    dialog.locator(sel("cred-input-code")).fill(code)
    if days:
        dialog.locator(sel("validity-type")).select_option("weekly")
        for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun"):
            dialog.locator(sel(f"validity-day-{day}")).set_checked(day in days)
        dialog.locator(sel("validity-from-time")).fill("08:00")
        dialog.locator(sel("validity-until-time")).fill("17:00")
    else:
        dialog.locator(sel("validity-type")).select_option("permanent")
    dialog.locator(sel("cred-save")).click()
    expect(dialog).to_be_hidden(timeout=SLOW)
    return cred_row(page, detail, name)


def cred_row(page: Page, detail: Locator, name: str) -> Locator:
    """The credential list's row of that name (exactly one)."""
    row = detail.locator(sel("cred-row")).filter(
        has=page.locator(sel("cred-name"), has_text=re.compile(f"^{re.escape(name)}$"))
    )
    expect(row).to_have_count(1)
    return row


def edit_to_period(page: Page, row: Locator, name: str, start: str, end: str) -> None:
    """Rename a credential and make it valid from `start` until `end` (YYYY-MM-DDTHH:MM)."""
    row.locator(sel("cred-edit")).click()
    dialog = page.locator(sel("cred-dialog"))
    expect(dialog).to_be_visible()
    dialog.locator(sel("cred-input-name")).fill(name)
    dialog.locator(sel("validity-type")).select_option("period")
    dialog.locator(sel("validity-from")).fill(start)
    dialog.locator(sel("validity-until")).fill(end)
    dialog.locator(sel("cred-save")).click()
    expect(dialog).to_be_hidden(timeout=SLOW)


def delete_row(page: Page, row: Locator, *, confirm: bool) -> None:
    """Click a row's delete button and answer the confirmation dialog."""
    row.locator(sel("cred-delete")).click()
    dialog = page.locator(sel("cred-delete-dialog"))
    expect(dialog).to_be_visible()
    dialog.locator(sel("confirm-yes" if confirm else "confirm-no")).click()
    expect(dialog).to_have_count(0)


_MISFITS = """() => {
  const found = [];
  for (const button of document.querySelectorAll('[data-test=lock-card] .lc-actions .btn')) {
    const box = button.getBoundingClientRect();
    const label = button.querySelector('.label').getBoundingClientRect();
    const card = button.closest('[data-test=lock-card]').getBoundingClientRect();
    const room = Math.min(label.left - box.left, box.right - label.right);
    if (room < 8 || box.left < card.left || box.right > card.right) {
      found.push(`${button.textContent.trim()}: ${Math.round(room)} px`);
    }
  }
  for (const strip of document.querySelectorAll('.nav, .subtabs, .segmented')) {
    const hidden = strip.scrollWidth - strip.clientWidth;
    if (strip.offsetParent && hidden > 0) found.push(`${strip.className}: ${hidden} px hidden`);
  }
  const page = document.documentElement.scrollWidth - window.innerWidth;
  if (page > 0) found.push(`the page scrolls sideways by ${page} px`);
  return found;
}"""


def misfits(page: Page) -> list[str]:
    """Cramped card buttons, tab strips hiding a tab, a page wider than the window."""
    found: list[str] = page.evaluate(_MISFITS)
    return found


# --- secrets, and where they must not show up ------------------------------------------------


def secret_forms(value: object, width: int | None) -> set[str]:
    """The ways a secret could be written: hex (both cases), decimal, base64, a byte list, text."""
    if isinstance(value, bytes):
        raw = [value]
    elif isinstance(value, int):
        sizes = [width] if width else [max(1, (value.bit_length() + 7) // 8)]
        raw = [value.to_bytes(n, order) for n in sizes for order in ("big", "little")]
    else:
        return {str(value)}
    forms = {str(value)} if isinstance(value, int) else set()
    for data in raw:
        forms |= {data.hex(), data.hex().upper()}
        if len(data) >= 4:
            forms.add(base64.b64encode(data).decode().rstrip("="))
            forms.add(base64.urlsafe_b64encode(data).decode().rstrip("="))
        if len(data) >= 8:
            forms.add(json.dumps(list(data)).replace(" ", ""))
    return forms


def store_secrets(data_dir: Path, *, with_pins: bool) -> dict[str, set[str]]:
    """Every secret of every lock in `<data_dir>/store.json`, by name, in all its forms."""
    path = data_dir / "store.json"
    if not path.exists():
        return {}
    document = json.loads(path.read_text())
    found: dict[str, set[str]] = {}
    for lock_id, record in document["locks"].items():
        books = record.get("credentials") or {}
        entries = (books.get("pin") or {}).values()
        pins = {entry.get(key) for entry in entries for key in ("code", "original")}
        for index, (value, width) in enumerate(record_secrets(record)):
            if with_pins or not (isinstance(value, str) and value in pins):
                found[f"{lock_id} secret #{index}"] = secret_forms(value, width)
    return found


def occurs(form: str, text: str) -> bool:
    """`form` in `text`, not as part of a longer run of digits (or hex digits)."""
    edge = "0-9" if form.isdecimal() else "0-9a-fA-F"
    return re.search(rf"(?<![{edge}]){re.escape(form)}(?![{edge}])", text) is not None


def frame_text(frame: Frame, typed_pin_verbs: Sequence[str] = ()) -> str:
    """A frame as text; from requests of `typed_pin_verbs`, the PIN the user typed is dropped."""
    text = frame.payload if isinstance(frame.payload, str) else frame.payload.decode("latin-1")
    if not frame.sent or not typed_pin_verbs:
        return text
    try:
        message = json.loads(text)
    except ValueError:
        return text
    if isinstance(message, dict) and message.get("type") in typed_pin_verbs:
        message.pop("pin", None)
    return json.dumps(message)


def audit(rig: PanelRig) -> list[str]:
    """Assert no secret in frames, backups or the add-on's log, no logged error; names searched."""
    shown = store_secrets(rig.data_dir, with_pins=False)  # PIN codes are shown on purpose
    texts = [frame_text(frame, USER_PIN_VERBS) for frame in rig.frames]
    texts += [path.read_text() for path in rig.backups]
    leaks = [
        (name, form, text[:200])
        for name, forms in shown.items()
        for form in forms
        for text in texts
        if occurs(form, text)
    ]
    assert not leaks, leaks[:5]
    assert rig.addon is not None
    output = rig.addon.output()
    bad = [line for line in output.splitlines() if " ERROR " in line or "Traceback" in line]
    assert not bad, bad[:5]
    logged = [
        (name, form)
        for name, forms in store_secrets(rig.data_dir, with_pins=True).items()
        for form in forms
        if occurs(form, output)
    ]
    logged += [("typed", text) for text in rig.never_logged if text in output]
    assert not logged, logged
    return sorted(shown)
