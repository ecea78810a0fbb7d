"""Photograph the panel for DOCS.md and README.md, from the simulated world (not drawn by hand).

Usage: `.venv/bin/python scripts/screenshots.py [--out docs/screenshots]`

Starts the world and the add-on (`--dev`) with `ttlock_nuki_addon.sim.stage`, sets up a
realistic household through the websocket API and the world's control API (a TTLock "Front
door" with two PINs and a fingerprint, auto-lock 30 s and some activity; a Nuki 4 "Back door"),
then takes these pictures in Debian's Chromium: locks.png, locks-phone-dark.png, add.png,
credentials.png, enrol.png, settings.png and activity.png. Exits 1 with the reason if a step fails.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from playwright.async_api import Browser, Page, ViewportSize, async_playwright, expect
from playwright.async_api import Error as PlaywrightError

from ttlock_nuki_addon.sim.stage import PanelClient, Stage, StageError, wait_for

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu"]
DESKTOP = ViewportSize(width=1280, height=800)
PHONE = ViewportSize(width=390, height=844)
MAX_BYTES = 250_000  # each picture; the docs load them all
UI_MS = 20_000  # Playwright's bound for the page to show something
SLOW = 60.0  # seconds: pairing, enrolment, reading a lock's log
# The Home Assistant user the ingress would name; panel actions are recorded with it.
USER = {
    "X-Remote-User-Id": "8a1f0c2e5b7d4e9f",
    "X-Remote-User-Name": "alice",
    "X-Remote-User-Display-Name": "Alice",
}
NUKI_PIN = 4711  # the Back door's security PIN (the sim's default is 1234; we choose ours)
FAMILY_PIN = "258036"
CLEANER_PIN = "40961357"
CLEANER_WEEKLY = {
    "type": "weekly",
    "days": ["mon", "wed", "fri"],
    "from_time": "09:00",
    "until_time": "12:00",
}
PERMANENT = {"type": "permanent"}
THUMB = "left-thumb"


@dataclass(frozen=True, slots=True)
class Household:
    """What the set-up made: the two paired locks."""

    front: str  # the TTLock's lock id
    front_address: str
    back: str  # the Nuki's lock id


def say(line: str) -> None:
    """One progress line."""
    print(line, flush=True)


# --- setting the scene through the APIs ------------------------------------------------------


async def discovered(api: PanelClient, address: str, *, pairable: bool) -> dict[str, Any]:
    """Wait until the add-on's scan lists `address` (and, if asked, as pairable)."""

    async def probe() -> dict[str, Any] | None:
        for found in await api.call("discovery.list"):
            if found["address"] == address and (found["pairable"] or not pairable):
                return dict(found)
        return None

    return await wait_for(probe, SLOW, f"the scan to find {address}")


async def pair_front_door(stage: Stage, api: PanelClient) -> tuple[str, str]:
    """A TTLock woken by a touch, paired as "Front door"; its lock id and address."""
    address = (await stage.add_device("ttlock", wake_seconds=120))["address"]
    await stage.act(address, "touch")
    await discovered(api, address, pairable=True)
    await stage.act(address, "touch")  # keep it awake for the pairing
    snapshot = await api.call("lock.pair", SLOW, address=address, brand="ttlock", name="Front door")
    return str(snapshot["id"]), address


async def pair_back_door(stage: Stage, api: PanelClient) -> str:
    """A Nuki 4 put into pairing mode (button held 6 s), paired as "Back door"; its lock id."""
    device = await stage.add_device("nuki-4", security_pin=NUKI_PIN, motor_ms=300)
    address = device["address"]
    await stage.act(address, "press_button", seconds=6)
    await discovered(api, address, pairable=True)
    snapshot = await api.call(
        "lock.pair", SLOW, address=address, brand="nuki", name="Back door",
        pin=str(NUKI_PIN), pair_as="bridge",
    )  # fmt: skip
    return str(snapshot["id"])


