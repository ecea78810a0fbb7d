"""The panel end to end: the simulated world and the add-on as subprocesses, the fake ingress
in front of the add-on, and Debian's Chromium driven by Playwright (sync API).

Start order: `python -m ttlock_nuki_addon.sim --control-port 0 --no-demo` (its stdout names the
bus and the control API), then `python -m ttlock_nuki_addon --dev --port 0 --data-dir DIR` on
that bus without a broker (its log names the panel port), then the ingress proxy on a loop in
a background thread; Chromium is opened per test module (see PanelRig). Everything the page
sends or receives on a websocket is kept in `frames`. The fixtures at the end share one rig
among all panel modules.
"""

from __future__ import annotations

import base64
import functools
import json
import re
import shutil
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

import pytest
from app_rig import ROOT, AddonProcess, LoopThread, addon_env, audit_at_exit, wait_until
from ingress_proxy import IngressProxy
from panel_pages import ARTIFACTS, audit
from playwright.sync_api import (
    Browser,
    BrowserContext,
    Page,
    Playwright,
    WebSocket,
    sync_playwright,
)

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu"]
START = 30.0  # bound for a process to come up
STOP = 15.0  # bound for a process to go away after SIGTERM
TAIL = 6000  # characters of add-on output put into a failure message
_PANEL_LINE = re.compile(r"Panel listening on http://127\.0\.0\.1:(\d+)/")
P = ParamSpec("P")
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Frame:
    """One websocket frame the page sent or received."""

    sent: bool
    url: str
    payload: str | bytes