def progress_probe(
    api: PanelClient, lock_id: str, step: int, since: int
) -> Callable[[], Awaitable[bool]]:
    """A probe: has a credential.progress push for `lock_id` at `step` or later come since?"""

    async def probe() -> bool:
        return any(
            push["event"] == "credential.progress"
            and push["data"].get("lock_id") == lock_id
            and push["data"].get("step", 0) >= step
            for push in api.pushes[since:]
        )

    return probe


async def enrol_thumb(stage: Stage, api: PanelClient, lock_id: str, address: str) -> None:
    """Enrol "Alice thumb": start credentials.add, then place the finger as often as it asks."""
    since = len(api.pushes)
    adding = asyncio.create_task(
        api.call("credentials.add", 2 * SLOW, lock_id=lock_id, kind="fingerprint",
                 name="Alice thumb", validity=PERMANENT)
    )  # fmt: skip

    async def enrolling() -> bool:
        if adding.done():
            adding.result()  # a failed request ends the wait with its reason
        return bool((await stage.device(address))["enrolling"])

    await wait_for(enrolling, SLOW, "the lock to enter fingerprint enrolment")
    for step in range(1, 5):
        await stage.act(address, "place_finger", finger=THUMB)
        if step < 4:
            await wait_for(progress_probe(api, lock_id, step, since), SLOW, f"step {step} of 4")
    await asyncio.wait_for(adding, SLOW)


async def count_events(api: PanelClient, lock_id: str, wanted: int) -> list[dict[str, Any]]:
    """Wait until the lock's activity holds `wanted` events with a keypad one; the events."""
    seen: list[dict[str, Any]] = []

    async def probe() -> list[dict[str, Any]] | None:
        seen[:] = await api.call("events.list", SLOW, lock_id=lock_id)
        keypad = any(event["credential_name"] == "Family" for event in seen)
        return seen if len(seen) >= wanted and keypad else None

    try:
        return await wait_for(probe, SLOW, f"{wanted} activity entries with the Family PIN")
    except StageError as exc:
        raise StageError(f"{exc}; the lock's activity: {seen}") from None


async def make_activity(stage: Stage, api: PanelClient, lock_id: str, address: str) -> None:
    """Unlock from the panel, lock by the knob, the Family PIN, lock from the panel, the thumb."""
    # The lock logs with 1 s resolution and the add-on merges same-second entries of equal kind
    # and source, so no kind/source pair repeats; auto-lock relocks after the thumb.
    await api.call("lock.unlock", SLOW, lock_id=lock_id)
    steps = [("turn_knob", {}, "locked"), ("enter_pin", {"code": FAMILY_PIN + "#"}, "unlocked")]
    for action, params, wanted in steps:
        outcome = await stage.act(address, action, **params)
        if outcome.get("outcome") != wanted:
            raise StageError(f"{action} on the Front door: {outcome}, not {wanted}")
    await api.call("lock.lock", SLOW, lock_id=lock_id)
    outcome = await stage.act(address, "place_finger", finger=THUMB)
    if outcome.get("outcome") != "unlocked":
        raise StageError(f"the enrolled thumb did not unlock the Front door: {outcome}")


async def auto_locked(api: PanelClient, lock_id: str) -> None:
    """Wait for the lock's auto-lock (30 s) to lock it again."""

    async def probe() -> bool:
        locks = await api.call("locks.list")
        return any(lock["id"] == lock_id and lock["status"] == "locked" for lock in locks)

    await wait_for(probe, SLOW, "the Front door to lock itself (auto-lock)")


async def set_the_scene(stage: Stage) -> Household:
    """Pair both locks, add PINs and a fingerprint, set auto-lock and make some activity."""
    api = await stage.connect(USER)
    await api.call("scan.start", seconds=300)
    front, front_address = await pair_front_door(stage, api)
    say(f"paired Front door ({front_address})")
    back = await pair_back_door(stage, api)
    say("paired Back door")
    await api.call("scan.stop")
    pin = {"lock_id": front, "kind": "pin"}
    await api.call("credentials.add", SLOW, **pin, name="Cleaner", code=CLEANER_PIN,
                   validity=CLEANER_WEEKLY)  # fmt: skip
    await api.call("credentials.add", SLOW, **pin, name="Family", code=FAMILY_PIN,
                   validity=PERMANENT)  # fmt: skip
    await enrol_thumb(stage, api, front, front_address)
    say("added PINs Cleaner, Family and fingerprint Alice thumb")
    await api.call("settings.set", SLOW, lock_id=front, auto_lock_seconds=30)
    await make_activity(stage, api, front, front_address)
    await api.call("lock.unlock", SLOW, lock_id=back)
    # Read the activity before auto-lock: a first (whole-log) read after an auto-lock lists it
    # twice (ttlock/driver_events.py BoltWatch.after_log infers it again from old records).
    await count_events(api, front, 6)
    await auto_locked(api, front)
    say("auto-lock 30 s set; activity recorded; the Front door locked itself")
    return Household(front, front_address, back)


async def put_strangers_in_range(stage: Stage) -> list[str]:
    """Two unpaired locks for the Add view: a TTLock just touched, a Nuki 2 not in pairing mode."""
    ttlock = (await stage.add_device("ttlock", wake_seconds=600))["address"]
    await stage.act(ttlock, "touch")
    nuki = (await stage.add_device("nuki-2", rssi=-78))["address"]
    return [ttlock, nuki]


# --- the pictures ----------------------------------------------------------------------------


def sel(name: str) -> str:
    """A `[data-test=name]` selector."""
    return f'[data-test="{name}"]'


async def shoot(page: Page, out: Path, name: str) -> None:
    """Save the viewport as out/<name>.png; StageError if it is too big."""
    await page.mouse.move(0, 0)  # no hover highlight
    path = out / f"{name}.png"
    await page.screenshot(path=path, animations="disabled", caret="hide")
    size = path.stat().st_size
    if size >= MAX_BYTES:
        raise StageError(f"{path} has {size} bytes, more than {MAX_BYTES}")
    say(f"wrote {path} ({size // 1024} KB)")


async def open_page(browser: Browser, url: str, *, phone: bool = False) -> Page:
    """A page on `url` in a fresh context (English; desktop light, or phone dark)."""
    context = await browser.new_context(
        viewport=PHONE if phone else DESKTOP,
        device_scale_factor=1,
        color_scheme="dark" if phone else "light",
        locale="en-US",
        extra_http_headers=USER,
    )
    context.set_default_timeout(UI_MS)
    page = await context.new_page()
    await page.goto(url)
    await expect(page.locator(sel("conn"))).to_have_attribute("data-state", "open")
    return page


async def show(page: Page, route: str, ready: str) -> None:
    """Go to `#route` and wait until `ready` (a selector) is visible."""
    await page.evaluate("(hash) => { location.hash = hash; }", route)
    await expect(page.locator(ready).first).to_be_visible()


async def shoot_lock_list(browser: Browser, url: str, home: Household, out: Path) -> None:
    """locks.png (desktop, light) and locks-phone-dark.png."""
    for name, phone in (("locks", False), ("locks-phone-dark", True)):
        page = await open_page(browser, url + "#/locks", phone=phone)
        for lock_id, status in ((home.front, "locked"), (home.back, "unlocked")):
            card = page.locator(f'{sel("lock-card")}[data-lock-id="{lock_id}"]')
            await expect(card.locator(sel("lock-status"))).to_have_attribute("data-status", status)
        await shoot(page, out, name)
        await page.context.close()