class SimProcess:
    """`python -m ttlock_nuki_addon.sim` without the demo set, and its control API over HTTP."""

    def __init__(self, log_dir: Path) -> None:
        self.out_path, self.err_path = log_dir / "sim.out", log_dir / "sim.err"
        self.process: subprocess.Popen[bytes] | None = None
        self.bus_address = ""
        self.control_url = ""

    def start(self) -> None:
        """Start the world and wait until it printed its bus and control API address."""
        with self.out_path.open("wb") as out, self.err_path.open("wb") as err:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "ttlock_nuki_addon.sim", "--control-port", "0", "--no-demo"],
                cwd=ROOT,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=err,
            )

        def announced() -> bool:
            assert self.process is not None
            if self.process.poll() is not None:
                raise AssertionError(f"the sim exited early:\n{self.output()}")
            text = self.out_path.read_text(errors="replace")
            bus = re.search(r"^DBUS_SYSTEM_BUS_ADDRESS=(\S+)$", text, re.M)
            api = re.search(r"^Control API: (\S+)$", text, re.M)
            if bus and api:
                self.bus_address, self.control_url = bus[1], api[1]
            return bool(bus and api)

        wait_until(announced, START, "the sim's bus and control API")

    def output(self) -> str:
        """What the sim wrote so far."""
        return "".join(p.read_text(errors="replace") for p in (self.out_path, self.err_path))

    def stop(self) -> None:
        """SIGTERM, wait; killed if it hangs."""
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(STOP)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(STOP)

    # --- control API -----------------------------------------------------------------------

    def control(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        """One control API call; its JSON answer (AssertionError with the reason on 4xx/5xx)."""
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            self.control_url + path.lstrip("/"),
            data=data,
            method=method,
            headers={"Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=15) as response:
                return json.loads(response.read())
        except urllib.error.HTTPError as exc:
            raise AssertionError(f"control API {method} {path}: {exc.code} {exc.read()!r}") from exc

    def add_device(self, kind: str, **options: Any) -> dict[str, Any]:
        """Put a new virtual device in range; its description."""
        found: dict[str, Any] = self.control("POST", "devices", {"kind": kind, **options})
        return found

    def device(self, address: str) -> dict[str, Any]:
        """A device's current description."""
        found: dict[str, Any] = self.control("GET", f"devices/{address}")
        return found

    def act(self, address: str, action: str, **params: Any) -> dict[str, Any]:
        """Play one physical action on a device (touch, enter_pin, place_finger, ...)."""
        found: dict[str, Any] = self.control("POST", f"devices/{address}/{action}", params)
        return found


def start_addon(
    base: Path, bus_address: str, *, dev: bool, name: str = "addon"
) -> tuple[AddonProcess, int]:
    """Start `python -m ttlock_nuki_addon --port 0` (no broker); the process and its panel port."""
    log_dir = base / name
    data_dir = log_dir / "data"
    data_dir.mkdir(parents=True)
    args = ["--port", "0", "--data-dir", str(data_dir), "--log-level", "debug"]
    addon = AddonProcess([*(["--dev"] if dev else []), *args], addon_env(bus_address), log_dir)
    addon.start()

    def port() -> int:
        found = _PANEL_LINE.search(addon.output())
        if found is None and not addon.running:
            raise AssertionError(f"the add-on exited before serving:\n{addon.output()[-TAIL:]}")
        return int(found[1]) if found else 0

    return addon, wait_until(port, START, "the add-on's 'Panel listening on' line")


def stop_addon(addon: AddonProcess) -> int | None:
    """SIGTERM and wait (killed after a bound); the exit code if it stopped by itself."""
    if not addon.running:
        return None if addon.process is None else addon.process.returncode
    try:
        return addon.terminate(STOP)
    except subprocess.TimeoutExpired:
        addon.kill()
        return None


class PanelRig:
    """The sim, the add-on (--dev) and the ingress proxy for the session; Chromium per module.

    A live sync Playwright marks its event loop as running in this thread, which would break
    every asyncio test run after it: so each module opens the browser and closes it again.
    """

    def __init__(self, base: Path) -> None:
        self.base = base
        self.sim = SimProcess(base)
        self.thread = LoopThread()
        self.addon: AddonProcess | None = None
        self.addon_port = 0
        self.proxy: IngressProxy | None = None
        self.playwright: Playwright | None = None
        self.browser: Browser | None = None
        self.context: BrowserContext | None = None
        self._page: Page | None = None
        self.frames: list[Frame] = []
        self.socket_urls: list[str] = []
        self.page_errors: list[str] = []
        self.backups: list[Path] = []  # exported files: searched for secrets too
        self.never_logged: set[str] = set()  # what the user typed that no log may show
        self.closed = False
        audit_at_exit("panel", functools.partial(save_for_audit, self))  # opt-in, see below

    @property
    def data_dir(self) -> Path:
        """The add-on's data directory."""
        return self.base / "addon" / "data"

    @property
    def url(self) -> str:
        """The panel's address through the fake ingress."""
        assert self.proxy is not None
        return self.proxy.url

    @property
    def page(self) -> Page:
        """The one page the scenarios of a module share."""
        assert self._page is not None
        return self._page

    def setup(self) -> None:
        """Start the sim, the add-on and the proxy; raises with their output if one fails."""
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        self.sim.start()
        self.addon, self.addon_port = start_addon(self.base, self.sim.bus_address, dev=True)
        self.proxy = IngressProxy(self.addon_port)
        self.thread.run(self.proxy.start())

    def open_browser(self) -> None:
        """Launch Chromium with one English desktop page."""
        self.playwright = sync_playwright().start()
        self.browser = self.playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
        )
        self.context = self.new_context()
        self._page = self.new_page(self.context)

    def close_browser(self) -> None:
        """Close Chromium and stop Playwright (and so its event loop)."""
        context, browser, playwright = self.context, self.browser, self.playwright
        self.context = self.browser = self.playwright = self._page = None
        try:
            if context is not None:
                context.close()
            if browser is not None:
                browser.close()
        finally:
            if playwright is not None:
                playwright.stop()

    def new_context(self, locale: str = "en-US", width: int = 1280) -> BrowserContext:
        """A fresh browser context (desktop height, downloads allowed)."""
        assert self.browser is not None
        context = self.browser.new_context(
            locale=locale, viewport={"width": width, "height": 900}, accept_downloads=True
        )
        context.set_default_timeout(20_000)
        return context

    def new_page(self, context: BrowserContext) -> Page:
        """A page whose websocket frames, websocket URLs and uncaught errors are recorded."""
        page = context.new_page()
        page.on("websocket", self._on_socket)
        page.on("pageerror", lambda error: self.page_errors.append(str(error)))
        return page

    def _on_socket(self, socket: WebSocket) -> None:
        url = socket.url
        self.socket_urls.append(url)
        socket.on("framesent", lambda payload: self.frames.append(Frame(True, url, payload)))
        socket.on("framereceived", lambda payload: self.frames.append(Frame(False, url, payload)))

    def addon_tail(self) -> str:
        """The end of what the add-on wrote (for failure messages)."""
        return "" if self.addon is None else self.addon.output()[-TAIL:]

    def close(self) -> None:
        """Shut down (once), then audit the add-on: a clean exit, its log, the frames."""
        if self.closed:
            return
        code = self.shutdown()
        if self.addon is not None:
            audit(self)
            assert code == 0, f"the add-on exited with {code}:\n{self.addon_tail()}"

    def shutdown(self) -> int | None:
        """Close the browser, stop the proxy, SIGTERM the add-on, stop the sim; its exit code."""
        self.closed = True
        code: int | None = None
        try:
            self.close_browser()
        finally:
            try:
                if self.proxy is not None:
                    self.thread.run(self.proxy.stop())
            finally:
                self.thread.close()
                if self.addon is not None:
                    code = stop_addon(self.addon)
                self.sim.stop()
        return code


def save_for_audit(rig: PanelRig, slot: Path) -> None:
    """For tests/test_secrets_audit.py: every websocket frame as JSON lines, exported backups."""
    with (slot / "ws.jsonl").open("w") as out:
        for frame in list(rig.frames):
            raw = frame.payload
            text = isinstance(raw, str)
            payload = raw if isinstance(raw, str) else base64.b64encode(raw).decode()
            line = {"sent": frame.sent, "url": frame.url, "text": text, "payload": payload}
            out.write(json.dumps(line) + "\n")
    for index, backup in enumerate(rig.backups):
        if backup.exists():
            shutil.copyfile(backup, slot / f"backup-{index}.json")


def explained(test: Callable[P, T]) -> Callable[P, T]:
    """Decorate a test taking `rig`: a failure carries the tail of the add-on's output."""

    @functools.wraps(test)
    def run(*args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return test(*args, **kwargs)
        except Exception as exc:
            rig = kwargs.get("rig")
            tail = rig.addon_tail() if isinstance(rig, PanelRig) else ""
            errors = rig.page_errors if isinstance(rig, PanelRig) else []
            raise AssertionError(
                f"{type(exc).__name__}: {exc}\n--- page errors: {errors}\n"
                f"--- add-on output (tail) ---\n{tail}"
            ) from exc

    return run


# --- fixtures: import all four into a test module (pytest finds them by their names) ---------

_SHARED: list[PanelRig] = []  # the session's rig, whichever module asked for it first


@pytest.fixture(scope="session", name="panel_world")
def panel_world_fixture(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PanelRig]:
    """The session's one rig, made once and closed after its last module (or at the end)."""
    # An imported session fixture gets one definition (one instance) per module: hence _SHARED.
    if not _SHARED or _SHARED[0].closed:
        rig = PanelRig(tmp_path_factory.mktemp("panel"))
        _SHARED[:] = [rig]
        try:
            rig.setup()
        except Exception as exc:
            rig.shutdown()
            raise AssertionError(
                f"panel rig setup failed: {exc}\n--- add-on output (tail) ---\n{rig.addon_tail()}"
                f"\n--- sim output ---\n{rig.sim.output()[-TAIL:]}"
            ) from exc
    yield _SHARED[0]
    _SHARED[0].close()


@pytest.fixture(scope="module", name="rig")
def rig_fixture(panel_world: PanelRig, request: pytest.FixtureRequest) -> Iterator[PanelRig]:
    """The session's rig with a browser page for this module."""
    panel_world.open_browser()
    try:
        yield panel_world
    finally:
        panel_world.close_browser()
        if not _needed_later(request):
            panel_world.close()  # free the CPUs for the rest of the suite, audit now


def _needed_later(request: pytest.FixtureRequest) -> bool:
    """Whether a test after this module's last one (and the run goes on) uses the rig."""
    session = request.session
    if session.shouldstop or session.shouldfail:
        return False
    module = request.node.nodeid
    mine = [i for i, item in enumerate(session.items) if item.nodeid.startswith(f"{module}::")]
    later = session.items[max(mine) + 1 :] if mine else []
    return any(isinstance(item, pytest.Function) and "rig" in item.fixturenames for item in later)


@pytest.fixture(autouse=True, name="no_unhandled_task_errors")
def no_task_errors_fixture(rig: PanelRig) -> Iterator[None]:
    """Stands in for conftest's async guard, which cannot run here (sync Playwright keeps its
    event loop marked running in this thread): the proxy's loop must log no task errors."""
    yield
    assert not rig.thread.errors, rig.thread.errors


@pytest.fixture(scope="module", name="found")
def found_fixture() -> dict[str, Any]:
    """What earlier scenarios of a module made (lock ids, addresses) for later ones."""
    return {}