async def shoot_details(page: Page, stage: Stage, home: Household, out: Path) -> None:
    """credentials.png, enrol.png, settings.png and activity.png of the Front door."""
    base = f"/lock/{home.front}"
    await show(page, f"{base}/credentials/pin", sel("cred-row"))
    await expect(page.locator(sel("cred-row"))).to_have_count(2)
    await shoot(page, out, "credentials")

    await show(page, f"{base}/credentials/fingerprint", sel("cred-row"))
    await page.locator(sel("cred-add")).click()
    dialog = page.locator(sel("cred-dialog"))
    await dialog.locator(sel("cred-input-name")).fill("Bob index finger")
    await dialog.locator(sel("cred-save")).click()
    enrol = page.locator(sel("enrol-dialog"))
    await expect(enrol).to_be_visible()

    async def enrolling() -> bool:
        return bool((await stage.device(home.front_address))["enrolling"])

    await wait_for(enrolling, SLOW, "the lock to enter fingerprint enrolment")
    progress = enrol.locator(sel("enrol-progress"))
    for step in (1, 2):
        await stage.act(home.front_address, "place_finger", finger="right-index")
        await expect(progress).to_have_attribute("data-step", str(step), timeout=SLOW * 1000)
    await expect(progress).to_have_attribute("data-total", "4")
    await shoot(page, out, "enrol")
    await enrol.locator(sel("enrol-cancel")).click()
    await expect(enrol).to_be_hidden()

    async def idle() -> bool:
        return not (await stage.device(home.front_address))["enrolling"]

    await wait_for(idle, SLOW, "the enrolment to be cancelled on the lock")

    await show(page, f"{base}/settings", sel("set-auto-lock-seconds"))
    await expect(page.locator(sel("set-auto-lock-seconds"))).to_have_value("30")
    await shoot(page, out, "settings")

    await show(page, f"{base}/activity", sel("event-row"))
    for source in ("auto", "keypad"):
        row = page.locator(f'{sel("event-row")}[data-source="{source}"]')
        await expect(row).to_have_count(1, timeout=SLOW * 1000)
    await shoot(page, out, "activity")


async def shoot_add_view(page: Page, stage: Stage, out: Path) -> None:
    """add.png: a scan running, with the strangers' hints."""
    strangers = await put_strangers_in_range(stage)
    await show(page, "/add", sel("scan-start"))
    await page.locator(sel("scan-start")).click()
    await expect(page.locator(sel("scan-state"))).to_have_attribute("data-state", "scanning")
    for address in strangers:
        found = page.locator(f'{sel("discovery")}[data-address="{address}"]')
        await expect(found.locator(sel("discovery-hint"))).to_be_visible(timeout=SLOW * 1000)
    await expect(page.locator(sel("discovery"))).to_have_count(len(strangers))
    await shoot(page, out, "add")
    await page.locator(sel("scan-stop")).click()
    await expect(page.locator(sel("scan-state"))).to_have_attribute("data-state", "idle")


async def photograph(stage: Stage, home: Household, out: Path) -> None:
    """Every picture, in one Chromium."""
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            await shoot_lock_list(browser, stage.panel_url, home, out)
            page = await open_page(browser, stage.panel_url + "#/locks")
            await shoot_details(page, stage, home, out)
            await shoot_add_view(page, stage, out)
            await page.context.close()
        finally:
            await browser.close()


async def run(out: Path) -> None:
    """Start the stage, set the scene, take the pictures; the stage stops in any case."""
    with tempfile.TemporaryDirectory(prefix="screenshots-") as workdir:
        stage = Stage(Path(workdir))
        try:
            async with stage:
                say(f"panel at {stage.panel_url}")
                home = await set_the_scene(stage)
                await photograph(stage, home, out)
        except (StageError, PlaywrightError, TimeoutError) as exc:
            raise StageError(f"{type(exc).__name__}: {exc}\n{stage.tails()}") from None


def main() -> int:
    """Entry point; 0 when every picture was written."""
    parser = argparse.ArgumentParser(description="Photograph the panel for the docs.")
    parser.add_argument(
        "--out", type=Path, default=ROOT / "docs" / "screenshots", help="where the PNGs go"
    )
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    try:
        asyncio.run(run(args.out))
    except StageError as exc:
        print(f"screenshots failed: {exc}", file=sys.stderr)
        return 1
    say(f"done in {time.monotonic() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
